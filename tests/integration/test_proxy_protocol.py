"""
Listeners with proxy_protocol = true (DESIGN.md "PROXY protocol"): the
header is required, only from trusted_proxies; the address it carries is
the client (logs, Received, limits); a malformed, missing or untrusted
header closes the connection without SMTP service and without a backend
connection; v1 UNKNOWN and v2 LOCAL are served with the socket's own
addresses.
"""

import time

import pytest

from smtpkit import RECEIVED_RE, free_port, make_message, proxy_v1, proxy_v2


def _mx(mxshield, trusted="127.0.0.1/32", **limits):
    cfg = {"trusted_proxies": [trusted],
           "listen": [{"address": "127.0.0.1", "port": free_port(), "proxy_protocol": True}]}
    if limits:
        cfg["limits"] = limits
    return mxshield(cfg)


def _no_service(c, timeout):
    """The connection is closed and not a byte of SMTP was sent."""
    extra = c.expect_closed(timeout)
    assert extra == b"" and bytes(c.received) == b"", bytes(c.received)


@pytest.mark.parametrize("version", [1, 2])
def test_carried_address_is_the_client(mxshield, backend, version):
    mx = _mx(mxshield)
    c = mx.client()
    make = proxy_v1 if version == 1 else proxy_v2
    c.send(make("198.51.100.7", "203.0.113.25", 40000, 25))
    assert c.reply().code == 220
    c.ehlo("proxied.example.net")
    assert c.transaction("s@example.net", ["r@example.com"], make_message()).code == 250
    c.cmd("QUIT")
    (m,) = backend.transactions
    mo = RECEIVED_RE.match(m.data)
    assert mo and mo.group("ip") == b"198.51.100.7", m.data[:300]
    (txn,) = mx.wait_log(lambda l: l.get("event") == "txn", what="txn line")
    assert txn["client"] == "198.51.100.7" and int(txn["port"]) == 40000, txn


def test_ipv6_carried_address(mxshield, backend):
    mx = _mx(mxshield)
    c = mx.client()
    c.send(proxy_v2("2001:db8::7", "2001:db8::25", 40001, 25))
    assert c.reply().code == 220
    c.ehlo()
    assert c.transaction("s@example.net", ["r@example.com"], make_message()).code == 250
    (txn,) = mx.wait_log(lambda l: l.get("event") == "txn", what="txn line")
    assert txn["client"] == "2001:db8::7", txn
    first = backend.transactions[0].data.split(b"\r\n\t")[0]
    assert b"2001:db8::7" in first, first


@pytest.mark.parametrize("hdr", [b"PROXY UNKNOWN\r\n",
                                 proxy_v2("127.0.0.1", "127.0.0.1", 0, 0, command=0)],
                         ids=["v1-UNKNOWN", "v2-LOCAL"])
def test_unknown_and_local_use_socket_addresses(mxshield, backend, hdr):
    mx = _mx(mxshield)
    c = mx.client()
    c.send(hdr)
    assert c.reply().code == 220
    c.ehlo()
    assert c.transaction("s@example.net", ["r@example.com"], make_message()).code == 250
    (txn,) = mx.wait_log(lambda l: l.get("event") == "txn", what="txn line")
    assert txn["client"] == "127.0.0.1" and int(txn["port"]) == c.local_port, txn


@pytest.mark.parametrize("junk", [b"EHLO client.example.net\r\n", b"PROXY TCP4 999.1.1.1 1.2.3.4 1 2\r\n",
                                  b"PROXY GARBAGE\r\n", b"PROXY TCP4 1.2.3.4 5.6.7.8 99999 25\r\n",
                                  b"\r\n\r\n\x00\r\nQUIT\n\x21\x11\x00\x02ab",
                                  b"PROXY TCP4 " + b"1" * 200 + b"\r\n"],
                         ids=["smtp", "bad-ip", "garbage", "bad-port", "v2-short", "too-long"])
def test_malformed_header_closes_without_service(mxshield, backend, junk):
    mx = _mx(mxshield)
    c = mx.client()
    c.send(junk)
    _no_service(c, 5)
    time.sleep(0.1)
    assert backend.connections == 0


def test_header_from_untrusted_peer(mxshield, backend):
    mx = _mx(mxshield, trusted="127.0.0.9/32")
    c = mx.client()
    c.send(proxy_v1("198.51.100.7", "203.0.113.25", 40000, 25))
    _no_service(c, 5)
    time.sleep(0.1)
    assert backend.connections == 0


def test_missing_header_times_out(mxshield, backend):
    mx = _mx(mxshield)
    c = mx.client()
    time.sleep(0.5)
    assert backend.connections == 0          # backend connected only after the header
    _no_service(c, 15)
    assert backend.connections == 0


def test_limits_apply_to_carried_address(mxshield, backend):
    mx = _mx(mxshield, max_per_ip=1)
    a = mx.client()
    a.send(proxy_v1("198.51.100.7", "203.0.113.25", 40000, 25))
    assert a.reply().code == 220
    b = mx.client()
    b.send(proxy_v1("198.51.100.7", "203.0.113.25", 40001, 25))
    r = b.reply()
    assert (r.code, r.enh) == (421, "4.7.0"), r
    c = mx.client()
    c.send(proxy_v1("198.51.100.8", "203.0.113.25", 40002, 25))
    assert c.reply().code == 220
    assert backend.connections == 2


def test_proxy_line_later_is_an_unknown_verb(mxshield, backend):
    mx = _mx(mxshield)
    c = mx.client()
    c.send(proxy_v1("198.51.100.7", "203.0.113.25", 40000, 25))
    assert c.reply().code == 220
    c.ehlo()
    r = c.cmd(proxy_v1("192.0.2.66", "203.0.113.25", 1, 25).rstrip(b"\r\n"))
    assert (r.code, r.enh) == (502, "5.5.1"), r
    assert not any(x.startswith(b"PROXY") for x in backend.all_commands())
