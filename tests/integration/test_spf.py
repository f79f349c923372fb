"""
SPF (RFC 7208) through mxshield's own resolver, end to end:
`mxshield --spf-check` runs the check a worker runs (proxy/spfw.c:
core/spf.c's questions asked of proxy/dns.c on an event loop) against
a DNS server the test starts (dnskit, on 127.0.0.53 and a free port)
with zone data per test, and prints each identity's result, the
verdict with the reply a client would get, and the Received-SPF field.

Covered: pass, fail with exp= (the domain's explanation in the 550
5.7.23 reply), softfail under each spf.softfail, neutral, none,
permerror (two records), temperror (a server that never answers, one
that answers SERVFAIL) under each on_dns_error, spf.timeout against a
slow server, include chains, mx and a mechanisms against 127.0.0.x,
the 10-lookup limit, macros, the Received-SPF text (RFC 7208 9.1),
the HELO identity and the null sender, monitor mode, trusted clients,
and the command line's usage errors. Through the proxy: the
Received-SPF fields a client wrote are removed (outside
trusted_networks, SPF on and enforced), and only those. Every question the server got is
checked where the count is the point (the lookup limit, the HELO
check sparing the MAIL FROM one).
"""

import subprocess
import time

import pytest

import dnskit
from conftest import MXSHIELD_BIN, libconfig_text, sanitizer_env
from policykit import session, start
from smtpkit import dot_stuff, split_first_header, strip_received

ZONE = [
    # pass / fail / softfail / neutral for the same client
    'pass.mxs.test. 300 IN TXT "v=spf1 ip4:127.0.0.8 -all"',
    'fail.mxs.test. 300 IN TXT "v=spf1 ip4:127.0.0.8 -all exp=exp.mxs.test"',
    'exp.mxs.test. 300 IN TXT "%{i} may not send for %{d}; ask postmaster@%{d}"',
    'plainfail.mxs.test. 300 IN TXT "v=spf1 -all"',
    'soft.mxs.test. 300 IN TXT "v=spf1 ip4:127.0.0.8 ~all"',
    'neutral.mxs.test. 300 IN TXT "v=spf1 ?all"',
    'none.mxs.test. 300 IN TXT "google-site-verification=abc"',
    'none.mxs.test. 300 IN A 127.0.0.8',
    'two.mxs.test. 300 IN TXT "v=spf1 +all"',
    'two.mxs.test. 300 IN TXT "v=spf1 -all"',
    # include chain: a -> b -> c, c lists the client
    'chain.mxs.test. 300 IN TXT "v=spf1 include:b.mxs.test -all"',
    'b.mxs.test. 300 IN TXT "v=spf1 include:c.mxs.test ~all"',
    'c.mxs.test. 300 IN TXT "v=spf1 ip4:127.0.0.0/29 ip6:2001:db8::/32 -all"',
    # mx and a
    'mxa.mxs.test. 300 IN TXT "v=spf1 mx a:relay.mxs.test/30 -all"',
    'mxa.mxs.test. 300 IN MX 10 mail.mxs.test.',
    'mail.mxs.test. 300 IN A 127.0.0.20',
    'relay.mxs.test. 300 IN A 127.0.0.41',
    # eleven terms that each cost a lookup (RFC 7208 4.6.4)
    'many.mxs.test. 300 IN TXT "v=spf1 a:h1.mxs.test a:h2.mxs.test a:h3.mxs.test '
    'a:h4.mxs.test a:h5.mxs.test" " a:h6.mxs.test a:h7.mxs.test a:h8.mxs.test '
    'a:h9.mxs.test a:h10.mxs.test a:h11.mxs.test -all"',
    # macros: exists: on the local part and the client address
    'macro.mxs.test. 300 IN TXT "v=spf1 exists:%{l}.%{ir}._spf.%{d} -all"',
    'alice.8.0.0.127._spf.macro.mxs.test. 300 IN A 127.0.0.2',
    # HELO names
    'helo.mxs.test. 300 IN TXT "v=spf1 a -all"',
    'helo.mxs.test. 300 IN A 127.0.0.8',
    # a local domain of the configuration
    'example.com. 300 IN TXT "v=spf1 ip4:192.0.2.0/24 -all"',
] + ['h%d.mxs.test. 300 IN A 192.0.2.%d' % (i, i) for i in range(1, 12)]


@pytest.fixture
def dns():
    srv = dnskit.DnsServer(zone=ZONE)
    yield srv
    srv.stop()


def spf_check(tmp_path, dns, client, sender, helo=None, spf=None, timeout=1, attempts=2,
              extra=None):
    """Run mxshield --spf-check; (exit status, {key: value} of the item
    lines (a key seen twice: a list), the Received-SPF field (newlines
    kept), stdout, stderr)."""
    cfg = {
        "hostname": "mx.example.org",
        "backend": {"address": "127.0.0.1"},
        "local_domains": ["example.com"],
        "dns": {"servers": [dns.server], "timeout": timeout, "attempts": attempts},
        "spf": dict({"enabled": True, "reject_fail": True}, **(spf or {})),
    }
    cfg.update(extra or {})
    conf = tmp_path / "spf.conf"
    conf.write_text(libconfig_text(cfg))
    args = [MXSHIELD_BIN, "-c", str(conf), "--spf-check", "--client", client,
            "--from", sender]
    if helo is not None:
        args += ["--helo", helo]
    p = subprocess.run(args, capture_output=True, text=True, timeout=60,
                       env=sanitizer_env())
    assert "Sanitizer" not in p.stderr, p.stderr
    items, header = {}, None
    lines = p.stdout.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("Received-SPF:"):
            header = "\n".join(lines[i:])
            break
        k, _, v = line.partition(": ")
        if k in items:
            items[k] = items[k] if isinstance(items[k], list) else [items[k]]
            items[k].append(v)
        else:
            items[k] = v
    return p.returncode, items, header, p.stdout, p.stderr


def unfold(h):
    return " ".join(part.strip() for part in h.split("\n"))


# ----------------------------------------------------------- results

@pytest.mark.parametrize("domain,client,result,mechanism", [
    ("pass.mxs.test", "127.0.0.8", "pass", "ip4:127.0.0.8"),
    ("neutral.mxs.test", "127.0.0.9", "neutral", "all"),
    ("chain.mxs.test", "127.0.0.7", "pass", "include:b.mxs.test"),
    ("mxa.mxs.test", "127.0.0.20", "pass", "mx"),
    ("mxa.mxs.test", "127.0.0.42", "pass", "a:relay.mxs.test/30"),
    ("macro.mxs.test", "127.0.0.8", "pass", "exists:%{l}.%{ir}._spf.%{d}"),
])
def test_passes(tmp_path, dns, domain, client, result, mechanism):
    sender = ("alice@" if domain.startswith("macro") else "bob@") + domain
    rc, it, hdr, out, err = spf_check(tmp_path, dns, client, sender, helo="client.example.net")
    assert (rc, err) == (0, ""), out
    assert it["identity"] == "mailfrom" and it["domain"] == domain, out
    assert (it["result"], it["mechanism"]) == (result, mechanism), out
    assert it["verdict"] == "pass" and "reply" not in it, out
    assert it["reason"] == "mailfrom %s: %s (%s)" % (domain, result, mechanism), out
    h = unfold(hdr)
    assert h.startswith("Received-SPF: %s (mx.example.org: " % result), hdr
    assert (" client-ip=%s; envelope-from=\"%s\"; helo=client.example.net; "
            "receiver=mx.example.org; mechanism=" % (client, sender)) in h, hdr
    assert h.endswith("; identity=mailfrom"), hdr


@pytest.mark.parametrize("domain,client,result,mechanism", [
    ("chain.mxs.test", "127.0.0.9", "fail", "all"),
    ("mxa.mxs.test", "127.0.0.21", "fail", "all"),
    ("macro.mxs.test", "127.0.0.9", "fail", "all"),
])
def test_no_match_fails(tmp_path, dns, domain, client, result, mechanism):
    rc, it, hdr, out, err = spf_check(tmp_path, dns, client, "alice@" + domain,
                                      helo="client.example.net")
    assert rc == 1, out
    assert (it["result"], it["mechanism"]) == (result, mechanism), out
    assert it["reply"] == ("550 5.7.23 SPF: %s does not permit mail from %s" % (domain, client)), out


def test_include_chain_asks_each_record_once(tmp_path, dns):
    rc, it, _, out, _ = spf_check(tmp_path, dns, "127.0.0.9", "bob@chain.mxs.test",
                                  helo="x.example.net")
    # c did not match, b's ~all is inside an include (no match), a's -all
    assert (rc, it["result"]) == (1, "fail"), out
    assert [q for q in dns.queries if q[1] == "TXT"] == [
        ("chain.mxs.test", "TXT"), ("b.mxs.test", "TXT"), ("c.mxs.test", "TXT")]
    assert it["queries"] == "3", out


def test_fail_with_explanation(tmp_path, dns):
    rc, it, hdr, out, err = spf_check(tmp_path, dns, "127.0.0.9", "bob@fail.mxs.test",
                                      helo="client.example.net")
    assert (rc, err) == (1, ""), out
    assert (it["result"], it["mechanism"]) == ("fail", "all"), out
    assert it["explanation"] == "127.0.0.9 may not send for fail.mxs.test; ask postmaster@fail.mxs.test"
    assert it["verdict"] == "reject", out
    assert it["reply"] == ("550 5.7.23 127.0.0.9 may not send for fail.mxs.test; "
                           "ask postmaster@fail.mxs.test"), out
    assert it["reason"] == "mailfrom fail.mxs.test: fail (all)", out
    # RFC 7208 9.1: result, comment, then the key-value pairs
    assert unfold(hdr) == (
        'Received-SPF: fail (mx.example.org: domain of fail.mxs.test does not designate '
        '127.0.0.9 as permitted sender) client-ip=127.0.0.9; '
        'envelope-from="bob@fail.mxs.test"; helo=client.example.net; '
        'receiver=mx.example.org; mechanism=all; identity=mailfrom'), hdr
    # folded, each line within 78 columns, continuation lines start with a tab
    lines = hdr.split("\n")
    assert len(lines) > 1 and all(len(l) <= 78 for l in lines), hdr
    assert all(l.startswith("\t") for l in lines[1:]), hdr


def test_fail_accepted_without_reject_fail(tmp_path, dns):
    rc, it, hdr, out, _ = spf_check(tmp_path, dns, "127.0.0.9", "bob@plainfail.mxs.test",
                                    helo="c.example.net", spf={"reject_fail": False})
    assert rc == 0, out
    assert (it["result"], it["verdict"]) == ("fail", "pass"), out
    assert it["reason"] == "mailfrom plainfail.mxs.test: fail (all); spf.reject_fail is off"
    assert hdr.startswith("Received-SPF: fail "), hdr


@pytest.mark.parametrize("softfail,rc,verdict,reply", [
    ("accept", 0, "pass", None),
    ("tempfail", 1, "reject", "451 4.7.23 SPF softfail: soft.mxs.test does not permit mail "
                              "from 127.0.0.9, try again later"),
    ("reject", 1, "reject", "550 5.7.23 SPF softfail: soft.mxs.test does not permit mail "
                            "from 127.0.0.9"),
])
def test_softfail(tmp_path, dns, softfail, rc, verdict, reply):
    code, it, hdr, out, _ = spf_check(tmp_path, dns, "127.0.0.9", "bob@soft.mxs.test",
                                      helo="c.example.net", spf={"softfail": softfail})
    assert code == rc, out
    assert (it["result"], it["mechanism"], it["verdict"]) == ("softfail", "all", verdict), out
    assert it.get("reply") == reply, out
    assert unfold(hdr).startswith("Received-SPF: softfail (mx.example.org: transitioning domain of "
                                  "soft.mxs.test does not designate "
                                  "127.0.0.9 as permitted sender)"), hdr


def test_none(tmp_path, dns):
    rc, it, hdr, out, _ = spf_check(tmp_path, dns, "127.0.0.8", "bob@none.mxs.test",
                                    helo="c.example.net")
    assert rc == 0, out
    assert (it["result"], it["verdict"]) == ("none", "pass"), out
    assert "mechanism" not in it, out
    assert unfold(hdr) == (
        'Received-SPF: none (mx.example.org: domain of none.mxs.test does not designate '
        'permitted sender hosts) client-ip=127.0.0.8; envelope-from="bob@none.mxs.test"; '
        'helo=c.example.net; receiver=mx.example.org; identity=mailfrom'), hdr
    assert it["reason"] == "mailfrom none.mxs.test: none", out
    # a name that does not exist: none too
    rc, it, _, out, _ = spf_check(tmp_path, dns, "127.0.0.8", "bob@nowhere.mxs.test",
                                  helo="c.example.net")
    assert (rc, it["result"]) == (0, "none"), out


def test_permerror_two_records(tmp_path, dns):
    rc, it, hdr, out, _ = spf_check(tmp_path, dns, "127.0.0.8", "bob@two.mxs.test",
                                    helo="c.example.net")
    assert rc == 0, out
    assert it["result"] == "permerror", out
    assert it["error"] == "more than one SPF record", out
    assert it["verdict"] == "pass", out
    assert it["reason"] == ("mailfrom two.mxs.test: permerror (more than one SPF record); "
                            "accepted"), out
    assert hdr.startswith("Received-SPF: permerror "), hdr


def test_ten_lookup_limit(tmp_path, dns):
    # 127.0.0.8 matches none of h1..h11: the 11th a: is one too many
    rc, it, hdr, out, _ = spf_check(tmp_path, dns, "127.0.0.8", "bob@many.mxs.test",
                                    helo="c.example.net")
    assert it["result"] == "permerror", out
    assert it["error"] == "more than 10 DNS lookups: a:h11.mxs.test", out
    assert rc == 0, out
    # the record and ten a: terms, never the eleventh
    assert dns.count("h10.mxs.test", "A") == 1 and dns.count("h11.mxs.test") == 0, dns.queries
    assert int(it["queries"]) == 11, out


# ----------------------------------------------------------- DNS failures

@pytest.mark.parametrize("mode", ["drop", "servfail"])
def test_temperror_tempfails(tmp_path, dns, mode):
    dns.mode = mode
    t0 = time.monotonic()
    rc, it, hdr, out, _ = spf_check(tmp_path, dns, "127.0.0.8", "bob@pass.mxs.test",
                                    helo="c.example.net", timeout=1, attempts=1)
    took = time.monotonic() - t0
    assert rc == 1, out
    assert it["result"] == "temperror", out
    assert it["error"] == "DNS error: pass.mxs.test", out
    assert it["reply"] == ("451 4.7.24 Temporary SPF error for pass.mxs.test, try again later")
    assert hdr.startswith("Received-SPF: temperror "), hdr
    # one lookup, bounded by dns.timeout * attempts
    assert took < 5, took


def test_temperror_accepted(tmp_path, dns):
    dns.mode = "servfail"
    rc, it, _, out, _ = spf_check(tmp_path, dns, "127.0.0.8", "bob@pass.mxs.test",
                                  helo="c.example.net", extra={"on_dns_error": "accept"})
    assert rc == 0, out
    assert (it["result"], it["verdict"]) == ("temperror", "pass"), out
    assert it["reason"].endswith('; on_dns_error = "accept"'), out


def test_timeout_bounds_the_whole_check(tmp_path, dns):
    # each answer takes 0.7 s (inside dns.timeout), the chain three of
    # them: spf.timeout = 1 ends it at the second
    dns.delay_ms = 700
    t0 = time.monotonic()
    rc, it, hdr, out, _ = spf_check(tmp_path, dns, "127.0.0.7", "bob@chain.mxs.test",
                                    helo="c.example.net", timeout=2, attempts=1,
                                    spf={"timeout": 1})
    took = time.monotonic() - t0
    assert rc == 1, out
    assert it["result"] == "temperror", out
    assert it["timeout"] == "spf.timeout (1 s) reached", out
    assert it["error"].startswith("spf.timeout reached"), out
    assert it["reply"].startswith("451 4.7.24 "), out
    assert took < 2.5, took


# ----------------------------------------------------------- HELO identity

def test_null_sender_checks_postmaster_at_helo(tmp_path, dns):
    # RFC 7208 2.4: <> is postmaster@HELO
    rc, it, hdr, out, _ = spf_check(tmp_path, dns, "127.0.0.8", "", helo="helo.mxs.test")
    assert rc == 0, out
    assert (it["identity"], it["domain"], it["result"]) == ("mailfrom", "helo.mxs.test",
                                                             "pass"), out
    assert "identity=mailfrom" in unfold(hdr), hdr
    rc, it, _, out, _ = spf_check(tmp_path, dns, "127.0.0.9", "", helo="helo.mxs.test")
    assert (rc, it["result"]) == (1, "fail"), out
    assert it["reply"] == "550 5.7.23 SPF: helo.mxs.test does not permit mail from 127.0.0.9"


def test_helo_check_null_sender_uses_helo(tmp_path, dns):
    rc, it, hdr, out, _ = spf_check(tmp_path, dns, "127.0.0.8", "", helo="helo.mxs.test",
                                    spf={"helo_check": True})
    assert rc == 0, out
    assert (it["identity"], it["domain"], it["result"], it["mechanism"]) == (
        "helo", "helo.mxs.test", "pass", "a"), out
    assert unfold(hdr).endswith("identity=helo"), hdr
    assert dns.count("helo.mxs.test", "TXT") == 1, dns.queries


def test_helo_check_then_mail_from(tmp_path, dns):
    rc, it, hdr, out, _ = spf_check(tmp_path, dns, "127.0.0.8", "bob@fail.mxs.test",
                                    helo="helo.mxs.test", spf={"helo_check": True})
    assert rc == 0, out
    assert it["identity"] == ["helo", "mailfrom"], out
    assert it["result"] == ["pass", "pass"], out
    assert unfold(hdr).endswith("identity=mailfrom"), hdr


def test_helo_fail_is_conclusive(tmp_path, dns):
    rc, it, hdr, out, _ = spf_check(tmp_path, dns, "127.0.0.9", "bob@pass.mxs.test",
                                    helo="helo.mxs.test", spf={"helo_check": True})
    assert rc == 1, out
    assert (it["identity"], it["result"]) == ("helo", "fail"), out
    assert it["reply"] == "550 5.7.23 SPF: helo.mxs.test does not permit mail from 127.0.0.9"
    assert unfold(hdr).endswith("identity=helo"), hdr
    # the MAIL FROM domain was never asked
    assert dns.count("pass.mxs.test") == 0, dns.queries


# ----------------------------------------------------------- settings

def test_monitor_mode_only_reports(tmp_path, dns):
    rc, it, _, out, _ = spf_check(tmp_path, dns, "127.0.0.9", "bob@fail.mxs.test",
                                  helo="c.example.net", spf={"mode": "monitor"})
    assert rc == 0, out
    assert it["verdict"] == "monitor", out
    assert it["reply"].startswith("550 5.7.23 "), out


def test_trusted_client_exempt(tmp_path, dns):
    rc, it, _, out, _ = spf_check(tmp_path, dns, "127.0.0.9", "bob@fail.mxs.test",
                                  helo="c.example.net",
                                  extra={"trusted_networks": ["127.0.0.0/29", "127.0.0.9"]})
    assert rc == 0, out
    assert (it["result"], it["verdict"]) == ("fail", "pass"), out
    assert it["reason"] == "mailfrom fail.mxs.test: fail (all); client in trusted_networks"


def test_spf_off_still_checks_and_says_so(tmp_path, dns):
    rc, it, _, out, _ = spf_check(tmp_path, dns, "127.0.0.9", "bob@fail.mxs.test",
                                  helo="c.example.net", spf={"enabled": False})
    assert rc == 1, out
    assert it["result"] == "fail", out
    assert it["note"] == "spf.enabled is false: sessions are not checked", out


def test_ipv6_client(tmp_path, dns):
    rc, it, hdr, out, _ = spf_check(tmp_path, dns, "2001:db8::25", "bob@chain.mxs.test",
                                    helo="c.example.net")
    assert (rc, it["result"]) == (0, "pass"), out
    # not a dot-atom: quoted (RFC 7208 9.1, RFC 5322 3.2.4)
    assert ' client-ip="2001:db8::25"; ' in unfold(hdr), hdr


@pytest.mark.parametrize("args,msg", [
    (["--spf-check", "--from", "a@b.example"], "--spf-check needs --client and --from"),
    (["--spf-check", "--client", "192.0.2.1"], "--spf-check needs --client and --from"),
    (["--spf-check", "--client", "nope", "--from", "a@b.example"],
     "--client nope: not an IP address"),
    (["--spf-check", "--client", "192.0.2.1", "--from", ""],
     "give --helo (the sender has no domain)"),
    (["--spf-check", "--client", "192.0.2.1", "--from", "a@b.example", "--rcpt", "c@d.example"],
     "--spf-check takes --client, --from and --helo only"),
    (["--spf-check", "--dns-lookup", "x.example", "--client", "192.0.2.1", "--from", "a@b"],
     "go alone"),
])
def test_usage(tmp_path, dns, args, msg):
    conf = tmp_path / "spf.conf"
    conf.write_text(libconfig_text({"backend": {"address": "127.0.0.1"},
                                    "dns": {"servers": [dns.server]}}))
    p = subprocess.run([MXSHIELD_BIN, "-c", str(conf)] + args, capture_output=True,
                       text=True, timeout=30, env=sanitizer_env())
    assert p.returncode == 2, (p.stdout, p.stderr)
    assert msg in p.stderr, p.stderr
    assert p.stdout == ""
    assert dns.queries == []


# ----------------------------------------------------------- through the proxy

def _proxy_conf(dns, **spf):
    s = {"enabled": True}
    s.update(spf)
    return {"local_domains": ["example.com"], "trusted_networks": ["127.0.0.8"],
            "dns": {"servers": [dns.server], "timeout": 1, "attempts": 1}, "spf": s}


FORGED = ["Received-SPF: pass (mx.example.com: domain of example.net designates\r\n"
          "\t127.0.0.3 as permitted sender) client-ip=127.0.0.3; receiver=mx.example.com",
          "received-spf: Pass",
          "X-Received-SPF: kept"]


def _message(extra):
    hdr = list(extra) + [
        "Received: from mail.example.net (mail.example.net [198.51.100.7])\r\n"
        "\tby relay.example.net with ESMTP id 4Xy; Tue, 24 Nov 2026 13:33:10 +0000",
        "From: Eve <eve@example.net>", "To: <user@example.com>", "Subject: test",
        "Date: Tue, 24 Nov 2026 13:33:11 +0000", "Message-ID: <1@mail.example.net>"]
    return ("\r\n".join(hdr) + "\r\n\r\n").encode() + b"Hello.\r\n"


def _delivered(backend):
    """The message the backend got, without mxshield's own trace fields
    at its top: a Received-SPF of ours (only when the transaction was
    checked; it names our hostname as receiver) and our Received."""
    backend.wait_messages(1)
    data = backend.messages[0].content
    if data.startswith(b"Received-SPF: "):
        ours, data = split_first_header(data)
        assert b"receiver=mx.test.example;" in ours.replace(b"\r\n\t", b" "), ours
    return strip_received(data)


def _send(mx, source, content):
    c = session(mx, source)
    for line, code in (("MAIL FROM:<eve@example.net>", 250), ("RCPT TO:<user@example.com>", 250),
                       ("DATA", 354)):
        r = c.cmd(line)
        assert r.code == code, (line, r)
    c.send(dot_stuff(content) + b".\r\n")
    r = c.reply()
    assert r.code == 250, r
    c.cmd("QUIT")
    return c


PASS_ZONE = ['example.net. 300 IN TXT "v=spf1 ip4:127.0.0.0/8 -all"']


@pytest.mark.parametrize("source,spf,removed", [
    ("127.0.0.3", {}, True),                      # a client outside: forged ones go
    ("127.0.0.8", {}, False),                     # trusted_networks: a relay of ours
    ("127.0.0.3", {"enabled": False}, False),     # SPF off: untouched
    ("127.0.0.3", {"mode": "monitor"}, False),    # monitor mode changes nothing
])
def test_client_received_spf(mxshield, backend, dns, source, spf, removed):
    dns.set_zone(PASS_ZONE)
    mx = start(mxshield, _proxy_conf(dns, **spf))
    content = _message(FORGED)
    _send(mx, source, content)
    got = _delivered(backend)
    if removed:
        assert got == _message(["X-Received-SPF: kept"]), got
    else:
        assert got == content, got
