# Script tests of the text and HDF5 importers and `tape gaps` (tests/data/textimport_test.py),
# each format checked against oracles decoded from real Dukascopy EURUSD data (tests/data/text).
foreach(case polygon_quotes polygon_aggs polygon_filter mt5_ticks mt5_bars histdata generic
             bad_rows truncated quality hdf5 gaps usage)
  add_test(NAME data.textimport_${case}
    COMMAND ${TT_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/data/textimport_test.py
            ${TT_BIN} ${TT_TESTDATA} ${case})
  set_tests_properties(data.textimport_${case} PROPERTIES LABELS "data" TIMEOUT 120)
endforeach()
