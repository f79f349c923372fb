"""
Reloading the configuration (README "Reloading"): SIGHUP and
`mxshield ctl reload` read the configuration file and the certificates
again. A file --check-config would refuse is refused: a "reload" log
line with "result":"failed" and every error with file:line, and the
configuration in force goes on. A good one is in force for new
sessions at once; sessions in progress finish under the one they
started with; listeners the file adds are opened, removed ones closed
(their sessions go on); hijack state survives; settings that need a
restart keep their values and the log says so.

`mxshield ctl status | reload | disabled | counters | unblock ID` ask
the running process through control.socket.
"""

import hashlib
import os
import re
import signal
import ssl
import subprocess
import threading
import time

import pytest

import conftest
import smtpkit
import tlsutil
from policykit import auth_plain
from smtpkit import make_message
from test_hijack import ALICE, auth_backend, auth_refused, disable_alice, send  # noqa: F401
from tlsutil import certs_fixture  # noqa: F401  (the certs fixture)

LOCAL_RCPT = "postmaster@example.com"

SHIELD_ON = {
    "local_domains": ["example.com"],
    "ip_shield": {"enabled": True,
                  "entries": [{"domain": "example.com", "networks": ["127.0.0.2"]}]},
}


def sock_path(workdir):
    return os.path.join(workdir, "control.sock")


def start(mxshield, workdir, overrides=None, **kw):
    cfg = {"control": {"socket": sock_path(workdir)}}
    cfg.update(overrides or {})
    mx = mxshield(cfg, **kw)
    smtpkit.wait_for(lambda: os.path.exists(sock_path(workdir)), 5, what="control socket")
    return mx


def rewrite(mx, overrides=None, text=None):
    """Write mx's configuration file anew: its configuration merged with
    overrides (None deletes a key), or text as it is."""
    if text is None:
        mx.config = conftest.merge(mx.config, overrides or {})
        text = conftest.libconfig_text(mx.config)
    with open(mx.conf_path, "w") as f:
        f.write(text)


def results(mx):
    return [l for l in mx.logs("reload") if "result" in l]


def hup(mx):
    """SIGHUP and the "reload" line with its result."""
    n = len(results(mx))
    os.kill(mx.pid, signal.SIGHUP)
    smtpkit.wait_for(lambda: len(results(mx)) > n, 10,
                     what="reload result in the log:\n" + mx.stderr()[-2000:])
    return results(mx)[n]


def ctl(mx, *args, timeout=90):
    r = subprocess.run([mx.binary, "-c", mx.conf_path, "ctl"] + list(args),
                       capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL,
                       env=conftest.sanitizer_env())
    out, err = r.stdout.decode(), r.stderr.decode("utf-8", "replace")
    for mark in conftest.SANITIZER_MARKS:
        assert mark not in err, err
    return r.returncode, out, err


def deliver(c, sender="sender@example.net", subject="t"):
    r = c.transaction(sender, [LOCAL_RCPT], make_message(sender=sender, subject=subject))
    assert r.code == 250, r


# --------------------------------------------------------------------------
# policy: new sessions at once, sessions in progress keep theirs
# --------------------------------------------------------------------------

def test_policy_change_applies_to_new_sessions_only(mxshield, backend, workdir):
    mx = start(mxshield, workdir, {"local_domains": ["example.com"]})
    old = mx.session()
    rewrite(mx, SHIELD_ON)
    l = hup(mx)
    assert (l["result"], l["generation"], l["needs_restart"]) == ("ok", 2, []), l
    assert l["listeners_opened"] == [] and l["listeners_closed"] == [], l
    assert isinstance(l["ms"], int) and 0 <= l["ms"] < 5000, l

    # a new session: the shield is on
    new = mx.session()
    r = new.cmd("MAIL FROM:<ceo@example.com>")
    assert (r.code, r.enh) == (530, "5.7.0"), r
    mx.wait_log(lambda x: x.get("event") == "txn" and x.get("verdicts") and
                x["verdicts"][0]["check"] == "ip_shield", what="ip_shield verdict")

    # the session opened before: the old rules, its message goes through
    r = old.transaction("ceo@example.com", [LOCAL_RCPT], make_message(sender="ceo@example.com",
                                                                subject="before"))
    assert r.code == 250, r
    msgs = backend.wait_messages(1)
    assert msgs[0].mail_from == "FROM:<ceo@example.com>", msgs
    assert b"Subject: before" in msgs[0].content
    assert len(backend.messages) == 1

    # and a session after the session that started earlier ended: new rules
    old.cmd("QUIT")
    again = mx.session()
    r = again.cmd("MAIL FROM:<ceo@example.com>")
    assert r.code == 530, r


def test_spoof_threshold_change_needs_no_restart(mxshield, backend, workdir):
    """Back and forth: the second reload undoes the first."""
    mx = start(mxshield, workdir, {"local_domains": ["example.com"]})
    rewrite(mx, SHIELD_ON)
    assert hup(mx)["result"] == "ok"
    rewrite(mx, {"ip_shield": None})
    l = hup(mx)
    assert (l["result"], l["generation"]) == ("ok", 3), l
    c = mx.session()
    deliver(c, "ceo@example.com")
    assert len(backend.wait_messages(1)) == 1


# --------------------------------------------------------------------------
# a bad file is refused, the one in force goes on
# --------------------------------------------------------------------------

BAD = {
    "syntax": ("listen = ( { address = \"127.0.0.1\"; port = %(port)d; } );\n"
               "backend = { address = \"127.0.0.1\"; port = %(bport)d; };\n"
               "hostname = mx.test.example;\n", r":3: .*syntax error"),
    "unknown key": ("listen = ( { address = \"127.0.0.1\"; port = %(port)d; } );\n"
                    "backend = { address = \"127.0.0.1\"; port = %(bport)d; };\n"
                    "spoof = { enabled = true; treshold = 5; };\n", r":3: spoof\.treshold: unknown key"),
    "backend": ("listen = ( { address = \"127.0.0.1\"; port = %(port)d; } );\n"
                "backend = { address = \"no-such-host.invalid\"; port = %(bport)d; };\n",
                r":2: backend\.address"),
}


@pytest.mark.parametrize("kind", sorted(BAD))
def test_bad_config_is_refused(mxshield, backend, workdir, kind):
    mx = start(mxshield, workdir)
    text, err_re = BAD[kind]
    text = text % {"port": mx.port, "bport": backend.port}
    text += 'control = { socket = "%s"; };\ndns = { servers = [ "127.0.0.1:9" ]; timeout = 1; attempts = 1; };\n' % sock_path(workdir) \
        if kind == "backend" else 'control = { socket = "%s"; };\n' % sock_path(workdir)
    rewrite(mx, text=text)
    l = hup(mx)
    assert (l["result"], l["level"]) == ("failed", "error"), l
    assert l["errors"], l
    assert any(re.search(re.escape(mx.conf_path) + err_re, e) for e in l["errors"]), l
    assert "unchanged" in l["msg"], l
    # the old configuration goes on
    c = mx.session()
    deliver(c)
    assert len(backend.wait_messages(1)) == 1
    # ctl reload says the same; a file libconfig cannot parse does not
    # even say where the control socket is: ctl refuses it itself
    rc, out, err = ctl(mx, "reload")
    assert rc == 1 and out == "", (rc, out, err)
    assert re.search(re.escape(mx.conf_path) + err_re, err), err
    if kind == "syntax":
        assert "nothing was sent" in err, err
        assert len(results(mx)) == 1
    else:
        assert "reload refused; the configuration in force is unchanged" in err, err
        assert len(results(mx)) == 2


def test_missing_certificate_is_refused(mxshield, backend, workdir, certs):
    over = tlsutil.tls_config(certs)
    mx = start(mxshield, workdir, over)
    missing = os.path.join(workdir, "gone.pem")
    rewrite(mx, {"tls": {"cert_file": missing}})
    l = hup(mx)
    assert l["result"] == "failed", l
    assert any(mx.conf_path + ":" in e and missing in e for e in l["errors"]), l
    # STARTTLS still works with the certificate in force
    c = mx.session()
    r = c.cmd("STARTTLS")
    assert r.code == 220, r
    tlsutil.starttls(c, certs.client_context())
    c.ehlo()
    deliver(c)
    assert len(backend.wait_messages(1)) == 1


# --------------------------------------------------------------------------
# listeners
# --------------------------------------------------------------------------

def test_listener_added_then_removed(mxshield, backend, workdir):
    mx = start(mxshield, workdir, workers=2)
    first = dict(mx.config["listen"][0])
    extra = {"address": "127.0.0.1", "port": smtpkit.free_port()}
    rewrite(mx, {"listen": [first, extra]})
    l = hup(mx)
    assert l["result"] == "ok" and l["listeners_opened"] == ["127.0.0.1:%d" % extra["port"]], l
    # the added port accepts; a session on it is left open
    on_extra = smtpkit.Client(extra["port"])
    mx.clients.append(on_extra)
    assert on_extra.reply().code == 220
    on_extra.ehlo()
    rewrite(mx, {"listen": [first]})
    l = hup(mx)
    assert l["result"] == "ok" and l["listeners_closed"] == ["127.0.0.1:%d" % extra["port"]], l
    assert l["listeners_opened"] == [], l
    # the removed port refuses new connections
    smtpkit.wait_for(lambda: not smtpkit.listening(extra["port"]), 5, what="port closed")
    with pytest.raises(ConnectionRefusedError):
        smtpkit.Client(extra["port"], timeout=3)
    # its session goes on to the end
    deliver(on_extra, subject="on the removed listener")
    r = on_extra.cmd("QUIT")
    assert r.code == 221, r
    # the kept listener is the same socket: it never stopped accepting
    c = mx.session()
    deliver(c, subject="on the kept listener")
    subjects = sorted(m.content.split(b"Subject: ")[1].split(b"\r\n")[0]
                      for m in backend.wait_messages(2))
    assert subjects == [b"on the kept listener", b"on the removed listener"]


def test_listener_port_in_use_is_refused(mxshield, backend, workdir):
    mx = start(mxshield, workdir)
    import socket
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    try:
        port = busy.getsockname()[1]
        rewrite(mx, {"listen": [dict(mx.config["listen"][0]),
                                {"address": "127.0.0.1", "port": port}]})
        l = hup(mx)
        assert l["result"] == "failed", l
        assert any("127.0.0.1:%d" % port in e and "in use" in e for e in l["errors"]), l
    finally:
        busy.close()
    deliver(mx.session())
    assert len(backend.wait_messages(1)) == 1


def test_restart_only_settings_are_kept(mxshield, backend, workdir):
    mx = start(mxshield, workdir, workers=1)
    rewrite(mx, {"workers": 3, "log": {"level": "debug"}})
    l = hup(mx)
    assert l["result"] == "ok", l
    assert l["needs_restart"] == ["workers", "log.level"], l
    assert "needs a restart: workers log.level" in l["msg"], l
    rc, out, err = ctl(mx, "status")
    assert rc == 0 and "\nworkers: 1\n" in out, (rc, out, err)
    # still info: no debug line since
    c = mx.session()
    deliver(c)
    backend.wait_messages(1)
    assert not [x for x in mx.log_lines() if x.get("level") == "debug"]


# --------------------------------------------------------------------------
# TLS: a new certificate for new sessions
# --------------------------------------------------------------------------

def _fingerprint_of_pem(path):
    with open(path) as f:
        der = ssl.PEM_cert_to_DER_cert(f.read())
    return hashlib.sha256(der).hexdigest()


def _peer_fingerprint(port):
    c = smtpkit.Client(port)
    try:
        assert c.reply().code == 220
        c.ehlo()
        assert c.cmd("STARTTLS").code == 220
        tlsutil.starttls(c, tlsutil.make_certs().client_context(verify=False))
        return hashlib.sha256(c.sock.getpeercert(binary_form=True)).hexdigest()
    finally:
        c.close()


def test_certificate_replaced(mxshield, backend, workdir, certs):
    d = os.path.join(workdir, "newcert")
    os.mkdir(d)
    tlsutil._leaf(d, "fresh", "mx.test.example", "DNS:mx.test.example", ca=False)
    mx = start(mxshield, workdir, tlsutil.tls_config(certs))
    assert _peer_fingerprint(mx.port) == _fingerprint_of_pem(certs.server)
    # a session in TLS with the old certificate, left open
    old = mx.session()
    assert old.cmd("STARTTLS").code == 220
    tlsutil.starttls(old, certs.client_context())
    old.ehlo()
    rewrite(mx, {"tls": {"cert_file": os.path.join(d, "fresh.pem"),
                         "key_file": os.path.join(d, "fresh.key")}})
    assert hup(mx)["result"] == "ok"
    assert _peer_fingerprint(mx.port) == _fingerprint_of_pem(os.path.join(d, "fresh.pem"))
    deliver(old, subject="old certificate")
    assert len(backend.wait_messages(1)) == 1


# --------------------------------------------------------------------------
# hijack state survives
# --------------------------------------------------------------------------

def test_hijack_state_survives(mxshield, auth_backend, workdir):
    mx = start(mxshield, workdir, {"hijack": {"enabled": True, "max_messages": 3, "window": 60}})
    disable_alice(mx)
    rewrite(mx, {"spoof": {"enabled": True}})
    l = hup(mx)
    assert (l["result"], l["needs_restart"]) == ("ok", []), l
    auth_refused(mx.session(), ALICE)
    rc, out, err = ctl(mx, "disabled")
    assert rc == 0 and out.startswith(ALICE + " "), (rc, out, err)
    # a changed hijack limit needs a restart and is not applied
    rewrite(mx, {"hijack": {"max_messages": 100}})
    l = hup(mx)
    assert (l["result"], l["needs_restart"]) == ("ok", ["hijack.max_messages"]), l
    rc, out, err = ctl(mx, "counters")
    assert rc == 0 and re.search(r"^alice@example\.com \d+ 3 disabled", out, re.M), (rc, out, err)
    rc, out, err = ctl(mx, "unblock", ALICE)
    assert (rc, out) == (0, "OK %s\n" % ALICE), (rc, out, err)
    c = mx.session()
    auth_plain(c, ALICE)
    send(c, ALICE, 1)


# --------------------------------------------------------------------------
# mxshield ctl
# --------------------------------------------------------------------------

def test_ctl_status(mxshield, backend, workdir):
    mx = start(mxshield, workdir, workers=2)
    c = mx.session()
    rc, out, err = ctl(mx, "status")
    assert rc == 0 and err == "", (rc, out, err)
    fields = dict(line.split(": ", 1) for line in out.splitlines())
    assert fields["version"] == "0.1.0", out
    assert fields["pid"] == str(mx.pid), out
    assert re.fullmatch(r"\d+ s", fields["uptime"]), out
    assert fields["config"] == mx.conf_path, out
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \(generation 1\)", fields["loaded"]), out
    assert fields["reloads"] == "0 ok, 0 failed", out
    assert fields["listener"] == "127.0.0.1:%d" % mx.port, out
    assert fields["sessions"] == "1", out
    assert fields["workers"] == "2", out
    c.cmd("QUIT")
    rewrite(mx, {"spoof": {"threshold": 5}})
    hup(mx)
    rewrite(mx, {"spoof": {"threshold": 500}})      # out of range
    hup(mx)
    # the file in place has errors: status still answers, and says so
    rc, out, err = ctl(mx, "status")
    assert rc == 0 and "\nreloads: 1 ok, 1 failed\n" in out and "(generation 2)" in out, out
    assert "has errors (a reload would be refused" in err, err


def test_ctl_reload(mxshield, backend, workdir):
    mx = start(mxshield, workdir)
    extra = smtpkit.free_port()
    rewrite(mx, {"listen": [dict(mx.config["listen"][0]), {"address": "127.0.0.1", "port": extra}],
                 "workers": 4})
    rc, out, err = ctl(mx, "reload")
    assert (rc, err) == (0, ""), (rc, out, err)
    assert re.fullmatch(r"configuration reloaded in \d+ ms \(generation 2\)\n"
                        r"listeners opened: 127\.0\.0\.1:%d\n"
                        r"needs a restart: workers \(kept as they were\)\n" % extra, out), out
    assert smtpkit.listening(extra)
    l = results(mx)[-1]
    assert (l["result"], l["listeners_opened"]) == ("ok", ["127.0.0.1:%d" % extra]), l


def test_ctl_reload_refused(mxshield, backend, workdir, certs):
    mx = start(mxshield, workdir, tlsutil.tls_config(certs))
    missing = os.path.join(workdir, "gone.key")
    rewrite(mx, {"tls": {"key_file": missing}, "spoof": {"threshold": 7}})
    rc, out, err = ctl(mx, "reload")
    assert rc == 1 and out == "", (rc, out, err)
    lines = err.splitlines()
    assert lines[0] == ("mxshield: ctl reload: reload refused; the configuration in force "
                        "is unchanged"), err
    assert any(l.startswith(mx.conf_path + ":") and missing in l for l in lines[1:]), err
    assert results(mx)[-1]["result"] == "failed"
    # a file that does not parse: refused before it is sent
    with open(mx.conf_path, "a") as f:
        f.write("this is not libconfig\n")
    rc, out, err = ctl(mx, "reload")
    assert rc == 1 and out == "", (rc, out, err)
    assert mx.conf_path + ":" in err and "nothing was sent" in err, err
    assert len(results(mx)) == 1


def test_ctl_disabled_and_unblock(mxshield, auth_backend, workdir):
    mx = start(mxshield, workdir, {"hijack": {"enabled": True, "max_messages": 3, "window": 60}})
    rc, out, err = ctl(mx, "disabled")
    assert (rc, out, err) == (0, "", ""), (rc, out, err)
    disable_alice(mx)
    rc, out, err = ctl(mx, "disabled")
    assert rc == 0 and re.fullmatch(r"alice@example\.com \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\n", out), out
    rc, out, err = ctl(mx, "unblock", "nobody@example.com")
    assert rc == 1 and out == "" and "ctl unblock: nobody@example.com is not disabled" in err, err
    rc, out, err = ctl(mx, "unblock", ALICE)
    assert (rc, out) == (0, "OK %s\n" % ALICE), (rc, out, err)
    rc, out, err = ctl(mx, "disabled")
    assert (rc, out) == (0, ""), (rc, out, err)


@pytest.mark.parametrize("args,msg", [
    ([], "unknown command"),
    (["restart"], "ctl restart: unknown command"),
    (["status", "x"], "ctl status takes no argument"),
    (["unblock"], "ctl unblock takes one identity"),
])
def test_ctl_usage(workdir, args, msg):
    conf = os.path.join(workdir, "m.conf")
    with open(conf, "w") as f:
        f.write('control = { socket = "%s"; };\n' % sock_path(workdir))
    r = subprocess.run([conftest.MXSHIELD_BIN, "-c", conf, "ctl"] + args, capture_output=True,
                       timeout=30, env=conftest.sanitizer_env())
    assert r.returncode == 2 and msg in r.stderr.decode(), r


def test_ctl_without_a_running_mxshield(workdir):
    conf = os.path.join(workdir, "m.conf")
    with open(conf, "w") as f:
        f.write('control = { socket = "%s"; };\n' % sock_path(workdir))
    for cmd in ("status", "reload"):
        r = subprocess.run([conftest.MXSHIELD_BIN, "-c", conf, "ctl", cmd], capture_output=True,
                           timeout=30, env=conftest.sanitizer_env())
        err = r.stderr.decode()
        assert r.returncode == 1 and "ctl %s: no mxshield is running" % cmd in err, err


# --------------------------------------------------------------------------
# under load: 20 reloads, no message lost
# --------------------------------------------------------------------------

def test_reloads_under_load(mxshield, backend, workdir):
    mx = start(mxshield, workdir, {"local_domains": ["example.com"]}, workers=2)
    first = dict(mx.config["listen"][0])
    extra = {"address": "127.0.0.1", "port": smtpkit.free_port()}
    stop = threading.Event()
    sent, failed = [], []
    lock = threading.Lock()

    def loop(k):
        i = 0
        while not stop.is_set():
            subject = "load %d-%d" % (k, i)
            try:
                with smtpkit.Client(mx.port, timeout=20) as c:
                    assert c.reply().code == 220
                    c.ehlo()
                    for _ in range(2):      # two messages a session
                        r = c.transaction("sender@example.net", [LOCAL_RCPT],
                                          make_message(subject=subject))
                        assert r.code == 250, r
                        with lock:
                            sent.append(subject)
                        subject += "b"
                    assert c.cmd("QUIT").code == 221
            except Exception as e:          # noqa: BLE001 - counted, reported
                with lock:
                    failed.append("%s: %r" % (subject, e))
            i += 1

    threads = [threading.Thread(target=loop, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    try:
        time.sleep(0.5)
        for n in range(20):
            # alternate: the shield and an extra listener on, then off
            if n % 2 == 0:
                rewrite(mx, dict(SHIELD_ON, listen=[first, extra]))
            else:
                rewrite(mx, {"ip_shield": None, "listen": [first]})
            assert hup(mx)["result"] == "ok"
            time.sleep(0.1)
    finally:
        stop.set()
        for t in threads:
            t.join(30)
    assert failed == [], failed[:5]
    assert len(sent) > 40, len(sent)
    msgs = backend.wait_messages(len(sent), timeout=20)
    got = sorted(m.content.split(b"Subject: ")[1].split(b"\r\n")[0].decode() for m in msgs)
    assert got == sorted(sent)
    ms = [l["ms"] for l in results(mx)]
    assert len(ms) == 20 and all(l["result"] == "ok" for l in results(mx))
    print("\nreload under load: %d messages, 0 failed; reload ms min %d median %d max %d"
          % (len(sent), min(ms), sorted(ms)[len(ms) // 2], max(ms)))


def test_systemd_unit_reloads():
    """deploy/mxshield.service: systemctl reload sends what reloads."""
    import configparser
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str
    unit.read(os.path.join(conftest.REPO, "deploy", "mxshield.service"))
    cmd = unit["Service"]["ExecReload"].split()
    assert cmd in (["/bin/kill", "-HUP", "$MAINPID"],
                   ["/usr/local/bin/mxshield", "-c", "/etc/mxshield/mxshield.conf", "ctl", "reload"]), cmd


def test_reloads_counted_in_metrics(mxshield, backend, workdir):
    """/metrics counts applied and refused reloads, and sessions of a
    listener the reload added have their own series."""
    from test_metrics import metrics_conf, scrape
    mx = start(mxshield, workdir, metrics_conf())
    keep = {"metrics": mx.config["metrics"]}
    port2 = smtpkit.free_port()
    rewrite(mx, dict(keep, listen=[{"address": "127.0.0.1", "port": mx.port},
                                   {"address": "127.0.0.1", "port": port2}]))
    assert hup(mx)["result"] == "ok"
    rewrite(mx, text="this is not libconfig;\n")
    assert hup(mx)["result"] == "failed"
    c = smtpkit.Client(port2)
    assert c.reply().code == 220
    c.ehlo()
    deliver(c)
    c.cmd("QUIT")
    c.close()
    samples, _ = scrape(mx)
    assert samples[("mxshield_reloads_total", frozenset({("result", "success")}))] == 1
    assert samples[("mxshield_reloads_total", frozenset({("result", "failure")}))] == 1
    added = [v for (name, labels), v in samples.items()
             if name == "mxshield_sessions_total" and ("listener", "127.0.0.1:%d" % port2) in labels]
    assert added == [1], samples
