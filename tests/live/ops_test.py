#!/usr/bin/env python3
"""Operating a session, end to end: the status server, the dashboard, notifications,
security and the kill switch (docs/operations.md), through the `ticktape` binary.

usage: ops_test.py CASE TICKTAPE SOURCE_DIR WORK_DIR PLUGIN

Every case starts nats-server on 127.0.0.1 and a free port and a `paper` session
(the example tick-momentum plugin, equity sampled every second) with
`--http 127.0.0.1:0`, then publishes the real EURUSD sample tape. Cases:

  state      /health, /api/state, /api/events (SSE: fills and equity points
             arrive while ticks are published), /metrics checked by a strict
             parser of the Prometheus text format 0.0.4 written here from the
             format's specification; the numbers agree with each other and with
             the session's own summary line.
  dashboard  headless Chromium loads / while the session trades: the DOM shows
             the session's inputs, fills, equity and the events it received;
             with --screenshot DIR also writes a PNG there (docs/dashboard.png).
  security   a non-loopback --http without a token, a token file others may
             read, a short token, half a TLS pair: refused as usage errors. With
             a token: 401 without it or with a wrong one, /health open, the
             token nowhere in pages, metrics or logs. TLS: HTTPS with a
             certificate made by openssl, plain HTTP refused.
  kill       POST /api/kill (authorized) mid-session; later orders are refused by
             the risk gate; `replay` of the journal gives the same fingerprint
             and the same refusals. The same through NATS control.kill_switch.
  notify     a rules file routing fills to a generic webhook, alerts and the kill
             switch to a Slack-shaped webhook and to email; local HTTP and SMTP
             servers (started here) receive them; a route whose server answers
             500 is retried and counted as failed in /metrics and /health.
"""
import http.client
import http.server
import json
import math
import os
import re
import shutil
import signal
import socket
import socketserver
import ssl
import stat
import subprocess
import sys
import threading
import time

CASE, TT, SRC, WORK, PLUGIN = sys.argv[1:6]
EXTRA = sys.argv[6:]
WORK = os.path.join(WORK, CASE)
shutil.rmtree(WORK, ignore_errors=True)
os.makedirs(WORK)
TAPE = os.path.join(SRC, "scenarios/data/eurusd-2019-02")
PROCS = []


def fail(msg):
    print("FAIL:", msg)
    for p in PROCS:
        if p.poll() is None:
            p.kill()
    sys.exit(1)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def read(name):
    try:
        with open(os.path.join(WORK, name)) as f:
            return f.read()
    except FileNotFoundError:
        return ""


def wait_for(cond, what, timeout=30):
    end = time.time() + timeout
    while time.time() < end:
        v = cond()
        if v:
            return v
        time.sleep(0.02)
    fail("timed out waiting for " + what)


def start_nats(*extra):
    """nats-server on a free port. The port may be taken between choosing and binding
    (other tests start servers too): only a server that answers with NATS's INFO line
    is ours; otherwise try another port."""
    for _ in range(5):
        port = free_port()
        p = subprocess.Popen(["nats-server", "-a", "127.0.0.1", "-p", str(port)] + list(extra),
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        PROCS.append(p)
        for _ in range(500):
            if p.poll() is not None:
                break
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as c:
                    if c.recv(4).startswith(b"INFO"):
                        return p, port
            except OSError:
                pass
            time.sleep(0.01)
        if p.poll() is None:
            p.kill()
            p.wait()
    fail("nats-server did not start")


def scenario(extra=""):
    path = os.path.join(WORK, "ops.yaml")
    with open(path, "w") as f:
        f.write(f"""name: ops
seed: 7
data:
  tape: {TAPE}
  symbols: [EURUSD]
account: {{currency: USD, balance: 10000, leverage: 100}}
venue:
  latency_ms: 2
  commission: {{per_lot: 7}}
strategy:
  name: {PLUGIN}
  params: {{n: 20, move: 4, qty: 1, sl: 6}}
metrics: {{equity_interval: S1}}
{extra}""")
    return path


def start_paper(nport, scen, extra=(), journal=True, name="paper"):
    args = [TT, "paper", scen, "--nats", f"nats://127.0.0.1:{nport}", "--queue", "1000000",
            "--out", os.path.join(WORK, name + "-out"), "--json", "--http", "127.0.0.1:0",
            "--status-every", "0.2", "--orders", os.path.join(WORK, name + "-orders.csv")]
    if journal:
        args += ["--journal", os.path.join(WORK, name + "-journal")]
    out = open(os.path.join(WORK, name + ".out"), "w")
    err = open(os.path.join(WORK, name + ".err"), "w")
    p = subprocess.Popen(args + list(extra), stdout=out, stderr=err)
    PROCS.append(p)
    m = wait_for(lambda: re.search(r"status server on (https?)://127\.0\.0\.1:(\d+)/",
                                   read(name + ".err")) or (p.poll() is not None and
                                                             fail(read(name + ".err"))),
                 "the status server")
    wait_for(lambda: "listening on" in read(name + ".err"), "paper to listen")
    return p, int(m.group(2))


def publish(nport, *extra, rate="50000"):
    """Ticks at `rate` per second: spread over wall time, so that the strategy (which
    waits for each order's answer) trades several times and equity points (every
    second of wall time) come out."""
    r = subprocess.run([TT, "publish", TAPE, "--nats", f"nats://127.0.0.1:{nport}", "--json",
                        "--rate", rate] + list(extra), capture_output=True, text=True,
                       timeout=120)
    if r.returncode != 0:
        fail("publish: " + r.stderr)
    return json.loads(r.stdout.strip().splitlines()[-1])["published"]


def get(port, path, token=None, method="GET", tls=None):
    if tls:
        c = http.client.HTTPSConnection("127.0.0.1", port, timeout=10, context=tls)
    else:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    h = {"Authorization": "Bearer " + token} if token else {}
    c.request(method, path, headers=h)
    r = c.getresponse()
    body = r.read().decode()
    c.close()
    return r.status, r.getheader("Content-Type"), body


def settled(port, name="paper", token=None, quiet=1.0, timeout=60):
    """Until the inbox is empty and the input count has not moved for `quiet` s."""
    end, last, since = time.time() + timeout, None, time.time()
    while time.time() < end:
        h = json.loads(get(port, "/health", token)[2])
        st = (h["inputs"], h["queues"][0]["depth"])
        if st != last:
            last, since = st, time.time()
        elif st[1] == 0 and time.time() - since > quiet:
            return h
        time.sleep(0.1)
    fail("the session did not settle")


def finish(p, name="paper"):
    p.send_signal(signal.SIGINT)
    rc = p.wait(timeout=60)
    if rc != 0:
        fail(f"{name} exited {rc}: {read(name + '.err')}")
    return json.loads(read(name + ".out").strip().splitlines()[-1])


class SSE(threading.Thread):
    """Reads /api/events into a list of (event, data) on its own thread."""

    def __init__(self, port, token=None):
        super().__init__(daemon=True)
        self.events, self.port, self.token = [], port, token
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        auth = f"Authorization: Bearer {token}\r\n" if token else ""
        self.sock.sendall(f"GET /api/events HTTP/1.1\r\nHost: x\r\n{auth}\r\n".encode())
        self.start()

    def run(self):
        buf = b""
        try:
            while True:
                d = self.sock.recv(65536)
                if not d:
                    return
                buf += d
                while b"\n\n" in buf:
                    block, buf = buf.split(b"\n\n", 1)
                    ev = dict(l.split(": ", 1) for l in block.decode().split("\n")
                              if ": " in l and not l.startswith(":"))
                    if "event" in ev:
                        self.events.append((ev["event"], json.loads(ev["data"])))
        except OSError:
            return

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


# ---- a strict parser of the Prometheus text exposition format 0.0.4 ----

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r"[a-zA-Z_][a-zA-Z0-9_]*"


def parse_value(s, line):
    if s in ("+Inf", "Inf"):
        return math.inf
    if s == "-Inf":
        return -math.inf
    if s == "NaN":
        return math.nan
    if not re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", s):
        fail(f"metrics: bad value {s!r} in {line!r}")
    return float(s)


def parse_labels(s, line):
    """The text between { and }: name="value" pairs, escapes \\\\ \\" \\n only."""
    labels, i = {}, 0
    while i < len(s):
        m = re.match(LABEL + "=\"", s[i:])
        if not m:
            fail(f"metrics: bad label at {s[i:]!r} in {line!r}")
        name = m.group(0)[:-2]
        i += len(m.group(0))
        val = ""
        while True:
            if i >= len(s):
                fail(f"metrics: unterminated label value in {line!r}")
            c = s[i]
            if c == "\\":
                nxt = s[i + 1:i + 2]
                if nxt not in ("\\", "\"", "n"):
                    fail(f"metrics: bad escape \\{nxt} in {line!r}")
                val += {"\\": "\\", "\"": "\"", "n": "\n"}[nxt]
                i += 2
            elif c == "\"":
                i += 1
                break
            elif c == "\n":
                fail(f"metrics: raw newline in a label value in {line!r}")
            else:
                val += c
                i += 1
        if name in labels:
            fail(f"metrics: label {name} twice in {line!r}")
        labels[name] = val
        if i < len(s):
            if s[i] != ",":
                fail(f"metrics: expected ',' in {line!r}")
            i += 1
    return labels


def family_of(name, types):
    for suf in ("_bucket", "_sum", "_count"):
        if name.endswith(suf) and types.get(name[:-len(suf)]) in ("histogram", "summary"):
            return name[:-len(suf)]
    return name


def parse_metrics(text):
    """{family: {"type", "help", "samples": [(name, labels, value)]}}; fails on any
    departure from the format or the conventions this project keeps."""
    if not text.endswith("\n"):
        fail("metrics: the text must end with a newline")
    fams, types, seen, closed, current = {}, {}, set(), set(), None
    for line in text.split("\n")[:-1]:
        if line == "":
            continue
        if line.startswith("#"):
            m = re.fullmatch(r"# (HELP|TYPE) (" + NAME + r") (.*)", line)
            if not m:
                if re.match(r"# (HELP|TYPE) ", line):
                    fail(f"metrics: bad {line!r}")
                continue  # a plain comment
            kind, name, rest = m.groups()
            f = fams.setdefault(name, {"type": None, "help": None, "samples": []})
            if f["samples"]:
                fail(f"metrics: {kind} of {name} after its samples")
            if kind == "TYPE":
                if rest not in ("counter", "gauge", "histogram", "summary", "untyped"):
                    fail(f"metrics: unknown type {rest!r}")
                if f["type"]:
                    fail(f"metrics: two TYPE lines for {name}")
                f["type"] = types[name] = rest
            else:
                if f["help"] is not None:
                    fail(f"metrics: two HELP lines for {name}")
                if re.search(r"\\[^\\n]", rest):
                    fail(f"metrics: bad escape in HELP {line!r}")
                f["help"] = rest
            if current and current != name:
                closed.add(current)
            current = name
            continue
        m = re.fullmatch(r"(" + NAME + r")(\{(.*)\})? (\S+)( -?\d+)?", line)
        if not m:
            fail(f"metrics: bad sample line {line!r}")
        name, labels = m.group(1), parse_labels(m.group(3) or "", line)
        value = parse_value(m.group(4), line)
        fam = family_of(name, types)
        if fam in closed:
            fail(f"metrics: samples of {fam} are not grouped together")
        if current and current != fam:
            closed.add(current)
        current = fam
        key = (name, tuple(sorted(labels.items())))
        if key in seen:
            fail(f"metrics: duplicate series {line!r}")
        seen.add(key)
        fams.setdefault(fam, {"type": None, "help": None, "samples": []})["samples"].append(
            (name, labels, value))
    for name, f in fams.items():
        if not name.startswith("ticktape_"):
            fail(f"metrics: {name} lacks the ticktape_ prefix")
        if not f["type"] or f["help"] is None:
            fail(f"metrics: {name} has no TYPE or HELP")
        if f["type"] == "counter":
            if not name.endswith("_total"):
                fail(f"metrics: counter {name} does not end in _total")
            for _, _, v in f["samples"]:
                if v < 0 or math.isnan(v):
                    fail(f"metrics: counter {name} = {v}")
        if f["type"] == "histogram":
            check_histogram(name, f["samples"])
    return fams


def check_histogram(name, samples):
    buckets = [(s[1], s[2]) for s in samples if s[0] == name + "_bucket"]
    count = [s[2] for s in samples if s[0] == name + "_count"]
    total = [s[2] for s in samples if s[0] == name + "_sum"]
    if not buckets or len(count) != 1 or len(total) != 1:
        fail(f"metrics: histogram {name} needs buckets, one _sum and one _count")
    les = [parse_value(l["le"], name) for l, _ in buckets]
    if les != sorted(les) or les[-1] != math.inf:
        fail(f"metrics: {name} buckets not sorted or no +Inf: {les}")
    vals = [v for _, v in buckets]
    if any(b < a for a, b in zip(vals, vals[1:])):
        fail(f"metrics: {name} buckets not cumulative: {vals}")
    if vals[-1] != count[0]:
        fail(f"metrics: {name} +Inf bucket {vals[-1]} != _count {count[0]}")


def value(fams, name, **labels):
    types = {k: f["type"] for k, f in fams.items()}
    for n, l, v in fams.get(family_of(name, types), {"samples": []})["samples"]:
        if n == name and all(l.get(k) == x for k, x in labels.items()):
            return v
    fail(f"metrics: no {name} {labels}")


def self_test_parser():
    """The parser must refuse what the format forbids (it would pass anything otherwise)."""
    good = ("# HELP ticktape_x_total x\n# TYPE ticktape_x_total counter\n"
            "ticktape_x_total{a=\"q\\\"\\\\\\n\"} 1\n")
    parse_metrics(good)
    bad = [good[:-1], good.replace("counter", "countr"), good.replace("1\n", "one\n"),
           good.replace("ticktape_x_total{", "ticktape_x_total{1a"),
           good + "ticktape_x_total{a=\"q\\\"\\\\\\n\"} 2\n",
           good.replace("_total", "_sum").replace("counter", "counter"),
           good.replace("\\\\\\n", "\\t")]
    for b in bad:
        pid = os.fork()
        if pid == 0:
            sys.stdout = open(os.devnull, "w")
            parse_metrics(b)
            os._exit(0)
        _, st = os.waitpid(pid, 0)
        if os.WEXITSTATUS(st) == 0:
            fail(f"the metrics parser accepted {b!r}")


# ---- cases ----

def case_state():
    self_test_parser()
    nats, nport = start_nats()
    p, port = start_paper(nport, scenario())
    sse = SSE(port)
    time.sleep(0.2)
    code, ctype, body = get(port, "/health")
    h = json.loads(body)
    if code != 200 or h["status"] != "ok" or h["mode"] != "paper" or "version" not in h:
        fail(f"/health: {code} {body}")
    if ctype != "application/json" or not h["connections"][0]["up"]:
        fail(f"/health: {ctype} {body}")
    n = publish(nport, "--limit", "150000")
    h = settled(port)
    code, ctype, body = get(port, "/api/state")
    st = json.loads(body)
    code, ctype, text = get(port, "/metrics")
    if code != 200 or not ctype.startswith("text/plain; version=0.0.4"):
        fail(f"/metrics: {code} {ctype}")
    fams = parse_metrics(text)
    if get(port, "/nope")[0] != 404 or get(port, "/api/kill", method="PUT")[0] != 405:
        fail("unknown paths and methods")
    fills = st["counts"]["fills"]
    wait_for(lambda: sum(1 for e, _ in sse.events if e == "fill") >= fills, "the fills on /api/events")
    sse.close()
    summary = finish(p)
    print(f"published {n}; state: inputs {st['counts']['inputs']}, orders {st['counts']['orders']}, "
          f"fills {fills}, equity points {len(st['equity_curve'])}; sse events {len(sse.events)}")
    if fills < 2 or st["counts"]["orders"] < 2:
        fail("too few orders to prove anything")
    # the numbers agree with each other ...
    if value(fams, "ticktape_fills_total") != fills:
        fail("fills: /metrics and /api/state differ")
    if value(fams, "ticktape_inputs_total", kind="quote") != st["counts"]["inputs"]:
        fail("inputs: /metrics and /api/state differ")
    if value(fams, "ticktape_source_inputs_total", source="feed") != h["sources"][0]["inputs"]:
        fail("source inputs: /metrics and /health differ")
    if value(fams, "ticktape_tick_to_trade_seconds_count") != st["counts"]["orders"]:
        fail("tick-to-trade: one observation per order command")
    lat = value(fams, "ticktape_tick_to_trade_seconds_sum") / st["counts"]["orders"]
    if not 0 <= lat < 5:
        fail(f"tick-to-trade mean {lat} s")
    if abs(value(fams, "ticktape_account_equity", currency="USD") - st["account"]["equity"]) > 0.01:
        fail("equity: /metrics and /api/state differ")
    # ... with the event stream ...
    sse_fills = [d for e, d in sse.events if e == "fill"]
    eq = [d for e, d in sse.events if e == "equity"]
    if len(sse_fills) != fills or not eq:
        fail(f"sse: {len(sse_fills)} fills (state {fills}), {len(eq)} equity points")
    if abs(eq[-1]["equity"] - st["account"]["equity"]) > 0.01:
        fail("sse: the last equity point is not the state's")
    # ... and with the session's own summary (fills counted by the run itself)
    if summary["fills"] != fills:
        fail(f"summary fills {summary['fills']} != state {fills}")
    net = sum(pos["lots"] for pos in st["positions"])  # signed: short is negative
    if abs(value(fams, "ticktape_position_lots", symbol="EURUSD") - net) > 1e-9:
        fail(f"positions: /metrics {value(fams, 'ticktape_position_lots', symbol='EURUSD')} and /api/state {st['positions']} differ")
    nats.terminate()
    print("ok")


def case_dashboard():
    nats, nport = start_nats()
    p, port = start_paper(nport, scenario())
    chrome_dir = os.path.join(WORK, "chromium")
    flags = ["chromium", "--headless", "--no-sandbox", "--disable-gpu",
             "--disable-background-networking", "--user-data-dir=" + chrome_dir]
    # The session trades, then Chromium loads the page (the event stream first
    # replays what the server still holds) while more ticks are published.
    publish(nport, "--limit", "80000")
    before = json.loads(get(port, "/api/state")[2])
    dom_file = os.path.join(WORK, "dom.html")
    more = threading.Thread(target=publish, args=(nport, "--from", "2019-02-04T12:00:00",
                                                  "--limit", "40000"))
    with open(dom_file, "w") as out:
        c = subprocess.Popen(flags + ["--virtual-time-budget=5000", "--dump-dom",
                                      f"http://127.0.0.1:{port}/"],
                             stdout=out, stderr=subprocess.DEVNULL)
        PROCS.append(c)
        more.start()
        if c.wait(timeout=90) != 0:
            fail("chromium failed")
        more.join()
    st = before
    dom = read("dom.html")

    def el(i):
        m = re.search(r'id="' + i + r'"[^>]*>([^<]*)<', dom)
        return m.group(1) if m else fail(f"dashboard: no #{i} in the DOM: {dom[:400]}")

    print(f"dashboard: inputs {el('inputs')}, fills {el('fills')}, equity {el('equity')}, "
          f"events {el('events-count')}; state: fills {st['counts']['fills']}")
    if int(el("inputs")) <= 0 or el("mode") != "paper" or el("status") != "ok":
        fail("dashboard: the session's numbers are not shown")
    if int(el("inputs")) < before["counts"]["inputs"] or int(el("fills")) < before["counts"]["fills"]:
        fail("dashboard: fewer inputs or fills than the session had when it was loaded")
    recent = re.search(r'id="recent".*?<tbody>(.*?)</tbody>', dom, re.S).group(1)
    if int(el("events-count")) <= 0 or recent.count("<tr>") < 1 or "EURUSD" not in recent:
        fail("dashboard: no events from /api/events reached the page")
    if not el("equity").replace(".", "").isdigit():
        fail("dashboard: no equity")
    if 'points="' not in dom or re.search(r'id="curve-equity"[^>]*points=""', dom):
        fail("dashboard: no equity curve")
    if re.search(r"(src|href)=\"https?://", dom):
        fail("dashboard: fetches something from outside")
    if EXTRA[:1] == ["--screenshot"]:
        png = os.path.join(EXTRA[1], "dashboard.png")
        r = subprocess.run(flags + ["--virtual-time-budget=3000", "--window-size=1200,900",
                                    "--screenshot=" + png, f"http://127.0.0.1:{port}/"],
                           capture_output=True, timeout=90)
        print("screenshot", png, r.returncode)
    finish(p)
    nats.terminate()
    print("ok")


def token_file(name, text, mode=0o600):
    path = os.path.join(WORK, name)
    with open(path, "w") as f:
        f.write(text + "\n")
    os.chmod(path, mode)
    return path


def refused(args, want):
    r = subprocess.run([TT, "paper", scenario(), "--nats", "nats://127.0.0.1:1"] + args,
                       capture_output=True, text=True, timeout=30)
    if r.returncode == 0 or want not in r.stderr:
        fail(f"{args}: expected a refusal with {want!r}, got {r.returncode}: {r.stderr}")
    return r


def case_security():
    tok = "s3cret-token-0123456789abcdef"
    good = token_file("token", tok)
    r = refused(["--http", "0.0.0.0:0"], "needs a bearer token")
    if r.returncode != 2:
        fail("a non-loopback address without a token is a usage error")
    refused(["--http", "192.0.2.1:0"], "needs a bearer token")
    refused(["--http", "[::]:0"], "needs a bearer token")
    refused(["--http", "127.0.0.1:0", "--http-token-file", token_file("open", tok, 0o644)],
            "group or others may read")
    refused(["--http", "127.0.0.1:0", "--http-token-file", token_file("short", "abc")],
            "too short")
    refused(["--http", "127.0.0.1:0", "--http-cert", good], "--http-cert needs --http-key")
    refused(["--http-token-file", good], "need --http")
    nats, nport = start_nats()
    p, port = start_paper(nport, scenario(), ["--http-token-file", good])
    code, _, page = get(port, "/")
    if code != 200 or "EURUSD" in page or '"counts"' in page:
        fail("the static page is served without the token, and holds no data")
    for path in ("/api/state", "/metrics", "/api/events"):
        code = get(port, path)[0]
        if code != 401 or get(port, path, "wrong-token-0123456789")[0] != 401:
            fail(f"{path} without the token: {code}")
    code, _, body = get(port, "/health")
    if code != 200:
        fail(f"/health must stay open: {code}")
    if get(port, "/api/kill", method="POST")[0] != 401:
        fail("POST /api/kill without the token")
    if get(port, "/api/state", method="DELETE", token=tok)[0] != 405:
        fail("DELETE must be refused")
    if get(port, "/x" * 300, token=tok)[0] != 414:
        fail("a long URL must be refused")
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request("POST", "/api/kill", body=b"x" * 5000, headers={"Authorization": "Bearer " + tok})
    if c.getresponse().status != 413:
        fail("a large body must be refused")
    c.close()
    if json.loads(get(port, "/api/state", tok)[2])["risk"]["kill_switch"]:
        fail("a refused kill request engaged the kill switch")
    publish(nport, "--limit", "20000", rate="100000")
    settled(port, token=tok)
    pages = [get(port, x, tok)[2] for x in ("/", "/api/state", "/metrics", "/health")]
    if not json.loads(pages[1])["counts"]["inputs"]:
        fail("the token did not open /api/state")
    if "ticktape_http_unauthorized_total 7" not in pages[2]:
        fail("unauthorized requests not counted: " +
             re.findall(r"ticktape_http_unauthorized_total.*", pages[2])[0])
    finish(p)
    for text in pages + [read("paper.err"), read("paper.out")]:
        if tok in text:
            fail("the token leaked")
    # TLS with a certificate made here
    key, crt = os.path.join(WORK, "key.pem"), os.path.join(WORK, "cert.pem")
    r = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                        "-out", crt, "-days", "1", "-subj", "/CN=127.0.0.1"], capture_output=True)
    if r.returncode:
        fail("openssl: " + r.stderr.decode())
    os.chmod(key, 0o644)
    refused(["--http", "127.0.0.1:0", "--http-cert", crt, "--http-key", key],
            "group or others may read")
    os.chmod(key, 0o600)
    p, port = start_paper(nport, scenario(), ["--http-cert", crt, "--http-key", key,
                                              "--http-token-file", good], name="tls")
    if "https://" not in read("tls.err"):
        fail("the server does not say https")
    ctx = ssl.create_default_context(cafile=crt)
    ctx.check_hostname = False
    code, _, body = get(port, "/api/state", tok, tls=ctx)
    if code != 200 or '"mode":"paper"' not in body:
        fail(f"HTTPS: {code} {body}")
    try:
        get(port, "/health")
        fail("plain HTTP answered on the TLS port")
    except (http.client.HTTPException, OSError):
        pass
    finish(p, "tls")
    nats.terminate()
    print("ok")


def raw_publish(port, subject, payload):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.recv(4096)
    s.sendall(b"CONNECT {\"verbose\":false}\r\nPUB " + subject.encode() + b" " +
              str(len(payload)).encode() + b"\r\n" + payload + b"\r\nPING\r\n")
    buf = b""
    while b"PONG" not in buf:
        buf += s.recv(4096)
    s.close()


def kill_session(how):
    tok = "kill-token-0123456789abcdef"
    good = token_file("token", tok)
    nats, nport = start_nats()
    name = "paper-" + how
    scen = scenario()
    p, port = start_paper(nport, scen, ["--http-token-file", good], name=name)
    sse = SSE(port, tok)
    publish(nport, "--limit", "60000")
    settled(port, token=tok, quiet=0.5)
    before = json.loads(get(port, "/api/state", tok)[2])
    if how == "http":
        code, _, body = get(port, "/api/kill", tok, method="POST")
        if code != 200 or "engaged" not in body:
            fail(f"POST /api/kill: {code} {body}")
    else:
        raw_publish(nport, "control.kill_switch", b"{}")
    wait_for(lambda: json.loads(get(port, "/api/state", tok)[2])["risk"]["kill_switch"],
             "the kill switch to show in /api/state")
    publish(nport, "--from", "2019-02-04T12:00:00", "--limit", "40000")
    settled(port, token=tok, quiet=0.5)
    after = json.loads(get(port, "/api/state", tok)[2])
    sse.close()
    summary = finish(p, name)
    nats.terminate()
    kills = [d for e, d in sse.events if e == "risk.alert.kill_switch"]
    print(f"{how}: orders before {before['counts']['orders']}, after {after['counts']['orders']}, "
          f"open positions after {after['positions']}; kill events {len(kills)}")
    if not kills:
        fail("no kill switch event on /api/events")
    if after["positions"]:
        fail("positions left open after the kill switch (flatten_on_halt)")
    if "kill switch" not in read(name + ".err"):
        fail("the kill switch is not in the log")
    if before["counts"]["orders"] < 2:
        fail("too few orders before the kill")
    # the replay sees the kill where the session did
    r = subprocess.run([TT, "replay", os.path.join(WORK, name + "-journal"), "--scenario", scen,
                        "--json", "--out", os.path.join(WORK, name + "-replay"), "--orders",
                        os.path.join(WORK, name + "-replay-orders.csv")],
                       capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        fail("replay: " + r.stderr)
    rs = json.loads(r.stdout.strip().splitlines()[-1])
    for key in ("fingerprint", "events", "trades", "net_pnl", "fills"):
        if summary[key] != rs[key]:
            fail(f"{key}: paper {summary[key]} != replay {rs[key]}")
    if read(name + "-orders.csv") != read(name + "-replay-orders.csv"):
        fail("order-event lists differ")
    # and without the kill in the journal, the same ticks would have traded on
    return summary


def case_kill():
    a = kill_session("http")
    b = kill_session("nats")
    print(f"kill: fingerprints {a['fingerprint']} {b['fingerprint']}")
    print("ok")


class Hook(http.server.BaseHTTPRequestHandler):
    got, fail_path = [], "/broken"

    def do_POST(self):
        n = int(self.headers.get("Content-Length", 0))
        body = self.rfile.read(n)
        Hook.got.append((self.path, self.headers.get("Content-Type"), json.loads(body)))
        self.send_response(500 if self.path == Hook.fail_path else 200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *a):
        pass


class Smtp(socketserver.StreamRequestHandler):
    """Just enough SMTP (RFC 5321) for libcurl: EHLO, MAIL, RCPT, DATA, QUIT."""
    mails = []

    def handle(self):
        w = lambda s: self.wfile.write(s.encode() + b"\r\n")
        w("220 test ESMTP")
        mail = {"rcpt": []}
        while True:
            line = self.rfile.readline().decode().rstrip("\r\n")
            if not line:
                return
            cmd = line[:4].upper()
            if cmd in ("EHLO", "HELO"):
                w("250 test")
            elif cmd == "MAIL":
                mail["from"] = line
                w("250 ok")
            elif cmd == "RCPT":
                mail["rcpt"].append(line)
                w("250 ok")
            elif cmd == "DATA":
                w("354 go on")
                data = []
                while True:
                    l = self.rfile.readline().decode()
                    if l in (".\r\n", ""):
                        break
                    data.append(l)
                mail["data"] = "".join(data)
                Smtp.mails.append(mail)
                mail = {"rcpt": []}
                w("250 queued")
            elif cmd == "QUIT":
                w("221 bye")
                return
            else:
                w("250 ok")


def case_notify():
    web = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    smtp = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Smtp)
    for srv in (web, smtp):
        threading.Thread(target=srv.serve_forever, daemon=True).start()
    wp, sp = web.server_address[1], smtp.server_address[1]
    rules = os.path.join(WORK, "rules.yaml")
    with open(rules, "w") as f:
        f.write(f"""queue: 512
routes:
  - name: fills
    match: fill
    type: webhook
    url: http://127.0.0.1:{wp}/fills
  - name: alerts-slack
    match: ["risk.alert.*", "performance.alert.*", disconnect]
    type: slack
    url: http://127.0.0.1:{wp}/slack
  - name: tg
    match: risk.alert.kill_switch
    type: telegram
    chat_id: "42"
    url: http://127.0.0.1:{wp}/bot/sendMessage
  - name: desk-mail
    match: [risk.alert.kill_switch]
    type: email
    url: smtp://127.0.0.1:{sp}
    from: ticktape@example.com
    to: [desk@example.com, risk@example.com]
  - name: broken
    match: risk.alert.kill_switch
    type: webhook
    url: http://127.0.0.1:{wp}/broken
    retries: 2
    backoff_ms: 50
  - name: limited
    match: fill
    type: webhook
    url: http://127.0.0.1:{wp}/limited
    rate: 2/h
""")
    nats, nport = start_nats()
    p, port = start_paper(nport, scenario(), ["--notify", rules])
    publish(nport, "--limit", "100000")
    settled(port)
    code, _, body = get(port, "/api/kill", method="POST")
    if code != 200:
        fail(f"kill: {code}")
    wait_for(lambda: len(Smtp.mails) >= 1, "the kill switch mail")
    wait_for(lambda: sum(1 for x in Hook.got if x[0] == "/broken") == 3, "three tries of /broken")
    wait_for(lambda: json.loads(get(port, "/health")[2])["notifications"]["failed"] == 1,
             "the failure to be counted")
    h = json.loads(get(port, "/health")[2])
    fams = parse_metrics(get(port, "/metrics")[2])
    summary = finish(p)  # delivers what is queued (5 s at most)
    nats.terminate()
    got = Hook.got
    fills = [b for path, _, b in got if path == "/fills"]
    slack = [b for path, _, b in got if path == "/slack"]
    tg = [b for path, _, b in got if path == "/bot/sendMessage"]
    print(f"notify: fills {len(fills)} (session {summary['fills']}), slack {len(slack)}, "
          f"telegram {len(tg)}, mails {len(Smtp.mails)}, health {h['notifications']}")
    if len(fills) != summary["fills"] or not fills:
        fail("every fill goes to the fills route")
    f0 = fills[0]
    if set(f0) != {"subject", "origin", "event", "text"} or f0["subject"] != "fill" or \
            f0["event"]["symbol"] != "EURUSD":
        fail(f"the generic webhook body: {f0}")
    if not any(b == {"text": b["text"]} and "risk.alert.kill_switch" in b["text"] for b in slack):
        fail(f"the Slack body: {slack}")
    if len(tg) != 1 or tg[0]["chat_id"] != "42" or "kill_switch" not in tg[0]["text"]:
        fail(f"the Telegram body: {tg}")
    if any(ct != "application/json" for _, ct, _ in got):
        fail("webhooks are JSON")
    m = Smtp.mails[0]
    if "desk@example.com" not in m["rcpt"][0] or "risk@example.com" not in m["rcpt"][1] or \
            "Subject: ticktape: risk.alert.kill_switch" not in m["data"]:
        fail(f"the mail: {m}")
    if sum(1 for x in got if x[0] == "/limited") != 2:
        fail("the rate limit of 2/h")
    if value(fams, "ticktape_notifications_failed_total") != 1 or \
            value(fams, "ticktape_notification_retries_total") != 2 or \
            value(fams, "ticktape_notifications_rate_limited_total") < 1:
        fail("delivery counters in /metrics")
    if "route broken" not in read("paper.err") or f"127.0.0.1:{wp}/broken" in read("paper.err"):
        fail("a failure is logged by route name, not URL")
    web.shutdown()
    smtp.shutdown()
    print("ok")


def serve_check(args, name, mode, healthy, metric):
    """A command started with --http 127.0.0.1:0: /health, /metrics (strict), SIGINT."""
    err = open(os.path.join(WORK, name + ".err"), "w")
    p = subprocess.Popen([TT] + args + ["--http", "127.0.0.1:0"], stdout=subprocess.DEVNULL,
                         stderr=err)
    PROCS.append(p)
    m = wait_for(lambda: re.search(r"status server on http://127\.0\.0\.1:(\d+)/",
                                   read(name + ".err")) or (p.poll() is not None and
                                                             fail(read(name + ".err"))),
                 name + "'s status server")
    port = int(m.group(1))
    code, _, body = get(port, "/health")
    h = json.loads(body)
    if h["mode"] != mode or (code == 200) != healthy or h["status"] != ("ok" if healthy else
                                                                        "degraded"):
        fail(f"{name} /health: {code} {body}")
    if mode == "aggregate" and "sources" not in h.get("detail", {}):  # per-source health
        fail(f"aggregate /health has no per-source health: {body}")
    fams = parse_metrics(get(port, "/metrics")[2])
    value(fams, metric)
    p.send_signal(signal.SIGINT)
    if p.wait(timeout=30) != 0:
        fail(f"{name} exited badly: {read(name + '.err')}")
    print(f"{name}: /health {code}, /metrics has {len(fams)} families")


def case_commands():
    """worker, mt5-connector, live and aggregate serve the same endpoints (one shared option
    table)."""
    nats, port = start_nats("-js", "-sd", os.path.join(WORK, "js"))
    url = f"nats://127.0.0.1:{port}"
    serve_check(["worker", "--nats", url], "worker", "worker", True,
                "ticktape_worker_runs_started_total")
    secret = token_file("secret", "mt5-shared-secret")
    serve_check(["mt5-connector", "--listen", "127.0.0.1:0", "--nats", url, "--symbols", "EURUSD",
                 "--secret-file", secret], "connector", "mt5-connector", False,
                "ticktape_connector_ticks_total")
    serve_check(["live", scenario(), "--mt5", "127.0.0.1:0", "--secret-file", secret,
                 "--no-reports"], "live", "live", False, "ticktape_venue_requests_total")
    serve_check(["aggregate", "--nats", url, "--no-publish"], "aggregate", "aggregate", True,
                "ticktape_aggregate_merged_total")
    nats.terminate()
    print("ok")


def case_train():
    """`train --notify`: training.completed and training.failed reach a local webhook."""
    web = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=web.serve_forever, daemon=True).start()
    rules = os.path.join(WORK, "rules.yaml")
    with open(rules, "w") as f:
        f.write(f"""routes:
  - name: training
    match: "training.*"
    type: webhook
    url: http://127.0.0.1:{web.server_address[1]}/train
""")
    scen = os.path.join(WORK, "train.yaml")
    with open(scen, "w") as f:
        f.write(f"""name: train-notify
seed: 11
data:
  tape: {os.path.join(SRC, "scenarios/data/eurusd-2017h1")}
  symbols: [EURUSD]
  from: 2017-01-02
  to: 2017-02-01
account: {{currency: USD, balance: 10000, leverage: 100}}
ml:
  timeframe: M15
  label: {{kind: sign, horizon: 8, dead_zone: 0.0002}}
  xgboost: {{objective: "binary:logistic", max_depth: 3, eta: 0.2, rounds: 5}}
""")
    model = os.path.join(WORK, "m.json")
    r = subprocess.run([TT, "train", scen, "--model", model, "--notify", rules, "--run-id", "t1"],
                       capture_output=True, text=True, timeout=300)
    if r.returncode:
        fail("train: " + r.stderr)
    r = subprocess.run([TT, "train", scen, "--model", os.path.join(WORK, "no/such/dir/m.json"),
                        "--notify", rules, "--run-id", "t2"], capture_output=True, text=True,
                       timeout=300)
    if r.returncode == 0:
        fail("train into a missing directory succeeded")
    web.shutdown()
    got = [b for path, _, b in Hook.got if path == "/train"]
    print("train:", [(b["subject"], b["event"].get("run_id")) for b in got])
    if [(b["subject"], b["event"]["run_id"]) for b in got] != [("training.completed", "t1"),
                                                                ("training.failed", "t2")]:
        fail(f"training notifications: {got}")
    if got[0]["event"]["model"] != model or "error" not in got[1]["event"]:
        fail(f"training notification bodies: {got}")
    print("ok")


try:
    {"train": case_train, "commands": case_commands, "state": case_state, "dashboard": case_dashboard, "security": case_security,
     "kill": case_kill, "notify": case_notify}[CASE]()
finally:
    for proc in PROCS:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
