# The import under fault injection (test_fault_import.c).
include(${PROJECT_SOURCE_DIR}/tests/support/fault.cmake)
tt_fault_tests(data test_fault_import)
# Single failures the loops found, one test each (test_fault_units.c).
tt_fault_wrap(test_fault_units)
