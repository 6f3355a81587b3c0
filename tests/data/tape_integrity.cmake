# Script tests of the tape's integrity through the real binary (issue 12).
foreach(case concurrent)
  add_test(NAME data.tape_integrity_${case}
    COMMAND ${TT_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/data/tape_integrity_test.py
            ${TT_BIN} ${TT_TESTDATA} ${case})
  set_tests_properties(data.tape_integrity_${case} PROPERTIES LABELS "data" TIMEOUT 300)
endforeach()
