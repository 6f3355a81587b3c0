# Script tests of the tape's integrity through the real binary (issue 12):
# two writers, an import killed with kill -9 at random moments (label slow),
# injected write faults, back-fills and conflicts (tests/data/tape_integrity_test.py).
# The faults case runs ticktape_fault (tests/support/fault.cmake), the binary
# that TICKTAPE_FAULT arms.
include(${PROJECT_SOURCE_DIR}/tests/support/fault.cmake)
foreach(case concurrent faults backfill text suspects strict)
  set(bin ${TT_BIN})
  if(case STREQUAL "faults")
    set(bin $<TARGET_FILE:ticktape_fault>)
  endif()
  add_test(NAME data.tape_integrity_${case}
    COMMAND ${TT_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/data/tape_integrity_test.py
            ${bin} ${TT_TESTDATA} ${case})
  set_tests_properties(data.tape_integrity_${case} PROPERTIES LABELS "data" TIMEOUT 300)
endforeach()
add_test(NAME data.tape_integrity_killed
  COMMAND ${TT_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/data/tape_integrity_test.py
          ${TT_BIN} ${TT_TESTDATA} killed 24)
set_tests_properties(data.tape_integrity_killed PROPERTIES LABELS "data;slow" TIMEOUT 600)
