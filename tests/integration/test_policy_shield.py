"""
IP Shield on MAIL FROM through the real proxy (seed 000, core/policy.h
policy_mail() step 3): a sender claiming a shielded domain must connect
from one of that domain's networks, or authenticate; else
"530 5.7.0 Authentication required to send mail from <ip>", and the
MAIL never reaches the backend. Domains without an entry are not
restricted, <> never is, the domain compares case-insensitively,
"$LOCALDOMAIN$" stands for local_domains, "*.example.org" covers proper
subdomains only, networks take the "127.0.1.*" wildcard, CIDR and IPv6.
trusted_networks and authenticated sessions bypass it. In monitor mode
the MAIL is relayed and the would-be refusal is logged.
"""

import pytest

from policykit import (AUTH_CAPS, assert_not_relayed, assert_relayed, auth_plain, commands,
                       enforced, monitored, quit, refused, session, session6, start, verdict,
                       verdicts, wait_txn)
from smtpkit import make_message

SHIELD = {
    "local_domains": ["example.com", "example.org"],
    "trusted_networks": ["127.0.0.8"],
    "ip_shield": {
        "enabled": True,
        "entries": [
            {"domain": "$LOCALDOMAIN$", "networks": ["127.0.0.2", "127.0.1.*", "10.0.0.0/8", "::1"]},
            {"domain": "partner.example", "networks": ["127.0.0.4", "127.0.4.0/24"]},
            {"domain": "*.corp.example", "networks": ["127.0.0.6"]},
            # an exact entry next to $LOCALDOMAIN$: the union of both
            {"domain": "example.org", "networks": ["127.0.0.7"]},
        ],
    },
}


def need(ip):
    return "530 5.7.0 Authentication required to send mail from " + ip


def reason(domain, ip):
    return "sender domain %s is shielded and client %s is in none of its networks" % (domain, ip)


def shield(mxshield, v6=False, **extra):
    d = dict(SHIELD)
    d.update(extra)
    return start(mxshield, d, v6=v6)


def test_shielded_domain_from_outside_is_refused(mxshield, backend):
    mx = shield(mxshield)
    c = session(mx, "127.0.0.3")
    refused(c.cmd("MAIL FROM:<mike@example.com>"), need("127.0.0.3"))
    assert_not_relayed(backend, "MAIL")
    (t,) = wait_txn(mx)
    assert t["client"] == "127.0.0.3" and str(t["mail_from"]).strip("<>") == "mike@example.com", t
    v = verdict(t, "ip_shield", 530, reply=need("127.0.0.3"))
    assert v["reason"] == reason("example.com", "127.0.0.3"), v
    assert enforced(v), v
    assert v["score"] == 0, v
    # the session goes on: a sender of another domain is not restricted
    assert c.transaction("mike@example.net", ["user@example.com"], make_message()).code == 250
    quit(c)
    (m,) = backend.messages
    assert m.mail_from == "FROM:<mike@example.net>", m


def test_refused_mail_pipelined_with_rcpt_and_data(mxshield, backend):
    mx = shield(mxshield)
    c = session(mx, "127.0.0.3")
    c.send("MAIL FROM:<mike@example.com>\r\nRCPT TO:<user@example.com>\r\nDATA\r\n")
    r = c.replies(3)
    refused(r[0], need("127.0.0.3"))
    assert r[1].code == 503, r[1]
    assert r[2].code in (503, 554), r[2]
    assert c.cmd("NOOP").code == 250
    assert_not_relayed(backend, "MAIL")
    assert_not_relayed(backend, "DATA")
    assert backend.messages == []


@pytest.mark.parametrize("src", ["127.0.0.2", "127.0.1.77"])
def test_shielded_domain_from_inside_is_relayed(mxshield, backend, src):
    mx = shield(mxshield)
    c = session(mx, src)
    assert c.transaction("mike@example.com", ["user@example.com"], make_message()).code == 250
    assert_relayed(backend, "MAIL FROM:<mike@example.com>")
    quit(c)
    (t,) = wait_txn(mx)
    assert t["result"] == "accepted", t
    assert not [v for v in verdicts(t) if v.get("code")], t


def test_wildcard_and_cidr_boundaries(mxshield, backend):
    mx = shield(mxshield)
    c = session(mx, "127.0.2.1")        # outside 127.0.1.*
    refused(c.cmd("MAIL FROM:<mike@example.com>"), need("127.0.2.1"))
    c = session(mx, "127.0.4.200")      # partner.example: 127.0.4.0/24
    assert c.cmd("MAIL FROM:<x@partner.example>").code == 250
    c = session(mx, "127.0.5.1")
    refused(c.cmd("MAIL FROM:<x@partner.example>"), need("127.0.5.1"))
    assert commands(backend).count("MAIL FROM:<x@partner.example>") == 1


def test_domain_match_is_case_insensitive(mxshield, backend):
    mx = shield(mxshield)
    c = session(mx, "127.0.0.3")
    refused(c.cmd("MAIL FROM:<Mike@EXAMPLE.COM>"), need("127.0.0.3"))
    refused(c.cmd("MAIL FROM:<x@Partner.Example>"), need("127.0.0.3"))
    assert_not_relayed(backend, "MAIL")
    mx.wait_log(lambda l: len(mx.logs("txn")) >= 2, what="two txn lines")
    t = mx.logs("txn")
    assert verdict(t[0], "ip_shield")["reason"] == reason("EXAMPLE.COM", "127.0.0.3"), t[0]
    assert verdict(t[1], "ip_shield")["reason"] == reason("Partner.Example", "127.0.0.3"), t[1]


def test_unlisted_domains_and_null_sender_not_restricted(mxshield, backend):
    mx = shield(mxshield)
    c = session(mx, "127.0.0.3")
    for sender in ("", "x@example.net", "x@sub.example.com", "x@sub.partner.example",
                   "x@corp.example", "x@[127.0.0.2]"):
        assert c.cmd("MAIL FROM:<%s>" % sender).code == 250, sender
        assert_relayed(backend, "MAIL FROM:<%s>" % sender)
        assert c.cmd("RSET").code == 250


def test_exact_and_subdomain_patterns(mxshield, backend):
    mx = shield(mxshield)
    c = session(mx, "127.0.0.3")
    refused(c.cmd("MAIL FROM:<x@partner.example>"), need("127.0.0.3"))
    refused(c.cmd("MAIL FROM:<x@a.corp.example>"), need("127.0.0.3"))
    refused(c.cmd("MAIL FROM:<x@b.a.corp.example>"), need("127.0.0.3"))
    assert_not_relayed(backend, "MAIL")
    c = session(mx, "127.0.0.6")
    assert c.cmd("MAIL FROM:<x@a.corp.example>").code == 250
    assert c.cmd("RSET").code == 250
    refused(c.cmd("MAIL FROM:<x@partner.example>"), need("127.0.0.6"))
    c = session(mx, "127.0.0.4")
    assert c.cmd("MAIL FROM:<x@partner.example>").code == 250


def test_union_of_matching_entries(mxshield, backend):
    # example.org is local ($LOCALDOMAIN$ networks) and has its own entry
    mx = shield(mxshield)
    for src in ("127.0.0.7", "127.0.0.2"):
        c = session(mx, src)
        assert c.cmd("MAIL FROM:<x@example.org>").code == 250, src
    c = session(mx, "127.0.0.3")
    refused(c.cmd("MAIL FROM:<x@example.org>"), need("127.0.0.3"))
    # the example.org entry does not open example.com to 127.0.0.7
    c = session(mx, "127.0.0.7")
    refused(c.cmd("MAIL FROM:<x@example.com>"), need("127.0.0.7"))


def test_authenticated_session_bypasses(mxshield, backend):
    backend.capabilities = list(AUTH_CAPS)
    mx = shield(mxshield)
    c = session(mx, "127.0.0.3")
    refused(c.cmd("MAIL FROM:<mike@example.com>"), need("127.0.0.3"))
    auth_plain(c, "mike@example.com")
    assert c.transaction("mike@example.com", ["user@example.net"], make_message()).code == 250
    quit(c)
    assert len(backend.messages) == 1
    ok = wait_txn(mx, lambda l: l.get("result") == "accepted")
    assert ok[0]["auth"] == "mike@example.com", ok
    assert not [v for v in verdicts(ok[0]) if v.get("code")], ok


def test_trusted_network_bypasses(mxshield, backend):
    mx = shield(mxshield)
    c = session(mx, "127.0.0.8")
    assert c.transaction("mike@example.com", ["user@example.com"], make_message()).code == 250
    assert c.cmd("MAIL FROM:<x@partner.example>").code == 250
    quit(c)
    assert len(backend.messages) == 1
    t = wait_txn(mx, lambda l: l.get("result") == "accepted")
    assert not [v for v in verdicts(t[0]) if v.get("code")], t


def test_entry_without_networks_needs_auth(mxshield, backend):
    mx = start(mxshield, {"local_domains": ["example.com"],
                          "ip_shield": {"enabled": True,
                                        "entries": [{"domain": "example.com", "networks": []}]}})
    c = session(mx, "127.0.0.2")
    refused(c.cmd("MAIL FROM:<x@example.com>"), need("127.0.0.2"))
    assert_not_relayed(backend, "MAIL")


def test_disabled_shield_restricts_nothing(mxshield, backend):
    d = dict(SHIELD)
    d["ip_shield"] = dict(SHIELD["ip_shield"], enabled=False)
    mx = start(mxshield, d)
    c = session(mx, "127.0.0.3")
    assert c.transaction("mike@example.com", ["user@example.com"], make_message()).code == 250


def test_ipv6_client(mxshield, backend):
    mx = shield(mxshield, v6=True)
    c = session6(mx)
    # "::1" is in the $LOCALDOMAIN$ networks ...
    assert c.transaction("mike@example.com", ["user@example.com"], make_message()).code == 250
    # ... but not in partner.example's
    refused(c.cmd("MAIL FROM:<x@partner.example>"), need("::1"))
    assert_not_relayed(backend, "MAIL FROM:<x@partner.example>")
    quit(c)
    assert len(backend.messages) == 1
    t = wait_txn(mx, lambda l: l.get("result") == "rejected")
    assert t[0]["client"] == "::1", t
    v = verdict(t[0], "ip_shield", 530, reply=need("::1"))
    assert v["reason"] == reason("partner.example", "::1"), v


def test_monitor_mode_relays_and_logs(mxshield, backend):
    mx = shield(mxshield, mode="monitor")
    c = session(mx, "127.0.0.3")
    assert c.transaction("mike@example.com", ["user@example.com"], make_message()).code == 250
    assert_relayed(backend, "MAIL FROM:<mike@example.com>")
    quit(c)
    (m,) = backend.messages
    assert m.mail_from == "FROM:<mike@example.com>"
    (t,) = wait_txn(mx)
    assert t["result"] == "accepted", t
    v = verdict(t, "ip_shield", 530, reply=need("127.0.0.3"))
    assert v["reason"] == reason("example.com", "127.0.0.3"), v
    assert monitored(v), v
