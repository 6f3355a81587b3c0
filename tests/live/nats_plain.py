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
        self.name = name
        os.makedirs(work, exist_ok=True)
        self.args = ["nats-server", "-a", "127.0.0.1", "-p", str(self.port)]
        if js:
            self.args += ["-js", "-sd", os.path.join(work, name + "-js")]
        if conf is not None:
            path = os.path.join(work, name + ".conf")
            with open(path, "w") as f:
                f.write(conf)
            self.args += ["-c", path]
        self.log = open(os.path.join(work, name + ".log"), "a")
        self.start()

    def start(self):
        self.p = subprocess.Popen(self.args, stdout=self.log, stderr=self.log)
        if not wait_port(self.port, self.p):
            self.stop()
            raise RuntimeError("nats-server %s did not start (see %s.log)"
                               % (self.name, self.name))

    def restart(self, down=0.5):
        """Stop and start again on the same port (clients see a disconnect)."""
        if self.p.poll() is None:
            self.p.terminate()
            self.p.wait(10)
        time.sleep(down)
        self.start()

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


# ---- NKeys and JWTs, made here with Python's cryptography (Debian's
# python3-cryptography): Debian ships no nsc or nk. ----

PREFIX = {"operator": 14 << 3, "account": 0, "user": 20 << 3}
PREFIX_SEED = 18 << 3


def _crc16(data):
    crc = 0
    for b in data:
        crc ^= b << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
            crc &= 0xffff
    return crc


def _b32(b):
    import base64
    return base64.b32encode(b).decode().rstrip("=")


def nkey(kind):
    """A new NKey: (seed, public key, private key object)."""
    import struct
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    raw = os.urandom(32)
    sk = Ed25519PrivateKey.from_private_bytes(raw)
    pub = sk.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    p = PREFIX[kind]
    s = bytes([PREFIX_SEED | (p >> 5), (p & 31) << 3]) + raw
    seed = _b32(s + struct.pack("<H", _crc16(s)))
    pb = bytes([p]) + pub
    return seed, _b32(pb + struct.pack("<H", _crc16(pb))), sk


def _jwt(claims, issuer_pub, issuer_sk):
    import base64
    import hashlib

    def b64(b):
        return base64.urlsafe_b64encode(b).decode().rstrip("=")
    claims = dict(claims, iat=int(time.time()), iss=issuer_pub, jti="")
    claims["jti"] = _b32(hashlib.sha256(json.dumps(claims, sort_keys=True).encode()).digest())
    head = b64(json.dumps({"typ": "JWT", "alg": "ed25519-nkey"}).encode())
    body = b64(json.dumps(claims).encode())
    sig = issuer_sk.sign((head + "." + body).encode())
    return head + "." + body + "." + b64(sig)


def operator_setup(work):
    """An operator, an account and a user: returns (server config text, the
    user's .creds path). The server runs in operator mode with a memory
    resolver preloaded with the account."""
    op_seed, op_pub, op_sk = nkey("operator")
    acc_seed, acc_pub, acc_sk = nkey("account")
    u_seed, u_pub, u_sk = nkey("user")
    unlimited = {"subs": -1, "data": -1, "payload": -1, "imports": -1, "exports": -1,
                 "wildcards": True, "conn": -1, "leaf": -1}
    op_jwt = _jwt({"name": "op", "sub": op_pub, "nats": {"type": "operator", "version": 2}},
                  op_pub, op_sk)
    acc_jwt = _jwt({"name": "acc", "sub": acc_pub,
                    "nats": {"limits": unlimited, "default_permissions": {"pub": {}, "sub": {}},
                             "type": "account", "version": 2}}, op_pub, op_sk)
    u_jwt = _jwt({"name": "u", "sub": u_pub,
                  "nats": {"pub": {}, "sub": {}, "subs": -1, "data": -1, "payload": -1,
                           "type": "user", "version": 2}}, acc_pub, acc_sk)
    op_path = os.path.join(work, "op.jwt")
    with open(op_path, "w") as f:
        f.write(op_jwt)
    creds = os.path.join(work, "user.creds")
    with open(creds, "w") as f:
        f.write("-----BEGIN NATS USER JWT-----\n%s\n------END NATS USER JWT------\n\n"
                "-----BEGIN USER NKEY SEED-----\n%s\n------END USER NKEY SEED------\n"
                % (u_jwt, u_seed))
    os.chmod(creds, 0o600)
    conf = ('operator: "%s"\nresolver: MEMORY\nresolver_preload: {\n  %s: "%s"\n}\n'
            % (op_path, acc_pub, acc_jwt))
    return conf, creds


def tls_files(work):
    """A CA, a server certificate for 127.0.0.1/localhost and a client
    certificate, made with the openssl command."""
    def ssl(*args):
        subprocess.run(["openssl"] + list(args), check=True, cwd=work,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=ticktape test CA")
    with open(os.path.join(work, "san.ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    for name in ("server", "client"):
        ssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", name + ".key", "-out", name + ".csr", "-subj", "/CN=" + name)
        ssl("x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", name + ".pem", "-days", "2", "-extfile", "san.ext")
    # a CA nobody trusts, for the refusal
    ssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", "other.key", "-out", "other.pem", "-days", "2", "-subj", "/CN=other CA")
    return {k: os.path.join(work, k) for k in
            ("ca.pem", "server.pem", "server.key", "client.pem", "client.key", "other.pem")}


# ---- protobuf by hand (the wire format), for messages the tests forge ----

def _varint(v):
    v &= (1 << 64) - 1
    out = b""
    while v >= 0x80:
        out += bytes([(v & 0x7f) | 0x80])
        v >>= 7
    return out + bytes([v])


def _double(field, d):
    import struct
    return _varint(field << 3 | 1) + struct.pack("<d", d)


def _string(field, s):
    b = s.encode()
    return _varint(field << 3 | 2) + _varint(len(b)) + b


def _int(field, v):
    return _varint(field << 3 | 0) + _varint(v)


def tickdata(symbol, bid, ask, volume=1000000, ts_ms=1549267200123):
    """aitrading.common.TickData (proto/tick_data.proto)."""
    return (_string(1, symbol) + _double(2, bid) + _double(3, ask) + _int(5, volume) +
            _int(6, ts_ms))


def bar(o, h, l, c, volume=1.0, tf="1m"):
    """ticktape.Bar with prices in points (proto/ticktape.proto)."""
    import struct
    return (_string(1, tf) + _int(3, o) + _int(4, h) + _int(5, l) + _int(6, c) +
            _varint(7 << 3 | 1) + struct.pack("<d", volume))
