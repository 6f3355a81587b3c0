# The import under fault injection (test_fault_import.c).
include(${PROJECT_SOURCE_DIR}/tests/support/fault.cmake)
tt_fault_tests(data test_fault_import)
# Single failures the loops found, one test each (test_fault_units.c).
tt_fault_wrap(test_fault_units)
# The tape's own fault cases (test_tape_integrity.c: every k-th write, fsync
# or rename failing, once, sticky or short).
tt_fault_wrap(test_tape_integrity)
