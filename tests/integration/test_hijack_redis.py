"""
Hijack detection shared by replicas (README "More than one replica"):
hijack.store = "redis" keeps the counters and the disabled identities in
a real redis-server that the test starts on a free loopback port with a
temporary directory (append-only file on, no RDB snapshots), and stops
by its PID.

  - two mxshield processes sharing one Redis: the limit holds across
    both, and an unblock through either is seen by both;
  - a Redis restart (stopped, started again on the same directory and
    port) keeps the disabled identity;
  - Redis unreachable: on_store_failure = "allow" lets the message
    through (uncounted) and logs it; "tempfail" answers 451 4.3.0 at
    MAIL and 454 4.7.0 at AUTH;
  - a password-protected Redis (requirepass) with password_file;
  - the window's key expires with hijack.window;
  - Redis round trips per message, for README's figure.
"""

import os
import shutil
import socket as so
import subprocess
import tempfile
import time

import pytest

import smtpkit
from policykit import AUTH_CAPS, auth_plain, b64, commands, session
from smtpkit import make_message
from test_hijack import cli, mails_from

ALICE = "alice@example.com"
BOB = "bob@example.com"
RCPT = "rcpt@example.net"
REDIS = shutil.which("redis-server")
REDIS_CLI = shutil.which("redis-cli")

pytestmark = pytest.mark.skipif(REDIS is None or REDIS_CLI is None,
                                reason="redis-server not installed (tools/deps.sh test)")


class Redis:
    """A redis-server of the test's own: loopback, free port, its own
    directory; start() and stop() may be called again (a restart)."""

    def __init__(self, password=None):
        self.dir = tempfile.mkdtemp(prefix="mxshield-redis-")
        self.port = smtpkit.free_port()
        self.password = password
        self.proc = None

    def start(self):
        argv = [REDIS, "--port", str(self.port), "--bind", "127.0.0.1",
                "--dir", self.dir, "--appendonly", "yes", "--save", "",
                "--daemonize", "no", "--logfile", os.path.join(self.dir, "redis.log")]
        if self.password:
            argv += ["--requirepass", self.password]
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        smtpkit.wait_for(lambda: self.cli("PING") == "PONG", 10, what="redis-server answering")

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()       # SIGTERM: the append-only file is flushed
            self.proc.wait(timeout=10)
        self.proc = None

    def cli(self, *args):
        argv = [REDIS_CLI, "-h", "127.0.0.1", "-p", str(self.port)]
        env = dict(os.environ)
        if self.password:
            env["REDISCLI_AUTH"] = self.password
        r = subprocess.run(argv + list(args), capture_output=True, timeout=10, env=env)
        return r.stdout.decode().strip()

    def commandstats(self):
        """{command: calls} from INFO commandstats."""
        out = {}
        for line in self.cli("INFO", "commandstats").splitlines():
            if line.startswith("cmdstat_"):
                name, rest = line[len("cmdstat_"):].split(":", 1)
                out[name] = int(rest.split("calls=")[1].split(",")[0])
        return out


@pytest.fixture
def redis():
    r = Redis()
    yield r
    r.stop()
    shutil.rmtree(r.dir, ignore_errors=True)


@pytest.fixture
def auth_backend(backend):
    backend.capabilities = list(AUTH_CAPS)
    return backend


def start_mx(mxshield, workdir, port, name, failure="allow", password_file=None,
             max_messages=3, window=60, extra=None):
    sock = os.path.join(workdir, name + ".sock")
    rd = {"address": "127.0.0.1", "port": port, "prefix": "mxshield:", "timeout_ms": 500}
    if password_file:
        rd["password_file"] = password_file
    conf = {"hijack": {"enabled": True, "max_messages": max_messages, "window": window,
                       "store": "redis", "on_store_failure": failure, "redis": rd},
            "control": {"socket": sock}}
    conf.update(extra or {})
    mx = mxshield(conf)
    smtpkit.wait_for(lambda: os.path.exists(sock), 5, what="control socket")
    return mx


def connected(mx, n=1):
    mx.wait_log(lambda l: l.get("event") == "hijack" and "connected to Redis" in l.get("msg", ""),
                timeout=10, what="the worker's Redis connection")


def send(c, sender, n=1):
    for _ in range(n):
        r = c.transaction(sender, [RCPT], make_message())
        assert r.code == 250, r


def refused_mail(c, sender):
    r = c.cmd("MAIL FROM:<%s>" % sender)
    assert (r.code, r.enh) == (550, "5.7.1"), r
    return r


def listed(mx, flag="--list-disabled"):
    rc, out, err = cli(mx.conf_path, flag)
    assert rc == 0, (out, err)
    return out


def counted(redis, n, identity=ALICE):
    """The count after a 250 is not awaited by the client: wait until
    Redis holds n for identity (a MAIL in another process right after
    the 250 may come first: README, messages in flight)."""
    key = "mxshield:w:" + identity.lower()
    smtpkit.wait_for(lambda: redis.cli("ZCARD", key) == str(n), 5,
                     what="%d counted in %s" % (n, key))


def disable_alice_across(a_mx, b_mx, backend, redis):
    """2 messages through A, 2 through B: the 4th is refused, alice is
    disabled."""
    a = session(a_mx)
    auth_plain(a, ALICE)
    send(a, ALICE, 2)
    counted(redis, 2)
    b = session(b_mx)
    auth_plain(b, ALICE)
    send(b, ALICE, 1)
    counted(redis, 3)
    refused_mail(b, ALICE)
    assert len(mails_from(backend, ALICE)) == 3, commands(backend)
    return a, b


# --------------------------------------------------------------------------

def test_limit_holds_across_two_replicas(mxshield, auth_backend, workdir, redis):
    redis.start()
    a_mx = start_mx(mxshield, workdir, redis.port, "a")
    b_mx = start_mx(mxshield, workdir, redis.port, "b")
    connected(a_mx)
    connected(b_mx)
    a, b = disable_alice_across(a_mx, b_mx, auth_backend, redis)
    # the replica that counted the first two refuses her too, at MAIL
    refused_mail(a, ALICE)
    # and a new AUTH as her, on either, never reaches the backend
    for mx in (a_mx, b_mx):
        c = session(mx)
        r = c.cmd("AUTH PLAIN " + b64("\0%s\0secret" % ALICE))
        assert (r.code, r.enh) == (535, "5.7.8"), r
    assert len(auth_backend.transactions) == 3
    # the replica whose MAIL passed the limit logged it
    line = b_mx.wait_log(lambda l: l.get("event") == "hijack" and l.get("action") == "disabled",
                         what="hijack disabled line")[0]
    assert line["identity"] == ALICE and line["messages"] == 3
    # the disabled set lives in Redis, and both replicas list it
    assert redis.cli("HGET", "mxshield:disabled", ALICE).endswith(" enforce " + ALICE)
    for mx in (a_mx, b_mx):
        assert listed(mx).startswith(ALICE + " "), listed(mx)
    # another identity is not affected
    c = session(a_mx)
    auth_plain(c, BOB)
    send(c, BOB, 1)


def test_unblock_through_either_is_seen_by_both(mxshield, auth_backend, workdir, redis):
    redis.start()
    a_mx = start_mx(mxshield, workdir, redis.port, "a")
    b_mx = start_mx(mxshield, workdir, redis.port, "b")
    connected(a_mx)
    connected(b_mx)
    a, b = disable_alice_across(a_mx, b_mx, auth_backend, redis)
    rc, out, err = cli(b_mx.conf_path, "--unblock", ALICE)
    assert rc == 0, (out, err)
    assert redis.cli("HEXISTS", "mxshield:disabled", ALICE) == "0"
    assert listed(a_mx) == ""
    # A never cached the disabled set: its next MAIL goes through
    send(a, ALICE, 1)
    assert len(mails_from(auth_backend, ALICE)) == 4
    b_mx.wait_log(lambda l: l.get("event") == "hijack" and l.get("action") == "enabled",
                  what="hijack enabled line")
    # counting starts afresh: two more pass on B, the next is refused on A
    send(b, ALICE, 2)
    counted(redis, 3)
    refused_mail(a, ALICE)
    # and unblocked through A this time, B sees it
    rc, out, err = cli(a_mx.conf_path, "--unblock", ALICE)
    assert rc == 0, (out, err)
    send(b, ALICE, 1)
    assert len(mails_from(auth_backend, ALICE)) == 7


def test_redis_restart_keeps_the_disabled_identity(mxshield, auth_backend, workdir, redis):
    redis.start()
    a_mx = start_mx(mxshield, workdir, redis.port, "a", failure="tempfail")
    b_mx = start_mx(mxshield, workdir, redis.port, "b", failure="tempfail")
    connected(a_mx)
    connected(b_mx)
    a, b = disable_alice_across(a_mx, b_mx, auth_backend, redis)
    redis.stop()
    redis.start()
    assert redis.cli("HGET", "mxshield:disabled", ALICE).endswith(" enforce " + ALICE)

    # once reconnected (451 while not), alice is still refused
    def answer():
        r = a.cmd("MAIL FROM:<%s>" % ALICE)
        return r if r.code != 451 else None
    r = smtpkit.wait_for(answer, 10, interval=0.2, what="a reconnected mxshield")
    assert (r.code, r.enh) == (550, "5.7.1"), r
    refused_mail(b, ALICE)
    assert len(mails_from(auth_backend, ALICE)) == 3, commands(auth_backend)


def test_redis_down_allow_delivers_and_logs(mxshield, auth_backend, workdir):
    port = smtpkit.free_port()          # nothing listens there
    mx = start_mx(mxshield, workdir, port, "a", failure="allow")
    c = session(mx)
    auth_plain(c, ALICE)
    send(c, ALICE, 4)                   # past max_messages: nothing counts
    assert len(mails_from(auth_backend, ALICE)) == 4
    line = mx.wait_log(lambda l: l.get("event") == "hijack" and l.get("action") == "store_failure",
                       what="store_failure line")[0]
    assert line["on_store_failure"] == "allow"
    assert line["reason"]
    mx.wait_log(lambda l: l.get("event") == "hijack" and "unreachable" in l.get("msg", ""),
                what="Redis unreachable line")


def test_redis_down_tempfail_refuses_with_451(mxshield, auth_backend, workdir, redis):
    redis.start()
    mx = start_mx(mxshield, workdir, redis.port, "a", failure="tempfail")
    connected(mx)
    c = session(mx)
    auth_plain(c, ALICE)
    redis.stop()
    r = c.cmd("MAIL FROM:<%s>" % ALICE)
    assert (r.code, r.enh) == (451, "4.3.0"), r
    assert mails_from(auth_backend, ALICE) == []
    txn = mx.wait_log(lambda l: l.get("event") == "txn" and l.get("result") == "rejected",
                      what="txn line")[0]
    assert any(v["check"] == "hijack" and v["code"] == 451 for v in txn["verdicts"]), txn
    # a new AUTH cannot be checked either: a temporary failure, not relayed
    d = session(mx)
    r = d.cmd("AUTH PLAIN " + b64("\0%s\0secret" % BOB))
    assert (r.code, r.enh) == (454, "4.7.0"), r
    assert not any(x.startswith("AUTH PLAIN " + b64("\0%s" % BOB)[:8]) for x in commands(auth_backend)
                   if BOB in x)
    line = mx.wait_log(lambda l: l.get("event") == "hijack" and l.get("action") == "store_failure",
                       what="store_failure line")[0]
    assert line["on_store_failure"] == "tempfail"


def test_password_protected_redis(mxshield, auth_backend, workdir):
    r = Redis(password="s3cret-pw")
    try:
        r.start()
        pw = os.path.join(workdir, "redis.pw")
        with open(pw, "w") as f:
            f.write("s3cret-pw\n")
        os.chmod(pw, 0o600)
        mx = start_mx(mxshield, workdir, r.port, "a", password_file=pw)
        connected(mx)
        c = session(mx)
        auth_plain(c, ALICE)
        send(c, ALICE, 3)
        refused_mail(c, ALICE)
        assert r.cli("HEXISTS", "mxshield:disabled", ALICE) == "1"
        assert "s3cret-pw" not in mx.stderr()
        # a wrong password: every question fails, and says why
        with open(pw, "w") as f:
            f.write("wrong\n")
        bad = start_mx(mxshield, workdir, r.port, "b", password_file=pw)
        c = session(bad)
        auth_plain(c, BOB)
        send(c, BOB, 1)                 # allow: through, uncounted
        bad.wait_log(lambda l: l.get("event") == "hijack" and "AUTH" in l.get("reason", "")
                     + l.get("msg", ""), what="AUTH refused by Redis")
        assert "wrong" not in bad.stderr().replace("wrong password", "")
    finally:
        r.stop()
        shutil.rmtree(r.dir, ignore_errors=True)


def test_counter_key_expires_with_the_window(mxshield, auth_backend, workdir, redis):
    redis.start()
    mx = start_mx(mxshield, workdir, redis.port, "a", window=120)
    connected(mx)
    c = session(mx)
    auth_plain(c, "Alice@Example.com")
    send(c, ALICE, 2)
    key = "mxshield:w:alice@example.com"
    smtpkit.wait_for(lambda: redis.cli("ZCARD", key) == "2", 5, what="two counted in " + key)
    ttl = int(redis.cli("TTL", key))
    assert 110 <= ttl <= 120, ttl
    out = listed(mx, "--list-counters")
    assert out == "alice@example.com 2 3\n", out


def test_round_trips_per_message(mxshield, auth_backend, workdir, redis, capsys):
    redis.start()
    mx = start_mx(mxshield, workdir, redis.port, "a", max_messages=1000)
    connected(mx)
    c = session(mx)
    auth_plain(c, ALICE)
    send(c, ALICE, 1)       # warm: the scripts are loaded at connect
    time.sleep(0.2)
    redis.cli("CONFIG", "RESETSTAT")
    n = 20
    send(c, ALICE, n)
    smtpkit.wait_for(lambda: redis.cli("ZCARD", "mxshield:w:alice@example.com") == str(n + 1), 5,
                     what="every message counted")
    stats = redis.commandstats()
    # what a client sends (the rest of commandstats ran inside the scripts)
    ours = {k: v for k, v in stats.items() if k in ("evalsha", "eval", "script|load", "auth",
                                                     "select")}
    # one EVALSHA at MAIL (awaited), one after the backend's 250 (not)
    assert ours == {"evalsha": 2 * n}, stats
    with capsys.disabled():
        print("\nRedis round trips per message: %.1f (%s over %d messages)" % (
            sum(ours.values()) / n, ours, n))


def test_flushed_scripts_are_sent_again(mxshield, auth_backend, workdir, redis):
    """SCRIPT FLUSH (or a Redis that lost its scripts): EVALSHA gets
    NOSCRIPT, the script's text follows with EVAL, nothing is lost."""
    redis.start()
    mx = start_mx(mxshield, workdir, redis.port, "a")
    connected(mx)
    c = session(mx)
    auth_plain(c, ALICE)
    send(c, ALICE, 1)
    assert redis.cli("SCRIPT", "FLUSH") == "OK"
    redis.cli("CONFIG", "RESETSTAT")
    send(c, ALICE, 2)
    refused_mail(c, ALICE)
    assert redis.cli("HEXISTS", "mxshield:disabled", ALICE) == "1"
    stats = redis.commandstats()
    assert stats.get("eval", 0) >= 1, stats
    assert len(mails_from(auth_backend, ALICE)) == 3


@pytest.mark.parametrize("hijack,where,what", [
    ('store = "memcached";', "hijack.store", "file"),
    ('on_store_failure = "retry";', "hijack.on_store_failure", "allow"),
    ('store = "redis"; redis = { password_file = "/nonexistent/redis.pw"; };',
     "hijack.redis.password_file", "cannot read /nonexistent/redis.pw"),
    ('store = "redis"; redis = { prefix = "mx shield:"; };', "hijack.redis.prefix", "spaces"),
    ('store = "redis"; redis = { address = "redis.example"; };', "hijack.redis.address", ""),
    ('store = "redis"; redis = { timeout_ms = 0; };', "hijack.redis.timeout_ms", ""),
])
def test_check_config_names_the_line(workdir, hijack, where, what):
    conf = os.path.join(workdir, "bad.conf")
    with open(conf, "w") as f:
        f.write('listen = ( { address = "127.0.0.1"; port = 2525; } );\n'
                'backend = { address = "127.0.0.2"; port = 25; };\n'
                'hijack = {\n  enabled = true;\n  %s\n};\n' % hijack)
    rc, out, err = cli(conf, "--check-config")
    assert rc == 1, (out, err)
    assert "%s:5: %s" % (conf, where) in out + err, out + err
    assert what in out + err


def test_password_never_in_check_config_output(workdir):
    pw = os.path.join(workdir, "redis.pw")
    with open(pw, "w") as f:
        f.write("")
    conf = os.path.join(workdir, "pw.conf")
    with open(conf, "w") as f:
        f.write('listen = ( { address = "127.0.0.1"; port = 2525; } );\n'
                'backend = { address = "127.0.0.2"; port = 25; };\n'
                'hijack = { enabled = true; store = "redis";\n'
                '  redis = { password_file = "%s"; }; };\n' % pw)
    rc, out, err = cli(conf, "--check-config")
    assert rc == 1 and "hijack.redis.password_file" in out + err, out + err
    with open(pw, "w") as f:
        f.write("topsecret\n")
    rc, out, err = cli(conf, "--check-config")
    assert rc == 0, out + err
    assert "topsecret" not in out + err


def test_auth_login_waits_for_redis_on_its_user_line(mxshield, auth_backend, workdir, redis):
    """AUTH LOGIN names the identity on a line inside the exchange: that
    line waits for Redis and is read again from where the exchange was."""
    redis.start()
    mx = start_mx(mxshield, workdir, redis.port, "a")
    connected(mx)
    c = session(mx)
    assert c.cmd("AUTH LOGIN").code == 334
    assert c.cmd(b64(BOB)).code == 334
    assert c.cmd(b64("secret")).code == 235
    send(c, BOB, 1)
    redis.cli("HSET", "mxshield:disabled", ALICE, "1 enforce " + ALICE)
    d = session(mx)
    assert d.cmd("AUTH LOGIN").code == 334
    r = d.cmd(b64(ALICE))
    assert (r.code, r.enh) == (535, "5.7.8"), r
    assert not any(x == b64(ALICE) for x in commands(auth_backend))


def test_recipients_counted_in_redis(mxshield, auth_backend, workdir, redis):
    redis.start()
    sock = os.path.join(workdir, "r.sock")
    mx = mxshield({"hijack": {"enabled": True, "max_messages": 3, "window": 60, "count": "recipients",
                              "store": "redis", "redis": {"port": redis.port}},
                   "control": {"socket": sock}})
    connected(mx)
    c = session(mx)
    auth_plain(c, ALICE)
    r = c.transaction(ALICE, ["a@example.net", "b@example.net"], make_message())
    assert r.code == 250, r
    counted(redis, 1)       # one message, two recipients: one member
    assert redis.cli("ZRANGE", "mxshield:w:alice@example.com", "0", "-1").endswith(":2")
    assert c.cmd("MAIL FROM:<%s>" % ALICE).code == 250
    assert c.cmd("RCPT TO:<c@example.net>").code == 250
    r = c.cmd("RCPT TO:<d@example.net>")
    assert (r.code, r.enh) == (550, "5.7.1"), r
    smtpkit.wait_for(lambda: redis.cli("HEXISTS", "mxshield:disabled", ALICE) == "1", 5,
                     what="alice disabled in Redis")
    line = mx.wait_log(lambda l: l.get("event") == "hijack" and l.get("action") == "disabled",
                       what="hijack disabled line")[0]
    assert (line["stage"], line["recipients"], line["in_message"]) == ("rcpt", 2, 2)


def test_store_in_metrics(mxshield, auth_backend, workdir, redis):
    """/metrics shows the store's traffic and health: commands, the
    connected workers, and a failure once Redis is gone."""
    from test_metrics import metrics_conf, scrape
    redis.start()
    mx = start_mx(mxshield, workdir, redis.port, "a", failure="allow",
                  extra=metrics_conf())
    connected(mx)
    key = ("mxshield_hijack_store_commands_total", frozenset())
    before = scrape(mx)[0][key]         # what the connection itself sent
    c = session(mx)
    auth_plain(c, ALICE)
    send(c, ALICE, 2)
    smtpkit.wait_for(lambda: scrape(mx)[0][key] >= before + 5, 5, what="5 store commands")
    samples, _ = scrape(mx)
    # AUTH asks once, each message twice (MAIL, then the count after 250)
    assert samples[key] == before + 5
    assert samples[("mxshield_hijack_store_failures_total", frozenset())] == 0
    assert samples[("mxshield_hijack_store_connected_workers", frozenset())] == 1
    redis.stop()
    send(c, ALICE, 1)                   # allowed, uncounted
    samples, _ = scrape(mx)
    assert samples[("mxshield_hijack_store_failures_total", frozenset())] >= 1
    assert samples[("mxshield_hijack_store_connected_workers", frozenset())] == 0
