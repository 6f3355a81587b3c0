# The fault wrappers themselves (test_fault.c); the tape helpers they link
# with read tapes.
include(${PROJECT_SOURCE_DIR}/tests/support/fault.cmake)
tt_fault_wrap(test_fault)
target_link_libraries(test_fault PRIVATE tt_data)
