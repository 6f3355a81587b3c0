# `ticktape bars` end to end: import real Dukascopy ticks, compare the bars with
# Dukascopy's candles and with bars computed independently in Python.
add_test(NAME core.bars_cli
  COMMAND ${TT_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/core/bars_cli.py ${TT_BIN} ${PROJECT_SOURCE_DIR})
set_tests_properties(core.bars_cli PROPERTIES LABELS core TIMEOUT 120)
