"""
SPF in a live session (proxy/mailspf.c): the MAIL that opens a
transaction waits in its place for the check (proxy/spfw.c on the
worker's resolver), then:

  - pass: relayed; the delivered message starts with our Received-SPF
    field (RFC 7208 9.1), the verdict "spf" in the transaction's log;
  - fail with spf.reject_fail: 550 5.7.23 with the domain's
    explanation; the backend never saw the MAIL; the session goes on;
  - temperror (a server that never answers): 451 4.7.24, or relayed
    with on_dns_error = "accept";
  - monitor mode: relayed, the verdict logged as monitor;
  - trusted and authenticated clients: no question asked;
  - a pipelined MAIL, RCPT, DATA behind a slow server: replies in order;
  - a client gone while its check runs: nothing breaks;
  - a fail for a local domain: the spoof sign spf_fail_local.
"""

import time

import pytest

import dnskit
from policykit import AUTH_CAPS, auth_plain, commands, session, start, verdicts, wait_txn
from smtpkit import dot_stuff, split_first_header, strip_received

ZONE = [
    'pass.mxs.test. 300 IN TXT "v=spf1 ip4:127.0.0.0/24 -all"',
    'fail.mxs.test. 300 IN TXT "v=spf1 ip4:192.0.2.0/24 -all exp=exp.mxs.test"',
    'exp.mxs.test. 300 IN TXT "%{i} is not a server of %{d}"',
    'example.com. 300 IN TXT "v=spf1 ip4:192.0.2.0/24 -all"',
]


@pytest.fixture
def dns():
    srv = dnskit.DnsServer(zone=ZONE)
    yield srv
    srv.stop()


def conf(dns, timeout=1, **spf):
    s = {"enabled": True, "reject_fail": True}
    s.update(spf)
    return {"local_domains": ["example.com"], "trusted_networks": ["127.0.0.8"],
            "dns": {"servers": [dns.server], "timeout": timeout, "attempts": 1},
            "spf": s}


def message(frm="Eve <eve@fail.mxs.test>"):
    return ("Received: from a.example.net (a.example.net [198.51.100.7]) by b.example.net;"
            " Tue, 24 Nov 2026 13:33:10 +0000\r\nFrom: %s\r\nTo: <user@example.com>\r\n"
            "Subject: test\r\nDate: Tue, 24 Nov 2026 13:33:11 +0000\r\n"
            "Message-ID: <1@a.example.net>\r\n\r\nHello.\r\n" % frm).encode()


def deliver(c, sender, content=None):
    assert c.cmd("MAIL FROM:<%s>" % sender).code == 250
    assert c.cmd("RCPT TO:<user@example.com>").code == 250
    assert c.cmd("DATA").code == 354
    c.send(dot_stuff(content or message()) + b".\r\n")
    return c.reply()


def spf_verdict(mx):
    line = wait_txn(mx, lambda l: any(v.get("check") == "spf" for v in l["verdicts"]),
                    what="txn line with an spf verdict")[-1]
    (v,) = verdicts(line, "spf")
    return line, v


def test_pass_adds_received_spf(mxshield, backend, dns):
    mx = start(mxshield, conf(dns))
    c = session(mx, "127.0.0.3")
    assert deliver(c, "eve@pass.mxs.test").code == 250
    backend.wait_messages(1)
    data = backend.messages[0].content
    first, rest = split_first_header(data)
    unfolded = first.replace(b"\r\n\t", b" ")
    assert unfolded.startswith(b"Received-SPF: pass ("), first
    for kv in (b"client-ip=127.0.0.3;", b'envelope-from="eve@pass.mxs.test";',
               b"helo=client.example.net;", b"receiver=mx.test.example;",
               b"identity=mailfrom"):
        assert kv in unfolded, (kv, first)
    assert strip_received(rest) == message()
    line, v = spf_verdict(mx)
    assert v["action"] == "pass" and v["code"] == 0
    assert dns.count("pass.mxs.test", "TXT") == 1


def test_fail_refused_at_mail(mxshield, backend, dns):
    mx = start(mxshield, conf(dns))
    c = session(mx, "127.0.0.3")
    r = c.cmd("MAIL FROM:<eve@fail.mxs.test>")
    assert r.code == 550, r
    assert r.text.startswith("5.7.23 127.0.0.3 is not a server of fail.mxs.test"), r
    assert not any(x.upper().startswith("MAIL") for x in commands(backend))
    line, v = spf_verdict(mx)
    assert v["action"] == "reject" and v["code"] == 550
    assert line["result"] == "rejected"
    # the session goes on: a sender whose domain lets it send is relayed
    assert deliver(c, "eve@pass.mxs.test").code == 250


def test_fail_without_reject_fail_delivered(mxshield, backend, dns):
    mx = start(mxshield, conf(dns, reject_fail=False))
    c = session(mx, "127.0.0.3")
    assert deliver(c, "eve@fail.mxs.test").code == 250
    backend.wait_messages(1)
    first, _ = split_first_header(backend.messages[0].content)
    assert first.startswith(b"Received-SPF: fail ("), first


def test_temperror_tempfails(mxshield, backend, dns):
    dns.mode = "drop"
    mx = start(mxshield, conf(dns, timeout=1))
    c = session(mx, "127.0.0.3")
    t0 = time.monotonic()
    r = c.cmd("MAIL FROM:<eve@pass.mxs.test>")
    assert r.code == 451 and r.text.startswith("4.7.24"), r
    assert time.monotonic() - t0 < 10
    assert not any(x.upper().startswith("MAIL") for x in commands(backend))


def test_temperror_accepted(mxshield, backend, dns):
    dns.mode = "drop"
    cf = conf(dns, timeout=1)
    cf["on_dns_error"] = "accept"
    mx = start(mxshield, cf)
    c = session(mx, "127.0.0.3")
    assert deliver(c, "eve@pass.mxs.test").code == 250
    backend.wait_messages(1)
    first, _ = split_first_header(backend.messages[0].content)
    assert first.startswith(b"Received-SPF: temperror"), first


def test_monitor_mode_relays(mxshield, backend, dns):
    mx = start(mxshield, conf(dns, mode="monitor"))
    c = session(mx, "127.0.0.3")
    assert deliver(c, "eve@fail.mxs.test").code == 250
    line, v = spf_verdict(mx)
    assert v["action"] == "monitor" and v["code"] == 550
    backend.wait_messages(1)
    assert b"Received-SPF" not in backend.messages[0].content


def test_trusted_and_authenticated_not_checked(mxshield, backend, dns):
    backend.capabilities = list(AUTH_CAPS)
    mx = start(mxshield, conf(dns))
    c = session(mx, "127.0.0.8")
    assert deliver(c, "eve@fail.mxs.test").code == 250
    c = session(mx, "127.0.0.3")
    auth_plain(c, "alice@example.com")
    assert deliver(c, "alice@fail.mxs.test").code == 250
    assert dns.queries == []
    backend.wait_messages(2)
    for m in backend.messages:
        assert b"Received-SPF" not in m.content


def test_pipelined_behind_slow_server(mxshield, backend, dns):
    dns.delay_ms = 400
    mx = start(mxshield, conf(dns, timeout=3))
    c = session(mx, "127.0.0.3")
    c.send(b"MAIL FROM:<eve@fail.mxs.test>\r\nRCPT TO:<user@example.com>\r\nDATA\r\n")
    rs = c.replies(3)
    assert [r.code for r in rs] == [550, 503, 503], rs
    c.send(b"MAIL FROM:<eve@pass.mxs.test>\r\nRCPT TO:<user@example.com>\r\nDATA\r\n")
    rs = c.replies(3)
    assert [r.code for r in rs] == [250, 250, 354], rs
    c.send(dot_stuff(message()) + b".\r\n")
    assert c.reply().code == 250
    backend.wait_messages(1)
    assert backend.messages[0].mail_from == "FROM:<eve@pass.mxs.test>"


def test_client_gone_during_check(mxshield, backend, dns):
    dns.mode = "drop"
    mx = start(mxshield, conf(dns, timeout=2))
    for _ in range(3):
        c = session(mx, "127.0.0.3")
        c.send(b"MAIL FROM:<eve@pass.mxs.test>\r\n")
        time.sleep(0.1)
        c.sock.close()
    assert mx.alive()
    # the question the gone sessions shared is still in flight: let it
    # time out (dns.timeout 2 s) before the server answers again
    time.sleep(2.5)
    assert mx.alive()
    dns.mode = "answer"
    c = session(mx, "127.0.0.3")
    assert deliver(c, "eve@pass.mxs.test").code == 250


def test_local_domain_fail_is_a_spoof_sign(mxshield, backend, dns):
    cf = conf(dns, reject_fail=False)
    cf["spoof"] = {"enabled": True, "action": "header"}
    mx = start(mxshield, cf)
    c = session(mx, "127.0.0.3")
    assert deliver(c, "eve@example.com", message("Eve <eve@example.com>")).code == 250
    backend.wait_messages(1)
    data = backend.messages[0].content
    assert b"spf_fail_local" in data.split(b"\r\n\r\n")[0], data[:600]
