"""
Size limits with exemptions (size_limits, README "Size limits"):

  - SIZE= above the sender's limit: 552 5.3.4 at MAIL, never relayed.
  - A counted size (after dot-unstuffing) above the limit: 552 5.3.4
    after the final dot; the backend leg is dropped without a final dot
    (nothing stored) and a fresh one serves the next message; a limit
    passed inside the held header section: RSET, never DATA.
  - Exemptions: the authenticated identity; the envelope sender only from
    an authenticated or trusted client; a recipient.
  - size_limits_mode = "monitor": logged, delivered.
  - EHLO's SIZE shows the smaller of the backend's and ours.
  - A 50 MB message over the limit is discarded in constant memory.
  - --check-config accepts size_limits and refuses bad ones (file:line).
"""

import subprocess

import pytest

import conftest
from policykit import (AUTH_CAPS, assert_not_relayed, assert_relayed, auth_plain, commands,
                       enforced, monitored, refused, session, start, verdict, verdicts, wait_txn)
from smtpkit import make_message

LIMIT = 20000
TOO_BIG = "552 5.3.4 Message size exceeds fixed limit"
CFG = {"local_domains": ["example.com"], "trusted_networks": ["127.0.0.8"],
       "size_limits": [{"max": LIMIT, "except": ["boss@example.com", "@partner.example.net"]}]}
MB = 1024 * 1024


def big(n=3 * LIMIT, subject="big"):
    """A message whose counted size is over n octets."""
    return make_message(subject=subject, body=(b"b" * 98 + b"\r\n") * (n // 100 + 1))


def send(c, content):
    """DATA, content (no line starts with a dot), final dot: the reply."""
    r = c.cmd("DATA")
    assert r.code == 354, r
    c.send(content + b".\r\n")
    return c.reply(timeout=30)


def size_verdicts(line):
    return [v for v in verdicts(line, "size") if v.get("code")]


def test_size_param_over_the_limit_refused_at_mail(mxshield, backend):
    mx = start(mxshield, CFG)
    c = session(mx, "127.0.0.3")
    refused(c.cmd("MAIL FROM:<a@example.net> SIZE=%d" % (LIMIT + 1)), TOO_BIG)
    assert_not_relayed(backend, "MAIL")
    (line,) = wait_txn(mx)
    v = verdict(line, "size", 552, TOO_BIG)
    assert enforced(v) and "SIZE=20001" in v["reason"], v
    assert line["result"] == "rejected" and line["where"] == "mail", line
    # at the limit: accepted and delivered
    assert c.cmd("MAIL FROM:<a@example.net> SIZE=%d" % LIMIT).code == 250
    assert c.cmd("RCPT TO:<rcpt@example.com>").code == 250
    assert send(c, make_message()).code == 250
    backend.wait_messages(1)


def test_counted_size_over_the_limit_refused_after_the_dot(mxshield, backend):
    mx = start(mxshield, CFG)
    c = session(mx, "127.0.0.3")
    assert c.cmd("MAIL FROM:<a@example.net>").code == 250
    assert c.cmd("RCPT TO:<rcpt@example.com>").code == 250
    refused(send(c, big()), TOO_BIG)
    c.assert_quiet(0.3)
    assert backend.transactions == []
    # the leg that got DATA was closed without a final dot
    first = backend.all_transcripts()[0]
    assert b"DATA\r\n" in first and b"\r\n.\r\n" not in first
    backend.wait_for(lambda: backend.sessions[0].closed, 5, "first leg closed")
    lines = wait_txn(mx, lambda l: l["result"] == "rejected")
    v = verdict(lines[0], "size", 552, TOO_BIG)
    assert enforced(v) and "size_limits[0].max (20000 octets)" in v["reason"], v
    assert not verdicts(lines[0], "protocol"), lines[0]
    assert lines[0]["size"] > LIMIT, lines[0]
    # a fresh leg serves the next message
    small = make_message(subject="small")
    r = c.transaction("a@example.net", ["rcpt@example.com"], small)
    (m,) = backend.wait_messages(1)
    assert r.code == 250 and r.text.endswith(m.queue_id)
    assert m.data.endswith(small)
    assert len(backend.sessions) == 2


def test_limit_passed_inside_the_header_section_gets_rset(mxshield, backend):
    cfg = dict(CFG, size_limits=[{"max": 300}])
    mx = start(mxshield, cfg)
    c = session(mx, "127.0.0.3")
    assert c.cmd("MAIL FROM:<a@example.net>").code == 250
    assert c.cmd("RCPT TO:<rcpt@example.com>").code == 250
    content = make_message(extra_headers=["X-Pad: " + "p" * 400])
    refused(send(c, content), TOO_BIG)
    assert_relayed(backend, "RSET")
    assert_not_relayed(backend, "DATA")
    assert backend.transactions == []
    assert len(backend.sessions) == 1


def test_authenticated_identity_is_exempt(mxshield, backend):
    backend.capabilities = list(AUTH_CAPS)
    mx = start(mxshield, CFG)
    c = session(mx, "127.0.0.3")
    auth_plain(c, "boss@example.com")
    assert c.cmd("MAIL FROM:<boss@example.com> SIZE=%d" % (3 * LIMIT)).code == 250
    assert c.cmd("RCPT TO:<someone@example.net>").code == 250
    content = big()
    assert send(c, content).code == 250
    (m,) = backend.wait_messages(1)
    assert m.data.endswith(content)


def test_partner_domain_identity_is_exempt(mxshield, backend):
    backend.capabilities = list(AUTH_CAPS)
    mx = start(mxshield, CFG)
    c = session(mx, "127.0.0.3")
    auth_plain(c, "anyone@partner.example.net")
    assert c.cmd("MAIL FROM:<a@example.net>").code == 250
    assert c.cmd("RCPT TO:<rcpt@example.com>").code == 250
    assert send(c, big()).code == 250
    backend.wait_messages(1)


def test_envelope_sender_exempt_only_when_trusted(mxshield, backend):
    mx = start(mxshield, CFG)
    # forged from an untrusted, unauthenticated client: limited
    c = session(mx, "127.0.0.3")
    refused(c.cmd("MAIL FROM:<boss@example.com> SIZE=%d" % (3 * LIMIT)), TOO_BIG)
    assert c.cmd("MAIL FROM:<boss@example.com>").code == 250
    assert c.cmd("RCPT TO:<rcpt@example.com>").code == 250
    refused(send(c, big()), TOO_BIG)
    assert backend.transactions == []
    # the same sender from trusted_networks: exempt
    t = session(mx, "127.0.0.8")
    assert t.cmd("MAIL FROM:<boss@example.com> SIZE=%d" % (3 * LIMIT)).code == 250
    assert t.cmd("RCPT TO:<rcpt@example.com>").code == 250
    content = big(subject="trusted")
    assert send(t, content).code == 250
    (m,) = backend.wait_messages(1)
    assert m.data.endswith(content)
    # trusted, another sender: limited like anyone
    refused(t.cmd("MAIL FROM:<other@example.net> SIZE=%d" % (3 * LIMIT)), TOO_BIG)


def test_envelope_sender_exempt_when_authenticated_as_another(mxshield, backend):
    backend.capabilities = list(AUTH_CAPS)
    mx = start(mxshield, CFG)
    c = session(mx, "127.0.0.3")
    auth_plain(c, "assistant@example.com")
    assert c.cmd("MAIL FROM:<x@partner.example.net> SIZE=%d" % (3 * LIMIT)).code == 250
    assert c.cmd("RCPT TO:<rcpt@example.com>").code == 250
    assert send(c, big()).code == 250
    backend.wait_messages(1)


def test_recipient_is_exempt(mxshield, backend):
    mx = start(mxshield, CFG)
    c = session(mx, "127.0.0.3")
    # at MAIL only the sender side counts: the recipients come later
    refused(c.cmd("MAIL FROM:<a@example.net> SIZE=%d" % (3 * LIMIT)), TOO_BIG)
    assert c.cmd("MAIL FROM:<a@example.net>").code == 250
    assert c.cmd("RCPT TO:<rcpt@example.com>").code == 250
    assert c.cmd("RCPT TO:<Boss@Example.com>").code == 250
    content = big()
    assert send(c, content).code == 250
    (m,) = backend.wait_messages(1)
    assert m.data.endswith(content)
    line = wait_txn(mx, lambda l: l["result"] == "accepted")[0]
    assert size_verdicts(line) == [], line


def test_monitor_mode_logs_and_delivers(mxshield, backend):
    mx = start(mxshield, dict(CFG, size_limits_mode="monitor"))
    c = session(mx, "127.0.0.3")
    assert c.cmd("MAIL FROM:<a@example.net> SIZE=%d" % (3 * LIMIT)).code == 250
    assert_relayed(backend, "MAIL FROM:<a@example.net> SIZE=%d" % (3 * LIMIT))
    assert c.cmd("RCPT TO:<rcpt@example.com>").code == 250
    content = big()
    assert send(c, content).code == 250
    (m,) = backend.wait_messages(1)
    assert m.data.endswith(content)
    (line,) = wait_txn(mx, lambda l: l["result"] == "accepted")
    vs = size_verdicts(line)
    assert len(vs) == 2 and all(monitored(v) for v in vs), line
    assert [v["reply"] for v in vs] == [TOO_BIG, TOO_BIG]
    assert "SIZE=60000" in vs[0]["reason"] and "octets or more" in vs[1]["reason"], vs


def test_top_level_monitor_mode_applies(mxshield, backend):
    mx = start(mxshield, dict(CFG, mode="monitor"))
    c = session(mx, "127.0.0.3")
    assert c.cmd("MAIL FROM:<a@example.net> SIZE=%d" % (3 * LIMIT)).code == 250
    assert c.cmd("RCPT TO:<rcpt@example.com>").code == 250
    assert send(c, big()).code == 250
    backend.wait_messages(1)


def ehlo_size(r):
    return [l for l in r.lines[1:] if l.upper().startswith("SIZE")]


def test_ehlo_size_shows_the_limit(mxshield, backend):
    mx = start(mxshield, CFG)
    c = mx.client(source="127.0.0.3")
    assert c.reply().code == 220
    r = c.ehlo()
    assert ehlo_size(r) == ["SIZE %d" % LIMIT], r.lines
    assert "PIPELINING" in r.lines and "8BITMIME" in r.lines, r.lines


def test_ehlo_size_keeps_a_smaller_backend_limit(mxshield, backend):
    backend.capabilities = ["PIPELINING", "SIZE 5000", "8BITMIME"]
    mx = start(mxshield, CFG)
    c = mx.client()
    assert c.reply().code == 220
    assert ehlo_size(c.ehlo()) == ["SIZE 5000"]


def test_ehlo_size_untouched_without_limits(mxshield, backend):
    mx = start(mxshield, {"local_domains": ["example.com"]})
    c = mx.client()
    assert c.reply().code == 220
    assert ehlo_size(c.ehlo()) == ["SIZE 104857600"]


def test_ehlo_size_after_auth_as_exempt(mxshield, backend):
    backend.capabilities = list(AUTH_CAPS)
    mx = start(mxshield, dict(CFG, size_limits=[{"max": LIMIT, "except": ["boss@example.com"]},
                                                {"max": 10 * LIMIT}]))
    c = session(mx, "127.0.0.3")
    auth_plain(c, "boss@example.com")
    assert ehlo_size(c.ehlo()) == ["SIZE %d" % (10 * LIMIT)]


def _block():
    line = (b"0123456789abcdefghijklmnopqrstuvwxyz" * 2 + b"\r\n")
    return line * (MB // len(line))


def test_50mb_over_the_limit_in_constant_memory(mxshield, backend, release_bin):
    mx = mxshield(dict(CFG, size_limits=[{"max": 2000000}]), binary=release_bin)
    backend.keep_transcript = False
    c = mx.session(timeout=120)
    assert c.cmd("MAIL FROM:<big@example.net>").code == 250
    assert c.cmd("RCPT TO:<rcpt@example.com>").code == 250
    assert c.cmd("DATA").code == 354
    c.send(b"From: <big@example.net>\r\nSubject: large\r\n\r\n")
    block = _block()
    for _ in range(50):
        c.send(block)
    c.send(b".\r\n")
    refused(c.reply(timeout=120), TOO_BIG)
    assert backend.transactions == []
    peak = mx.peak_rss_kb()
    assert peak < 32 * 1024, "peak RSS %d kB while discarding 50 MB" % peak
    (line,) = wait_txn(mx, lambda l: l["result"] == "rejected")
    assert line["size"] >= 50 * len(block), line
    r = c.transaction("a@example.net", ["rcpt@example.com"], make_message())
    assert r.code == 250
    backend.wait_messages(1)


def check_config(tmp_path, text):
    p = tmp_path / "mxshield.conf"
    p.write_text(text)
    r = subprocess.run([conftest.MXSHIELD_BIN, "--check-config", "-c", str(p)],
                       capture_output=True, text=True, timeout=30,
                       env=conftest.sanitizer_env())
    return p, r.returncode, r.stdout + r.stderr


def test_check_config_accepts_size_limits(tmp_path):
    p, rc, out = check_config(tmp_path, 'backend = { client_info = "none"; };\n'
                              'size_limits = ( { max = 2000000; except = [ "boss@example.com", '
                              '"@partner.example.net" ]; },\n'
                              '                { max = 50000000; } );\n'
                              'size_limits_mode = "monitor";\n')
    assert rc == 0 and "%s: OK" % p in out, out


@pytest.mark.parametrize("text,line,key,what", [
    ('size_limits = (\n  { max = 0; } );\n', 2, "size_limits[0].max", ""),
    ('size_limits = (\n  { max = 10; },\n  { except = [ "a@example.com" ]; } );\n', 3,
     "size_limits[1].max", "missing"),
    ('size_limits = ( { max = 10;\n  except = [ "not-an-address" ]; } );\n', 2,
     "size_limits[0].except[0]", '"not-an-address": not an address'),
    ('size_limits = ( { max = 10;\n  except = [ "a@nodot" ]; } );\n', 2,
     "size_limits[0].except[0]", '"a@nodot": not a domain name'),
    ('\nsize_limits_mode = "off";\n', 2, "size_limits_mode", '"off" is not one of enforce, monitor'),
])
def test_check_config_refuses_bad_size_limits(tmp_path, text, line, key, what):
    p, rc, out = check_config(tmp_path, text)
    assert rc == 1, out
    assert ("%s:%d: %s: %s" % (p, line, key, what)) in out, out


def test_dry_run_applies_size_limits(tmp_path):
    from test_dryrun import dry, result, step, verdict_line, write_conf
    conf = write_conf(tmp_path, {"local_domains": ["example.com"],
                                 "size_limits": [{"max": 1000, "except": ["boss@example.com"]}]})
    rc, out, _ = dry(conf, "--client", "192.0.2.1", "--helo", "client.example.net",
                     "--from", "<a@example.net> SIZE=5000", "--rcpt", "rcpt@example.com")
    reply, details = step(out, "MAIL FROM:<a@example.net> SIZE=5000")
    assert reply == TOO_BIG, out
    verdict_line(details, check="size", action="reject", stage="mail", code="552")
    assert rc == 1 and "refused at MAIL" in result(out), out
    msg = tmp_path / "big.eml"
    msg.write_bytes(big(3000))
    rc, out, _ = dry(conf, "--client", "192.0.2.1", "--helo", "client.example.net",
                     "--from", "a@example.net", "--rcpt", "rcpt@example.com",
                     "--message", str(msg))
    assert rc == 1 and TOO_BIG in out, out
    assert "check=size action=reject stage=data code=552" in out, out
    # to the boss: exempt
    rc, out, _ = dry(conf, "--client", "192.0.2.1", "--helo", "client.example.net",
                     "--from", "a@example.net", "--rcpt", "boss@example.com",
                     "--message", str(msg))
    assert rc == 0 and TOO_BIG not in out, out
