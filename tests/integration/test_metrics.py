"""
The metrics endpoint (metrics = { address; port; }) and drain_delay:

  - /metrics after known traffic, read with prometheus_client's parser
    of the text exposition format: sessions by listener, transactions by
    outcome, rejections by check and code, the spoof score histogram
    bucket by bucket, backend latency histograms, bytes, TLS sessions by
    version and cipher, build info, start time; each value compared
    with what was sent and with the log lines of the same traffic;
  - /healthz: 200 "ok" while the backend answers (the probe keeps an
    idle mxshield healthy), 503 with the reason once the backend is gone
    for metrics.health_backend_window; other paths 404, other methods
    405;
  - SIGTERM with drain_delay: /healthz says 503 "draining" at once, a
    new session is still served and delivered, the listener closes only
    after drain_delay, a transaction in progress then finishes, and the
    process exits 0;
  - configuration errors with file:line.
"""

import os
import signal
import ssl
import subprocess
import time
import urllib.error
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

import smtpkit
from conftest import MXSHIELD_BIN, SANITIZER_MARKS, libconfig_text
from policykit import quit, refused, session, start, wait_txn
from smtpkit import dot_stuff
from tlsutil import certs_fixture, starttls  # noqa: F401 (fixture)

OUT = "127.0.0.3"
RECEIVED = ("Received: from mail.example.net (mail.example.net [198.51.100.7])\r\n"
            "\tby relay.example.net with ESMTP id 4Xy; Tue, 24 Nov 2026 13:33:10 +0000")


def metrics_conf(window=60, **extra):
    c = {"metrics": {"address": "127.0.0.1", "port": smtpkit.free_port(),
                     "health_backend_window": window}}
    c.update(extra)
    return c


def url(mx, path):
    return "http://127.0.0.1:%d%s" % (mx.config["metrics"]["port"], path)


def get(mx, path, method="GET"):
    """(status, body text) of one request; errors are answers too."""
    req = urllib.request.Request(url(mx, path), method=method)
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, r.read().decode(), dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(), dict(e.headers)


def scrape(mx):
    """{(name, frozenset(labels)): value} of every sample in /metrics,
    and the families by name."""
    status, text, headers = get(mx, "/metrics")
    assert status == 200, text
    assert headers["Content-Type"].startswith("text/plain; version=0.0.4"), headers
    samples, families = {}, {}
    for fam in text_string_to_metric_families(text):
        families[fam.name] = fam
        for s in fam.samples:
            key = (s.name, frozenset(s.labels.items()))
            assert key not in samples, "series %s twice" % (key,)
            samples[key] = s.value
    return samples, families


def val(samples, name, **labels):
    key = (name, frozenset(labels.items()))
    assert key in samples, "no %s%s in /metrics; have: %s" % (
        name, labels, sorted(k for k in samples if k[0] == name))
    return samples[key]


def wait_healthy(mx, timeout=10):
    return smtpkit.wait_for(lambda: get(mx, "/healthz")[0] == 200, timeout,
                            what="/healthz 200")


def message(received=RECEIVED, subject="metrics test"):
    """A message with no spoof sign; without Received: it shows one
    (no_received, 5 points by default)."""
    hdr = []
    if received is not None:
        hdr.append(received)
    hdr += ["From: Eve <eve@example.net>", "To: <user@example.com>", "Subject: " + subject,
            "Date: Tue, 24 Nov 2026 13:33:11 +0000", "Message-ID: <%s@mail.example.net>"
            % subject.replace(" ", ".")]
    return ("\r\n".join(hdr) + "\r\n\r\n").encode() + b"Hello.\r\n" + b"x" * 2000 + b"\r\n"


def send(c, content, mail_from="<eve@example.net>"):
    assert c.cmd("MAIL FROM:%s" % mail_from).code == 250
    assert c.cmd("RCPT TO:<user@example.com>").code == 250
    assert c.cmd("DATA").code == 354
    c.send(dot_stuff(content) + b".\r\n")
    return c.reply()


TRAFFIC = {
    "local_domains": ["example.com"],
    "ip_shield": {"enabled": True,
                  "entries": [{"domain": "$LOCALDOMAIN$", "networks": ["127.0.0.2"]}]},
    "spoof": {"enabled": True, "threshold": 25, "action": "header"},
}


def test_counts_after_known_traffic(mxshield, backend):
    mx = start(mxshield, metrics_conf(**TRAFFIC))
    listener = "127.0.0.1:%d" % mx.port
    sent = []

    # two accepted messages in one session: spoof scores 0 and 5
    c = session(mx, OUT)
    clean, unsigned = message(), message(received=None, subject="no received")
    assert send(c, clean).code == 250
    assert send(c, unsigned).code == 250
    quit(c)
    sent += [clean, unsigned]
    # IP Shield refuses a local sender from outside: 530 5.7.0 at MAIL
    c = session(mx, OUT)
    refused(c.cmd("MAIL FROM:<mike@example.com>"),
            "530 5.7.0 Authentication required to send mail from " + OUT)
    quit(c)
    # a transaction given up by RSET: aborted
    c = session(mx, OUT)
    assert c.cmd("MAIL FROM:<eve@example.net>").code == 250
    assert c.cmd("RSET").code == 250
    quit(c)

    backend.wait_messages(2)
    mx.wait_log(lambda l: l.get("event") == "session", what="3 session lines")
    smtpkit.wait_for(lambda: len(mx.logs("session")) == 3, 5, what="3 session lines")
    txns = wait_txn(mx, lambda l: True)
    smtpkit.wait_for(lambda: len(mx.logs("txn")) == 4, 5, what="4 txn lines")
    txns = mx.logs("txn")
    assert sorted(t["result"] for t in txns) == ["aborted", "accepted", "accepted",
                                                 "rejected"], txns

    m, fam = scrape(mx)
    # sessions by listener: three, none open now
    assert val(m, "mxshield_sessions_total", listener=listener) == 3
    assert val(m, "mxshield_sessions_open", listener=listener) == 0
    assert fam["mxshield_sessions"].type == "counter"
    assert fam["mxshield_sessions_open"].type == "gauge"
    # transactions by outcome, as the log lines said
    for outcome, n in (("accepted", 2), ("rejected", 1), ("aborted", 1)):
        assert val(m, "mxshield_transactions_total", outcome=outcome) == n, outcome
    # rejections by check and code: the one IP Shield refusal, nothing else
    rej = {k: v for k, v in m.items() if k[0] == "mxshield_rejections_total"}
    assert rej == {("mxshield_rejections_total",
                    frozenset({("check", "ip_shield"), ("code", "530")})): 1}, rej
    # the spoof histogram: one message at 0, one at 5 (no_received)
    assert fam["mxshield_spoof_score"].type == "histogram"
    for le in range(26):
        want = 1 if le < 5 else 2
        assert val(m, "mxshield_spoof_score_bucket", le="%d" % le) == want, le
    assert val(m, "mxshield_spoof_score_bucket", le="+Inf") == 2
    assert val(m, "mxshield_spoof_score_count") == 2
    assert val(m, "mxshield_spoof_score_sum") == 5
    spoof = sorted(v["score"] for t in txns for v in t["verdicts"] if v["check"] == "spoof")
    assert spoof == [0, 5], txns
    # the backend: one connection and one greeting a session, two final dots
    assert val(m, "mxshield_backend_connect_seconds_count") == 3
    assert val(m, "mxshield_backend_connect_seconds_bucket", le="+Inf") == 3
    assert val(m, "mxshield_backend_connect_failures_total") == 0
    assert val(m, "mxshield_backend_reply_seconds_count", reply="greeting") == 3
    assert val(m, "mxshield_backend_reply_seconds_count", reply="final_dot") == 2
    # commands relayed and answered: EHLO x3, MAIL x3, RCPT x2, QUIT x3, and
    # the RSET of the aborted transaction (the refused MAIL never went)
    assert val(m, "mxshield_backend_reply_seconds_count", reply="command") == 12
    assert 0 < val(m, "mxshield_backend_reply_seconds_sum", reply="final_dot") < 10
    # bytes: at least the messages each way through, plus the dialogue
    size = sum(len(dot_stuff(x)) for x in sent)
    assert val(m, "mxshield_bytes_received_total", side="client") > size
    assert val(m, "mxshield_bytes_sent_total", side="backend") > size
    assert val(m, "mxshield_bytes_sent_total", side="backend") > sum(
        len(x.raw) for x in backend.messages)
    assert val(m, "mxshield_bytes_sent_total", side="client") > 0
    assert val(m, "mxshield_bytes_received_total", side="backend") > 0
    # client byte counts agree with the session lines (plaintext, no TLS)
    assert val(m, "mxshield_bytes_received_total", side="client") == sum(
        s["bytes_in"] for s in mx.logs("session"))
    assert val(m, "mxshield_bytes_sent_total", side="client") == sum(
        s["bytes_out"] for s in mx.logs("session"))
    # build info and start time
    version = subprocess.run([MXSHIELD_BIN, "--version"], capture_output=True, text=True,
                             timeout=10).stdout.split()[1]
    assert val(m, "mxshield_build_info", version=version) == 1
    assert abs(val(m, "mxshield_start_time_seconds") - time.time()) < 120
    # nothing else happened
    assert val(m, "mxshield_hijack_disabled_identities") == 0
    assert val(m, "mxshield_reloads_total", result="success") == 0
    assert val(m, "mxshield_reloads_total", result="failure") == 0
    assert val(m, "mxshield_draining") == 0
    assert val(m, "mxshield_dns_lookups_total") == 0
    assert val(m, "mxshield_spf_results_total", identity="mail_from", result="pass") == 0
    assert not [k for k in m if k[0] == "mxshield_tls_sessions_total"], m
    assert val(m, "mxshield_backend_last_success_timestamp_seconds") > time.time() - 60
    assert get(mx, "/healthz")[:2] == (200, "ok\n")


def test_tls_sessions_by_version_and_cipher(mxshield, backend, certs):
    mx = start(mxshield, metrics_conf(
        tls={"cert_file": certs.server, "key_file": certs.server_key},
        listen0={"tls": "starttls"}))
    ctx = ssl.create_default_context(cafile=certs.ca)
    c = session(mx)
    assert c.cmd("STARTTLS").code == 220
    starttls(c, ctx)
    c.ehlo("client.example.net")
    quit(c)
    (s,) = smtpkit.wait_for(lambda: mx.logs("session"), 5, what="session line")
    version, cipher = s["tls"].split(" ", 1)
    m, _ = scrape(mx)
    tls = {k: v for k, v in m.items() if k[0] == "mxshield_tls_sessions_total"}
    assert tls == {("mxshield_tls_sessions_total", frozenset(
        {("side", "client"), ("version", version), ("cipher", cipher)})): 1}, tls
    assert val(m, "mxshield_sessions_total", listener="127.0.0.1:%d" % mx.port) == 1


def test_healthz_follows_the_backend(mxshield, backend):
    mx = start(mxshield, metrics_conf(window=2))
    # no session yet: the probe found the backend
    wait_healthy(mx)
    assert get(mx, "/healthz")[:2] == (200, "ok\n")
    # still healthy while idle: the probe runs again before the window ends
    time.sleep(3)
    assert get(mx, "/healthz")[:2] == (200, "ok\n")
    assert not backend.transactions
    backend.stop()
    status, body = smtpkit.wait_for(
        lambda: (lambda r: r[:2] if r[0] == 503 else None)(get(mx, "/healthz")), 10,
        what="/healthz 503")
    assert body.startswith("backend unreachable: cannot connect to the backend "
                           "127.0.0.1:%d: connection refused (last success " % backend.port), body
    assert body.endswith(" s ago, metrics.health_backend_window 2)\n"), body
    # /metrics is served all the same
    m, _ = scrape(mx)
    assert val(m, "mxshield_build_info", version=next(
        dict(k[1])["version"] for k in m if k[0] == "mxshield_build_info")) == 1
    # a session now gets the backend's absence, and the counter says so
    c = mx.client()
    r = c.reply()
    assert (r.code, r.enh) == (421, "4.4.1"), r
    m, _ = scrape(mx)
    assert val(m, "mxshield_backend_connect_failures_total") == 1


def test_other_paths_and_methods(mxshield, backend):
    mx = start(mxshield, metrics_conf())
    status, body, _ = get(mx, "/")
    assert status == 404, body
    assert get(mx, "/metrics/x")[0] == 404
    assert get(mx, "/healthz?x=1")[0] in (200, 503)      # the query is not the path
    status, body, headers = get(mx, "/metrics", method="POST")
    assert status == 405 and headers.get("Allow") == "GET, HEAD", (status, headers)
    assert get(mx, "/metrics", method="HEAD")[0] == 200
    # the HTTP port is no SMTP port and the SMTP port no HTTP port
    c = session(mx)
    quit(c)


def test_drain_delay(mxshield, backend):
    mx = start(mxshield, metrics_conf(drain_delay=3, shutdown_timeout=20))
    mxshield.instances.remove(mx)      # this test stops it itself
    try:
        wait_healthy(mx)
        # a transaction in progress holds the drain open
        a = session(mx)
        assert a.cmd("MAIL FROM:<a@example.net>").code == 250
        assert a.cmd("RCPT TO:<user@example.com>").code == 250
        t0 = time.monotonic()
        mx.proc.send_signal(signal.SIGTERM)
        smtpkit.wait_for(lambda: get(mx, "/healthz")[:2] == (503, "draining\n"), 2,
                         what="/healthz 503 draining")
        m, _ = scrape(mx)
        assert val(m, "mxshield_draining") == 1
        # a new session is still served during drain_delay, to the end
        b = session(mx)
        assert b.transaction("b@example.net", ["user@example.com"],
                             smtpkit.make_message(subject="during drain_delay")).code == 250
        quit(b)
        backend.wait_messages(1)
        assert time.monotonic() - t0 < 2.5, "too slow to tell"
        assert smtpkit.listening(mx.port)
        # then the listener closes; the process waits for session a
        smtpkit.wait_for(lambda: not smtpkit.listening(mx.port), 6, what="listener closed")
        assert time.monotonic() - t0 >= 2.9
        assert mx.alive()
        assert get(mx, "/healthz")[:2] == (503, "draining\n")
        assert a.cmd("DATA").code == 354
        a.send(dot_stuff(smtpkit.make_message(subject="in progress")) + b".\r\n")
        assert a.reply().code == 250
        r = a.reply()
        assert (r.code, r.enh) == (421, "4.3.2"), r
        mx.proc.wait(timeout=10)
        assert mx.proc.returncode == 0
        assert len(backend.messages) == 2
    finally:
        for c in mx.clients:
            c.close()
        if mx.proc.poll() is None:
            mx.proc.kill()
            mx.proc.wait(timeout=5)
        mx._err.close()
    err = mx.stderr()
    assert not [k for k in SANITIZER_MARKS if k in err], err[-4000:]
    assert not mx.broken_log_lines()
    shut = [l["msg"] for l in mx.logs("shutdown")]
    assert shut == ["SIGTERM: /healthz says 503, new sessions still served for drain_delay "
                    "(3 s), then draining (at most 20 s)",
                    "drain_delay over: draining sessions (at most 20 s)"], shut


def check(workdir, cfg):
    path = os.path.join(workdir, "m.conf")
    with open(path, "w") as f:
        f.write(libconfig_text(cfg))
    r = subprocess.run([MXSHIELD_BIN, "-c", path, "--check-config"], capture_output=True,
                       text=True, timeout=20)
    return r.returncode, r.stdout + r.stderr, path


BASE = {"listen": [{"address": "127.0.0.1", "port": 2525}],
        "backend": {"address": "127.0.0.1", "port": 2626}}


@pytest.mark.parametrize("extra, needle, text", [
    ({"metrics": {"port": 0}}, "port = 0", "metrics.port"),
    ({"metrics": {"address": "localhost"}}, "localhost", "metrics.address"),
    ({"metrics": {"port": 2525}}, "port = 2525;", "metrics.port: 127.0.0.1 port 2525 is "
     "listen[0] (127.0.0.1 port 2525)"),
    ({"metrics": {"health_backend_window": 0}}, "health_backend_window",
     "metrics.health_backend_window"),
    ({"metrics": {"colour": "red"}}, "colour", "metrics.colour: unknown key"),
    ({"drain_delay": -1}, "drain_delay", "drain_delay"),
])
def test_config_errors(workdir, extra, needle, text):
    cfg = dict(BASE)
    cfg.update(extra)
    rc, out, path = check(workdir, cfg)
    assert rc == 1, out
    with open(path) as f:
        lines = f.read().splitlines()
    # the last line holding needle: the listener's port comes first
    line = max(i for i, l in enumerate(lines, 1) if needle in l)
    assert "%s:%d: %s" % (path, line, text) in out, out


def test_config_accepted(workdir):
    cfg = dict(BASE, drain_delay=5, metrics={"address": "::1", "port": 9125,
                                             "health_backend_window": 30})
    rc, out, _ = check(workdir, cfg)
    assert rc == 0, out
