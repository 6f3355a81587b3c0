# Strategy plugins: the example plugin (tests/plugins/example_strategy.c) built
# as a MODULE, the same source built claiming the next ABI version, and a test
# that loads both (the second must be refused with a clear message).
set(TT_PLUGIN_DIR ${CMAKE_CURRENT_LIST_DIR}/../plugins)
foreach(variant example_strategy example_strategy_badabi)
  add_library(${variant} MODULE ${TT_PLUGIN_DIR}/example_strategy.c)
  target_include_directories(${variant} PRIVATE ${PROJECT_SOURCE_DIR})
  # indicators come from the static core (position-independent); the context
  # needs no host symbol
  target_link_libraries(${variant} PRIVATE tt_core)
  set_target_properties(${variant} PROPERTIES C_VISIBILITY_PRESET hidden)
endforeach()
target_compile_definitions(example_strategy_badabi PRIVATE TT_EXAMPLE_BAD_ABI=1)

# The audit's exploit payload: a .so whose constructor writes a marker file
# (tests/live/evil_plugin.c), used here and by tests/live/security.cmake.
add_library(evil_plugin MODULE ${CMAKE_CURRENT_LIST_DIR}/../live/evil_plugin.c)

add_executable(plugin_loader_test ${TT_PLUGIN_DIR}/plugin_loader_test.c)
target_link_libraries(plugin_loader_test PRIVATE tt_sim PkgConfig::CMOCKA)
add_dependencies(plugin_loader_test example_strategy example_strategy_badabi evil_plugin)
add_test(NAME core.plugin_load
  COMMAND plugin_loader_test $<TARGET_FILE:example_strategy> $<TARGET_FILE:example_strategy_badabi>
          $<TARGET_FILE:evil_plugin> ${CMAKE_CURRENT_BINARY_DIR})
set_tests_properties(core.plugin_load PROPERTIES LABELS core TIMEOUT 120)
