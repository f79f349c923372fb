"""
policykit - helpers shared by the envelope policy tests
(test_policy_helo.py, test_policy_shield.py, test_policy_auth.py).

  start(mxshield, overrides, v6=False)
      an mxshield with overrides; with v6 a second listener on ::1
      (mx.port6), waited for like the first.
  session(mx, source, helo) / session6(mx, helo)
      a raw client past greeting and EHLO, from 127.0.0.x / from ::1.
  refused(reply, line)
      the reply is exactly that one line.
  assert_not_relayed(backend, prefix)
      no command line at the backend starts with prefix (any case).
  wait_txn(mx, pred) / verdict(line, check)
      the transaction's JSON log line, and its verdict from one check.
  enforced(v) / monitored(v)
      how a verdict says whether it was carried out.
  auth_plain(c, id) / auth_cram_md5(c, id) / auth_scram(c, id, ...)
      log in through mxshield to the recording backend as id.

Client addresses other than 127.0.0.1 come from binding the client's
socket (DESIGN.md "Testing ground rules"); IPv6 uses ::1, the only IPv6
loopback address.
"""

import base64
import socket

import smtpkit

AUTH_CAPS = ["PIPELINING", "SIZE 104857600", "8BITMIME", "ENHANCEDSTATUSCODES",
             "AUTH PLAIN LOGIN"]
SECRET = "s3cret-Passw0rd"


def b64(s):
    return base64.b64encode(s.encode() if isinstance(s, str) else s).decode()


def free_port6():
    with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
        s.bind(("::1", 0))
        return s.getsockname()[1]


def start(mxshield, overrides=None, v6=False):
    """mxshield with overrides (deep-merged); with v6 a second listener on
    ::1 whose port is mx.port6. The first listener is the fixture's own
    127.0.0.1 listener, so mx.port and mx.session() keep working."""
    overrides = dict(overrides or {})
    port6 = None
    if v6:
        port6 = free_port6()
        first = {"address": "127.0.0.1", "port": smtpkit.free_port()}
        first.update(overrides.pop("listen0", {}))
        overrides["listen"] = [first, {"address": "::1", "port": port6}]
    elif "listen0" in overrides:
        first = {"address": "127.0.0.1", "port": smtpkit.free_port()}
        first.update(overrides.pop("listen0"))
        overrides["listen"] = [first]
    mx = mxshield(overrides)
    mx.port6 = port6
    if v6:
        smtpkit.wait_for(lambda: smtpkit.listening(port6, ("/proc/net/tcp6",)), 5, what="mxshield on [::1]:%d" % port6)
    return mx


class Client6(smtpkit.Client):
    """smtpkit.Client over IPv6 (to ::1, from ::1)."""

    def __init__(self, port, host="::1", timeout=10):
        self.timeout = timeout
        self.sock = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.settimeout(timeout)
        self.sock.connect((host, port))
        self.local_port = self.sock.getsockname()[1]
        self.buf = bytearray()
        self.eof = False
        self.received = bytearray()


def client(mx, source=None):
    """Connected, greeting read; no EHLO yet."""
    c = mx.client(source=source)
    g = c.reply()
    assert g.code == 220, g
    return c


def session(mx, source=None, helo="client.example.net"):
    """Past the greeting and a successful EHLO."""
    return mx.session(helo=helo, source=source)


def client6(mx):
    c = Client6(mx.port6)
    mx.clients.append(c)        # closed by the fixture's teardown
    g = c.reply()
    assert g.code == 220, g
    return c


def session6(mx, helo="client.example.net"):
    c = client6(mx)
    c.ehlo(helo)
    return c


def auth_plain(c, identity, secret=SECRET):
    r = c.cmd("AUTH PLAIN " + b64("\0%s\0%s" % (identity, secret)))
    assert r.code == 235, r
    return r


CRAM_DIGEST = "b913a602c7eda7a495b4e6e7334d3890"    # RFC 2195's example


def auth_cram_md5(c, identity):
    """AUTH CRAM-MD5 (RFC 2195): the backend's challenge, then
    "identity SP digest"; the final reply (the recording backend does
    not check the digest)."""
    r = c.cmd("AUTH CRAM-MD5")
    assert r.code == 334, r
    return c.cmd(b64("%s %s" % (identity, CRAM_DIGEST)))


def scram_escape(name):
    return name.replace("=", "=3D").replace(",", "=2C")


def auth_scram(c, identity, mech="SCRAM-SHA-256", initial=True, authzid=None):
    """A SCRAM exchange (RFC 5802 5): client-first (on the AUTH line
    or after an empty 334), the server-first, a client-final, the
    server-final, an empty response; the final reply. The recording
    backend checks no proof: the client-final here is shaped right
    and carries a made-up proof."""
    gs2 = "n,%s," % ("a=" + scram_escape(authzid) if authzid else "")
    first = gs2 + "n=%s,r=fyko+d2lbbFgONRv9qkxdawL" % scram_escape(identity)
    if initial:
        r = c.cmd("AUTH %s %s" % (mech, b64(first)))
    else:
        r = c.cmd("AUTH " + mech)
        assert r.raw == b"334 \r\n", r
        r = c.cmd(b64(first))
    assert r.code == 334, r
    server_first = base64.b64decode(r.text)
    nonce = [a for a in server_first.split(b",") if a.startswith(b"r=")][0]
    final = b"c=" + base64.b64encode(gs2.encode()) + b"," + nonce + \
        b",p=" + base64.b64encode(b"proof-not-checked-by-the-backend")
    r = c.cmd(b64(final))
    assert r.code == 334 and base64.b64decode(r.text).startswith(b"v="), r
    return c.cmd("")


def refused(r, line):
    """r is exactly the single reply line `line` (code, enhanced code, text)."""
    assert r.raw == (line + "\r\n").encode(), "expected %r, got %r" % (line, r.raw)


def commands(backend):
    return [c.rstrip(b"\r\n").decode("latin-1") for c in backend.all_commands()]


def assert_not_relayed(backend, prefix):
    got = [c for c in commands(backend) if c.upper().startswith(prefix.upper())]
    assert not got, "backend received %r; all its commands: %r" % (got, commands(backend))


def assert_relayed(backend, line):
    """The exact command line reached the backend (waits up to 3 s)."""
    backend.wait_for(lambda: any(c.rstrip(b"\r\n").decode("latin-1") == line
                                 for c in backend.all_commands()), 3,
                     "%r at the backend" % line)


def quit(c):
    r = c.cmd("QUIT")
    assert r.code == 221, r
    c.expect_closed(3)


def txns(mx):
    return mx.logs("txn")


def wait_txn(mx, pred=lambda l: True, what="txn line"):
    """The txn lines matching pred (at least one; waits up to 5 s)."""
    return mx.wait_log(lambda l: l.get("event") == "txn" and pred(l), what=what)


def wait_policy(mx, pred=lambda l: True, what="policy line"):
    return mx.wait_log(lambda l: l.get("event") == "policy" and pred(l), what=what)


def verdicts(line, check=None):
    vs = line.get("verdicts")
    assert isinstance(vs, list), line
    return [v for v in vs if check is None or v.get("check") == check]


def verdict(line, check, code=None, reply=None):
    """The one verdict of check (with code, if given) in a txn line; with
    reply, its "reply" field (the line the client got, or would have got
    in monitor mode) must be exactly that."""
    vs = [v for v in verdicts(line, check) if code is None or v.get("code") == code]
    assert len(vs) == 1, "want one %s verdict%s in %r" % (
        check, "" if code is None else " with code %d" % code, line)
    v = vs[0]
    for k in ("check", "action", "code", "reason", "score"):
        assert k in v, "verdict without %r: %r" % (k, v)
    assert v["action"] in ("reject", "monitor", "pass", "tag"), v
    if reply is not None:
        assert v.get("reply") == reply, "verdict reply %r, want %r" % (v.get("reply"), reply)
    return v


def refusals(line):
    """Verdicts that refused (or would have refused) something."""
    return [v for v in verdicts(line) if v.get("code") not in (None, 0)
            and v.get("check") != "protocol"]


# How a verdict says whether it was carried out (proxy/pol.c): a txn
# line's verdicts are {check, action, code, reason, reply, score} and a
# "policy" line has {sid, client, port, check, action, stage, code, reply,
# reason}; action is "reject" when enforced, "monitor" in monitor mode.
def monitored(v):
    return v.get("action") == "monitor"


def enforced(v):
    return v.get("action") == "reject"
