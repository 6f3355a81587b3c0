# The Python package (python/ticktape) over the shared library, with Debian's
# /usr/bin/python3 (numpy, pandas, h5py): tests/python/python_test.py.
foreach(case tape backtest research strategy env docs)
  add_test(NAME python.${case}
    COMMAND ${TT_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/python/python_test.py ${case} ${TT_BIN}
            ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_BINARY_DIR}/python_work)
  set_tests_properties(python.${case} PROPERTIES LABELS python TIMEOUT 300
    ENVIRONMENT "TICKTAPE_LIB=$<TARGET_FILE:ticktape>;PYTHONPATH=${PROJECT_SOURCE_DIR}/python")
endforeach()
