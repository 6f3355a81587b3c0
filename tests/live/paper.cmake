# Paper trading and replay parity through the binary (tests/live/paper_test.py):
# nats-server on a free port, the real EURUSD sample, the example tick plugin.
foreach(case parity restart usage)
  add_test(NAME live.paper_${case}
    COMMAND ${TT_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/live/paper_test.py ${case} ${TT_BIN}
            ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_BINARY_DIR}/paper_work
            $<TARGET_FILE:example_strategy>)
  set_tests_properties(live.paper_${case} PROPERTIES LABELS live TIMEOUT 180)
endforeach()

# The README's demo at --speed max with the default settings: a claim about a
# release build's speed on this machine, so not run under the sanitizers.
add_test(NAME live.paper_defaults
  COMMAND ${TT_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/live/paper_test.py defaults ${TT_BIN}
          ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_BINARY_DIR}/paper_work
          $<TARGET_FILE:example_strategy>)
set_tests_properties(live.paper_defaults PROPERTIES LABELS "live;slow" TIMEOUT 180)

# A million ticks through NATS: seconds in a release build, much longer under
# the sanitizers, so the ASan run skips it.
set_tests_properties(live.test_burst PROPERTIES LABELS "live;slow")

# The in-process Kafka paper test loads the example plugin from the build tree.
add_dependencies(test_paper_kafka example_strategy)

# librdkafka's mock cluster as a process, for the Kafka end-to-end case.
add_executable(tt_kafka_mock ${CMAKE_CURRENT_SOURCE_DIR}/live/kafka_mock_main.c)
target_link_libraries(tt_kafka_mock PRIVATE PkgConfig::RDKAFKA)
add_test(NAME live.paper_kafka
  COMMAND ${TT_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/live/paper_test.py kafka ${TT_BIN}
          ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_BINARY_DIR}/paper_work
          $<TARGET_FILE:example_strategy> $<TARGET_FILE:tt_kafka_mock>)
set_tests_properties(live.paper_kafka PROPERTIES LABELS live TIMEOUT 180)
