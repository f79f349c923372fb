"""
Connection limits (limits.max_connections, limits.max_per_ip): the
client over the limit gets 421 4.7.0 and the backend never hears of it;
a freed slot can be used again. Checked with two worker threads too, so
a per-worker count would show.
"""

import time

import pytest

from smtpkit import make_message, wait_for


@pytest.mark.parametrize("workers", [1, 2])
def test_max_connections(mxshield, backend, workers):
    mx = mxshield({"limits": {"max_connections": 2}}, workers=workers)
    a = mx.client()
    b = mx.client()
    assert a.reply().code == 220 and b.reply().code == 220
    assert backend.connections == 2
    for _ in range(3):
        c = mx.client()
        r = c.reply()
        assert (r.code, r.enh) == (421, "4.7.0"), r
        c.expect_closed(3)
    time.sleep(0.2)
    assert backend.connections == 2
    # the two admitted sessions still work
    a.ehlo()
    assert a.transaction("a@example.net", ["r@example.com"], make_message()).code == 250
    # a freed slot is usable again
    assert b.cmd("QUIT").code == 221
    b.expect_closed(3)

    def admitted():
        c = mx.client()
        r = c.reply()
        c.close()
        return r.code == 220
    wait_for(admitted, 5, interval=0.2, what="a slot freed after QUIT")
    assert backend.connections >= 3


def test_max_per_ip(mxshield, backend):
    mx = mxshield({"limits": {"max_per_ip": 1}})
    a = mx.client(source="127.0.0.2")
    assert a.reply().code == 220
    b = mx.client(source="127.0.0.2")
    r = b.reply()
    assert (r.code, r.enh) == (421, "4.7.0"), r
    b.expect_closed(3)
    time.sleep(0.2)
    assert backend.connections == 1
    # another address is not affected
    c = mx.client(source="127.0.0.3")
    assert c.reply().code == 220
    c.ehlo()
    assert c.transaction("c@example.net", ["r@example.com"], make_message()).code == 250
    assert backend.connections == 2
    a.close()

    def admitted():
        d = mx.client(source="127.0.0.2")
        r = d.reply()
        d.close()
        return r.code == 220
    wait_for(admitted, 5, interval=0.2, what="127.0.0.2 admitted again after its session ended")


def test_many_concurrent_sessions(mxshield, backend):
    """A burst of parallel sessions under the limits all complete."""
    # EHLO pipelined with the envelope: forbid_unauth_pipelining off
    mx = mxshield({"limits": {"forbid_unauth_pipelining": False}}, workers=2)
    clients = [mx.client() for _ in range(40)]
    for c in clients:
        assert c.reply().code == 220
    for i, c in enumerate(clients):
        c.send(b"EHLO c%d.example.net\r\nMAIL FROM:<s%d@example.net>\r\nRCPT TO:<r@example.com>\r\nDATA\r\n" % (i, i))
    for c in clients:
        assert [r.code for r in c.replies(4)] == [250, 250, 250, 354]
    for i, c in enumerate(clients):
        c.send(make_message(subject="burst %d" % i) + b".\r\nQUIT\r\n")
    for c in clients:
        assert [r.code for r in c.replies(2)] == [250, 221]
    assert len(backend.transactions) == 40
    assert sorted(m.mail_from for m in backend.transactions) == sorted(
        "FROM:<s%d@example.net>" % i for i in range(40))
