add_test(NAME cli.install_and_pkgconfig COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/cli/install_test.sh ${PROJECT_BINARY_DIR} ${TT_SANITIZE})
set_tests_properties(cli.install_and_pkgconfig PROPERTIES LABELS cli TIMEOUT 300)
