"""
Hostile command lines and message content (DESIGN.md "Hostile input:
the decisions"): each gets its defined reply, is never relayed, and the
session goes on until max_errors / max_junk_commands.
"""

import time

import pytest

from smtpkit import bare_line_endings, dot_stuff, make_message, strip_received


def _sync(c, limit=6):
    """Send VRFY (the backend answers 252) and read replies up to it."""
    c.sendline("VRFY sync")
    out = []
    for _ in range(limit):
        r = c.reply()
        out.append(r)
        if r.code == 252:
            return out
    raise AssertionError("no reply to the sync VRFY among %r" % out)


@pytest.mark.parametrize("size", [2100, 8192, 200000])
def test_long_command_line(mxshield, backend, size):
    c = mxshield.session()
    line = b"NOOP " + b"a" * (size - 5)
    for i in range(0, len(line), 4096):
        c.send(line[i:i + 4096])
    c.send(b"\r\n")
    r = c.reply()
    assert (r.code, r.enh) == (500, "5.5.2"), r
    c.assert_quiet(0.3)
    # the rest of the line was discarded, the session goes on
    assert c.cmd("NOOP").code == 250
    assert all(len(x) <= 2048 + 2 for x in backend.all_commands())
    assert not any(b"aaaa" in t for t in backend.all_transcripts())


def test_command_line_under_limit_relayed(mxshield, backend):
    c = mxshield.session()
    line = b"NOOP " + b"b" * 1900
    assert c.cmd(line).code == 250
    assert line + b"\r\n" in backend.all_commands()


@pytest.mark.parametrize("bad", [b"NOOP\nNOOP\r\n", b"MAIL FROM:<a@bare.example>\nRCPT TO:<c@d.example>\r\n",
                                 b"NOOP\rNOOP\r\n", b"MAIL FROM:<a@bare.example>\r\r\n"],
                         ids=["LF", "LF-mail", "CR", "CRCR"])
def test_bare_line_ending_in_command(mxshield, backend, bad):
    c = mxshield.session()
    c.send(bad)
    rs = _sync(c)
    assert (rs[0].code, rs[0].enh) == (500, "5.5.2"), rs
    # a line ends only at CRLF: one refused line, one reply
    assert [r.code for r in rs] == [500, 252], rs
    for t in backend.all_transcripts():
        assert bare_line_endings(t) == [], t
    assert not any(b"bare.example" in x for x in backend.all_commands())


@pytest.mark.parametrize("bare", [b"\n", b"\r", b"\r\r", b"\n\n"], ids=["LF", "CR", "CRCR", "LFLF"])
@pytest.mark.parametrize("bytewise", [False, True], ids=["one-write", "bytewise"])
def test_bare_ending_never_ends_a_command_line(mxshield, backend, bare, bytewise):
    """NOOP<bare>MAIL FROM:<...>CRLF is one refused line: exactly one
    500 5.5.2, and the backend never gets the MAIL hidden behind the bare
    line ending (a client that reads only CRLF lines would otherwise take
    the second reply for its next command)."""
    c = mxshield.session()
    line = b"NOOP" + bare + b"MAIL FROM:<inj@evil.test>\r\n"
    if bytewise:
        for i in range(len(line)):
            c.send(line[i:i + 1])
            time.sleep(0.002)
    else:
        c.send(line)
    rs = _sync(c)
    assert [(r.code, r.enh) for r in rs[:1]] == [(500, "5.5.2")], rs
    assert [r.code for r in rs] == [500, 252], rs
    # the session goes on with a clean transaction
    assert c.cmd("MAIL FROM:<sender@example.net>").code == 250
    assert c.cmd("QUIT").code == 221
    backend.wait_all_closed()
    raw = b"".join(backend.all_transcripts())
    assert b"evil.test" not in raw, raw
    assert b"NOOP" not in raw, raw
    assert bare_line_endings(raw) == [], raw
    assert [v for v in backend.all_verbs() if v == "MAIL"] == ["MAIL"]
    assert [x for x in backend.all_commands() if x.startswith(b"MAIL")] == \
        [b"MAIL FROM:<sender@example.net>\r\n"]


@pytest.mark.parametrize("verb", ["EHLO", "HELO"])
@pytest.mark.parametrize("arg", [b"two words.example", b"x.example;rm", b"caf\xc3\xa9.example",
                                 b"a\x01b.example", b"evil\x1b[31m.example", b"x.example\t",
                                 b"(x).example", b"[192.0.2.1] x"],
                         ids=["space", "semicolon", "8bit", "ctrl", "esc", "tab", "parens", "literal+"])
def test_helo_argument_outside_domain_syntax(mxshield, backend, verb, arg):
    """A HELO/EHLO argument with bytes no domain or address literal holds
    is refused 501 5.5.2 and relayed nowhere (not to the backend, not into
    the Received: field); a name with an underscore still passes."""
    c = mxshield.client()
    assert c.reply().code == 220
    r = c.cmd(verb.encode() + b" " + arg)
    assert (r.code, r.enh) == (501, "5.5.2"), r
    assert r.text == "5.5.2 Syntax: %s hostname" % verb, r
    # the refused line changed nothing; a good EHLO then works
    r = c.cmd("EHLO host_name.example")
    assert r.code == 250, r
    r = c.transaction("sender@example.net", ["rcpt@example.com"], make_message())
    assert r.code == 250, r
    (m,) = backend.wait_messages(1)
    assert b"from host_name.example " in m.data.split(b"\r\n\r\n", 1)[0], m.data[:300]
    raw = b"".join(backend.all_transcripts())
    assert arg not in raw, raw
    helos = [x for x in backend.all_commands() if x[:4].upper() in (b"HELO", b"EHLO")]
    assert helos == [b"EHLO host_name.example\r\n"], helos
    t = mxshield.wait_log(lambda l: l.get("event") == "txn", what="txn line")[0]
    assert t["helo"] == "host_name.example", t


@pytest.mark.parametrize("arg", ["host_name.example", "mike", "[192.0.2.1]", "[IPv6:2001:db8::1]",
                                 "Example.COM.", "192.0.2.1", "2001:db8::7"])
def test_helo_common_forms_relayed(mxshield, backend, arg):
    """Names real hosts send, misconfigured or not, still reach the
    backend as sent (their judgement is the HELO policy's, off here)."""
    c = mxshield.client()
    assert c.reply().code == 220
    assert c.cmd("EHLO " + arg).code == 250
    assert c.cmd("QUIT").code == 221
    backend.wait_all_closed()
    assert [x for x in backend.all_commands() if x.startswith(b"EHLO")] == [("EHLO %s\r\n" % arg).encode()]


@pytest.mark.parametrize("bad", [b"NOOP\x00x", b"MAIL FROM:<a\x00@nul.example>", b"\x00"])
def test_nul_in_command(mxshield, backend, bad):
    c = mxshield.session()
    r = c.cmd(bad)
    assert (r.code, r.enh) == (500, "5.5.2"), r
    assert c.cmd("NOOP").code == 250
    assert not any(b"\x00" in t for t in backend.all_transcripts())


def _data(c, payload, timeout=10):
    assert c.cmd("MAIL FROM:<sender@example.net>").code == 250
    assert c.cmd("RCPT TO:<rcpt@example.com>").code == 250
    assert c.cmd("DATA").code == 354
    c.send(payload + b".\r\n")
    return c.reply(timeout)


@pytest.mark.parametrize("where", ["header", "body", "deep-body"])
def test_nul_in_data(mxshield, backend, where):
    c = mxshield.session()
    if where == "header":
        payload = b"Subject: a\x00b\r\n\r\nbody\r\n"
    elif where == "body":
        payload = b"Subject: nul\r\n\r\nbo\x00dy\r\n"
    else:
        payload = b"Subject: nul\r\n\r\n" + (b"q" * 70 + b"\r\n") * 5000 + b"\x00\r\n" + b"after\r\n"
    r = _data(c, payload)
    assert (r.code, r.enh) == (550, "5.6.0"), r
    c.assert_quiet(0.3)
    assert backend.transactions == []
    assert not any(b"\x00" in t for t in backend.all_transcripts())
    content = make_message()
    r = c.transaction("sender@example.net", ["rcpt@example.com"], content)
    (m,) = backend.wait_messages(1)
    assert r.code == 250 and r.text.endswith(m.queue_id)
    assert strip_received(m.data) == dot_stuff(content)


@pytest.mark.parametrize("shape", ["many-fields", "one-long-field", "no-end"])
def test_header_section_over_limit(mxshield, backend, shape):
    mx = mxshield({"limits": {"max_header_bytes": 8192}})
    if shape == "many-fields":
        payload = b"".join(b"X-Pad-%04d: %s\r\n" % (i, b"p" * 40) for i in range(400)) + \
            b"From: <ceo@example.com>\r\n\r\nbody\r\n"
    elif shape == "one-long-field":
        payload = b"Subject: " + b"\r\n ".join([b"w" * 70] * 300) + b"\r\n\r\nbody\r\n"
    else:
        payload = b"".join(b"X-H%05d: v\r\n" % i for i in range(3000))
    c = mx.session()
    r = _data(c, payload)
    assert (r.code, r.enh) == (552, "5.3.4"), r
    c.assert_quiet(0.3)
    assert backend.transactions == []
    # decided on the held header section: the backend never saw DATA
    assert "DATA" not in backend.all_verbs()
    r = c.transaction("sender@example.net", ["rcpt@example.com"], make_message())
    assert r.code == 250 and len(backend.wait_messages(1)) == 1


def test_header_section_under_limit_passes(mxshield, backend):
    mx = mxshield({"limits": {"max_header_bytes": 8192}, "backend": {"client_info": "none"}})
    content = b"".join(b"X-Pad-%03d: %s\r\n" % (i, b"p" * 40) for i in range(100)) + b"\r\nbody\r\n"
    c = mx.session()
    r = c.transaction("sender@example.net", ["rcpt@example.com"], content)
    assert r.code == 250
    assert backend.transactions[0].data == dot_stuff(content)


def test_max_errors(mxshield, backend):
    mx = mxshield({"limits": {"max_errors": 3}})
    c = mx.session()
    errors = []
    for bad in [b"FOO", b"NOOP\x00", b"XCLIENT ADDR=1.2.3.4", b"BAR", b"BAZ", b"QUX"]:
        c.send_tolerant(bad + b"\r\n")
        r = c.reply_or_none()
        if r is None:
            break
        errors.append(r)
        if r.code == 421:
            break
    assert [r.code // 100 for r in errors[:3]] == [5, 5, 5], errors
    assert (errors[-1].code, errors[-1].enh) == (421, "4.7.0"), errors
    assert len(errors) == 4, errors
    c.expect_closed(3)
    assert not any(v in ("FOO", "XCLIENT", "BAR", "BAZ", "QUX") for v in backend.all_verbs())


def test_max_junk_commands(mxshield, backend):
    mx = mxshield({"limits": {"max_junk_commands": 5}})
    c = mx.session()
    got = []
    for i in range(9):
        c.send_tolerant(b"NOOP\r\n" if i % 2 else b"RSET\r\n")
        r = c.reply_or_none()
        if r is None:
            break
        got.append(r)
        if r.code == 421:
            break
    assert [r.code for r in got] == [250] * 5 + [421], got
    assert got[-1].enh == "4.7.0"
    c.expect_closed(3)
    assert backend.all_verbs().count("NOOP") + backend.all_verbs().count("RSET") <= 5


def test_starttls_refused_not_relayed(mxshield, backend):
    c = mxshield.session()
    r = c.cmd("STARTTLS")
    assert (r.code, r.enh) == (454, "4.7.0"), r
    assert c.cmd("NOOP").code == 250
    assert "STARTTLS" not in backend.all_verbs()


def test_bdat_refused_not_relayed(mxshield, backend):
    c = mxshield.session()
    assert c.cmd("MAIL FROM:<sender@example.net>").code == 250
    assert c.cmd("RCPT TO:<rcpt@example.com>").code == 250
    r = c.cmd("BDAT 0 LAST")
    assert (r.code, r.enh) == (502, "5.5.1"), r
    assert "BDAT" not in backend.all_verbs()
    assert backend.transactions == []


@pytest.mark.parametrize("line", [
    "XCLIENT ADDR=192.0.2.1 NAME=trusted.example.com",
    "XFORWARD ADDR=192.0.2.1",
    "ETRN example.com", "TURN", "ATRN example.com", "SEND FROM:<a@example.net>",
    "SOML FROM:<a@example.net>", "SAML FROM:<a@example.net>", "VERB", "XEXCH50 100 2",
    "WIZ", "DEBUG", "X-LINK2STATE LAST CHUNK=x", "XUSR",
    "PROXY TCP4 192.0.2.1 127.0.0.1 1234 25", "GET / HTTP/1.0",
])
def test_unknown_and_owned_verbs(mxshield, backend, line):
    c = mxshield.session()
    r = c.cmd(line)
    assert (r.code, r.enh) == (502, "5.5.1"), r
    assert c.cmd("NOOP").code == 250
    verb = line.split()[0].encode()
    assert not any(x.upper().startswith(verb) for x in backend.all_commands())


def test_auth_line_too_long(mxshield, backend):
    backend.capabilities = backend.capabilities + ["AUTH PLAIN LOGIN"]
    c = mxshield.session()
    r = c.cmd(b"AUTH PLAIN " + b"A" * 13000)
    assert (r.code, r.enh) == (500, "5.5.6"), r
    assert "AUTH" not in backend.all_verbs()
    assert c.cmd("NOOP").code == 250
