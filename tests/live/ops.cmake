# Operating a session (tests/live/ops_test.py): the status server, the dashboard in
# headless Chromium, notifications to local HTTP and SMTP servers, the security
# refusals, the kill switch and its replay; a paper session on a local nats-server.
foreach(case state dashboard security kill notify commands train)
  add_test(NAME live.ops_${case}
    COMMAND ${TT_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/live/ops_test.py ${case} ${TT_BIN}
            ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_BINARY_DIR}/ops_work
            $<TARGET_FILE:example_strategy>)
  set_tests_properties(live.ops_${case} PROPERTIES LABELS live TIMEOUT 180)
endforeach()
