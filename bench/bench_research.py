"""Research benchmarks (docs/benchmarks.md, section "Research"): the 64-run
sweep of scenarios/sweep-eurusd-sma.yaml with --jobs 1 and --jobs 2 (the
default: each process's runs advance together in one pass over the data, read
and decoded once), --jobs 2 with a fresh process per run (--runs-per-process
1), and on two NATS workers against local --jobs 2. With --base OTHER, the
same sweep with another ticktape binary (--jobs 1 and 2, its defaults) joins
the rotation, and the speed-ups over it are printed.

usage: /usr/bin/python3 bench/bench_research.py TICKTAPE [--repeat N] [--no-nats]
                                                [--runs-per-job K,K,...]
                                                [--runs-per-process N] [--base OTHER]
                                                [--scenario FILE]

--scenario runs another sweep (bench/sweep-eurusd-ticks.yaml: the 64 runs on
the Dukascopy ticks that scenarios/sweep-eurusd-sma.yaml held until it moved
onto the HistData bars, for the earlier figures).

The NATS mode runs once per K of --runs-per-job (default "1,auto": one run
per job message, the sweep's default, and the sweep's "auto" rule, whose K the
table names). --runs-per-process is passed to the workers (default: theirs,
one runner process kept from run to run; 1 = a fresh process per run).

Runs are alternated (jobs 1, jobs 2, nats, jobs 1, ...) so that a change in
machine load hits every mode alike; the table gives the best and the median
wall time of each mode, and checks that all modes produced the same
fingerprints. Needs nats-server (Debian package) for the NATS mode.
"""
import json
import os
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCENARIO = os.path.join(ROOT, "scenarios", "sweep-eurusd-sma.yaml")
CPU = {}  # CPU seconds (user + sys) of the sweep and its run processes, per mode
NATS_CPU = {}  # per NATS mode, per sweep: (server, worker processes, their runs) CPU seconds
TICK = os.sysconf("SC_CLK_TCK")


def proc_cpu(pid):
    """(own, reaped children) CPU seconds of a live process, from /proc."""
    with open("/proc/%d/stat" % pid) as f:
        v = f.read().rsplit(")", 1)[1].split()
    return (int(v[11]) + int(v[12])) / TICK, (int(v[13]) + int(v[14])) / TICK


def worker_cpu(pid):
    """(own, runs) CPU seconds of a worker: the runs are its runner processes,
    live (read from /proc) or reaped."""
    own, reaped = proc_cpu(pid)
    live = 0.0
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                v = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(v[1]) == pid:
            live += (int(v[11]) + int(v[12]) + int(v[13]) + int(v[14])) / TICK
    return own, reaped + live


def cpu_children():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def auto_runs_per_job(njobs):
    """The sweep's --runs-per-job auto (live/jetstream.c, tt_js_runs_per_job_auto)."""
    return max(1, min(8, njobs // 16))


def sweep(binary, name, extra, cwd):
    c0, t0 = cpu_children(), time.monotonic()
    p = subprocess.run([binary, "sweep", SCENARIO, "--json", "--no-reports", "--quiet"] + extra,
                       cwd=cwd, capture_output=True, text=True)
    dt = time.monotonic() - t0
    CPU.setdefault(name, []).append(cpu_children() - c0)
    if p.returncode != 0:
        sys.exit("sweep %s failed: %s" % (extra, p.stderr))
    runs = json.loads(p.stdout.strip().splitlines()[-1])["runs"]
    return dt, [r["fingerprint"] for r in runs]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def main():
    global SCENARIO
    binary = os.path.abspath(sys.argv[1])
    if "--scenario" in sys.argv:
        SCENARIO = os.path.abspath(sys.argv[sys.argv.index("--scenario") + 1])
    repeat = 3
    if "--repeat" in sys.argv:
        repeat = int(sys.argv[sys.argv.index("--repeat") + 1])
    nats = "--no-nats" not in sys.argv and shutil.which("nats-server")
    ks = ["1", "auto"]
    if "--runs-per-job" in sys.argv:
        ks = sys.argv[sys.argv.index("--runs-per-job") + 1].split(",")
    work = tempfile.mkdtemp(prefix="tt_bench_research_")
    server = None
    workers = []
    try:
        modes = [("local --jobs 1", ["--jobs", "1"]), ("local --jobs 2", ["--jobs", "2"]),
                 ("local --jobs 2, a process per run", ["--jobs", "2", "--runs-per-process", "1"])]
        base = None
        if "--base" in sys.argv:
            base = os.path.abspath(sys.argv[sys.argv.index("--base") + 1])
            modes += [("base --jobs 1", ["--jobs", "1"]), ("base --jobs 2", ["--jobs", "2"])]
        if nats:
            port = free_port()
            url = "nats://127.0.0.1:%d" % port
            server = subprocess.Popen(["nats-server", "-js", "-a", "127.0.0.1", "-p", str(port),
                                       "-sd", os.path.join(work, "js")],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for _ in range(100):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    time.sleep(0.1)
            wargs = []
            if "--runs-per-process" in sys.argv:
                wargs = ["--runs-per-process",
                         sys.argv[sys.argv.index("--runs-per-process") + 1]]
            workers = [subprocess.Popen([binary, "worker", "--nats", url, "--quiet",
                                         "--scenarios", os.path.dirname(SCENARIO)] + wargs,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                       for _ in range(2)]
            time.sleep(0.5)
            dead = [w.args for w in workers if w.poll() is not None]
            if dead:
                sys.exit("a worker exited before the benchmark: %s" % dead)
            for k in ks:
                modes.append(("NATS, 2 workers, K=%s" % k, ["--nats", url, "--runs-per-job", k]))
        times = {m: [] for m, _ in modes}
        fps = {}
        for _ in range(repeat):
            for name, extra in modes:
                if name.startswith("NATS"):
                    before = [proc_cpu(server.pid)] + [worker_cpu(w.pid) for w in workers]
                dt, f = sweep(base if name.startswith("base") else binary, name, extra, work)
                if name.startswith("NATS"):
                    # the sweep ends on the last result: let the workers ack it
                    time.sleep(0.2)
                    after = [proc_cpu(server.pid)] + [worker_cpu(w.pid) for w in workers]
                    d = [(a[0] - b[0], a[1] - b[1]) for a, b in zip(after, before)]
                    NATS_CPU.setdefault(name, []).append(
                        (d[0][0], sum(x[0] for x in d[1:]), sum(x[1] for x in d[1:])))
                times[name].append(dt)
                fps[name] = f
        ref = fps["local --jobs 1"]
        auto = "K=auto"
        for i, (name, extra) in enumerate(modes):
            if name.endswith(auto):
                name2 = name.replace(auto, "K=auto (%d)" % auto_runs_per_job(len(ref)))
                modes[i] = (name2, extra)
                times[name2], CPU[name2] = times.pop(name), CPU.pop(name)
                NATS_CPU[name2] = NATS_CPU.pop(name)
        same = all(f == ref for f in fps.values())
        print("| mode | best wall s | median wall s | runs/s (best) |")
        print("| --- | --- | --- | --- |")
        for name, _ in modes:
            b, m = min(times[name]), statistics.median(times[name])
            print("| %s | %.2f | %.2f | %.1f |" % (name, b, m, len(ref) / b))
        b1, b2 = min(times["local --jobs 1"]), min(times["local --jobs 2"])
        print("\nspeed-up --jobs 2 over --jobs 1 (best): %.2fx (median %.2fx)"
              % (b1 / b2, statistics.median(times["local --jobs 1"]) /
                 statistics.median(times["local --jobs 2"])))
        m2 = statistics.median(times["local --jobs 2"])
        kk = "local --jobs 2, a process per run"
        bk, mk = min(times[kk]), statistics.median(times[kk])
        print("%s vs local --jobs 2 (best): %+.1f%% (median %+.1f%%)"
              % (kk, (bk / b2 - 1) * 100, (mk / m2 - 1) * 100))
        for name, _ in modes:
            if name.startswith("NATS"):
                bn, mn = min(times[name]), statistics.median(times[name])
                print("%s vs local --jobs 2 (best): %+.1f%% (median %+.1f%%)"
                      % (name, (bn / b2 - 1) * 100, (mn / m2 - 1) * 100))
                print("%s vs local --jobs 2, kept runners (best): %+.1f%% (median %+.1f%%)"
                      % (name, (bn / bk - 1) * 100, (mn / mk - 1) * 100))
        if base:
            for j in ("1", "2"):
                n, o = "local --jobs " + j, "base --jobs " + j
                print("speed-up over the base, --jobs %s: %.2fx best, %.2fx median wall; "
                      "%.2fx CPU (medians)"
                      % (j, min(times[o]) / min(times[n]),
                         statistics.median(times[o]) / statistics.median(times[n]),
                         statistics.median(CPU[o]) / statistics.median(CPU[n])))
        if nats:
            if any(w.poll() is not None for w in workers):
                sys.exit("a worker exited during the benchmark")
        for k in ["local --jobs 1", "local --jobs 2", kk] + (
                ["base --jobs 1", "base --jobs 2"] if base else []):
            print("CPU time, %s: median %.2f s (user + sys, all run processes)"
                  % (k, statistics.median(CPU[k])))
        for name, _ in modes:
            if name in NATS_CPU:
                srv, wk, runs = (statistics.median(x[i] for x in NATS_CPU[name])
                                 for i in range(3))
                print("CPU time, %s: median %.2f s in the runs, %.2f s in the worker "
                      "processes, %.2f s in nats-server, %.2f s in the sweep (collector)"
                      % (name, runs, wk, srv, statistics.median(CPU[name])))
        print("fingerprints identical in every mode: %s (%d runs)" % (same, len(ref)))
        print("load average at the end: %.1f %.1f %.1f" % os.getloadavg())
        if not same:
            sys.exit(1)
    finally:
        for w in workers:
            w.send_signal(signal.SIGTERM)
        for w in workers:
            try:
                w.wait(timeout=5)
            except subprocess.TimeoutExpired:
                w.kill()
        if server:
            server.terminate()
            server.wait()
        shutil.rmtree(work, ignore_errors=True)


main()
