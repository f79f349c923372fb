"""
Failures on either side (DESIGN.md promise 1, "Nothing is lost"): a
client is told 2xx after DATA only when the backend said 250 for that
message; a vanished backend gives 421 4.4.1/4.4.2; a vanished client
never yields a partial message at the backend.
"""

import select
import socket
import time

import pytest

from smtpkit import ConnectionClosed, free_port, make_message


def test_backend_down_at_connect(mxshield, backend):
    mx = mxshield(backend_port=free_port())
    c = mx.client()
    r = c.reply(timeout=8)
    assert (r.code, r.enh) == (421, "4.4.1"), r
    c.expect_closed(3)
    # the listener survives and serves the next client the same way
    c2 = mx.client()
    r = c2.reply(timeout=8)
    assert (r.code, r.enh) == (421, "4.4.1"), r


def test_backend_closes_after_greeting(mxshield, backend):
    backend.close_on = {"EHLO"}
    c = mxshield.client()
    assert c.reply().code == 220
    c.send_tolerant(b"EHLO client.example.net\r\n")
    r = c.reply(timeout=5)
    assert (r.code, r.enh) == (421, "4.4.2"), r
    c.expect_closed(3)


def _stream_until_reply(c, payload, chunk=16384):
    """Send payload in chunks, stopping early when the server answers or
    closes. Returns the first reply (None if the connection just closed)."""
    sent = 0
    while sent < len(payload):
        r, _, _ = select.select([c.sock], [], [], 0)
        if r:
            break
        if not c.send_tolerant(payload[sent:sent + chunk]):
            break
        sent += chunk
    try:
        return c.reply(timeout=8)
    except ConnectionClosed:
        return None


@pytest.mark.parametrize("after", [100, 300000])
def test_backend_closes_mid_data(mxshield, backend, after):
    backend.close_after_data_bytes = after
    c = mxshield.session()
    assert c.cmd("MAIL FROM:<sender@example.net>").code == 250
    assert c.cmd("RCPT TO:<rcpt@example.com>").code == 250
    assert c.cmd("DATA").code == 354
    payload = make_message(body=(b"m" * 76 + b"\r\n") * 10000) + b".\r\n"
    r = _stream_until_reply(c, payload)
    assert r is not None, "connection closed without a reply; read %r" % bytes(c.received)
    assert (r.code, r.enh) == (421, "4.4.2"), r
    assert backend.transactions == []
    assert all(not s.unacked for s in backend.sessions)


def test_backend_closes_after_final_dot(mxshield, backend):
    """Lost between the final dot and the reply: 421, never 2xx (the
    message may come twice after a retry, RFC 5321 6.1)."""
    backend.close_on = {"DOT"}
    c = mxshield.session()
    r = c.transaction("sender@example.net", ["rcpt@example.com"], make_message())
    assert (r.code, r.enh) == (421, "4.4.2"), r
    assert backend.transactions == []


@pytest.mark.parametrize("cut", ["headers", "body", "before-dot", "cr-of-dot"])
def test_client_vanishes_mid_data(mxshield, backend, cut):
    c = mxshield.session()
    assert c.cmd("MAIL FROM:<sender@example.net>").code == 250
    assert c.cmd("RCPT TO:<rcpt@example.com>").code == 250
    assert c.cmd("DATA").code == 354
    msg = make_message(body=(b"v" * 76 + b"\r\n") * 4000)
    if cut == "headers":
        part = msg[:60]
    elif cut == "body":
        part = msg[:len(msg) // 2]
    elif cut == "before-dot":
        part = msg          # complete content, ends with CRLF, no "."
    else:
        part = msg + b".\r"
    c.send(part)
    time.sleep(0.2)
    c.sock.shutdown(socket.SHUT_RDWR)
    c.close()
    backend.wait_all_closed(5)
    assert backend.transactions == []
    for s in backend.sessions:
        assert not s.unacked, "the backend received a complete message: %r" % s.unacked[0][-40:]


def test_client_vanishes_then_next_client_fine(mxshield, backend):
    c = mxshield.session()
    assert c.cmd("MAIL FROM:<sender@example.net>").code == 250
    c.close()
    c2 = mxshield.session()
    r = c2.transaction("sender@example.net", ["rcpt@example.com"], make_message())
    assert r.code == 250 and len(backend.transactions) == 1


@pytest.mark.parametrize("bad", [b"2x0 garbage", b"250 ok\x01bell", b"hello there", b"999 out of range",
                                 b"250-first\r\n251 different code"])
def test_malformed_backend_reply_not_relayed(mxshield, backend, bad):
    backend.replies = {"NOOP": bad}
    c = mxshield.session()
    c.sendline("NOOP")
    try:
        r = c.reply(timeout=5)
    except ConnectionClosed:
        pytest.fail("closed without a reply; read %r" % bytes(c.received))
    assert r.code // 100 == 4, r
    assert bad.split(b"\r\n")[0] not in c.received
    assert b"garbage" not in r.raw and b"bell" not in r.raw and b"different" not in r.raw
