# A paper session's journal under fault injection (test_fault_journal.c).
include(${PROJECT_SOURCE_DIR}/tests/support/fault.cmake)
tt_fault_tests(live test_fault_journal)
