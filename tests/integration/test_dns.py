"""
mxshield's resolver (proxy/dns.c: c-ares on the event loop, answers read
by core/dnsmsg.c, cached by core/dnscache.c) against a DNS server the
test runs (dnskit, on 127.0.0.53 and a free port, zone data per test):
what --dns-lookup prints for each record type and for negative answers,
TEMPFAIL within timeout * attempts for a server that never answers or
answers SERVFAIL, and backend.address as a host name: the message
reaches the backend the name points to, the cache spares the second
question, a negative answer is cached too, two sessions waiting on a
slow server share one question, the TTL's expiry makes the
next session ask again and follow the name to another backend, a
failed lookup keeps the last good address (logged), a name that
does not resolve stops the start with the key's file:line, and each
worker's resolver logs its counters when it closes.
"""

import os
import subprocess
import time

import pytest

import dnskit
import smtpkit
from conftest import MXSHIELD_BIN, libconfig_text, sanitizer_env, strip_machine_warnings

ZONE = [
    'mx.mxs.test. 300 IN A 192.0.2.1',
    'mx.mxs.test. 300 IN A 192.0.2.2',
    'mx.mxs.test. 120 IN AAAA 2001:db8::25',
    'mxs.test. 300 IN MX 10 mx.mxs.test.',
    'mxs.test. 300 IN MX 20 backup.example.net.',
    'mxs.test. 300 IN TXT "v=spf1 ip4:192.0.2.0/24" " -all"',
    'alias.mxs.test. 30 IN CNAME mx.mxs.test.',
    '1.2.0.192.in-addr.arpa. 600 IN PTR mx.mxs.test.',
]


@pytest.fixture
def dns():
    srv = dnskit.DnsServer(zone=ZONE, soa_ttl=90, soa_minimum=45)
    yield srv
    srv.stop()


def lookup(tmp_path, dns, *args, timeout=1, attempts=2):
    conf = tmp_path / "dns.conf"
    conf.write_text(libconfig_text({
        "backend": {"address": "127.0.0.1"},
        "dns": {"servers": [dns.server], "timeout": timeout, "attempts": attempts},
    }))
    t0 = time.monotonic()
    p = subprocess.run([MXSHIELD_BIN, "-c", str(conf), "--dns-lookup"] + list(args),
                       capture_output=True, text=True, timeout=30, env=sanitizer_env())
    assert "Sanitizer" not in p.stderr, p.stderr
    return p.returncode, p.stdout.splitlines(), time.monotonic() - t0


@pytest.mark.parametrize("args,rc,expect", [
    (["mx.mxs.test"], 0, ["name: mx.mxs.test", "type: A", "status: OK", "ttl: 300",
                          "A 192.0.2.1", "A 192.0.2.2"]),
    (["mx.mxs.test", "AAAA"], 0, ["name: mx.mxs.test", "type: AAAA", "status: OK",
                                  "ttl: 120", "AAAA 2001:db8::25"]),
    (["MXS.test", "mx"], 0, ["name: MXS.test", "type: MX", "status: OK", "ttl: 300",
                             "MX 10 mx.mxs.test", "MX 20 backup.example.net"]),
    (["mxs.test", "TXT"], 0, ["name: mxs.test", "type: TXT", "status: OK", "ttl: 300",
                              'TXT "v=spf1 ip4:192.0.2.0/24" " -all"']),
    (["192.0.2.1"], 0, ["name: 1.2.0.192.in-addr.arpa", "type: PTR", "status: OK",
                        "ttl: 600", "PTR mx.mxs.test"]),
    # the CNAME's 30 s bound the answer's TTL
    (["alias.mxs.test"], 0, ["name: alias.mxs.test", "type: A", "status: OK", "ttl: 30",
                             "A 192.0.2.1", "A 192.0.2.2"]),
    # RFC 2308: min(SOA TTL 90, MINIMUM 45)
    (["nothere.mxs.test"], 1, ["name: nothere.mxs.test", "type: A", "status: NXDOMAIN",
                               "ttl: 45"]),
    (["mxs.test", "A"], 1, ["name: mxs.test", "type: A", "status: NODATA", "ttl: 45"]),
])
def test_lookup(tmp_path, dns, args, rc, expect):
    code, out, _ = lookup(tmp_path, dns, *args)
    assert (code, out) == (rc, expect)
    qtype = args[1].upper() if len(args) > 1 else ("PTR" if args[0][0].isdigit() else "A")
    assert dns.count(qtype=qtype) == 1, dns.queries


def test_lookup_bad_type(tmp_path, dns):
    code, out, _ = lookup(tmp_path, dns, "mxs.test", "ANY")
    assert code == 2 and out == []
    assert dns.queries == []


@pytest.mark.parametrize("mode,why", [
    ("drop", "timeout"),
    ("servfail", "no server answered (SERVFAIL, REFUSED or unreachable)"),
    ("refused", "no server answered (SERVFAIL, REFUSED or unreachable)"),
])
def test_tempfail(tmp_path, dns, mode, why):
    dns.mode = mode
    code, out, took = lookup(tmp_path, dns, "mx.mxs.test", timeout=1, attempts=2)
    assert code == 2
    assert out == ["name: mx.mxs.test", "type: A", "status: TEMPFAIL (%s)" % why, "ttl: 0"]
    # timeout * attempts = 2 s at most, plus the process's start
    assert took < 3.5, took
    if mode == "drop":
        assert took >= 1.9, took
    # every attempt reached the server
    assert dns.count("mx.mxs.test", "A") == 2, dns.queries


# -------------------------------------------------------- backend by name

def send(mx, tag):
    c = mx.session()
    r = c.transaction("a@example.net", ["b@example.com"], smtpkit.make_message(subject=tag))
    assert r.code == 250, r
    c.cmd("QUIT")
    c.close()


def by_name(mxshield, dns, port, name="relay.mxs.test"):
    return mxshield({
        "backend": {"address": name, "port": port},
        "dns": {"servers": [dns.server], "timeout": 1, "attempts": 2},
    })


def test_backend_by_name(mxshield, make_backend, dns):
    be = make_backend(host="127.0.0.2")
    dns.set_zone(['relay.mxs.test. 300 IN A 127.0.0.2'])
    mx = by_name(mxshield, dns, be.port)
    # the start asked once, on its own resolver
    assert dns.count("relay.mxs.test", "A") == 1, dns.queries
    dns.reset_counts()
    send(mx, "one")
    send(mx, "two")
    be.wait_messages(2)
    assert [b"\r\nSubject: one\r\n" in be.messages[0].content,
            b"\r\nSubject: two\r\n" in be.messages[1].content] == [True, True]
    # the worker asked for the first session; the second came from its cache
    assert dns.count("relay.mxs.test", "A") == 1, dns.queries
    assert dns.count() == 1, dns.queries


def test_resolver_counters_logged_at_shutdown(mxshield, make_backend, dns):
    """A worker's resolver closing writes its counters, one "dns" line
    (README "Reading the logs"): after two sessions to a backend by name
    on one worker, 2 lookups, 1 question on the network, 1 cache hit."""
    be = make_backend(host="127.0.0.2")
    dns.set_zone(['relay.mxs.test. 300 IN A 127.0.0.2'])
    mx = by_name(mxshield, dns, be.port)
    dns.reset_counts()
    send(mx, "one")
    send(mx, "two")
    be.wait_messages(2)
    assert dns.count() == 1, dns.queries
    # nothing yet: the line comes when the resolver closes
    assert [l for l in mx.logs("dns") if "lookups" in l] == []
    mxshield.instances.remove(mx)
    problems = mx.stop()
    assert not problems, problems
    assert mx.exit_code == 0, mx.stderr()[-2000:]
    lines = [l for l in mx.logs("dns") if "lookups" in l]
    assert len(lines) == 1, mx.stderr()[-2000:]
    line = dict(lines[0])
    assert line.pop("ts")
    assert line == {"event": "dns", "level": "info", "worker": 0, "lookups": 2,
                    "cache_hits": 1, "hit_rate": 0.5, "queries": 1, "coalesced": 0,
                    "failures": 0, "overflows": 0, "evictions": 0, "cached": 1,
                    "msg": "resolver closed"}
    assert '"hit_rate":0.500,' in mx.stderr()


def test_resolver_counters_per_worker(mxshield, dns):
    """Each worker's resolver has its own line; one that was never asked
    says so: no lookups, hit_rate null."""
    mx = mxshield({"dns": {"servers": [dns.server], "timeout": 1, "attempts": 2}},
                  workers=2)
    mxshield.instances.remove(mx)
    problems = mx.stop()
    assert not problems, problems
    lines = sorted((l for l in mx.logs("dns") if "lookups" in l), key=lambda l: l["worker"])
    assert [(l["worker"], l["lookups"], l["queries"], l["hit_rate"]) for l in lines] == [
        (0, 0, 0, None), (1, 0, 0, None)], mx.stderr()[-2000:]
    assert dns.count() == 0, dns.queries


def test_backend_negative_answer_cached(mxshield, make_backend, dns):
    """No A (NODATA, cached for the SOA's 45 s), an AAAA: the IPv4-mapped
    address of the backend. Two sessions ask each type once."""
    be = make_backend(host="127.0.0.2")
    dns.set_zone(['relay.mxs.test. 300 IN AAAA ::ffff:7f00:2'])
    mx = by_name(mxshield, dns, be.port)
    dns.reset_counts()
    send(mx, "one")
    send(mx, "two")
    be.wait_messages(2)
    assert dns.count("relay.mxs.test", "A") == 1, dns.queries
    assert dns.count("relay.mxs.test", "AAAA") == 1, dns.queries


def test_backend_follows_ttl(mxshield, make_backend, dns):
    be1 = make_backend(host="127.0.0.2")
    be2 = make_backend(host="127.0.0.3", port=be1.port)
    dns.set_zone(['relay.mxs.test. 1 IN A 127.0.0.2'])
    mx = by_name(mxshield, dns, be1.port)
    send(mx, "before")
    be1.wait_messages(1)
    dns.set_zone(['relay.mxs.test. 1 IN A 127.0.0.3'])
    dns.reset_counts()
    time.sleep(1.3)
    send(mx, "after")
    be2.wait_messages(1)
    assert b"\r\nSubject: after\r\n" in be2.messages[0].content
    assert len(be1.messages) == 1
    assert dns.count("relay.mxs.test", "A") == 1, dns.queries


def test_backend_lookup_failure_keeps_address(mxshield, make_backend, dns):
    be = make_backend(host="127.0.0.2")
    dns.set_zone(['relay.mxs.test. 1 IN A 127.0.0.2'])
    mx = by_name(mxshield, dns, be.port)
    send(mx, "one")
    dns.mode = "servfail"
    time.sleep(1.3)
    send(mx, "two")
    be.wait_messages(2)
    line = mx.wait_log(lambda l: l.get("event") == "backend" and
                       "keeping the last good address" in l.get("msg", ""))[0]
    assert line["msg"] == ("backend.address relay.mxs.test: A: TEMPFAIL (no server answered "
                           "(SERVFAIL, REFUSED or unreachable)); keeping the last good "
                           "address 127.0.0.2 for 30 s")
    # within the hold, the next session does not ask
    n = dns.count()
    send(mx, "three")
    be.wait_messages(3)
    assert dns.count() == n


def start_fails(tmp_path, dns, name, extra=()):
    conf = tmp_path / "mx.conf"
    conf.write_text("listen = ( { address = \"127.0.0.1\"; port = %d; } );\n"
                    "backend = {\n  address = \"%s\";\n};\n"
                    "dns = { servers = [ \"%s\" ]; timeout = 1; attempts = 1; };\n"
                    % (smtpkit.free_port(), name, dns.server))
    p = subprocess.run([MXSHIELD_BIN, "-c", str(conf)] + list(extra), capture_output=True,
                       text=True, timeout=20, env=sanitizer_env())
    p.stderr = strip_machine_warnings(p.stderr)
    return p, str(conf)


def test_backend_name_unresolvable_at_start(tmp_path, dns):
    p, conf = start_fails(tmp_path, dns, "nope.mxs.test")
    assert p.returncode == 1
    assert ('%s:3: backend.address: \\"nope.mxs.test\\" does not resolve: NXDOMAIN' % conf
            in p.stderr), p.stderr
    p, conf = start_fails(tmp_path, dns, "nope.mxs.test", ["--check-config"])
    assert p.returncode == 1
    assert p.stderr.strip() == (
        '%s:3: backend.address: "nope.mxs.test" does not resolve: NXDOMAIN' % conf)
    dns.mode = "drop"
    p, conf = start_fails(tmp_path, dns, "relay.mxs.test", ["--check-config"])
    assert p.returncode == 1
    assert p.stderr.strip() == ('%s:3: backend.address: "relay.mxs.test" does not resolve: '
                                'TEMPFAIL (timeout)' % conf)


@pytest.mark.parametrize("server,why", [
    ("127.0.0.1:0", "port must be 1 to 65535"),
    ("127.0.0.1:70000", "port must be 1 to 65535"),
    ("dns.example", 'not an IP address, "ip:port" or "[ipv6]:port"'),
    ("[127.0.0.1]:53", 'not an IP address, "ip:port" or "[ipv6]:port"'),
    ("[::1", 'not an IP address, "ip:port" or "[ipv6]:port"'),
])
def test_bad_servers(tmp_path, server, why):
    conf = tmp_path / "mx.conf"
    conf.write_text('backend = { address = "127.0.0.1"; };\n'
                    'dns = {\n  servers = [ "%s" ];\n};\n' % server)
    p = subprocess.run([MXSHIELD_BIN, "-c", str(conf), "--check-config"], capture_output=True,
                       text=True, timeout=20, env=sanitizer_env())
    assert p.returncode == 1
    assert p.stderr.strip() == '%s:3: dns.servers[0]: "%s": %s' % (conf, server, why)


def test_good_servers(tmp_path):
    conf = tmp_path / "mx.conf"
    conf.write_text('backend = { address = "127.0.0.1"; };\n'
                    'dns = { servers = [ "127.0.0.1", "127.0.0.1:5353", "::1", "[::1]:53" ];\n'
                    '        timeout = 3; attempts = 1; cache_entries = 5; };\n')
    p = subprocess.run([MXSHIELD_BIN, "-c", str(conf), "--check-config"], capture_output=True,
                       text=True, timeout=20, env=sanitizer_env())
    assert p.returncode == 0, p.stderr


def test_slow_server_one_question_for_two_sessions(mxshield, make_backend, dns):
    """Two sessions open while the name's TTL has run out and the server
    takes 500 ms: one question, shared, and both greetings wait for it."""
    be = make_backend(host="127.0.0.2")
    dns.set_zone(['relay.mxs.test. 1 IN A 127.0.0.2'])
    mx = by_name(mxshield, dns, be.port)
    time.sleep(1.3)
    dns.delay_ms = 500
    dns.reset_counts()
    t0 = time.monotonic()
    c1, c2 = mx.client(), mx.client()
    assert (c1.reply().code, c2.reply().code) == (220, 220)
    assert time.monotonic() - t0 >= 0.45
    assert dns.count("relay.mxs.test", "A") == 1, dns.queries
    for c in (c1, c2):
        c.ehlo()
        r = c.transaction("a@example.net", ["b@example.com"], smtpkit.make_message())
        assert r.code == 250, r
    be.wait_messages(2)
