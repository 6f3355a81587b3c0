#!/usr/bin/python3
"""A local stand-in for Dukascopy's datafeed, with injected faults.

Serves a directory tree (the test sample) on 127.0.0.1 at a free port, which
it writes to --port-file once listening. Faults, per relative path:

  --fail500 REL=N     the first N requests of REL answer 500 (N = -1: always)
  --slow REL=N:S      the first N requests of REL sleep S seconds before answering
  --truncate REL=N    the first N requests of REL send the full Content-Length,
                      half the body, then close the connection
  --nolength REL=N    the first N requests of REL send half the body without a
                      Content-Length (only an LZMA decode can tell)
  --empty REL         REL answers 200 with an empty body (an hour without ticks)
  --delay S           every request waits S seconds first (makes overlap observable)

It logs one line per request to --log ("REL STATUS") and keeps the highest
number of requests in flight at once in --stats (JSON), so a test can check
retries, resume and the bound on parallel requests.
"""
import argparse
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ap = argparse.ArgumentParser()
ap.add_argument("--root", required=True)
ap.add_argument("--port-file", required=True)
ap.add_argument("--log", required=True)
ap.add_argument("--stats", required=True)
ap.add_argument("--fail500", action="append", default=[])
ap.add_argument("--slow", action="append", default=[])
ap.add_argument("--truncate", action="append", default=[])
ap.add_argument("--nolength", action="append", default=[])
ap.add_argument("--empty", action="append", default=[])
ap.add_argument("--delay", type=float, default=0.0)
args = ap.parse_args()


def parse(items):
    out = {}
    for it in items:
        rel, _, v = it.partition("=")
        out[rel] = v
    return out


fail500 = {k: int(v) for k, v in parse(args.fail500).items()}
slow = {k: (int(v.split(":")[0]), float(v.split(":")[1])) for k, v in parse(args.slow).items()}
truncate = {k: int(v) for k, v in parse(args.truncate).items()}
nolength = {k: int(v) for k, v in parse(args.nolength).items()}
seen = {}
lock = threading.Lock()
inflight = 0
max_inflight = 0
logf = open(args.log, "a", buffering=1)


def write_stats():
    with open(args.stats + ".tmp", "w") as f:
        json.dump({"max_inflight": max_inflight}, f)
    os.replace(args.stats + ".tmp", args.stats)


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def do_GET(self):
        global inflight, max_inflight
        rel = self.path.lstrip("/")
        # Requests in flight are counted over the --delay window only: the client
        # certainly holds those connections open (an abandoned slow request, or
        # one whose answer was already read, would blur the count).
        with lock:
            n = seen.get(rel, 0)
            seen[rel] = n + 1
            inflight += 1
            max_inflight = max(max_inflight, inflight)
            write_stats()
        if args.delay:
            time.sleep(args.delay)
        with lock:
            inflight -= 1
        try:
            self.answer(rel, n)
        except (BrokenPipeError, ConnectionResetError):
            logf.write(f"{rel} aborted-by-client\n")

    def answer(self, rel, n):
        if rel in slow and n < slow[rel][0]:
            time.sleep(slow[rel][1])
        if rel in fail500 and (fail500[rel] < 0 or n < fail500[rel]):
            logf.write(f"{rel} 500\n")
            self.send_response(500)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if rel in args.empty:
            logf.write(f"{rel} 200-empty\n")
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        path = os.path.normpath(os.path.join(args.root, rel))
        if not path.startswith(os.path.abspath(args.root)) or not os.path.isfile(path):
            logf.write(f"{rel} 404\n")
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = open(path, "rb").read()
        if rel in truncate and n < truncate[rel]:
            logf.write(f"{rel} 200-truncated\n")
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        if rel in nolength and n < nolength[rel]:
            logf.write(f"{rel} 200-nolength\n")
            self.send_response(200)
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        logf.write(f"{rel} 200\n")
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


args.root = os.path.abspath(args.root)
srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
srv.daemon_threads = True
write_stats()
with open(args.port_file + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
os.replace(args.port_file + ".tmp", args.port_file)
srv.serve_forever()
