# Script tests of `ticktape import dukascopy` on the real EURUSD sample
# (tests/data/dukascopy), checked against Python's own lzma + struct reading.
foreach(case lossless bars partial candles symbol threads resume quarantine)
  add_test(NAME data.dukascopy_${case}
    COMMAND ${TT_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/data/dukascopy_import_test.py
            ${TT_BIN} ${TT_TESTDATA} ${case})
  set_tests_properties(data.dukascopy_${case} PROPERTIES LABELS "data" TIMEOUT 120)
endforeach()
