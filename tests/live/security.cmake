# Issue 13, safe on a shared bus (tests/live/security_test.py): the audit's
# attacks through a plain-socket client against a real nats-server. The
# exploit payload (evil_plugin, a .so with a constructor) is built by
# tests/core/plugins.cmake; a strategy that never returns is built here.
add_library(hang_plugin MODULE ${CMAKE_CURRENT_LIST_DIR}/hang_plugin.c)
target_include_directories(hang_plugin PRIVATE ${PROJECT_SOURCE_DIR})
set_target_properties(hang_plugin PROPERTIES C_VISIBILITY_PRESET hidden)
foreach(case jobs deadline signing auth tls redact publish wire flood shell)
  add_test(NAME live.security_${case}
    COMMAND ${TT_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/security_test.py ${case} ${TT_BIN}
            ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_BINARY_DIR}/security
            $<TARGET_FILE:evil_plugin> $<TARGET_FILE:hang_plugin>)
  set_tests_properties(live.security_${case} PROPERTIES LABELS live TIMEOUT 300
                       SKIP_RETURN_CODE 77)
  if(TT_SANITIZE)
    # ASan keeps freed memory in quarantine: RSS says nothing about the budget
    set_tests_properties(live.security_${case} PROPERTIES ENVIRONMENT TT_SANITIZED=1)
  endif()
endforeach()
