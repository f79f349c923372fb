"""
mxshield --test: a dry run of one session, offline. It prints each
command ("> "), the reply it would get ("< ": mxshield's own reply as the
client would read it, or "NNN (the backend's ... would be relayed)") and
the verdicts behind it, then a "result:" line; exit status 0 when the
message would be accepted for a recipient (without --rcpt: when nothing
was refused), 1 when refused, 2 for usage and configuration errors. No
socket is opened and nothing is written.

The replay tests run the same commands through the live mxshield with
the same configuration file and compare reply for reply, so the dry run
cannot drift from the live path. Expected texts are typed by hand.
"""

import os
import socket
import subprocess
import time

import pytest

import smtpkit
from conftest import MXSHIELD_BIN, SANITIZER_MARKS, libconfig_text, merge, sanitizer_env
from policykit import AUTH_CAPS, SECRET, b64, start

LOCAL = ["example.com", "example.org"]
SHIELD = {
    "local_domains": LOCAL,
    "ip_shield": {"enabled": True, "entries": [
        {"domain": "$LOCALDOMAIN$", "networks": ["192.168.0.*", "127.0.0.2"]}]},
}
BARE = "is not valid: an IP address must be in brackets"
AUTH_REQ = "530 5.7.0 Authentication required"
NOT_OWNED = "553 5.7.1 Sender address not owned by the authenticated user"
BARE_LF = "550 5.5.2 Bare <CR> or <LF> in message not allowed"


def shield_req(ip):
    return "530 5.7.0 Authentication required to send mail from " + ip


def write_conf(tmp_path, overrides=None, backend_port=None):
    """A configuration file like the fixture's: one 127.0.0.1 listener;
    the backend a port nobody listens on unless backend_port is given."""
    base = {
        "hostname": "mx.test.example",
        "workers": 1,
        "listen": [{"address": "127.0.0.1", "port": smtpkit.free_port()}],
        "backend": {"address": "127.0.0.1",
                    "port": backend_port or smtpkit.free_port(), "connect_timeout": 3},
        "log": {"format": "json", "level": "info"},
    }
    path = tmp_path / "mxshield.conf"
    path.write_text(libconfig_text(merge(base, overrides or {})))
    return str(path)


def dry(conf, *args, timeout=30):
    """Run mxshield -c conf --test args; (exit status, stdout, stderr)."""
    if not os.path.exists(MXSHIELD_BIN):
        pytest.skip("mxshield binary %s not built" % MXSHIELD_BIN)
    r = subprocess.run([MXSHIELD_BIN, "-c", conf, "--test"] + list(args),
                       stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout,
                       env=sanitizer_env())
    out, err = r.stdout.decode("utf-8", "replace"), r.stderr.decode("utf-8", "replace")
    for mark in SANITIZER_MARKS:
        assert mark not in err, err
    return r.returncode, out, err


def steps(out):
    """[command, reply, [detail lines]] per step; the greeting's command
    is None. Header lines before the first step are left out."""
    res = []
    for line in out.splitlines():
        if line.startswith("> "):
            res.append([line[2:], None, []])
        elif line.startswith("< "):
            if not res or res[-1][1] is not None:
                res.append([None, line[2:], []])
            else:
                res[-1][1] = line[2:]
        elif line.startswith("  ") and res:
            res[-1][2].append(line.strip())
    return res


def step(out, command):
    """The one step whose command is exactly command: (reply, details)."""
    got = [s for s in steps(out) if s[0] == command]
    assert len(got) == 1, "want one %r step in:\n%s" % (command, out)
    return got[0][1], got[0][2]


def relayed(reply, code):
    return reply == "%d (the backend's reply would be relayed)" % code


def verdict_line(details, **fields):
    """The one "verdict:" detail with these key=value fields."""
    want = ["%s=%s" % kv for kv in fields.items()]
    got = [d for d in details if d.startswith("verdict:") and all(w in d.split() for w in want)]
    assert len(got) == 1, "want one verdict with %r in %r" % (want, details)
    return got[0]


def result(out):
    lines = [l for l in out.splitlines() if l.startswith("result: ")]
    assert len(lines) == 1, out
    return lines[0]


def commands_after(out, command):
    names = [s[0] for s in steps(out)]
    return names[names.index(command) + 1:]


# --------------------------------------------------------------------------
# the controls, offline
# --------------------------------------------------------------------------

def test_ip_shield_refuses_a_client_outside(tmp_path):
    conf = write_conf(tmp_path, SHIELD)
    rc, out, err = dry(conf, "--client", "203.0.113.9", "--ehlo", "x.example",
                       "--from", "a@example.com", "--rcpt", "b@example.com")
    assert rc == 1, (rc, out, err)
    assert err == "", err
    assert out.startswith("mxshield --test: a dry run; no socket is opened"), out
    s = steps(out)
    assert s[0][:2] == [None, "220 (the backend's greeting would be relayed)"], s
    reply, details = step(out, "EHLO x.example")
    assert relayed(reply, 250), reply
    reply, details = step(out, "MAIL FROM:<a@example.com>")
    assert reply == shield_req("203.0.113.9"), out
    v = verdict_line(details, check="ip_shield", action="reject", stage="mail", code="530")
    assert v.endswith("reason=sender domain example.com is shielded and client 203.0.113.9 "
                      "is in none of its networks"), v
    assert commands_after(out, "MAIL FROM:<a@example.com>") == [], out
    assert result(out) == "result: refused at MAIL (exit status 1)", out


def test_ip_shield_accepts_a_client_inside(tmp_path):
    conf = write_conf(tmp_path, SHIELD)
    rc, out, err = dry(conf, "--client", "192.168.0.77", "--ehlo", "x.example",
                       "--from", "a@example.com", "--rcpt", "b@example.com")
    assert rc == 0, (rc, out, err)
    reply, details = step(out, "MAIL FROM:<a@example.com>")
    assert relayed(reply, 250) and details == [], (reply, details)
    reply, details = step(out, "RCPT TO:<b@example.com>")
    assert relayed(reply, 250) and details == [], (reply, details)
    reply, details = step(out, "DATA")
    assert reply.startswith("354 (mxshield's own"), reply
    assert details == ["no --message: the message checks were not run"], details
    assert result(out) == ("result: accepted for 1 of 1 recipients, if the backend agrees "
                           "(exit status 0)"), out


def test_trusted_client_is_exempt(tmp_path):
    conf = write_conf(tmp_path, dict(SHIELD, trusted_networks=["10.0.0.0/8"],
                                     helo={"reject_bare_ip": True}))
    rc, out, err = dry(conf, "--client", "10.1.2.3", "--helo", "192.0.2.1",
                       "--from", "a@example.com", "--rcpt", "b@example.com")
    assert rc == 0, (rc, out, err)
    assert "  client:   10.1.2.3 (in trusted_networks: no policy check applies)" in out, out
    for cmd in ("HELO 192.0.2.1", "MAIL FROM:<a@example.com>", "RCPT TO:<b@example.com>"):
        reply, details = step(out, cmd)
        assert relayed(reply, 250), (cmd, reply)
        assert details == ["policy: pass (client in trusted_networks)"], (cmd, details)


@pytest.mark.parametrize("at", ["helo", "mail", "rcpt"])
def test_helo_bare_ip_refused_where_reject_at_says(tmp_path, at):
    conf = write_conf(tmp_path, {"helo": {"reject_bare_ip": True, "reject_at": at}})
    rc, out, err = dry(conf, "--client", "203.0.113.9", "--helo", "192.0.2.1",
                       "--from", "a@example.net",
                       "--rcpt", "b@example.com", "--rcpt", "postmaster@example.com")
    reply, details = step(out, "HELO 192.0.2.1")
    if at == "helo":
        assert reply == "501 5.5.2 HELO 192.0.2.1 " + BARE, out
        verdict_line(details, check="helo", action="reject", stage="helo", code="501")
        # the refused HELO does not count: MAIL wants one
        reply, details = step(out, "MAIL FROM:<a@example.net>")
        assert reply == "503 5.5.1 Send HELO/EHLO first", out
        assert rc == 1, (rc, out)
        return
    assert relayed(reply, 250), out
    verdict_line(details, check="helo", action="defer", stage=at, code="550")
    assert "(given at %s: 550 5.7.1 HELO 192.0.2.1 %s)" % (at, BARE) in details, details
    reply, details = step(out, "MAIL FROM:<a@example.net>")
    if at == "mail":
        assert reply == "550 5.7.1 HELO 192.0.2.1 " + BARE, out
        verdict_line(details, check="helo", action="reject", stage="mail", code="550")
        assert rc == 1, (rc, out)
        return
    assert relayed(reply, 250), out
    reply, details = step(out, "RCPT TO:<b@example.com>")
    assert reply == "550 5.7.1 HELO 192.0.2.1 " + BARE, out
    verdict_line(details, check="helo", action="reject", stage="rcpt", code="550")
    reply, details = step(out, "RCPT TO:<postmaster@example.com>")
    assert relayed(reply, 250), out          # postmaster is always reachable
    assert rc == 0, (rc, out)
    assert result(out).startswith("result: accepted for 1 of 2 recipients"), out


def test_local_sender_needs_auth_and_passes_with_it(tmp_path):
    conf = write_conf(tmp_path, {"local_domains": LOCAL,
                                 "auth": {"require_for_local_senders": True}})
    args = ["--client", "203.0.113.9", "--ehlo", "x.example",
            "--from", "alice@example.com", "--rcpt", "bob@example.net"]
    rc, out, err = dry(conf, *args)
    assert rc == 1, (rc, out, err)
    reply, details = step(out, "MAIL FROM:<alice@example.com>")
    assert reply == AUTH_REQ, out
    verdict_line(details, check="auth", action="reject", stage="mail", code="530")

    rc, out, err = dry(conf, *(args + ["--auth", "alice@example.com"]))
    assert rc == 0, (rc, out, err)
    reply, details = step(out, "AUTH PLAIN ... (as alice@example.com)")
    assert reply == ("235 (the backend's reply, assumed to accept the password, "
                     "would be relayed)"), out
    assert details[0] == "identity alice@example.com bound at the backend's 235", details
    assert details[1] == "hijack: off", details
    reply, details = step(out, "MAIL FROM:<alice@example.com>")
    assert relayed(reply, 250) and details == [], out


def test_auth_before_tls_refused_when_required(tmp_path):
    conf = write_conf(tmp_path, {"auth": {"require_tls": True}})
    rc, out, err = dry(conf, "--client", "203.0.113.9", "--ehlo", "x.example",
                       "--auth", "alice@example.com")
    assert rc == 1, (rc, out, err)
    reply, _ = step(out, "AUTH PLAIN ... (as alice@example.com)")
    assert reply == "538 5.7.11 Encryption required for requested authentication mechanism"
    assert result(out) == "result: a command was refused (exit status 1)", out


def test_envelope_mismatch_with_auth(tmp_path):
    conf = write_conf(tmp_path, {"local_domains": LOCAL, "auth": {"match_envelope": True}})
    rc, out, err = dry(conf, "--client", "203.0.113.9", "--ehlo", "x.example",
                       "--auth", "alice@example.com", "--from", "bob@example.com",
                       "--rcpt", "carol@example.net")
    assert rc == 1, (rc, out, err)
    reply, details = step(out, "MAIL FROM:<bob@example.com>")
    assert reply == NOT_OWNED, out
    v = verdict_line(details, check="auth", action="reject", stage="mail", code="553")
    assert v.endswith("reason=identity alice@example.com may not send as bob@example.com"), v


def test_monitor_mode_says_monitor_and_relays(tmp_path):
    conf = write_conf(tmp_path, dict(SHIELD, mode="monitor"))
    rc, out, err = dry(conf, "--client", "203.0.113.9", "--ehlo", "x.example",
                       "--from", "a@example.com", "--rcpt", "b@example.com")
    assert rc == 0, (rc, out, err)
    assert "  config:   %s (mode = monitor)" % conf in out, out
    reply, details = step(out, "MAIL FROM:<a@example.com>")
    assert relayed(reply, 250), out
    verdict_line(details, check="ip_shield", action="monitor", stage="mail", code="530")
    assert ("(mode = monitor: logged, not carried out; the reply would be: %s)"
            % shield_req("203.0.113.9")) in details, details


def test_monitored_check_does_not_hide_an_enforced_one(tmp_path):
    # IP Shield only watched, the local-sender rule enforced: the dry run
    # walks the checks as the live session does, so both show, and the
    # second one is the reply
    conf = write_conf(tmp_path, dict(SHIELD, ip_shield=dict(SHIELD["ip_shield"], mode="monitor"),
                                     auth={"require_for_local_senders": True}))
    rc, out, err = dry(conf, "--client", "203.0.113.9", "--ehlo", "x.example",
                       "--from", "a@example.com", "--rcpt", "b@example.com")
    assert rc == 1, (rc, out, err)
    reply, details = step(out, "MAIL FROM:<a@example.com>")
    assert reply == AUTH_REQ, out
    verdict_line(details, check="ip_shield", action="monitor", stage="mail", code="530")
    verdict_line(details, check="auth", action="reject", stage="mail", code="530")


def test_submission_listener_chosen_by_port(tmp_path):
    sub = smtpkit.free_port()
    conf = write_conf(tmp_path, {"listen": [
        {"address": "127.0.0.1", "port": smtpkit.free_port()},
        {"address": "127.0.0.1", "port": sub, "submission": True}]})
    args = ["--client", "203.0.113.9", "--ehlo", "x.example", "--from", "a@example.net"]
    rc, out, _ = dry(conf, *args)
    assert rc == 0, out                             # port 25 style: no AUTH needed
    rc, out, _ = dry(conf, "--port", str(sub), *args)
    assert rc == 1, out
    assert "(tls = none, submission)" in out, out
    reply, details = step(out, "MAIL FROM:<a@example.net>")
    assert reply == AUTH_REQ, out
    verdict_line(details, check="submission", action="reject", code="530")


# --------------------------------------------------------------------------
# the message
# --------------------------------------------------------------------------

def message_args(path):
    return ["--client", "203.0.113.9", "--ehlo", "x.example", "--from", "a@example.net",
            "--rcpt", "b@example.com", "--message", str(path)]


MESSAGE_STEP = "(the message of %s, sent as it is, then the final dot)"


def test_message_with_bare_lf_is_refused(tmp_path):
    conf = write_conf(tmp_path)
    msg = tmp_path / "smuggle.eml"
    msg.write_bytes(b"Subject: x\r\n\r\nhi\n.\nMAIL FROM:<evil@example.net>\r\n")
    rc, out, err = dry(conf, *message_args(msg))
    assert rc == 1, (rc, out, err)
    reply, details = step(out, MESSAGE_STEP % msg)
    assert reply == BARE_LF, out
    verdict_line(details, check="protocol", action="reject", code="550")
    assert result(out) == ("result: the message is refused after its final dot "
                           "(exit status 1)"), out


@pytest.mark.parametrize("content,reply", [
    (b"Subject: x\r\n\r\nnul \x00 here\r\n", "550 5.6.0 NUL character in message"),
    (b"X-Pad: " + b"a" * 2000 + b"\r\n" + b"Subject: x\r\n\r\nbody\r\n",
     "552 5.3.4 Message header section too big"),
], ids=["nul", "header-too-big"])
def test_message_stream_refusals(tmp_path, content, reply):
    conf = write_conf(tmp_path, {"limits": {"max_header_bytes": 1024}})
    msg = tmp_path / "m.eml"
    msg.write_bytes(content)
    rc, out, _ = dry(conf, *message_args(msg))
    assert rc == 1, out
    assert step(out, MESSAGE_STEP % msg)[0] == reply, out


def test_clean_message_passes_and_shows_what_is_added(tmp_path):
    conf = write_conf(tmp_path)
    msg = tmp_path / "ok.eml"
    msg.write_bytes(b"Message-ID: <42@client.example>\r\nSubject: hi\r\n\r\nbody\r\n")
    rc, out, err = dry(conf, *message_args(msg))
    assert rc == 0, (rc, out, err)
    reply, details = step(out, MESSAGE_STEP % msg)
    assert reply == "250 (the backend's reply to the final dot would be relayed)", out
    assert "header section: 46 octets (limits.max_header_bytes = 262144)" in details, details
    assert "message_id: <42@client.example>" in details, details
    assert "Received: from x.example ([203.0.113.9])" in details, details


def test_unix_text_file_is_sent_as_a_client_would(tmp_path):
    conf = write_conf(tmp_path)
    msg = tmp_path / "unix.eml"
    msg.write_bytes(b"Subject: unix\nMessage-ID: <7@x>\n\n.hidden line\nbody\n")
    rc, out, err = dry(conf, *message_args(msg))
    assert rc == 0, (rc, out, err)
    cmds = [s[0] for s in steps(out)]
    assert any(c and c.startswith("(the message of %s, a text file without CR" % msg)
               for c in cmds), out
    assert "message_id: <7@x>" in out, out
    assert "the data ended early" not in out, out


def test_bare_lf_normalized_when_configured(tmp_path):
    conf = write_conf(tmp_path, {"limits": {"bare_lf": "normalize"}})
    msg = tmp_path / "lf.eml"
    msg.write_bytes(b"Subject: x\r\n\r\none\ntwo\r\n")
    rc, out, _ = dry(conf, *message_args(msg))
    assert rc == 0, out
    _, details = step(out, MESSAGE_STEP % msg)
    assert "1 bare line endings rewritten to CRLF (limits.bare_lf = normalize)" in details


# --------------------------------------------------------------------------
# usage, and nothing contacted
# --------------------------------------------------------------------------

@pytest.mark.parametrize("args,fragment", [
    ([], "--client ADDRESS is required"),
    (["--client", "not-an-ip"], "--client not-an-ip: not an IP address"),
    (["--client", "192.0.2.1", "--rcpt", "b@example.com"], "--rcpt needs --from"),
    (["--client", "192.0.2.1", "--port", "1"], "--port 1: no listener"),
    (["--client", "192.0.2.1", "--tls"], "--tls: the listener on port"),
    (["--client", "192.0.2.1", "--from", "a@example.net", "--rcpt", "b@example.com",
      "--message", "/nonexistent/m.eml"], "--message /nonexistent/m.eml:"),
    (["--client", "192.0.2.1", "--port", "x"], "--port x: not a port"),
    (["--client", "192.0.2.1", "--bogus"], "unrecognized option"),
], ids=["no-client", "bad-client", "rcpt-without-from", "no-such-port", "tls-on-plain",
        "no-message-file", "bad-port", "unknown-option"])
def test_usage_errors_exit_2(tmp_path, args, fragment):
    conf = write_conf(tmp_path)
    rc, out, err = dry(conf, *args)
    assert rc == 2, (rc, out, err)
    assert out == "", out
    assert fragment in err, err


def test_session_options_need_test(tmp_path):
    conf = write_conf(tmp_path)
    r = subprocess.run([MXSHIELD_BIN, "-c", conf, "--client", "192.0.2.1"],
                       capture_output=True, timeout=30, env=sanitizer_env())
    assert r.returncode == 2, r
    assert b"go with --test" in r.stderr, r.stderr


def test_bad_configuration_exits_2(tmp_path):
    conf = tmp_path / "bad.conf"
    conf.write_text("hostname = 7;\n")
    rc, out, err = dry(str(conf), "--client", "192.0.2.1")
    assert rc == 2, (rc, out, err)
    assert out == "" and "%s:1: hostname" % conf in err, err


def test_nothing_is_contacted_or_written(tmp_path, backend):
    """The backend is a live recorder, the listener's port is held by us,
    and the control socket and hijack state file are paths that must not
    appear: a dry run touches none of them."""
    hold = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    hold.bind(("127.0.0.1", 0))
    hold.listen(1)
    hold.settimeout(0.2)
    port = hold.getsockname()[1]
    state = tmp_path / "hijack.state"
    ctl = tmp_path / "control.sock"
    msg = tmp_path / "m.eml"
    msg.write_bytes(b"Subject: x\r\n\r\nbody\r\n")
    try:
        conf = write_conf(tmp_path, {
            "listen": [{"address": "127.0.0.1", "port": port}],
            "local_domains": LOCAL,
            "auth": {"match_envelope": True},
            "hijack": {"enabled": True, "state_file": str(state)},
            "control": {"socket": str(ctl)},
        }, backend_port=backend.port)
        rc, out, err = dry(conf, "--client", "203.0.113.9", "--ehlo", "x.example",
                           "--auth", "alice@example.com", "--from", "alice@example.com",
                           "--rcpt", "b@example.net", "--message", str(msg))
        assert rc == 0, (rc, out, err)
        assert ("hijack: alice@example.com is not disabled; 0 of 200 messages in the window"
                in out), out
        time.sleep(0.3)     # the recorder's accept loop polls every 0.1 s
        assert backend.connections == 0, backend.sessions
        with pytest.raises(socket.timeout):
            hold.accept()
        assert not state.exists() and not ctl.exists(), os.listdir(tmp_path)
    finally:
        hold.close()


def test_hijack_state_file_is_read(tmp_path):
    now = int(time.time())
    state = tmp_path / "hijack.state"
    state.write_text("disabled %d Alice@Example.com\ncount bob@example.com %d %d\n"
                     % (now - 60, now - 30, now - 20))
    before = state.read_bytes()
    conf = write_conf(tmp_path, {"hijack": {"enabled": True, "max_messages": 2,
                                            "state_file": str(state)}})
    base = ["--client", "203.0.113.9", "--ehlo", "x.example"]
    rc, out, _ = dry(conf, *(base + ["--auth", "alice@example.com"]))
    assert rc == 1, out
    reply, details = step(out, "AUTH PLAIN ... (as alice@example.com)")
    assert reply == "535 5.7.8 Authentication credentials invalid", out
    verdict_line(details, check="hijack", action="reject", code="535")
    rc, out, _ = dry(conf, *(base + ["--auth", "bob@example.com", "--from", "bob@example.com"]))
    assert rc == 1, out
    reply, details = step(out, "MAIL FROM:<bob@example.com>")
    assert reply == "550 5.7.1 This account is disabled: it sent too many messages", out
    verdict_line(details, check="hijack", action="reject", code="550")
    assert state.read_bytes() == before


# --------------------------------------------------------------------------
# the dry run against the live proxy: the same replies
# --------------------------------------------------------------------------

RELAYED = " would be relayed)"


def replay(mx, source, transcript, message=None):
    """Send the dry run's commands to the live mx from source; its replies,
    the greeting first, one per step."""
    c = mx.client(source=source)
    got = [c.reply()]
    for cmd, _, _ in steps(transcript)[1:]:
        if cmd.startswith("AUTH PLAIN ... (as "):
            ident = cmd[len("AUTH PLAIN ... (as "):-1]
            got.append(c.cmd("AUTH PLAIN " + b64("\0%s\0%s" % (ident, SECRET))))
        elif cmd.startswith("(the message of "):
            c.send(message + b".\r\n")
            got.append(c.reply())
        else:
            got.append(c.cmd(cmd))
    return got


def assert_same(transcript, live):
    """mxshield's own replies equal, relayed ones of the same code."""
    st = steps(transcript)
    assert len(st) == len(live), (st, live)
    for (cmd, reply, _), r in zip(st, live):
        line = r.raw.split(b"\r\n")[0].decode()
        if reply.endswith(RELAYED) or reply.startswith("354 (mxshield's own"):
            assert r.code == int(reply[:3]), (cmd, reply, r)
        else:
            assert r.raw == (reply + "\r\n").encode(), (cmd, reply, line)


def test_replay_ip_shield_and_helo(mxshield, backend, tmp_path):
    over = dict(SHIELD, helo={"reject_bare_ip": True, "reject_at": "rcpt"})
    mx = start(mxshield, over)
    cases = [
        # outside the shield: 530 at MAIL
        ("127.0.0.3", ["--ehlo", "client.example.net", "--from", "a@example.com",
                       "--rcpt", "b@example.com"], 1),
        # inside it, but a bare IP HELO: refused at RCPT, postmaster still reachable
        ("127.0.0.2", ["--helo", "192.0.2.1", "--from", "a@example.com",
                       "--rcpt", "b@example.com", "--rcpt", "postmaster@example.com"], 0),
    ]
    for source, args, want in cases:
        rc, out, err = dry(mx.conf_path, "--client", source, *args)
        assert rc == want, (rc, out, err)
        live = replay(mx, source, out)
        assert_same(out, live)
    assert "MAIL FROM:<a@example.com>" in [c.rstrip(b"\r\n").decode()
                                           for c in backend.all_commands()]


def test_replay_auth_mismatch_and_bare_lf(mxshield, backend, tmp_path):
    backend.capabilities = list(AUTH_CAPS)
    mx = start(mxshield, {"local_domains": LOCAL,
                          "auth": {"require_for_local_senders": True, "match_envelope": True}})
    content = b"Subject: x\r\n\r\nhi\n.\nMAIL FROM:<evil@example.net>\r\n"
    msg = tmp_path / "smuggle.eml"
    msg.write_bytes(content)
    cases = [
        ("127.0.0.3", ["--ehlo", "client.example.net", "--auth", "alice@example.com",
                       "--from", "bob@example.com"], None, 1),
        ("127.0.0.3", ["--ehlo", "client.example.net", "--from", "alice@example.com"],
         None, 1),
        ("127.0.0.3", ["--ehlo", "client.example.net", "--from", "x@example.net",
                       "--rcpt", "y@example.com", "--message", str(msg)], content, 1),
    ]
    for source, args, message, want in cases:
        rc, out, err = dry(mx.conf_path, "--client", source, *args)
        assert rc == want, (rc, out, err)
        live = replay(mx, source, out, message)
        assert_same(out, live)
    assert backend.messages == []


def test_message_from_header_checks(tmp_path):
    """The dry run asks the From: header checks of the live session on
    --message: refused with the live reply, or passed; monitored in
    ip_shield.mode = "monitor"."""
    shield = {"local_domains": LOCAL, "ip_shield": {
        "enabled": True, "check_from_header": True,
        "entries": [{"domain": "$LOCALDOMAIN$", "networks": ["192.168.0.*"]}]}}
    conf = write_conf(tmp_path, shield)
    spoof = tmp_path / "spoof.eml"
    spoof.write_bytes(b'From: "eve" <ceo@example.com>\r\nSubject: x\r\n\r\nbody\r\n')
    rc, out, _ = dry(conf, *message_args(spoof))
    assert rc == 1, out
    reply, details = step(out, MESSAGE_STEP % spoof)
    assert reply == ("550 5.7.1 Sorry, ceo@example.com <FROM header> not allowed to send "
                     "mail from 203.0.113.9"), out
    verdict_line(details, check="ip_shield", action="reject", code="550")
    ok = tmp_path / "ok.eml"
    ok.write_bytes(b'From: "ceo@example.com" <eve@example.net>\r\nSubject: x\r\n\r\nbody\r\n')
    rc, out, _ = dry(conf, *message_args(ok))
    assert rc == 0, out
    assert step(out, MESSAGE_STEP % ok)[0].startswith("250 "), out
    two = tmp_path / "two.eml"
    two.write_bytes(b"From: a@example.net\r\nFrom: b@example.net\r\n\r\nbody\r\n")
    rc, out, _ = dry(conf, *message_args(two))
    assert rc == 1, out
    assert step(out, MESSAGE_STEP % two)[0] == ("550 5.7.1 Sorry, <FROM header> cannot be "
                                                "checked: more than one From field"), out
    shield["ip_shield"]["mode"] = "monitor"
    conf = write_conf(tmp_path, shield)
    rc, out, _ = dry(conf, *message_args(spoof))
    assert rc == 0, out
    reply, details = step(out, MESSAGE_STEP % spoof)
    assert reply.startswith("250 "), out
    verdict_line(details, check="ip_shield", action="monitor", code="550")


def test_message_spoof_score(tmp_path):
    """The dry run asks the spoof score of the live session on --message:
    the verdict with score, threshold and signs; the X-Spoof-* lines the
    message would get; a reject refuses it with the live reply; monitor
    mode only logs."""
    spoof = {"local_domains": LOCAL, "spoof": {"enabled": True, "action": "header"}}
    conf = write_conf(tmp_path, spoof)
    forged = tmp_path / "forged.eml"
    # local From from outside (8), no Received (5), no Message-ID (2), no Date (2)
    forged.write_bytes(b"From: Chief <ceo@example.com>\r\nSubject: x\r\n\r\nbody\r\n")
    signs = "local_from_outside,no_received,bad_message_id,bad_date"
    rc, out, _ = dry(conf, *message_args(forged))
    assert rc == 0, out
    reply, details = step(out, MESSAGE_STEP % forged)
    assert reply.startswith("250 "), out
    v = verdict_line(details, check="spoof", action="tag")
    assert "score=17/25 threshold=10 reason=%s" % signs in v, v
    assert "X-Spoof-Score: 17/25 (%s)" % signs in details, details
    assert "X-Spoof-Flag: YES" in details, details
    clean = tmp_path / "clean.eml"
    clean.write_bytes(b"Received: from a.example.net ([198.51.100.7]) by b.example.net;\r\n"
                      b" Tue, 24 Nov 2026 13:33:10 +0000\r\n"
                      b"From: <eve@example.net>\r\nDate: Tue, 24 Nov 2026 13:33:11 +0000\r\n"
                      b"Message-ID: <1@a.example.net>\r\n\r\nbody\r\n")
    rc, out, _ = dry(conf, *message_args(clean))
    assert rc == 0, out
    reply, details = step(out, MESSAGE_STEP % clean)
    v = verdict_line(details, check="spoof", action="pass")
    assert "score=0/25 threshold=10 reason=no sign" in v, v
    assert "X-Spoof-Score: 0/25" in details and "X-Spoof-Flag: YES" not in details, details
    spoof["spoof"]["action"] = "reject"
    conf = write_conf(tmp_path, spoof)
    rc, out, _ = dry(conf, *message_args(forged))
    assert rc == 1, out
    reply, details = step(out, MESSAGE_STEP % forged)
    assert reply == "550 5.7.1 Message refused: it looks spoofed (score 17/25)", out
    verdict_line(details, check="spoof", action="reject")
    spoof["spoof"]["mode"] = "monitor"
    conf = write_conf(tmp_path, spoof)
    rc, out, _ = dry(conf, *message_args(forged))
    assert rc == 0, out
    reply, details = step(out, MESSAGE_STEP % forged)
    assert reply.startswith("250 "), out
    verdict_line(details, check="spoof", action="monitor")
    assert not [d for d in details if "X-Spoof" in d], details
