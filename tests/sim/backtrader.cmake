# sim.backtrader_oracle: ticktape's bar models (ohlc_m1, open_prices, every_tick)
# on Dukascopy's real BID M1 candles of 4-5 February 2019 (tests/data/dukascopy)
# against Backtrader's default fill rule (a market order fills at the next bar's
# open), written independently in Python with pandas (tests/sim/oracle_backtrader.py):
# every trade's side, minutes and prices, for four SMA pairs.
add_test(NAME sim.backtrader_oracle
  COMMAND ${TT_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/sim/oracle_backtrader.py ${TT_BIN}
          ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_BINARY_DIR}/backtrader_oracle)
set_tests_properties(sim.backtrader_oracle PROPERTIES LABELS sim TIMEOUT 300)
