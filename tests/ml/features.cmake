# `ticktape features` against pandas (tests/ml/features_ref.py) on the HistData
# half-year and on real Dukascopy ticks, and the look-ahead test (every price
# after t changed: no row before t may change).
add_test(NAME ml.features_oracle
  COMMAND ${TT_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/features_oracle.py ${TT_BIN}
          ${PROJECT_SOURCE_DIR}/tests/data ${CMAKE_CURRENT_BINARY_DIR}/features_oracle)
set_tests_properties(ml.features_oracle PROPERTIES LABELS ml TIMEOUT 600)

# The news group on the real 2017 calendar: pandas, figures that never enter,
# look-ahead (tests/ml/news_oracle.py).
add_test(NAME ml.news_oracle
  COMMAND ${TT_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/news_oracle.py ${TT_BIN}
          ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_BINARY_DIR}/news_oracle)
set_tests_properties(ml.news_oracle PROPERTIES LABELS ml TIMEOUT 600)
