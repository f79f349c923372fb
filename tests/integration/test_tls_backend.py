"""
TLS on the backend leg (backend.tls = "starttls" / "implicit",
backend.tls_verify, tls_ca_file, tls_server_name): mxshield's own EHLO
and STARTTLS after the backend's greeting, the greeting relayed only once
TLS is up so that the client's EHLO goes to the backend inside TLS,
plaintext the backend sent after its 220 discarded (response
injection), 421 4.4.2 and a log line for a certificate that fails
verification or a backend that does not offer STARTTLS (never a silent
downgrade), and the same on a replacement backend connection.

The recording backend speaks TLS with Python's ssl module (smtpkit);
certificates come from tlsutil.
"""

import hashlib
import socket
import subprocess
import threading
import time

import pytest

import conftest
import smtpkit
import tlsutil
from smtpkit import dot_stuff, make_message
from tlsutil import certs_fixture  # noqa: F401  (the certs fixture)

GREETING = b"220 backend.test ESMTP recorder\r\n"
OUR_EHLO = b"EHLO mx.test.example\r\n"


def tls_backend(backend, certs, mode="starttls", cert="backend"):
    backend.tls_cert = getattr(certs, cert)
    backend.tls_key = getattr(certs, cert + "_key")
    backend.starttls = mode == "starttls"
    backend.implicit_tls = mode == "implicit"
    return backend


def start(mxshield, certs, mode="starttls", verify=True, server_name="backend.test.example",
          ca=True, **over):
    b = {"tls": mode, "tls_verify": verify}
    if ca:
        b["tls_ca_file"] = certs.ca
    if server_name is not None:
        b["tls_server_name"] = server_name
    cfg = {"backend": b}
    return mxshield(conftest.merge(cfg, over))


def assert_refused_at_greeting(mx, backend):
    """The client gets 421 4.4.2 instead of the greeting and is closed;
    the backend never got a client command. Returns the reply."""
    c = mx.client()
    r = c.reply(timeout=8)
    assert (r.code, r.enh) == (421, "4.4.2"), r
    assert b"backend.test" not in c.received, "the backend's greeting reached the client: %r" % c.received
    c.expect_closed(3)
    backend.wait_all_closed(3)
    for s in backend.sessions:
        assert s.commands in ([], [OUR_EHLO], [OUR_EHLO, b"STARTTLS\r\n"],
                              [OUR_EHLO, b"QUIT\r\n"], [OUR_EHLO, b"STARTTLS\r\n", b"QUIT\r\n"]), s.commands
    assert backend.transactions == []
    return r


def tls_log_lines(mx):
    return [l for l in mx.log_lines() if l.get("event") in ("tls", "backend", "error")]


# --------------------------------------------------------------------------
# Working TLS to the backend
# --------------------------------------------------------------------------

def test_backend_starttls_verified(mxshield, backend, certs):
    tls_backend(backend, certs)
    # what the backend offers before and inside TLS differs: the client
    # must see the list from inside TLS (DSN only there), through the
    # allowlist (X-INSIDE-TLS never)
    backend.tls_capabilities = list(smtpkit.DEFAULT_CAPS) + ["AUTH PLAIN LOGIN", "DSN", "X-INSIDE-TLS"]
    mx = start(mxshield, certs)
    c = mx.client()
    g = c.reply()
    assert g.raw == GREETING, g
    r = c.ehlo("client.example.net")
    assert "DSN" in r.lines and "AUTH PLAIN LOGIN" in r.lines, r
    assert "X-INSIDE-TLS" not in r.lines, r
    assert not any(l.upper().startswith("STARTTLS") for l in r.lines), r
    assert r.lines[0] == "backend.test Hello client.example.net", r
    content = make_message(subject="to a TLS backend")
    r = c.transaction("sender@example.net", ["rcpt@example.com"], content)
    (m,) = backend.wait_messages(1)
    assert (r.code, r.text) == (250, "2.0.0 Ok: queued as " + m.queue_id)
    c.cmd("QUIT")
    (s,) = backend.sessions
    assert s.tls is not None and s.tls[0] in ("TLSv1.2", "TLSv1.3"), s.tls
    assert s.tls_error is None
    # in plaintext: mxshield's EHLO and STARTTLS only; everything of the
    # client's came inside TLS
    assert s.plain_commands == [OUR_EHLO, b"STARTTLS\r\n"], s.plain_commands
    assert s.commands[2:] == [b"EHLO client.example.net\r\n", b"MAIL FROM:<sender@example.net>\r\n",
                              b"RCPT TO:<rcpt@example.com>\r\n", b"DATA\r\n", b"QUIT\r\n"], s.commands
    assert s.discarded_after_starttls == b""
    assert s.tls_sni == "backend.test.example", "SNI sent to the backend: %r" % s.tls_sni
    # the Received: field describes the client's leg: plain ESMTP
    rcv, rest = tlsutil.parse_received(m.data)
    assert rcv.group("proto") == "ESMTP" and rcv.group("tls") is None, m.data[:300]
    assert rest == dot_stuff(content)
    t = mx.wait_log(lambda l: l.get("event") == "txn", what="txn line")[0]
    assert t["tls"] is None and t["queue_id"] == m.queue_id, t


def test_backend_implicit_verified(mxshield, backend, certs):
    tls_backend(backend, certs, "implicit")
    mx = start(mxshield, certs, "implicit")
    c = mx.client()
    assert c.reply().raw == GREETING
    c.ehlo("client.example.net")
    content = make_message()
    r = c.transaction("sender@example.net", ["rcpt@example.com"], content)
    (m,) = backend.wait_messages(1)
    assert (r.code, r.text) == (250, "2.0.0 Ok: queued as " + m.queue_id)
    (s,) = backend.sessions
    assert s.tls is not None and s.plain_commands is None
    assert s.commands[:2] == [b"EHLO client.example.net\r\n", b"MAIL FROM:<sender@example.net>\r\n"], s.commands
    _, rest = tlsutil.parse_received(m.data)
    assert rest == dot_stuff(content)


@pytest.mark.parametrize("client_mode,backend_mode", [("starttls", "starttls"), ("starttls", "implicit"),
                                                      ("implicit", "starttls"), ("implicit", "implicit")])
def test_tls_on_both_legs(mxshield, backend, certs, client_mode, backend_mode):
    """TLS on both legs. The client's EHLO reply is the backend's list
    from inside its TLS, filtered, plus mxshield's own STARTTLS (once,
    on a starttls listener before TLS); the backend's STARTTLS is
    handled by mxshield, never relayed."""
    tls_backend(backend, certs, backend_mode)
    backend.tls_capabilities = list(smtpkit.DEFAULT_CAPS) + ["DSN", "X-INSIDE-TLS", "CHUNKING"]
    mx = start(mxshield, certs, backend_mode, **tlsutil.tls_config(certs, client_mode))
    if client_mode == "starttls":
        c = mx.client()
        assert c.reply().raw == GREETING
        r = c.ehlo("both.example.net")
        assert [l.upper() for l in r.lines].count("STARTTLS") == 1, r
        assert c.cmd("STARTTLS").code == 220
        tlsutil.starttls(c, certs.client_context())
    else:
        c = tlsutil.implicit_client(mx.port, certs.client_context())
        mx.clients.append(c)
        assert c.reply().raw == GREETING
    r = c.ehlo("both.example.net")
    assert "STARTTLS" not in r.lines and "CHUNKING" not in r.lines, r
    assert "DSN" in r.lines and "X-INSIDE-TLS" not in r.lines, r
    r = c.transaction("sender@example.net", ["rcpt@example.com"], make_message())
    assert r.code == 250, r
    (m,) = backend.wait_messages(1)
    s = m.session
    if client_mode == "starttls":
        # the client's STARTTLS gives it a fresh backend leg, whose
        # first EHLO is the client's one inside TLS; the first leg
        # carried no mail
        first, second = backend.sessions
        assert second is s
        assert "MAIL" not in first.verbs() and first.tls is not None, first.commands
    else:
        (only,) = backend.sessions
        assert only is s
    assert s.tls is not None
    if backend_mode == "starttls":
        assert s.plain_commands == [OUR_EHLO, b"STARTTLS\r\n"], s.plain_commands
        assert s.commands.count(b"STARTTLS\r\n") == 1, s.commands
    else:
        assert s.plain_commands is None and "STARTTLS" not in s.verbs(), s.commands
    rcv, _ = tlsutil.parse_received(m.data)
    assert rcv.group("proto") == "ESMTPS" and rcv.group("tls").startswith("TLSv1."), m.data[:300]


def test_backend_starttls_early_talker(mxshield, backend, certs):
    """The client talks before the greeting while mxshield is still
    setting up TLS with the backend: its EHLO must not reach the backend
    in plaintext (nor be mixed into mxshield's own EHLO/STARTTLS)."""
    tls_backend(backend, certs)
    backend.delay = {"STARTTLS": 0.3}
    # an early talker is refused at once with forbid_unauth_pipelining
    # (test_forbid_pipelining.py); off here, so that the backend's TLS
    # set-up runs while the early EHLO waits
    mx = start(mxshield, certs, limits={"forbid_unauth_pipelining": False})
    c = mx.client()
    c.send(b"EHLO early.example.net\r\n")
    g = c.reply()
    if g.code == 220:
        assert g.raw == GREETING, g
        r = c.reply()
        assert r.code in (250, 503, 554), r
    else:
        # refusing an early talker outright is allowed too
        assert g.code in (421, 554), g
    time.sleep(0.3)
    (s,) = backend.sessions
    assert s.plain_commands == [OUR_EHLO, b"STARTTLS\r\n"], s.plain_commands
    assert s.discarded_after_starttls == b"", s.discarded_after_starttls


def test_backend_verify_off_accepts_untrusted(mxshield, backend, certs):
    tls_backend(backend, certs, cert="untrusted")
    mx = start(mxshield, certs, verify=False, ca=False, server_name=None)
    c = mx.session()
    r = c.transaction("sender@example.net", ["rcpt@example.com"], make_message())
    assert r.code == 250, r
    assert backend.sessions[0].tls is not None


def test_20mb_tls_on_both_legs(mxshield, backend, certs):
    tls_backend(backend, certs)
    backend.keep_transcript = False
    mx = start(mxshield, certs, **tlsutil.tls_config(certs))
    c = mx.client(timeout=120)
    assert c.reply().code == 220
    c.ehlo()
    assert c.cmd("STARTTLS").code == 220
    tlsutil.starttls(c, certs.client_context())
    c.ehlo()
    assert c.cmd("MAIL FROM:<big@example.net> SIZE=20971520").code == 250
    assert c.cmd("RCPT TO:<rcpt@example.com>").code == 250
    assert c.cmd("DATA").code == 354
    h = hashlib.sha256()
    head = b"From: <big@example.net>\r\nSubject: 20 MB over TLS\r\n\r\n"
    block = b"".join((b".%07d " % i if i % 499 == 0 else b"%08d " % i) + b"0123456789abcdef" * 4 + b"\r\n"
                     for i in range(14000))
    wire_block = dot_stuff(block)          # each block starts after a CRLF
    c.send(head)
    h.update(head)
    total = len(head)
    while total < 20 * 1024 * 1024:
        c.send(wire_block)
        h.update(block)
        total += len(block)
    c.send(b".\r\n")
    r = c.reply(timeout=120)
    assert r.code == 250, r
    (m,) = backend.wait_messages(1, timeout=10)
    assert backend.sessions[0].tls is not None
    _, rest = tlsutil.parse_received(m.data)
    content = smtpkit.dot_unstuff(rest)
    assert len(content) == total, (len(content), total)
    assert hashlib.sha256(content).hexdigest() == h.hexdigest()


# --------------------------------------------------------------------------
# Verification failures and downgrades: 421 4.4.2, logged, no plaintext
# --------------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["starttls", "implicit"])
def test_backend_untrusted_certificate(mxshield, backend, certs, mode):
    tls_backend(backend, certs, mode, cert="untrusted")
    mx = start(mxshield, certs, mode)
    assert_refused_at_greeting(mx, backend)
    assert backend.sessions[0].tls is None, "mxshield completed TLS with an untrusted certificate"
    lines = mx.wait_log(lambda l: l.get("event") in ("tls", "backend") and "backend" in l.get("msg", ""),
                        what="log line about the backend's TLS")
    text = " ".join(l["msg"] for l in lines).lower()
    assert any(w in text for w in ("verif", "certificate", "x509", "trust")), \
        "the log does not say why: %r" % lines
    # again, and mxshield still fine
    assert_refused_at_greeting(mx, backend)
    assert mx.alive()


def test_backend_wrong_server_name(mxshield, backend, certs):
    tls_backend(backend, certs)
    mx = start(mxshield, certs, server_name="wrong.test.example")
    assert_refused_at_greeting(mx, backend)
    assert backend.sessions[0].tls is None
    lines = mx.wait_log(lambda l: l.get("event") in ("tls", "backend") and "backend" in l.get("msg", ""),
                        what="log line about the backend's TLS")
    text = " ".join(l["msg"] for l in lines).lower()
    assert any(w in text for w in ("cn", "name", "verif", "certificate")), lines


def test_backend_by_ip_untrusted_without_server_name(mxshield, backend, certs):
    """Verification on, backend addressed by IP, no tls_server_name: an
    untrusted certificate still fails."""
    tls_backend(backend, certs, cert="untrusted")
    mx = start(mxshield, certs, server_name=None)
    assert_refused_at_greeting(mx, backend)


def test_backend_does_not_offer_starttls(mxshield, backend, certs):
    """backend.tls = "starttls" but the backend has no STARTTLS: 421
    4.4.2, never a silent downgrade to plaintext."""
    mx = start(mxshield, certs)
    assert_refused_at_greeting(mx, backend)
    (s,) = backend.sessions
    assert s.commands[:1] == [OUR_EHLO], s.commands
    assert "STARTTLS" not in s.verbs()
    mx.wait_log(lambda l: "STARTTLS" in l.get("msg", "") + str(l.get("reason", "")),
                what="log line about the missing STARTTLS")


def test_backend_refuses_starttls(mxshield, backend, certs):
    tls_backend(backend, certs)
    backend.replies = {"STARTTLS": b"454 4.7.0 TLS not available due to temporary reason"}
    mx = start(mxshield, certs)
    assert_refused_at_greeting(mx, backend)
    (s,) = backend.sessions
    assert s.commands[:2] == [OUR_EHLO, b"STARTTLS\r\n"], s.commands


def test_backend_implicit_but_plaintext(mxshield, backend, certs):
    """backend.tls = "implicit" against a plaintext server: its greeting
    is not a ServerHello; 421 4.4.x, no plaintext fallback."""
    mx = start(mxshield, certs, "implicit")
    c = mx.client()
    r = c.reply(timeout=8)
    assert r.code == 421 and r.enh in ("4.4.1", "4.4.2"), r
    assert b"backend.test" not in c.received
    c.expect_closed(3)
    # the plaintext backend got mxshield's ClientHello (or nothing, when
    # the close reset the connection first); no SMTP command ever came
    backend.wait_all_closed(3)
    seen = b"".join(backend.all_transcripts())
    assert seen == b"" or seen.startswith(b"\x16\x03"), seen[:100]
    assert b"EHLO" not in seen and b"MAIL" not in seen, seen


@pytest.mark.parametrize("inject", [b"250 injected\r\n",
                                    b"220 evil.example ESMTP fake\r\n250-evil.example\r\n250 AUTH PLAIN\r\n"],
                         ids=["one-line", "fake-greeting-and-ehlo"])
def test_backend_response_injection(mxshield, backend, certs, inject):
    tls_backend(backend, certs)
    backend.starttls_inject = inject
    mx = start(mxshield, certs)
    c = mx.client()
    g = c.reply()
    assert g.raw == GREETING, g
    r = c.ehlo("client.example.net")
    assert r.lines[0] == "backend.test Hello client.example.net", r
    r = c.transaction("sender@example.net", ["rcpt@example.com"], make_message())
    assert r.code == 250, r
    assert c.cmd("NOOP").code == 250
    c.cmd("QUIT")
    assert b"injected" not in c.received and b"evil" not in c.received, c.received
    (m,) = backend.wait_messages(1)
    assert r.text == "2.0.0 Ok: queued as " + m.queue_id
    assert backend.sessions[0].tls is not None
    mx.wait_log(lambda l: l.get("event") == "tls" and "discard" in l.get("msg", "") and
                "%d bytes" % len(inject) in l.get("msg", ""), what="response injection log line")


def test_backend_tls_on_replacement_connection(mxshield, backend, certs):
    """A message refused after its body started (a bare LF deep in it)
    costs the backend connection; the fresh one must do STARTTLS again
    before the client's EHLO is replayed, and the session goes on."""
    tls_backend(backend, certs)
    mx = start(mxshield, certs)
    c = mx.session("replay.example.net")
    assert c.cmd("MAIL FROM:<sender@example.net>").code == 250
    assert c.cmd("RCPT TO:<rcpt@example.com>").code == 250
    assert c.cmd("DATA").code == 354
    c.send(b"Subject: big\r\n\r\n" + (b"y" * 70 + b"\r\n") * 5000 + b"bare\nline\r\n.\r\n")
    r = c.reply(timeout=15)
    assert (r.code, r.enh) == (550, "5.5.2"), r
    content = make_message(subject="after the replacement")
    r = c.transaction("next@example.net", ["rcpt@example.com"], content)
    assert r.code == 250, r
    (m,) = backend.wait_messages(1)
    assert r.text.endswith(m.queue_id)
    assert len(backend.sessions) == 2, backend.sessions
    s2 = backend.sessions[1]
    assert s2.tls is not None, s2
    assert s2.plain_commands == [OUR_EHLO, b"STARTTLS\r\n"], s2.plain_commands
    assert s2.commands[2] == b"EHLO replay.example.net\r\n", s2.commands
    assert m.session is s2
    _, rest = tlsutil.parse_received(m.data)
    assert rest == dot_stuff(content)


class StallingTLSBackend:
    """Greets, offers STARTTLS, answers it with 220, then never speaks
    TLS (reads and ignores the ClientHello)."""

    def __init__(self):
        self.ls = socket.socket()
        self.ls.bind(("127.0.0.1", 0))
        self.ls.listen(4)
        self.ls.settimeout(0.1)
        self.port = self.ls.getsockname()[1]
        self.stop_ev = threading.Event()
        self.conns = []
        self.got_starttls = threading.Event()
        self.t = threading.Thread(target=self._serve, daemon=True)
        self.t.start()

    def _serve(self):
        while not self.stop_ev.is_set():
            try:
                conn, _ = self.ls.accept()
            except OSError:
                continue
            self.conns.append(conn)
            threading.Thread(target=self._one, args=(conn,), daemon=True).start()

    def _one(self, conn):
        try:
            conn.settimeout(30)
            conn.sendall(b"220 stall.example ESMTP\r\n")
            f = conn.makefile("rb")
            for line in f:
                if line.upper().startswith(b"EHLO"):
                    conn.sendall(b"250-stall.example\r\n250 STARTTLS\r\n")
                elif line.upper().startswith(b"STARTTLS"):
                    conn.sendall(b"220 2.0.0 go ahead\r\n")
                    self.got_starttls.set()
                    while conn.recv(4096):
                        pass
                    return
        except OSError:
            pass

    def close(self):
        self.stop_ev.set()
        self.t.join(3)
        for c in self.conns:
            try:
                c.close()
            except OSError:
                pass
        self.ls.close()


def test_backend_tls_handshake_stalls(mxshield, certs):
    """The backend says 220 to STARTTLS and then never completes the
    handshake: bounded by backend.connect_timeout (the greeting is not
    relayed before TLS is up), 421 to the client, nothing else."""
    stall = StallingTLSBackend()
    try:
        mx = mxshield({"backend": {"tls": "starttls", "tls_ca_file": certs.ca,
                                   "tls_server_name": "backend.test.example",
                                   "connect_timeout": 2, "reply_timeout": 3},
                       "tls": {"handshake_timeout": 2}}, backend_port=stall.port)
        c = mx.client()
        t = time.monotonic()
        r = c.reply(timeout=8)
        took = time.monotonic() - t
        assert stall.got_starttls.is_set()
        assert r.code == 421 and r.enh in ("4.4.1", "4.4.2"), r
        assert took <= 5, "421 only after %.1f s" % took
        assert b"stall.example" not in c.received
        c.expect_closed(3)
    finally:
        stall.close()


# --------------------------------------------------------------------------
# --check-config loads the CA file
# --------------------------------------------------------------------------

def _check(tmp_path, backend_text):
    p = tmp_path / "b.conf"
    p.write_text('listen = ( { address = "127.0.0.1"; port = 2525; } );\n'
                 'backend = { address = "127.0.0.1"; port = 2526; client_info = "xclient"; %s };\n'
                 % backend_text)
    r = subprocess.run([conftest.MXSHIELD_BIN, "--check-config", "-c", str(p)], capture_output=True,
                       timeout=30, stdin=subprocess.DEVNULL, env=conftest.sanitizer_env())
    err = r.stderr.decode("utf-8", "replace")
    for mark in conftest.SANITIZER_MARKS:
        assert mark not in err, err
    return r.returncode, r.stdout.decode(), conftest.strip_machine_warnings(err), str(p)


def test_check_config_backend_ca(tmp_path, certs):
    rc, out, err, path = _check(tmp_path, 'tls = "starttls"; tls_ca_file = "%s"; '
                                'tls_server_name = "backend.test.example";' % certs.ca)
    assert (rc, out, err) == (0, "%s: OK\n" % path, ""), (rc, out, err)
    missing = str(tmp_path / "no-such-ca.pem")
    rc, out, err, _ = _check(tmp_path, 'tls = "starttls"; tls_ca_file = "%s";' % missing)
    assert rc == 1 and missing in err, (rc, out, err)
    bad = tmp_path / "bad-ca.pem"
    bad.write_text("not a certificate\n")
    rc, out, err, _ = _check(tmp_path, 'tls = "implicit"; tls_ca_file = "%s";' % bad)
    assert rc == 1 and str(bad) in err, (rc, out, err)


def test_check_config_warns_when_an_ip_backend_has_no_name_to_verify(tmp_path, certs):
    # mbedTLS 2.28 cannot match IP addresses in certificates: verifying a
    # backend addressed by IP without tls_server_name checks the chain only
    rc, out, err, path = _check(tmp_path, 'tls = "starttls"; tls_ca_file = "%s";' % certs.ca)
    assert (rc, out) == (0, "%s: OK\n" % path), (rc, out, err)
    assert "tls_server_name" in err and "127.0.0.1" in err, err
    rc, out, err, path = _check(tmp_path, 'tls = "starttls"; tls_verify = false;')
    assert (rc, out, err) == (0, "%s: OK\n" % path, ""), (rc, out, err)
