# Fault injection in test binaries (tests/support/fault_wrap.h): tt_fault_wrap
# links the wrappers and the tape helpers into a test and wraps the calls they
# fail at link time; production binaries are not touched.
# tt_fault_tests(LAYER NAME) registers the quick schedule in the layer's suite
# and the full one (--full) under the label `slow`.
include_guard(GLOBAL)

function(tt_fault_wrap target)
  target_sources(${target} PRIVATE ${PROJECT_SOURCE_DIR}/tests/support/fault_wrap.c
                                   ${PROJECT_SOURCE_DIR}/tests/support/fault_tape.c)
  target_link_options(${target} PRIVATE
    -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=strdup
    -Wl,--wrap=write,--wrap=writev,--wrap=pwrite,--wrap=fsync)
endfunction()

function(tt_fault_tests layer name)
  tt_fault_wrap(${name})
  set_tests_properties(${layer}.${name} PROPERTIES TIMEOUT 600)
  add_test(NAME ${layer}.${name}_full COMMAND ${name} --full
           WORKING_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
  set_tests_properties(${layer}.${name}_full PROPERTIES LABELS "${layer};slow" TIMEOUT 3600)
endfunction()
