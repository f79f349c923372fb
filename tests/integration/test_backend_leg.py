"""
The backend leg as its own state machine (proxy/backend.h): what only
mxshield says to the backend (XCLIENT, the AUTH "*", our DATA) and the
replies to it never reach the client; a backend that fails at any step
ends the session cleanly; a client's STARTTLS gets a fresh backend leg.
Each test checks what the client was told and what the backend got.
"""

import base64
import socket
import time

import pytest

import conftest
import smtpkit
import tlsutil
from smtpkit import make_message
from tlsutil import certs_fixture  # noqa: F401  (the certs fixture)

XCLIENT_CAP = "XCLIENT ADDR PORT NAME HELO PROTO LOGIN DESTADDR DESTPORT"


def _replies(c, n):
    return [c.reply() for _ in range(n)]


def _stop(mxshield, mx):
    """Stop mx now (SIGTERM): it must exit cleanly within 5 s, which it
    cannot while a session it closed is still alive."""
    mxshield.instances.remove(mx)
    problems = mx.stop()
    assert not problems, problems
    assert mx.exit_code == 0, mx.stderr()[-2000:]


# --------------------------------------------------------------------------
# a write to the backend fails while the held header section goes out
# --------------------------------------------------------------------------

def test_backend_gone_after_354_ends_the_session(mxshield, backend):
    """The backend answers our DATA with 354 and closes. The header
    section (over one output batch) fails to go out: the client gets
    421 4.4.2, nothing is acknowledged, and the session is over for
    good (mxshield stops at once on SIGTERM)."""
    backend.close_after = {"DATA"}
    mx = mxshield()
    c = mx.session()
    assert c.cmd("MAIL FROM:<sender@example.net>").code == 250
    assert c.cmd("RCPT TO:<rcpt@example.com>").code == 250
    assert c.cmd("DATA").code == 354
    filler = b"".join(b"X-Filler-%05d: %s\r\n" % (i, b"y" * 60) for i in range(2300))
    assert len(filler) > 160 * 1024
    c.send_tolerant(b"Subject: big\r\n" + filler + b"\r\nbody\r\n.\r\n")
    r = c.reply(timeout=5)
    assert (r.code, r.enh) == (421, "4.4.2"), r
    assert c.is_closed(3)
    assert backend.transactions == []
    (s,) = backend.sessions
    assert s.unacked == [], s
    line = mx.wait_log(lambda l: l.get("event") == "session", what="session line")[0]
    assert line["reason"], line
    _stop(mxshield, mx)


# --------------------------------------------------------------------------
# a client that never reads its replies
# --------------------------------------------------------------------------

def test_client_that_never_reads_is_closed_after_command_timeout(mxshield, backend):
    """Megabytes of pipelined EHLOs and no reading: once the replies
    pile up, the write makes no progress; after command_timeout both
    legs close (Postfix's smtpd_timeout covers writes too). The client
    pipelines without PIPELINING on purpose: forbid_unauth_pipelining is
    off so that the replies pile up."""
    mx = mxshield({"limits": {"command_timeout": 2,
                              "forbid_unauth_pipelining": False}})
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", mx.port))
    s.setblocking(False)
    chunk = b"EHLO client.example.net\r\n" * 5000
    sent = 0
    deadline = time.monotonic() + 6
    while time.monotonic() < deadline and sent < 16 * 1024 * 1024:
        try:
            sent += s.send(chunk)
        except BlockingIOError:
            time.sleep(0.05)
        except (BrokenPipeError, ConnectionResetError):
            break
    assert sent > 512 * 1024, "mxshield read only %d bytes" % sent
    line = mx.wait_log(lambda l: l.get("event") == "session", timeout=10,
                       what="the stalled session closed")[0]
    assert line["reason"] == "client write timeout", line
    backend.wait_for(lambda: backend.sessions and backend.sessions[0].closed, 3,
                     "the backend leg closed")
    s.close()
    # the backend got the client's EHLOs only
    assert set(backend.all_verbs()) == {"EHLO"}, backend.all_verbs()[:5]


# --------------------------------------------------------------------------
# XCLIENT under pipelining
# --------------------------------------------------------------------------

def test_xclient_pipelined_commands_wait_for_xclient(mxshield, backend):
    """Two EHLOs and a MAIL in one write with client_info = "xclient":
    one EHLO of ours, one XCLIENT, and only then the client's commands,
    each answered by its own reply."""
    backend.capabilities = backend.capabilities + [XCLIENT_CAP]
    # EHLOs pipelined on purpose: forbid_unauth_pipelining off
    mx = mxshield({"backend": {"client_info": "xclient"},
                   "limits": {"forbid_unauth_pipelining": False}})
    c = mx.client(source="127.0.0.2")
    assert c.reply().code == 220
    c.send(b"EHLO a.example.net\r\nEHLO b.example.net\r\nMAIL FROM:<s@example.net>\r\n")
    r1, r2, r3 = _replies(c, 3)
    assert r1.code == 250 and r1.lines[0].startswith("backend.test Hello a.example.net"), r1
    assert r2.code == 250 and r2.lines[0].startswith("backend.test Hello b.example.net"), r2
    assert (r3.code, r3.enh) == (250, "2.1.0"), r3
    c.assert_quiet()
    (s,) = backend.sessions
    assert s.verbs() == ["EHLO", "XCLIENT", "EHLO", "EHLO", "MAIL"], s.commands
    assert s.commands[0] == b"EHLO mx.test.example\r\n"
    assert s.commands[2:] == [b"EHLO a.example.net\r\n", b"EHLO b.example.net\r\n",
                              b"MAIL FROM:<s@example.net>\r\n"]
    assert s.xclient.get("ADDR") == "127.0.0.2", s.xclient


# --------------------------------------------------------------------------
# AUTH exchanges ended by a refused line
# --------------------------------------------------------------------------

def _auth_mx(mxshield, backend, **limits):
    backend.capabilities = backend.capabilities + ["AUTH PLAIN LOGIN"]
    return mxshield({"limits": limits} if limits else None)


def test_overlong_auth_line_gets_one_reply(mxshield, backend):
    """An over-long line inside AUTH: one 500 5.5.6, the exchange is
    cancelled at the backend with "*" whose answer the client never
    sees; the next command gets its own reply."""
    mx = _auth_mx(mxshield, backend)
    c = mx.session()
    assert c.cmd("AUTH PLAIN").code == 334
    c.send(b"A" * 13000 + b"\r\n")
    r = c.reply()
    assert (r.code, r.enh) == (500, "5.5.6"), r
    r = c.cmd("NOOP")
    assert (r.code, r.enh) == (250, "2.0.0"), r
    c.assert_quiet()
    backend.wait_for(lambda: b"*" in backend.sessions[0].auth_lines, 3, "the * at the backend")
    assert backend.sessions[0].auth_lines == [b"AUTH PLAIN", b"*"]
    assert backend.sessions[0].verbs()[-1] == "NOOP"


@pytest.mark.parametrize("bad", [b"dXN\rlcg==\r\n", b"dXN\0lcg==\r\n",
                                 b"dXNlcg==\nQUIT\r\n"],
                         ids=["bare-cr", "nul", "bare-lf"])
def test_refused_line_inside_auth_cancels_the_exchange(mxshield, backend, bad):
    """A bare CR, a NUL or a bare LF inside AUTH LOGIN: the line up to
    its CRLF gets exactly one 500 5.5.2 (the "QUIT" behind a bare LF is
    part of it, not a command), the exchange is over (the backend gets
    "*"), and the next line is a command again: QUIT is answered 221,
    never relayed as a user name."""
    mx = _auth_mx(mxshield, backend)
    c = mx.session()
    assert c.cmd("AUTH LOGIN").code == 334
    c.send(bad)
    r = c.reply()
    assert (r.code, r.enh) == (500, "5.5.2"), r
    c.assert_quiet()
    r = c.cmd("QUIT")
    assert r.code == 221, r
    (s,) = backend.sessions
    backend.wait_for(lambda: s.closed, 3, "the backend leg closed")
    assert s.auth_lines == [b"AUTH LOGIN", b"*"], s.auth_lines
    assert s.verbs()[-1] == "QUIT"


# --------------------------------------------------------------------------
# DATA answered with something other than 354
# --------------------------------------------------------------------------

def test_backend_2xx_to_data_is_never_success(mxshield, backend):
    """The backend answers DATA with 250: the message was never sent, so
    the client gets 451 4.4.2 after its final dot, never a 250."""
    backend.replies = {"DATA": b"250 2.0.0 Ok"}
    mx = mxshield()
    c = mx.session()
    r = c.transaction("sender@example.net", ["rcpt@example.com"], make_message())
    assert (r.code, r.enh) == (451, "4.4.2"), r
    assert c.cmd("NOOP").code == 250
    assert backend.transactions == []
    # the body never went out: after DATA the backend got only RSET and NOOP
    verbs = backend.all_verbs()
    assert verbs[verbs.index("DATA") + 1:] == ["RSET", "NOOP"], verbs
    (t,) = [l for l in mx.logs("txn")]
    assert t["result"] == "rejected", t


# --------------------------------------------------------------------------
# the backend closes while a STARTTLS reply waits in the queue
# --------------------------------------------------------------------------

def test_backend_lost_before_starttls_reply(mxshield, backend, certs):
    """NOOP and STARTTLS in one write; the backend closes instead of
    answering NOOP: the client gets one 421 and the connection closes,
    never the 220 of a TLS it can no longer use."""
    backend.close_on = {"NOOP"}
    # NOOP must end a pipelined group: forbid_unauth_pipelining off
    mx = mxshield(conftest.merge(tlsutil.tls_config(certs, "starttls"),
                                 {"limits": {"forbid_unauth_pipelining": False}}))
    c = mx.session()
    c.send(b"NOOP\r\nSTARTTLS\r\n")
    r = c.reply()
    assert (r.code, r.enh) == (421, "4.4.2"), r
    rest = c.expect_closed(3)
    assert rest == b"", rest


# --------------------------------------------------------------------------
# max_errors inside one pipelined write; nothing after a closing 421
# --------------------------------------------------------------------------

def test_max_errors_applies_inside_a_pipelined_batch(mxshield, backend):
    """max_errors = 5; EHLO, seven unknown verbs and QUIT in one write:
    five 502s, then 421 4.7.0 and the connection closes; nothing after
    the limit is parsed or relayed (the backend never sees the QUIT)."""
    # EHLO pipelined on purpose: forbid_unauth_pipelining off
    mx = mxshield({"limits": {"max_errors": 5, "forbid_unauth_pipelining": False}})
    c = mx.client()
    assert c.reply().code == 220
    c.send(b"EHLO client.example.net\r\n" + b"FOO\r\n" * 7 + b"QUIT\r\n")
    r = c.reply()
    assert r.code == 250, r
    for _ in range(5):
        r = c.reply()
        assert (r.code, r.enh) == (502, "5.5.1"), r
    r = c.reply()
    assert (r.code, r.enh) == (421, "4.7.0"), r
    assert c.expect_closed(3) == b""
    backend.wait_for(lambda: backend.sessions and backend.sessions[0].closed, 3, "backend leg closed")
    assert backend.all_verbs() == ["EHLO"], backend.all_verbs()


def test_nothing_after_the_junk_limit_is_relayed(mxshield, backend):
    """max_junk_commands = 2; four NOOPs and a MAIL in one write: two
    250s, then 421 4.7.0; the third NOOP and the MAIL never reach the
    backend."""
    # NOOPs pipelined on purpose: forbid_unauth_pipelining off
    mx = mxshield({"limits": {"max_junk_commands": 2, "forbid_unauth_pipelining": False}})
    c = mx.session()
    c.send(b"NOOP\r\n" * 4 + b"MAIL FROM:<s@example.net>\r\n")
    for _ in range(2):
        assert c.reply().code == 250
    r = c.reply()
    assert (r.code, r.enh) == (421, "4.7.0"), r
    assert c.expect_closed(3) == b""
    backend.wait_for(lambda: backend.sessions[0].closed, 3, "backend leg closed")
    assert backend.all_verbs() == ["EHLO", "NOOP", "NOOP"], backend.all_verbs()


# --------------------------------------------------------------------------
# the client's STARTTLS: a fresh backend leg
# --------------------------------------------------------------------------

def test_starttls_gives_a_fresh_backend_leg(mxshield, backend, certs):
    """A backend that refuses a second EHLO on one connection (OpenSMTPD:
    503 5.5.1 Already identified): the client's EHLO inside TLS is the
    first EHLO of a fresh backend leg, and the mail goes through."""
    backend.refuse_second_ehlo = True
    mx = mxshield(tlsutil.tls_config(certs, "starttls"))
    c = mx.session("tls.example.net")
    assert c.cmd("STARTTLS").code == 220
    assert tlsutil.starttls(c, certs.client_context()) == b""
    r = c.cmd("EHLO tls.example.net")
    assert r.code == 250, r
    r = c.transaction("sender@example.net", ["rcpt@example.com"], make_message())
    assert r.code == 250, r
    (m,) = backend.wait_messages(1)
    first, second = backend.sessions
    assert m.session is second
    assert first.verbs() == ["EHLO"], first.commands
    assert second.verbs() == ["EHLO", "MAIL", "RCPT", "DATA"], second.commands


# --------------------------------------------------------------------------
# backend TLS: a refused STARTTLS, and the leg's TLS in the logs
# --------------------------------------------------------------------------

def _tls_backend_mx(mxshield, backend, certs, mode):
    backend.tls_cert = certs.backend
    backend.tls_key = certs.backend_key
    backend.starttls = mode == "starttls"
    backend.implicit_tls = mode == "implicit"
    return mxshield({"backend": {"tls": mode, "tls_verify": True, "tls_ca_file": certs.ca,
                                 "tls_server_name": "backend.test.example"}})


def test_backend_refusing_starttls_is_logged_and_told_truthfully(mxshield, backend, certs):
    """backend.tls = "starttls" and the backend answers STARTTLS with
    454: the client hears that the backend's TLS is not available (not
    that the connection was lost), and the log has the backend's reply."""
    backend.replies = {"STARTTLS": b"454 4.7.0 TLS not available due to local problem"}
    mx = _tls_backend_mx(mxshield, backend, certs, "starttls")
    c = mx.client()
    r = c.reply()
    assert (r.code, r.enh) == (421, "4.4.2"), r
    assert "TLS" in r.text and "lost" not in r.text, r
    assert c.is_closed(3)
    mx.wait_log(lambda l: "454 4.7.0 TLS not available due to local problem" in l.get("msg", ""),
                what="the backend's reply to STARTTLS")
    assert backend.all_verbs() == ["EHLO", "STARTTLS"], backend.all_verbs()


@pytest.mark.parametrize("mode", ["starttls", "implicit", "none"])
def test_backend_leg_tls_is_in_the_logs(mxshield, backend, certs, mode):
    """"backend_tls" in the txn and session lines: "TLSv1.x cipher" when
    the backend leg speaks TLS, null when it does not."""
    if mode == "none":
        mx = mxshield()
    else:
        mx = _tls_backend_mx(mxshield, backend, certs, mode)
    c = mx.session()
    r = c.transaction("sender@example.net", ["rcpt@example.com"], make_message())
    assert r.code == 250, r
    assert c.cmd("QUIT").code == 221
    (t,) = mx.wait_log(lambda l: l.get("event") == "txn", what="txn line")
    (s,) = mx.wait_log(lambda l: l.get("event") == "session", what="session line")
    for line in (t, s):
        assert "backend_tls" in line, line
        if mode == "none":
            assert line["backend_tls"] is None, line
        else:
            assert line["backend_tls"].startswith("TLSv1."), line
            assert line["backend_tls"].split(" ", 1)[1], line   # the cipher
    (bs,) = backend.sessions
    assert (bs.tls is not None) == (mode != "none")


def test_start_line_counts_workers_in_words(mxshield):
    """"1 worker", not "1 workers"."""
    mx = mxshield()
    (line,) = mx.wait_log(lambda l: l.get("event") == "start" and "listening on" in l["msg"],
                          what="the listening start line")
    assert line["msg"].endswith(", 1 worker"), line


# --------------------------------------------------------------------------
# max_junk_commands counts per message
# --------------------------------------------------------------------------

def test_junk_count_starts_again_after_each_accepted_message(mxshield, backend):
    """max_junk_commands = 3; RSET and NOOP before each of four messages
    on one connection (as a client reusing it does): every message is
    accepted, since the count starts again after each message the
    backend accepted (Postfix's smtpd_junk_command_limit). Four junk
    commands in a row still end the session."""
    mx = mxshield({"limits": {"max_junk_commands": 3}})
    c = mx.session()
    for i in range(4):
        assert c.cmd("RSET").code == 250
        assert c.cmd("NOOP").code == 250
        r = c.transaction("sender@example.net", ["rcpt@example.com"], make_message(subject="m%d" % i))
        assert r.code == 250, r
    assert len(backend.wait_messages(4)) == 4
    for _ in range(3):
        assert c.cmd("NOOP").code == 250
    r = c.cmd("NOOP")
    assert (r.code, r.enh) == (421, "4.7.0"), r
    assert c.is_closed(3)


# --------------------------------------------------------------------------
# a second MAIL inside a transaction
# --------------------------------------------------------------------------

@pytest.mark.parametrize("pipelined", [False, True])
def test_second_mail_keeps_the_deferred_helo_verdict(mxshield, backend, pipelined):
    """helo.reject_at = "rcpt": a second MAIL inside the transaction gets
    the backend's 503, the transaction stays as the backend keeps it,
    and the deferred HELO refusal still answers every RCPT (nothing of
    them is relayed)."""
    mx = mxshield({"helo": {"require_fqdn": True, "reject_at": "rcpt"}})
    c = mx.session("mike")
    lines = [b"MAIL FROM:<one@example.net>", b"MAIL FROM:<two@example.net>",
             b"RCPT TO:<a@example.com>", b"RCPT TO:<b@example.com>"]
    if pipelined:
        c.send(b"".join(l + b"\r\n" for l in lines))
        rs = c.replies(4)
    else:
        rs = [c.cmd(l.decode()) for l in lines]
    assert [r.code for r in rs[:2]] == [250, 503], rs
    for r in rs[2:]:
        assert r.raw == b"550 5.7.1 EHLO mike is not a fully qualified domain name\r\n", r
    r = c.cmd("DATA")
    assert (r.code, r.enh) == (554, "5.5.1"), r
    assert backend.all_verbs() == ["EHLO", "MAIL", "MAIL"], backend.all_verbs()
