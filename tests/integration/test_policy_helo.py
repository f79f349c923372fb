"""
HELO/EHLO checks through the real proxy (core/policy.h, policy_helo()):
reject_bare_ip, literal_must_match, reject_own_identity, require_fqdn,
and where the refusal is given (helo.reject_at = helo | mail | rcpt).

  - at "helo" a refused HELO/EHLO gets the reply (501 5.5.2 for a bare
    IP, 550 5.7.1 otherwise), is never relayed and changes nothing: MAIL
    without an accepted HELO gets 503 5.5.1; every EHLO is checked again.
  - at "mail"/"rcpt" the HELO is relayed and MAIL (or every RCPT but
    postmaster) gets 550 5.7.1 with the same text.
  - trusted_networks and authenticated sessions are exempt.
  - a refusal at HELO is logged as {"event": "policy", sid, client,
    check, action, code, reason}; one at MAIL/RCPT goes into the txn
    line's verdicts.
  - mode = "monitor": logged the same, nothing refused.

Clients other than 127.0.0.1 bind their socket to 127.0.0.x; IPv6 is
a second listener on ::1.
"""


from policykit import (AUTH_CAPS, assert_not_relayed, assert_relayed, auth_plain, client,
                       client6, commands, enforced, monitored, quit, refused, session,
                       start, verdict, verdicts, wait_policy, wait_txn)
import tlsutil
from smtpkit import make_message
from tlsutil import certs_fixture  # noqa: F401 (the certs fixture)

BARE = "is not valid: an IP address must be in brackets"

BASE = {
    "local_domains": ["example.com"],
    "own_addresses": ["192.0.2.25"],
    "trusted_networks": ["127.0.0.9"],
}


def cfg(helo, **extra):
    d = dict(BASE)
    d["helo"] = helo
    d.update(extra)
    return d


def policy_lines(mx):
    return mx.logs("policy")


def check_policy_line(line, client_ip, code, reason, action="reject", reply=None):
    assert line["check"] == "helo", line
    assert line["stage"] == "helo", line
    if reply is not None:
        assert line["reply"] == reply, line
    assert line["client"] == client_ip, line
    assert line["code"] == code, line
    assert line["reason"] == reason, line
    assert line["action"] == action, line
    assert line.get("sid"), line


# --------------------------------------------------------------------------
# reject_at = "helo"
# --------------------------------------------------------------------------

def test_bare_ip_refused_at_helo_not_relayed(mxshield, backend):
    mx = start(mxshield, cfg({"reject_bare_ip": True, "reject_at": "helo"}))
    c = client(mx, "127.0.0.3")
    refused(c.cmd("EHLO 1.2.3.4"), "501 5.5.2 EHLO 1.2.3.4 " + BARE)
    refused(c.cmd("HELO 1.2.3.4"), "501 5.5.2 HELO 1.2.3.4 " + BARE)
    refused(c.cmd("EHLO 2001:db8::7"), "501 5.5.2 EHLO 2001:db8::7 " + BARE)
    # a refused HELO does not count: MAIL still needs an accepted one
    refused(c.cmd("MAIL FROM:<x@example.net>"), "503 5.5.1 Send HELO/EHLO first")
    assert_not_relayed(backend, "EHLO")
    assert_not_relayed(backend, "HELO")
    assert_not_relayed(backend, "MAIL")
    # the session goes on
    assert c.cmd("EHLO client.example.net").code == 250
    assert_relayed(backend, "EHLO client.example.net")
    assert c.transaction("x@example.net", ["user@example.com"], make_message()).code == 250
    quit(c)
    assert len(backend.messages) == 1

    mx.wait_log(lambda l: len(policy_lines(mx)) >= 3, what="three policy lines")
    pl = policy_lines(mx)
    assert len(pl) == 3, pl
    check_policy_line(pl[0], "127.0.0.3", 501, "EHLO 1.2.3.4 is a bare IP address, not in brackets",
                      reply="501 5.5.2 EHLO 1.2.3.4 " + BARE)
    check_policy_line(pl[1], "127.0.0.3", 501, "HELO 1.2.3.4 is a bare IP address, not in brackets",
                      reply="501 5.5.2 HELO 1.2.3.4 " + BARE)
    check_policy_line(pl[2], "127.0.0.3", 501,
                      "EHLO 2001:db8::7 is a bare IP address, not in brackets",
                      reply="501 5.5.2 EHLO 2001:db8::7 " + BARE)
    (sess,) = mx.wait_log(lambda l: l.get("event") == "session", what="session line")
    assert {l["sid"] for l in pl} == {sess["sid"]}, (pl, sess)

    # the 503 is a refused transaction of its own, with the HELO verdict
    t503 = wait_txn(mx, lambda l: any(v.get("code") == 503 for v in l.get("verdicts", [])),
                    what="txn line with the 503")
    v = verdict(t503[0], "helo", 503, reply="503 5.5.1 Send HELO/EHLO first")
    assert v["reason"] == "MAIL without an accepted HELO/EHLO", v
    assert enforced(v), v
    ok = wait_txn(mx, lambda l: l.get("result") == "accepted")
    assert not [x for x in verdicts(ok[0]) if x.get("code")], ok


def test_pipelined_refused_helo_then_mail_rcpt(mxshield, backend):
    # EHLO pipelined on purpose: forbid_unauth_pipelining off, so that
    # the refused HELO's effect on what follows is what is tested
    mx = start(mxshield, cfg({"reject_bare_ip": True, "reject_at": "helo"},
                             limits={"forbid_unauth_pipelining": False}))
    c = client(mx, "127.0.0.3")
    c.send("EHLO 1.2.3.4\r\nMAIL FROM:<x@example.net>\r\nRCPT TO:<user@example.com>\r\n"
           "DATA\r\n")
    r = c.replies(4)
    refused(r[0], "501 5.5.2 EHLO 1.2.3.4 " + BARE)
    refused(r[1], "503 5.5.1 Send HELO/EHLO first")
    assert r[2].code == 503, r[2]
    assert r[3].code in (503, 554), r[3]
    assert c.cmd("NOOP").code == 250
    assert_not_relayed(backend, "EHLO")
    assert_not_relayed(backend, "MAIL")
    assert_not_relayed(backend, "DATA")
    assert backend.messages == []


def test_second_ehlo_is_checked_again(mxshield, backend):
    mx = start(mxshield, cfg({"reject_bare_ip": True, "require_fqdn": True, "reject_at": "helo"}))
    c = session(mx, "127.0.0.3", helo="client.example.net")
    refused(c.cmd("EHLO 1.2.3.4"), "501 5.5.2 EHLO 1.2.3.4 " + BARE)
    refused(c.cmd("HELO localhost"),
            "550 5.7.1 HELO localhost is not a fully qualified domain name")
    assert [x for x in commands(backend) if x.upper().startswith(("EHLO", "HELO"))] == \
        ["EHLO client.example.net"]
    # the refused EHLO changed nothing: the first one still stands
    assert c.transaction("x@example.net", ["user@example.com"], make_message()).code == 250
    assert len(backend.messages) == 1


def test_literal_must_match_at_helo(mxshield, backend):
    mx = start(mxshield, cfg({"literal_must_match": True, "reject_at": "helo"}))
    c = client(mx, "127.0.0.5")
    refused(c.cmd("EHLO [127.0.0.6]"),
            "550 5.7.1 EHLO [127.0.0.6] does not match your address 127.0.0.5")
    refused(c.cmd("EHLO [999.0.0.1]"), "550 5.7.1 EHLO [999.0.0.1] is not a valid address literal")
    assert_not_relayed(backend, "EHLO")
    assert c.cmd("EHLO [127.0.0.5]").code == 250
    assert_relayed(backend, "EHLO [127.0.0.5]")
    assert c.transaction("x@example.net", ["user@example.com"], make_message()).code == 250
    # a name is not a literal: this check leaves it alone
    c2 = session(mx, "127.0.0.5", helo="client.example.net")
    assert c2.cmd("MAIL FROM:<x@example.net>").code == 250
    quit(c)
    pl = wait_policy(mx, lambda l: "127.0.0.6" in l.get("reason", ""))
    check_policy_line(pl[0], "127.0.0.5", 550,
                      "EHLO [127.0.0.6] does not match client 127.0.0.5",
                      reply="550 5.7.1 EHLO [127.0.0.6] does not match your address 127.0.0.5")


def test_literal_must_match_ipv6(mxshield, backend):
    mx = start(mxshield, cfg({"literal_must_match": True, "reject_at": "helo"}), v6=True)
    c = client6(mx)
    refused(c.cmd("EHLO [IPv6:::2]"), "550 5.7.1 EHLO [IPv6:::2] does not match your address ::1")
    refused(c.cmd("EHLO [127.0.0.1]"), "550 5.7.1 EHLO [127.0.0.1] does not match your address ::1")
    assert_not_relayed(backend, "EHLO")
    assert c.cmd("EHLO [IPv6:::1]").code == 250
    assert_relayed(backend, "EHLO [IPv6:::1]")
    assert c.transaction("x@example.net", ["user@example.com"], make_message()).code == 250
    # and the other way round: an IPv4 client claiming ::1
    c4 = client(mx, "127.0.0.1")
    refused(c4.cmd("EHLO [IPv6:::1]"),
            "550 5.7.1 EHLO [IPv6:::1] does not match your address 127.0.0.1")
    quit(c)
    pl = wait_policy(mx, lambda l: "IPv6:::2" in l.get("reason", ""))
    check_policy_line(pl[0], "::1", 550, "EHLO [IPv6:::2] does not match client ::1",
                      reply="550 5.7.1 EHLO [IPv6:::2] does not match your address ::1")
    (t,) = wait_txn(mx)
    assert t["client"] == "::1" and t["helo"] == "[IPv6:::1]", t


def test_own_identity_at_helo(mxshield, backend):
    mx = start(mxshield, cfg({"reject_own_identity": True, "reject_at": "helo"}))
    c = client(mx, "127.0.0.3")
    cases = [
        ("EHLO mx.test.example", "is our hostname"),
        ("EHLO MX.Test.Example.", "is our hostname"),
        ("EHLO example.com", "is our local domain"),
        ("HELO EXAMPLE.COM", "is our local domain"),
        ("EHLO [192.0.2.25]", "is our own address"),
        ("EHLO 192.0.2.25", "is our own address"),
    ]
    for line, _ in cases:
        refused(c.cmd(line), "550 5.7.1 %s is our own identity" % line)
    assert_not_relayed(backend, "EHLO")
    assert_not_relayed(backend, "HELO")
    # a subdomain of a local domain may be another host
    assert c.cmd("EHLO host.example.com").code == 250
    assert c.cmd("MAIL FROM:<x@example.net>").code == 250
    quit(c)
    mx.wait_log(lambda l: len(policy_lines(mx)) >= len(cases), what="policy lines")
    pl = policy_lines(mx)
    assert [l["reason"] for l in pl] == ["%s %s" % (line, why) for line, why in cases], pl
    for l, (line, _) in zip(pl, cases):
        check_policy_line(l, "127.0.0.3", 550, l["reason"],
                          reply="550 5.7.1 %s is our own identity" % line)


def test_own_identity_from_trusted_network(mxshield, backend):
    mx = start(mxshield, cfg({"reject_own_identity": True, "reject_bare_ip": True,
                              "require_fqdn": True, "literal_must_match": True,
                              "reject_at": "helo"}))
    c = client(mx, "127.0.0.9")
    for name in ("mx.test.example", "example.com", "[192.0.2.25]", "1.2.3.4", "localhost"):
        assert c.cmd("EHLO " + name).code == 250, name
        assert_relayed(backend, "EHLO " + name)
    assert c.transaction("x@example.com", ["user@example.com"], make_message()).code == 250
    quit(c)
    (t,) = wait_txn(mx)
    assert not [v for v in verdicts(t) if v.get("code")], t
    assert policy_lines(mx) == []


def test_require_fqdn_at_helo(mxshield, backend):
    mx = start(mxshield, cfg({"require_fqdn": True, "reject_at": "helo"}))
    c = client(mx, "127.0.0.3")
    refused(c.cmd("EHLO localhost"), "550 5.7.1 EHLO localhost is not a fully qualified domain name")
    refused(c.cmd("HELO mike"), "550 5.7.1 HELO mike is not a fully qualified domain name")
    refused(c.cmd("EHLO bad..example"),
            "550 5.7.1 EHLO bad..example is not a valid domain name")
    # a control character is refused as syntax before any policy
    # (cmd_helo_ok), with no policy line
    refused(c.cmd("EHLO evil\x1b[31m.example"), "501 5.5.2 Syntax: EHLO hostname")
    assert_not_relayed(backend, "EHLO")
    assert_not_relayed(backend, "HELO")
    # addresses are not names, but not refused by this check
    assert c.cmd("EHLO [127.0.0.3]").code == 250
    assert c.cmd("EHLO 1.2.3.4").code == 250
    assert c.cmd("EHLO client.example.net").code == 250
    assert c.cmd("MAIL FROM:<x@example.net>").code == 250
    quit(c)
    mx.wait_log(lambda l: len(policy_lines(mx)) >= 3, what="policy lines")
    pl = policy_lines(mx)
    check_policy_line(pl[0], "127.0.0.3", 550, "EHLO localhost is not a fully qualified domain name")
    check_policy_line(pl[1], "127.0.0.3", 550, "HELO mike is not a fully qualified domain name")
    check_policy_line(pl[2], "127.0.0.3", 550, "EHLO bad..example is not a valid domain name",
                      reply="550 5.7.1 EHLO bad..example is not a valid domain name")
    assert len(pl) == 3, pl
    assert "\x1b" not in mx.stderr()


# --------------------------------------------------------------------------
# reject_at = "mail" | "rcpt"
# --------------------------------------------------------------------------

def test_deferred_to_rcpt_postmaster_exempt(mxshield, backend):
    mx = start(mxshield, cfg({"reject_bare_ip": True}))      # reject_at: rcpt (default)
    c = client(mx, "127.0.0.3")
    assert c.cmd("EHLO 1.2.3.4").code == 250
    assert_relayed(backend, "EHLO 1.2.3.4")
    assert c.cmd("MAIL FROM:<x@example.net>").code == 250
    assert_relayed(backend, "MAIL FROM:<x@example.net>")
    text = "550 5.7.1 EHLO 1.2.3.4 " + BARE
    refused(c.cmd("RCPT TO:<user@example.com>"), text)
    refused(c.cmd("RCPT TO:<other@example.net>"), text)
    assert c.cmd("RCPT TO:<postmaster>").code == 250
    assert c.cmd("RCPT TO:<Postmaster@example.com>").code == 250
    assert_not_relayed(backend, "RCPT TO:<user@")
    assert_not_relayed(backend, "RCPT TO:<other@")
    assert c.cmd("DATA").code == 354
    c.send(make_message() + b".\r\n")
    assert c.reply().code == 250
    quit(c)
    (m,) = backend.messages
    assert m.rcpts == ["postmaster", "Postmaster@example.com"], m.rcpts
    (t,) = wait_txn(mx)
    vs = verdicts(t, "helo")
    assert len(vs) == 2, t
    for v in vs:
        assert (v["code"], v["reason"]) == (550, "EHLO 1.2.3.4 is a bare IP address, not in brackets"), v
        assert v["reply"] == text, v
        assert enforced(v), v
    assert [l for l in policy_lines(mx) if l.get("action") == "reject"] == []


def test_deferred_to_rcpt_literal_mismatch(mxshield, backend):
    mx = start(mxshield, cfg({"literal_must_match": True, "reject_at": "rcpt"}))
    c = client(mx, "127.0.0.5")
    assert c.cmd("EHLO [127.0.0.6]").code == 250
    assert c.cmd("MAIL FROM:<x@example.net>").code == 250
    refused(c.cmd("RCPT TO:<user@example.com>"),
            "550 5.7.1 EHLO [127.0.0.6] does not match your address 127.0.0.5")
    assert_not_relayed(backend, "RCPT")
    quit(c)
    (t,) = wait_txn(mx)
    v = verdict(t, "helo", 550,
                reply="550 5.7.1 EHLO [127.0.0.6] does not match your address 127.0.0.5")
    assert v["reason"] == "EHLO [127.0.0.6] does not match client 127.0.0.5", v


def test_deferred_to_mail(mxshield, backend):
    mx = start(mxshield, cfg({"require_fqdn": True, "reject_at": "mail"}))
    c = client(mx, "127.0.0.3")
    assert c.cmd("EHLO localhost").code == 250
    assert_relayed(backend, "EHLO localhost")
    refused(c.cmd("MAIL FROM:<x@example.net>"),
            "550 5.7.1 EHLO localhost is not a fully qualified domain name")
    assert_not_relayed(backend, "MAIL")
    (t,) = wait_txn(mx)
    v = verdict(t, "helo", 550,
                reply="550 5.7.1 EHLO localhost is not a fully qualified domain name")
    assert v["reason"] == "EHLO localhost is not a fully qualified domain name", v
    assert enforced(v), v
    # a new, good EHLO replaces the stored verdict
    assert c.cmd("EHLO client.example.net").code == 250
    assert c.transaction("x@example.net", ["user@example.com"], make_message()).code == 250
    assert len(backend.messages) == 1


def test_latest_ehlo_decides_deferred_refusal(mxshield, backend):
    mx = start(mxshield, cfg({"reject_bare_ip": True}))
    c = session(mx, "127.0.0.3", helo="1.2.3.4")
    assert c.cmd("EHLO client.example.net").code == 250
    assert c.cmd("MAIL FROM:<x@example.net>").code == 250
    assert c.cmd("RCPT TO:<user@example.com>").code == 250
    assert c.cmd("RSET").code == 250
    assert c.cmd("EHLO 1.2.3.4").code == 250
    assert c.cmd("MAIL FROM:<x@example.net>").code == 250
    refused(c.cmd("RCPT TO:<user@example.com>"), "550 5.7.1 EHLO 1.2.3.4 " + BARE)


def test_mail_without_helo(mxshield, backend):
    mx = start(mxshield, cfg({"require_fqdn": True}))
    c = client(mx, "127.0.0.3")
    refused(c.cmd("MAIL FROM:<x@example.net>"), "503 5.5.1 Send HELO/EHLO first")
    assert_not_relayed(backend, "MAIL")
    (t,) = wait_txn(mx)
    assert verdict(t, "helo", 503)["reason"] == "MAIL without an accepted HELO/EHLO"
    # trusted clients are not asked for it
    c9 = client(mx, "127.0.0.9")
    assert c9.cmd("MAIL FROM:<x@example.net>").code == 250
    assert_relayed(backend, "MAIL FROM:<x@example.net>")


def test_mail_without_helo_not_asked_when_checks_off(mxshield, backend):
    mx = start(mxshield, cfg({"reject_at": "helo"}))
    c = client(mx, "127.0.0.3")
    assert c.cmd("MAIL FROM:<x@example.net>").code == 250
    assert c.cmd("RCPT TO:<user@example.com>").code == 250


def test_authenticated_session_exempt_from_deferred_refusal(mxshield, backend):
    backend.capabilities = list(AUTH_CAPS)
    mx = start(mxshield, cfg({"reject_bare_ip": True, "require_fqdn": True}))
    c = client(mx, "127.0.0.3")
    assert c.cmd("EHLO 1.2.3.4").code == 250
    auth_plain(c, "alice@example.com")
    assert c.transaction("alice@example.com", ["user@example.net"], make_message()).code == 250
    quit(c)
    (t,) = wait_txn(mx)
    assert t["auth"] == "alice@example.com", t
    assert not [v for v in verdicts(t) if v.get("code")], t


def _tls_cfg(certs, helo):
    return cfg(helo, listen0={"tls": "starttls"},
               tls={"cert_file": certs.server, "key_file": certs.server_key})


def _starttls(c, certs):
    r = c.cmd("STARTTLS")
    assert (r.code, r.enh) == (220, "2.0.0"), r
    assert tlsutil.starttls(c, certs.client_context()) == b""


def test_starttls_forgets_the_accepted_helo(mxshield, backend, certs):
    # RFC 3207 4.2: after STARTTLS the client must EHLO again; a refused
    # EHLO under TLS leaves the session without an accepted one
    mx = start(mxshield, _tls_cfg(certs, {"reject_bare_ip": True, "reject_at": "helo"}))
    c = session(mx, "127.0.0.3", helo="client.example.net")
    _starttls(c, certs)
    refused(c.cmd("MAIL FROM:<x@example.net>"), "503 5.5.1 Send HELO/EHLO first")
    refused(c.cmd("EHLO 1.2.3.4"), "501 5.5.2 EHLO 1.2.3.4 " + BARE)
    refused(c.cmd("MAIL FROM:<x@example.net>"), "503 5.5.1 Send HELO/EHLO first")
    assert_not_relayed(backend, "MAIL")
    assert_not_relayed(backend, "EHLO 1.2.3.4")
    assert c.cmd("EHLO client.example.net").code == 250
    assert c.transaction("x@example.net", ["user@example.com"], make_message()).code == 250


def test_starttls_forgets_a_deferred_refusal(mxshield, backend, certs):
    mx = start(mxshield, _tls_cfg(certs, {"reject_bare_ip": True}))
    c = session(mx, "127.0.0.3", helo="1.2.3.4")
    _starttls(c, certs)
    assert c.cmd("EHLO client.example.net").code == 250
    assert c.transaction("x@example.net", ["user@example.com"], make_message()).code == 250
    # and the other way round: a bad EHLO under TLS is refused at RCPT
    c = session(mx, "127.0.0.3", helo="client.example.net")
    _starttls(c, certs)
    assert c.cmd("EHLO 1.2.3.4").code == 250
    assert c.cmd("MAIL FROM:<x@example.net>").code == 250
    refused(c.cmd("RCPT TO:<user@example.com>"), "550 5.7.1 EHLO 1.2.3.4 " + BARE)


# --------------------------------------------------------------------------
# mode = "monitor"
# --------------------------------------------------------------------------

def test_monitor_refusal_at_helo_is_relayed_and_logged(mxshield, backend):
    mx = start(mxshield, cfg({"reject_bare_ip": True, "reject_at": "helo"}, mode="monitor"))
    c = client(mx, "127.0.0.3")
    assert c.cmd("EHLO 1.2.3.4").code == 250
    assert_relayed(backend, "EHLO 1.2.3.4")
    # stored as accepted: MAIL is not refused for a missing HELO either
    assert c.transaction("x@example.net", ["user@example.com"], make_message()).code == 250
    quit(c)
    assert len(backend.messages) == 1
    (pl,) = wait_policy(mx)
    check_policy_line(pl, "127.0.0.3", 501, "EHLO 1.2.3.4 is a bare IP address, not in brackets",
                      action="monitor", reply="501 5.5.2 EHLO 1.2.3.4 " + BARE)
    assert monitored(pl), pl
    (t,) = wait_txn(mx)
    assert t["result"] == "accepted", t
    assert not [v for v in verdicts(t) if v.get("code") and not monitored(v)], t


def test_monitor_deferred_refusal_is_relayed_and_logged(mxshield, backend):
    mx = start(mxshield, cfg({"require_fqdn": True}, mode="monitor"))
    c = client(mx, "127.0.0.3")
    assert c.cmd("EHLO localhost").code == 250
    assert c.transaction("x@example.net", ["user@example.com"], make_message()).code == 250
    assert_relayed(backend, "RCPT TO:<user@example.com>")
    quit(c)
    (m,) = backend.messages
    assert m.rcpts == ["user@example.com"]
    (t,) = wait_txn(mx)
    assert t["result"] == "accepted", t
    v = verdict(t, "helo", 550,
                reply="550 5.7.1 EHLO localhost is not a fully qualified domain name")
    assert v["reason"] == "EHLO localhost is not a fully qualified domain name", v
    assert monitored(v), v


def test_monitor_mail_without_helo(mxshield, backend):
    mx = start(mxshield, cfg({"require_fqdn": True}, mode="monitor"))
    c = client(mx, "127.0.0.3")
    assert c.cmd("MAIL FROM:<x@example.net>").code == 250
    assert_relayed(backend, "MAIL FROM:<x@example.net>")
    assert c.cmd("RCPT TO:<user@example.com>").code == 250
    quit(c)
    (t,) = wait_txn(mx)
    v = verdict(t, "helo", 503, reply="503 5.5.1 Send HELO/EHLO first")
    assert monitored(v), v
