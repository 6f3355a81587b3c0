"""A plain-socket NATS client for the security tests: what an attacker with a
network connection to the server can do, without any client library. It
speaks the text protocol (CONNECT, PUB/HPUB, SUB, MSG/HMSG, PING/PONG), can
authenticate with a user/password or a token, and can wrap the socket in TLS
(Python's ssl module). Also starts and stops nats-server for the tests.

Nothing here is clever: it is the smallest honest client, so that a test shows
what any program on the bus can do.
"""
import json
import os
import socket
import ssl
import subprocess
import time


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def wait_port(port, proc=None, seconds=10.0):
    end = time.time() + seconds
    while time.time() < end:
        if proc is not None and proc.poll() is not None:
            return False
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


class Server:
    """nats-server on 127.0.0.1 and a free port; `conf` is the text of a
    configuration file (written next to the log), `js` enables JetStream."""

    def __init__(self, work, name, conf=None, js=False):
        self.port = free_port()
        self.url = "nats://127.0.0.1:%d" % self.port
        os.makedirs(work, exist_ok=True)
        args = ["nats-server", "-a", "127.0.0.1", "-p", str(self.port)]
        if js:
            args += ["-js", "-sd", os.path.join(work, name + "-js")]
        if conf is not None:
            path = os.path.join(work, name + ".conf")
            with open(path, "w") as f:
                f.write(conf)
            args += ["-c", path]
        self.log = open(os.path.join(work, name + ".log"), "w")
        self.p = subprocess.Popen(args, stdout=self.log, stderr=self.log)
        if not wait_port(self.port, self.p):
            self.stop()
            raise RuntimeError("nats-server %s did not start (see %s.log)" % (name, name))

    def stop(self):
        if self.p.poll() is None:
            self.p.terminate()
            try:
                self.p.wait(10)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self.log.close()


class Client:
    def __init__(self, port, user=None, password=None, token=None, tls=None, timeout=10):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""
        line = self._line()
        if not line.startswith(b"INFO "):
            raise RuntimeError("not a NATS server: %r" % line[:80])
        self.info = json.loads(line[5:])
        if tls is not None:
            self.s = tls.wrap_socket(self.s, server_hostname="localhost")
        c = {"verbose": False, "pedantic": False, "headers": True, "no_responders": True,
             "protocol": 1, "lang": "python-plain", "version": "0"}
        if user is not None:
            c["user"], c["pass"] = user, password
        if token is not None:
            c["auth_token"] = token
        self.s.sendall(b"CONNECT " + json.dumps(c).encode() + b"\r\nPING\r\n")
        while True:
            line = self._line()
            if line == b"PONG":
                break
            if line.startswith(b"-ERR"):
                raise PermissionError(line.decode(errors="replace"))
        self.sid = 0
        self.pending = []  # messages read while waiting for a PONG

    def _line(self):
        while b"\r\n" not in self.buf:
            d = self.s.recv(65536)
            if not d:
                raise ConnectionError("connection closed")
            self.buf += d
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _bytes(self, n):
        while len(self.buf) < n + 2:
            d = self.s.recv(65536)
            if not d:
                raise ConnectionError("connection closed")
            self.buf += d
        data, self.buf = self.buf[:n], self.buf[n + 2:]
        return data

    def pub(self, subject, data, headers=None, reply=None):
        if isinstance(data, str):
            data = data.encode()
        r = (" " + reply) if reply else ""
        if headers:
            h = b"NATS/1.0\r\n" + b"".join(
                ("%s: %s\r\n" % (k, v)).encode() for k, v in headers.items()) + b"\r\n"
            self.s.sendall(("HPUB %s%s %d %d\r\n" % (subject, r, len(h), len(h) + len(data)))
                           .encode() + h + data + b"\r\n")
        else:
            self.s.sendall(("PUB %s%s %d\r\n" % (subject, r, len(data))).encode() + data +
                           b"\r\n")

    def sub(self, subject):
        self.sid += 1
        self.s.sendall(("SUB %s %d\r\n" % (subject, self.sid)).encode())
        return self.sid

    def flush(self):
        self.s.sendall(b"PING\r\n")
        while True:
            m = self._next(10)
            if m is None or m == "PONG":
                return
            self.pending.append(m)

    def next(self, timeout):
        """The next message as (subject, data, headers), or None on a timeout."""
        if self.pending:
            return self.pending.pop(0)
        m = self._next(timeout)
        return None if m == "PONG" else m

    def _next(self, timeout):
        self.s.settimeout(timeout)
        try:
            while True:
                line = self._line()
                if line == b"PING":
                    self.s.sendall(b"PONG\r\n")
                    continue
                if line == b"PONG":
                    return "PONG"
                if line.startswith(b"MSG "):
                    parts = line.split()
                    data = self._bytes(int(parts[-1]))
                    return parts[1].decode(), data, {}
                if line.startswith(b"HMSG "):
                    parts = line.split()
                    hl, tl = int(parts[-2]), int(parts[-1])
                    raw = self._bytes(tl)
                    hdrs = {}
                    for h in raw[:hl].split(b"\r\n")[1:]:
                        if b":" in h:
                            k, v = h.split(b":", 1)
                            hdrs[k.decode().strip()] = v.decode().strip()
                    return parts[1].decode(), raw[hl:], hdrs
                if line.startswith(b"-ERR"):
                    raise RuntimeError(line.decode(errors="replace"))
        except socket.timeout:
            return None

    def request(self, subject, data, timeout=5):
        inbox = "_INBOX.plain%d" % (self.sid + 1000)
        self.sub(inbox)
        self.pub(subject, data, reply=inbox)
        end = time.time() + timeout
        while time.time() < end:
            m = self.next(max(0.05, end - time.time()))
            if m and m != "PONG" and m[0] == inbox:
                return m[1]
        return None

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass


def tls_context(ca):
    ctx = ssl.create_default_context(cafile=ca)
    return ctx
