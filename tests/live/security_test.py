"""Issue 13, "safe on a shared bus": the audit's findings as tests, run against
a real nats-server (Debian's) on 127.0.0.1 and free ports, attacking with a
plain-socket client (tests/live/nats_plain.py) the way the audit did.

  jobs      a job can never run code or read files: the audit's exploit (a
            job naming a .so whose constructor writes a file) in every form
            the job format allows, scenarios outside the worker's
            directories, /dev/zero, a FIFO, an oracle on file existence; an
            undecodable job is terminated; a legitimate sweep still runs
  deadline  a stuck run is killed after --run-timeout and its job terminated
            (not kept alive, not redelivered)
  signing   --job-key: unsigned and badly signed jobs are refused without a
            run; forged completions are ignored by a sweep that has the key
  auth      NATS authentication in every command that connects (publish,
            paper, sweep, walkforward, worker): user and password (file or
            TICKTAPE_NATS_PASSWORD, never argv), token, NKey seed, JWT .creds
            (operator mode, JWTs made with Python's cryptography), credentials
            in the URL; refused without them
  tls       TLS with certificates made by openssl for the test: a server that
            requires client certificates; refused without them or with
            another CA
  publish   honest publishing: core NATS across a server restart reports the
            disconnect and the ticks that may have been lost (exit 3);
            --jetstream across a restart: every tick acknowledged, and the
            reported count equals the stream's own
  wire      what a paper session takes from the bus: a EURUSD payload on
            ticks.GBPUSD, a crossed quote, negative and absurd volumes, a bid a
            million times the market, bars of 9.2e18 points or with the low
            above the open, a tick an hour in the future, a control character
            in a subject: each refused, counted and logged with its subject
            (escaped) and reason; good ticks still taken
  flood     memory bounded in bytes: 6,000 external messages of 1 MiB into a
            paper session with --queue-bytes 64M and a journal: its peak RSS
            grows by less than the budget, the drops are counted; a 2 MiB
            payload (the server allows it) is refused and counted, never
            truncated
  shell     no shell anywhere: no system() or popen() in the sources of the
            program, the benchmarks and these tests; `bench replay` with a
            TMPDIR that carries a shell command runs no command; a worker's
            status messages and a sweep's report escape what came off the
            wire
  redact    credentials in a URL never printed: a paper session with a
            journal and reports through a server restart (disconnect and
            reconnect lines), a sweep and a walk-forward on workers, a refused
            connection; no log, status line, error, report, journal or JSON
            summary holds the password

usage: security_test.py CASE TICKTAPE SOURCE_DIR WORK_DIR EVIL_SO HANG_SO
"""
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nats_plain  # noqa: E402

CASE, BIN, SRC, WORK, EVIL, HANG = sys.argv[1:7]
WORK = os.path.abspath(WORK) + "-" + CASE

SCENARIO = """name: {name}
seed: 7
data:
  synthetic: {{model: gbm, symbols: [EURUSD], from: 2024-01-01, to: 2024-01-02, sigma: 0.08,
              tick_rate: 1}}
account: {{currency: USD, balance: 10000, leverage: 100}}
venue: {{latency_ms: 5, commission: {{per_lot: 7}}}}
strategy:
  name: {strategy}
  params: {params}
sweep:
  params:
    strategy:
      params:
{axes}
"""

SMA_AXES = """        fast: [5, 10]
        slow: {from: 20, to: 40, step: 10}"""


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def write(path, text, mode=None):
    with open(path, "w") as f:
        f.write(text)
    if mode is not None:
        os.chmod(path, mode)
    return path


def sha256_file(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


class Proc:
    """A ticktape process whose stdout/stderr lines are collected."""

    def __init__(self, args, cwd=None, env=None):
        self.out, self.err = [], []
        self.p = subprocess.Popen([BIN] + args, cwd=cwd, env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
        self.t = [threading.Thread(target=self._read, args=(s, l), daemon=True)
                  for s, l in ((self.p.stdout, self.out), (self.p.stderr, self.err))]
        for t in self.t:
            t.start()

    def _read(self, stream, lines):
        for line in stream:
            lines.append(line.rstrip("\n"))

    def wait(self, timeout):
        rc = self.p.wait(timeout)
        for t in self.t:
            t.join(5)
        return rc

    def stop(self):
        if self.p.poll() is None:
            self.p.terminate()
            try:
                self.p.wait(20)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        for t in self.t:
            t.join(5)

    def text(self):
        return "\n".join(self.out + self.err)


def wait_streams(client):
    """Until the worker has created the job queue."""
    for _ in range(100):
        r = client.request("$JS.API.STREAM.INFO.TT_JOBS", b"", timeout=1)
        if r and b'"error"' not in r:
            return
        time.sleep(0.1)
    fail("the worker never created the TT_JOBS stream")


def completion(client, rid, timeout=20):
    """The completion of run rid (its JSON), or None."""
    end = time.time() + timeout
    while time.time() < end:
        m = client.next(max(0.05, end - time.time()))
        if m and m != "PONG" and m[0] == "backtest.completed." + rid:
            return json.loads(m[1])
    return None


def attack(client, rid, payload, headers=None, expect=True, timeout=20):
    if not isinstance(payload, (bytes, str)):
        payload = json.dumps(payload)
    client.pub("backtest.jobs." + rid, payload, headers=headers)
    client.flush()
    c = completion(client, rid, timeout if expect else 3)
    if expect and c is None:
        fail("no completion for %s within %d s" % (rid, timeout))
    return c


def v1_job(rid, scenario, tag="00000000", sets=None, params=None):
    return {"run_id": rid, "index": 0, "scenario": scenario, "tag": tag, "from": 0, "to": 0,
            "sets": {str(i): s for i, s in enumerate(sets or [])}, "params": params or {}}


def v2_job(rid, sid, params, index=0):
    return {"v": 2, "run_id": rid, "index": index, "scenario": sid, "from": 0, "to": 0,
            "params": params}


def no_hex(err, what):
    """Failure messages must not carry tags or hashes of files."""
    if re.search(r"\b[0-9a-f]{8,}\b", err):
        fail("%s: the failure message carries a hash: %r" % (what, err))


def case_jobs(server):
    scen = os.path.join(WORK, "scenarios")
    os.makedirs(scen)
    legit = write(os.path.join(scen, "legit.yaml"), SCENARIO.format(
        name="legit", strategy="sma_cross", params="{tf: M5, fast: 10, slow: 30, qty: 1}",
        axes=SMA_AXES))
    outside = write(os.path.join(WORK, "outside.yaml"), SCENARIO.format(
        name="outside", strategy="sma_cross", params="{tf: M5, fast: 10, slow: 30, qty: 1}",
        axes=SMA_AXES))
    os.mkfifo(os.path.join(scen, "fifo.yaml"))  # the scan must never block on it
    fifo = os.path.join(WORK, "pipe.yaml")
    os.mkfifo(fifo)
    mark = os.path.join(WORK, "pwned")
    env = dict(os.environ, TT_EVIL_MARK=mark)
    worker = Proc(["worker", "--nats", server.url, "--ack-wait", "2s"], cwd=scen, env=env)
    c = nats_plain.Client(server.port)
    try:
        c.sub("backtest.completed.>")
        wait_streams(c)
        evil_set = "strategy.name=" + EVIL

        # 1. The audit's chain: a job naming the .so through --set overrides,
        #    first with a wrong tag (the answer must not give the right one),
        #    then with whatever the answer revealed.
        r = attack(c, "atk_one", v1_job("atk_one", legit, sets=[evil_set]))
        err = r.get("error", "")
        if r["status"] == "ok":
            fail("a job with a wrong tag ran")
        leaked = re.findall(r"\b[0-9a-f]{8}\b", err)
        for tag in leaked:
            attack(c, "atk_two", v1_job("atk_two", legit, tag=tag, sets=[evil_set]))
            attack(c, "atk_three", v1_job("atk_three", legit, tag=tag,
                                          params={"strategy.name": EVIL}))
        if os.path.exists(mark):
            fail("the worker loaded a .so named by a job: its constructor wrote %s" % mark)
        no_hex(err, "wrong tag")
        if "unknown scenario" not in err and "parameter not allowed" not in err:
            fail("a job of the old format: %r" % err)

        # 2. The current format, with the right content hash: still never a
        #    parameter the sweep does not declare, never a value off its grid.
        sid = sha256_file(legit)
        for k, (key, val) in enumerate([("strategy.name", EVIL), ("data.tape", "/etc"),
                                        ("strategy.params.fast", "7"),
                                        ("strategy.params.slow", "25"),
                                        ("strategy.params.slow", "1e9"),
                                        ("report.out", "/tmp/x")]):
            rid = "atk_p%d" % k
            r = attack(c, rid, v2_job(rid, sid, {key: val}))
            if r["status"] == "ok" or "parameter not allowed" not in r.get("error", ""):
                fail("%s=%s: %r" % (key, val, r))
        j = v2_job("atk_sets", sid, {})
        j["sets"] = {"0": evil_set}
        r = attack(c, "atk_sets", j)
        if r["status"] == "ok" or "parameter not allowed" not in r.get("error", ""):
            fail("a job with sets: %r" % r)
        if os.path.exists(mark):
            fail("the constructor ran")

        # 3. Only scenarios in the worker's directories, by content hash; no
        #    oracle on the existence of other files.
        msgs = {}
        for name, payload in [("outside", v2_job("atk_o", sha256_file(outside), {})),
                              ("unknown", v2_job("atk_u", "ab" * 32, {})),
                              ("passwd", v1_job("atk_pw", "/etc/passwd")),
                              ("missing", v1_job("atk_ms", "/nonexistent/x.yaml")),
                              ("fifo", v1_job("atk_ff", fifo)),
                              ("devzero", v1_job("atk_dz", "/dev/zero"))]:
            t0 = time.time()
            r = attack(c, payload["run_id"], payload, timeout=10)
            if time.time() - t0 > 8:
                fail("%s took %.1f s" % (name, time.time() - t0))
            e = r.get("error", "").replace(payload["run_id"], "RID")
            no_hex(e, name)
            if r["status"] == "ok" or "unknown scenario" not in e:
                fail("%s: %r" % (name, r))
            msgs[name] = e
        if msgs["passwd"] != msgs["missing"]:
            fail("an existing file is told from a missing one: %r vs %r"
                 % (msgs["passwd"], msgs["missing"]))

        # 4. An undecodable job is failed once and terminated (never redelivered).
        r = attack(c, "atk_garbage", b"\x00\xffnot json")
        if r["status"] == "ok":
            fail("garbage ran")
        # 5. A legitimate job runs.
        r = attack(c, "ok_one", v2_job("ok_one", sid, {"strategy.params.fast": "5",
                                                       "strategy.params.slow": "30"}), timeout=60)
        if r["status"] != "ok":
            fail("a legitimate job: %r" % r)
        time.sleep(3)  # past the ack wait: anything not acked or terminated comes back
        if any("delivery=2" in l for l in worker.out):
            fail("a refused job was redelivered:\n" + worker.text())
        if worker.p.poll() is not None:
            fail("the worker died:\n" + worker.text())
        # 6. A sweep from elsewhere (another directory) reaches this worker by hash.
        sweep = Proc(["sweep", legit, "--nats", server.url, "--timeout", "60s", "--json",
                      "--no-reports"], cwd=WORK)
        if sweep.wait(120) != 0:
            fail("sweep --nats: " + sweep.text())
        runs = json.loads(sweep.out[-1])["runs"]
        if len(runs) != 6 or any(x["status"] != "ok" for x in runs):
            fail("sweep runs: %r" % runs)
        # 7. A sweep refuses --set with --nats (a worker would refuse it).
        sweep = Proc(["sweep", legit, "--nats", server.url, "--set", evil_set], cwd=WORK)
        if sweep.wait(60) != 2:
            fail("sweep --nats --set: exit %s\n%s" % (sweep.p.returncode, sweep.text()))
        if os.path.exists(mark):
            fail("the constructor ran")
    finally:
        c.close()
        worker.stop()


def case_deadline(server):
    scen = os.path.join(WORK, "scenarios")
    os.makedirs(scen)
    path = write(os.path.join(scen, "hang.yaml"), SCENARIO.format(
        name="hang", strategy=HANG, params="{hang: 0}",
        axes="        hang: [1]"))
    worker = Proc(["worker", "--nats", server.url, "--ack-wait", "1s", "--run-timeout", "2s",
                   "--scenarios", scen])
    try:
        time.sleep(0.5)
        t0 = time.time()
        sweep = Proc(["sweep", path, "--nats", server.url, "--ack-wait", "1s", "--timeout", "30s",
                      "--json", "--no-reports"], cwd=WORK)
        rc = sweep.wait(90)
        took = time.time() - t0
        if rc != 1:  # its one run failed: every run failed (exit 1, as a lone backtest)
            fail("sweep of a stuck run: exit %s\n%s\n%s" % (rc, sweep.text(), worker.text()))
        runs = json.loads(sweep.out[-1])["runs"]
        if runs[0]["status"] != "failed" or "run timeout" not in runs[0].get("error", ""):
            fail("the stuck run: %r" % runs[0])
        if took > 25:
            fail("the stuck run was reported after %.1f s" % took)
        time.sleep(3)  # three ack waits: a job kept or given back would be running again
        starts = [l for l in worker.out if l.startswith("started")]
        if len(starts) != 1:
            fail("the stuck job ran %d times:\n%s" % (len(starts), worker.text()))
        # The default deadline exists and is documented.
        h = subprocess.run([BIN, "worker", "--help"], capture_output=True, text=True)
        if "--run-timeout" not in h.stdout or "10m" not in h.stdout:
            fail("worker --help does not document --run-timeout and its default")
    finally:
        worker.stop()


def local_sweep(path):
    r = subprocess.run([BIN, "sweep", path, "--jobs", "2", "--json", "--no-reports", "--quiet"],
                       cwd=WORK, capture_output=True, text=True, timeout=240)
    if r.returncode != 0:
        fail("local sweep: " + r.stderr)
    return json.loads(r.stdout.strip().splitlines()[-1])["runs"]


def case_signing(server):
    scen = os.path.join(WORK, "scenarios")
    os.makedirs(scen)
    path = write(os.path.join(scen, "signed.yaml"), SCENARIO.format(
        name="signed", strategy="sma_cross", params="{tf: M5, fast: 10, slow: 30, qty: 1}",
        axes=SMA_AXES))
    key = write(os.path.join(WORK, "job.key"), "correct horse battery staple 42\n", 0o600)
    loose = write(os.path.join(WORK, "loose.key"), "correct horse battery staple 42\n", 0o644)
    r = subprocess.run([BIN, "worker", "--nats", server.url, "--job-key", loose],
                       capture_output=True, text=True, timeout=30)
    if r.returncode != 2 or "loose.key" not in r.stderr:
        fail("a key file readable by others: exit %d %s" % (r.returncode, r.stderr))
    sid = sha256_file(path)
    c = nats_plain.Client(server.port)
    c.sub("backtest.completed.>")
    # Forged completions, published before any worker runs: a sweep with the
    # key must ignore them and wait for the real ones.
    forger = nats_plain.Client(server.port)
    forger.sub("backtest.jobs.>")
    sweep = Proc(["sweep", path, "--nats", server.url, "--job-key", key, "--timeout", "60s",
                  "--json", "--no-reports"], cwd=WORK)
    forged = 0
    end = time.time() + 20
    while forged < 6 and time.time() < end:
        m = forger.next(1)
        if m and m != "PONG" and m[0].startswith("backtest.jobs."):
            rid = m[0].split(".")[-1]
            fake = {"index": 0, "run_id": rid, "status": "ok", "fingerprint": "0" * 32,
                    "events": 1, "net_pnl": 1e9}
            forger.pub("backtest.completed." + rid, json.dumps(fake))
            forged += 1
    forger.flush()
    if forged != 6:
        fail("saw %d job messages, expected 6" % forged)
    worker = Proc(["worker", "--nats", server.url, "--job-key", key, "--scenarios", scen,
                   "--ack-wait", "2s"])
    try:
        if sweep.wait(120) != 0:
            fail("signed sweep: " + sweep.text() + "\n" + worker.text())
        dist = json.loads(sweep.out[-1])["runs"]
        loc = local_sweep(path)
        for a, b in zip(dist, loc):
            if a["fingerprint"] != b["fingerprint"] or a["net_pnl"] != b["net_pnl"]:
                fail("a forged completion was taken: %r vs %r" % (a, b))
        if "forged" not in sweep.text() and "unsigned" not in sweep.text():
            fail("the sweep did not report the forged completions:\n" + sweep.text())
        # Unsigned and badly signed jobs: no run, no completion.
        nstart = len([l for l in worker.out if l.startswith("started")])
        j = v2_job("forge_a", sid, {"strategy.params.fast": "5", "strategy.params.slow": "30"})
        if attack(c, "forge_a", j, expect=False) is not None:
            fail("an unsigned job was answered")
        j = v2_job("forge_b", sid, {"strategy.params.fast": "5", "strategy.params.slow": "30"})
        if attack(c, "forge_b", j, headers={"Tt-Sig": "v1 " + "0" * 64}, expect=False):
            fail("a badly signed job was answered")
        if len([l for l in worker.out if l.startswith("started")]) != nstart:
            fail("an unsigned job ran:\n" + worker.text())
        if "refused" not in worker.text():
            fail("the worker did not log the refused jobs:\n" + worker.text())
        # A sweep without the key: its jobs are refused, it times out.
        s2 = Proc(["sweep", path, "--nats", server.url, "--timeout", "4s", "--json",
                   "--no-reports"], cwd=WORK)
        if s2.wait(60) != 1:  # no run came back: every run failed
            fail("an unsigned sweep against a keyed worker: " + s2.text())
        if len([l for l in worker.out if l.startswith("started")]) != nstart:
            fail("an unsigned sweep's job ran:\n" + worker.text())
    finally:
        c.close()
        forger.close()
        sweep.stop()
        worker.stop()


TAPE = os.path.join(SRC, "scenarios", "data", "eurusd-2019-02")
PAPER = """name: paper-net
seed: 7
data: {{tape: {tape}, symbols: [EURUSD]}}
account: {{currency: USD, balance: 10000, leverage: 100}}
venue: {{latency_ms: 2, commission: {{per_lot: 7}}}}
strategy: {{name: sma_cross, params: {{tf: M1, fast: 5, slow: 20, qty: 1}}}}
"""
WF_AXES = SMA_AXES + """
walkforward: {train: 8h, test: 4h, step: 4h, objective: net_pnl, min_trades: 0}"""


def run(args, env=None, timeout=120, cwd=None):
    return subprocess.run([BIN] + args, capture_output=True, text=True, timeout=timeout,
                          env=env, cwd=cwd)


def must(r, what, secrets=()):
    if r.returncode != 0:
        fail("%s: exit %d\n%s\n%s" % (what, r.returncode, r.stdout[-1500:], r.stderr[-1500:]))
    for s in secrets:
        if s in r.stdout or s in r.stderr:
            fail("%s printed a secret" % what)
    return r


def refused(r, what, secrets=()):
    if r.returncode == 0:
        fail("%s: connected without valid credentials" % what)
    for s in secrets:
        if s in r.stdout or s in r.stderr:
            fail("%s printed a secret: %s" % (what, r.stderr))
    return r


def publish(url, extra, env=None, limit=50):
    return run(["publish", TAPE, "--nats", url, "--limit", str(limit), "--json"] + extra, env=env)


def paper(url, extra, env=None):
    path = os.path.join(WORK, "paper.yaml")
    if not os.path.exists(path):
        write(path, PAPER.format(tape=TAPE))
    return run(["paper", path, "--nats", url, "--duration", "1", "--no-reports", "--json",
                "--quiet"] + extra, env=env, timeout=60)


def research(server, auth, env=None):
    """A worker, a sweep and a walk-forward, all with the same credentials."""
    scen = os.path.join(WORK, "scen-%d" % server.port)
    os.makedirs(scen, exist_ok=True)
    path = write(os.path.join(scen, "net.yaml"), SCENARIO.format(
        name="net", strategy="sma_cross", params="{tf: M5, fast: 10, slow: 30, qty: 1}",
        axes=WF_AXES))
    worker = Proc(["worker", "--nats", server.url, "--scenarios", scen] + auth, env=env)
    try:
        r = run(["sweep", path, "--nats", server.url, "--timeout", "60s", "--json",
                 "--no-reports"] + auth, env=env, cwd=WORK)
        must(r, "sweep with %s" % auth)
        if any(x["status"] != "ok" for x in json.loads(r.stdout.splitlines()[-1])["runs"]):
            fail("sweep runs with %s: %s" % (auth, r.stdout[-1000:]))
        r = run(["walkforward", path, "--nats", server.url, "--timeout", "60s", "--json",
                 "--no-reports", "--quiet"] + auth, env=env, cwd=WORK)
        must(r, "walkforward with %s" % auth)
        if "train run" in r.stderr:
            fail("walkforward train runs failed: " + r.stderr[-1000:])
    finally:
        worker.stop()
    if worker.p.returncode not in (0, -15) or "error" in "\n".join(worker.err):
        fail("worker with %s: %s" % (auth, worker.text()))


def case_auth(_js):
    pw, token = "pw-Zq8sK2-secret", "tok-Lm3x9QvY-secret"
    pwfile = write(os.path.join(WORK, "pw"), pw + "\n", 0o600)
    badpw = write(os.path.join(WORK, "badpw"), "wrong-Xy7-secret\n", 0o600)
    tokfile = write(os.path.join(WORK, "token"), token + "\n", 0o600)
    secrets = (pw, token, "wrong-Xy7-secret")
    # user and password, with JetStream (the research commands)
    srv = nats_plain.Server(WORK, "userpw", js=True, conf="""authorization {
  users = [ {user: alice, password: "%s"} ]
}
""" % pw)
    try:
        user = ["--nats-user", "alice", "--nats-password-file", pwfile]
        must(publish(srv.url, user), "publish --nats-user", secrets)
        env = dict(os.environ, TICKTAPE_NATS_PASSWORD=pw)
        must(publish(srv.url, ["--nats-user", "alice"], env=env), "TICKTAPE_NATS_PASSWORD",
             secrets)
        refused(publish(srv.url, []), "publish without credentials", secrets)
        refused(publish(srv.url, ["--nats-user", "alice", "--nats-password-file", badpw]),
                "a wrong password", secrets)
        url = srv.url.replace("nats://", "nats://alice:%s@" % pw)
        must(publish(url, []), "credentials in the URL", secrets)
        r = publish(srv.url, ["--nats-user", "alice", "--nats-password", pw])
        if r.returncode != 2 or pw in r.stderr:
            fail("--nats-password on the command line: exit %d %s" % (r.returncode, r.stderr))
        must(paper(srv.url, user), "paper --nats-user", secrets)
        refused(paper(srv.url, []), "paper without credentials", secrets)
        research(srv, user)
        research(srv, ["--nats-user", "alice"], env=env)
    finally:
        srv.stop()
    # a token
    srv = nats_plain.Server(WORK, "token", conf='authorization { token: "%s" }\n' % token)
    try:
        must(publish(srv.url, ["--nats-token-file", tokfile]), "publish --nats-token-file",
             secrets)
        refused(publish(srv.url, []), "publish without the token", secrets)
        must(paper(srv.url, ["--nats-token-file", tokfile]), "paper --nats-token-file", secrets)
    finally:
        srv.stop()
    # an NKey
    seed, pub, _ = nats_plain.nkey("user")
    seedfile = write(os.path.join(WORK, "user.nk"), seed + "\n", 0o600)
    srv = nats_plain.Server(WORK, "nkey", conf="authorization { users = [ {nkey: %s} ] }\n"
                            % pub)
    try:
        must(publish(srv.url, ["--nats-nkey-file", seedfile]), "publish --nats-nkey-file",
             (seed,))
        refused(publish(srv.url, []), "publish without the NKey", (seed,))
        other = write(os.path.join(WORK, "other.nk"), nats_plain.nkey("user")[0] + "\n", 0o600)
        refused(publish(srv.url, ["--nats-nkey-file", other]), "another NKey", (seed,))
        must(paper(srv.url, ["--nats-nkey-file", seedfile]), "paper --nats-nkey-file", (seed,))
    finally:
        srv.stop()
    # a JWT .creds file (operator mode)
    conf, creds = nats_plain.operator_setup(WORK)
    srv = nats_plain.Server(WORK, "creds", conf=conf)
    try:
        must(publish(srv.url, ["--nats-creds", creds]), "publish --nats-creds")
        refused(publish(srv.url, []), "publish without creds")
        must(paper(srv.url, ["--nats-creds", creds]), "paper --nats-creds")
    finally:
        srv.stop()


def case_tls(_js):
    f = nats_plain.tls_files(WORK)
    srv = nats_plain.Server(WORK, "tls", js=True, conf="""tls {
  cert_file: "%s"
  key_file: "%s"
  ca_file: "%s"
  verify: true
  timeout: 5
}
""" % (f["server.pem"], f["server.key"], f["ca.pem"]))
    try:
        tls = ["--nats-tls-ca", f["ca.pem"], "--nats-tls-cert", f["client.pem"],
               "--nats-tls-key", f["client.key"]]
        must(publish(srv.url, tls), "publish over TLS")
        refused(publish(srv.url, []), "publish without TLS")
        refused(publish(srv.url, ["--nats-tls-ca", f["ca.pem"]]), "TLS without a client cert")
        refused(publish(srv.url, ["--nats-tls-ca", f["other.pem"], "--nats-tls-cert",
                                  f["client.pem"], "--nats-tls-key", f["client.key"]]),
                "a server certificate from an untrusted CA")
        r = publish(srv.url, ["--nats-tls-cert", f["client.pem"]])
        if r.returncode != 2:
            fail("--nats-tls-cert without its key: exit %d" % r.returncode)
        must(paper(srv.url, tls), "paper over TLS")
        research(srv, tls)
        # the bytes on the wire are not plain NATS: a plain client is refused
        try:
            c = nats_plain.Client(srv.port, timeout=3)
            c.pub("ticks.EURUSD", b"x")
            c.flush()
            fail("a plain-text client was served")
        except (RuntimeError, PermissionError, ConnectionError, OSError):
            pass
    finally:
        srv.stop()


def publish_across_restart(srv, extra, n=6000, rate=3000):
    p = subprocess.Popen([BIN, "publish", TAPE, "--nats", srv.url, "--rate", str(rate),
                          "--limit", str(n), "--json"] + extra,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(0.8)
    srv.restart(down=0.3)
    out, err = p.communicate(timeout=120)
    return p.returncode, json.loads(out.strip().splitlines()[-1]), err


def case_publish(_js):
    srv = nats_plain.Server(WORK, "core")
    try:
        rc, s, err = publish_across_restart(srv, [])
        if rc != 3 or s["disconnects"] < 1 or s["at_risk"] + s["refused"] < 1:
            fail("core NATS across a restart: exit %d %s\n%s" % (rc, s, err))
        if "may have been lost" not in err or "disconnected after" not in err:
            fail("core NATS: the disconnect and the risk are not reported:\n" + err)
    finally:
        srv.stop()
    srv = nats_plain.Server(WORK, "js", js=True)
    try:
        rc, s, err = publish_across_restart(srv, ["--jetstream", "TICKS"])
        c = nats_plain.Client(srv.port)
        info = json.loads(c.request("$JS.API.STREAM.INFO.TICKS", b"", timeout=5))
        c.close()
        stored = info["state"]["messages"]
        if s["delivered"] != stored or s["published"] != 6000:
            fail("--jetstream: reported %s, the stream holds %d" % (s, stored))
        if (rc == 0) != (stored == 6000) or s["undelivered"] != 6000 - stored:
            fail("--jetstream: exit %d for %d of 6000 stored: %s\n%s" % (rc, stored, s, err))
        if s["disconnects"] < 1:
            fail("--jetstream: the restart was not seen: %s" % s)
        print("jetstream across a restart: %d of 6000 stored, exit %d" % (stored, rc))
    finally:
        srv.stop()


def case_wire(_js):
    srv = nats_plain.Server(WORK, "wire")
    scen = write(os.path.join(WORK, "paper.yaml"), PAPER.format(tape=TAPE))
    sess = Proc(["paper", scen, "--nats", srv.url, "--no-reports", "--status-every", "0.1",
                 "--json-ticks"])
    try:
        end = time.time() + 20
        while "listening on" not in sess.text() and time.time() < end:
            time.sleep(0.05)
        time.sleep(0.3)
        now_ms = int(time.time() * 1000)
        t = nats_plain.tickdata
        bad = [("ticks.GBPUSD", t("EURUSD", 1.14427, 1.14430), "does not name"),
               ("ticks.EURUSD", t("EURUSD", 1.14430, 1.14427), "crossed"),
               ("ticks.EURUSD", t("EURUSD", 1.1, 1.2, volume=-5), "volume"),
               ("ticks.EURUSD", b'{"symbol":"EURUSD","bid":1.1,"ask":1.2,"volume":1e300}',
                "volume"),
               ("ticks.EURUSD", t("EURUSD", 1.14427e6, 1.14430e6), "range"),
               ("bars.EURUSD.1m", nats_plain.bar(114000, 9200000000000000000, 113900, 114050),
                "range"),
               ("bars.EURUSD.1m", nats_plain.bar(114000, 114100, 114010, 114050), "low"),
               ("ticks.EURUSD", t("EURUSD", 1.1, 1.2, ts_ms=now_ms + 3600 * 1000), "future"),
               ("ticks.EUR\x1b[2JUSD", t("EURUSD", 1.1, 1.2), "\\x1b")]
        c = nats_plain.Client(srv.port)
        for subj, payload, _ in bad:
            c.pub(subj, payload)
        c.pub("ticks.EURUSD", t("EURUSD", 1.14427, 1.14430))  # a good one
        c.flush()
        c.close()
        time.sleep(0.8)
        sess.p.send_signal(2)
        if sess.wait(60) != 0:
            fail("paper: " + sess.text())
        text = sess.text()
        m = re.search(r"inputs (\d+) \(arrived (\d+), dropped \d+, rejected (\d+)", text)
        if not m or int(m.group(3)) != len(bad) or int(m.group(2)) != 1:
            fail("expected %d rejected and 1 arrived:\n%s" % (len(bad), text))
        for subj, _, why in bad:
            shown = subj.replace("\x1b", "\\x1b")
            if not any(shown in l and why in l for l in text.splitlines()):
                fail("no log line names %r with %r:\n%s" % (shown, why, text))
        if "\x1b" in text:
            fail("a control character reached the log")
    finally:
        sess.stop()
        srv.stop()


def rss_kb(pid, field="VmRSS"):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def case_flood(_js):
    srv = nats_plain.Server(WORK, "flood", conf="max_payload: 4MB\n")
    scen = write(os.path.join(WORK, "paper.yaml"), PAPER.format(tape=TAPE))
    journal = os.path.join(WORK, "journal")
    sess = Proc(["paper", scen, "--nats", srv.url, "--no-reports", "--status-every", "0.2",
                 "--journal", journal, "--queue-bytes", "64M", "--allow-drops"])
    budget_kb = 64 * 1024
    try:
        end = time.time() + 20
        while "listening on" not in sess.text() and time.time() < end:
            time.sleep(0.05)
        time.sleep(0.3)
        base = rss_kb(sess.p.pid)
        peak = [base]
        stop = [False]

        def watch():
            while not stop[0]:
                peak[0] = max(peak[0], rss_kb(sess.p.pid))
                time.sleep(0.01)
        th = threading.Thread(target=watch, daemon=True)
        th.start()
        c = nats_plain.Client(srv.port)
        big = b'{"value":1,"pad":"' + b"0" * (2 * 1048576) + b'"}'
        c.pub("market.external.economic_calendar", big)  # 2 MiB: refused, not cut
        one = b'{"value":2,"pad":"' + b"0" * (1048576 - 40) + b'"}'
        for _ in range(6000):
            c.pub("market.external.economic_calendar", one)
        c.flush()
        c.close()
        time.sleep(1.0)
        stop[0] = True
        th.join()
        hwm = rss_kb(sess.p.pid, "VmHWM")
        sess.p.send_signal(2)
        if sess.wait(120) != 0:
            fail("paper: " + sess.text())
        text = sess.text()
        grow = max(peak[0], hwm) - base
        print("flood: base RSS %d kB, peak growth %d kB (budget %d kB)" % (base, grow, budget_kb))
        if grow > budget_kb and not os.environ.get("TT_SANITIZED"):
            fail("RSS grew by %d kB with a %d kB budget:\n%s" % (grow, budget_kb, text[-2000:]))
        m = re.search(r"inputs (\d+) \(arrived (\d+), dropped (\d+), rejected (\d+), gaps \d+, "
                      r"dropped by nats.c (\d+)\)", text)
        if not m:
            fail("no counters: " + text[-2000:])
        inputs, arrived, dropped, rejected, nats_dropped = map(int, m.groups())
        if rejected != 1 or "over the" not in text:
            fail("the 2 MiB payload was not refused and logged: %s" % m.group(0))
        if arrived + nats_dropped != 6000 or inputs != arrived - dropped + 1:
            fail("messages unaccounted for: %s" % m.group(0))
        print("flood:", m.group(0))
    finally:
        sess.stop()
        srv.stop()


def case_shell(js):
    bad = []
    for d in ("core", "data", "sim", "live", "reports", "cli", "bench", "tests/live"):
        for dirpath, _, files in os.walk(os.path.join(SRC, d)):
            for f in files:
                if not f.endswith((".c", ".h")):
                    continue
                path = os.path.join(dirpath, f)
                with open(path, errors="replace") as fh:
                    for n, line in enumerate(fh, 1):
                        code = line.split("//")[0]
                        if re.search(r"\b(system|popen)\s*\(", code) and \
                                not code.lstrip().startswith("*"):
                            bad.append("%s:%d: %s" % (os.path.relpath(path, SRC), n,
                                                      line.strip()))
    if bad:
        fail("a shell is run on a built string:\n" + "\n".join(bad))
    # The audit's TMPDIR injection: the bench's temporary folder removal.
    evil = os.path.join(WORK, "t';touch PWNED;'")
    os.makedirs(evil)
    r = subprocess.run([BIN, "bench", "replay", "--ticks", "10000", "--repeat", "1"], cwd=WORK,
                       env=dict(os.environ, TMPDIR=evil), capture_output=True, text=True,
                       timeout=120)
    if r.returncode != 0:
        fail("bench replay: %d %s" % (r.returncode, r.stderr))
    if os.path.exists(os.path.join(WORK, "PWNED")):
        fail("TMPDIR ran a shell command")
    if os.listdir(evil):
        fail("bench replay left its temporary folder: %s" % os.listdir(evil))
    # A run id from a subject goes into status JSON: a subject that is not a
    # run id (a quote, a control byte) is refused before anything is sent.
    scen = os.path.join(WORK, "none")
    os.makedirs(scen)
    worker = Proc(["worker", "--nats", js.url, "--scenarios", scen])
    c = nats_plain.Client(js.port)
    try:
        c.sub("backtest.started.>")
        c.sub("backtest.completed.>")
        wait_streams(c)
        c.pub('backtest.jobs.a"b\x07c', b"{}")
        c.flush()
        m = c.next(3)
        if m is not None:
            fail("a subject that is not a run id was answered: %r" % (m,))
        end = time.time() + 5
        while "refused job message" not in worker.text() and time.time() < end:
            time.sleep(0.05)
        line = [l for l in worker.err if "refused job message" in l]
        if not line or "\x07" in line[0] or "\\x07" not in line[0]:
            fail("the refusal is not logged, escaped: %r" % worker.err)
    finally:
        c.close()
        worker.stop()


def scan_files(root, secret):
    """Files under root whose bytes hold secret."""
    bad = []
    for d, _, files in os.walk(root):
        for f in files:
            p = os.path.join(d, f)
            try:
                with open(p, "rb") as fh:
                    if secret.encode() in fh.read():
                        bad.append(p)
            except OSError:
                pass
    return bad


def case_redact(_js):
    pw = "Sekr1t-Redact-42"
    srv = nats_plain.Server(WORK, "redact", js=True, conf="""authorization {
  users = [ {user: bob, password: "%s"} ]
}
""" % pw)
    url = srv.url.replace("nats://", "nats://bob:%s@" % pw)
    try:
        scen = write(os.path.join(WORK, "paper.yaml"), PAPER.format(tape=TAPE))
        journal, out = os.path.join(WORK, "journal"), os.path.join(WORK, "out")
        sess = Proc(["paper", scen, "--nats", url, "--journal", journal, "--out", out, "--json",
                     "--status-every", "0.2"])
        end = time.time() + 20
        while "listening on" not in sess.text() and time.time() < end:
            time.sleep(0.05)
        must(publish(url, [], limit=2000), "publish with credentials in the URL", (pw,))
        srv.restart()  # the session logs a disconnect and a reconnect
        end = time.time() + 20
        while "reconnected" not in sess.text() and time.time() < end:
            time.sleep(0.05)
        if "reconnected" not in sess.text():
            fail("the session never reconnected:\n" + sess.text())
        must(publish(url, [], limit=500), "publish after the restart", (pw,))
        time.sleep(0.5)
        sess.p.send_signal(2)
        if sess.wait(60) != 0:
            fail("paper: " + sess.text())
        if pw in sess.text():
            fail("paper printed the password:\n" + sess.text())
        if "bob:***@" not in sess.text():
            fail("paper does not show the redacted URL:\n" + sess.text())
        leaks = scan_files(WORK, pw)
        leaks = [p for p in leaks if not p.endswith(".conf")]
        if leaks:
            fail("files hold the password: %s" % leaks)
        # research commands, a refused connection
        scen2 = os.path.join(WORK, "scen")
        os.makedirs(scen2)
        path = write(os.path.join(scen2, "r.yaml"), SCENARIO.format(
            name="r", strategy="sma_cross", params="{tf: M5, fast: 10, slow: 30, qty: 1}",
            axes=WF_AXES))
        worker = Proc(["worker", "--nats", url, "--scenarios", scen2])
        try:
            r = must(run(["sweep", path, "--nats", url, "--timeout", "60s", "--no-reports"],
                         cwd=WORK), "sweep", (pw,))
            if "bob:***@" not in r.stdout:
                fail("sweep does not show the redacted URL: " + r.stdout)
            must(run(["walkforward", path, "--nats", url, "--timeout", "60s", "--no-reports"],
                     cwd=WORK), "walkforward", (pw,))
        finally:
            worker.stop()
        if pw in worker.text():
            fail("the worker printed the password")
        wrong = srv.url.replace("nats://", "nats://bob:Wr0ng-%s@" % pw)
        for args in (["publish", TAPE, "--nats", wrong, "--limit", "1"],
                     ["sweep", path, "--nats", wrong, "--timeout", "5s"],
                     ["worker", "--nats", wrong, "--idle-exit", "1s"],
                     ["paper", scen, "--nats", wrong, "--duration", "1"]):
            r = run(args, cwd=WORK, timeout=60)
            if r.returncode == 0 or pw in r.stdout + r.stderr:
                fail("%s with a wrong password: exit %d\n%s" % (args[0], r.returncode,
                                                                  r.stderr))
            if "bob:***@" not in r.stderr:
                fail("%s: the error does not name the redacted URL: %s" % (args[0], r.stderr))
    finally:
        srv.stop()


def main():
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(WORK)
    if not shutil.which("nats-server"):
        print("SKIP: nats-server not installed")
        sys.exit(77)
    server = nats_plain.Server(WORK, "js", js=True)
    try:
        {"jobs": case_jobs, "deadline": case_deadline, "signing": case_signing,
         "auth": case_auth, "tls": case_tls, "redact": case_redact,
         "publish": case_publish, "wire": case_wire, "flood": case_flood,
         "shell": case_shell}[CASE](server)
    finally:
        server.stop()
    shutil.rmtree(WORK, ignore_errors=True)
    print("ok " + CASE)


main()
