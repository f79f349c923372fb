"""
The From: header checks through the real proxy (core/policy.h
policy_from_header(), proxy/data.c header_complete()):

  - ip_shield.check_from_header: a From: address whose domain has IP
    Shield entries, from an unauthenticated client outside their
    networks: "550 5.7.1 Sorry, <addr> <FROM header> not allowed to send
    mail from <ip>" after the final dot.
  - auth.match_from_header: authenticated as X, a From: address that is
    neither X nor one of X's aliases: 550 5.7.1 after the final dot; a
    Sender: field does not excuse it; a message without From: fails.
  - the real address counts, never the display name (plain or RFC 2047).
  - a From: field given twice, or unreadable, fails the check.
  - a refused message: the backend got MAIL and RCPT, then RSET, never
    DATA, and stored nothing; the session goes on (pipelined too).
  - mode = "monitor" (and ip_shield.mode / auth.mode): delivered, the
    verdict logged; trusted_networks: exempt.
"""

import pytest

from policykit import (AUTH_CAPS, assert_relayed, auth_plain, commands, enforced, monitored,
                       quit, refused, session, start, verdict, verdicts, wait_txn)
from smtpkit import dot_stuff, strip_received

LOCAL = ["example.com", "example.org"]
SHIELD = {
    "local_domains": LOCAL,
    "trusted_networks": ["127.0.0.8"],
    "ip_shield": {"enabled": True, "check_from_header": True, "entries": [
        {"domain": "$LOCALDOMAIN$", "networks": ["127.0.0.2"]}]},
}
MATCH = {
    "local_domains": LOCAL,
    "trusted_networks": ["127.0.0.8"],
    "auth": {"match_from_header": True, "aliases": [
        {"identity": "alice@example.com", "addresses": ["sales@example.com", "@example.net"]}]},
}
MANY = "550 5.7.1 Sorry, <FROM header> cannot be checked: more than one From field"


def sorry(addr, ip):
    return "550 5.7.1 Sorry, %s <FROM header> not allowed to send mail from %s" % (addr, ip)


def not_owned(addr):
    return "550 5.7.1 Sorry, %s <FROM header> not owned by the authenticated user" % addr


def message(from_lines, extra=(), msgid="<1@client.example.net>"):
    """Header section with the given From: field lines (str or list)."""
    if isinstance(from_lines, str):
        from_lines = [from_lines]
    hdr = list(extra) + ["From: " + f for f in from_lines] + [
        "To: <user@example.com>", "Subject: test", "Message-ID: " + msgid]
    return ("\r\n".join(hdr) + "\r\n\r\nHello.\r\n.dot line\r\n").encode()


def send(c, content, mail_from="eve@example.net", rcpt="user@example.com"):
    """MAIL, RCPT, DATA, the message; the reply to the final dot."""
    assert c.cmd("MAIL FROM:<%s>" % mail_from).code == 250
    assert c.cmd("RCPT TO:<%s>" % rcpt).code == 250
    assert c.cmd("DATA").code == 354
    c.send(dot_stuff(content) + b".\r\n")
    return c.reply()


def assert_reset_not_data(backend):
    """The refused transaction reached the backend as MAIL, RCPT, RSET."""
    assert_relayed(backend, "RSET")
    cmds = [x.upper() for x in commands(backend)]
    assert "DATA" not in cmds, cmds
    assert backend.messages == [], backend.messages


@pytest.fixture
def auth_backend(backend):
    backend.capabilities = list(AUTH_CAPS)
    return backend


# --------------------------------------------------------------------------
# ip_shield.check_from_header
# --------------------------------------------------------------------------

def test_shielded_from_header_refused_backend_gets_rset(mxshield, backend):
    mx = start(mxshield, SHIELD)
    c = session(mx, "127.0.0.3")
    r = send(c, message("Chief <ceo@example.com>"))
    refused(r, sorry("ceo@example.com", "127.0.0.3"))
    assert_reset_not_data(backend)
    (t,) = wait_txn(mx, lambda l: l.get("result") == "rejected")
    assert t["where"] == "data" and t["message_id"] == "<1@client.example.net>", t
    v = verdict(t, "ip_shield", 550, reply=sorry("ceo@example.com", "127.0.0.3"))
    assert enforced(v), v
    assert v["reason"] == ("From address ceo@example.com: domain is shielded and client "
                           "127.0.0.3 is in none of its networks"), v
    assert not verdicts(t, "protocol"), t
    # the session goes on: the next message is delivered whole
    ok = message("<eve@example.net>", msgid="<2@client.example.net>")
    assert send(c, ok).code == 250
    backend.wait_messages(1)
    assert strip_received(backend.messages[0].content) == ok
    quit(c)


def test_shielded_from_header_inside_networks_delivered(mxshield, backend):
    mx = start(mxshield, SHIELD)
    c = session(mx, "127.0.0.2")
    content = message("ceo@example.com")
    assert send(c, content).code == 250
    backend.wait_messages(1)
    assert strip_received(backend.messages[0].content) == content
    quit(c)


def test_display_name_spoof_judged_by_real_address(mxshield, backend):
    mx = start(mxshield, SHIELD)
    c = session(mx, "127.0.0.3")
    # a local address as display name, a foreign real one: not shielded
    harmless = message('"ceo@example.com" <eve@example.net>')
    assert send(c, harmless).code == 250
    backend.wait_messages(1)
    # a harmless display name in front of a local address: refused
    refused(send(c, message('"eve@example.net" <ceo@example.com>')),
            sorry("ceo@example.com", "127.0.0.3"))
    assert_relayed(backend, "RSET")
    assert len(backend.messages) == 1
    quit(c)


def test_encoded_word_display_name(mxshield, backend):
    mx = start(mxshield, SHIELD)
    c = session(mx, "127.0.0.3")
    assert send(c, message("=?utf-8?q?ceo=40example.com?= <eve@example.net>")).code == 250
    backend.wait_messages(1)
    refused(send(c, message("=?utf-8?q?eve=40example.net?= <ceo@example.com>")),
            sorry("ceo@example.com", "127.0.0.3"))
    assert len(backend.messages) == 1
    quit(c)


def test_two_from_fields_refused(mxshield, backend):
    mx = start(mxshield, SHIELD)
    c = session(mx, "127.0.0.3")
    refused(send(c, message(["eve@example.net", "ceo@example.com"])), MANY)
    assert_reset_not_data(backend)
    (t,) = wait_txn(mx, lambda l: l.get("result") == "rejected")
    v = verdict(t, "ip_shield", 550, reply=MANY)
    assert v["reason"] == ("more than one From field (ip_shield.check_from_header needs "
                           "exactly one From field with an address)"), v
    quit(c)


def test_no_from_is_not_a_shield_violation(mxshield, backend):
    mx = start(mxshield, SHIELD)
    c = session(mx, "127.0.0.3")
    content = b"Subject: no from\r\n\r\nHello.\r\n"
    assert send(c, content).code == 250
    backend.wait_messages(1)
    quit(c)


def test_shield_from_header_monitor_mode(mxshield, backend):
    cfg = dict(SHIELD)
    cfg["ip_shield"] = dict(SHIELD["ip_shield"], mode="monitor")
    mx = start(mxshield, cfg)
    c = session(mx, "127.0.0.3")
    content = message("ceo@example.com")
    assert send(c, content).code == 250
    backend.wait_messages(1)
    assert strip_received(backend.messages[0].content) == content
    (t,) = wait_txn(mx, lambda l: l.get("result") == "accepted")
    v = verdict(t, "ip_shield", 550, reply=sorry("ceo@example.com", "127.0.0.3"))
    assert monitored(v), v
    quit(c)


def test_top_level_monitor_mode(mxshield, backend):
    mx = start(mxshield, dict(SHIELD, mode="monitor"))
    c = session(mx, "127.0.0.3")
    assert send(c, message("ceo@example.com")).code == 250
    backend.wait_messages(1)
    (t,) = wait_txn(mx, lambda l: l.get("result") == "accepted")
    assert monitored(verdict(t, "ip_shield", 550)), t
    quit(c)


def test_trusted_client_exempt(mxshield, backend):
    mx = start(mxshield, SHIELD)
    c = session(mx, "127.0.0.8")
    assert send(c, message(["ceo@example.com", "x@example.org"])).code == 250
    backend.wait_messages(1)
    (t,) = wait_txn(mx, lambda l: l.get("result") == "accepted")
    assert not [v for v in verdicts(t) if v.get("code")], t
    quit(c)


def test_authenticated_exempt_from_shield_on_header(mxshield, auth_backend):
    backend = auth_backend
    mx = start(mxshield, SHIELD)
    c = session(mx, "127.0.0.3")
    auth_plain(c, "bob@example.com")
    assert send(c, message("ceo@example.com"), mail_from="bob@example.com").code == 250
    backend.wait_messages(1)
    quit(c)


def test_pipelined_message_after_refused_one_is_delivered(mxshield, backend):
    mx = start(mxshield, SHIELD)
    c = session(mx, "127.0.0.3")
    assert c.cmd("MAIL FROM:<eve@example.net>").code == 250
    assert c.cmd("RCPT TO:<user@example.com>").code == 250
    assert c.cmd("DATA").code == 354
    c.send(dot_stuff(message("ceo@example.com")) + b".\r\n"
           b"MAIL FROM:<eve@example.net>\r\nRCPT TO:<user@example.com>\r\nDATA\r\n")
    refused(c.reply(), sorry("ceo@example.com", "127.0.0.3"))
    assert [c.reply().code for _ in range(3)] == [250, 250, 354]
    ok = message("eve@example.net", msgid="<2@client.example.net>")
    c.send(dot_stuff(ok) + b".\r\n")
    assert c.reply().code == 250
    backend.wait_messages(1)
    assert strip_received(backend.messages[0].content) == ok
    quit(c)


# --------------------------------------------------------------------------
# auth.match_from_header
# --------------------------------------------------------------------------

def test_match_from_header_refuses_foreign_from(mxshield, auth_backend):
    backend = auth_backend
    mx = start(mxshield, MATCH)
    c = session(mx, "127.0.0.3")
    auth_plain(c, "bob@example.com")
    refused(send(c, message("ceo@example.com"), mail_from="bob@example.com"),
            not_owned("ceo@example.com"))
    assert_reset_not_data(backend)
    (t,) = wait_txn(mx, lambda l: l.get("result") == "rejected")
    v = verdict(t, "auth", 550, reply=not_owned("ceo@example.com"))
    assert enforced(v), v
    assert v["reason"] == "identity bob@example.com may not send as From address ceo@example.com", v
    # own address (any case, with a display name), then delivered
    ok = message("Bob <BOB@example.com>", msgid="<2@client.example.net>")
    assert send(c, ok, mail_from="bob@example.com").code == 250
    backend.wait_messages(1)
    assert strip_received(backend.messages[0].content) == ok
    quit(c)


def test_match_from_header_aliases(mxshield, auth_backend):
    backend = auth_backend
    mx = start(mxshield, MATCH)
    c = session(mx, "127.0.0.3")
    auth_plain(c, "alice@example.com")
    assert send(c, message("sales@example.com"), mail_from="alice@example.com").code == 250
    assert send(c, message("anyone@example.net"), mail_from="alice@example.com").code == 250
    refused(send(c, message("x@sub.example.net"), mail_from="alice@example.com"),
            not_owned("x@sub.example.net"))
    backend.wait_messages(2)
    assert len(backend.messages) == 2
    quit(c)


def test_sender_header_does_not_excuse(mxshield, auth_backend):
    backend = auth_backend
    mx = start(mxshield, MATCH)
    c = session(mx, "127.0.0.3")
    auth_plain(c, "bob@example.com")
    refused(send(c, message("ceo@example.com", extra=["Sender: <bob@example.com>"]),
                 mail_from="bob@example.com"), not_owned("ceo@example.com"))
    assert_reset_not_data(backend)
    quit(c)


def test_display_name_spoof_authenticated(mxshield, auth_backend):
    backend = auth_backend
    mx = start(mxshield, MATCH)
    c = session(mx, "127.0.0.3")
    auth_plain(c, "bob@example.com")
    refused(send(c, message('"bob@example.com" <ceo@example.com>'), mail_from="bob@example.com"),
            not_owned("ceo@example.com"))
    refused(send(c, message("=?utf-8?q?bob=40example.com?= <ceo@example.com>"),
                 mail_from="bob@example.com"), not_owned("ceo@example.com"))
    refused(send(c, message(["bob@example.com", "bob@example.com"]), mail_from="bob@example.com"),
            MANY)
    assert backend.messages == []
    quit(c)


def test_missing_from_fails_the_identity_check(mxshield, auth_backend):
    backend = auth_backend
    mx = start(mxshield, MATCH)
    c = session(mx, "127.0.0.3")
    auth_plain(c, "bob@example.com")
    refused(send(c, b"Subject: no from\r\n\r\nHello.\r\n", mail_from="bob@example.com"),
            "550 5.7.1 Sorry, <FROM header> cannot be checked: no From field")
    assert_reset_not_data(backend)
    quit(c)


def test_match_from_header_monitor_and_unauthenticated(mxshield, auth_backend):
    backend = auth_backend
    cfg = dict(MATCH)
    cfg["auth"] = dict(MATCH["auth"], mode="monitor")
    mx = start(mxshield, cfg)
    c = session(mx, "127.0.0.3")
    # not authenticated: the identity check does not apply
    assert send(c, message("ceo@example.com")).code == 250
    auth_plain(c, "bob@example.com")
    assert send(c, message("ceo@example.com", msgid="<2@x>"), mail_from="bob@example.com").code == 250
    backend.wait_messages(2)
    t = wait_txn(mx, lambda l: l.get("result") == "accepted" and l.get("auth") == "bob@example.com")
    assert monitored(verdict(t[0], "auth", 550, reply=not_owned("ceo@example.com"))), t
    quit(c)


def test_match_from_header_trusted_exempt(mxshield, auth_backend):
    backend = auth_backend
    mx = start(mxshield, MATCH)
    c = session(mx, "127.0.0.8")
    auth_plain(c, "bob@example.com")
    assert send(c, message("ceo@example.com"), mail_from="bob@example.com").code == 250
    backend.wait_messages(1)
    quit(c)
