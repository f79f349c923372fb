"""
Account-hijack detection (DESIGN.md "hijack", seeds 001/003: an account
that suddenly sends many messages through an authenticated session is
disabled):

  - hijack.max_messages messages accepted by the backend per
    authenticated identity in a sliding hijack.window: the MAIL that
    would exceed it gets 550 5.7.1 and is not relayed, the identity is
    disabled (one "hijack" log line, at that moment), every later MAIL
    of it in any session gets 550 5.7.1, and a new AUTH as it gets
    535 5.7.8 without reaching the backend. Identities compare without
    case.
  - hijack.state_file keeps the disabled identities and the counters
    across a restart (SIGTERM) and a crash (a disabled identity is
    written at once); a state file that does not parse refuses the
    start with file:line.
  - control.socket (mode 0600): mxshield --list-disabled -c CONF and
    mxshield --unblock ID -c CONF ask the running process; with none
    running, or no socket configured, they say so and point at the
    state file.
  - mode = "monitor": nothing is refused, the log says what would have
    been, and no identity is saved as disabled.
  - hijack.count = "recipients": a message counts once per recipient
    the backend accepted; a RCPT that would take the identity past the
    limit within its message gets 550 5.7.1 and disables it.
  - hijack.exempt: identities counted but never refused nor disabled.
  - mxshield --list-counters -c CONF: every identity counted, its count
    and the limit, busiest first, with "disabled" / "exempt".
  - the identity of every mechanism mxshield offers is counted: CRAM-MD5
    (the user name before the digest) and SCRAM (n= of the client's
    first message) as PLAIN and LOGIN.

The recording backend owns the "accounts": it says 235 to any AUTH and
250 to every message, unless told otherwise.
"""

import os
import re
import socket as so
import stat
import subprocess
import time

import pytest

import conftest
import smtpkit
from policykit import (AUTH_CAPS, CRAM_DIGEST, SECRET, auth_cram_md5, auth_plain,
                       auth_scram, b64, commands, session)
from smtpkit import make_message

ALICE = "alice@example.com"
BOB = "bob@example.com"
RCPT = "rcpt@example.net"
TIME_RE = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"


@pytest.fixture
def auth_backend(backend):
    backend.capabilities = list(AUTH_CAPS)
    return backend


def paths(workdir):
    return os.path.join(workdir, "hijack.state"), os.path.join(workdir, "control.sock")


def hj_config(workdir, max_messages=3, window=60, state=True, count=None, exempt=None, **more):
    state_file, sock = paths(workdir)
    hj = {"enabled": True, "max_messages": max_messages, "window": window}
    if count is not None:
        hj["count"] = count
    if exempt is not None:
        hj["exempt"] = exempt
    if state:
        hj["state_file"] = state_file
    cfg = {"hijack": hj, "control": {"socket": sock}}
    cfg.update(more)
    return cfg


def start(mxshield, workdir, **kw):
    mx = mxshield(hj_config(workdir, **kw))
    # the control socket is made before the workers run; give it a moment
    smtpkit.wait_for(lambda: os.path.exists(paths(workdir)[1]), 5, what="control socket")
    return mx


def stop(mxshield, mx, kill=False):
    """Stop mx now and take it off the fixture's list: SIGTERM (a clean
    exit, sanitizers quiet), or SIGKILL (a crash)."""
    mxshield.instances.remove(mx)
    if not kill:
        problems = mx.stop()
        assert not problems, problems
        assert mx.exit_code == 0, mx.stderr()[-2000:]
        return
    for c in mx.clients:
        c.close()
    mx.proc.kill()
    mx.proc.wait(timeout=5)
    mx._err.close()


def send(c, sender, n=1):
    for _ in range(n):
        r = c.transaction(sender, [RCPT], make_message())
        assert r.code == 250, r


def refused_mail(c, sender):
    r = c.cmd("MAIL FROM:<%s>" % sender)
    assert (r.code, r.enh) == (550, "5.7.1"), r
    return r



def disable_alice(mx):
    """Alice sends her 3 allowed messages and the 4th MAIL disables her;
    returns that session."""
    a = session(mx)
    auth_plain(a, ALICE)
    send(a, ALICE, 3)
    refused_mail(a, ALICE)
    return a

def auth_refused(c, identity, secret=SECRET):
    r = c.cmd("AUTH PLAIN " + b64("\0%s\0%s" % (identity, secret)))
    assert (r.code, r.enh) == (535, "5.7.8"), r
    return r


def mails_from(backend, sender):
    return [c for c in commands(backend) if c.upper().startswith("MAIL FROM:<%s>" % sender.upper())]


def auth_lines(backend, identity, secret=SECRET):
    line = "AUTH PLAIN " + b64("\0%s\0%s" % (identity, secret))
    return [c for c in commands(backend) if c == line]


def disabled_lines(mx, identity=None):
    return [l for l in mx.logs("hijack") if l.get("action") == "disabled"
            and (identity is None or l.get("identity") == identity)]


def cli(conf_path, *args):
    if not os.path.exists(conftest.MXSHIELD_BIN):
        pytest.fail("mxshield binary %s not built" % conftest.MXSHIELD_BIN, pytrace=False)
    r = subprocess.run([conftest.MXSHIELD_BIN] + list(args) + ["-c", conf_path],
                       stdin=subprocess.DEVNULL, capture_output=True, timeout=30,
                       env=conftest.sanitizer_env())
    out, err = r.stdout.decode("utf-8", "replace"), r.stderr.decode("utf-8", "replace")
    for mark in conftest.SANITIZER_MARKS:
        assert mark not in err, err
    return r.returncode, out, err


def read(path):
    try:
        with open(path) as f:
            return f.read()
    except FileNotFoundError:
        return ""


def wait_state(workdir, pred, what):
    state_file = paths(workdir)[0]
    return smtpkit.wait_for(lambda: pred(read(state_file)), 3, what="%s in %s:\n%s" % (
        what, state_file, read(state_file)))


def disabled_in_state(text, identity):
    return re.search(r"^disabled \d+ %s$" % re.escape(identity), text, re.M)


# --------------------------------------------------------------------------
# the limit
# --------------------------------------------------------------------------

def test_fourth_message_disables_identity_in_every_session(mxshield, auth_backend, workdir):
    backend = auth_backend
    mx = start(mxshield, workdir)
    a, b, other = session(mx), session(mx), session(mx)
    auth_plain(a, ALICE)
    auth_plain(b, ALICE)
    auth_plain(other, BOB)
    send(a, ALICE, 3)
    # the fourth MAIL, in another session, exceeds: refused, not relayed
    refused_mail(b, ALICE)
    # and the first session is refused too
    refused_mail(a, ALICE)
    refused_mail(b, "someone-else@example.com")    # the identity, not the sender
    assert len(mails_from(backend, ALICE)) == 3, commands(backend)
    assert len(backend.transactions) == 3
    assert not any("someone-else" in c for c in commands(backend))
    # another identity is not affected
    send(other, BOB, 2)
    assert len(backend.transactions) == 5
    # the refused sessions go on
    assert a.cmd("NOOP").code == 250
    # the transaction's log line says why
    t = mx.wait_log(lambda l: l.get("event") == "txn" and any(
        v.get("check") == "hijack" and v.get("code") == 550 for v in l.get("verdicts") or []),
        what="txn line with a hijack verdict")
    assert t[0]["auth"] == ALICE, t


def test_new_auth_of_disabled_identity_refused_and_not_relayed(mxshield, auth_backend, workdir):
    backend = auth_backend
    mx = start(mxshield, workdir)
    a = disable_alice(mx)
    assert len(auth_lines(backend, ALICE)) == 1
    # AUTH PLAIN: 535 5.7.8, the backend never sees it; any case
    c = session(mx)
    auth_refused(c, ALICE)
    auth_refused(c, "Alice@EXAMPLE.com")
    assert len(auth_lines(backend, ALICE)) == 1, commands(backend)
    assert auth_lines(backend, "Alice@EXAMPLE.com") == []
    assert c.cmd("NOOP").code == 250
    # AUTH LOGIN: the user name line is not relayed either, and the
    # backend's half-done exchange is cancelled
    d = session(mx)
    assert d.cmd("AUTH LOGIN").code == 334
    r = d.cmd(b64(ALICE))
    assert (r.code, r.enh) == (535, "5.7.8"), r
    assert not any(b64(ALICE).encode() in line for s in backend.sessions for line in s.auth_lines)
    backend.wait_for(lambda: any(b"*" in s.auth_lines for s in backend.sessions), 3,
                     "the backend's AUTH LOGIN cancelled with *")
    assert d.cmd("NOOP").code == 250
    # a refused AUTH leaves the session unauthenticated: a password
    # guesser learns nothing, and nothing is sent as alice
    assert d.cmd("AUTH PLAIN " + b64("\0%s\0%s" % (BOB, SECRET))).code == 235
    send(d, BOB)


def test_auth_refusal_is_a_policy_event_at_auth(mxshield, auth_backend, workdir):
    mx = start(mxshield, workdir)
    disable_alice(mx)
    c = session(mx)
    r = auth_refused(c, ALICE)
    (p,) = mx.wait_log(lambda l: l.get("event") == "policy", what="policy line")
    assert {"sid", "client", "port", "stage", "check", "action", "code", "reason", "reply",
            "score"} <= set(p), p
    assert (p["check"], p["stage"], p["action"], p["code"], p["score"]) == (
        "hijack", "auth", "reject", 535, 0), p
    assert p["reply"] == r.raw.decode().rstrip("\r\n"), p
    assert ALICE in p["reason"] and p["reason"] != p["reply"], p
    assert p["client"] == "127.0.0.1" and p["port"] == c.local_port, p


def test_one_log_line_at_the_moment_of_disabling(mxshield, auth_backend, workdir):
    mx = start(mxshield, workdir)
    a = session(mx)
    auth_plain(a, ALICE)
    send(a, ALICE, 3)
    assert disabled_lines(mx) == []
    refused_mail(a, ALICE)
    # written before the client got its 550
    (l,) = disabled_lines(mx)
    assert l["identity"] == ALICE, l
    assert (l["messages"], l["max_messages"], l["window"]) == (3, 3, 60), l
    assert l["client"] == "127.0.0.1", l
    assert re.fullmatch(r"[0-9a-f]{16}", l["sid"]), l
    assert "--unblock" in l["reason"], l
    # later refusals and AUTHs do not repeat it
    refused_mail(a, ALICE)
    auth_refused(session(mx), ALICE)
    time.sleep(0.2)
    assert len(disabled_lines(mx)) == 1, mx.logs("hijack")


def test_messages_the_backend_refused_do_not_count(mxshield, auth_backend, workdir):
    backend = auth_backend
    mx = start(mxshield, workdir)
    a = session(mx)
    auth_plain(a, ALICE)
    backend.data_reply = b"554 5.7.1 rejected by content filter"
    r = a.transaction(ALICE, [RCPT], make_message())
    assert r.code == 554, r
    backend.data_reply = None
    # a transaction without an accepted recipient does not count either
    assert a.cmd("MAIL FROM:<%s>" % ALICE).code == 250
    assert a.cmd("RCPT TO:<reject@example.com>").code == 550
    assert a.cmd("RSET").code == 250
    send(a, ALICE, 3)
    refused_mail(a, ALICE)
    assert len(backend.transactions) == 3


def test_sliding_window_expires_counts(mxshield, auth_backend, workdir):
    mx = start(mxshield, workdir, max_messages=2, window=2)
    a = session(mx)
    auth_plain(a, ALICE)
    send(a, ALICE, 2)
    time.sleep(2.3)
    # the first two left the window
    send(a, ALICE, 2)
    refused_mail(a, ALICE)
    assert len(auth_backend.transactions) == 4


def cram_scram_caps():
    return AUTH_CAPS[:-1] + ["AUTH PLAIN LOGIN CRAM-MD5 SCRAM-SHA-1 SCRAM-SHA-256"]


@pytest.mark.parametrize("login", ["cram-md5", "scram-sha-256", "scram-sha-1-no-initial"])
def test_cram_and_scram_identities_are_counted(mxshield, auth_backend, workdir, login):
    backend = auth_backend
    backend.capabilities = cram_scram_caps()
    mx = start(mxshield, workdir, max_messages=1)

    def log_in(c):
        if login == "cram-md5":
            return auth_cram_md5(c, ALICE)
        if login == "scram-sha-256":
            return auth_scram(c, ALICE)
        return auth_scram(c, ALICE, mech="SCRAM-SHA-1", initial=False)

    a = session(mx)
    r = log_in(a)
    assert r.code == 235, r
    send(a, ALICE)
    # the second message would pass max_messages = 1: refused, not
    # relayed, whatever the sender
    refused_mail(a, "other@example.com")
    assert len(backend.transactions) == 1
    assert not any("other@example.com" in c for c in commands(backend))
    (ok,) = mx.wait_log(lambda l: l.get("event") == "txn" and l.get("result") == "accepted",
                        what="accepted txn line")
    assert ok["auth"] == ALICE, ok
    t = mx.wait_log(lambda l: l.get("event") == "txn" and any(
        v.get("check") == "hijack" and v.get("code") == 550 for v in l.get("verdicts") or []),
        what="txn line with a hijack verdict")
    assert t[0]["auth"] == ALICE, t
    (d,) = disabled_lines(mx, ALICE)
    assert d["messages"] == 1, d
    # a new login as alice, by another mechanism, is refused: the same
    # identity whatever the mechanism
    b = session(mx)
    auth_refused(b, ALICE)
    backend.wait_for(lambda: len(backend.sessions) >= 2, 3, "second backend session")
    assert not any(l.startswith(b"AUTH PLAIN") for l in backend.sessions[1].auth_lines)


def test_cram_md5_login_of_disabled_identity_refused_before_the_backend(mxshield, auth_backend,
                                                                       workdir):
    backend = auth_backend
    backend.capabilities = cram_scram_caps()
    mx = start(mxshield, workdir)
    disable_alice(mx)
    c = session(mx)
    assert c.cmd("AUTH CRAM-MD5").code == 334
    response = b64("%s %s" % (ALICE.upper(), CRAM_DIGEST))
    r = c.cmd(response)
    assert (r.code, r.enh) == (535, "5.7.8"), r
    # the response naming alice never reached the backend, whose
    # exchange was cancelled with "*"
    backend.wait_for(lambda: any(b"*" in s.auth_lines for s in backend.sessions), 3,
                     "the backend's AUTH CRAM-MD5 cancelled with *")
    assert response not in commands(backend)
    # SCRAM, first message on the AUTH line: refused, never relayed
    r = c.cmd("AUTH SCRAM-SHA-256 " + b64("n,,n=%s,r=abcdef" % ALICE))
    assert (r.code, r.enh) == (535, "5.7.8"), r
    assert not any(l.startswith(b"AUTH SCRAM") for s in backend.sessions for l in s.auth_lines)
    assert c.cmd("NOOP").code == 250


# --------------------------------------------------------------------------
# the state file
# --------------------------------------------------------------------------

def test_disabled_identity_survives_restart(mxshield, auth_backend, workdir):
    backend = auth_backend
    mx = start(mxshield, workdir)
    a = disable_alice(mx)
    stop(mxshield, mx)
    state_file = paths(workdir)[0]
    assert disabled_in_state(read(state_file), ALICE), read(state_file)
    assert not os.path.exists(state_file + ".tmp")
    assert stat.S_IMODE(os.stat(state_file).st_mode) & 0o077 == 0
    mx2 = start(mxshield, workdir)
    auth_refused(session(mx2), ALICE)
    assert len(auth_lines(backend, ALICE)) == 1
    rc, out, err = cli(mx2.conf_path, "--list-disabled")
    assert rc == 0 and re.fullmatch(r"alice@example\.com %s\n" % TIME_RE, out), (rc, out, err)


def test_counts_survive_restart(mxshield, auth_backend, workdir):
    mx = start(mxshield, workdir)
    a = session(mx)
    auth_plain(a, ALICE)
    send(a, ALICE, 2)
    stop(mxshield, mx)
    text = read(paths(workdir)[0])
    assert re.search(r"^count alice@example\.com \d+ \d+$", text, re.M), text
    mx2 = start(mxshield, workdir)
    b = session(mx2)
    auth_plain(b, ALICE)
    send(b, ALICE, 1)
    refused_mail(b, ALICE)
    assert len(auth_backend.transactions) == 3


def test_disabled_identity_written_at_once_survives_crash(mxshield, auth_backend, workdir):
    mx = start(mxshield, workdir)
    a = disable_alice(mx)
    wait_state(workdir, lambda t: disabled_in_state(t, ALICE), "alice disabled")
    stop(mxshield, mx, kill=True)
    # the control socket the crash left behind is taken over
    assert os.path.exists(paths(workdir)[1])
    mx2 = start(mxshield, workdir)
    auth_refused(session(mx2), ALICE)
    rc, out, err = cli(mx2.conf_path, "--list-disabled")
    assert rc == 0 and out.startswith(ALICE + " "), (rc, out, err)


def test_state_file_written_by_hand(mxshield, auth_backend, workdir):
    state_file = paths(workdir)[0]
    with open(state_file, "w") as f:
        f.write("# disabled by the administrator\n"
                "\n"
                "disabled 1700000000 Alice@Example.com\n"
                "count bob@example.com %d\n" % int(time.time()))
    mx = start(mxshield, workdir, max_messages=2)
    auth_refused(session(mx), ALICE)
    rc, out, err = cli(mx.conf_path, "--list-disabled")
    assert (rc, out) == (0, "Alice@Example.com 2023-11-14T22:13:20Z\n"), (rc, out, err)
    # bob's message from the file counts: one more, then the limit
    c = session(mx)
    auth_plain(c, BOB)
    send(c, BOB, 1)
    refused_mail(c, BOB)


@pytest.mark.parametrize("text,line", [
    ("# ok\ndisabled 1700000000 alice@example.com\ncount bob@example.com 12 x\n", 3),
    ("disabled yesterday alice@example.com\n", 1),
    ("\n\nenabled 1700000000 alice@example.com\n", 3),
    ("disabled 1700000000 john doe\n", 1),
    ("count a+2 1700000000\n", 1),
], ids=["count-time", "disabled-time", "keyword", "space-in-id", "xtext"])
def test_corrupt_state_file_refuses_start(mxshield, backend, workdir, text, line):
    if not os.path.exists(conftest.MXSHIELD_BIN):
        pytest.fail("mxshield binary %s not built" % conftest.MXSHIELD_BIN, pytrace=False)
    state_file = paths(workdir)[0]
    with open(state_file, "w") as f:
        f.write(text)
    cfg = conftest.merge(mxshield.base_config(backend.port), hj_config(workdir))
    conf = os.path.join(workdir, "corrupt.conf")
    with open(conf, "w") as f:
        f.write(conftest.libconfig_text(cfg))
    r = subprocess.run([conftest.MXSHIELD_BIN, "-c", conf], stdin=subprocess.DEVNULL,
                       capture_output=True, timeout=15, env=conftest.sanitizer_env())
    err = r.stderr.decode("utf-8", "replace")
    assert r.returncode == 1, err
    assert "%s:%d: " % (state_file, line) in err, err
    for mark in conftest.SANITIZER_MARKS:
        assert mark not in err, err
    # never listened, and the file is left as it was
    assert not smtpkit.listening(cfg["listen"][0]["port"])
    assert read(state_file) == text
    assert not os.path.exists(paths(workdir)[1])


def test_memory_only_without_state_file(mxshield, auth_backend, workdir):
    mx = start(mxshield, workdir, state=False)
    a = disable_alice(mx)
    auth_refused(session(mx), ALICE)
    assert not [n for n in os.listdir(workdir) if n.startswith("hijack")]
    stop(mxshield, mx)
    mx2 = start(mxshield, workdir, state=False)
    auth_plain(session(mx2), ALICE)


# --------------------------------------------------------------------------
# the control socket and the command line
# --------------------------------------------------------------------------

def test_unblock_while_running(mxshield, auth_backend, workdir):
    mx = start(mxshield, workdir)
    a = disable_alice(mx)
    wait_state(workdir, lambda t: disabled_in_state(t, ALICE), "alice disabled")
    rc, out, err = cli(mx.conf_path, "--unblock", "ALICE@example.com")
    assert (rc, out) == (0, "OK ALICE@example.com\n"), (rc, out, err)
    mx.wait_log(lambda l: l.get("event") == "hijack" and l.get("action") == "enabled"
                and l.get("identity") == "ALICE@example.com", what="hijack enabled line")
    # the old session may send again, a new AUTH is relayed, and the
    # count starts afresh
    send(a, ALICE, 1)
    b = session(mx)
    auth_plain(b, ALICE)
    send(b, ALICE, 2)
    refused_mail(b, ALICE)
    assert len(auth_backend.transactions) == 6
    # the state file followed at once
    rc, out, err = cli(mx.conf_path, "--unblock", ALICE)
    assert (rc, out) == (0, "OK %s\n" % ALICE), (rc, out, err)
    wait_state(workdir, lambda t: not disabled_in_state(t, ALICE), "alice enabled")


def test_unblock_an_identity_that_is_not_disabled(mxshield, auth_backend, workdir):
    mx = start(mxshield, workdir)
    rc, out, err = cli(mx.conf_path, "--unblock", "nobody@example.com")
    assert rc == 1 and out == "", (rc, out, err)
    assert "nobody@example.com is not disabled" in err, err


def test_list_disabled(mxshield, auth_backend, workdir):
    mx = start(mxshield, workdir, max_messages=1)
    rc, out, err = cli(mx.conf_path, "--list-disabled")
    assert (rc, out) == (0, ""), (rc, out, err)
    for ident in (ALICE, "john doe"):
        c = session(mx)
        auth_plain(c, ident)
        send(c, BOB)
        refused_mail(c, BOB)
        time.sleep(1.1)        # distinct times: the list is oldest first
    rc, out, err = cli(mx.conf_path, "--list-disabled")
    assert rc == 0, (rc, out, err)
    assert re.fullmatch(r"alice@example\.com (%s)\njohn\+20doe (%s)\n" % (TIME_RE, TIME_RE), out), out
    # the list's form of an identity is xtext; --unblock takes it as typed
    rc, out, err = cli(mx.conf_path, "--unblock", "john doe")
    assert (rc, out) == (0, "OK john+20doe\n"), (rc, out, err)
    rc, out, err = cli(mx.conf_path, "--list-disabled")
    assert rc == 0 and re.fullmatch(r"alice@example\.com %s\n" % TIME_RE, out), out


def test_control_socket_is_private_and_removed_at_stop(mxshield, backend, workdir):
    mx = start(mxshield, workdir)
    sock = paths(workdir)[1]
    st = os.stat(sock)
    assert stat.S_ISSOCK(st.st_mode)
    assert stat.S_IMODE(st.st_mode) == 0o600, oct(st.st_mode)
    # a request that never ends its line is dropped, and others are served
    s = so.socket(so.AF_UNIX, so.SOCK_STREAM)
    s.settimeout(15)
    s.connect(sock)
    s.sendall(b"LIS")
    t0 = time.monotonic()
    assert s.recv(100) == b""
    assert time.monotonic() - t0 < 10
    s.close()
    for req, want in ((b"LIST\n", b".\n"), (b"HELLO\n", b"ERR "), (b"UNBLOCK\n", b"ERR "),
                      (b"UNBLOCK a+2\n", b"ERR "), (b"X" * 3000 + b"\n", b"ERR ")):
        s = so.socket(so.AF_UNIX, so.SOCK_STREAM)
        s.settimeout(10)
        s.connect(sock)
        s.sendall(req)
        got = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            got += chunk
        s.close()
        assert got.startswith(want), (req[:20], got)
    stop(mxshield, mx)
    assert not os.path.exists(sock)


def _conf(mxshield, backend, workdir, cfg):
    path = os.path.join(workdir, "cli.conf")
    with open(path, "w") as f:
        f.write(conftest.libconfig_text(conftest.merge(mxshield.base_config(backend.port), cfg)))
    return path


def test_cli_without_a_running_mxshield(mxshield, backend, workdir):
    conf = _conf(mxshield, backend, workdir, hj_config(workdir))
    state_file, sock = paths(workdir)
    for args in (["--unblock", ALICE], ["--list-disabled"]):
        rc, out, err = cli(conf, *args)
        assert rc == 1 and out == "", (rc, out, err)
        assert "no mxshield is running" in err, err
        assert sock in err and state_file in err, err


def test_cli_without_a_control_socket(mxshield, backend, workdir):
    cfg = hj_config(workdir)
    del cfg["control"]
    conf = _conf(mxshield, backend, workdir, cfg)
    rc, out, err = cli(conf, "--list-disabled")
    assert rc == 1 and out == "", (rc, out, err)
    assert "control.socket is not set" in err, err
    assert paths(workdir)[0] in err, err


# --------------------------------------------------------------------------
# monitor mode
# --------------------------------------------------------------------------

def test_monitor_mode_refuses_nothing(mxshield, auth_backend, workdir):
    backend = auth_backend
    mx = start(mxshield, workdir, max_messages=1, mode="monitor")
    a = session(mx)
    auth_plain(a, ALICE)
    send(a, ALICE, 3)
    assert len(backend.transactions) == 3
    (l,) = [l for l in mx.logs("hijack") if l.get("identity") == ALICE]
    assert l["action"] == "would_disable" and l["mode"] == "monitor", l
    auth_plain(session(mx), ALICE)
    assert len(auth_lines(backend, ALICE)) == 2
    rc, out, err = cli(mx.conf_path, "--list-disabled")
    assert rc == 0 and re.fullmatch(r"alice@example\.com %s monitor\n" % TIME_RE, out), (rc, out, err)
    rc, out, err = cli(mx.conf_path, "--list-counters")
    assert (rc, out) == (0, "alice@example.com 0 1 disabled monitor\n"), (rc, out, err)
    # a trial run never locks an account out after the switch to enforce
    stop(mxshield, mx)
    assert not disabled_in_state(read(paths(workdir)[0]), ALICE)


# --------------------------------------------------------------------------
# hijack.count = "recipients", hijack.exempt, --list-counters
# --------------------------------------------------------------------------

ACCOUNT_OFF = "550 5.7.1 This account is disabled: it sent too many messages"


def rcpts(n, prefix="r"):
    return ["%s%d@example.net" % (prefix, i) for i in range(1, n + 1)]


def rcpt_lines(backend):
    return [c for c in commands(backend) if c.upper().startswith("RCPT TO:")]


def counters(mx):
    rc, out, err = cli(mx.conf_path, "--list-counters")
    assert rc == 0 and err == "", (rc, out, err)
    return out


def test_default_counts_messages_whatever_their_recipients(mxshield, auth_backend, workdir):
    mx = start(mxshield, workdir, max_messages=2)
    a = session(mx)
    auth_plain(a, ALICE)
    for _ in range(2):
        assert a.transaction(ALICE, rcpts(5), make_message()).code == 250
    assert counters(mx) == "alice@example.com 2 2\n"
    refused_mail(a, ALICE)
    assert len(auth_backend.transactions) == 2


def test_recipients_count_once_per_accepted_recipient(mxshield, auth_backend, workdir):
    backend = auth_backend
    mx = start(mxshield, workdir, max_messages=5, count="recipients")
    a = session(mx)
    auth_plain(a, ALICE)
    # the backend refuses one of three: two count
    assert a.cmd("MAIL FROM:<%s>" % ALICE).code == 250
    for r in ("r1@example.net", "reject@example.net", "r2@example.net"):
        a.cmd("RCPT TO:<%s>" % r)
    assert a.cmd("DATA").code == 354
    a.send(make_message() + b".\r\n")
    assert a.reply().code == 250
    assert counters(mx) == "alice@example.com 2 5\n"
    # three more reach the limit exactly; the next MAIL is refused
    assert a.transaction(ALICE, rcpts(3), make_message()).code == 250
    assert counters(mx) == "alice@example.com 5 5\n"
    refused_mail(a, ALICE)
    (l,) = disabled_lines(mx, ALICE)
    assert (l["stage"], l["count"], l["recipients"], l["in_message"], l["max_messages"]) == (
        "mail", "recipients", 5, 0, 5), l
    assert "messages" not in l, l
    assert len(backend.transactions) == 2


@pytest.mark.parametrize("pipelined", [False, True], ids=["one-by-one", "pipelined"])
def test_one_message_to_many_is_stopped_at_the_rcpt_past_the_limit(mxshield, auth_backend,
                                                                   workdir, pipelined):
    """max_messages 5, recipients counted: a message to 8 gets its 6th,
    7th and 8th RCPT refused, and the identity is disabled at the 6th
    (one message to 1,000 with a limit of 200 is stopped at RCPT 201)."""
    backend = auth_backend
    mx = start(mxshield, workdir, max_messages=5, count="recipients")
    a = session(mx)
    auth_plain(a, ALICE)
    to = rcpts(8)
    if pipelined:
        a.send("".join(["MAIL FROM:<%s>\r\n" % ALICE] + ["RCPT TO:<%s>\r\n" % r for r in to]))
        got = a.replies(9)
    else:
        got = [a.cmd("MAIL FROM:<%s>" % ALICE)] + [a.cmd("RCPT TO:<%s>" % r) for r in to]
    assert [r.code for r in got] == [250] * 6 + [550] * 3, got
    for r in got[6:]:
        assert r.raw == (ACCOUNT_OFF + "\r\n").encode(), r
    assert rcpt_lines(backend) == ["RCPT TO:<%s>" % r for r in to[:5]], commands(backend)
    # disabled at the 6th RCPT, one log line
    (l,) = disabled_lines(mx, ALICE)
    assert (l["stage"], l["count"], l["recipients"], l["in_message"], l["max_messages"]) == (
        "rcpt", "recipients", 0, 6, 5), l
    assert "hijack.count" in l["reason"], l
    # the five within the limit may still get the message
    assert a.cmd("DATA").code == 354
    a.send(make_message() + b".\r\n")
    assert a.reply().code == 250
    (m,) = backend.transactions
    assert [_strip(r) for r in m.rcpts] == to[:5]
    # the txn line: three hijack verdicts at RCPT, the first disabling
    (t,) = mx.wait_log(lambda x: x.get("event") == "txn", what="txn line")
    vs = [v for v in t["verdicts"] if v["check"] == "hijack"]
    assert [(v["code"], v["reply"], v["action"]) for v in vs] == [(550, ACCOUNT_OFF, "reject")] * 3, t
    assert "disabled now" in vs[0]["reason"] and "disabled by" in vs[1]["reason"], vs
    assert t["result"] == "accepted" and t["where"] == "data", t
    # from now on: MAIL and AUTH refused, as for messages
    refused_mail(a, ALICE)
    auth_refused(session(mx), ALICE)
    assert counters(mx) == "alice@example.com 0 5 disabled\n"


def _strip(v):
    return str(v).strip("<>")


def test_recipients_counted_from_a_state_file_of_messages(mxshield, auth_backend, workdir):
    """The state file has one format: times counted as messages load as
    recipients (and back)."""
    now = int(time.time())
    with open(paths(workdir)[0], "w") as f:
        f.write("count alice@example.com %d %d\n" % (now, now))
    mx = start(mxshield, workdir, max_messages=3, count="recipients")
    assert counters(mx) == "alice@example.com 2 3\n"
    a = session(mx)
    auth_plain(a, ALICE)
    assert a.cmd("MAIL FROM:<%s>" % ALICE).code == 250
    assert a.cmd("RCPT TO:<r1@example.net>").code == 250
    r = a.cmd("RCPT TO:<r2@example.net>")
    assert (r.code, r.enh) == (550, "5.7.1"), r


def test_exempt_identity_is_counted_never_disabled(mxshield, auth_backend, workdir):
    backend = auth_backend
    mx = start(mxshield, workdir, max_messages=2, count="recipients",
               exempt=["Monitor@Example.com", "other@example.com"])
    m = session(mx)
    auth_plain(m, "MONITOR@example.com")
    for _ in range(3):
        assert m.transaction("MONITOR@example.com", rcpts(3), make_message()).code == 250
    assert len(backend.transactions) == 3
    assert mx.logs("hijack") == [], mx.logs("hijack")
    # a new AUTH is relayed; the count stops at the limit
    auth_plain(session(mx), "monitor@EXAMPLE.com")
    assert counters(mx) == "MONITOR@example.com 2 2 exempt\n"
    # an identity that is not exempt is still stopped
    a = session(mx)
    auth_plain(a, ALICE)
    assert a.cmd("MAIL FROM:<%s>" % ALICE).code == 250
    assert a.cmd("RCPT TO:<r1@example.net>").code == 250
    assert a.cmd("RCPT TO:<r2@example.net>").code == 250
    assert a.cmd("RCPT TO:<r3@example.net>").code == 550


def test_exempt_identity_disabled_in_state_file_is_enabled(mxshield, auth_backend, workdir):
    state_file = paths(workdir)[0]
    with open(state_file, "w") as f:
        f.write("disabled 1700000000 monitor@example.com\ndisabled 1700000000 %s\n" % ALICE)
    mx = start(mxshield, workdir, exempt=["monitor@example.com"])
    auth_plain(session(mx), "monitor@example.com")
    auth_refused(session(mx), ALICE)
    rc, out, err = cli(mx.conf_path, "--list-disabled")
    assert (rc, out) == (0, "alice@example.com 2023-11-14T22:13:20Z\n"), (rc, out, err)
    # the file written at start no longer disables it
    text = read(state_file)
    assert disabled_in_state(text, ALICE) and not disabled_in_state(text, "monitor@example.com"), text
    assert "hijack.exempt" in mx.stderr()


def test_list_counters(mxshield, auth_backend, workdir):
    mx = start(mxshield, workdir, max_messages=3, exempt=["monitor@example.com"])
    assert counters(mx) == ""
    for ident, n in (("monitor@example.com", 4), (ALICE, 2), ("john doe", 1), (BOB, 3)):
        c = session(mx)
        auth_plain(c, ident)
        send(c, BOB, n)
    refused_mail(c, BOB)        # bob's 4th MAIL disables him
    assert counters(mx) == ("monitor@example.com 3 3 exempt\n"
                            "alice@example.com 2 3\n"
                            "john+20doe 1 3\n"
                            "bob@example.com 0 3 disabled\n")
    # the same through the socket: a listing that ends with "."
    s = so.socket(so.AF_UNIX, so.SOCK_STREAM)
    s.settimeout(10)
    s.connect(paths(workdir)[1])
    s.sendall(b"COUNTERS\n")
    got = b""
    while True:
        chunk = s.recv(4096)
        if not chunk:
            break
        got += chunk
    s.close()
    assert got.endswith(b"bob@example.com 0 3 disabled\n.\n"), got
    rc, out, err = cli(mx.conf_path, "--unblock", BOB)
    assert rc == 0, (rc, out, err)
    assert counters(mx).endswith("john+20doe 1 3\n")


def test_list_counters_without_a_running_mxshield(mxshield, backend, workdir):
    conf = _conf(mxshield, backend, workdir, hj_config(workdir))
    rc, out, err = cli(conf, "--list-counters")
    assert rc == 1 and out == "", (rc, out, err)
    assert "--list-counters" in err and "no mxshield is running" in err, err
    assert "count ID TIME" in err and paths(workdir)[0] in err, err
    rc, out, err = cli(conf, "--list-counters", "--list-disabled")
    assert rc == 2 and "go alone" in err, (rc, out, err)


@pytest.mark.parametrize("hj,line,what", [
    ({"count": "mails"}, 'count = "mails"', '"mails" is not one of messages, recipients'),
    ({"exempt": "alice@example.com"}, "exempt = ", "hijack.exempt: expected a list of strings"),
    ({"exempt": ["ok@example.com", ""]}, "exempt = ", 'hijack.exempt[1]: "": must be 1 to 255'),
], ids=["count", "exempt-not-a-list", "exempt-empty"])
def test_bad_hijack_keys_refused_with_file_and_line(mxshield, backend, workdir, hj, line, what):
    cfg = hj_config(workdir)
    cfg["hijack"].update(hj)
    conf = _conf(mxshield, backend, workdir, cfg)
    rc, out, err = cli(conf, "--check-config")
    assert rc == 1, (rc, out, err)
    lineno = [i for i, l in enumerate(open(conf).read().splitlines(), 1) if line in l][0]
    assert "%s:%d: " % (conf, lineno) in err and what in err, (err, lineno)
