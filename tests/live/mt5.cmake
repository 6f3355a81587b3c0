# Live trading through MetaTrader 5, end to end through the binary
# (tests/live/mt5_test.py): `ticktape live` against `ticktape mt5-sim` on the
# EURUSD sample, the example tick plugin. Oracles: mt5-sim's deal log and
# `ticktape replay` of the session's journal.
foreach(case session hedging faults inflight crash usage tls)
  add_test(NAME live.mt5_${case}
    COMMAND ${TT_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/live/mt5_test.py ${case} ${TT_BIN}
            ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_BINARY_DIR}/mt5_work
            $<TARGET_FILE:example_strategy>)
  set_tests_properties(live.mt5_${case} PROPERTIES LABELS live TIMEOUT 180)
endforeach()
