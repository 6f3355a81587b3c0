# The Python package (python/ticktape) over the shared library, with Debian's
# /usr/bin/python3 (numpy, pandas, h5py): tests/python/python_test.py.
# In a sanitized build python3 loads the sanitized library with the
# compiler's ASan/UBSan runtimes preloaded; leak checking is off there
# (the interpreter keeps its own allocations to the end).
set(TT_PY_ENV "TICKTAPE_LIB=$<TARGET_FILE:ticktape>;PYTHONPATH=${PROJECT_SOURCE_DIR}/python")
if(TT_SANITIZE)
  execute_process(COMMAND ${CMAKE_C_COMPILER} -print-file-name=libasan.so
                  OUTPUT_VARIABLE TT_LIBASAN OUTPUT_STRIP_TRAILING_WHITESPACE)
  execute_process(COMMAND ${CMAKE_C_COMPILER} -print-file-name=libubsan.so
                  OUTPUT_VARIABLE TT_LIBUBSAN OUTPUT_STRIP_TRAILING_WHITESPACE)
  list(APPEND TT_PY_ENV "LD_PRELOAD=${TT_LIBASAN} ${TT_LIBUBSAN}"
       "ASAN_OPTIONS=detect_leaks=0")
endif()
foreach(case tape backtest research strategy env docs)
  add_test(NAME python.${case}
    COMMAND ${TT_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/python/python_test.py ${case} ${TT_BIN}
            ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_BINARY_DIR}/python_work)
  set_tests_properties(python.${case} PROPERTIES LABELS python TIMEOUT 300
    ENVIRONMENT "${TT_PY_ENV}")
endforeach()
