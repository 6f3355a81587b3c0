"""Distributed sweep end to end: a real nats-server with JetStream (the Debian
package) on 127.0.0.1 and a free port, storage in a temporary folder; three
`ticktape worker` processes; `ticktape sweep --nats`. The first job of worker
0 is killed mid-run (SIGKILL as soon as it reports the job started). Checks:

  - the sweep completes (exit 0) with every run exactly once;
  - the killed job was redelivered (a surviving worker ran it with
    delivery >= 2 after the ack wait);
  - every run's fingerprint and figures equal a local `--jobs 2` sweep;
  - with --runs-per-job 3 (4 job messages of 3 runs) on the two survivors:
    every run once, equal to the local sweep, each message's runs done by
    one worker in order; --runs-per-job 0 is a usage error;
  - a worker with --max-jobs 2 stops after the second run of a 3-run message
    and gives the message back: with a 30 s ack wait, a worker started next
    runs all three at once (delivery=2; that worker forks a fresh runner per
    run, --runs-per-process 1), and the sweep has every run; a bad
    --runs-per-process is a usage error;
  - `walkforward --nats` (train runs on the workers) equals a local one.

usage: jetstream_cli_test.py TICKTAPE SOURCE_DIR WORK_DIR
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

BIN, SRC, WORK = sys.argv[1:4]
TAPE = os.path.join(SRC, "scenarios", "data", "eurusd-2019-02")

SCENARIO = """name: nats-sweep
seed: 42
data: {{tape: {tape}, symbols: [EURUSD], from: 2019-02-04, to: 2019-02-06}}
account: {{currency: USD, balance: 10000, leverage: 100}}
venue: {{latency_ms: 5, commission: {{per_lot: 7}}}}
strategy:
  name: sma_cross
  params: {{tf: M1, fast: 10, slow: 30, qty: 10}}
sweep:
  params:
    strategy:
      params:
        fast: [4, 8, 12, 16]
        slow: [30, 45, 60]
walkforward: {{train: 12h, test: 6h, step: 12h, objective: net_pnl, min_trades: 3}}
"""


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


class Worker:
    def __init__(self, k, url, cmd=None):
        self.k = k
        self.lines = []
        self.started = threading.Event()
        # Workers run scenarios found in their current directory (by content hash).
        self.p = subprocess.Popen(cmd or [BIN, "worker", "--nats", url, "--ack-wait", "2s"],
                                  cwd=WORK,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.t = threading.Thread(target=self.read, daemon=True)
        self.t.start()

    def read(self):
        for line in self.p.stdout:
            self.lines.append(line.strip())
            if line.startswith("started"):
                self.started.set()


def main():
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(WORK)
    if not shutil.which("nats-server"):
        print("SKIP: nats-server not installed")
        sys.exit(77)
    sc = os.path.join(WORK, "nats-sweep.yaml")
    with open(sc, "w") as f:
        f.write(SCENARIO.format(tape=TAPE))
    port = free_port()
    url = "nats://127.0.0.1:%d" % port
    store = os.path.join(WORK, "js")
    log = open(os.path.join(WORK, "server.log"), "w")
    server = subprocess.Popen(["nats-server", "-js", "-a", "127.0.0.1", "-p", str(port),
                               "-sd", store], stdout=log, stderr=log)
    workers = []
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        else:
            fail("nats-server did not start")
        workers = [Worker(k, url) for k in range(3)]
        time.sleep(0.5)  # let them bind to the queue
        sweep = subprocess.Popen([BIN, "sweep", sc, "--nats", url, "--ack-wait", "2s",
                                  "--timeout", "90s", "--json", "--no-reports"],
                                 cwd=WORK, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 text=True)
        # Kill worker 0 in the middle of its first job.
        if not workers[0].started.wait(60):
            fail("worker 0 never started a job")
        workers[0].p.send_signal(signal.SIGKILL)
        killed_job = workers[0].lines[0].split()[1]
        out, err = sweep.communicate(timeout=180)
        if sweep.returncode != 0:
            fail("sweep --nats exit %d\n%s\n%s" % (sweep.returncode, out[-2000:], err[-2000:]))
        dist = json.loads(out.strip().splitlines()[-1])
        time.sleep(0.3)
        # Redelivery of the killed job to a surviving worker.
        redelivered = [l for w in workers[1:] for l in w.lines
                       if l.startswith("done " + killed_job + " ok") and "delivery=1" not in l]
        if not redelivered:
            fail("job %s was not redelivered after the kill; survivors:\n%s"
                 % (killed_job, "\n".join(l for w in workers[1:] for l in w.lines)))
        if any(l.startswith("done") for l in workers[0].lines):
            fail("worker 0 was supposed to die in its first job")
        # Every run once, each equal to the local sweep.
        local = subprocess.run([BIN, "sweep", sc, "--jobs", "2", "--json", "--no-reports",
                                "--quiet"], cwd=WORK, capture_output=True, text=True, timeout=240)
        if local.returncode != 0:
            fail("local sweep: " + local.stderr)
        loc = json.loads(local.stdout.strip().splitlines()[-1])
        if len(dist["runs"]) != 12 or len(loc["runs"]) != 12:
            fail("run counts")
        for a, b in zip(dist["runs"], loc["runs"]):
            if a["status"] != "ok":
                fail("distributed run %d: %s" % (a["index"], a))
            a2 = {k: v for k, v in a.items() if k != "run_id"}
            b2 = {k: v for k, v in b.items() if k != "run_id"}
            if a2 != b2:
                fail("run %d differs:\nNATS  %s\nlocal %s" % (a["index"], a2, b2))
        done = [l.split()[1] for w in workers for l in w.lines if l.startswith("done")]
        if len(set(done)) != 12:
            fail("workers completed %d distinct jobs, expected 12" % len(set(done)))
        # Three runs per job message.
        seen = [len(w.lines) for w in workers]
        bat = subprocess.run([BIN, "sweep", sc, "--nats", url, "--ack-wait", "2s",
                              "--timeout", "90s", "--runs-per-job", "3", "--json",
                              "--no-reports", "--quiet"],
                             cwd=WORK, capture_output=True, text=True, timeout=240)
        if bat.returncode != 0:
            fail("sweep --runs-per-job 3 exit %d: %s" % (bat.returncode, bat.stderr[-2000:]))
        br = json.loads(bat.stdout.strip().splitlines()[-1])["runs"]
        if len(br) != 12:
            fail("--runs-per-job 3: %d runs" % len(br))
        for a, b in zip(br, loc["runs"]):
            a2 = {k: v for k, v in a.items() if k != "run_id"}
            b2 = {k: v for k, v in b.items() if k != "run_id"}
            if a2 != b2:
                fail("--runs-per-job 3: run %d differs:\nNATS  %s\nlocal %s"
                     % (a["index"], a2, b2))
        time.sleep(0.3)
        by = {}  # run index -> the worker that completed it
        order = {}
        for w in workers[1:]:
            mine = [l.split() for l in w.lines[seen[w.k]:] if l.startswith("done")]
            idx = [int(f[1].rsplit("-", 1)[1]) for f in mine]
            order[w.k] = idx
            for i in idx:
                if i in by:
                    fail("--runs-per-job 3: run %d done twice" % i)
                by[i] = w.k
        if sorted(by) != list(range(12)):
            fail("--runs-per-job 3: runs done %s" % sorted(by))
        for m in range(4):
            if len({by[i] for i in range(3 * m, 3 * m + 3)}) != 1:
                fail("--runs-per-job 3: message %d split over workers: %s" % (m, order))
        for k, idx in order.items():
            for m in range(4):
                mine = [i for i in idx if i // 3 == m]
                if mine and mine != [3 * m, 3 * m + 1, 3 * m + 2]:
                    fail("--runs-per-job 3: worker %d ran message %d as %s" % (k, m, mine))
        bad = subprocess.run([BIN, "sweep", sc, "--nats", url, "--runs-per-job", "0"],
                             cwd=WORK, capture_output=True, text=True, timeout=60)
        if bad.returncode == 0 or "--runs-per-job" not in bad.stderr:
            fail("--runs-per-job 0 accepted: %d %s" % (bad.returncode, bad.stderr))
        bad = subprocess.run([BIN, "worker", "--nats", url, "--runs-per-process", "x"],
                             capture_output=True, text=True, timeout=60)
        if bad.returncode != 2 or "--runs-per-process" not in bad.stderr:
            fail("--runs-per-process x accepted: %d %s" % (bad.returncode, bad.stderr))
        # Walk-forward with its 36 train runs on the two surviving workers:
        # the same folds, choices and figures as a local walk-forward.
        wf = subprocess.run([BIN, "walkforward", sc, "--nats", url, "--ack-wait", "2s",
                             "--timeout", "90s", "--json", "--no-reports", "--quiet"],
                            cwd=WORK, capture_output=True, text=True, timeout=240)
        if wf.returncode != 0:
            fail("walkforward --nats exit %d: %s" % (wf.returncode, wf.stderr[-2000:]))
        wl = subprocess.run([BIN, "walkforward", sc, "--jobs", "2", "--json", "--no-reports",
                             "--quiet"], cwd=WORK, capture_output=True, text=True, timeout=240)
        if wl.returncode != 0:
            fail("local walkforward: " + wl.stderr)
        a = json.loads(wf.stdout.strip().splitlines()[-1])
        b = json.loads(wl.stdout.strip().splitlines()[-1])
        if len(a["folds"]) != 3 or a != b:
            fail("walkforward over NATS differs from the local one:\n%s\n%s" % (a, b))
        # A worker that stops in the middle of a batch gives the message back.
        for w in workers[1:]:
            w.p.send_signal(signal.SIGTERM)
            w.p.wait(timeout=30)
        time.sleep(0.7)  # their last pull requests lapse
        # alone on the queue when the sweep starts: it takes the first message
        part = Worker(3, url, [BIN, "worker", "--nats", url, "--max-jobs", "2"])
        time.sleep(0.5)
        sw = subprocess.Popen([BIN, "sweep", sc, "--nats", url, "--ack-wait", "30s",
                               "--timeout", "60s", "--runs-per-job", "3", "--json",
                               "--no-reports", "--quiet"],
                              cwd=WORK, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        part.p.wait(timeout=60)
        t0 = time.monotonic()
        rest = Worker(4, url, [BIN, "worker", "--nats", url, "--ack-wait", "2s",
                               "--runs-per-process", "1"])
        workers += [part, rest]
        out, err = sw.communicate(timeout=60)
        if sw.returncode != 0:
            fail("sweep after a worker stopped mid-batch: exit %d: %s"
                 % (sw.returncode, err[-2000:]))
        if time.monotonic() - t0 > 20:
            fail("the message given back waited for the ack wait")
        if len(json.loads(out.strip().splitlines()[-1])["runs"]) != 12:
            fail("sweep after a worker stopped mid-batch: runs missing")
        time.sleep(0.3)
        pd = [l.split() for l in part.lines if l.startswith("done")]
        if [f[3] for f in pd] != ["delivery=1", "delivery=1"]:
            fail("the --max-jobs 2 worker: %s" % part.lines)
        first = pd[0][1]
        again = [l for l in rest.lines if l.startswith("done " + first + " ok delivery=2")]
        if not again:
            fail("the message given back was not rerun as delivery 2: %s" % rest.lines)
        print("ok: killed %s, redelivered: %s; walkforward over NATS = local (%s)"
              % (killed_job, redelivered[0], a["fingerprint"]))
    finally:
        for w in workers:
            if w.p.poll() is None:
                w.p.send_signal(signal.SIGTERM)
        for w in workers:
            try:
                w.p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                w.p.kill()
                w.p.wait()
        server.terminate()
        try:
            server.wait(timeout=5)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


main()
