# `ticktape synth` end to end. This file has two lives: included by
# tests/CMakeLists.txt it registers the tests; run with `cmake -P` (by those
# tests) it drives the binary and checks the results.
#
#   sim.synth_cli_reproducible  same seed -> byte-identical tape exports; another
#                               seed -> different; the tape verifies; usage and
#                               error exit codes
#   sim.synth_cli_options       an option chain as CSV and JSONL, checked by an
#                               independent Black-Scholes written in Python
#                               (math.erfc), put-call parity, and the summary
#                               JSON's max pain recomputed from the CSV rows

if(NOT CMAKE_SCRIPT_MODE_FILE)
  foreach(case reproducible options)
    add_test(NAME sim.synth_cli_${case}
      COMMAND ${CMAKE_COMMAND} -DTT_BIN=${TT_BIN} -DTT_PYTHON=${TT_PYTHON} -DCASE=${case}
              -DWORK=${CMAKE_CURRENT_BINARY_DIR}/synth_cli_${case}
              -P ${CMAKE_CURRENT_LIST_FILE})
    set_tests_properties(sim.synth_cli_${case} PROPERTIES LABELS sim TIMEOUT 120)
  endforeach()
  return()
endif()

file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})

# run(<expected rc> <output var> args...): runs the binary, checks the exit code.
function(run want outvar)
  execute_process(COMMAND ${TT_BIN} ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out
                  ERROR_VARIABLE err WORKING_DIRECTORY ${WORK})
  if(NOT rc STREQUAL "${want}")
    message(FATAL_ERROR "ticktape ${ARGN}: exit ${rc}, expected ${want}\nstdout: ${out}\nstderr: ${err}")
  endif()
  set(${outvar} "${out}${err}" PARENT_SCOPE)
endfunction()

if(CASE STREQUAL "reproducible")
  set(market --symbols EURUSD,USDJPY --from 2024-01-05T20:00:00Z --to 2024-01-08T02:00:00Z
             --param corr=0.3 --param tick_rate=5)
  run(0 o synth ${market} --seed 7 --tape ${WORK}/a)
  run(0 o synth ${market} --seed 7 --tape ${WORK}/b --json)
  # --json: the last line is one JSON object
  string(REGEX MATCH "{\"model\":\"gbm\",\"seed\":7,\"ticks\":[0-9]+" j "${o}")
  if(NOT j)
    message(FATAL_ERROR "synth --json: no summary object in: ${o}")
  endif()
  run(0 o synth ${market} --seed 8 --tape ${WORK}/c)
  run(0 o tape verify ${WORK}/a)
  foreach(t a b c)
    foreach(s EURUSD USDJPY)
      run(0 o tape export ${WORK}/${t} --symbol ${s} --format csv -o ${WORK}/${t}_${s}.csv)
      file(SHA256 ${WORK}/${t}_${s}.csv h_${t}_${s})
      file(STRINGS ${WORK}/${t}_${s}.csv lines_${t}_${s})
    endforeach()
  endforeach()
  foreach(s EURUSD USDJPY)
    if(NOT h_a_${s} STREQUAL h_b_${s})
      message(FATAL_ERROR "same seed, different ${s} ticks")
    endif()
    if(h_a_${s} STREQUAL h_c_${s})
      message(FATAL_ERROR "another seed, same ${s} ticks")
    endif()
    list(LENGTH lines_a_${s} n)
    # Fri 20:00 - 22:00 and Sun 22:00 - Mon 02:00 are open: 6 h at ~5/s with
    # seasonality: thousands of ticks; nothing from the weekend.
    if(n LESS 10000)
      message(FATAL_ERROR "${s}: only ${n} lines")
    endif()
    foreach(l IN LISTS lines_a_${s})
      if(l MATCHES "^2024-01-0[67]T" AND NOT l MATCHES "^2024-01-07T2[23]")
        message(FATAL_ERROR "${s}: tick inside the weekend close: ${l}")
      endif()
    endforeach()
  endforeach()
  # the CSV form holds the same ticks as the tape (both symbols, one header)
  run(0 o synth ${market} --seed 7 --csv ${WORK}/direct.csv)
  file(STRINGS ${WORK}/direct.csv direct)
  list(LENGTH direct nd)
  list(LENGTH lines_a_EURUSD ne)
  list(LENGTH lines_a_USDJPY nj)
  math(EXPR want "${ne} + ${nj} - 1")
  if(NOT nd EQUAL want)
    message(FATAL_ERROR "csv has ${nd} lines, the tape exports ${ne} + ${nj}")
  endif()
  # usage and errors
  run(0 o synth --help)
  if(NOT o MATCHES "usage: ticktape synth")
    message(FATAL_ERROR "synth --help: ${o}")
  endif()
  run(2 o synth --bench --param sigmaa=0.1)
  if(NOT o MATCHES "unknown key 'sigmaa'")
    message(FATAL_ERROR "bad key message: ${o}")
  endif()
  # all three pairs at -0.6: the smallest eigenvalue is 1 - 2 * 0.6 < 0
  run(2 o synth --bench --symbols EURUSD,GBPUSD,USDJPY --param corr=-0.6)
  if(NOT o MATCHES "not positive definite")
    message(FATAL_ERROR "bad corr message: ${o}")
  endif()
  run(2 o synth --tape ${WORK}/x --bench)
  run(1 o synth --bench --symbol NOSUCH)
  if(NOT o MATCHES "ticktape: error: .*NOSUCH")
    message(FATAL_ERROR "unknown symbol message: ${o}")
  endif()
elseif(CASE STREQUAL "options")
  run(0 o synth options --at 2024-02-01 --seed 3 --strikes 11 --expiries 7,30,90
          --r 0.05 --q 0.03 --format csv -o ${WORK}/chain.csv --json)
  string(REGEX MATCH "{\"symbol\":\"EURUSD\".*}" summary "${o}")
  file(WRITE ${WORK}/summary.json "${summary}")
  run(0 o synth options --at 2024-02-01 --seed 3 --strikes 11 --expiries 7,30,90
          --r 0.05 --q 0.03 --format jsonl -o ${WORK}/chain.jsonl)
  file(WRITE ${WORK}/check.py [=[
import csv, json, math, sys
work = sys.argv[1]
summary = json.load(open(work + "/summary.json"))
S, r, q = summary["spot"], 0.05, 0.03
N = lambda x: 0.5 * math.erfc(-x / math.sqrt(2))
def bs(kind, K, T, v):
    d1 = (math.log(S / K) + (r - q + v * v / 2) * T) / (v * math.sqrt(T))
    d2 = d1 - v * math.sqrt(T)
    if kind == "call":
        return S * math.exp(-q * T) * N(d1) - K * math.exp(-r * T) * N(d2), math.exp(-q * T) * N(d1)
    return K * math.exp(-r * T) * N(-d2) - S * math.exp(-q * T) * N(-d1), -math.exp(-q * T) * N(-d1)
rows = list(csv.DictReader(open(work + "/chain.csv")))
jrows = [json.loads(l) for l in open(work + "/chain.jsonl")]
assert len(rows) == 3 * 11 * 2 == len(jrows), (len(rows), len(jrows))
by = {}
for row, j in zip(rows, jrows):
    K, T, v = float(row["strike"]), int(row["days"]) / 365.25, float(row["iv"])
    price, delta = bs(row["type"], K, T, v)
    assert abs(price - float(row["price"])) < 1e-9, (row, price)
    assert abs(delta - float(row["delta"])) < 1e-7, (row, delta)
    assert abs(j["price"] - float(row["price"])) < 1e-12 and j["type"] == row["type"]
    by.setdefault(row["expiry"], []).append(row)
for exp, rs in by.items():
    puts = {float(x["strike"]): x for x in rs if x["type"] == "put"}
    calls = {float(x["strike"]): x for x in rs if x["type"] == "call"}
    T = int(rs[0]["days"]) / 365.25
    for K in calls:  # put-call parity
        lhs = float(calls[K]["price"]) - float(puts[K]["price"])
        assert abs(lhs - (S * math.exp(-q * T) - K * math.exp(-r * T))) < 1e-9
    pain = lambda P: sum(int(c["open_interest"]) * max(0, P - K) for K, c in calls.items()) + \
                     sum(int(p["open_interest"]) * max(0, K - P) for K, p in puts.items())
    best = min(sorted(calls), key=pain)
    e = [x for x in summary["expiries"] if x["expiry"] == exp][0]
    assert abs(e["max_pain"] - best) < 1e-9, (exp, e, best)
    pcr = sum(int(p["open_interest"]) for p in puts.values()) / sum(int(c["open_interest"]) for c in calls.values())
    assert abs(e["put_call_ratio"] - pcr) < 1e-6, (e, pcr)
print("ok", len(rows), "rows")
]=])
  execute_process(COMMAND ${TT_PYTHON} ${WORK}/check.py ${WORK} RESULT_VARIABLE rc
                  OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "option chain check failed: ${out}${err}")
  endif()
  run(2 o synth options --strikes 5)
  if(NOT o MATCHES "missing --at")
    message(FATAL_ERROR "options without --at: ${o}")
  endif()
endif()
