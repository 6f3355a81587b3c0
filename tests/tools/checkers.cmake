# The guardrail checkers of `make check` (scripts/check-format.sh,
# check-layers.py, check-sizes.py) on fixture trees built by the test: each must
# fail naming the file and line of a violation, and pass once it is gone.
add_test(NAME tools.checkers
  COMMAND ${TT_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/tools/checkers_test.py ${PROJECT_SOURCE_DIR})
set_tests_properties(tools.checkers PROPERTIES LABELS tools TIMEOUT 120)
