# `ticktape import calendar` against pandas reading the Forex Factory CSVs of
# tests/data/calendar independently (tests/data/calendar_test.py).
foreach(case oracle reimport bad_rows backtest)
  add_test(NAME data.calendar_${case}
    COMMAND ${TT_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/data/calendar_test.py
            ${TT_BIN} ${TT_TESTDATA} ${case})
  set_tests_properties(data.calendar_${case} PROPERTIES LABELS "data" TIMEOUT 120)
endforeach()
