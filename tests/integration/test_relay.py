"""
Plain relay: real clients through mxshield to the recording backend.
The client must hear the backend's own replies, and the backend must get
the message byte for byte, with only mxshield's Received: field on top
(none at all with backend.client_info = "none"). DESIGN.md "A session",
"Client identity to the backend", promise 3 (transparent).
"""

import datetime
import email.utils
import smtplib
import subprocess

import pytest

import tlsutil
from smtpkit import (HOSTILE_CAPS, RECEIVED_RE, bare_line_endings, dot_stuff, make_message,
                     split_first_header, strip_received)
from tlsutil import certs_fixture  # noqa: F401  (the certs fixture)

SHAPES = {
    "plain": make_message(),
    "dots": make_message(body=b".\r\n..\r\n.leading\r\nmid.dle\r\n.\r\n"),
    "8bit": make_message(body="caf\u00e9 \u65e5\u672c\r\n".encode() + b"\xff\xfe\x80\r\n",
                         extra_headers=["Content-Type: text/plain; charset=utf-8",
                                        "Content-Transfer-Encoding: 8bit"]),
    "long-lines": make_message(body=(b"x" * 998 + b"\r\n") * 3),
    "folded": (b"Subject: folded\r\n continued\r\n\tand tabbed\r\nX-Empty:\r\n"
               b"To: a@example.com,\r\n  b@example.com\r\n\r\nbody\r\n"),
    "headers-only": b"Subject: only headers\r\nX-A: 1\r\n",
    "no-headers": b"just a body line, no header section\r\nsecond\r\n",
    "empty": b"",
    "blank-first": b"\r\nbody after an empty header section\r\n",
    "whitespace": b"Subject: trailing  \r\n\r\n \t \r\n\t\r\nend \r\n",
    "many-lines": b"Subject: many\r\n\r\n" + b"x\r\n" * 20000,
}


def test_smtplib_relay(mxshield, backend):
    content = make_message(msgid="<relay-1@client.example.net>")
    with smtplib.SMTP("127.0.0.1", mxshield.port, timeout=10) as c:
        code, _ = c.ehlo("client.example.net")
        assert code == 250
        assert c.mail("sender@example.net") == (250, b"2.1.0 Ok")
        assert c.rcpt("rcpt@example.com") == (250, b"2.1.5 Ok")
        code, resp = c.data(content)
    (m,) = backend.transactions
    assert (code, resp) == (250, b"2.0.0 Ok: queued as " + m.queue_id.encode())
    assert m.mail_from == "FROM:<sender@example.net>"
    assert m.rcpts == ["rcpt@example.com"]
    assert strip_received(m.data) == dot_stuff(content)


def test_swaks_relay(mxshield, backend):
    out = subprocess.run(
        ["swaks", "--server", "127.0.0.1:%d" % mxshield.port, "--helo", "swaks.example.net",
         "--from", "sender@example.net", "--to", "rcpt@example.com", "--timeout", "15",
         "--header", "Message-ID: <swaks-1@example.net>"],
        capture_output=True, timeout=30)
    assert out.returncode == 0, out.stdout.decode() + out.stderr.decode()
    (m,) = backend.transactions
    assert b"<-  250 2.0.0 Ok: queued as " + m.queue_id.encode() + b"\n" in out.stdout, out.stdout
    assert m.rcpts == ["rcpt@example.com"]
    body = strip_received(m.data)
    assert b"Message-ID: <swaks-1@example.net>\r\n" in body
    assert b"\r\n\r\nThis is a test mailing\r\n" in body, body[-200:]


def test_received_header_format(mxshield, backend):
    c = mxshield.session("client.example.net")
    r = c.transaction("sender@example.net", ["rcpt@example.com"], make_message())
    assert r.code == 250
    c.cmd("QUIT")
    (m,) = backend.transactions
    mo = RECEIVED_RE.match(m.data)
    assert mo, "Received header not in the documented form: %r" % m.data[:300]
    assert mo.group("helo") == b"client.example.net"
    assert mo.group("ip") == b"127.0.0.1"
    assert mo.group("by") == b"mx.test.example"
    assert mo.group("proto") == b"ESMTP"
    when = email.utils.parsedate_to_datetime(mo.group("date").decode())
    now = datetime.datetime.now(datetime.timezone.utc)
    assert abs((now - when).total_seconds()) < 120
    # The id is the session id the logs carry (DESIGN.md: session id in hex).
    txn = mxshield.wait_log(lambda l: l.get("event") == "txn", what="txn line")[0]
    assert int(mo.group("id"), 16) == int(str(txn["sid"]), 16)


def test_helo_relays_and_says_smtp(mxshield, backend):
    c = mxshield.client()
    assert c.reply().code == 220
    r = c.cmd("HELO old.example.net")
    assert (r.code, r.text) == (250, "backend.test")
    r = c.transaction("sender@example.net", ["rcpt@example.com"], make_message())
    assert r.code == 250
    (m,) = backend.transactions
    mo = RECEIVED_RE.match(m.data)
    assert mo and mo.group("proto") == b"SMTP" and mo.group("helo") == b"old.example.net", m.data[:300]
    assert backend.all_commands()[0] == b"HELO old.example.net\r\n"


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_client_info_none_is_byte_identical(mxshield, backend, shape):
    mx = mxshield({"backend": {"client_info": "none"}})
    c = mx.session()
    r = c.transaction("sender@example.net", ["rcpt@example.com"], SHAPES[shape])
    (m,) = backend.transactions
    assert (r.code, r.text) == (250, "2.0.0 Ok: queued as " + m.queue_id)
    assert m.data == dot_stuff(SHAPES[shape])
    assert m.raw == dot_stuff(SHAPES[shape]) + b".\r\n"


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_received_only_addition(mxshield, backend, shape):
    c = mxshield.session()
    r = c.transaction("sender@example.net", ["rcpt@example.com"], SHAPES[shape])
    (m,) = backend.transactions
    assert (r.code, r.text) == (250, "2.0.0 Ok: queued as " + m.queue_id)
    assert RECEIVED_RE.match(m.data), m.data[:300]
    assert strip_received(m.data) == dot_stuff(SHAPES[shape])


def test_greeting_relayed_verbatim(mxshield, backend):
    backend.greeting = b"220-backend.test ESMTP first line\r\n220 second line"
    c = mxshield.client()
    g = c.reply()
    assert g.raw == b"220-backend.test ESMTP first line\r\n220 second line\r\n"


@pytest.mark.parametrize("where", ["first", "last", "mixed-case"])
def test_ehlo_capability_filter(mxshield, backend, where):
    keep = ["PIPELINING", "SIZE 104857600", "8BITMIME", "ENHANCEDSTATUSCODES", "AUTH PLAIN LOGIN"]
    hostile = list(HOSTILE_CAPS)
    if where == "mixed-case":
        hostile = ["chunking", "BinaryMIME", "xclient ADDR NAME", "Xforward NAME", "starttls"]
        caps = keep[:2] + hostile + keep[2:]
    elif where == "first":
        caps = hostile + keep
    else:
        caps = keep + hostile
    backend.capabilities = caps
    c = mxshield.client()
    assert c.reply().code == 220
    r = c.cmd("EHLO client.example.net")     # Client asserts well-formed lines
    assert r.code == 250
    assert r.lines[0] == "backend.test Hello client.example.net"
    assert r.lines[1:] == keep
    raw_lines = r.raw.split(b"\r\n")[:-1]
    assert all(l.startswith(b"250-") for l in raw_lines[:-1]) and raw_lines[-1].startswith(b"250 ")


# What real backends offer beyond what mxshield understands (Exim 4.96,
# Postfix, Exchange, OpenSMTPD): none of it may reach the client.
UNKNOWN_CAPS = ["PRDR", "PIPECONNECT", "ETRN", "BURL imap", "CHUNKING", "BINARYMIME",
                "XCLIENT ADDR NAME", "XFORWARD NAME", "STARTTLS", "VRFY", "HELP",
                "X-EXPS GSSAPI NTLM", "LIMITS MAILMAX=1000", "REQUIRETLS", "X-MXS-INVENTED 7"]


def test_ehlo_allowlist(mxshield, backend):
    """The EHLO reply is an allowlist (DESIGN.md "EHLO"): PRDR would make
    the per-recipient replies after the final dot read as replies to
    later commands. Only the extensions mxshield understands pass."""
    keep = ["PIPELINING", "SIZE 104857600", "8BITMIME", "SMTPUTF8", "DSN", "ENHANCEDSTATUSCODES",
            "AUTH PLAIN LOGIN"]
    caps = []
    for i, k in enumerate(keep):
        caps.append(k)
        caps += UNKNOWN_CAPS[2 * i:2 * i + 2]
    caps += UNKNOWN_CAPS[2 * len(keep):]
    assert sorted(caps) == sorted(keep + UNKNOWN_CAPS)
    backend.capabilities = caps
    c = mxshield.client()
    assert c.reply().code == 220
    r = c.cmd("EHLO client.example.net")
    assert r.code == 250
    assert r.lines[0] == "backend.test Hello client.example.net"
    assert r.lines[1:] == keep, r.lines
    for word in (b"PRDR", b"PIPECONNECT", b"ETRN", b"BURL", b"CHUNKING", b"INVENTED"):
        assert word not in r.raw, r.raw
    # the backend offered them all: it was asked and answered
    (bs,) = backend.sessions
    assert b"250-PRDR\r\n" in bs.sent and b"250-PIPECONNECT\r\n" in bs.sent
    assert [x for x in bs.commands if x.startswith(b"EHLO")] == [b"EHLO client.example.net\r\n"]
    # and the session goes on normally
    r = c.transaction("sender@example.net", ["rcpt@example.com"], make_message())
    assert r.code == 250 and len(backend.wait_messages(1)) == 1


def test_ehlo_reply_that_cannot_be_filtered_fails_closed(mxshield, backend):
    """A 2xx EHLO reply that is not a 250 capability list is never
    relayed as it came: 421 4.4.2, and the session ends."""
    backend.replies = {"EHLO": b"251-backend.test odd\r\n251-PRDR\r\n251 CHUNKING"}
    c = mxshield.client()
    assert c.reply().code == 220
    r = c.cmd("EHLO client.example.net")
    assert (r.code, r.enh) == (421, "4.4.2"), r
    assert b"PRDR" not in r.raw and b"odd" not in r.raw
    c.expect_closed()
    mxshield.wait_log(lambda l: "EHLO reply cannot be filtered" in l.get("msg", ""),
                      what="the reason")
    backend.wait_all_closed()
    assert backend.all_verbs() == ["EHLO"]


@pytest.mark.parametrize("room", ["fits", "one-byte-over"])
def test_ehlo_reply_over_limit_once_filtered_fails_closed(mxshield, backend, certs, room):
    """The backend's EHLO reply may take the whole 64 KiB; with mxshield's
    STARTTLS added it may not fit any more: then 421 4.4.2, never the
    unfiltered reply (which would offer the backend's own capabilities)."""
    mx = mxshield(tlsutil.tls_config(certs, "starttls"))
    limit = 64 * 1024
    total = limit - len(b"250 STARTTLS\r\n") + (0 if room == "fits" else 1)
    first = b"250-backend.test Hello client.example.net\r\n"
    caps, size = [], len(first)
    while size < total:
        n = min(4000, total - size - len(b"250-DSN \r\n"))
        assert n > 0
        caps.append("DSN " + "x" * n)
        size += len(b"250-DSN \r\n") + n
    assert size == total
    backend.capabilities = caps
    c = mx.client()
    assert c.reply().code == 220
    r = c.cmd("EHLO client.example.net", timeout=10)
    if room == "fits":
        assert r.code == 250, r
        assert len(r.raw) == limit and r.lines[-1] == "STARTTLS"
        assert c.cmd("QUIT").code == 221
        return
    assert (r.code, r.enh) == (421, "4.4.2"), r
    assert len(r.raw) < 200
    c.expect_closed()
    mx.wait_log(lambda l: "EHLO reply cannot be filtered" in l.get("msg", ""), what="the reason")
    assert backend.all_verbs() == ["EHLO"]


def test_several_transactions_in_one_session(mxshield, backend):
    c = mxshield.session()
    replies = []
    for i in range(3):
        content = make_message(subject="n%d" % i)
        replies.append(c.transaction("s%d@example.net" % i, ["r%d@example.com" % i, "x%d@example.com" % i],
                                     content))
        if i == 1:
            assert c.cmd("RSET").code == 250
    assert len(backend.transactions) == 3
    for i, (r, m) in enumerate(zip(replies, backend.transactions)):
        assert r.text == "2.0.0 Ok: queued as " + m.queue_id
        assert m.mail_from == "FROM:<s%d@example.net>" % i
        assert m.rcpts == ["r%d@example.com" % i, "x%d@example.com" % i]
        assert b"Subject: n%d\r\n" % i in m.data
    assert len({m.queue_id for m in backend.transactions}) == 3


def test_backend_rejections_relayed_verbatim(mxshield, backend):
    backend.rcpt_replies = {"nobody@": b"550-5.1.1 <nobody@example.com>: first line\r\n"
                                       b"550 5.1.1 second line of the refusal"}
    backend.mail_replies = {"spammer@": b"554 5.7.1 <spammer@example.net>: Sender address rejected"}
    c = mxshield.session()
    r = c.cmd("MAIL FROM:<spammer@example.net>")
    assert r.raw == b"554 5.7.1 <spammer@example.net>: Sender address rejected\r\n"
    assert c.cmd("MAIL FROM:<ok@example.net>").code == 250
    r = c.cmd("RCPT TO:<nobody@example.com>")
    assert r.raw == (b"550-5.1.1 <nobody@example.com>: first line\r\n"
                     b"550 5.1.1 second line of the refusal\r\n")


def test_backend_refusing_the_message_after_dot(mxshield, backend):
    backend.data_reply = b"554 5.7.1 Message content rejected by the backend"
    c = mxshield.session()
    r = c.transaction("sender@example.net", ["rcpt@example.com"], make_message())
    assert r.raw == b"554 5.7.1 Message content rejected by the backend\r\n"
    assert backend.transactions == []


def test_backend_refusing_data_command(mxshield, backend):
    """mxshield gave 354 itself; the backend's refusal of DATA reaches the
    client after its final dot, and nothing is stored."""
    backend.replies = {"DATA": b"451 4.3.0 Backend busy, try later"}
    c = mxshield.session()
    r = c.transaction("sender@example.net", ["rcpt@example.com"], make_message(body=b"x\r\n" * 1000))
    assert r.raw == b"451 4.3.0 Backend busy, try later\r\n"
    assert backend.transactions == []
    # and the session is still usable
    backend.replies = {}
    r = c.transaction("sender@example.net", ["rcpt@example.com"], make_message())
    assert r.code == 250 and len(backend.transactions) == 1


def test_harmless_commands_relayed(mxshield, backend):
    c = mxshield.session()
    assert c.cmd("NOOP").raw == b"250 2.0.0 Ok\r\n"
    assert c.cmd("VRFY postmaster").raw == b"252 2.0.0 Cannot VRFY user, but will accept message\r\n"
    assert c.cmd("EXPN staff").raw == b"502 5.5.1 EXPN not available\r\n"
    assert c.cmd("HELP").raw == b"214 2.0.0 See RFC 5321\r\n"
    assert c.cmd("RSET").raw == b"250 2.0.0 Ok\r\n"
    assert c.cmd("noop lower case").code == 250
    backend.wait_for(lambda: len(backend.all_commands()) >= 7)
    assert backend.all_commands()[1:7] == [b"NOOP\r\n", b"VRFY postmaster\r\n", b"EXPN staff\r\n",
                                           b"HELP\r\n", b"RSET\r\n", b"noop lower case\r\n"]


def test_mail_parameters_relayed_unchanged(mxshield, backend):
    c = mxshield.session()
    assert c.cmd("MAIL FROM:<sender@example.net> SIZE=1234 BODY=8BITMIME").code == 250
    assert c.cmd("RCPT TO:<rcpt@example.com>").code == 250
    cmds = backend.all_commands()
    assert b"MAIL FROM:<sender@example.net> SIZE=1234 BODY=8BITMIME\r\n" in cmds
    assert b"RCPT TO:<rcpt@example.com>\r\n" in cmds


def test_null_sender_relayed(mxshield, backend):
    c = mxshield.session()
    r = c.transaction("", ["postmaster@example.com"], make_message(sender="MAILER-DAEMON@example.net"))
    assert r.code == 250
    assert backend.transactions[0].mail_from == "FROM:<>"


def test_quit_relayed_and_closed(mxshield, backend):
    c = mxshield.session()
    r = c.cmd("QUIT")
    assert r.code == 221
    c.expect_closed(3)
    backend.wait_all_closed()


@pytest.mark.parametrize("helo", ["a(b);c\\d\"e'f.example", "x\tspace.example"])
def test_odd_helo_never_reaches_received(mxshield, backend, helo):
    """A HELO outside domain syntax is refused before it could reach the
    backend or a Received field."""
    c = mxshield.client()
    assert c.reply().code == 220
    r = c.cmd(b"EHLO " + helo.encode())
    assert (r.code, r.text[:5]) == (501, "5.5.2"), r
    assert c.cmd("QUIT").code == 221
    backend.wait_all_closed()
    assert backend.all_verbs() == ["QUIT"], backend.all_transcripts()


@pytest.mark.parametrize("helo", ["h" * 300 + ".example.net", "[127.0.0.1]"])
def test_received_with_odd_helo(mxshield, backend, helo):
    """A long HELO or an address literal: the Received field stays one
    well-formed field: CRLF line ends only, lines within 998 octets, HELO
    cut to 255."""
    c = mxshield.client()
    assert c.reply().code == 220
    r = c.cmd(b"EHLO " + helo.encode())
    assert r.code == 250, r
    content = make_message()
    assert c.transaction("sender@example.net", ["rcpt@example.com"], content).code == 250
    (m,) = backend.transactions
    assert bare_line_endings(m.data) == []
    field, rest = split_first_header(m.data)
    assert field.startswith(b"Received: from ")
    assert rest == dot_stuff(content)
    assert all(len(l) <= 998 for l in field.split(b"\r\n"))
    assert b"by mx.test.example" in field
    unfolded = field.replace(b"\r\n", b"")
    assert b"h" * 256 not in unfolded
