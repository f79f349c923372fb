"""
The harness itself: the recording backend and the raw client, straight
to each other without mxshield. These prove the oracle can see what the
other tests claim it sees (a smuggled second message, a bare LF, the
exact wire bytes), so a passing proxy test means something.
"""

import smtplib
import socket
import subprocess
import time

import pytest

from smtpkit import (Client, LENIENT_EOD, bare_line_endings, dot_stuff, dot_unstuff,
                     free_port, make_message, split_first_header, strip_received)


def test_backend_records_wire_bytes(backend):
    content = make_message(body=b".leading dot\r\n..two\r\nend\r\n")
    with smtplib.SMTP("127.0.0.1", backend.port, timeout=10) as c:
        c.ehlo("client.example.net")
        c.mail("a@example.net")
        c.rcpt("b@example.com")
        code, resp = c.data(content)
    assert code == 250 and resp.startswith(b"2.0.0 Ok: queued as ")
    (m,) = backend.wait_messages(1) and backend.transactions
    assert m.data == dot_stuff(content)
    assert m.content == content
    assert m.raw == dot_stuff(content) + b".\r\n"
    assert resp.endswith(m.queue_id.encode())
    assert m.rcpts == ["b@example.com"]


def test_backend_queue_ids_unique(backend):
    with Client(backend.port) as c:
        c.reply()
        c.ehlo()
        ids = set()
        for _ in range(5):
            r = c.transaction("a@x.example", ["b@example.com"], make_message())
            ids.add(r.text.split()[-1])
    assert len(ids) == 5
    assert {m.queue_id for m in backend.transactions} == ids


def test_backend_pipelining_and_rejects(backend):
    with Client(backend.port) as c:
        c.reply()
        c.ehlo()
        c.send(b"MAIL FROM:<a@x.example>\r\nRCPT TO:<reject@example.com>\r\n"
               b"RCPT TO:<ok@example.com>\r\nDATA\r\n")
        codes = [r.code for r in c.replies(4)]
    assert codes == [250, 550, 250, 354]


def test_empty_message(backend):
    with Client(backend.port) as c:
        c.reply()
        c.ehlo()
        r = c.transaction("a@x.example", ["b@example.com"], b"")
    assert r.code == 250
    assert backend.transactions[0].data == b""
    assert backend.transactions[0].raw == b".\r\n"


def test_strict_backend_shows_two_messages_when_two_are_sent(backend):
    """A stream with two CRLF.CRLF is two messages: the oracle does not
    merge them."""
    with Client(backend.port) as c:
        c.reply()
        c.ehlo()
        c.send(b"MAIL FROM:<a@x.example>\r\nRCPT TO:<b@example.com>\r\nDATA\r\n")
        c.replies(3)
        c.send(b"Subject: 1\r\n\r\none\r\n.\r\nMAIL FROM:<evil@x>\r\nRCPT TO:<v@y>\r\nDATA\r\n"
               b"smuggled\r\n.\r\n")
        codes = [r.code for r in c.replies(4)]
    assert codes == [250, 250, 250, 354] or codes[:1] == [250]
    backend.wait_messages(2)
    assert [m.mail_from for m in backend.transactions] == ["FROM:<a@x.example>", "FROM:<evil@x>"]


@pytest.mark.parametrize("eod", [b"\n.\n", b"\r.\r", b"\n.\r\n", b"\r\n.\n", b"\r.\n"])
def test_lenient_backend_is_smugglable(backend, eod):
    """In lenient mode the backend is the vulnerable MTA that smuggling
    tests need: each bare form ends the data there."""
    backend.eod = "lenient"
    with Client(backend.port) as c:
        c.reply()
        c.ehlo()
        c.send(b"MAIL FROM:<a@x.example>\r\nRCPT TO:<b@example.com>\r\nDATA\r\n")
        c.replies(3)
        c.send(b"Subject: s\r\n\r\nhello" + eod +
               b"MAIL FROM:<evil@x>\r\nRCPT TO:<v@y>\r\nDATA\r\nsmuggled\r\n.\r\n")
        c.reply()
    backend.wait_messages(2)
    assert backend.transactions[1].mail_from == "FROM:<evil@x>"
    assert bare_line_endings(backend.all_transcripts()[0])


def test_lenient_regex_ignores_crlf_messages():
    assert LENIENT_EOD.search(b"\r\na\r\n\r\n..\r\nb\r\n") is None


def test_bare_line_endings():
    assert bare_line_endings(b"a\r\nb\r\n") == []
    assert bare_line_endings(b"a\nb") == [1]
    assert bare_line_endings(b"a\rb") == [1]
    assert bare_line_endings(b"\r") == [0]
    assert bare_line_endings(b"\n\r\n") == [0]
    assert bare_line_endings(b"\r\r\n") == [0]


def test_dot_stuffing_roundtrip():
    c = b".a\r\nb\r\n.\r\n..c\r\n"
    assert dot_stuff(c) == b"..a\r\nb\r\n..\r\n...c\r\n"
    assert dot_unstuff(dot_stuff(c)) == c


def test_strip_received():
    hdr = (b"Received: from client.example.net ([127.0.0.1])\r\n"
           b"\tby mx.test.example (mxshield) with ESMTP id 0123456789abcdef;\r\n"
           b"\tTue, 24 Nov 2026 13:33:11 +0000\r\n")
    assert strip_received(hdr + b"Subject: x\r\n\r\nb\r\n") == b"Subject: x\r\n\r\nb\r\n"
    with pytest.raises(AssertionError):
        strip_received(b"Subject: x\r\n\r\n")
    assert split_first_header(b"A: 1\r\n 2\r\nB: 3\r\n") == (b"A: 1\r\n 2\r\n", b"B: 3\r\n")


def test_backend_close_after_data_bytes(backend):
    backend.close_after_data_bytes = 1000
    with Client(backend.port) as c:
        c.reply()
        c.ehlo()
        c.send(b"MAIL FROM:<a@x.example>\r\nRCPT TO:<b@example.com>\r\nDATA\r\n")
        c.replies(3)
        try:
            c.send(b"x" * 5000 + b"\r\n.\r\n")
        except OSError:
            pass
        assert c.reply_or_none() is None
    backend.wait_all_closed()
    assert backend.transactions == []
    assert backend.sessions[0].closed_by == "us"


def test_backend_silent_and_delay(backend):
    backend.silent = {"MAIL"}
    backend.delay = {"NOOP": 0.3}
    with Client(backend.port) as c:
        c.reply()
        t = time.monotonic()
        assert c.cmd("NOOP").code == 250
        assert time.monotonic() - t >= 0.3
        c.sendline("MAIL FROM:<a@x.example>")
        with pytest.raises(AssertionError):
            c.reply(timeout=0.5)


def test_client_reads_multiline_and_eof(backend):
    backend.replies = {"QUIT": b"221-bye\r\n221 2.0.0 really"}
    with Client(backend.port) as c:
        c.reply()
        r = c.ehlo()
        assert r.lines[1:] == ["PIPELINING", "SIZE 104857600", "8BITMIME", "ENHANCEDSTATUSCODES"]
        r = c.cmd("QUIT")
        assert r.lines == ["bye", "2.0.0 really"] and r.enh == ""
        c.expect_closed(3)


def test_unreachable_port_refuses():
    port = free_port()
    s = socket.socket()
    s.settimeout(2)
    with pytest.raises(ConnectionRefusedError):
        s.connect(("127.0.0.1", port))
    s.close()


def test_swaks_against_backend(backend):
    out = subprocess.run(["swaks", "--server", "127.0.0.1:%d" % backend.port, "--to", "b@example.com",
                          "--from", "a@example.net", "--helo", "client.example.net"],
                         capture_output=True, timeout=30)
    assert out.returncode == 0, out
    assert b"<-  250 2.0.0 Ok: queued as " in out.stdout
    assert len(backend.transactions) == 1


def test_backend_auth_dialogs(backend):
    import base64
    with Client(backend.port) as c:
        c.reply()
        c.ehlo()
        assert c.cmd("AUTH LOGIN").raw == b"334 VXNlcm5hbWU6\r\n"
        assert c.cmd(base64.b64encode(b"bob")).raw == b"334 UGFzc3dvcmQ6\r\n"
        assert c.cmd(base64.b64encode(b"pw")).code == 235
        assert c.cmd("AUTH PLAIN").raw == b"334 \r\n"
        assert c.cmd("*").code == 501
        assert c.cmd("AUTH PLAIN !!!").code == 501
    assert backend.sessions[0].auth_lines[:3] == [b"AUTH LOGIN", b"Ym9i", b"cHc="]


@pytest.mark.parametrize("v", [1, 2])
def test_backend_reads_proxy_header(backend, v):
    from smtpkit import parse_proxy, proxy_v1, proxy_v2
    backend.proxy_header = True
    hdr = (proxy_v1 if v == 1 else proxy_v2)("192.0.2.9", "127.0.0.1", 4242, 25)
    with Client(backend.port) as c:
        c.send(hdr + b"EHLO x\r\n")
        assert c.reply().code == 220
        assert c.reply().code == 250
    backend.wait_for(lambda: backend.sessions and backend.sessions[0].proxy is not None)
    assert parse_proxy(backend.sessions[0].proxy) == ("192.0.2.9", "127.0.0.1", 4242, 25)


def test_backend_xclient(backend):
    backend.capabilities = backend.capabilities + ["XCLIENT ADDR PORT NAME HELO PROTO"]
    with Client(backend.port) as c:
        c.reply()
        c.ehlo("mx.test.example")
        assert c.cmd("XCLIENT ADDR=192.0.2.1 PORT=1234 NAME=[UNAVAILABLE] HELO=a+2Bb").code == 220
        c.ehlo()
    assert backend.sessions[0].xclient == {"ADDR": "192.0.2.1", "PORT": "1234",
                                           "NAME": "[UNAVAILABLE]", "HELO": "a+b"}
