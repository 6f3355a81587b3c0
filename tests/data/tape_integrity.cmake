# Script tests of the tape's integrity through the real binary (issue 12):
# two writers, an import killed with kill -9 at random moments (label slow),
# injected write faults, back-fills and conflicts (tests/data/tape_integrity_test.py).
foreach(case concurrent faults backfill text suspects strict)
  add_test(NAME data.tape_integrity_${case}
    COMMAND ${TT_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/data/tape_integrity_test.py
            ${TT_BIN} ${TT_TESTDATA} ${case})
  set_tests_properties(data.tape_integrity_${case} PROPERTIES LABELS "data" TIMEOUT 300)
endforeach()
add_test(NAME data.tape_integrity_killed
  COMMAND ${TT_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/data/tape_integrity_test.py
          ${TT_BIN} ${TT_TESTDATA} killed 24)
set_tests_properties(data.tape_integrity_killed PROPERTIES LABELS "data;slow" TIMEOUT 600)
