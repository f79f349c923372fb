"""
Each control in its own mode (proxy/pol.c pol_enforce()): helo.mode,
ip_shield.mode, auth.mode (submission listeners too), hijack.mode and
relay_protection_mode, "enforce" or "monitor", each defaulting to the
top-level mode.

  - A control in monitor mode logs its refusal ("action": "monitor")
    and lets the command through; one in enforce mode refuses
    ("action": "reject"), in the same configuration, the same session,
    the same command.
  - A monitored refusal never hides a later check that enforces: at
    MAIL and RCPT the next check still gets its say, and both verdicts
    are in the transaction's log line.
  - Hijack detection follows hijack.mode alone: "would_disable" and no
    lockout in monitor, a real lockout in enforce, whatever the
    top-level mode says.
"""

import subprocess

import pytest

import conftest
from policykit import (AUTH_CAPS, assert_not_relayed, assert_relayed, auth_plain, b64, client,
                       commands, enforced, monitored, quit, refused, session, start, verdict,
                       verdicts, wait_policy, wait_txn)
from smtpkit import make_message

LOCAL = ["example.com", "example.org"]
FQDN = "550 5.7.1 EHLO mike is not a fully qualified domain name"
SHIELD_NEED = "530 5.7.0 Authentication required to send mail from 127.0.0.3"
AUTH_REQ = "530 5.7.0 Authentication required"
SHIELD = {"enabled": True,
          "entries": [{"domain": "$LOCALDOMAIN$", "networks": ["127.0.0.2"]}]}


def denied(rcpt):
    return "554 5.7.1 <%s>: Relay access denied" % rcpt


@pytest.fixture
def auth_backend(backend):
    backend.capabilities = list(AUTH_CAPS)
    return backend


def refusals(line):
    return [(v["check"], v["action"], v["code"]) for v in verdicts(line) if v.get("code")]


def two_txns(mx):
    mx.wait_log(lambda l: len(mx.logs("txn")) >= 2, what="two txn lines")
    return mx.logs("txn")[:2]


def test_global_monitor_with_helo_enforced(mxshield, backend):
    """mode = monitor, helo.mode = enforce: the HELO check refuses, IP
    Shield and relay protection only log."""
    mx = start(mxshield, {"mode": "monitor", "local_domains": LOCAL, "ip_shield": SHIELD,
                          "helo": {"require_fqdn": True, "reject_at": "helo",
                                   "mode": "enforce"}})
    c = client(mx, "127.0.0.3")
    refused(c.cmd("EHLO mike"), FQDN)
    assert_not_relayed(backend, "EHLO mike")
    (p,) = wait_policy(mx)
    assert (p["check"], p["action"], p["code"]) == ("helo", "reject", 550), p
    assert c.cmd("EHLO client.example.net").code == 250
    assert c.transaction("mike@example.com", ["victim@example.net"], make_message()).code == 250
    assert_relayed(backend, "MAIL FROM:<mike@example.com>")
    assert_relayed(backend, "RCPT TO:<victim@example.net>")
    (m,) = backend.messages
    assert m.rcpts == ["victim@example.net"], m.rcpts
    (t,) = wait_txn(mx, lambda l: l.get("result") == "accepted")
    assert refusals(t) == [("ip_shield", "monitor", 530), ("relay", "monitor", 554)], t
    assert verdict(t, "ip_shield", 530, reply=SHIELD_NEED)
    assert verdict(t, "relay", 554, reply=denied("victim@example.net"))


def test_monitored_check_does_not_hide_an_enforced_one_at_mail(mxshield, backend):
    """ip_shield.mode = monitor, auth enforced: IP Shield would refuse
    this MAIL first; it only logs, and the local-sender rule refuses."""
    mx = start(mxshield, {"local_domains": LOCAL,
                          "ip_shield": dict(SHIELD, mode="monitor"),
                          "auth": {"require_for_local_senders": True}})
    c = session(mx, "127.0.0.3")
    refused(c.cmd("MAIL FROM:<mike@example.com>"), AUTH_REQ)
    assert_not_relayed(backend, "MAIL")
    (t,) = wait_txn(mx, lambda l: l.get("where") == "mail")
    assert t["result"] == "rejected", t
    assert refusals(t) == [("ip_shield", "monitor", 530), ("auth", "reject", 530)], t
    assert verdict(t, "ip_shield", reply=SHIELD_NEED)
    assert verdict(t, "auth", reply=AUTH_REQ)
    # a sender only IP Shield minds: logged, relayed
    assert c.cmd("MAIL FROM:<>").code == 250
    assert c.cmd("RSET").code == 250


def test_monitored_helo_does_not_hide_relay_at_rcpt(mxshield, backend):
    """helo.mode = monitor with the refusal deferred to RCPT, relay
    protection enforced: a foreign recipient is refused by relay, a
    local one relayed with the HELO verdict logged as monitor."""
    mx = start(mxshield, {"local_domains": LOCAL,
                          "helo": {"require_fqdn": True, "reject_at": "rcpt",
                                   "mode": "monitor"}})
    c = session(mx, "127.0.0.3", helo="mike")
    assert_relayed(backend, "EHLO mike")
    assert c.cmd("MAIL FROM:<x@example.net>").code == 250
    refused(c.cmd("RCPT TO:<victim@example.net>"), denied("victim@example.net"))
    assert c.cmd("RCPT TO:<bob@example.com>").code == 250
    assert c.cmd("DATA").code == 354
    c.send(make_message() + b".\r\n")
    assert c.reply().code == 250
    quit(c)
    assert [x for x in commands(backend) if x.startswith("RCPT")] == ["RCPT TO:<bob@example.com>"]
    (t,) = wait_txn(mx, lambda l: l.get("result") == "accepted")
    assert refusals(t) == [("helo", "monitor", 550), ("relay", "reject", 554),
                           ("helo", "monitor", 550)], t
    assert all(v["reply"] == FQDN for v in verdicts(t, "helo")), t


def test_monitored_auth_does_not_hide_relay(mxshield, backend):
    """auth.mode = monitor: except_to_local's 530 for a foreign
    recipient is only logged, and relay protection, enforced, refuses."""
    mx = start(mxshield, {"local_domains": LOCAL,
                          "auth": {"require_for_local_senders": True, "except_to_local": True,
                                   "mode": "monitor"}})
    c = session(mx, "127.0.0.3")
    assert c.cmd("MAIL FROM:<bob@example.com>").code == 250
    refused(c.cmd("RCPT TO:<victim@example.net>"), denied("victim@example.net"))
    assert c.cmd("RCPT TO:<alice@example.com>").code == 250
    assert_not_relayed(backend, "RCPT TO:<victim")
    assert c.cmd("RSET").code == 250
    (t,) = wait_txn(mx)
    assert refusals(t) == [("auth", "monitor", 530), ("relay", "reject", 554)], t


def test_relay_monitored_auth_enforced(mxshield, backend):
    """The other way round: auth enforces its 530, and relay, monitored,
    logs nothing for a recipient auth already refused."""
    mx = start(mxshield, {"local_domains": LOCAL, "relay_protection_mode": "monitor",
                          "auth": {"require_for_local_senders": True, "except_to_local": True}})
    c = session(mx, "127.0.0.3")
    assert c.cmd("MAIL FROM:<bob@example.com>").code == 250
    refused(c.cmd("RCPT TO:<victim@example.net>"), AUTH_REQ)
    assert c.cmd("RSET").code == 250
    # a non-local sender: auth has nothing to say, relay logs and relays
    assert c.cmd("MAIL FROM:<x@example.net>").code == 250
    assert c.cmd("RCPT TO:<victim@example.net>").code == 250
    assert_relayed(backend, "RCPT TO:<victim@example.net>")
    assert c.cmd("RSET").code == 250
    t1, t2 = two_txns(mx)
    assert refusals(t1) == [("auth", "reject", 530)], t1
    assert refusals(t2) == [("relay", "monitor", 554)], t2


def test_submission_follows_auth_mode(mxshield, auth_backend):
    backend = auth_backend
    mx = start(mxshield, {"listen0": {"submission": True}, "local_domains": LOCAL,
                          "auth": {"mode": "monitor"}})
    c = session(mx, "127.0.0.3")
    assert c.cmd("MAIL FROM:<x@example.net>").code == 250
    assert_relayed(backend, "MAIL FROM:<x@example.net>")
    # relay protection, in the top-level mode (enforce), still applies
    refused(c.cmd("RCPT TO:<victim@example.net>"), denied("victim@example.net"))
    assert c.cmd("RCPT TO:<bob@example.com>").code == 250
    assert c.cmd("RSET").code == 250
    (t,) = wait_txn(mx)
    assert refusals(t) == [("submission", "monitor", 530), ("relay", "reject", 554)], t


# --------------------------------------------------------------------------
# hijack.mode
# --------------------------------------------------------------------------

ALICE = "alice@example.com"


def hijack_cfg(**kw):
    hj = {"enabled": True, "max_messages": 1, "window": 60}
    hj.update(kw)
    return {"hijack": hj, "local_domains": LOCAL}


def test_hijack_monitored_while_others_enforce(mxshield, auth_backend):
    backend = auth_backend
    d = hijack_cfg(mode="monitor")
    d["auth"] = {"match_envelope": True}
    mx = start(mxshield, d)
    a = session(mx, "127.0.0.3")
    auth_plain(a, ALICE)
    for _ in range(3):
        assert a.transaction(ALICE, ["rcpt@example.net"], make_message()).code == 250
    assert len(backend.messages) == 3
    (h,) = [l for l in mx.logs("hijack") if l.get("identity") == ALICE]
    assert h["action"] == "would_disable" and h["mode"] == "monitor", h
    # match_envelope, in the top-level mode, still refuses
    refused(a.cmd("MAIL FROM:<bob@example.com>"),
            "553 5.7.1 Sender address not owned by the authenticated user")
    assert_not_relayed(backend, "MAIL FROM:<bob@")
    t = wait_txn(mx, lambda l: l.get("result") == "rejected")
    assert refusals(t[-1])[-1] == ("auth", "reject", 553), t
    assert any(("hijack", "monitor", 550) in refusals(x) for x in mx.logs("txn")), mx.logs("txn")
    # a new AUTH as the identity still reaches the backend
    b = session(mx, "127.0.0.3")
    auth_plain(b, ALICE)


def test_hijack_enforced_under_global_monitor(mxshield, auth_backend):
    backend = auth_backend
    d = hijack_cfg(mode="enforce")
    d["mode"] = "monitor"
    mx = start(mxshield, d)
    a = session(mx, "127.0.0.3")
    auth_plain(a, ALICE)
    assert a.transaction(ALICE, ["rcpt@example.net"], make_message()).code == 250
    r = a.cmd("MAIL FROM:<%s>" % ALICE)
    assert (r.code, r.enh) == (550, "5.7.1"), r
    assert len([x for x in commands(backend) if x.startswith("MAIL")]) == 1
    (h,) = [l for l in mx.logs("hijack") if l.get("identity") == ALICE]
    assert h["action"] == "disabled" and h["mode"] == "enforce", h
    (t,) = wait_txn(mx, lambda l: l.get("result") == "rejected")
    assert refusals(t) == [("hijack", "reject", 550)], t
    # a new AUTH as the identity never reaches the backend
    b = session(mx, "127.0.0.3")
    r = b.cmd("AUTH PLAIN " + b64("\0%s\0pw" % ALICE))
    assert (r.code, r.enh) == (535, "5.7.8"), r
    p = wait_policy(mx, lambda l: l.get("check") == "hijack")
    assert p[0]["action"] == "reject", p


# --------------------------------------------------------------------------
# the keys
# --------------------------------------------------------------------------

def check_config(tmp_path, text):
    p = tmp_path / "mxshield.conf"
    p.write_text(text)
    r = subprocess.run([conftest.MXSHIELD_BIN, "--check-config", "-c", str(p)],
                       capture_output=True, text=True, timeout=20,
                       env=conftest.sanitizer_env())
    return r.returncode, r.stdout + r.stderr, str(p)


def test_mode_keys_accepted(tmp_path):
    rc, out, _ = check_config(tmp_path,
                              'mode = "monitor";\n'
                              'helo = { mode = "enforce"; };\n'
                              'ip_shield = { mode = "monitor"; };\n'
                              'auth = { mode = "enforce"; };\n'
                              'hijack = { mode = "monitor"; };\n'
                              'local_domains = [ "example.com" ];\n'
                              'relay_protection_mode = "enforce";\n')
    assert rc == 0, out


def test_mode_keys_checked(tmp_path):
    rc, out, path = check_config(tmp_path,
                                 'helo = { mode = "off"; };\n'
                                 'ip_shield = { mode = true; };\n'
                                 'auth = { mode = "Monitor"; };\n'
                                 'hijack = { mode = "warn"; };\n')
    assert rc == 1, out
    for line, key, what in ((1, "helo.mode", '"off" is not one of enforce, monitor'),
                            (2, "ip_shield.mode", "expected a string"),
                            (3, "auth.mode", '"Monitor" is not one of enforce, monitor'),
                            (4, "hijack.mode", '"warn" is not one of enforce, monitor')):
        assert "%s:%d: %s: %s" % (path, line, key, what) in out, out
