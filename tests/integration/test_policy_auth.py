"""
Authentication rules through the real proxy (seeds 001/003,
core/policy.h policy_mail() steps 2, 4, 5 and policy_rcpt() step 2):

  - listen.submission: MAIL before AUTH from any sender, <> included,
    gets 530 5.7.0; HELO is not checked there.
  - auth.require_for_local_senders: MAIL FROM a local domain without
    AUTH, from outside trusted_networks: 530 5.7.0 Authentication
    required. With except_to_local the MAIL passes and only local
    recipients are accepted (no "%", "!", "@" or source-route hacks).
  - auth.match_envelope: an authenticated session sends as its identity
    (case-insensitive; an identity without "@" at any local domain) or
    one of auth.aliases; else 553 5.7.1. The identity is the authcid the
    backend accepted with 235, never the authzid.
  - the checks run in the order HELO, submission, IP Shield, local
    senders, envelope match.
  - mode = "monitor": the command is relayed, the verdict logged.

The recording backend owns the "accounts": it says 235 to any AUTH.
"""

import pytest

import smtpkit
from policykit import (AUTH_CAPS, SECRET, assert_not_relayed, assert_relayed, auth_plain, b64,
                       client, enforced, monitored, quit, refused, session, start,
                       verdict, verdicts, wait_txn)
from smtpkit import make_message

AUTH_REQ = "530 5.7.0 Authentication required"
NOT_OWNED = "553 5.7.1 Sender address not owned by the authenticated user"
LOCAL = ["example.com", "example.org"]


@pytest.fixture
def auth_backend(backend):
    backend.capabilities = list(AUTH_CAPS)
    return backend


def rcpt_reason(path):
    return "local sender without AUTH to non-local recipient " + path


# --------------------------------------------------------------------------
# submission listener
# --------------------------------------------------------------------------

def test_submission_requires_auth_before_mail(mxshield, auth_backend):
    backend = auth_backend
    mx = start(mxshield, {"listen0": {"submission": True}, "local_domains": LOCAL})
    c = session(mx, "127.0.0.3")
    for sender in ("x@example.net", "", "alice@example.com"):
        refused(c.cmd("MAIL FROM:<%s>" % sender), AUTH_REQ)
    assert_not_relayed(backend, "MAIL")
    mx.wait_log(lambda l: len(mx.logs("txn")) >= 3, what="three txn lines")
    for t in mx.logs("txn"):
        v = verdict(t, "submission", 530, reply=AUTH_REQ)
        assert v["reason"] == "submission listener requires AUTH before MAIL", v
        assert enforced(v), v
    auth_plain(c, "alice@example.com")
    assert c.transaction("alice@example.com", ["user@example.net"], make_message()).code == 250
    assert_relayed(backend, "MAIL FROM:<alice@example.com>")
    quit(c)
    assert len(backend.messages) == 1
    ok = wait_txn(mx, lambda l: l.get("result") == "accepted")
    assert ok[0]["auth"] == "alice@example.com", ok
    assert not [v for v in verdicts(ok[0]) if v.get("code")], ok


def test_submission_only_on_its_listener(mxshield, auth_backend):
    backend = auth_backend
    sub_port = smtpkit.free_port()
    mx = start(mxshield, {"listen": [{"address": "127.0.0.1", "port": smtpkit.free_port()},
                                     {"address": "127.0.0.1", "port": sub_port,
                                      "submission": True}]})
    c = session(mx, "127.0.0.3")
    assert c.cmd("MAIL FROM:<x@example.net>").code == 250
    assert_relayed(backend, "MAIL FROM:<x@example.net>")
    smtpkit.wait_for(lambda: smtpkit.listening(sub_port), 5, what="submission listener")
    s = smtpkit.Client(sub_port, source="127.0.0.3")
    mx.clients.append(s)
    assert s.reply().code == 220
    s.ehlo("client.example.net")
    refused(s.cmd("MAIL FROM:<y@example.net>"), AUTH_REQ)
    assert_not_relayed(backend, "MAIL FROM:<y@")


def test_submission_does_not_check_helo(mxshield, auth_backend):
    backend = auth_backend
    mx = start(mxshield, {"listen0": {"submission": True}, "local_domains": LOCAL,
                          "helo": {"reject_bare_ip": True, "literal_must_match": True,
                                   "require_fqdn": True, "reject_own_identity": True,
                                   "reject_at": "helo"}})
    c = client(mx, "127.0.0.3")
    # MAIL without any HELO: the submission rule answers, not 503
    refused(c.cmd("MAIL FROM:<x@example.net>"), AUTH_REQ)
    for name in ("[192.168.1.10]", "laptop", "1.2.3.4"):
        assert c.cmd("EHLO " + name).code == 250, name
        assert_relayed(backend, "EHLO " + name)
    auth_plain(c, "alice@example.com")
    assert c.transaction("alice@example.com", ["user@example.net"], make_message()).code == 250
    assert mx.logs("policy") == []


def test_submission_trusted_network_exempt(mxshield, auth_backend):
    mx = start(mxshield, {"listen0": {"submission": True}, "trusted_networks": ["127.0.0.8/32"]})
    c = session(mx, "127.0.0.8")
    assert c.transaction("x@example.net", ["user@example.net"], make_message()).code == 250


# --------------------------------------------------------------------------
# auth.require_for_local_senders
# --------------------------------------------------------------------------

LOCAL_CFG = {"local_domains": LOCAL, "trusted_networks": ["127.0.0.8"],
             "auth": {"require_for_local_senders": True}}


def test_local_sender_needs_auth(mxshield, auth_backend):
    backend = auth_backend
    mx = start(mxshield, LOCAL_CFG)
    c = session(mx, "127.0.0.3")
    refused(c.cmd("MAIL FROM:<bob@example.com>"), AUTH_REQ)
    refused(c.cmd("MAIL FROM:<Bob@EXAMPLE.org>"), AUTH_REQ)
    assert_not_relayed(backend, "MAIL")
    mx.wait_log(lambda l: len(mx.logs("txn")) >= 2, what="two txn lines")
    t = mx.logs("txn")
    v = verdict(t[0], "auth", 530, reply=AUTH_REQ)
    assert v["reason"] == "local sender domain example.com without AUTH", v
    assert enforced(v), v
    assert verdict(t[1], "auth", 530)["reason"] == "local sender domain EXAMPLE.org without AUTH"
    # not local: a subdomain, another domain, the null sender
    for sender in ("x@example.net", "x@sub.example.com", ""):
        assert c.cmd("MAIL FROM:<%s>" % sender).code == 250, sender
        assert_relayed(backend, "MAIL FROM:<%s>" % sender)
        assert c.cmd("RSET").code == 250
    # after AUTH the local sender may send
    auth_plain(c, "bob@example.com")
    assert c.transaction("bob@example.com", ["user@example.net"], make_message()).code == 250
    quit(c)
    assert len(backend.messages) == 1


def test_local_sender_from_trusted_network(mxshield, auth_backend):
    mx = start(mxshield, LOCAL_CFG)
    c = session(mx, "127.0.0.8")
    assert c.transaction("bob@example.com", ["user@example.net"], make_message()).code == 250


def test_except_to_local(mxshield, auth_backend):
    backend = auth_backend
    d = dict(LOCAL_CFG, auth={"require_for_local_senders": True, "except_to_local": True})
    mx = start(mxshield, d)
    c = session(mx, "127.0.0.3")
    assert c.cmd("MAIL FROM:<bob@example.com>").code == 250
    assert_relayed(backend, "MAIL FROM:<bob@example.com>")
    for rc in ("alice@example.com", "carol@EXAMPLE.ORG", "postmaster"):
        assert c.cmd("RCPT TO:<%s>" % rc).code == 250, rc
        assert_relayed(backend, "RCPT TO:<%s>" % rc)
    hacks = ["victim@example.net", "user%other.example@example.com", "relay!victim@example.com",
             "bob@sub.example.com"]
    for rc in hacks:
        refused(c.cmd("RCPT TO:<%s>" % rc), AUTH_REQ)
    refused(c.cmd("RCPT TO:<@relay.example.net:bob@example.com>"), AUTH_REQ)
    for rc in hacks:
        assert_not_relayed(backend, "RCPT TO:<%s" % rc.split("@")[0])
    assert_not_relayed(backend, "RCPT TO:<@")
    assert c.cmd("DATA").code == 354
    c.send(make_message() + b".\r\n")
    assert c.reply().code == 250
    quit(c)
    (m,) = backend.messages
    assert m.rcpts == ["alice@example.com", "carol@EXAMPLE.ORG", "postmaster"], m.rcpts
    (t,) = wait_txn(mx)
    vs = [v for v in verdicts(t, "auth") if v.get("code")]
    assert [v["code"] for v in vs] == [530] * 5, t
    assert [v["reason"] for v in vs] == [rcpt_reason(x) for x in hacks] + \
        [rcpt_reason("bob@example.com (source route)")], t
    assert all(enforced(v) and v["reply"] == AUTH_REQ for v in vs), t


def test_except_to_local_other_senders_unrestricted(mxshield, auth_backend):
    # except_to_local restricts only local senders; relaying is another
    # control (test_policy_relay.py), switched off here
    d = dict(LOCAL_CFG, auth={"require_for_local_senders": True, "except_to_local": True},
             relay_protection=False)
    mx = start(mxshield, d)
    c = session(mx, "127.0.0.3")
    assert c.transaction("x@example.net", ["victim@example.net"], make_message()).code == 250
    auth_plain(c, "bob@example.com")
    assert c.transaction("bob@example.com", ["victim@example.net"], make_message()).code == 250


# --------------------------------------------------------------------------
# auth.match_envelope and auth.aliases
# --------------------------------------------------------------------------

MATCH_CFG = {"local_domains": ["example.com"],
             "auth": {"match_envelope": True,
                      "aliases": [{"identity": "alice@example.com",
                                   "addresses": ["sales@example.com", "@example.net"]}]}}


def test_match_envelope_and_aliases(mxshield, auth_backend):
    backend = auth_backend
    mx = start(mxshield, MATCH_CFG)
    c = session(mx, "127.0.0.3")
    auth_plain(c, "alice@example.com")
    refused(c.cmd("MAIL FROM:<bob@example.com>"), NOT_OWNED)
    refused(c.cmd("MAIL FROM:<x@sub.example.net>"), NOT_OWNED)
    refused(c.cmd("MAIL FROM:<alice@example.org>"), NOT_OWNED)
    assert_not_relayed(backend, "MAIL")
    mx.wait_log(lambda l: len(mx.logs("txn")) >= 3, what="three txn lines")
    t = mx.logs("txn")
    v = verdict(t[0], "auth", 553, reply=NOT_OWNED)
    assert v["reason"] == "identity alice@example.com may not send as bob@example.com", v
    assert enforced(v), v
    assert t[0]["auth"] == "alice@example.com", t[0]
    assert verdict(t[1], "auth", 553)["reason"] == \
        "identity alice@example.com may not send as x@sub.example.net"
    for sender in ("ALICE@Example.com", "sales@example.com", "anyone@example.net",
                   "Sales@EXAMPLE.com", ""):
        assert c.cmd("MAIL FROM:<%s>" % sender).code == 250, sender
        assert_relayed(backend, "MAIL FROM:<%s>" % sender)
        assert c.cmd("RSET").code == 250
    assert c.transaction("sales@example.com", ["user@example.net"], make_message()).code == 250
    quit(c)
    assert len(backend.messages) == 1


def test_match_envelope_identity_without_domain(mxshield, auth_backend):
    mx = start(mxshield, MATCH_CFG)
    c = session(mx, "127.0.0.3")
    assert c.cmd("AUTH LOGIN").code == 334
    assert c.cmd(b64("jdoe")).code == 334
    assert c.cmd(b64(SECRET)).code == 235
    assert c.cmd("MAIL FROM:<jdoe@example.com>").code == 250
    assert c.cmd("RSET").code == 250
    refused(c.cmd("MAIL FROM:<jdoe@example.net>"), NOT_OWNED)
    (t,) = wait_txn(mx, lambda l: l.get("result") == "rejected")
    assert verdict(t, "auth", 553)["reason"] == "identity jdoe may not send as jdoe@example.net"


def test_match_envelope_ignores_authzid(mxshield, auth_backend):
    mx = start(mxshield, MATCH_CFG)
    c = session(mx, "127.0.0.3")
    r = c.cmd("AUTH PLAIN " + b64("bob@example.com\0alice@example.com\0" + SECRET))
    assert r.code == 235, r
    refused(c.cmd("MAIL FROM:<bob@example.com>"), NOT_OWNED)
    assert c.cmd("MAIL FROM:<alice@example.com>").code == 250


def test_match_envelope_trusted_network_exempt(mxshield, auth_backend):
    mx = start(mxshield, dict(MATCH_CFG, trusted_networks=["127.0.0.8"]))
    c = session(mx, "127.0.0.8")
    auth_plain(c, "alice@example.com")
    assert c.transaction("bob@example.com", ["user@example.net"], make_message()).code == 250


def test_match_envelope_needs_a_bound_identity(mxshield, auth_backend):
    auth_backend.auth_reply = b"535 5.7.8 Error: authentication failed"
    # relaying is another control (test_policy_relay.py), off here
    mx = start(mxshield, dict(MATCH_CFG, relay_protection=False))
    c = session(mx, "127.0.0.3")
    assert c.cmd("AUTH PLAIN " + b64("\0alice@example.com\0wrong")).code == 535
    # not authenticated: no identity to match against
    assert c.transaction("bob@example.com", ["user@example.net"], make_message()).code == 250


def test_every_check_off_unless_configured(mxshield, auth_backend):
    # the facts are configured, no check is switched on: nothing refused
    # (relay_protection follows local_domains unless set, so it is set off)
    backend = auth_backend
    mx = start(mxshield, {
        "local_domains": ["example.com"], "own_addresses": ["192.0.2.25"],
        "relay_protection": False,
        "helo": {"reject_at": "helo"},
        "ip_shield": {"entries": [{"domain": "$LOCALDOMAIN$", "networks": ["127.0.0.2"]}]},
        "auth": {"except_to_local": True, "aliases": MATCH_CFG["auth"]["aliases"]},
    })
    c = client(mx, "127.0.0.3")
    assert c.cmd("MAIL FROM:<bob@example.com>").code == 250         # no HELO at all
    assert c.cmd("RSET").code == 250
    for name in ("1.2.3.4", "[127.0.0.6]", "mx.test.example", "example.com", "localhost"):
        assert c.cmd("EHLO " + name).code == 250, name
    assert c.transaction("bob@example.com", ["victim@example.net"], make_message()).code == 250
    auth_plain(c, "alice@example.com")
    assert c.transaction("bob@example.com", ["victim@example.net"], make_message()).code == 250
    quit(c)
    assert len(backend.messages) == 2
    assert mx.logs("policy") == []
    for t in mx.logs("txn"):
        assert not [v for v in verdicts(t) if v.get("code")], t


# --------------------------------------------------------------------------
# order of the MAIL checks
# --------------------------------------------------------------------------

def test_check_order(mxshield, auth_backend):
    backend = auth_backend
    mx = start(mxshield, {
        "local_domains": ["example.com"],
        "helo": {"require_fqdn": True, "reject_at": "mail"},
        "ip_shield": {"enabled": True,
                      "entries": [{"domain": "$LOCALDOMAIN$", "networks": ["127.0.0.2"]}]},
        "auth": {"require_for_local_senders": True, "match_envelope": True},
    })
    c = session(mx, "127.0.0.3", helo="localhost")
    refused(c.cmd("MAIL FROM:<ceo@example.com>"),
            "550 5.7.1 EHLO localhost is not a fully qualified domain name")
    c = session(mx, "127.0.0.3")
    refused(c.cmd("MAIL FROM:<ceo@example.com>"),
            "530 5.7.0 Authentication required to send mail from 127.0.0.3")
    c = session(mx, "127.0.0.2")
    refused(c.cmd("MAIL FROM:<ceo@example.com>"), AUTH_REQ)
    auth_plain(c, "alice@example.com")
    refused(c.cmd("MAIL FROM:<ceo@example.com>"), NOT_OWNED)
    assert_not_relayed(backend, "MAIL")
    assert c.cmd("MAIL FROM:<alice@example.com>").code == 250
    mx.wait_log(lambda l: len(mx.logs("txn")) >= 4, what="four txn lines")
    got = [[(v["check"], v["code"]) for v in verdicts(t) if v.get("code")]
           for t in mx.logs("txn")[:4]]
    assert got == [[("helo", 550)], [("ip_shield", 530)], [("auth", 530)], [("auth", 553)]], got


# --------------------------------------------------------------------------
# mode = "monitor"
# --------------------------------------------------------------------------

def test_monitor_local_sender(mxshield, auth_backend):
    backend = auth_backend
    mx = start(mxshield, dict(LOCAL_CFG, mode="monitor"))
    c = session(mx, "127.0.0.3")
    assert c.transaction("bob@example.com", ["user@example.net"], make_message()).code == 250
    assert_relayed(backend, "MAIL FROM:<bob@example.com>")
    quit(c)
    (m,) = backend.messages
    assert m.mail_from == "FROM:<bob@example.com>"
    (t,) = wait_txn(mx)
    assert t["result"] == "accepted", t
    v = verdict(t, "auth", 530, reply=AUTH_REQ)
    assert v["reason"] == "local sender domain example.com without AUTH", v
    assert monitored(v), v


def test_monitor_except_to_local(mxshield, auth_backend):
    backend = auth_backend
    mx = start(mxshield, dict(LOCAL_CFG, mode="monitor",
                              auth={"require_for_local_senders": True, "except_to_local": True}))
    c = session(mx, "127.0.0.3")
    assert c.transaction("bob@example.com", ["alice@example.com", "victim@example.net"],
                         make_message()).code == 250
    quit(c)
    (m,) = backend.messages
    assert m.rcpts == ["alice@example.com", "victim@example.net"]
    (t,) = wait_txn(mx)
    v = verdict(t, "auth", 530, reply=AUTH_REQ)
    assert v["reason"] == rcpt_reason("victim@example.net"), v
    assert monitored(v), v


def test_monitor_match_envelope(mxshield, auth_backend):
    backend = auth_backend
    mx = start(mxshield, dict(MATCH_CFG, mode="monitor"))
    c = session(mx, "127.0.0.3")
    auth_plain(c, "alice@example.com")
    assert c.transaction("bob@example.com", ["user@example.net"], make_message()).code == 250
    quit(c)
    assert len(backend.messages) == 1
    (t,) = wait_txn(mx)
    v = verdict(t, "auth", 553, reply=NOT_OWNED)
    assert v["reason"] == "identity alice@example.com may not send as bob@example.com", v
    assert monitored(v), v


def test_monitor_submission(mxshield, auth_backend):
    backend = auth_backend
    mx = start(mxshield, {"listen0": {"submission": True}, "mode": "monitor"})
    c = session(mx, "127.0.0.3")
    assert c.transaction("x@example.net", ["user@example.net"], make_message()).code == 250
    quit(c)
    assert len(backend.messages) == 1
    (t,) = wait_txn(mx)
    v = verdict(t, "submission", 530, reply=AUTH_REQ)
    assert v["reason"] == "submission listener requires AUTH before MAIL", v
    assert monitored(v), v
