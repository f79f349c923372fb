"""
Timeouts (DESIGN.md "Timeouts", "A session"): an idle or trickling
client, an idle client in DATA, and a backend that does not answer all
end with 421 4.4.2 and a closed connection, never a 2xx, never a message
at the backend.
"""

import time

import pytest

from smtpkit import ConnectionClosed, Timeout, make_message

SHORT = {"limits": {"command_timeout": 2, "data_timeout": 2}}


def _expect_421_within(c, start, low, high, enh=("4.4.2",)):
    r = c.reply(timeout=high + 1)
    took = time.monotonic() - start
    assert r.code == 421 and r.enh in enh, r
    assert low <= took <= high, "421 after %.2fs, expected %.1f..%.1fs" % (took, low, high)
    c.expect_closed(2)
    return r


def test_idle_after_greeting(mxshield, backend):
    mx = mxshield(SHORT)
    c = mx.client()
    t = time.monotonic()
    assert c.reply().code == 220
    _expect_421_within(c, t, 1.5, 3.5)
    backend.wait_all_closed(3)


def test_idle_after_ehlo(mxshield, backend):
    mx = mxshield(SHORT)
    c = mx.session()
    t = time.monotonic()
    _expect_421_within(c, t, 1.5, 3.5)


def test_trickling_command_bytes_do_not_reset_the_timer(mxshield, backend):
    mx = mxshield(SHORT)
    c = mx.session()
    t = time.monotonic()
    payload = b"NOOP " + b"x" * 100
    got = None
    for b in payload:
        if not c.send_tolerant(bytes([b])):
            break
        try:
            got = c.reply(timeout=0.3)
            break
        except Timeout:
            pass
        except ConnectionClosed:
            break
        if time.monotonic() - t > 6:
            break
    took = time.monotonic() - t
    if got is None:
        got = c.reply(timeout=1)
    assert got.code == 421 and got.enh == "4.4.2", got
    assert took <= 3.5, "421 only after %.2fs of trickling" % took
    c.expect_closed(2)
    assert "NOOP" not in backend.all_verbs()


def _start_data(c):
    assert c.cmd("MAIL FROM:<sender@example.net>").code == 250
    assert c.cmd("RCPT TO:<rcpt@example.com>").code == 250
    assert c.cmd("DATA").code == 354


def test_idle_in_data(mxshield, backend):
    mx = mxshield(SHORT)
    c = mx.session()
    _start_data(c)
    c.send(b"Subject: idle\r\n\r\n" + b"line\r\n" * 2000 + b"partial")
    t = time.monotonic()
    _expect_421_within(c, t, 1.5, 3.5)
    backend.wait_all_closed(3)
    assert backend.transactions == []
    assert all(not s.unacked for s in backend.sessions)


def test_trickling_in_data_times_out(mxshield, backend):
    mx = mxshield(SHORT)
    c = mx.session()
    _start_data(c)
    c.send(b"Subject: trickle\r\n\r\n")
    t = time.monotonic()
    got = None
    while time.monotonic() - t < 6:
        if not c.send_tolerant(b"z"):
            break
        try:
            got = c.reply(timeout=0.3)
            break
        except Timeout:
            pass
        except ConnectionClosed:
            break
    took = time.monotonic() - t
    if got is None:
        got = c.reply(timeout=1)
    assert got.code == 421 and got.enh == "4.4.2", got
    assert took <= 3.5, "421 only after %.2fs of trickling" % took
    backend.wait_all_closed(3)
    assert backend.transactions == []


def test_backend_never_answers_mail(mxshield, backend):
    backend.silent = {"MAIL"}
    mx = mxshield({"backend": {"reply_timeout": 2}})
    c = mx.session()
    c.sendline("MAIL FROM:<sender@example.net>")
    t = time.monotonic()
    _expect_421_within(c, t, 1.5, 3.5)


def test_backend_never_answers_the_final_dot(mxshield, backend):
    backend.silent = {"DOT"}
    mx = mxshield({"backend": {"data_reply_timeout": 2, "reply_timeout": 2}})
    c = mx.session()
    _start_data(c)
    c.send(make_message() + b".\r\n")
    t = time.monotonic()
    _expect_421_within(c, t, 1.5, 3.5)
    # it got the message but never said 250: nothing was acknowledged
    assert backend.transactions == []
    assert len(backend.sessions[0].unacked) == 1


@pytest.mark.parametrize("knob", ["silent", "close"])
def test_backend_without_greeting(mxshield, backend, knob):
    if knob == "silent":
        backend.silent = {"GREETING"}
    else:
        backend.close_on = {"GREETING"}
    mx = mxshield({"backend": {"reply_timeout": 2, "connect_timeout": 2}})
    c = mx.client()
    t = time.monotonic()
    r = c.reply(timeout=6)
    assert r.code == 421 and r.enh in ("4.4.1", "4.4.2"), r
    assert time.monotonic() - t <= 4.5
    c.expect_closed(2)
