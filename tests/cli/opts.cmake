# The option tables (cli/opts.c, cli/help.c) as a unit (tests/cli/opts_unit.c),
# built with the cli sources it tests; and docs/cli.md against the output of
# `ticktape help --markdown`, so the committed reference can never drift from
# the tables (tests/cli/cli_docs_test.py).
add_executable(test_cli_opts ${CMAKE_CURRENT_LIST_DIR}/opts_unit.c
  ${PROJECT_SOURCE_DIR}/cli/opts.c ${PROJECT_SOURCE_DIR}/cli/help.c ${PROJECT_SOURCE_DIR}/cli/cli.c)
target_link_libraries(test_cli_opts PRIVATE tt_live PkgConfig::CMOCKA)
add_test(NAME cli.opts COMMAND test_cli_opts)
set_tests_properties(cli.opts PROPERTIES LABELS cli TIMEOUT 60)
add_test(NAME cli.docs_cli_md
  COMMAND ${TT_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/cli_docs_test.py ${TT_BIN} ${PROJECT_SOURCE_DIR})
set_tests_properties(cli.docs_cli_md PROPERTIES LABELS cli TIMEOUT 60)
