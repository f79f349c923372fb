"""
SMTP smuggling (DESIGN.md "Line endings"): end of data is only
CRLF.CRLF and the backend never sees a bare CR or LF. The backend runs
in lenient mode, as a vulnerable MTA that ends the data at any of the
bare forms: a leak shows up as a second stored message (or a smuggled
MAIL command in its transcript), not only as a bare byte.

Default (limits.bare_lf = "reject"): 550 5.5.2 after the client's final
dot, nothing stored, the session goes on. "normalize": one message whose
bare line ends became CRLF and whose "." line got stuffed, so the
smuggled text is inside it.
"""

import pytest

from smtpkit import bare_line_endings, dot_stuff, make_message, strip_received

EOD_FORMS = {
    "LF.LF": b"\n.\n",
    "CR.CR": b"\r.\r",
    "LF.CRLF": b"\n.\r\n",
    "CRLF.LF": b"\r\n.\n",
    "CR.LF": b"\r.\n",
    "CR.CRLF": b"\r.\r\n",
    "CRLF.CR": b"\r\n.\r",
}
# Where the bare form sits: in the body, inside the held header section,
# or as the very first bytes of the data.
PREFIXES = {
    "body": b"From: <sender@example.net>\r\nSubject: smuggle\r\n\r\nhello",
    "header": b"From: <sender@example.net>\r\nSubject: smuggle",
    "start": b"",
}
SMUGGLED = b"MAIL FROM:<evil@x>\r\nRCPT TO:<v@y>\r\nDATA\r\nsmuggled\r\n"


def _send_smuggling_message(c, prefix, form):
    assert c.cmd("MAIL FROM:<sender@example.net>").code == 250
    assert c.cmd("RCPT TO:<rcpt@example.com>").code == 250
    assert c.cmd("DATA").code == 354
    c.send(prefix + form + SMUGGLED + b".\r\n")
    return c.reply()


def _assert_backend_never_saw_bare(backend):
    for i, t in enumerate(backend.all_transcripts()):
        bad = bare_line_endings(t)
        assert not bad, "backend connection %d got a bare CR/LF at %r: %r" % (
            i, bad[:5], t[max(0, bad[0] - 40):bad[0] + 40])


@pytest.mark.parametrize("where", sorted(PREFIXES))
@pytest.mark.parametrize("form", sorted(EOD_FORMS))
def test_smuggling_rejected(mxshield, backend, form, where):
    backend.eod = "lenient"
    c = mxshield.session()
    r = _send_smuggling_message(c, PREFIXES[where], EOD_FORMS[form])
    assert (r.code, r.enh) == (550, "5.5.2"), r
    # exactly one reply for the message: the smuggled commands were data
    c.assert_quiet(0.3)
    assert backend.transactions == []
    assert not any(b"evil@x" in cmd for cmd in backend.all_commands())
    _assert_backend_never_saw_bare(backend)
    # the session continues and a clean message goes through
    content = make_message(subject="after")
    r = c.transaction("next@example.net", ["rcpt@example.com"], content)
    (m,) = backend.wait_messages(1)
    assert (r.code, r.text) == (250, "2.0.0 Ok: queued as " + m.queue_id)
    assert m.mail_from == "FROM:<next@example.net>"
    assert strip_received(m.data) == dot_stuff(content)
    assert c.cmd("QUIT").code == 221
    backend.wait_all_closed()
    _assert_backend_never_saw_bare(backend)
    assert len(backend.transactions) == 1


@pytest.mark.parametrize("where", sorted(PREFIXES))
@pytest.mark.parametrize("form", sorted(EOD_FORMS))
def test_smuggling_normalized(mxshield, backend, form, where):
    backend.eod = "lenient"
    mx = mxshield({"limits": {"bare_lf": "normalize"}})
    c = mx.session()
    r = _send_smuggling_message(c, PREFIXES[where], EOD_FORMS[form])
    assert r.code == 250, r
    c.assert_quiet(0.3)
    assert c.cmd("QUIT").code == 221
    backend.wait_all_closed()
    (m,) = backend.transactions
    assert r.text == "2.0.0 Ok: queued as " + m.queue_id
    _assert_backend_never_saw_bare(backend)
    mail_cmds = [x for x in backend.all_commands() if x.upper().startswith(b"MAIL")]
    assert mail_cmds == [b"MAIL FROM:<sender@example.net>\r\n"]
    # every bare ending became CRLF and the lone "." line was stuffed:
    # the smuggled commands are text inside the one message
    expected = PREFIXES[where] + b"\r\n..\r\n" + SMUGGLED
    assert strip_received(m.data) == expected
    assert b"\r\nMAIL FROM:<evil@x>\r\n" in m.content


@pytest.mark.parametrize("bare", [b"\n", b"\r"])
def test_bare_ending_alone_rejected(mxshield, backend, bare):
    """No dot involved: a plain bare line ending in the body is refused too."""
    c = mxshield.session()
    body = b"Subject: plain\r\n\r\nline one" + bare + b"line two\r\n" + b"x" * 100 + b"\r\n"
    assert c.cmd("MAIL FROM:<sender@example.net>").code == 250
    assert c.cmd("RCPT TO:<rcpt@example.com>").code == 250
    assert c.cmd("DATA").code == 354
    c.send(body + b".\r\n")
    r = c.reply()
    assert (r.code, r.enh) == (550, "5.5.2"), r
    assert backend.transactions == []
    _assert_backend_never_saw_bare(backend)


def test_bare_lf_deep_in_a_large_body(mxshield, backend):
    """The backend already got DATA and part of the body: mxshield must
    abort without a final dot and the session must still work."""
    backend.eod = "lenient"
    c = mxshield.session()
    body = b"Subject: big\r\n\r\n" + (b"y" * 70 + b"\r\n") * 5000
    assert c.cmd("MAIL FROM:<sender@example.net>").code == 250
    assert c.cmd("RCPT TO:<rcpt@example.com>").code == 250
    assert c.cmd("DATA").code == 354
    c.send(body + b"tail\n.\n" + SMUGGLED + (b"z" * 70 + b"\r\n") * 100 + b".\r\n")
    r = c.reply(timeout=15)
    assert (r.code, r.enh) == (550, "5.5.2"), r
    c.assert_quiet(0.3)
    assert backend.transactions == []
    assert not any(b"evil@x" in cmd for cmd in backend.all_commands())
    content = make_message(subject="after-abort")
    r = c.transaction("next@example.net", ["rcpt@example.com"], content)
    (m,) = backend.wait_messages(1)
    assert r.code == 250 and r.text.endswith(m.queue_id)
    assert strip_received(m.data) == dot_stuff(content)
    _assert_backend_never_saw_bare(backend)


def test_normalize_keeps_crlf_messages_identical(mxshield, backend):
    mx = mxshield({"limits": {"bare_lf": "normalize"}, "backend": {"client_info": "none"}})
    content = make_message(body=b".\r\n..x\r\nplain\r\n")
    c = mx.session()
    r = c.transaction("sender@example.net", ["rcpt@example.com"], content)
    assert r.code == 250
    assert backend.transactions[0].data == dot_stuff(content)
