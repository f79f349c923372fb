"""
tlsutil - test certificates and TLS clients for the TLS integration tests.

Certificates are made at test time with the openssl command line tool in
a temporary directory (removed when the test process exits); no key is
ever written into the work tree:

  ca            a CA ("mxshield test CA")
  server        mx.test.example + IP SAN 127.0.0.1, signed by the CA
                (mxshield's tls.cert_file / tls.key_file)
  backend       backend.test.example, signed by the CA (the recording
                backend's certificate)
  untrusted     backend.test.example again, self-signed: right name,
                wrong issuer
  other_key     a key that matches none of the certificates

`certs` is a session-scoped fixture (certs_fixture); test modules import it. The files
are made once per test process whichever module asks first.
"""

import atexit
import os
import re
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time

import pytest

import smtpkit

_lock = threading.Lock()
_made = None


def _openssl(*args, cwd):
    r = subprocess.run(["openssl"] + list(args), cwd=cwd, capture_output=True, timeout=60,
                       stdin=subprocess.DEVNULL)
    if r.returncode != 0:
        raise AssertionError("openssl %s failed:\n%s" % (" ".join(args), r.stderr.decode("utf-8", "replace")))


class Certs:
    def __init__(self, d):
        self.dir = d
        j = lambda n: os.path.join(d, n)  # noqa: E731
        self.ca_key, self.ca = j("ca.key"), j("ca.pem")
        self.server_key, self.server = j("server.key"), j("server.pem")
        self.backend_key, self.backend = j("backend.key"), j("backend.pem")
        self.untrusted_key, self.untrusted = j("untrusted.key"), j("untrusted.pem")
        self.other_key = j("other.key")

    def client_context(self, verify=True):
        """An ssl client context trusting the test CA (or trusting nothing
        and checking nothing with verify=False)."""
        if not verify:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            return ctx
        return ssl.create_default_context(cafile=self.ca)


def _leaf(d, name, cn, san, ca=True):
    """A key and a certificate for cn with the given subjectAltName:
    signed by the CA, or self-signed with ca=False."""
    key, crt = name + ".key", name + ".pem"
    ext = name + ".ext"
    with open(os.path.join(d, ext), "w") as f:
        f.write("basicConstraints = critical, CA:FALSE\n"
                "keyUsage = critical, digitalSignature, keyEncipherment\n"
                "extendedKeyUsage = serverAuth, clientAuth\n"
                "subjectAltName = %s\n" % san)
    if ca:
        _openssl("req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                 "-out", name + ".csr", "-subj", "/O=mxshield tests/CN=" + cn, cwd=d)
        _openssl("x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                 "-CAcreateserial", "-days", "2", "-sha256", "-extfile", ext, "-out", crt, cwd=d)
    else:
        _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", crt,
                 "-days", "2", "-sha256", "-subj", "/O=somebody else/CN=" + cn,
                 "-addext", "subjectAltName = " + san,
                 "-addext", "basicConstraints = critical, CA:FALSE", cwd=d)


def make_certs():
    """The certificate set, made on first use (once per process)."""
    global _made
    with _lock:
        if _made is not None:
            return _made
        if shutil.which("openssl") is None:
            pytest.fail("the openssl command is not installed (make test installs it: "
                        "tools/deps.sh test)", pytrace=False)
        d = tempfile.mkdtemp(prefix="mxshield-tls-certs-")
        atexit.register(shutil.rmtree, d, True)
        _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key",
                 "-out", "ca.pem", "-days", "2", "-sha256", "-subj", "/O=mxshield tests/CN=mxshield test CA",
                 "-addext", "basicConstraints = critical, CA:TRUE",
                 "-addext", "keyUsage = critical, keyCertSign, cRLSign", cwd=d)
        _leaf(d, "server", "mx.test.example", "DNS:mx.test.example, IP:127.0.0.1")
        _leaf(d, "backend", "backend.test.example", "DNS:backend.test.example")
        _leaf(d, "untrusted", "backend.test.example", "DNS:backend.test.example", ca=False)
        _openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
                 "-out", "other.key", cwd=d)
        for f in os.listdir(d):
            if f.endswith(".key"):
                os.chmod(os.path.join(d, f), 0o600)
        _made = Certs(d)
        return _made


@pytest.fixture(scope="session", name="certs")
def certs_fixture():
    """The test certificates (Certs); test modules import this fixture."""
    return make_certs()


def tls_config(certs, listen_tls="starttls", **extra):
    """mxshield overrides: our certificate and one listener with tls."""
    cfg = {"tls": {"cert_file": certs.server, "key_file": certs.server_key}}
    cfg["listen"] = [{"address": "127.0.0.1", "port": smtpkit.free_port(), "tls": listen_tls}]
    for k, v in extra.items():
        cfg[k] = v
    return cfg


# --------------------------------------------------------------------------
# A TLS-capable raw client
# --------------------------------------------------------------------------

def starttls(c, ctx, server_hostname="mx.test.example", timeout=10):
    """Upgrade a smtpkit.Client in place after the server's 220 to
    STARTTLS: its socket becomes an SSLSocket; bytes the client had
    buffered past the 220 are returned (there must be none)."""
    leftover = bytes(c.buf)
    c.buf = bytearray()
    c.sock.settimeout(timeout)
    c.sock = ctx.wrap_socket(c.sock, server_hostname=server_hostname)
    return leftover


def implicit_client(port, ctx, server_hostname="mx.test.example", timeout=10):
    """A smtpkit.Client whose socket is TLS from the first byte."""
    c = smtpkit.Client(port, timeout=timeout)
    c.sock = ctx.wrap_socket(c.sock, server_hostname=server_hostname)
    return c


def strict_eof(ctx):
    """ctx, made to tell an EOF without close_notify from a clean close:
    Python sets OP_IGNORE_UNEXPECTED_EOF by default, which reads both as
    a clean close. Set it before wrapping a socket."""
    ctx.options &= ~ssl.OP_IGNORE_UNEXPECTED_EOF
    return ctx


def eof_error(e):
    """e (an ssl.SSLError) is an EOF without close_notify."""
    return isinstance(e, ssl.SSLEOFError) or e.reason == "UNEXPECTED_EOF_WHILE_READING"


def close_kind(c, timeout=5):
    """After the server's last reply: read a TLS smtpkit.Client (its
    context made with strict_eof()) until the server closes and say how:
    "close_notify" (the alert, then EOF), "eof" (EOF without it:
    OpenSSL's "unexpected eof while reading"), "reset", "timeout". Bytes the server sent first
    fail the test."""
    assert not c.buf, "bytes after the last reply: %r" % bytes(c.buf)
    c.sock.suppress_ragged_eofs = False
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return "timeout"
        c.sock.settimeout(left)
        try:
            chunk = c.sock.recv(65536)
        except socket.timeout:
            return "timeout"
        except ssl.SSLError as e:
            if eof_error(e):
                return "eof"
            raise
        except ConnectionResetError:
            return "reset"
        if not chunk:
            return "close_notify"
        raise AssertionError("bytes after the last reply: %r" % chunk)


# Received: as core/received.c writes it with TLS; folded lines unfolded
# first (a fold is CRLF + TAB, read as one space).
RECEIVED_TLS_RE = re.compile(
    r"^Received: from (?P<helo>\S+) \(\[(?P<ip>[0-9a-fA-F.:]+)\]\) "
    r"by (?P<by>\S+) \(mxshield\) with (?P<proto>[A-Z]+)(?: \((?P<tls>[^()]*)\))? "
    r"id (?P<id>[0-9a-f]{16}); "
    r"(?P<date>(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), [ 0-9]\d \w{3} \d{4} \d\d:\d\d:\d\d \+0000)\r\n$")


def parse_received(data):
    """(match of RECEIVED_TLS_RE on mxshield's first field, rest of data)."""
    first, rest = smtpkit.split_first_header(data)
    text = first.decode("latin-1")
    unfolded = text[:-2].replace("\r\n\t", " ").replace("\r\n ", " ") + "\r\n"
    m = RECEIVED_TLS_RE.match(unfolded)
    assert m, "Received: field not in the documented form: %r" % first
    for line in text.split("\r\n"):
        assert len(line) <= 78 or " " not in line.strip(), "unfolded long line %r" % line
    return m, rest


def wait_closed_raw(sock, timeout):
    """Read from a raw socket until EOF/reset; returns (closed, bytes)."""
    got = bytearray()
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return False, bytes(got)
        sock.settimeout(left)
        try:
            b = sock.recv(65536)
        except socket.timeout:
            return False, bytes(got)
        except (ConnectionResetError, ssl.SSLError, OSError):
            return True, bytes(got)
        if not b:
            return True, bytes(got)
        got += b


# --------------------------------------------------------------------------
# Driving an interactive command-line client (openssl s_client)
# --------------------------------------------------------------------------

class Interactive:
    """Wraps a Popen with stdin/stdout/stderr pipes: reader threads
    collect the output; expect() waits (bounded) for a pattern."""

    def __init__(self, proc):
        self.proc = proc
        self.out = bytearray()
        self.err = bytearray()
        self.pos = 0
        self._cond = threading.Condition()
        self._eof = {"out": False, "err": False}
        for name, stream in (("out", proc.stdout), ("err", proc.stderr)):
            t = threading.Thread(target=self._pump, args=(name, stream), daemon=True)
            t.start()

    def _pump(self, name, stream):
        buf = self.out if name == "out" else self.err
        while True:
            try:
                b = stream.read1(65536)
            except (OSError, ValueError):
                b = b""
            with self._cond:
                if not b:
                    self._eof[name] = True
                    self._cond.notify_all()
                    return
                buf += b
                self._cond.notify_all()

    def write(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def close_stdin(self):
        try:
            self.proc.stdin.close()
        except OSError:
            pass

    def expect(self, pattern, timeout=10, stream="out"):
        """Wait for regex pattern (bytes) in stdout after the last match
        (or anywhere in stderr); returns the match."""
        rx = re.compile(pattern, re.M)
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                if stream == "out":
                    m = rx.search(self.out, self.pos)
                else:
                    m = rx.search(self.err)
                if m:
                    if stream == "out":
                        self.pos = m.end()
                    return m
                left = deadline - time.monotonic()
                if left <= 0 or (self._eof[stream] and self.proc.poll() is not None):
                    raise smtpkit.Timeout("no %r from %s within %ss; stdout %r; stderr %r" % (
                        pattern, self.proc.args[0], timeout, bytes(self.out[-1500:]),
                        bytes(self.err[-1500:])))
                self._cond.wait(min(left, 0.05))

    def wait(self, timeout=10):
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def output(self):
        with self._cond:
            return bytes(self.out), bytes(self.err)


def s_client_argv(port, certs, starttls=True, extra=()):
    argv = ["openssl", "s_client", "-connect", "127.0.0.1:%d" % port, "-crlf",
            "-CAfile", certs.ca, "-verify_return_error", "-verify_hostname", "mx.test.example",
            "-servername", "mx.test.example"]
    if starttls:
        argv += ["-starttls", "smtp", "-name", "sclient.example.net"]
    return argv + list(extra)


def same_cipher(mbed, ossl):
    """mbedTLS' cipher suite name (TLS-ECDHE-RSA-WITH-AES-256-GCM-SHA384)
    names the suite OpenSSL calls ECDHE-RSA-AES256-GCM-SHA384."""
    a = mbed
    if a.startswith("TLS-"):
        a = a[4:]
    a = a.replace("WITH-", "").replace("-", "").replace("_", "")
    b = ossl.replace("-", "").replace("_", "")
    return a == b or a.startswith(b)
