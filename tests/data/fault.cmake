# The import under fault injection (test_fault_import.c).
include(${PROJECT_SOURCE_DIR}/tests/support/fault.cmake)
tt_fault_tests(data test_fault_import)
