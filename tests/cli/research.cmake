# The research commands end to end (tests/cli/research_test.py): sweep tables
# identical at any --jobs and equal to lone backtests, seeded random search,
# a crashing run reported with its parameters (a plugin that segfaults on
# purpose), walk-forward against a sweep oracle, gates with JUnit XML, the sweep
# page in headless Chromium, the walk-forward's outputs agreeing.
add_library(research_crash_plugin MODULE ${CMAKE_CURRENT_LIST_DIR}/research_crash_plugin.c)
target_include_directories(research_crash_plugin PRIVATE ${PROJECT_SOURCE_DIR})
set_target_properties(research_crash_plugin PROPERTIES C_VISIBILITY_PRESET hidden)
foreach(case sweep random crash walkforward gates errors page wf_report)
  add_test(NAME cli.research_${case}
    COMMAND ${TT_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/research_test.py ${case} ${TT_BIN}
            ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_BINARY_DIR}/research_${case}
            $<TARGET_FILE:research_crash_plugin>)
  set_tests_properties(cli.research_${case} PROPERTIES LABELS cli TIMEOUT 300
                       SKIP_RETURN_CODE 77)
endforeach()
# The shipped example scenarios (64 + 24 runs and a walk-forward): slow.
add_test(NAME cli.research_shipped
  COMMAND ${TT_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/research_test.py shipped ${TT_BIN}
          ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_BINARY_DIR}/research_shipped)
set_tests_properties(cli.research_shipped PROPERTIES LABELS "cli;slow" TIMEOUT 600
                     SKIP_RETURN_CODE 77)
