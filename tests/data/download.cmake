# `ticktape download dukascopy` against a local HTTP server on 127.0.0.1
# (tests/data/duka_http_server.py) serving the real sample with injected
# 500s, slow answers and truncated bodies.
add_test(NAME data.download_dukascopy
  COMMAND ${TT_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/data/download_test.py ${TT_BIN} ${TT_TESTDATA})
set_tests_properties(data.download_dukascopy PROPERTIES LABELS "data" TIMEOUT 120)
