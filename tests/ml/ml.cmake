# The machine-learning commands end to end (tests/ml/ml_test.py): training
# determinism and sidecar, errors, NATS status, parity with python3-xgboost, a
# model trained in Python, the xgb strategy in a paper session, walk-forward.
foreach(case train errors nats parity python_model paper walkforward)
  add_test(NAME ml.cli_${case}
    COMMAND ${TT_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/ml_test.py ${case} ${TT_BIN}
            ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_BINARY_DIR}/cli_${case})
  set_tests_properties(ml.cli_${case} PROPERTIES LABELS ml TIMEOUT 600)
endforeach()
