"""
limits.forbid_unauth_pipelining (default true, as Postfix 3.9's
smtpd_forbid_unauth_pipelining): a client that does not wait for a reply
where RFC 2920 says it must gets 554 5.5.0 and is disconnected, and
nothing of what it sent too early reaches the backend. mxshield answers
the 354 itself, so a backend behind it could never see message content
sent together with DATA. README.md "Hostile input".
"""

import time

import pytest

import tlsutil
from smtpkit import dot_stuff, make_message, strip_received
from tlsutil import certs_fixture  # noqa: F401 (the certs fixture)

SYNC = (554, "5.5.0")
LENIENT = {"limits": {"forbid_unauth_pipelining": False}}


def _refusal_logged(mx, why):
    """The session line names the reason, and a limit line at info."""
    full = "unauthorized pipelining: " + why
    (line,) = mx.wait_log(lambda l: l.get("event") == "session" and l.get("reason") == full,
                          what="the session line with %r" % full)
    (limit,) = mx.wait_log(lambda l: l.get("event") == "limit" and full in l.get("msg", ""),
                           what="the limit line")
    assert limit["level"] == "info", limit
    assert limit["sid"] == line["sid"], (limit, line)
    return limit


def _sent_to_backend(backend):
    return b"".join(backend.all_transcripts())


@pytest.mark.parametrize("envelope", ["read", "pipelined"])
def test_content_sent_with_data_is_refused(mxshield, backend, envelope):
    """DATA and the message in one write, before the 354: 554 5.5.0 in
    place of the 354, the connection closes, the backend never gets DATA
    nor any of the message."""
    mx = mxshield()
    c = mx.session()
    content = make_message(subject="smuggled-with-data")
    if envelope == "read":
        assert c.cmd("MAIL FROM:<sender@example.net>").code == 250
        assert c.cmd("RCPT TO:<rcpt@example.com>").code == 250
        c.send(b"DATA\r\n" + dot_stuff(content) + b".\r\n")
    else:
        # MAIL and RCPT may be pipelined (PIPELINING is offered), DATA
        # must end the group
        c.send(b"MAIL FROM:<sender@example.net>\r\nRCPT TO:<rcpt@example.com>\r\n"
               b"DATA\r\n" + dot_stuff(content) + b".\r\n")
        assert [r.code for r in c.replies(2)] == [250, 250]
    r = c.reply()
    assert (r.code, r.enh) == SYNC, r
    assert r.raw == b"554 5.5.0 Error: SMTP protocol synchronization\r\n"
    c.expect_closed()
    backend.wait_all_closed()
    assert "DATA" not in backend.all_verbs(), backend.all_verbs()
    assert backend.transactions == []
    assert b"smuggled-with-data" not in _sent_to_backend(backend)
    limit = _refusal_logged(mx, "message content sent with DATA before the 354")
    assert "sent early: " in limit["msg"], limit


def test_commands_before_the_greeting_are_refused(mxshield, backend):
    """A client that talks before the greeting (the backend's 220 is
    late): 554 5.5.0 and no 220 at all; the backend gets nothing of it."""
    backend.delay = {"GREETING": 0.5}
    mx = mxshield()
    c = mx.client()
    c.send(b"EHLO early.example.net\r\n")
    r = c.reply()
    assert (r.code, r.enh) == SYNC, r
    c.expect_closed()
    backend.wait_all_closed()
    assert backend.all_verbs() == []
    assert b"early.example.net" not in _sent_to_backend(backend)
    limit = _refusal_logged(mx, "commands sent before the greeting")
    assert "EHLO early.example.net" in limit["msg"], limit


def test_greeting_then_command_is_fine(mxshield, backend):
    """The same slow greeting, with a client that waits for it."""
    backend.delay = {"GREETING": 0.5}
    mx = mxshield()
    c = mx.client()
    assert c.reply().code == 220
    assert c.cmd("EHLO patient.example.net").code == 250
    assert c.cmd("QUIT").code == 221
    backend.wait_all_closed()
    assert backend.all_verbs() == ["EHLO", "QUIT"]


@pytest.mark.parametrize("verb", ["EHLO client.example.net", "NOOP", "VRFY postmaster"])
def test_commands_behind_a_command_that_ends_a_group(mxshield, backend, verb):
    """EHLO, NOOP and VRFY must be the last command of a group (RFC 2920
    3.1): a MAIL behind one in the same write gets the session closed;
    the command itself gets the 554 and is not relayed."""
    mx = mxshield()
    c = mx.client()
    assert c.reply().code == 220
    if not verb.startswith("EHLO"):
        assert c.cmd("EHLO client.example.net").code == 250
    c.send(verb.encode() + b"\r\nMAIL FROM:<behind@example.net>\r\n")
    r = c.reply()
    assert (r.code, r.enh) == SYNC, r
    c.expect_closed()
    backend.wait_all_closed()
    name = verb.split()[0]
    expected = ["EHLO"] if name != "EHLO" else []
    assert backend.all_verbs() == expected, backend.all_verbs()
    assert b"behind@example.net" not in _sent_to_backend(backend)
    _refusal_logged(mx, "commands sent after %s before its reply" % name)


@pytest.mark.parametrize("how", ["helo", "ehlo-without-pipelining"])
def test_pipelining_not_offered_is_refused(mxshield, backend, how):
    """After HELO, or an EHLO whose reply lacks PIPELINING, MAIL and RCPT
    in one write: the MAIL gets 554 5.5.0 and nothing of it is relayed."""
    if how == "ehlo-without-pipelining":
        backend.capabilities = [c for c in backend.capabilities if c != "PIPELINING"]
    mx = mxshield()
    c = mx.client()
    assert c.reply().code == 220
    if how == "helo":
        assert c.cmd("HELO client.example.net").code == 250
    else:
        r = c.ehlo()
        assert r.code == 250 and "PIPELINING" not in r.lines, r
    c.send(b"MAIL FROM:<sender@example.net>\r\nRCPT TO:<rcpt@example.com>\r\n")
    r = c.reply()
    assert (r.code, r.enh) == SYNC, r
    c.expect_closed()
    backend.wait_all_closed()
    assert backend.all_verbs() == [how[:4].upper()], backend.all_verbs()
    _refusal_logged(mx, "commands pipelined while PIPELINING was not offered")


def test_one_command_at_a_time_without_pipelining(mxshield, backend):
    """Without PIPELINING a client that waits for each reply delivers."""
    backend.capabilities = [c for c in backend.capabilities if c != "PIPELINING"]
    mx = mxshield()
    c = mx.client()
    assert c.reply().code == 220
    assert c.cmd("HELO client.example.net").code == 250
    r = c.transaction("sender@example.net", ["rcpt@example.com"], make_message())
    assert r.code == 250, r
    assert c.cmd("QUIT").code == 221
    backend.wait_messages(1)


def test_legitimate_pipelining_is_accepted(mxshield, backend):
    """With PIPELINING offered: MAIL, RCPTs and DATA in one write; the
    message, its final dot and the next envelope in one write (content
    may start a group, RFC 2920 3.1); then the dot and QUIT together."""
    mx = mxshield()
    c = mx.session()
    c.send(b"MAIL FROM:<one@example.net>\r\nRCPT TO:<a@example.com>\r\n"
           b"RCPT TO:<b@example.com>\r\nDATA\r\n")
    assert [r.code for r in c.replies(4)] == [250, 250, 250, 354]
    first, second = make_message(subject="first"), make_message(subject="second")
    c.send(dot_stuff(first) + b".\r\nMAIL FROM:<two@example.net>\r\n"
           b"RCPT TO:<a@example.com>\r\nDATA\r\n")
    assert [r.code for r in c.replies(4)] == [250, 250, 250, 354]
    c.send(dot_stuff(second) + b".\r\nQUIT\r\n")
    assert [r.code for r in c.replies(2)] == [250, 221]
    c.expect_closed()
    m1, m2 = backend.wait_messages(2)
    assert strip_received(m1.data) == dot_stuff(first)
    assert strip_received(m2.data) == dot_stuff(second)
    assert not any(l.get("event") == "limit" for l in mx.log_lines())


def test_off_restores_the_lenient_behaviour(mxshield, backend):
    """limits.forbid_unauth_pipelining = false: a client that talks
    before the greeting and sends the message with DATA is served."""
    backend.delay = {"GREETING": 0.3}
    mx = mxshield(LENIENT)
    c = mx.client()
    content = make_message(subject="lenient")
    c.send(b"EHLO early.example.net\r\n")
    time.sleep(0.05)
    c.send(b"MAIL FROM:<sender@example.net>\r\nRCPT TO:<rcpt@example.com>\r\n"
           b"DATA\r\n" + dot_stuff(content) + b".\r\nQUIT\r\n")
    assert [r.code for r in c.replies(7)] == [220, 250, 250, 250, 354, 250, 221]
    c.expect_closed()
    (m,) = backend.wait_messages(1)
    assert strip_received(m.data) == dot_stuff(content)
    assert not any("unauthorized pipelining" in l.get("msg", "") for l in mx.log_lines())


def test_starttls_injection_still_discarded(mxshield, backend, certs):
    """STARTTLS is not one of the commands that end a group here: what a
    client pipelines behind it in plaintext is still thrown away and
    logged (README "TLS"), with forbid_unauth_pipelining on."""
    mx = mxshield(tlsutil.tls_config(certs, "starttls"))
    c = mx.client()
    assert c.reply().code == 220
    assert "STARTTLS" in c.ehlo().lines
    c.send(b"STARTTLS\r\nMAIL FROM:<injected@evil.example>\r\n")
    r = c.reply()
    assert (r.code, r.enh) == (220, "2.0.0"), r
    assert tlsutil.starttls(c, certs.client_context()) == b""
    c.ehlo("x.example.net")
    assert c.cmd("QUIT").code == 221
    backend.wait_all_closed()
    assert not any(b"injected@evil" in x for x in backend.all_commands())
    mx.wait_log(lambda l: l.get("event") == "tls" and "discarded" in l.get("msg", ""),
                what="the injection line")
