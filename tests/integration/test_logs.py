"""
Logs (DESIGN.md "Contracts", Logs): one JSON object per line on stderr,
one "txn" line per transaction and one "session" line per session, with
the documented fields; grepping a Message-ID finds the client's address.
"""

import base64
import json
import os
import re
import time

import pytest

import conftest
import smtpkit
import tlsutil
from policykit import AUTH_CAPS, auth_plain
from smtpkit import make_message
from tlsutil import certs_fixture  # noqa: F401  (the certs fixture)

TXN_FIELDS = ["ts", "event", "sid", "client", "port", "helo", "tls", "auth", "mail_from", "rcpts",
              "message_id", "size", "verdicts", "backend_reply", "queue_id", "duration_ms"]
RFC3339_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|\+00:00)$")


def _addr(v):
    return str(v).strip("<>")


def test_txn_and_session_lines(mxshield, backend):
    c = mxshield.session("logs.example.net", source="127.0.0.2")
    content = make_message(msgid="<log-4711@client.example.net>")
    r = c.transaction("sender@example.net", ["rcpt@example.com"], content)
    assert r.code == 250
    assert c.cmd("QUIT").code == 221
    c.expect_closed(3)
    (m,) = backend.transactions
    mxshield.wait_log(lambda l: l.get("event") == "session", what="session line")
    (txn,) = mxshield.logs("txn")
    (sess,) = mxshield.logs("session")
    missing = [f for f in TXN_FIELDS if f not in txn]
    assert not missing, "txn line lacks %r: %r" % (missing, txn)
    assert RFC3339_UTC.match(txn["ts"]), txn["ts"]
    assert txn["client"] == "127.0.0.2"
    assert int(txn["port"]) == c.local_port
    assert txn["helo"] == "logs.example.net"
    assert not txn["tls"] and not txn["auth"], txn
    assert _addr(txn["mail_from"]) == "sender@example.net"
    assert [_addr(x) for x in txn["rcpts"]] == ["rcpt@example.com"]
    assert _addr(txn["message_id"]) == "log-4711@client.example.net"
    assert isinstance(txn["size"], int) and len(content) <= txn["size"] <= len(content) + 1024, txn["size"]
    assert isinstance(txn["verdicts"], list)
    assert str(txn["backend_reply"]).startswith("250"), txn["backend_reply"]
    assert m.queue_id in str(txn["backend_reply"])
    assert txn["queue_id"] == m.queue_id
    assert isinstance(txn["duration_ms"], (int, float)) and txn["duration_ms"] >= 0
    assert sess["sid"] == txn["sid"]
    assert sess["client"] == "127.0.0.2" and int(sess["port"]) == c.local_port
    assert RFC3339_UTC.match(sess["ts"]), sess["ts"]


@pytest.mark.parametrize("reply,qid", [
    (b"250 Message accepted for delivery as AIO000015", "AIO000015"),
    (b"250 Message accepted for delivery", None),
    (b"250 OK", None),
    (b"250 OK id=1tXyzA-000abc-Ab", "1tXyzA-000abc-Ab"),
    (b"250 2.0.0 4B6Jk1Xx012345 Message accepted for delivery", "4B6Jk1Xx012345"),
    (b"250 2.0.0: 4e1b2c3d Message accepted for delivery", "4e1b2c3d"),
    (b"250 2.6.0 <msgid@host> [InternalId=123, Hostname=x] Queued mail for delivery", "123"),
    (b"250 2.6.0 Ok, message saved <Message-ID: 5fa1b2@mx.example>", "5fa1b2@mx.example"),
    (b"250 2.0.0 Ok: queued as 4Xyz12AbC;rm\"x (trailing)", "4Xyz12AbC"),
], ids=["aiosmtpd-id", "aiosmtpd", "ok", "exim", "sendmail", "opensmtpd", "exchange", "mdaemon",
        "postfix-hostile"])
def test_queue_id_forms(mxshield, backend, reply, qid):
    """queue_id in the txn line for the reply forms of common servers;
    the client hears the backend's reply unchanged."""
    backend.data_reply = reply
    c = mxshield.session()
    r = c.transaction("sender@example.net", ["rcpt@example.com"], make_message())
    assert r.raw == reply + b"\r\n", r
    (txn,) = mxshield.wait_log(lambda l: l.get("event") == "txn", what="txn line")
    assert txn["result"] == "accepted", txn
    assert txn["backend_reply"] == reply.decode(), txn
    assert txn.get("queue_id") == qid, txn
    (s,) = backend.sessions
    assert len(s.unacked) == 1 and b"MAIL FROM:<sender@example.net>\r\n" in s.commands


def test_grep_message_id_finds_client(mxshield, backend):
    c = mxshield.session("spambot.example.net", source="127.0.0.7")
    r = c.transaction("victim@example.com", ["rcpt@example.com"],
                      make_message(msgid="<spambot-99@bot.example.net>"))
    assert r.code == 250
    mxshield.wait_log(lambda l: l.get("event") == "txn", what="txn line")
    hits = [l for l in mxshield.stderr().splitlines() if "spambot-99@bot.example.net" in l]
    assert hits and all("127.0.0.7" in l for l in hits), hits


def test_one_txn_line_per_transaction(mxshield, backend):
    c = mxshield.session()
    # rejected at RCPT, then abandoned
    assert c.cmd("MAIL FROM:<first@example.net>").code == 250
    assert c.cmd("RCPT TO:<reject@example.com>").code == 550
    assert c.cmd("RSET").code == 250
    # accepted
    assert c.transaction("second@example.net", ["rcpt@example.com"], make_message()).code == 250
    # refused by mxshield after the dot (bare LF)
    assert c.cmd("MAIL FROM:<third@example.net>").code == 250
    assert c.cmd("RCPT TO:<rcpt@example.com>").code == 250
    assert c.cmd("DATA").code == 354
    c.send(b"Subject: bare\r\n\r\nx\ny\r\n.\r\n")
    assert c.reply().code == 550
    assert c.cmd("QUIT").code == 221
    mxshield.wait_log(lambda l: l.get("event") == "session", what="session line")
    txns = mxshield.logs("txn")
    assert [_addr(t.get("mail_from")) for t in txns] == ["first@example.net", "second@example.net",
                                                          "third@example.net"], txns
    assert txns[1]["queue_id"] == backend.transactions[0].queue_id
    assert not txns[2].get("queue_id"), txns[2]
    assert len({t["sid"] for t in txns}) == 1


def test_escape_sequences_in_helo_not_in_logs(mxshield, backend):
    c = mxshield.client()
    assert c.reply().code == 220
    r = c.cmd(b'EHLO evil"\x1b[31m\\host.example')
    c.cmd("QUIT")
    c.expect_closed(3)
    mxshield.wait_log(lambda l: l.get("event") == "session", what="session line")
    raw = open(mxshield.stderr_path, "rb").read()
    assert b"\x1b" not in raw
    if r.code == 250:
        # accepted and relayed: the session line carries it, escaped, and
        # still parses as JSON
        (sess,) = mxshield.logs("session")
        assert "evil" in str(sess.get("helo")), sess


def test_transcript_logs_commands_and_replies_but_no_auth_data(mxshield, backend):
    backend.capabilities = backend.capabilities + ["AUTH PLAIN LOGIN"]
    mx = mxshield({"log": {"transcript": True}})
    c = mx.session()
    secret = base64.b64encode(b"\0alice@example.com\0s3cret-pass").decode()
    assert c.cmd("AUTH PLAIN " + secret).code == 235
    assert c.cmd("NOOP").code == 250
    c.cmd("QUIT")
    mx.wait_log(lambda l: l.get("event") == "transcript" and
                l.get("line", "").startswith("221"), what="transcript of QUIT")
    t = [(l["dir"], l["line"]) for l in mx.log_lines() if l.get("event") == "transcript"]
    assert ("client", "AUTH PLAIN") in t, t
    assert ("client", "NOOP") in t and ("server", "250 2.0.0 Ok") in t, t
    assert secret not in mx.stderr() and "s3cret" not in mx.stderr()


# --------------------------------------------------------------------------
# what a txn line says about how the transaction ended (README "Reading
# the logs"): result, where (the last stage reached), reason, and one
# verdict object per decision with the same fields everywhere
# --------------------------------------------------------------------------

VERDICT_FIELDS = {"check", "action", "code", "reason", "reply", "score"}
POLICY_FIELDS = {"ts", "event", "sid", "client", "port", "stage"} | VERDICT_FIELDS


def _txn_lines(mx, n=1):
    """The first n txn lines, each parsed straight from its stderr line."""
    def lines():
        return [json.loads(l) for l in mx.stderr().splitlines()
                if l.startswith("{") and json.loads(l).get("event") == "txn"]
    smtpkit.wait_for(lambda: len(lines()) >= n, 5, what="%d txn lines in:\n%s" % (
        n, mx.stderr()[-3000:]))
    return lines()[:n]


def _check_verdict(v):
    assert set(v) == VERDICT_FIELDS, v
    assert isinstance(v["code"], int) and isinstance(v["score"], int), v
    assert v["action"] in ("reject", "monitor"), v
    assert v["reply"].startswith(str(v["code"]) + " "), v
    assert v["reason"] and v["reason"] != v["reply"], v


HELO_MIKE = {"helo": {"require_fqdn": True, "reject_at": "rcpt"}}
MIKE_REPLY = "550 5.7.1 EHLO mike is not a fully qualified domain name"


@pytest.mark.parametrize("end", ["DATA", "RSET", "QUIT", "close"])
def test_helo_refusal_at_rcpt_is_rejected_at_rcpt(mxshield, backend, end):
    mx = mxshield(HELO_MIKE)
    c = mx.session("mike")
    assert c.cmd("MAIL FROM:<sender@example.net>").code == 250
    for rcpt in ("a@example.com", "b@example.com"):
        r = c.cmd("RCPT TO:<%s>" % rcpt)
        assert r.raw == (MIKE_REPLY + "\r\n").encode(), r
    if end == "DATA":
        r = c.cmd("DATA")
        assert (r.code, r.enh) == (554, "5.5.1"), r
        assert c.cmd("QUIT").code == 221
    elif end == "close":
        c.close()
    else:
        assert c.cmd(end).code in (221, 250)
    (t,) = _txn_lines(mx)
    assert (t["result"], t["where"]) == ("rejected", "rcpt"), t
    assert t["rcpts"] == [], t
    assert len(t["verdicts"]) == 2, t
    for v in t["verdicts"]:
        _check_verdict(v)
        assert (v["check"], v["action"], v["code"], v["reply"]) == (
            "helo", "reject", 550, MIKE_REPLY), v
        assert v["reason"] == "EHLO mike is not a fully qualified domain name", v
    assert not [c for c in backend.all_commands() if c.upper().startswith(b"RCPT")]


def test_every_rcpt_refused_by_the_backend_is_rejected_at_rcpt(mxshield, backend):
    c = mxshield.session()
    assert c.cmd("MAIL FROM:<sender@example.net>").code == 250
    assert c.cmd("RCPT TO:<reject@example.com>").code == 550
    assert c.cmd("QUIT").code == 221
    (t,) = _txn_lines(mxshield)
    assert (t["result"], t["where"]) == ("rejected", "rcpt"), t
    assert t["verdicts"] == [], t


@pytest.mark.parametrize("end,reason", [
    ("QUIT", "client sent QUIT"),
    ("RSET", "client sent RSET"),
    ("EHLO", "client sent EHLO"),
    ("close", "client closed the connection"),
])
def test_ended_after_rcpt_is_aborted_at_rcpt(mxshield, backend, end, reason):
    c = mxshield.session()
    assert c.cmd("MAIL FROM:<sender@example.net>").code == 250
    assert c.cmd("RCPT TO:<rcpt@example.com>").code == 250
    # a refused recipient next to an accepted one changes nothing
    assert c.cmd("RCPT TO:<reject@example.com>").code == 550
    if end == "close":
        c.close()
    elif end == "EHLO":
        c.ehlo("again.example.net")
    else:
        assert c.cmd(end).code in (221, 250)
    (t,) = _txn_lines(mxshield)
    assert (t["result"], t["where"], t["reason"]) == ("aborted", "rcpt", reason), t
    assert [_addr(x) for x in t["rcpts"]] == ["rcpt@example.com"], t
    assert t["backend_reply"] is None and t["queue_id"] is None, t
    assert backend.transactions == []


def test_ended_after_mail_is_aborted_at_mail(mxshield, backend):
    c = mxshield.session()
    assert c.cmd("MAIL FROM:<sender@example.net>").code == 250
    assert c.cmd("QUIT").code == 221
    (t,) = _txn_lines(mxshield)
    assert (t["result"], t["where"], t["reason"]) == ("aborted", "mail", "client sent QUIT"), t


def test_accepted_and_rejected_lines_have_no_abort_reason(mxshield, backend):
    c = mxshield.session()
    assert c.transaction("a@example.net", ["rcpt@example.com"], make_message()).code == 250
    assert c.cmd("MAIL FROM:<b@example.net>").code == 250
    assert c.cmd("RCPT TO:<reject@example.com>").code == 550
    assert c.cmd("QUIT").code == 221
    ok, rej = _txn_lines(mxshield, 2)
    assert (ok["result"], ok["where"], ok["reason"]) == ("accepted", "data", None), ok
    assert (rej["result"], rej["where"], rej["reason"]) == ("rejected", "rcpt", None), rej


# (what the client sends in DATA, reply, words the reason must contain)
PROTOCOL_CASES = {
    "bare-lf": (b"Subject: x\r\n\r\nhi\nthere\r\n.\r\n",
                "550 5.5.2 Bare <CR> or <LF> in message not allowed", "bare"),
    "nul": (b"Subject: x\r\n\r\nhi\0there\r\n.\r\n",
            "550 5.6.0 NUL character in message", "NUL"),
    "header-too-big": (b"Subject: x\r\n" + b"X-Pad: " + b"p" * 900 + b"\r\n" +
                       b"X-Pad: " + b"p" * 900 + b"\r\n\r\nbody\r\n.\r\n",
                       "552 5.3.4 Message header section too big", "limits.max_header_bytes"),
}


@pytest.mark.parametrize("case", sorted(PROTOCOL_CASES))
def test_protocol_verdict_has_reply_and_reason(mxshield, backend, case):
    data, reply, words = PROTOCOL_CASES[case]
    mx = mxshield({"limits": {"max_header_bytes": 1024}})
    c = mx.session()
    assert c.cmd("MAIL FROM:<sender@example.net>").code == 250
    assert c.cmd("RCPT TO:<rcpt@example.com>").code == 250
    assert c.cmd("DATA").code == 354
    c.send(data)
    r = c.reply()
    assert r.raw == (reply + "\r\n").encode(), r
    (t,) = _txn_lines(mx)
    assert (t["result"], t["where"]) == ("rejected", "data"), t
    (v,) = t["verdicts"]
    _check_verdict(v)
    assert (v["check"], v["action"], v["code"], v["reply"]) == (
        "protocol", "reject", int(reply[:3]), reply), v
    assert words in v["reason"], v
    assert backend.transactions == []


def test_policy_event_has_the_verdict_fields(mxshield, backend):
    mx = mxshield({"helo": {"require_fqdn": True, "reject_at": "helo"}})
    c = mx.client()
    assert c.reply().code == 220
    r = c.cmd("EHLO mike")
    assert r.code == 550, r
    (p,) = mx.wait_log(lambda l: l.get("event") == "policy", what="policy line")
    assert set(p) == POLICY_FIELDS, p
    _check_verdict({k: p[k] for k in VERDICT_FIELDS})
    assert (p["check"], p["stage"], p["action"], p["code"], p["score"]) == (
        "helo", "helo", "reject", 550, 0), p
    assert p["reply"] == r.raw.decode().rstrip("\r\n"), p


def _section(text, title):
    start = text.index("\n## " + title + "\n")
    end = text.find("\n## ", start + 1)
    return text[start:end if end != -1 else len(text)]


def test_readme_lists_every_check_the_program_writes():
    """Every value the program can write into "check" (core/policy.c's
    policy_check_name() and the proxy's own "protocol") is in README's
    "Reading the logs", and that list names nothing else."""
    root = os.path.join(os.path.dirname(__file__), "..", "..")
    src = open(os.path.join(root, "core", "policy.c")).read()
    body = src[src.index("\npolicy_check_name("):]
    body = body[:body.index("\n}\n")]
    written = set(re.findall(r'return "([a-z_]+)";', body)) - {"none"}
    for name in os.listdir(os.path.join(root, "proxy")):
        if name.endswith(".c"):
            written |= set(re.findall(r'log_cstr\(&l, "check", "([a-z_]+)"\)',
                                      open(os.path.join(root, "proxy", name)).read()))
    assert {"helo", "ip_shield", "auth", "submission", "hijack", "protocol"} <= written, written
    readme = _section(open(os.path.join(root, "README.md")).read(), "Reading the logs")
    m = re.search(r"`check`\s+is\s+((?:`[a-z_]+`(?:,\s+or\s+|,\s+|\s+or\s+))+`[a-z_]+`)", readme)
    assert m, "no list of check values in README's Reading the logs"
    listed = set(re.findall(r"`([a-z_]+)`", m.group(1)))
    assert written - {"relay"} <= listed, written - listed
    assert listed <= written | {"relay"}, listed - written


def test_backend_lost_after_final_dot_still_logs_the_transaction(mxshield, backend):
    """The backend closes between the final dot and its reply: the client
    gets 421 and the transaction still has its line, aborted at data."""
    backend.close_on = {"DOT"}
    c = mxshield.session()
    r = c.transaction("sender@example.net", ["rcpt@example.com"], make_message())
    assert (r.code, r.enh) == (421, "4.4.2"), r
    (t,) = _txn_lines(mxshield)
    assert (t["result"], t["where"]) == ("aborted", "data"), t
    assert "after the final dot" in t["reason"], t
    assert [_addr(x) for x in t["rcpts"]] == ["rcpt@example.com"], t


def test_client_gone_before_the_final_reply_still_logs_the_transaction(mxshield, backend):
    backend.delay = {"DOT": 1.0}
    c = mxshield.session()
    assert c.cmd("MAIL FROM:<sender@example.net>").code == 250
    assert c.cmd("RCPT TO:<rcpt@example.com>").code == 250
    assert c.cmd("DATA").code == 354
    c.send(make_message() + b".\r\n")
    time.sleep(0.2)
    c.close()
    (t,) = _txn_lines(mxshield)
    assert (t["result"], t["where"]) == ("aborted", "data"), t
    assert t["reason"].startswith("client closed the connection"), t
    assert "the backend may have the message" in t["reason"], t


def test_late_replies_of_an_earlier_transaction_change_nothing(mxshield, backend):
    """MAIL, RSET, MAIL, RCPT pipelined: the first MAIL's refusal arrives
    while the second transaction is open and changes nothing there (the
    first was ended by RSET before its reply: aborted at mail); the
    second goes on to DATA."""
    backend.mail_replies = {"first@": b"550 5.7.1 first refused"}
    c = mxshield.session()
    c.send("MAIL FROM:<first@example.net>\r\nRSET\r\nMAIL FROM:<second@example.net>\r\n"
           "RCPT TO:<rcpt@example.com>\r\n")
    assert [r.code for r in c.replies(4)] == [550, 250, 250, 250]
    assert c.cmd("DATA").code == 354
    c.send(make_message() + b".\r\n")
    assert c.reply().code == 250
    first, second = _txn_lines(mxshield, 2)
    assert (_addr(first["mail_from"]), first["result"], first["where"], first["reason"]) == (
        "first@example.net", "aborted", "mail", "client sent RSET"), first
    assert (_addr(second["mail_from"]), second["result"]) == ("second@example.net", "accepted"), second
    assert [_addr(x) for x in second["rcpts"]] == ["rcpt@example.com"], second


def test_nested_mail_refused_leaves_the_transaction_open(mxshield, backend):
    c = mxshield.session()
    assert c.cmd("MAIL FROM:<sender@example.net>").code == 250
    assert c.cmd("MAIL FROM:<again@example.net>").code == 503
    assert c.cmd("RCPT TO:<rcpt@example.com>").code == 250
    assert c.cmd("DATA").code == 354
    c.send(make_message() + b".\r\n")
    assert c.reply().code == 250
    (t,) = _txn_lines(mxshield)
    assert (_addr(t["mail_from"]), t["result"]) == ("sender@example.net", "accepted"), t
    assert [_addr(x) for x in t["rcpts"]] == ["rcpt@example.com"], t


# --------------------------------------------------------------------------
# long lines (README "Reading the logs"): a line is at most 16 KiB and
# always whole; a list that does not fit keeps its first items and says
# how many it left out in "<list>_omitted"; message_id, queue_id, result
# and size are never the ones that go
# --------------------------------------------------------------------------

LOG_LINE_MAX = 16384


LONG_DOMAIN = "d" * 60 + "." + "e" * 60 + ".example"


def _long_rcpts(n=300):
    """n addresses of 190 octets: a local part of 60 (the most RFC 5321
    4.5.3.1.1 allows and mxshield takes) at a domain of 129."""
    return ["%s%03d@%s" % ("r" * 57, i, LONG_DOMAIN) for i in range(n)]


def _long_transaction(mx, backend, msgid, helo="client.example.net"):
    rcpts = _long_rcpts()
    sender = "s" * 60 + "@" + LONG_DOMAIN
    content = make_message(msgid=msgid)
    c = mx.session(helo)
    r = c.transaction(sender, rcpts, content)
    assert r.code == 250, r
    assert c.cmd("QUIT").code == 221
    (m,) = backend.transactions
    assert len(m.rcpts) == len(rcpts)
    return rcpts, sender, content, m


def _raw_lines(mx, pred, n=1):
    smtpkit.wait_for(lambda: len([l for l in mx.stderr().splitlines() if pred(l)]) >= n, 5,
                     what="%d matching lines in:\n%s" % (n, mx.stderr()[-3000:]))
    return [l for l in mx.stderr().splitlines() if pred(l)]


def test_txn_line_with_300_long_recipients_is_json(mxshield, backend):
    mx = mxshield({"limits": {"max_recipients": 2000}})
    helo = ".".join(["h" * 60] * 4) + ".example"
    msgid = "<" + "m" * 200 + "@client.example.net>"
    rcpts, sender, content, m = _long_transaction(mx, backend, msgid, helo)
    (line,) = _raw_lines(mx, lambda l: '"event":"txn"' in l)
    assert len(line.encode()) + 1 <= LOG_LINE_MAX, len(line)
    t = json.loads(line)
    assert (t["result"], t["where"], t["reason"]) == ("accepted", "data", None), line[:2000]
    assert t["message_id"] == msgid
    assert t["queue_id"] == m.queue_id
    assert isinstance(t["size"], int) and len(content) <= t["size"] <= len(content) + 1024, t["size"]
    assert t["helo"] == helo and _addr(t["mail_from"]) == sender
    assert t["verdicts"] == [] and str(t["backend_reply"]).startswith("250"), t["backend_reply"]
    assert isinstance(t["duration_ms"], int)
    # the first recipients, each whole, and the count of the others
    assert 10 <= len(t["rcpts"]) < len(rcpts), len(t["rcpts"])
    assert [_addr(x) for x in t["rcpts"]] == rcpts[:len(t["rcpts"])]
    assert t["rcpts_omitted"] == len(rcpts) - len(t["rcpts"])
    assert "truncated" not in t
    # an ordinary line has no count
    c = mx.session()
    assert c.transaction("a@example.net", ["rcpt@example.com"], make_message()).code == 250
    short = json.loads(_raw_lines(mx, lambda l: '"event":"txn"' in l, 2)[1])
    assert [_addr(x) for x in short["rcpts"]] == ["rcpt@example.com"]
    assert "rcpts_omitted" not in short, short


def _text_fields(line):
    """ts, event and the top-level key=value pairs of a text line; a
    value is "..."-quoted, a [list] or a bare word."""
    m = re.match(r"^(\S+) (\S+)", line)
    assert m, line
    out = {"ts": m.group(1), "event": m.group(2)}
    rest = line[m.end():]
    pat = re.compile(r' ([a-z_]+)=("(?:[^"\\]|\\.)*"|\[[^\]]*\]|[^ ]*)')
    pos = 0
    while pos < len(rest):
        f = pat.match(rest, pos)
        assert f, "not key=value at %r" % rest[pos:pos + 80]
        out[f.group(1)] = f.group(2)
        pos = f.end()
    return out


def test_txn_line_with_300_long_recipients_in_text_format(mxshield, backend):
    mx = mxshield({"log": {"format": "text"}, "limits": {"max_recipients": 2000}})
    msgid = "<long-text-1@client.example.net>"
    rcpts, sender, content, m = _long_transaction(mx, backend, msgid)
    (line,) = _raw_lines(mx, lambda l: re.match(r"^\S+ txn ", l))
    assert len(line.encode()) + 1 <= LOG_LINE_MAX, len(line)
    f = _text_fields(line)
    assert RFC3339_UTC.match(f["ts"]), f["ts"]
    assert (f["result"], f["message_id"], f["queue_id"]) == ("accepted", msgid, m.queue_id), f
    assert len(content) <= int(f["size"]) <= len(content) + 1024, f["size"]
    assert f["rcpts"].startswith("[") and f["rcpts"].endswith("]"), f["rcpts"][:200]
    listed = f["rcpts"][1:-1].split(",")
    assert [_addr(x) for x in listed] == rcpts[:len(listed)]
    assert int(f["rcpts_omitted"]) == len(rcpts) - len(listed) > 0, f["rcpts_omitted"]
    assert "truncated" not in f


# --------------------------------------------------------------------------
# a session's id is in its "sid" field, never in the msg text
# --------------------------------------------------------------------------

# msg texts allowed to begin with "sid=": none, every session event
# carries its sid as a field (log_sid()/log_sid_client(), proxy/log.h).
SID_IN_MSG_KNOWN = []


def _sid_in_msg_unknown(lines):
    """Lines whose msg holds "sid=" other than the known ones above."""
    out = []
    for l in lines:
        msg = str(l.get("msg", ""))
        if "sid=" not in msg:
            continue
        if not any(re.match(r"^sid=[0-9a-f]{16}(: | )" + pat, msg) for _, pat in SID_IN_MSG_KNOWN):
            out.append(l)
    return out


def test_session_events_carry_sid_as_a_field(mxshield, backend, certs):
    """A hijack disabling, a failed TLS handshake, a backend lost after
    the final dot and an unreachable backend: every line is JSON, and
    no msg says "sid=" but the known ones of files under rework."""
    backend.capabilities = list(AUTH_CAPS)
    mx = mxshield(conftest.merge(tlsutil.tls_config(certs, "starttls"),
                                 {"hijack": {"enabled": True, "max_messages": 1, "window": 60}}))
    # hijack: the second message of one identity disables it
    a = mx.session("hijacked.example.net")
    auth_plain(a, "alice@example.com")
    assert a.transaction("alice@example.com", ["rcpt@example.com"], make_message()).code == 250
    r = a.cmd("MAIL FROM:<alice@example.com>")
    assert (r.code, r.enh) == (550, "5.7.1"), r
    assert a.cmd("QUIT").code == 221
    # a TLS handshake that fails: plaintext after the 220 to STARTTLS
    b = mx.session("tls.example.net")
    assert b.cmd("STARTTLS").code == 220
    b.send(b"MAIL FROM:<x@example.net>\r\n")
    closed, got = tlsutil.wait_closed_raw(b.sock, 4)
    assert closed and b"250" not in got, got
    # the backend gone between the final dot and its reply
    backend.close_on = {"DOT"}
    c = mx.session("lost.example.net")
    r = c.transaction("sender@example.net", ["rcpt@example.com"], make_message())
    assert (r.code, r.enh) == (421, "4.4.2"), r
    mx.wait_log(lambda l: l.get("event") == "session" and l.get("helo") == "lost.example.net",
                what="session line of the lost backend")
    mx.wait_log(lambda l: l.get("event") == "tls" and "handshake failed" in l.get("msg", ""),
                what="TLS handshake failure")
    # a backend nobody listens on
    down = mxshield(backend_port=smtpkit.free_port())
    d = down.client()
    assert d.reply().code == 421
    down.wait_log(lambda l: l.get("event") == "session", what="session line")

    for inst in (mx, down):
        assert inst.broken_log_lines() == []
    (hj,) = mx.wait_log(lambda l: l.get("event") == "hijack" and l.get("action") == "disabled",
                        what="hijack line")
    (sa,) = [l for l in mx.logs("session") if l.get("helo") == "hijacked.example.net"]
    assert hj["sid"] == sa["sid"] and re.match(r"^[0-9a-f]{16}$", hj["sid"]), hj
    lines = mx.log_lines() + down.log_lines()
    assert not _sid_in_msg_unknown(lines), _sid_in_msg_unknown(lines)
    # log_sid() lines: the id in its field, before msg
    for l in lines:
        if "sid" in l and "msg" in l:
            assert re.match(r"^[0-9a-f]{16}$", l["sid"]) and "sid=" not in l["msg"], l
