# The backtest under fault injection (test_fault_backtest.c): it reports, so it
# links the reports layer too.
include(${PROJECT_SOURCE_DIR}/tests/support/fault.cmake)
target_link_libraries(test_fault_backtest PRIVATE tt_reports)
tt_fault_tests(sim test_fault_backtest)
