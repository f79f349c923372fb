"""
The DNS checks through the real proxy, against a DNS server the test
runs (dnskit, zone data per test): helo.require_resolvable and
helo.must_match_client, client.require_rdns and client.require_fcrdns
(PTR names checked as host names), the weighted dnsbl (DNSWL with
negative weights), on_dns_error with a server that never answers and
one that answers SERVFAIL, monitor mode per control, trusted and
authenticated clients exempt, postmaster accepted, helo.reject_at
stages, a pipelined client during a slow lookup, a session closing
mid-lookup, IPv6 (nibble PTR and DNSBL), the forward-confirmed name in
Received: and XCLIENT NAME=, the cache's TTL, and the spoof signs
no_rdns and fcrdns_mismatch.

Clients bind to 127.0.0.x, so the PTR asked is x.0.0.127.in-addr.arpa.
"""

import socket
import time

import pytest

import dnskit
from policykit import (assert_not_relayed, auth_plain, client, enforced, monitored,
                       refused, start, verdict, wait_policy, wait_txn, AUTH_CAPS)
from smtpkit import make_message

ZONE = [
    # 127.0.0.2: good.mxs.test, which resolves back
    '2.0.0.127.in-addr.arpa. 300 IN PTR good.mxs.test.',
    'good.mxs.test. 300 IN A 127.0.0.2',
    # 127.0.0.3: a PTR name that resolves elsewhere
    '3.0.0.127.in-addr.arpa. 300 IN PTR liar.mxs.test.',
    'liar.mxs.test. 300 IN A 192.0.2.9',
    # 127.0.0.4: no PTR at all
    # 127.0.0.5: a PTR name that is no host name
    '5.0.0.127.in-addr.arpa. 300 IN PTR bad_host.mxs.test.',
    'bad_host.mxs.test. 300 IN A 127.0.0.5',
    # 127.0.0.6: two names, the second one confirms
    '6.0.0.127.in-addr.arpa. 300 IN PTR other.mxs.test.',
    '6.0.0.127.in-addr.arpa. 300 IN PTR six.mxs.test.',
    'other.mxs.test. 300 IN A 192.0.2.7',
    'six.mxs.test. 300 IN A 127.0.0.6',
    # HELO names
    'helo.mxs.test. 300 IN A 127.0.0.2',
    'helo6.mxs.test. 300 IN AAAA ::1',
    'far.mxs.test. 300 IN A 192.0.2.7',
    'mxonly.mxs.test. 300 IN MX 10 helo.mxs.test.',
    # DNSBL bl.mxs.test and DNSWL wl.mxs.test
    '2.0.0.127.bl.mxs.test. 300 IN A 127.0.0.2',
    '2.0.0.127.bl.mxs.test. 300 IN TXT "Listed: see https://bl.example/2"',
    '6.0.0.127.bl.mxs.test. 300 IN A 127.0.0.2',
    '6.0.0.127.wl.mxs.test. 300 IN A 127.0.0.5',
    '7.0.0.127.bl.mxs.test. 300 IN A 192.0.2.1',
    '3.0.0.127.bl.mxs.test. 300 IN A 127.0.0.10',
    # ::1 by nibbles
    '1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa. 300 IN PTR '
    'v6.mxs.test.',
    'v6.mxs.test. 300 IN AAAA ::1',
    '1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.bl.mxs.test. 300 IN A '
    '127.0.0.4',
]

NIBBLES_1 = "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0"

BL = {"zones": [{"zone": "bl.mxs.test", "weight": 3}], "threshold": 3}


@pytest.fixture
def dns():
    srv = dnskit.DnsServer(zone=ZONE)
    yield srv
    srv.stop()


def mx_with(mxshield, srv, v6=False, **over):
    d = {
        "local_domains": ["example.com"],
        "trusted_networks": ["127.0.0.9"],
        "dns": {"servers": [srv.server], "timeout": 1, "attempts": 1},
    }
    d.update(over)
    return start(mxshield, d, v6=v6)


def rcpt_refused(c, line, rcpt="user@example.com"):
    assert c.cmd("MAIL FROM:<a@example.net>").code == 250
    refused(c.cmd("RCPT TO:<%s>" % rcpt), line)


def deliver(c, rcpt="user@example.com"):
    r = c.transaction("a@example.net", [rcpt], make_message())
    assert r.code == 250, r
    return r


# ------------------------------------------------------------------ HELO

def test_helo_resolvable_and_matching_pass(mxshield, backend, dns):
    mx = mx_with(mxshield, dns, helo={"require_resolvable": True, "must_match_client": True})
    c = client(mx, "127.0.0.2")
    assert c.cmd("EHLO helo.mxs.test").code == 250
    deliver(c)
    assert len(backend.transactions) == 1
    assert dns.count("helo.mxs.test", "A") == 1 and dns.count("helo.mxs.test", "AAAA") == 1


def test_helo_not_resolvable_refused_at_rcpt(mxshield, backend, dns):
    mx = mx_with(mxshield, dns, helo={"require_resolvable": True})
    c = client(mx, "127.0.0.2")
    # an MX is not an address
    assert c.cmd("EHLO mxonly.mxs.test").code == 250
    rcpt_refused(c, "550 5.7.1 EHLO mxonly.mxs.test has no address in DNS")
    # postmaster always gets through
    assert c.cmd("RCPT TO:<postmaster@example.com>").code == 250
    t = None
    c.cmd("RSET")
    t = wait_txn(mx)[0]
    v = verdict(t, "helo", 550)
    assert enforced(v) and v["reason"] == "EHLO mxonly.mxs.test has no A or AAAA record", v
    assert_not_relayed(backend, "RCPT TO:<user@")


def test_helo_must_match_refused_at_helo(mxshield, backend, dns):
    mx = mx_with(mxshield, dns, helo={"must_match_client": True, "reject_at": "helo"})
    c = client(mx, "127.0.0.2")
    refused(c.cmd("EHLO far.mxs.test"),
            "550 5.7.1 EHLO far.mxs.test does not resolve to your address 127.0.0.2")
    refused(c.cmd("HELO nx.mxs.test"),
            "550 5.7.1 HELO nx.mxs.test does not resolve to your address 127.0.0.2")
    # a refused HELO counts for nothing: MAIL wants an accepted one
    refused(c.cmd("MAIL FROM:<a@example.net>"), "503 5.5.1 Send HELO/EHLO first")
    assert_not_relayed(backend, "EHLO far")
    assert_not_relayed(backend, "MAIL")
    p = wait_policy(mx, lambda l: l.get("code") == 550)[0]
    assert (p["check"], p["stage"], p["action"]) == ("helo", "helo", "reject"), p
    assert p["reason"] == "EHLO far.mxs.test has no A or AAAA record for client 127.0.0.2", p
    assert c.cmd("EHLO helo.mxs.test").code == 250
    deliver(c)


def test_helo_literal_left_to_syntax_checks(mxshield, backend, dns):
    """An address literal is not looked up: literal_must_match judges it."""
    mx = mx_with(mxshield, dns, helo={"require_resolvable": True, "must_match_client": True})
    c = client(mx, "127.0.0.2")
    assert c.cmd("EHLO [127.0.0.2]").code == 250
    deliver(c)
    assert dns.count(qtype="A") == 0 and dns.count(qtype="AAAA") == 0, dns.queries


def test_helo_check_monitor_mode(mxshield, backend, dns):
    mx = mx_with(mxshield, dns, helo={"require_resolvable": True, "mode": "monitor"})
    c = client(mx, "127.0.0.2")
    assert c.cmd("EHLO nx.mxs.test").code == 250
    deliver(c)
    v = verdict(wait_txn(mx)[0], "helo", 550)
    assert monitored(v), v
    assert v["reply"] == "550 5.7.1 EHLO nx.mxs.test has no address in DNS", v
    assert len(backend.transactions) == 1


def test_helo_check_at_mail(mxshield, backend, dns):
    mx = mx_with(mxshield, dns, helo={"require_resolvable": True, "reject_at": "mail"})
    c = client(mx, "127.0.0.2")
    assert c.cmd("EHLO nx.mxs.test").code == 250
    refused(c.cmd("MAIL FROM:<a@example.net>"),
            "550 5.7.1 EHLO nx.mxs.test has no address in DNS")
    assert_not_relayed(backend, "MAIL")


# ------------------------------------------------------------------ rDNS

def test_rdns_and_fcrdns_pass(mxshield, backend, dns):
    mx = mx_with(mxshield, dns, client={"require_rdns": True, "require_fcrdns": True})
    for ip in ("127.0.0.2", "127.0.0.6"):
        c = client(mx, ip)
        c.ehlo()
        deliver(c)
    assert len(backend.transactions) == 2
    assert dns.count("2.0.0.127.in-addr.arpa", "PTR") == 1, dns.queries


def test_no_rdns_refused(mxshield, backend, dns):
    mx = mx_with(mxshield, dns, client={"require_rdns": True})
    c = client(mx, "127.0.0.4")
    c.ehlo()
    rcpt_refused(c, "550 5.7.1 Client host [127.0.0.4] has no reverse DNS name")
    c.cmd("RSET")
    v = verdict(wait_txn(mx)[0], "rdns", 550)
    assert enforced(v) and v["reason"] == "no PTR record for [127.0.0.4]", v
    assert backend.transactions == []


def test_fcrdns_mismatch_refused(mxshield, backend, dns):
    mx = mx_with(mxshield, dns, client={"require_fcrdns": True})
    c = client(mx, "127.0.0.3")
    c.ehlo()
    rcpt_refused(c, "550 5.7.1 Client host [127.0.0.3]: its reverse DNS name does not "
                    "resolve back to it")
    c.cmd("RSET")
    v = verdict(wait_txn(mx)[0], "rdns", 550)
    assert v["reason"] == "PTR name liar.mxs.test does not resolve back to [127.0.0.3]", v
    # rdns alone is satisfied by a PTR, confirmed or not
    mx2 = mx_with(mxshield, dns, client={"require_rdns": True})
    c = client(mx2, "127.0.0.3")
    c.ehlo()
    deliver(c)


def test_ptr_name_not_a_host_name(mxshield, backend, dns):
    """A PTR name outside host name syntax is never used: no forward
    lookup, no name; the log shows it escaped."""
    mx = mx_with(mxshield, dns, client={"require_rdns": True})
    c = client(mx, "127.0.0.5")
    c.ehlo()
    rcpt_refused(c, "550 5.7.1 Client host [127.0.0.5] has no reverse DNS name")
    assert dns.count("bad_host.mxs.test") == 0, dns.queries
    line = mx.wait_log(lambda l: l.get("event") == "dns" and l.get("check") == "rdns" and
                       "not a host name" in l.get("msg", ""))[0]
    assert line["name"] == "bad_host.mxs.test", line
    c.cmd("RSET")
    v = verdict(wait_txn(mx)[0], "rdns", 550)
    assert v["reason"] == ("no PTR record with a host name: bad_host.mxs.test for "
                           "[127.0.0.5]"), v


def test_rdns_monitor_mode(mxshield, backend, dns):
    mx = mx_with(mxshield, dns, client={"require_fcrdns": True, "mode": "monitor"})
    c = client(mx, "127.0.0.4")
    c.ehlo()
    deliver(c)
    v = verdict(wait_txn(mx)[0], "rdns", 550)
    assert monitored(v), v
    assert len(backend.transactions) == 1


def test_trusted_and_authenticated_exempt(mxshield, backend, dns):
    backend.capabilities = AUTH_CAPS
    mx = mx_with(mxshield, dns, client={"require_rdns": True},
                 helo={"require_resolvable": True}, dnsbl=BL)
    # trusted: nothing is even asked
    c = client(mx, "127.0.0.9")
    c.ehlo("nx.mxs.test")
    deliver(c)
    assert dns.count("9.0.0.127.in-addr.arpa") == 0, dns.queries
    # authenticated: the lookups ran, the checks do not apply
    c = client(mx, "127.0.0.4")
    c.ehlo("nx.mxs.test")
    auth_plain(c, "alice@example.com")
    deliver(c, "someone@example.net")
    assert len(backend.transactions) == 2


# ------------------------------------------------------------------ DNSBL

def test_dnsbl_listed(mxshield, backend, dns):
    mx = mx_with(mxshield, dns, dnsbl=BL)
    c = client(mx, "127.0.0.2")
    c.ehlo()
    rcpt_refused(c, "554 5.7.1 Service unavailable; client [127.0.0.2] blocked using "
                    "bl.mxs.test")
    c.cmd("RSET")
    v = verdict(wait_txn(mx)[0], "dnsbl", 554)
    assert enforced(v) and v["score"] == 3, v
    assert v["reason"] == ('score 3 >= 3: bl.mxs.test=127.0.0.2 "Listed: see '
                           'https://bl.example/2" (weight 3)'), v
    line = mx.wait_log(lambda l: l.get("event") == "dnsbl")[0]
    assert (line["zone"], line["answer"], line["txt"], line["weight"]) == (
        "bl.mxs.test", "127.0.0.2", "Listed: see https://bl.example/2", 3), line
    assert dns.count("2.0.0.127.bl.mxs.test", "A") == 1
    assert dns.count("2.0.0.127.bl.mxs.test", "TXT") == 1
    # postmaster still
    assert c.cmd("MAIL FROM:<a@example.net>").code == 250
    assert c.cmd("RCPT TO:<postmaster@example.com>").code == 250


def test_dnsbl_not_listed_and_bad_answers(mxshield, backend, dns):
    mx = mx_with(mxshield, dns, dnsbl={"zones": [
        {"zone": "bl.mxs.test", "weight": 3, "codes": ["127.0.0.2"]}], "threshold": 3})
    # 127.0.0.4: not listed; 127.0.0.7: an answer outside 127/8;
    # 127.0.0.3: a code the zone's codes do not name
    for ip in ("127.0.0.4", "127.0.0.7", "127.0.0.3"):
        c = client(mx, ip)
        c.ehlo()
        deliver(c)
    assert len(backend.transactions) == 3
    mx.wait_log(lambda l: l.get("event") == "dns" and "answered 192.0.2.1, outside "
                "127.0.0.0/8" in l.get("msg", ""))
    mx.wait_log(lambda l: l.get("event") == "dns" and "answered 127.0.0.10, not one "
                "of its codes" in l.get("msg", ""))


def test_dnswl_negative_weight(mxshield, backend, dns):
    mx = mx_with(mxshield, dns, dnsbl={"zones": [
        {"zone": "bl.mxs.test", "weight": 3}, {"zone": "wl.mxs.test", "weight": -5}],
        "threshold": 3})
    c = client(mx, "127.0.0.6")
    c.ehlo()
    deliver(c)
    lines = [l for l in mx.wait_log(lambda l: l.get("event") == "dnsbl")]
    assert {(l["zone"], l["weight"]) for l in lines} == {("bl.mxs.test", 3),
                                                       ("wl.mxs.test", -5)}, lines


def test_dnsbl_monitor_mode(mxshield, backend, dns):
    mx = mx_with(mxshield, dns, dnsbl=dict(BL, mode="monitor"))
    c = client(mx, "127.0.0.2")
    c.ehlo()
    deliver(c)
    assert monitored(verdict(wait_txn(mx)[0], "dnsbl", 554))


def test_dnsbl_at_helo(mxshield, backend, dns):
    mx = mx_with(mxshield, dns, dnsbl=BL, helo={"reject_at": "helo"})
    c = client(mx, "127.0.0.2")
    refused(c.cmd("EHLO client.example.net"), "554 5.7.1 Service unavailable; client "
            "[127.0.0.2] blocked using bl.mxs.test")
    p = wait_policy(mx)[0]
    assert (p["check"], p["stage"], p["code"]) == ("dnsbl", "helo", 554), p
    assert_not_relayed(backend, "EHLO")


def test_ipv6_client_nibbles(mxshield, backend, dns):
    from policykit import client6
    mx = mx_with(mxshield, dns, v6=True, dnsbl={"zones": [{"zone": "bl.mxs.test"}]},
                 client={"require_fcrdns": True})
    c = client6(mx)
    c.ehlo()
    assert c.cmd("MAIL FROM:<a@example.net>").code == 250
    refused(c.cmd("RCPT TO:<user@example.com>"),
            "554 5.7.1 Service unavailable; client [::1] blocked using bl.mxs.test")
    assert dns.count(NIBBLES_1 + ".ip6.arpa", "PTR") == 1, dns.queries
    assert dns.count("v6.mxs.test", "AAAA") == 1, dns.queries
    assert dns.count(NIBBLES_1 + ".bl.mxs.test", "A") == 1, dns.queries


# ------------------------------------------------------------------ failures

@pytest.mark.parametrize("mode", ["drop", "servfail"])
def test_dns_error_tempfail(mxshield, backend, dns, mode):
    dns.mode = mode
    mx = mx_with(mxshield, dns, client={"require_rdns": True}, dnsbl=BL)
    c = client(mx, "127.0.0.2")
    c.ehlo()
    t0 = time.monotonic()
    rcpt_refused(c, "451 4.4.3 Client host [127.0.0.2]: temporary DNS failure, try again later")
    assert time.monotonic() - t0 < 3
    c.cmd("RSET")
    v = verdict(wait_txn(mx)[0], "rdns", 451)
    why = "timeout" if mode == "drop" else "SERVFAIL"
    assert v["reason"].startswith("on_dns_error = tempfail: Client host [127.0.0.2]: "), v
    assert why in v["reason"] or mode == "servfail", v
    line = mx.wait_log(lambda l: l.get("event") == "dns" and l.get("check") == "rdns")[0]
    assert "on_dns_error = tempfail" in line["msg"], line
    mx.wait_log(lambda l: l.get("event") == "dns" and l.get("check") == "dnsbl")


@pytest.mark.parametrize("mode", ["drop", "servfail"])
def test_dns_error_accept(mxshield, backend, dns, mode):
    dns.mode = mode
    mx = mx_with(mxshield, dns, client={"require_rdns": True}, dnsbl=BL,
                 on_dns_error="accept")
    c = client(mx, "127.0.0.2")
    c.ehlo()
    deliver(c)
    line = mx.wait_log(lambda l: l.get("event") == "dns" and l.get("check") == "rdns")[0]
    assert "on_dns_error = accept" in line["msg"], line
    assert len(backend.transactions) == 1


# ------------------------------------------------------------------ the wait

def test_pipelined_client_during_slow_lookup(mxshield, backend, dns):
    dns.delay_ms = 500
    mx = mx_with(mxshield, dns, client={"require_fcrdns": True}, dnsbl=BL)
    c = client(mx, "127.0.0.4")
    r = c.cmd("EHLO client.example.net")
    assert r.code == 250 and "PIPELINING" in r.text
    c.send(b"MAIL FROM:<a@example.net>\r\nRCPT TO:<user@example.com>\r\n"
           b"RCPT TO:<postmaster@example.com>\r\nDATA\r\n")
    rs = c.replies(4)
    assert [r.code for r in rs] == [250, 550, 250, 354], rs
    c.send(b"Subject: x\r\n\r\nhi\r\n.\r\n")
    assert c.reply().code == 250
    (m,) = backend.transactions
    assert m.rcpts == ["postmaster@example.com"]


def test_close_during_lookup(mxshield, backend, dns):
    dns.mode = "drop"
    mx = mx_with(mxshield, dns, client={"require_rdns": True}, dnsbl=BL,
                 dns={"servers": [dns.server], "timeout": 3, "attempts": 1})
    for _ in range(3):
        c = client(mx, "127.0.0.2")
        c.ehlo()
        c.send(b"MAIL FROM:<a@example.net>\r\nRCPT TO:<user@example.com>\r\n")
        assert c.reply().code == 250
        c.sock.close()
    time.sleep(0.3)
    assert mx.alive()
    # the next session still works once the server answers again
    dns.mode = "answer"
    c = client(mx, "127.0.0.6")
    c.ehlo()
    rcpt_refused(c, "554 5.7.1 Service unavailable; client [127.0.0.6] blocked using "
                    "bl.mxs.test")
    assert c.cmd("RCPT TO:<postmaster@example.com>").code == 250


def test_cache_ttl_expiry(mxshield, backend, dns):
    dns.set_zone(['2.0.0.127.in-addr.arpa. 1 IN PTR good.mxs.test.',
                  'good.mxs.test. 1 IN A 127.0.0.2'])
    mx = mx_with(mxshield, dns, client={"require_fcrdns": True})
    for _ in range(2):
        c = client(mx, "127.0.0.2")
        c.ehlo()
        deliver(c)
    assert dns.count("2.0.0.127.in-addr.arpa", "PTR") == 1, dns.queries
    time.sleep(1.3)
    c = client(mx, "127.0.0.2")
    c.ehlo()
    deliver(c)
    assert dns.count("2.0.0.127.in-addr.arpa", "PTR") == 2, dns.queries


# ------------------------------------------------------------------ name, spoof

def test_received_names_confirmed_client_only(mxshield, backend, dns):
    mx = mx_with(mxshield, dns, client={"require_rdns": True})
    for ip in ("127.0.0.2", "127.0.0.3"):
        c = client(mx, ip)
        c.ehlo("client.example.net")
        deliver(c)
    a, b = backend.transactions
    assert a.data.startswith(b"Received: from client.example.net (good.mxs.test [127.0.0.2])"), a.data[:120]
    assert b.data.startswith(b"Received: from client.example.net ([127.0.0.3])"), b.data[:120]
    assert b"liar.mxs.test" not in b.data


XCLIENT_CAP = "XCLIENT ADDR PORT NAME HELO PROTO"


def test_xclient_name_confirmed_only(mxshield, backend, dns):
    dns.delay_ms = 200
    backend.capabilities = backend.capabilities + [XCLIENT_CAP]
    mx = mx_with(mxshield, dns, client={"require_rdns": True},
                 backend={"client_info": "xclient"})
    for ip in ("127.0.0.2", "127.0.0.3"):
        c = client(mx, ip)
        c.ehlo()
        deliver(c)
    a, b = backend.sessions
    assert a.xclient.get("NAME") == "good.mxs.test", a.xclient
    assert b.xclient.get("NAME") == "[UNAVAILABLE]", b.xclient


def test_spoof_signs(mxshield, backend, dns):
    mx = mx_with(mxshield, dns, spoof={"enabled": True, "threshold": 25,
                                       "weights": {"no_rdns": 4, "fcrdns_mismatch": 2}})
    signs = {}
    for ip in ("127.0.0.2", "127.0.0.3", "127.0.0.4"):
        c = client(mx, ip)
        c.ehlo()
        deliver(c)
    for m in backend.transactions:
        for line in m.data.split(b"\r\n"):
            if line.startswith(b"X-Spoof-Score:"):
                signs[len(signs)] = line.decode()
    assert "no_rdns" not in signs[0] and "fcrdns_mismatch" not in signs[0], signs
    assert "fcrdns_mismatch" in signs[1], signs
    assert "no_rdns" in signs[2], signs
    # spoof without those weights named asks nothing
    dns.reset_counts()
    mx2 = mx_with(mxshield, dns, spoof={"enabled": True})
    c = client(mx2, "127.0.0.4")
    c.ehlo()
    deliver(c)
    assert dns.count() == 0, dns.queries


# ------------------------------------------------------------------ configuration

def check_config(tmp_path, text):
    import subprocess
    from conftest import MXSHIELD_BIN, sanitizer_env
    conf = tmp_path / "mx.conf"
    conf.write_text('backend = { address = "127.0.0.1"; };\n' + text)
    p = subprocess.run([MXSHIELD_BIN, "-c", str(conf), "--check-config"], capture_output=True,
                       text=True, timeout=20, env=sanitizer_env())
    errors = [l for l in p.stderr.splitlines() if not l.startswith("warning:")]
    return p.returncode, [l.replace(str(conf), "F") for l in errors]


@pytest.mark.parametrize("text,error", [
    ('dnsbl = { zones = (\n { zone = "bl_x.example"; } ); };\n',
     'F:3: dnsbl.zones[0].zone: "bl_x.example": not a DNS zone name (like zen.example.org)'),
    ('dnsbl = { zones = (\n { zone = "localhost"; } ); };\n',
     'F:3: dnsbl.zones[0].zone: "localhost": not a DNS zone name (like zen.example.org)'),
    ('dnsbl = { zones = (\n { zone = "bl.example";\n codes = [ "192.0.2.1" ]; } ); };\n',
     'F:4: dnsbl.zones[0].codes[0]: "192.0.2.1": not an address in 127.0.0.0/8 '
     '(a DNSBL answer code like 127.0.0.2)'),
    ('dnsbl = { zones = (\n { zone = "bl.example"; weight = 0; } ); };\n',
     'F:3: dnsbl.zones[0].weight: 0 counts for nothing: a DNSBL has a weight above 0, '
     'a DNSWL below'),
    ('dnsbl = { zones = (\n { zone = "bl.example"; },\n { zone = "BL.example"; } ); };\n',
     'F:4: dnsbl.zones[1].zone: "bl.example" is dnsbl.zones[0] again'),
    ('dnsbl = {\n threshold = 0; };\n',
     'F:3: dnsbl.threshold: 0 is out of range (1 to 10000)'),
    ('on_dns_error = "ignore";\n',
     'F:2: on_dns_error: "ignore" is not one of tempfail, accept'),
    ('client = {\n require_ptr = true; };\n',
     'F:3: client.require_ptr: unknown key'),
])
def test_config_errors(tmp_path, text, error):
    rc, errors = check_config(tmp_path, text)
    assert rc == 1 and errors == [error], errors


def test_config_good(tmp_path):
    rc, errors = check_config(tmp_path, (
        'helo = { require_resolvable = true; must_match_client = true; reject_at = "helo"; };\n'
        'client = { require_rdns = true; require_fcrdns = true; mode = "monitor"; };\n'
        'dnsbl = { zones = ( { zone = "zen.example"; weight = 3; codes = [ "127.0.0.2" ]; },\n'
        '                    { zone = "wl.example"; weight = -5; } ); threshold = 3;\n'
        '          mode = "monitor"; };\n'
        'on_dns_error = "accept";\n'))
    assert rc == 0, errors
