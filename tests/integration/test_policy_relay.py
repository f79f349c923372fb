"""
Relay protection through the real proxy (core/policy.h policy_rcpt()
step 3):

  - With backend.client_info = "received" the backend sees every client
    as mxshield's own address, which a Postfix behind it trusts through
    its default mynetworks. relay_protection closes that open relay in
    mxshield, which knows the real client: a RCPT to a domain outside
    local_domains, from an unauthenticated client outside
    trusted_networks, gets 554 5.7.1 <rcpt>: Relay access denied
    (Postfix's reject_unauth_destination) and never reaches the
    backend; the session goes on and local recipients are accepted.
  - <postmaster> is always accepted (RFC 5321 4.5.1); postmaster at
    another domain is a relay attempt. A source route, "%" or "!" in
    the local part (Postfix's allow_untrusted_routing = no) and address
    literals are never local.
  - On by default whenever local_domains is set, off without; an
    explicit false switches it off; an explicit true without
    local_domains is refused by the configuration check.
  - relay_protection_mode = "monitor" (or the top-level mode): the
    recipient is relayed and the verdict logged as "monitor".
"""

import subprocess

import pytest

import conftest
import smtpkit
from policykit import (AUTH_CAPS, assert_not_relayed, assert_relayed, auth_plain, b64, commands,
                       enforced, monitored, quit, refused, session, session6, start, verdict,
                       verdicts, wait_txn)
from smtpkit import make_message

LOCAL = ["example.com", "example.org"]
CFG = {"local_domains": LOCAL, "trusted_networks": ["127.0.0.8"]}
NOT_TRUSTED = "; client neither authenticated nor in trusted_networks"


def denied(rcpt):
    return "554 5.7.1 <%s>: Relay access denied" % rcpt


def not_local(domain):
    return "recipient domain %s is not in local_domains" % domain + NOT_TRUSTED


@pytest.fixture
def auth_backend(backend):
    backend.capabilities = list(AUTH_CAPS)
    return backend


def rcpts_at_backend(backend):
    return [c for c in commands(backend) if c.upper().startswith("RCPT")]


def relay_verdicts(line):
    return [v for v in verdicts(line, "relay") if v.get("code")]


def test_relay_refused_local_accepted(mxshield, backend):
    mx = start(mxshield, CFG)
    c = session(mx, "127.0.0.3")
    assert c.cmd("MAIL FROM:<x@example.net>").code == 250
    refused(c.cmd("RCPT TO:<victim@example.net>"), denied("victim@example.net"))
    for rc in ("alice@example.com", "Carol@EXAMPLE.ORG"):
        assert c.cmd("RCPT TO:<%s>" % rc).code == 250, rc
        assert_relayed(backend, "RCPT TO:<%s>" % rc)
    refused(c.cmd("RCPT TO:<bob@sub.example.com>"), denied("bob@sub.example.com"))
    assert c.cmd("DATA").code == 354
    c.send(make_message() + b".\r\n")
    assert c.reply().code == 250
    # the session goes on: a second message, refused and accepted alike
    assert c.cmd("MAIL FROM:<>").code == 250
    refused(c.cmd("RCPT TO:<other@example.net>"), denied("other@example.net"))
    assert c.cmd("RCPT TO:<dave@example.com>").code == 250
    assert c.cmd("DATA").code == 354
    c.send(make_message() + b".\r\n")
    assert c.reply().code == 250
    quit(c)
    assert rcpts_at_backend(backend) == ["RCPT TO:<alice@example.com>",
                                         "RCPT TO:<Carol@EXAMPLE.ORG>",
                                         "RCPT TO:<dave@example.com>"]
    m1, m2 = backend.messages
    assert m1.rcpts == ["alice@example.com", "Carol@EXAMPLE.ORG"], m1.rcpts
    assert m2.rcpts == ["dave@example.com"], m2.rcpts
    t1, t2 = wait_txn(mx, lambda l: l.get("result") == "accepted")
    assert t1["rcpts"] == ["alice@example.com", "Carol@EXAMPLE.ORG"], t1
    vs = relay_verdicts(t1)
    assert [v["reply"] for v in vs] == [denied("victim@example.net"),
                                        denied("bob@sub.example.com")], t1
    assert [v["reason"] for v in vs] == [not_local("example.net"), not_local("sub.example.com")]
    assert all(enforced(v) and v["code"] == 554 for v in vs), t1
    v = verdict(t2, "relay", 554, reply=denied("other@example.net"))
    assert enforced(v) and v["reason"] == not_local("example.net"), v


def test_relay_tricks_refused(mxshield, backend):
    """postmaster elsewhere, routing in the local part, source routes and
    address literals: none is a local recipient."""
    mx = start(mxshield, CFG)
    c = session(mx, "127.0.0.3")
    assert c.cmd("MAIL FROM:<x@example.net>").code == 250
    cases = [
        ("postmaster@example.net", "postmaster@example.net", not_local("example.net")),
        ("user%other.example@example.com", "user%other.example@example.com",
         "recipient user%other.example@example.com has \"%\", \"!\" or \"@\" in its local part"
         + NOT_TRUSTED),
        ("relay!victim@example.com", "relay!victim@example.com",
         "recipient relay!victim@example.com has \"%\", \"!\" or \"@\" in its local part"
         + NOT_TRUSTED),
        ('"victim@example.net"@example.com', '"victim@example.net"@example.com',
         "recipient \"victim@example.net\"@example.com has \"%\", \"!\" or \"@\" in its local "
         "part" + NOT_TRUSTED),
        ("@relay.example.net:bob@example.com", "bob@example.com",
         "recipient bob@example.com has a source route" + NOT_TRUSTED),
        ("bob@[127.0.0.1]", "bob@[127.0.0.1]",
         "recipient domain [127.0.0.1] is an address literal, never local" + NOT_TRUSTED),
    ]
    for rc, shown, _ in cases:
        refused(c.cmd("RCPT TO:<%s>" % rc), denied(shown))
    # postmaster without a domain is always ours, and so is postmaster@ a local domain
    for rc in ("postmaster", "Postmaster@example.com"):
        assert c.cmd("RCPT TO:<%s>" % rc).code == 250, rc
    assert c.cmd("DATA").code == 354
    c.send(make_message() + b".\r\n")
    assert c.reply().code == 250
    quit(c)
    assert rcpts_at_backend(backend) == ["RCPT TO:<postmaster>",
                                         "RCPT TO:<Postmaster@example.com>"]
    (t,) = wait_txn(mx, lambda l: l.get("result") == "accepted")
    vs = relay_verdicts(t)
    assert [(v["reply"], v["reason"]) for v in vs] == [(denied(s), r) for _, s, r in cases], t
    assert all(enforced(v) for v in vs), t


def test_relay_pipelined_replies_in_order(mxshield, backend):
    mx = start(mxshield, CFG)
    c = session(mx, "127.0.0.3")
    c.send(b"MAIL FROM:<x@example.net>\r\nRCPT TO:<a@example.com>\r\n"
           b"RCPT TO:<victim@example.net>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n")
    rs = c.replies(5)
    assert [r.code for r in rs] == [250, 250, 554, 250, 354], rs
    assert rs[2].raw == (denied("victim@example.net") + "\r\n").encode()
    c.send(make_message() + b".\r\n")
    assert c.reply().code == 250
    (m,) = backend.messages
    assert m.rcpts == ["a@example.com", "b@example.org"], m.rcpts
    assert_not_relayed(backend, "RCPT TO:<victim")


def test_relay_from_ipv6(mxshield, backend):
    mx = start(mxshield, CFG, v6=True)
    c = session6(mx)
    assert c.cmd("MAIL FROM:<x@example.net>").code == 250
    refused(c.cmd("RCPT TO:<victim@example.net>"), denied("victim@example.net"))
    assert c.cmd("RCPT TO:<bob@example.com>").code == 250
    assert_not_relayed(backend, "RCPT TO:<victim")


def test_relay_trusted_network_exempt(mxshield, backend):
    mx = start(mxshield, CFG)
    c = session(mx, "127.0.0.8")
    assert c.transaction("x@example.net", ["victim@example.net", "user%x@example.com"],
                         make_message()).code == 250
    (m,) = backend.messages
    assert m.rcpts == ["victim@example.net", "user%x@example.com"], m.rcpts
    (t,) = wait_txn(mx, lambda l: l.get("result") == "accepted")
    assert not [v for v in verdicts(t) if v.get("code")], t


def test_relay_authenticated_exempt(mxshield, auth_backend):
    backend = auth_backend
    mx = start(mxshield, CFG)
    c = session(mx, "127.0.0.3")
    auth_plain(c, "alice@example.com")
    assert c.transaction("alice@example.com", ["victim@example.net"], make_message()).code == 250
    assert_relayed(backend, "RCPT TO:<victim@example.net>")
    (t,) = wait_txn(mx, lambda l: l.get("result") == "accepted")
    assert t["auth"] == "alice@example.com", t
    assert not relay_verdicts(t), t


def test_relay_failed_auth_is_not_auth(mxshield, auth_backend):
    auth_backend.auth_reply = b"535 5.7.8 Error: authentication failed"
    mx = start(mxshield, CFG)
    c = session(mx, "127.0.0.3")
    assert c.cmd("AUTH PLAIN " + b64("\0alice@example.com\0wrong")).code == 535
    assert c.cmd("MAIL FROM:<alice@example.com>").code == 250
    refused(c.cmd("RCPT TO:<victim@example.net>"), denied("victim@example.net"))
    assert_not_relayed(auth_backend, "RCPT")


@pytest.mark.parametrize("how", ["relay_protection_mode", "mode"])
def test_relay_monitor_relays_and_logs(mxshield, backend, how):
    mx = start(mxshield, dict(CFG, **{how: "monitor"}))
    c = session(mx, "127.0.0.3")
    assert c.transaction("x@example.net", ["victim@example.net", "bob@example.com"],
                         make_message()).code == 250
    assert_relayed(backend, "RCPT TO:<victim@example.net>")
    (m,) = backend.messages
    assert m.rcpts == ["victim@example.net", "bob@example.com"], m.rcpts
    (t,) = wait_txn(mx, lambda l: l.get("result") == "accepted")
    v = verdict(t, "relay", 554, reply=denied("victim@example.net"))
    assert monitored(v) and v["reason"] == not_local("example.net"), v
    assert t["rcpts"] == ["victim@example.net", "bob@example.com"], t


def test_relay_default_on_with_local_domains(mxshield, backend):
    # nothing but local_domains: the trap of client_info = "received" is closed
    mx = start(mxshield, {"local_domains": ["example.com"]})
    c = session(mx, "127.0.0.1")
    assert c.cmd("MAIL FROM:<x@example.net>").code == 250
    refused(c.cmd("RCPT TO:<victim@example.net>"), denied("victim@example.net"))
    assert c.cmd("RCPT TO:<bob@example.com>").code == 250
    assert_not_relayed(backend, "RCPT TO:<victim")


def test_relay_default_off_without_local_domains(mxshield, backend):
    # with no local domain nothing would be local: the check stays off
    mx = start(mxshield, {})
    c = session(mx, "127.0.0.3")
    assert c.transaction("x@example.net", ["victim@example.net"], make_message()).code == 250
    (m,) = backend.messages
    assert m.rcpts == ["victim@example.net"], m.rcpts
    (t,) = wait_txn(mx, lambda l: l.get("result") == "accepted")
    assert not [v for v in verdicts(t) if v.get("code")], t


def test_relay_explicit_false(mxshield, backend):
    mx = start(mxshield, dict(CFG, relay_protection=False))
    c = session(mx, "127.0.0.3")
    assert c.transaction("x@example.net", ["victim@example.net", "user%x@example.com"],
                         make_message()).code == 250
    (m,) = backend.messages
    assert m.rcpts == ["victim@example.net", "user%x@example.com"], m.rcpts
    (t,) = wait_txn(mx, lambda l: l.get("result") == "accepted")
    assert not [v for v in verdicts(t) if v.get("code")], t


def test_relay_explicit_true(mxshield, backend):
    mx = start(mxshield, dict(CFG, relay_protection=True))
    c = session(mx, "127.0.0.3")
    assert c.cmd("MAIL FROM:<x@example.net>").code == 250
    refused(c.cmd("RCPT TO:<victim@example.net>"), denied("victim@example.net"))


def check_config(tmp_path, text):
    p = tmp_path / "mxshield.conf"
    p.write_text(text)
    r = subprocess.run([conftest.MXSHIELD_BIN, "--check-config", "-c", str(p)],
                       capture_output=True, text=True, timeout=20,
                       env=conftest.sanitizer_env())
    return r.returncode, r.stdout + r.stderr, str(p)


def test_relay_true_needs_local_domains(tmp_path):
    rc, out, path = check_config(tmp_path, 'hostname = "mx.example.com";\n'
                                           'relay_protection = true;\n')
    assert rc == 1, out
    assert "%s:2: relay_protection: true needs local_domains" % path in out, out
    rc, out, _ = check_config(tmp_path, 'relay_protection = true;\n'
                                        'local_domains = [ "example.com" ];\n'
                                        'relay_protection_mode = "monitor";\n')
    assert rc == 0, out
    rc, out, _ = check_config(tmp_path, 'relay_protection = false;\n')
    assert rc == 0, out


def test_relay_keys_checked(tmp_path):
    rc, out, path = check_config(tmp_path, 'local_domains = [ "example.com" ];\n'
                                           'relay_protection = "yes";\n'
                                           'relay_protection_mode = "off";\n')
    assert rc == 1, out
    assert "%s:2: relay_protection: expected true or false" % path in out, out
    assert ('%s:3: relay_protection_mode: "off" is not one of enforce, monitor' % path) in out, out
