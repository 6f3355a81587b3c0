add_test(NAME cli.tape_commands COMMAND ${TT_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/cli/tape_cli.py ${TT_BIN} ${PROJECT_SOURCE_DIR})
set_tests_properties(cli.tape_commands PROPERTIES LABELS cli TIMEOUT 300)
