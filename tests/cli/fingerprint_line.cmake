add_test(NAME cli.fingerprint_last_line COMMAND ${TT_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/cli/fingerprint_line.py ${TT_BIN} ${PROJECT_SOURCE_DIR})
set_tests_properties(cli.fingerprint_last_line PROPERTIES LABELS cli TIMEOUT 300)
