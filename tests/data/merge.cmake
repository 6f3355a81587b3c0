# `ticktape merge` on tapes built from real EURUSD ticks with scripted differences,
# against pandas (tests/data/merge_test.py).
foreach(case identical failover spike errors)
  add_test(NAME data.merge_${case}
    COMMAND ${TT_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/data/merge_test.py
            ${TT_BIN} ${PROJECT_SOURCE_DIR} ${case})
  set_tests_properties(data.merge_${case} PROPERTIES LABELS "data" TIMEOUT 180)
endforeach()
