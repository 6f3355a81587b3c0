# Distributed sweep end to end: real nats-server, three `ticktape worker`
# processes, one killed mid-job, fingerprints checked against a local run
# (tests/live/jetstream_cli_test.py).
add_test(NAME live.jetstream_cli
  COMMAND ${TT_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/jetstream_cli_test.py ${TT_BIN}
          ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_BINARY_DIR}/jetstream_cli)
set_tests_properties(live.jetstream_cli PROPERTIES LABELS "live;slow" TIMEOUT 400
                     SKIP_RETURN_CODE 77)
