# make build / make demo say where the binary is; make install into a user
# prefix (tests/cli/make_test.py: scripts/where.sh, and make dry runs).
add_test(NAME cli.make_where
  COMMAND ${TT_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/make_test.py ${PROJECT_SOURCE_DIR}
          ${PROJECT_BINARY_DIR} ${CMAKE_CURRENT_BINARY_DIR}/make_work)
set_tests_properties(cli.make_where PROPERTIES LABELS cli TIMEOUT 120)
