# `ticktape backtest` and `ticktape demo` end to end (tests/cli/backtest_test.py):
# determinism across processes, the --json line against pandas, scenario errors,
# the demo, the HTML report in headless Chromium, the shipped example scenarios,
# rejected orders by reason, the bar models (data.model) through the command.
foreach(case determinism json errors demo chromium shipped rejects tick_momentum models)
  add_test(NAME cli.backtest_${case}
    COMMAND ${TT_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/cli/backtest_test.py ${case} ${TT_BIN}
            ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_BINARY_DIR}/backtest_work)
  set_tests_properties(cli.backtest_${case} PROPERTIES LABELS cli TIMEOUT 300 SKIP_RETURN_CODE 77)
endforeach()
