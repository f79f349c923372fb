"""
TLS on the client leg (DESIGN.md "EHLO", "Hostile input"; the TLS issue):
listen.tls = "starttls" / "implicit" / "none", STARTTLS owned by mxshield
and never relayed, the RFC 3207 state reset, plaintext pipelined after
STARTTLS discarded (CVE-2011-0411), auth.require_tls, the TLS version and
cipher in the Received: field and the logs, hostile handshakes that end
only their own session, and --check-config loading the files.

Every test checks what the client was told and what the recording
backend received; certificates come from tlsutil (made at test time).
"""

import base64
import os
import random
import re
import smtplib
import socket
import ssl
import subprocess
import time

import pytest

import conftest
import smtpkit
import tlsutil
from smtpkit import dot_stuff, make_message
from tlsutil import certs_fixture  # noqa: F401  (the certs fixture)

TLS_INFO_RE = r"^TLSv1\.[23] TLS-[A-Z0-9-]+$"


def start(mxshield, certs, listen_tls="starttls", **over):
    return mxshield(conftest.merge(tlsutil.tls_config(certs, listen_tls), over))


def tls_session(mx, certs, helo="tls.example.net", timeout=10):
    """A raw client past greeting, EHLO, STARTTLS, handshake and EHLO."""
    c = mx.client(timeout=timeout)
    assert c.reply().code == 220
    r = c.ehlo(helo)
    assert "STARTTLS" in r.lines, r
    r = c.cmd("STARTTLS")
    assert (r.code, r.enh) == (220, "2.0.0"), r
    assert tlsutil.starttls(c, certs.client_context()) == b""
    r = c.ehlo(helo)
    assert "STARTTLS" not in r.lines, r
    return c


def implicit_session(mx, certs, helo="tls.example.net", timeout=10):
    c = tlsutil.implicit_client(mx.port, certs.client_context(), timeout=timeout)
    mx.clients.append(c)
    g = c.reply()
    assert g.code == 220, g
    c.ehlo(helo)
    return c


def deliver(c, backend, n, subject="tls"):
    """One message on an open session; returns (reply, stored message)."""
    content = make_message(subject=subject)
    r = c.transaction("sender@example.net", ["rcpt@example.com"], content)
    assert r.code == 250, r
    msgs = backend.wait_messages(n)
    m = msgs[n - 1]
    assert r.text == "2.0.0 Ok: queued as " + m.queue_id
    _, rest = tlsutil.parse_received(m.data)
    assert rest == dot_stuff(content)
    return r, m


def assert_tls_received(m, helo, proto="ESMTPS"):
    """mxshield's Received: says proto with (TLSv1.x cipher); returns
    the "TLSv1.x cipher" text."""
    rcv, _ = tlsutil.parse_received(m.data)
    assert rcv.group("proto") == proto, m.data[:400]
    assert rcv.group("helo") == helo, m.data[:400]
    assert rcv.group("ip") == "127.0.0.1"
    assert rcv.group("tls") is not None, "no (TLS version cipher) comment: %r" % m.data[:400]
    assert re.match(TLS_INFO_RE, rcv.group("tls")), rcv.group("tls")
    return rcv.group("tls")


def txn_log(mx, n=1):
    return mx.wait_log(lambda l: l.get("event") == "txn", what="txn line")[n - 1]


# --------------------------------------------------------------------------
# Real clients
# --------------------------------------------------------------------------

def test_openssl_s_client_starttls(mxshield, backend, certs, procs):
    mx = start(mxshield, certs)
    p = procs(tlsutil.s_client_argv(mx.port, certs, extra=["-brief", "-ign_eof"]),
              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    s = tlsutil.Interactive(p)
    s.expect(rb"^Verification: OK", stream="err")
    s.expect(rb"^Verified peername: mx\.test\.example", stream="err")
    ver = s.expect(rb"^Protocol version: (\S+)", stream="err").group(1).decode()
    cipher = s.expect(rb"^Ciphersuite: (\S+)", stream="err").group(1).decode()
    s.write("EHLO sclient.example.net\n")
    ehlo = s.expect(rb"^250 .*\r?\n")
    ehlo_text = bytes(s.out[:ehlo.end()])
    assert b"250-backend.test Hello sclient.example.net" in ehlo_text, ehlo_text
    assert b"STARTTLS" not in ehlo_text, ehlo_text
    s.write("MAIL FROM:<sclient@example.net>\n")
    s.expect(rb"^250 2\.1\.0")
    s.write("rcpt TO:<rcpt@example.com>\n")
    s.expect(rb"^250 2\.1\.5")
    s.write("DATA\n")
    s.expect(rb"^354 ")
    s.write("Subject: via s_client\nMessage-ID: <sclient-1@example.net>\n\nhello over TLS\n..dot\n.\n")
    qid = s.expect(rb"^250 2\.0\.0 Ok: queued as (\w+)").group(1).decode()
    s.write("QUIT\n")
    s.expect(rb"^221 ")
    s.close_stdin()
    assert s.wait(10) is not None, "s_client still running after QUIT"
    (m,) = backend.wait_messages(1)
    assert m.queue_id == qid
    assert m.mail_from == "FROM:<sclient@example.net>" and m.rcpts == ["rcpt@example.com"]
    info = assert_tls_received(m, "sclient.example.net")
    assert info.split(" ")[0] == ver, (info, ver)
    assert tlsutil.same_cipher(info.split(" ")[1], cipher), (info, cipher)
    _, rest = tlsutil.parse_received(m.data)
    assert rest == b"Subject: via s_client\r\nMessage-ID: <sclient-1@example.net>\r\n\r\nhello over TLS\r\n..dot\r\n"
    # the backend got both EHLOs (plaintext one, then ours inside TLS), never STARTTLS
    verbs = backend.all_verbs()
    assert "STARTTLS" not in verbs, verbs
    assert verbs[:2] == ["EHLO", "EHLO"], verbs
    t = txn_log(mx)
    assert t["tls"] == info and t["queue_id"] == qid and t["helo"] == "sclient.example.net", t
    sess = mx.wait_log(lambda l: l.get("event") == "session", what="session line")[0]
    assert sess["tls"] == info and sess["reason"] == "quit", sess


def test_swaks_starttls(mxshield, backend, certs):
    mx = start(mxshield, certs)
    out = subprocess.run(
        ["swaks", "--server", "127.0.0.1:%d" % mx.port, "--tls", "--tls-verify",
         "--tls-ca-path", certs.ca, "--helo", "swaks.example.net", "--from", "sender@example.net",
         "--to", "rcpt@example.com", "--timeout", "15", "--header", "Message-ID: <swaks-tls@example.net>"],
        capture_output=True, timeout=30, stdin=subprocess.DEVNULL)
    text = out.stdout.decode("utf-8", "replace")
    assert out.returncode == 0, text + out.stderr.decode()
    (m,) = backend.wait_messages(1)
    assert "=== TLS started with cipher TLSv1.2:" in text, text
    assert "<~  250 2.0.0 Ok: queued as %s\n" % m.queue_id in text, text
    assert " -> STARTTLS" in text and "<-  220 2.0.0" in text, text
    assert_tls_received(m, "swaks.example.net")
    assert b"Message-ID: <swaks-tls@example.net>\r\n" in m.data
    assert "STARTTLS" not in backend.all_verbs()
    assert txn_log(mx)["tls"].startswith("TLSv1.2 ")


def test_swaks_implicit_tls(mxshield, backend, certs):
    mx = start(mxshield, certs, "implicit")
    out = subprocess.run(
        ["swaks", "--server", "127.0.0.1:%d" % mx.port, "--tlsc", "--tls-verify",
         "--tls-ca-path", certs.ca, "--helo", "swaksc.example.net", "--from", "sender@example.net",
         "--to", "rcpt@example.com", "--timeout", "15"],
        capture_output=True, timeout=30, stdin=subprocess.DEVNULL)
    text = out.stdout.decode("utf-8", "replace")
    assert out.returncode == 0, text + out.stderr.decode()
    (m,) = backend.wait_messages(1)
    assert "<~  220 backend.test ESMTP recorder" in text, text
    assert "<~  250 2.0.0 Ok: queued as %s\n" % m.queue_id in text, text
    # TLS is already up: STARTTLS is not offered on an implicit listener
    assert "STARTTLS" not in text.split("EHLO swaksc.example.net", 1)[1].split("MAIL FROM")[0], text
    info = assert_tls_received(m, "swaksc.example.net")
    assert txn_log(mx)["tls"] == info
    assert "STARTTLS" not in backend.all_verbs()


def test_smtplib_starttls(mxshield, backend, certs):
    mx = start(mxshield, certs)
    content = make_message(msgid="<smtplib-tls@example.net>")
    # server_hostname is "127.0.0.1": verified against the IP SAN
    with smtplib.SMTP("127.0.0.1", mx.port, timeout=10) as c:
        code, caps = c.ehlo("smtplib.example.net")
        assert code == 250 and c.has_extn("starttls"), caps
        code, resp = c.starttls(context=certs.client_context())
        assert (code, resp) == (220, b"2.0.0 Ready to start TLS")
        version, cipher = c.sock.version(), c.sock.cipher()[0]
        code, caps = c.ehlo("smtplib.example.net")
        assert code == 250 and not c.has_extn("starttls"), caps
        assert c.mail("sender@example.net") == (250, b"2.1.0 Ok")
        assert c.rcpt("rcpt@example.com") == (250, b"2.1.5 Ok")
        code, resp = c.data(content)
    (m,) = backend.wait_messages(1)
    assert (code, resp) == (250, b"2.0.0 Ok: queued as " + m.queue_id.encode())
    info = assert_tls_received(m, "smtplib.example.net")
    assert info.split(" ")[0] == version, (info, version)
    assert tlsutil.same_cipher(info.split(" ")[1], cipher), (info, cipher)
    _, rest = tlsutil.parse_received(m.data)
    assert rest == dot_stuff(content)
    t = txn_log(mx)
    assert t["tls"] == info and t["message_id"] == "<smtplib-tls@example.net>", t
    rcv, _ = tlsutil.parse_received(m.data)
    assert int(rcv.group("id"), 16) == int(str(t["sid"]), 16)
    assert "STARTTLS" not in backend.all_verbs()


def test_plain_session_on_starttls_listener_says_esmtp(mxshield, backend, certs):
    """STARTTLS offered but not taken: no TLS claim anywhere."""
    mx = start(mxshield, certs)
    c = mx.session("plain.example.net")
    deliver(c, backend, 1)
    rcv, _ = tlsutil.parse_received(backend.transactions[0].data)
    assert rcv.group("proto") == "ESMTP" and rcv.group("tls") is None, backend.transactions[0].data[:300]
    assert txn_log(mx)["tls"] is None


# --------------------------------------------------------------------------
# STARTTLS: advertised, owned, never relayed
# --------------------------------------------------------------------------

def test_listener_kinds_on_one_instance(mxshield, backend, certs):
    """none, starttls and implicit listeners side by side (two workers):
    each behaves as its own tls setting says. The backend itself offers
    STARTTLS: mxshield never passes that on."""
    backend.capabilities = backend.capabilities + ["STARTTLS"]
    ports = [smtpkit.free_port() for _ in range(3)]
    mx = mxshield({"tls": {"cert_file": certs.server, "key_file": certs.server_key},
                   "listen": [{"address": "127.0.0.1", "port": ports[0], "tls": "none"},
                              {"address": "127.0.0.1", "port": ports[1], "tls": "starttls"},
                              {"address": "127.0.0.1", "port": ports[2], "tls": "implicit"}]},
                  workers=2)
    for p in ports[1:]:
        smtpkit.wait_for(lambda: smtpkit.listening(p), 5, what="listener %d" % p)
    for round_ in range(2):                 # both workers get a connection
        # none: no STARTTLS offered, and refused
        c = smtpkit.session(ports[0])
        mx.clients.append(c)
        r = c.ehlo()
        assert "STARTTLS" not in [l.upper() for l in r.lines], r
        r = c.cmd("STARTTLS")
        assert (r.code, r.enh) == (454, "4.7.0"), r
        assert c.cmd("NOOP").code == 250
        c.cmd("QUIT")
        # starttls: offered once (ours, not the backend's twice)
        c = smtpkit.session(ports[1])
        mx.clients.append(c)
        r = c.ehlo()
        assert [l.upper() for l in r.lines].count("STARTTLS") == 1, r
        assert c.cmd("STARTTLS").code == 220
        tlsutil.starttls(c, certs.client_context())
        r = c.ehlo()
        assert "STARTTLS" not in [l.upper() for l in r.lines], r
        c.cmd("QUIT")
        # implicit: TLS from the first byte, no STARTTLS offered, 503 if tried
        c = tlsutil.implicit_client(ports[2], certs.client_context())
        mx.clients.append(c)
        assert c.reply().code == 220
        r = c.ehlo()
        assert "STARTTLS" not in [l.upper() for l in r.lines], r
        r = c.cmd("STARTTLS")
        assert (r.code, r.enh) == (503, "5.5.1"), r
        assert c.cmd("NOOP").code == 250
        c.cmd("QUIT")
    assert "STARTTLS" not in backend.all_verbs(), backend.all_verbs()
    smtpkit.wait_for(lambda: len(mx.logs("session")) == 6, 5, what="6 session lines")
    tls_by_port = sorted((l["tls"] is not None) for l in mx.logs("session"))
    assert tls_by_port == [False, False, True, True, True, True], mx.logs("session")


def test_starttls_twice(mxshield, backend, certs):
    mx = start(mxshield, certs)
    c = tls_session(mx, certs)
    r = c.cmd("STARTTLS")
    assert (r.code, r.enh) == (503, "5.5.1"), r
    # still in TLS, still working
    assert c.cmd("NOOP").code == 250
    deliver(c, backend, 1)
    assert "STARTTLS" not in backend.all_verbs(), backend.all_verbs()


def test_starttls_with_argument_or_in_transaction_is_not_relayed(mxshield, backend, certs):
    """Whatever mxshield answers a malformed STARTTLS, the backend never
    sees the verb."""
    mx = start(mxshield, certs)
    c = mx.session()
    r = c.cmd("STARTTLS now")
    assert r.code in (501, 220), r
    if r.code == 220:
        tlsutil.starttls(c, certs.client_context())
        c.ehlo()
    assert c.cmd("NOOP").code == 250
    assert "STARTTLS" not in backend.all_verbs()


# --------------------------------------------------------------------------
# CVE-2011-0411: plaintext pipelined after STARTTLS
# --------------------------------------------------------------------------

@pytest.mark.parametrize("injected", [b"RSET\r\n", b"MAIL FROM:<injected@evil.example>\r\n",
                                      b"HELP\r\nNOOP\r\nQUIT\r\n"],
                         ids=["rset", "mail", "several"])
def test_starttls_command_injection(mxshield, backend, certs, injected):
    # EHLO and STARTTLS in one write: forbid_unauth_pipelining off, so
    # that the discarding of what follows STARTTLS is what is tested
    mx = start(mxshield, certs, limits={"forbid_unauth_pipelining": False})
    c = mx.client()
    assert c.reply().code == 220
    c.send(b"EHLO x.example.net\r\nSTARTTLS\r\n" + injected)
    r = c.reply()
    assert r.code == 250 and "STARTTLS" in r.lines, r
    r = c.reply()
    assert (r.code, r.enh) == (220, "2.0.0"), r
    # nothing else in plaintext (no reply to the injected commands)
    assert tlsutil.starttls(c, certs.client_context()) == b"", "plaintext after the 220"
    # inside TLS, the first reply is the one to our own VRFY (252),
    # not a reply to anything injected
    r = c.cmd("VRFY probe")
    assert r.code == 252, r
    c.ehlo("x.example.net")
    r = c.transaction("good@example.net", ["rcpt@example.com"], make_message())
    assert r.code == 250, r
    (m,) = backend.wait_messages(1)
    assert m.mail_from == "FROM:<good@example.net>", m.mail_from
    cmds = backend.all_commands()
    assert not any(b"injected@evil" in x for x in cmds), cmds
    for line in injected.split(b"\r\n")[:-1]:
        assert line + b"\r\n" not in cmds, "injected %r reached the backend: %r" % (line, cmds)
    verbs = backend.all_verbs()
    assert verbs == ["EHLO", "VRFY", "EHLO", "MAIL", "RCPT", "DATA"], verbs
    warn = mx.wait_log(lambda l: l.get("event") == "tls" and "STARTTLS" in l.get("msg", "")
                       and "discard" in l.get("msg", ""), what="injection log line")
    assert ("%d bytes" % len(injected)) in warn[0]["msg"], warn[0]


def test_starttls_injection_split_segments(mxshield, backend, certs):
    """The injected command arrives as its own segment right after
    STARTTLS, before the client read the 220: it can be read either as
    plaintext to discard or as a broken handshake; never executed."""
    mx = start(mxshield, certs)
    c = mx.session()
    c.send(b"STARTTLS\r\n")
    c.send(b"MAIL FROM:<split@evil.example>\r\n")
    r = c.reply()
    assert r.code == 220, r
    try:
        tlsutil.starttls(c, certs.client_context())
        ok = True
    except (ssl.SSLError, OSError):
        ok = False
    if ok:
        r = c.cmd("VRFY probe")
        assert r.code == 252, r
    time.sleep(0.2)
    assert not any(b"split@evil" in x for x in backend.all_commands()), backend.all_commands()
    assert "MAIL" not in backend.all_verbs()
    # the server lives on
    c2 = tls_session(mx, certs)
    deliver(c2, backend, 1)


# --------------------------------------------------------------------------
# RFC 3207 4.2: state forgotten after STARTTLS
# --------------------------------------------------------------------------

def test_state_reset_transaction_forgotten(mxshield, backend, certs):
    mx = start(mxshield, certs)
    c = mx.session("before.example.net")
    assert c.cmd("MAIL FROM:<before@example.net>").code == 250
    r = c.cmd("STARTTLS")
    assert (r.code, r.enh) == (220, "2.0.0"), r
    tlsutil.starttls(c, certs.client_context())
    c.ehlo("after.example.net")
    # the MAIL given in plaintext is gone: RCPT has no transaction
    r = c.cmd("RCPT TO:<rcpt@example.com>")
    assert r.code == 503, r
    r = c.transaction("after@example.net", ["rcpt@example.com"], make_message())
    assert r.code == 250, r
    (m,) = backend.wait_messages(1)
    assert m.mail_from == "FROM:<after@example.net>"
    assert_tls_received(m, "after.example.net")
    smtpkit.wait_for(lambda: len(mx.logs("txn")) >= 2, 3, what="two txn lines")
    aborted, accepted = mx.logs("txn")[:2]
    # the plaintext transaction is logged as aborted, the TLS one accepted
    assert (aborted["result"], aborted["mail_from"], aborted["tls"]) == \
        ("aborted", "before@example.net", None), aborted
    assert (accepted["result"], accepted["helo"], accepted["mail_from"]) == \
        ("accepted", "after.example.net", "after@example.net"), accepted
    assert accepted["tls"] and accepted["tls"].startswith("TLSv1."), accepted
    assert "STARTTLS" not in backend.all_verbs()


def test_state_reset_without_new_ehlo(mxshield, backend, certs):
    """The plaintext MAIL must be gone at the backend too: RCPT right
    after the handshake (no EHLO that would reset the backend) is
    refused, never added to the old transaction."""
    mx = start(mxshield, certs)
    c = mx.session("before.example.net")
    assert c.cmd("MAIL FROM:<before@example.net>").code == 250
    assert c.cmd("STARTTLS").code == 220
    tlsutil.starttls(c, certs.client_context())
    r = c.cmd("RCPT TO:<rcpt@example.com>")
    assert r.code == 503, r
    r = c.cmd("DATA")
    assert r.code in (503, 554), r
    c.ehlo("after.example.net")
    r = c.transaction("after@example.net", ["rcpt@example.com"], make_message())
    assert r.code == 250, r
    (m,) = backend.wait_messages(1)
    assert m.mail_from == "FROM:<after@example.net>" and m.rcpts == ["rcpt@example.com"]


def test_state_reset_helo_forgotten(mxshield, backend, certs):
    """MAIL right after TLS without a new EHLO. The recording backend
    (like the backend mxshield talks to, which never saw STARTTLS) still
    accepts it, so the reply is the backend's; what must not survive is
    the plaintext EHLO name: neither the Received: field nor the log may
    carry it, and the protocol word cannot be ESMTP(S) without an EHLO
    (core/received.c: "SMTP")."""
    mx = start(mxshield, certs)
    c = mx.session("plaintext-name.example.net")
    assert c.cmd("STARTTLS").code == 220
    tlsutil.starttls(c, certs.client_context())
    r = c.cmd("MAIL FROM:<noehlo@example.net>")
    if r.code != 250:
        # a refusal (503 5.5.1 "send EHLO first") is as good
        assert r.code == 503, r
        assert "MAIL" not in backend.all_verbs()
        return
    assert c.cmd("RCPT TO:<rcpt@example.com>").code == 250
    assert c.cmd("DATA").code == 354
    c.send(dot_stuff(make_message()) + b".\r\n")
    assert c.reply().code == 250
    (m,) = backend.wait_messages(1)
    assert b"plaintext-name" not in m.data, m.data[:300]
    rcv, _ = tlsutil.parse_received(m.data)
    assert rcv.group("proto") == "SMTP", m.data[:300]
    assert rcv.group("tls") and rcv.group("tls").startswith("TLSv1."), m.data[:300]
    t = txn_log(mx)
    assert t["helo"] in (None, ""), t
    assert t["tls"] is not None, t


# --------------------------------------------------------------------------
# auth.require_tls
# --------------------------------------------------------------------------

def test_auth_require_tls(mxshield, backend, certs):
    backend.capabilities = backend.capabilities + ["AUTH PLAIN LOGIN"]
    mx = start(mxshield, certs, auth={"require_tls": True})
    c = mx.session()
    r = c.ehlo()
    assert not any(l.upper().startswith("AUTH") for l in r.lines), r
    assert "STARTTLS" in r.lines, r
    cred = base64.b64encode(b"\0alice@example.com\0secret").decode()
    r = c.cmd("AUTH PLAIN " + cred)
    assert (r.code, r.enh) == (538, "5.7.11"), r
    r = c.cmd("AUTH LOGIN")
    assert (r.code, r.enh) == (538, "5.7.11"), r
    assert c.cmd("NOOP").code == 250       # not a 334 exchange in progress
    assert "AUTH" not in backend.all_verbs() and backend.sessions[0].auth_lines == []
    assert c.cmd("STARTTLS").code == 220
    tlsutil.starttls(c, certs.client_context())
    r = c.ehlo()
    assert "AUTH PLAIN LOGIN" in r.lines, r
    r = c.cmd("AUTH PLAIN " + cred)
    assert (r.code, r.enh) == (235, "2.7.0"), r
    # after STARTTLS the session speaks on a fresh backend leg
    assert backend.sessions[0].auth_lines == []
    assert backend.sessions[-1].auth_lines == [b"AUTH PLAIN " + cred.encode()]
    r = c.transaction("alice@example.com", ["rcpt@example.com"], make_message())
    assert r.code == 250, r
    (m,) = backend.wait_messages(1)
    assert_tls_received(m, "client.example.net", proto="ESMTPSA")


def test_auth_without_require_tls_is_relayed_in_plaintext(mxshield, backend, certs):
    """The default (require_tls off): AUTH is offered and relayed before TLS."""
    backend.capabilities = backend.capabilities + ["AUTH PLAIN LOGIN"]
    mx = start(mxshield, certs)
    c = mx.session()
    r = c.ehlo()
    assert "AUTH PLAIN LOGIN" in r.lines, r
    cred = base64.b64encode(b"\0bob\0pw").decode()
    assert c.cmd("AUTH PLAIN " + cred).code == 235
    assert backend.sessions[0].auth_lines == [b"AUTH PLAIN " + cred.encode()]


# --------------------------------------------------------------------------
# Hostile handshakes: each ends its own session, never another one
# --------------------------------------------------------------------------

def _client_hello(server_hostname="mx.test.example"):
    """A real ClientHello, as bytes (memory BIO)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out, server_hostname=server_hostname)
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return out.read()


def _raw(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    return s


def _assert_survived(mx, backend, certs, bystander, n_before, implicit):
    """The session opened before the attack still delivers, and a new
    one does too; mxshield is alive."""
    assert mx.alive()
    deliver(bystander, backend, n_before + 1, subject="bystander")
    c = implicit_session(mx, certs) if implicit else tls_session(mx, certs)
    deliver(c, backend, n_before + 2, subject="after")
    c.cmd("QUIT")


@pytest.mark.parametrize("garbage", [b"EHLO x.example.net\r\n", b"\xfe" + random.Random(7).randbytes(299),
                                     b"\x16\x03\x01\xff\xff" + b"\x01" * 64,
                                     b"\x16\x03\x03\x00\x05\x01\x00\x00\x01\x00"],
                         ids=["smtp", "random", "huge-record", "truncated-hello"])
def test_implicit_garbage_instead_of_client_hello(mxshield, backend, certs, garbage):
    mx = start(mxshield, certs, "implicit")
    bystander = implicit_session(mx, certs)
    s = _raw(mx.port)
    s.sendall(garbage)
    closed, got = tlsutil.wait_closed_raw(s, 4)
    s.close()
    assert closed, "connection still open 4 s after %r" % garbage[:20]
    # no plaintext SMTP ever: not the greeting, not a reply
    assert b"220 " not in got and b"250" not in got, got
    line = mx.wait_log(lambda l: l.get("event") == "session" and "TLS" in l.get("reason", ""),
                       what="session closed for the TLS failure")
    assert line[0]["tls"] is None
    assert not any(b"x.example.net" in x for x in backend.all_commands())
    _assert_survived(mx, backend, certs, bystander, 0, implicit=True)


def test_starttls_garbage_after_220(mxshield, backend, certs):
    mx = start(mxshield, certs)
    bystander = tls_session(mx, certs)
    c = mx.session()
    assert c.cmd("STARTTLS").code == 220
    c.send(b"MAIL FROM:<after-220@evil.example>\r\nRCPT TO:<x@example.com>\r\n")
    closed, got = tlsutil.wait_closed_raw(c.sock, 4)
    assert closed and b"250" not in got, got
    assert not any(b"after-220@evil" in x for x in backend.all_commands())
    mx.wait_log(lambda l: l.get("event") == "tls" and "handshake failed" in l.get("msg", ""),
                what="handshake failure log line")
    _assert_survived(mx, backend, certs, bystander, 0, implicit=False)


def test_implicit_silent_client_handshake_timeout(mxshield, backend, certs):
    mx = start(mxshield, certs, "implicit", tls={"handshake_timeout": 2},
               limits={"command_timeout": 30})
    bystander = implicit_session(mx, certs)
    s = _raw(mx.port)
    t = time.monotonic()
    closed, got = tlsutil.wait_closed_raw(s, 6)
    took = time.monotonic() - t
    s.close()
    assert closed, "a client that never sent a ClientHello is still connected after 6 s " \
                   "(tls.handshake_timeout = 2)"
    assert 1.5 <= took <= 4, "closed after %.2f s, tls.handshake_timeout = 2" % took
    assert b"220" not in got and b"421" not in got, "plaintext SMTP on an implicit listener: %r" % got
    mx.wait_log(lambda l: l.get("event") in ("timeout", "session") and
                "timeout" in (l.get("msg", "") + l.get("reason", "")), what="timeout log line")
    _assert_survived(mx, backend, certs, bystander, 0, implicit=True)


def test_starttls_stalled_handshake_timeout(mxshield, backend, certs):
    """STARTTLS answered, then the client sends half a ClientHello and
    waits: closed after tls.handshake_timeout."""
    mx = start(mxshield, certs, tls={"handshake_timeout": 2}, limits={"command_timeout": 30})
    bystander = tls_session(mx, certs)
    # the bystander's two legs (before and after its STARTTLS)
    backend.wait_for(lambda: len(backend.sessions) == 2, 3, "the bystander's legs")
    c = mx.session()
    assert c.cmd("STARTTLS").code == 220
    # the stalled session's legs: its first, and the fresh one its
    # STARTTLS opened
    backend.wait_for(lambda: len(backend.sessions) == 4, 3, "the stalled session's legs")
    stalled = backend.sessions[2:4]
    hello = _client_hello()
    c.send(hello[:len(hello) // 2])
    t = time.monotonic()
    closed, got = tlsutil.wait_closed_raw(c.sock, 6)
    took = time.monotonic() - t
    assert closed, "stalled handshake still connected after 6 s (handshake_timeout = 2)"
    assert 1.5 <= took <= 4, "closed after %.2f s" % took
    _assert_survived(mx, backend, certs, bystander, 0, implicit=False)
    backend.wait_for(lambda: all(s.closed for s in stalled), 3, "the stalled session's backend legs closed")


@pytest.mark.parametrize("where", ["partial-hello", "after-hello"])
def test_client_closes_mid_handshake(mxshield, backend, certs, where):
    mx = start(mxshield, certs, "implicit")
    bystander = implicit_session(mx, certs)
    s = _raw(mx.port)
    hello = _client_hello()
    if where == "partial-hello":
        s.sendall(hello[:40])
    else:
        s.sendall(hello)
        s.settimeout(3)
        assert s.recv(5)[:1] == b"\x16", "no handshake record back"   # ServerHello...
    port = s.getsockname()[1]
    s.close()
    line = mx.wait_log(lambda l: l.get("event") == "session" and l.get("port") == port,
                       what="session line for the aborted handshake")
    assert line[0]["tls"] is None, line
    backend.wait_for(lambda: len(backend.sessions) >= 2 and backend.sessions[1].closed, 3,
                     "the aborted session's backend leg closed")
    assert backend.sessions[1].commands == [], backend.sessions[1]
    _assert_survived(mx, backend, certs, bystander, 0, implicit=True)


def test_client_renegotiation(mxshield, backend, certs, procs):
    """openssl s_client's "R" asks for a renegotiation (TLS 1.2). mbedTLS
    is built to refuse it; mxshield must refuse or close that session
    cleanly, keep serving it or end it, and survive."""
    mx = start(mxshield, certs)
    bystander = tls_session(mx, certs)
    p = procs(tlsutil.s_client_argv(mx.port, certs, extra=["-no_tls1_3"]),
              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    s = tlsutil.Interactive(p)
    s.expect(rb"Verify return code: 0 \(ok\)", timeout=10)   # handshake summary printed
    s.write("EHLO reneg.example.net\n")
    s.expect(rb"^250 .*\r?\n")
    s.write("R\n")
    s.expect(rb"RENEGOTIATING", stream="err")
    time.sleep(0.5)
    try:
        s.write("noop\n")
    except (BrokenPipeError, OSError):
        pass                                    # s_client already gave up
    # Either the server refused (no_renegotiation: OpenSSL then gives up
    # the connection) or it closed; a successful renegotiation would let
    # the NOOP through. Wait for s_client to end.
    rc = s.wait(8)
    out, err = s.output()
    after = out.split(b"RENEGOTIATING")[-1] if b"RENEGOTIATING" in out else out[s.pos:]
    assert rc is not None, "s_client still connected 8 s after the renegotiation request:\n%r\n%r" % (
        out[-800:], err[-800:])
    assert b"250 2.0.0 Ok" not in after, "renegotiation went through, NOOP answered: %r" % out[-800:]
    line = mx.wait_log(lambda l: l.get("event") == "session" and l.get("helo") == "reneg.example.net",
                       what="session line of the renegotiating client")
    assert "renegotiat" in line[0]["reason"].lower(), line
    _assert_survived(mx, backend, certs, bystander, 0, implicit=False)


# --------------------------------------------------------------------------
# Large message over TLS on the client leg
# --------------------------------------------------------------------------

def test_5mb_over_client_tls(mxshield, backend, certs):
    import hashlib
    mx = start(mxshield, certs)
    backend.keep_transcript = False
    c = tls_session(mx, certs, timeout=60)
    assert c.cmd("MAIL FROM:<big@example.net>").code == 250
    assert c.cmd("RCPT TO:<rcpt@example.com>").code == 250
    assert c.cmd("DATA").code == 354
    h = hashlib.sha256()
    block = b"".join(b"%07d %s\r\n" % (i, b"tls" * 20) for i in range(16000))
    head = b"Subject: big over TLS\r\n\r\n"
    c.send(head)
    h.update(head)
    n = 0
    while n < 5 * 1024 * 1024:
        c.send(block)
        h.update(block)
        n += len(block)
    c.send(b".\r\n")
    r = c.reply(timeout=60)
    assert r.code == 250, r
    (m,) = backend.wait_messages(1)
    _, rest = tlsutil.parse_received(m.data)
    assert len(rest) == len(head) + n
    assert smtpkit.sha256(rest) == h.hexdigest()


# --------------------------------------------------------------------------
# --check-config loads the files
# --------------------------------------------------------------------------

def _check(tmp_path, text):
    p = tmp_path / "tls.conf"
    p.write_text(text)
    if not os.path.exists(conftest.MXSHIELD_BIN):
        pytest.fail("mxshield binary %s not built" % conftest.MXSHIELD_BIN, pytrace=False)
    r = subprocess.run([conftest.MXSHIELD_BIN, "--check-config", "-c", str(p)],
                       capture_output=True, timeout=30, stdin=subprocess.DEVNULL,
                       env=conftest.sanitizer_env())
    err = r.stderr.decode("utf-8", "replace")
    for mark in conftest.SANITIZER_MARKS:
        assert mark not in err, err
    return r.returncode, r.stdout.decode(), conftest.strip_machine_warnings(err), str(p)


def _conf(cert, key, tls="starttls", extra=""):
    return ('listen = ( { address = "127.0.0.1"; port = 2525; tls = "%s"; } );\n'
            'backend = { address = "127.0.0.1"; port = 2526; client_info = "xclient"; };\n'
            'tls = { cert_file = "%s"; key_file = "%s"; };\n%s' % (tls, cert, key, extra))


def test_check_config_good_tls(tmp_path, certs):
    rc, out, err, path = _check(tmp_path, _conf(certs.server, certs.server_key))
    assert (rc, out, err) == (0, "%s: OK\n" % path, ""), (rc, out, err)
    rc, out, err, path = _check(tmp_path, _conf(certs.server, certs.server_key, "implicit"))
    assert (rc, out, err) == (0, "%s: OK\n" % path, ""), (rc, out, err)


@pytest.mark.parametrize("which", ["cert", "key"])
def test_check_config_missing_file(tmp_path, certs, which):
    missing = str(tmp_path / ("no-such-%s.pem" % which))
    cert, key = (missing, certs.server_key) if which == "cert" else (certs.server, missing)
    rc, out, err, _ = _check(tmp_path, _conf(cert, key))
    assert rc == 1, (rc, out, err)
    assert missing in err, "stderr does not name %s:\n%s" % (missing, err)
    assert "OK" not in out


def test_check_config_key_does_not_match(tmp_path, certs):
    rc, out, err, _ = _check(tmp_path, _conf(certs.server, certs.other_key))
    assert rc == 1, (rc, out, err)
    assert certs.other_key in err, "stderr does not name the key file:\n" + err
    assert "OK" not in out


def test_check_config_cert_and_key_swapped(tmp_path, certs):
    rc, out, err, _ = _check(tmp_path, _conf(certs.server_key, certs.server))
    assert rc == 1, (rc, out, err)
    assert certs.server_key in err or certs.server in err, err


def test_check_config_garbage_cert(tmp_path, certs):
    bad = tmp_path / "garbage.pem"
    bad.write_text("-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n")
    rc, out, err, _ = _check(tmp_path, _conf(str(bad), certs.server_key))
    assert rc == 1 and str(bad) in err, (rc, out, err)


@pytest.mark.parametrize("kind", ["starttls", "implicit"])
def test_check_config_tls_listener_needs_certificate(tmp_path, kind):
    rc, out, err, path = _check(tmp_path, 'listen = ( { port = 2525; tls = "%s"; } );\n' % kind)
    assert rc == 1, (rc, out, err)
    assert "listen[0]" in err and "cert_file" in err, err


def test_starting_with_missing_certificate_fails(workdir, backend, certs):
    """Not only --check-config: a start with an unloadable certificate
    exits non-zero and names the file, without listening."""
    missing = os.path.join(workdir, "gone.pem")
    port = smtpkit.free_port()
    conf = os.path.join(workdir, "m.conf")
    with open(conf, "w") as f:
        f.write(conftest.libconfig_text({
            "listen": [{"address": "127.0.0.1", "port": port, "tls": "starttls"}],
            "backend": {"address": "127.0.0.1", "port": backend.port},
            "tls": {"cert_file": missing, "key_file": certs.server_key}}))
    r = subprocess.run([conftest.MXSHIELD_BIN, "-c", conf], capture_output=True, timeout=15,
                       stdin=subprocess.DEVNULL, env=conftest.sanitizer_env())
    err = r.stderr.decode("utf-8", "replace")
    assert r.returncode != 0, err
    assert missing in err, err
    for mark in conftest.SANITIZER_MARKS:
        assert mark not in err, err
