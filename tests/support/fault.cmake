# Fault injection in test binaries (tests/support/fault_wrap.h): tt_fault_wrap
# links the wrappers and the tape helpers into a test and wraps the calls they
# fail at link time; production binaries are not touched.
# tt_fault_tests(LAYER NAME) registers the quick schedule in the layer's suite
# and the full one (--full) under the label `slow`.
# ticktape_fault is the ticktape binary built the same way, armed from
# TICKTAPE_FAULT (fault_env.c), for the script tests that fail a real command.
include_guard(GLOBAL)

function(tt_fault_wrap target)
  target_sources(${target} PRIVATE ${PROJECT_SOURCE_DIR}/tests/support/fault_wrap.c
                                   ${PROJECT_SOURCE_DIR}/tests/support/fault_tape.c)
  target_link_options(${target} PRIVATE
    -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=strdup
    -Wl,--wrap=write,--wrap=writev,--wrap=pwrite,--wrap=fsync,--wrap=rename)
endfunction()

if(NOT TARGET ticktape_fault)
  add_executable(ticktape_fault ${TT_CLI_SRCS} ${PROJECT_SOURCE_DIR}/tests/support/fault_env.c)
  target_compile_definitions(ticktape_fault PRIVATE TT_VERSION="${PROJECT_VERSION}"
    TT_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
  target_link_libraries(ticktape_fault PRIVATE tt_live tt_reports tt_sim tt_ml tt_data tt_core)
  tt_fault_wrap(ticktape_fault)
endif()

function(tt_fault_tests layer name)
  tt_fault_wrap(${name})
  set_tests_properties(${layer}.${name} PROPERTIES TIMEOUT 600)
  add_test(NAME ${layer}.${name}_full COMMAND ${name} --full
           WORKING_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
  set_tests_properties(${layer}.${name}_full PROPERTIES LABELS "${layer};slow" TIMEOUT 3600)
endfunction()
