# `ticktape aggregate` through the binary (tests/live/aggregate_test.py): nats-server on a
# free port, three feeds of the real EURUSD sample, SIGINT, replay of the journal.
foreach(case replay usage)
  add_test(NAME live.aggregate_${case}
    COMMAND ${TT_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/live/aggregate_test.py ${case} ${TT_BIN}
            ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_BINARY_DIR}/aggregate_work)
  set_tests_properties(live.aggregate_${case} PROPERTIES LABELS live TIMEOUT 180)
endforeach()
