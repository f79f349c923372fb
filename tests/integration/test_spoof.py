"""
The spoof score through the real proxy (core/spoof.c for the signs,
proxy/spoofw.c for the verdict, proxy/data.c for what the message gets):

  - each sign on its own, with its default weight, in X-Spoof-Score and
    in the transaction's "spoof" verdict (score, reason = sign names);
  - spoof.weights change a weight, 0 turns a sign off; a score at the
    threshold tags, one below passes; the sum is capped at 25;
  - spoof.action: header (X-Spoof-Flag: YES), subject (prefix, or a
    Subject added), reject (550 5.7.1 after the final dot, the backend
    gets RSET and never DATA, the session goes on), append (the warning
    at the end of the body);
  - the client's X-Spoof-Score and X-Spoof-Flag fields are removed, all
    of them, folded ones too; a clean message arrives byte for byte with
    only our X-Spoof-Score line added;
  - trusted_networks are never acted on; authenticated sessions lose
    the signs that only count from outside;
  - monitor mode (spoof.mode, or the top-level mode) changes nothing and
    logs the verdict;
  - configuration errors name file:line.

Clients come from 127.0.0.3 (outside) unless a test says otherwise.
"""

import os
import re
import subprocess

import pytest

from conftest import MXSHIELD_BIN, libconfig_text
from policykit import (AUTH_CAPS, assert_relayed, auth_plain, commands, quit, session,
                       start, wait_txn)
from smtpkit import dot_stuff, strip_received

OUT = "127.0.0.3"
LOCAL = ["example.com"]
RECEIVED = ("Received: from mail.example.net (mail.example.net [198.51.100.7])\r\n"
            "\tby relay.example.net with ESMTP id 4Xy; Tue, 24 Nov 2026 13:33:10 +0000")


def conf(**spoof):
    """local_domains and spoof enabled with spoof; threshold 25 and action
    header unless given, so that one sign alone is only scored."""
    s = {"enabled": True, "threshold": 25, "action": "header"}
    s.update(spoof)
    return {"local_domains": LOCAL, "trusted_networks": ["127.0.0.8"], "spoof": s}


def message(from_="Eve <eve@example.net>", received=RECEIVED,
            msgid="<1@mail.example.net>", date="Tue, 24 Nov 2026 13:33:11 +0000",
            subject="test", extra=(), body=b"Hello.\r\n.dot line\r\n"):
    """A message that shows no sign unless told: a public Received:, a
    Message-ID, a Date, a From: in a domain that is not ours."""
    hdr = list(extra)
    if received is not None:
        hdr.append(received)
    hdr.append("From: " + from_)
    hdr.append("To: <user@example.com>")
    if subject is not None:
        hdr.append("Subject: " + subject)
    if date is not None:
        hdr.append("Date: " + date)
    if msgid is not None:
        hdr.append("Message-ID: " + msgid)
    return ("\r\n".join(hdr) + "\r\n\r\n").encode() + body


def send(c, content, mail_from="<eve@example.net>", rcpt="user@example.com"):
    """MAIL, RCPT, DATA, the message; the reply to the final dot."""
    r = c.cmd("MAIL FROM:%s" % mail_from)
    assert r.code == 250, r
    r = c.cmd("RCPT TO:<%s>" % rcpt)
    assert r.code == 250, r
    r = c.cmd("DATA")
    assert r.code == 354, r
    c.send(dot_stuff(content) + b".\r\n")
    return c.reply()


def spoof_verdict(mx, n=1):
    """The spoof verdict of the n-th transaction line (waits for it)."""
    lines = wait_txn(mx, lambda l: any(v.get("check") == "spoof" for v in l["verdicts"]),
                     what="txn line with a spoof verdict")
    if len(lines) < n:
        lines = mx.wait_log(lambda l: l.get("event") == "txn" and any(
            v.get("check") == "spoof" for v in l["verdicts"]), what="txn lines")
    assert len(lines) >= n, lines
    vs = [v for v in lines[n - 1]["verdicts"] if v["check"] == "spoof"]
    assert len(vs) == 1, lines[n - 1]
    v = vs[0]
    assert set(v) >= {"check", "action", "code", "reason", "reply", "score"}, v
    return lines[n - 1], v


def delivered(backend, n=1):
    backend.wait_messages(n)
    return strip_received(backend.messages[n - 1].content)


def score_line(score, signs=""):
    return ("X-Spoof-Score: %d/25%s\r\n" % (score, " (%s)" % signs if signs else "")).encode()


# --------------------------------------------------------------------------
# each sign on its own
# --------------------------------------------------------------------------

SIGNS = {
    "source_route": ({}, dict(mail_from="<@relay.example.org:eve@example.net>"), 10),
    "display_name_address": ({"from_": '"boss@example.org" <eve@example.net>'}, {}, 8),
    "display_name_local_domain": ({"from_": '"Example.com Helpdesk" <eve@example.net>'}, {}, 8),
    "local_from_outside": ({"from_": "Chief <ceo@example.com>"}, {}, 8),
    "no_received": ({"received": None}, {}, 5),
    "private_received": ({"received": "Received: from pc ([10.1.2.3]) by gw.example.net; "
                                      "Tue, 24 Nov 2026 13:33:10 +0000"}, {}, 5),
    "bad_message_id": ({"msgid": "no-angle-brackets"}, {}, 2),
    "bad_date": ({"date": "yesterday at noon"}, {}, 2),
    "reply_to_other_domain": ({"extra": ["Reply-To: <collect@other.example>"]}, {}, 3),
}


@pytest.mark.parametrize("sign", sorted(SIGNS))
def test_each_sign_alone(mxshield, backend, sign):
    kw, env, weight = SIGNS[sign]
    mx = start(mxshield, conf())
    c = session(mx, OUT)
    content = message(**kw)
    r = send(c, content, **env)
    assert r.code == 250, r
    # our line first, then the message as it came
    assert delivered(backend) == score_line(weight, sign) + content
    t, v = spoof_verdict(mx)
    assert (v["action"], v["score"], v["reason"], v["code"]) == ("pass", weight, sign, 0), v
    assert t["result"] == "accepted", t
    quit(c)


def test_missing_message_id_and_date_count_too(mxshield, backend):
    mx = start(mxshield, conf())
    c = session(mx, OUT)
    content = message(msgid=None, date=None)
    assert send(c, content).code == 250
    assert delivered(backend) == score_line(4, "bad_message_id,bad_date") + content
    _, v = spoof_verdict(mx)
    assert (v["score"], v["reason"]) == (4, "bad_message_id,bad_date"), v
    quit(c)


def test_failed_helo(mxshield, backend):
    # a HELO check that fails only in the log (helo.mode monitor): a sign
    mx = start(mxshield, dict(conf(), helo={"require_fqdn": True, "mode": "monitor"}))
    c = session(mx, OUT, helo="mike")
    content = message()
    assert send(c, content).code == 250
    assert delivered(backend) == score_line(3, "helo_failed") + content
    _, v = spoof_verdict(mx)
    assert (v["score"], v["reason"]) == (3, "helo_failed"), v
    quit(c)


# --------------------------------------------------------------------------
# weights, threshold, cap
# --------------------------------------------------------------------------

def test_weights_from_config_and_zero_turns_off(mxshield, backend):
    mx = start(mxshield, conf(weights={"no_received": 0, "bad_date": 7}))
    c = session(mx, OUT)
    content = message(received=None, date="not a date")
    assert send(c, content).code == 250
    assert delivered(backend) == score_line(7, "bad_date") + content
    _, v = spoof_verdict(mx)
    assert (v["score"], v["reason"]) == (7, "bad_date"), v
    quit(c)


@pytest.mark.parametrize("threshold,tagged", [(9, True), (10, False)])
def test_threshold_edge(mxshield, backend, threshold, tagged):
    # no Received (5), no Message-ID (2), a bad Date (2): 9
    mx = start(mxshield, conf(threshold=threshold))
    c = session(mx, OUT)
    content = message(received=None, msgid=None, date="soon")
    assert send(c, content).code == 250
    want = score_line(9, "no_received,bad_message_id,bad_date")
    if tagged:
        want += b"X-Spoof-Flag: YES\r\n"
    assert delivered(backend) == want + content
    _, v = spoof_verdict(mx)
    assert (v["action"], v["score"]) == ("tag" if tagged else "pass", 9), v
    quit(c)


def test_score_capped_at_25(mxshield, backend):
    mx = start(mxshield, conf())
    c = session(mx, OUT)
    # source route 10 + display name address 8 + local From 8 = 26
    content = message(from_='"boss@example.org" <ceo@example.com>')
    assert send(c, content, mail_from="<@relay.example.org:eve@example.net>").code == 250
    signs = "source_route,display_name_address,local_from_outside"
    assert delivered(backend) == score_line(25, signs) + b"X-Spoof-Flag: YES\r\n" + content
    _, v = spoof_verdict(mx)
    assert (v["action"], v["score"], v["reason"]) == ("tag", 25, signs), v
    quit(c)


# --------------------------------------------------------------------------
# actions
# --------------------------------------------------------------------------

SPOOFED = dict(received=None, from_="Chief <ceo@example.com>")     # 5 + 8 = 13
SPOOFED_SIGNS = "local_from_outside,no_received"


def test_action_header(mxshield, backend):
    mx = start(mxshield, conf(threshold=10, action="header"))
    c = session(mx, OUT)
    content = message(**SPOOFED)
    assert send(c, content).code == 250
    assert delivered(backend) == score_line(13, SPOOFED_SIGNS) + b"X-Spoof-Flag: YES\r\n" + content
    _, v = spoof_verdict(mx)
    assert (v["action"], v["score"], v["reason"]) == ("tag", 13, SPOOFED_SIGNS), v
    quit(c)


def test_action_subject(mxshield, backend):
    mx = start(mxshield, conf(threshold=10, action="subject"))
    c = session(mx, OUT)
    content = message(subject="Invoice 42", **SPOOFED)
    assert send(c, content).code == 250
    want = content.replace(b"Subject: Invoice 42", b"Subject: [Possible spoof] Invoice 42")
    assert want != content
    assert delivered(backend) == score_line(13, SPOOFED_SIGNS) + b"X-Spoof-Flag: YES\r\n" + want
    # already prefixed: left as it is; a clean message: untouched
    again = message(subject="[Possible spoof] Invoice 42", **SPOOFED)
    assert send(c, again).code == 250
    assert delivered(backend, 2) == (score_line(13, SPOOFED_SIGNS) + b"X-Spoof-Flag: YES\r\n" +
                                     again)
    clean = message(subject="Invoice 43")
    assert send(c, clean).code == 250
    assert delivered(backend, 3) == score_line(0) + clean
    quit(c)


def test_action_subject_added_when_missing(mxshield, backend):
    mx = start(mxshield, conf(threshold=10, action="subject", subject_prefix="*SPOOF* "))
    c = session(mx, OUT)
    content = message(subject=None, **SPOOFED)
    assert send(c, content).code == 250
    assert delivered(backend) == (score_line(13, SPOOFED_SIGNS) + b"X-Spoof-Flag: YES\r\n" +
                                  b"Subject: *SPOOF*\r\n" + content)
    quit(c)


REFUSED = "550 5.7.1 Message refused: it looks spoofed (score 13/25)"


def test_action_reject(mxshield, backend):
    mx = start(mxshield, conf(threshold=10, action="reject"))
    c = session(mx, OUT)
    r = send(c, message(**SPOOFED))
    assert r.raw == (REFUSED + "\r\n").encode(), r
    assert_relayed(backend, "RSET")
    assert "DATA" not in [x.upper() for x in commands(backend)]
    assert backend.messages == []
    t, v = spoof_verdict(mx)
    assert t["result"] == "rejected", t
    assert (v["action"], v["code"], v["reply"], v["score"], v["reason"]) == (
        "reject", 550, REFUSED, 13, SPOOFED_SIGNS), v
    assert not [x for x in t["verdicts"] if x["check"] == "protocol"], t
    # the session goes on: a clean message is delivered
    clean = message(msgid="<2@mail.example.net>")
    assert send(c, clean).code == 250
    assert delivered(backend) == score_line(0) + clean
    quit(c)


def test_action_append_warning_at_the_end(mxshield, backend, tmp_path):
    # a plain 7bit message gets the warning file's text at its end
    if not os.path.exists(os.path.join(os.path.dirname(__file__), "..", "..", "core",
                                       "mime_append.c")):
        pytest.skip("core/mime_append.c is not in this tree")
    wf = tmp_path / "warning.txt"
    wf.write_text("CAUTION: this message may not come from who it says.\n")
    mx = start(mxshield, conf(threshold=10, action="append", warning_file=str(wf)))
    c = session(mx, OUT)
    content = message(body=b"Hello.\r\n", **SPOOFED)
    assert send(c, content).code == 250
    got = delivered(backend)
    head = score_line(13, SPOOFED_SIGNS) + b"X-Spoof-Flag: YES\r\n"
    assert got.startswith(head + content), got
    assert got[len(head + content):].rstrip(b"\r\n").endswith(
        b"CAUTION: this message may not come from who it says."), got
    _, v = spoof_verdict(mx)
    assert v["action"] == "tag" and "appended to 1 part" in v["reason"], v
    quit(c)


# --------------------------------------------------------------------------
# forged fields, clean messages
# --------------------------------------------------------------------------

def test_client_spoof_fields_removed(mxshield, backend):
    mx = start(mxshield, conf())
    c = session(mx, OUT)
    forged = ["X-Spoof-Score: 0/25", "x-spoof-flag: NO",
              "X-SPOOF-SCORE: 1/25\r\n (folded,\r\n\tover lines)", "X-Spoof-Scores: kept"]
    content = message(extra=forged)
    assert send(c, content).code == 250
    clean = message(extra=["X-Spoof-Scores: kept"])
    assert delivered(backend) == score_line(0) + clean
    quit(c)


def test_clean_message_byte_identical_but_for_the_score(mxshield, backend):
    mx = start(mxshield, {"local_domains": LOCAL, "spoof": {"enabled": True}})
    c = session(mx, OUT)
    body = b"".join(b"line %d \xc3\xa9 with trailing space \r\n" % i for i in range(200))
    content = message(body=body + b".starts with a dot\r\n")
    assert send(c, content).code == 250
    assert delivered(backend) == score_line(0) + content
    _, v = spoof_verdict(mx)
    assert (v["action"], v["score"], v["reason"]) == ("pass", 0, "no sign"), v
    quit(c)


# --------------------------------------------------------------------------
# trusted, authenticated, monitor
# --------------------------------------------------------------------------

def test_trusted_client_is_scored_never_acted_on(mxshield, backend):
    mx = start(mxshield, conf(threshold=5, action="reject"))
    c = session(mx, "127.0.0.8")
    # the signs that count only from outside do not count; this one does
    content = message(from_='"boss@example.org" <ceo@example.com>', received=None)
    assert send(c, content).code == 250
    assert delivered(backend) == score_line(8, "display_name_address") + content
    _, v = spoof_verdict(mx)
    assert (v["action"], v["score"]) == ("pass", 8), v
    assert v["reason"] == "display_name_address; client in trusted_networks: not acted on", v
    quit(c)


@pytest.fixture
def auth_backend(backend):
    backend.capabilities = list(AUTH_CAPS)
    return backend


def test_authenticated_client_not_from_outside(mxshield, auth_backend):
    mx = start(mxshield, conf(threshold=5, action="reject"))
    c = session(mx, OUT)
    auth_plain(c, "alice@example.com")
    content = message(from_="Alice <alice@example.com>", received=None)
    assert send(c, content, mail_from="<alice@example.com>").code == 250
    assert delivered(auth_backend) == score_line(0) + content
    _, v = spoof_verdict(mx)
    assert (v["action"], v["score"]) == ("pass", 0), v
    quit(c)


@pytest.mark.parametrize("where", ["spoof.mode", "mode"])
def test_monitor_changes_nothing(mxshield, backend, where):
    over = conf(threshold=10, action="reject")
    if where == "mode":
        over["mode"] = "monitor"
    else:
        over["spoof"]["mode"] = "monitor"
    mx = start(mxshield, over)
    c = session(mx, OUT)
    content = message(extra=["X-Spoof-Flag: NO"], **SPOOFED)
    assert send(c, content).code == 250
    assert delivered(backend) == content
    t, v = spoof_verdict(mx)
    assert (v["action"], v["score"], v["reason"]) == ("monitor", 13, SPOOFED_SIGNS), v
    assert v["reply"] == "550 5.7.1 Message refused: it looks spoofed (score 13/25)", v
    assert t["result"] == "accepted", t
    quit(c)


def test_spoof_off_changes_nothing_and_logs_nothing(mxshield, backend):
    mx = start(mxshield, {"local_domains": LOCAL})
    c = session(mx, OUT)
    content = message(extra=["X-Spoof-Score: 0/25"], **SPOOFED)
    assert send(c, content).code == 250
    assert delivered(backend) == content
    (t,) = wait_txn(mx)
    assert not [v for v in t["verdicts"] if v["check"] == "spoof"], t
    quit(c)


# --------------------------------------------------------------------------
# configuration
# --------------------------------------------------------------------------

def check(tmp_path, spoof, name="spoof.conf"):
    """--check-config on a file whose line 2 is the spoof group, written
    on one line; (exit status, path, stderr)."""
    path = tmp_path / name
    one = " ".join(libconfig_text({k: v}).replace("\n", " ").strip() for k, v in spoof.items())
    path.write_text("# spoof settings\nspoof = { %s };\n" % one)
    r = subprocess.run([MXSHIELD_BIN, "--check-config", "-c", str(path)],
                       capture_output=True, timeout=30)
    return r.returncode, str(path), r.stderr.decode("utf-8", "replace")


def test_config_threshold_above_cap(tmp_path):
    rc, path, err = check(tmp_path, {"enabled": True, "threshold": 26})
    assert rc == 1, err
    assert "%s:2: spoof.threshold: 26 is above 25: the score is capped at 25" % path in err, err


def test_config_unknown_weight_name(tmp_path):
    rc, path, err = check(tmp_path, {"weights": {"lookalike": 3}})
    assert rc == 1, err
    assert re.search(r"%s:2: spoof\.weights\.lookalike: unknown sign \"lookalike\"; the "
                     r"signs are: source_route, display_name_address, " % re.escape(path), err), err
    assert "reply_to_other_domain" in err, err


def test_config_weight_out_of_range(tmp_path):
    rc, path, err = check(tmp_path, {"weights": {"bad_date": 26}})
    assert rc == 1 and "spoof.weights.bad_date: 26 is out of range (0 to 25" in err, err


@pytest.mark.parametrize("content,why", [
    (None, "cannot read"),
    (b"", "is empty"),
    (b"x" * 4097, "longer than 4096 octets"),
    (b"Achtung: gef\xe4lscht\n", "is not valid UTF-8 (at offset 12)"),
])
def test_config_bad_warning_file(tmp_path, content, why):
    wf = tmp_path / "warning.txt"
    if content is not None:
        wf.write_bytes(content)
    rc, path, err = check(tmp_path, {"enabled": True, "warning_file": str(wf)})
    assert rc == 1, err
    assert "%s:2: spoof.warning_file: " % path in err and why in err, err


def test_config_good_warning_file_and_keys(tmp_path):
    wf = tmp_path / "warning.txt"
    wf.write_bytes("Attention : message peut-\xeatre usurp\xe9.\n".encode("utf-8"))
    rc, path, err = check(tmp_path, {"enabled": True, "warning_file": str(wf), "threshold": 25,
                                     "mode": "monitor", "subject_prefix": "[SPOOF] ",
                                     "weights": {"bad_date": 0, "source_route": 25}})
    assert rc == 0, err


# --------------------------------------------------------------------------
# append: the built-in text, signed messages, every way a body can end
# --------------------------------------------------------------------------

BUILTIN = (b"WARNING: information in the headers of this message suggests that\r\n"
           b"it may be spoofed: the sender may not be who the message says it is.\r\n"
           b"Its authenticity should be verified before you act on it.\r\n")


def test_action_append_builtin_text(mxshield, backend):
    mx = start(mxshield, conf(threshold=10, action="append"))
    c = session(mx, OUT)
    content = message(body=b"Hello.\r\n", **SPOOFED)
    assert send(c, content).code == 250
    got = delivered(backend)
    head = score_line(13, SPOOFED_SIGNS) + b"X-Spoof-Flag: YES\r\n"
    assert got.startswith(head + content), got
    assert got.endswith(BUILTIN), got
    assert got.count(b"WARNING:") == 1, got
    _, v = spoof_verdict(mx)
    assert v["reason"] == SPOOFED_SIGNS + "; appended to 1 part(s)", v
    quit(c)


def test_action_append_signed_message_gets_headers_only(mxshield, backend):
    mx = start(mxshield, conf(threshold=10, action="append"))
    c = session(mx, OUT)
    body = (b"--sig\r\nContent-Type: text/plain\r\n\r\nSigned text.\r\n"
            b"--sig\r\nContent-Type: application/pgp-signature\r\n\r\n"
            b"-----BEGIN PGP SIGNATURE-----\r\nabc\r\n-----END PGP SIGNATURE-----\r\n"
            b"--sig--\r\n")
    content = message(extra=["MIME-Version: 1.0",
                             'Content-Type: multipart/signed; boundary="sig"; '
                             'protocol="application/pgp-signature"'],
                      body=body, **SPOOFED)
    assert send(c, content).code == 250
    assert delivered(backend) == (score_line(13, SPOOFED_SIGNS) + b"X-Spoof-Flag: YES\r\n" +
                                  content)
    _, v = spoof_verdict(mx)
    assert v["action"] == "tag", v
    assert v["reason"] == SPOOFED_SIGNS + "; signed message: warning in the header only", v
    quit(c)


def test_append_body_refused_midway_then_next_message(mxshield, backend):
    # a bare LF deep in the body: the leg is dropped mid-DATA, the
    # appender freed with the transaction; the next message is appended
    mx = start(mxshield, conf(threshold=10, action="append"))
    c = session(mx, OUT)
    bad = message(body=b"x" * 70000 + b"\r\nbare\nLF\r\n", **SPOOFED)
    r = c.cmd("MAIL FROM:<eve@example.net>")
    assert r.code == 250, r
    assert c.cmd("RCPT TO:<user@example.com>").code == 250
    assert c.cmd("DATA").code == 354
    c.send(bad + b".\r\n")
    r = c.reply()
    assert (r.code, r.enh) == (550, "5.5.2"), r
    assert backend.messages == []
    c2 = session(mx, OUT)
    ok = message(body=b"Hello.\r\n", **SPOOFED)
    assert send(c2, ok).code == 250
    assert delivered(backend).endswith(BUILTIN)
    quit(c2)


def test_append_client_gone_mid_body(mxshield, backend):
    mx = start(mxshield, conf(threshold=10, action="append"))
    c = session(mx, OUT)
    r = c.cmd("MAIL FROM:<eve@example.net>")
    assert r.code == 250, r
    assert c.cmd("RCPT TO:<user@example.com>").code == 250
    assert c.cmd("DATA").code == 354
    c.send(message(body=b"y" * 50000 + b"\r\n", **SPOOFED))
    assert_relayed(backend, "DATA")     # the body streams, appender in place
    c.close()
    mx.wait_log(lambda l: l.get("event") == "txn" and l.get("result") == "aborted",
                what="aborted txn")
    assert backend.messages == []


@pytest.mark.parametrize("action", ["append", "subject"])
def test_empty_message(mxshield, backend, action):
    # nothing after DATA: no Received, Message-ID or Date (5 + 2 + 2)
    mx = start(mxshield, conf(threshold=9, action=action))
    c = session(mx, OUT)
    assert send(c, b"").code == 250
    got = delivered(backend)
    head = score_line(9, "no_received,bad_message_id,bad_date") + b"X-Spoof-Flag: YES\r\n"
    assert got.startswith(head), got
    if action == "subject":
        assert got == head + b"Subject: [Possible spoof]\r\n", got
    _, v = spoof_verdict(mx)
    assert (v["action"], v["score"]) == ("tag", 9), v
    quit(c)
