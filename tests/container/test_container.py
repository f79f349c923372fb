"""
The container image as a user runs it (podman): its own configuration
(docker/mxshield.conf) with MXSHIELD_BACKEND, as uid 2525 with no
capabilities and a read-only root, mail through it to a recording
backend, /healthz and the HEALTHCHECK, SIGHUP reloading a mounted file,
SIGTERM draining within the runtime's stop timeout.

Run by tests/container/run.sh (`make test-container`), which makes the
base image, builds the image and names it:

  MXSHIELD_IMAGE  the image under test

Each container gets a network namespace of its own (--network none: only
its loopback), so the image's fixed ports (2525, 9125, backend on 25)
never meet anything else on the machine. The test reaches into that
namespace as root: the recording backend and the clients make their
sockets on a thread that joined it (setns), swaks runs under nsenter.
Every container made here is removed at the end, also when a test fails
(its log is printed then).
"""

import ctypes
import json
import os
import shutil
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))

import smtpkit  # noqa: E402

IMAGE = os.environ.get("MXSHIELD_IMAGE")
HOSTNAME = "mx.container.test"
CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)

if not IMAGE:
    pytest.fail("MXSHIELD_IMAGE is not set: run make test-container", pytrace=False)


def podman(*args, timeout=60, check=True):
    r = subprocess.run(["podman", *args], stdin=subprocess.DEVNULL, capture_output=True,
                       text=True, timeout=timeout)
    if check:
        assert r.returncode == 0, "podman %s: %d\n%s%s" % (" ".join(args), r.returncode,
                                                           r.stdout, r.stderr)
    return r


def in_netns(path, fn, timeout=30):
    """fn() on a thread that joined the network namespace at path: the
    sockets it makes (a listening one, the connections that one accepts,
    a client's) stay in that namespace whichever thread uses them later."""
    out = {}

    def run():
        try:
            fd = os.open(path, os.O_RDONLY)
            try:
                if _libc.setns(fd, CLONE_NEWNET) != 0:
                    e = ctypes.get_errno()
                    raise OSError(e, "setns(%s): %s" % (path, os.strerror(e)))
                out["v"] = fn()
            finally:
                os.close(fd)
        except BaseException as e:      # noqa: B902 - handed to the caller
            out["e"] = e

    t = threading.Thread(target=run, name="netns", daemon=True)
    t.start()
    t.join(timeout)
    assert not t.is_alive(), "timed out in the container's namespace"
    if "e" in out:
        raise out["e"]
    return out["v"]


class Container:
    """One mxshield container, --network none, removed by the fixture."""

    def __init__(self, name, args):
        self.name = name
        podman("run", "-d", "--name", name, "--network", "none", "--hostname", HOSTNAME,
               "--cap-drop", "ALL", "--read-only", "--security-opt", "no-new-privileges",
               "-e", "MXSHIELD_BACKEND=127.0.0.1", *args, IMAGE)
        self.pid = int(self.inspect("{{.State.Pid}}"))
        assert self.pid > 0, self.inspect("{{.State.Status}}")
        self.netns = "/proc/%d/ns/net" % self.pid
        self.backend = None

    def inspect(self, fmt):
        return podman("inspect", "--format", fmt, self.name).stdout.strip()

    def log_text(self):
        r = subprocess.run(["podman", "logs", self.name], stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           timeout=30)
        return r.stdout

    def log_lines(self):
        out = []
        for line in self.log_text().splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
        return out

    def wait_log(self, pred, timeout=10, what="log line"):
        found = []
        smtpkit.wait_for(lambda: found.extend(l for l in self.log_lines() if pred(l)) or found,
                         timeout, interval=0.2, what=what)
        return found

    def wait_ready(self):
        self.wait_log(lambda l: l.get("event") == "start" and "listening on" in l.get("msg", ""),
                      what="mxshield's start line")

    def start_backend(self):
        """The recording backend on 127.0.0.1:25 of the container's namespace,
        where MXSHIELD_BACKEND=127.0.0.1 and the image's port 25 point."""
        self.backend = in_netns(self.netns, lambda: smtpkit.RecordingBackend(
            host="127.0.0.1", port=25, name="backend.container.test"))
        return self.backend

    def client(self, port=2525):
        return in_netns(self.netns, lambda: smtpkit.Client(port))

    def session(self):
        c = self.client()
        g = c.reply()
        assert g.code == 220, g
        assert c.ehlo().code == 250
        return c

    def http(self, path, port=9125):
        """(status, body) of a GET inside the container's namespace."""
        def get():
            try:
                with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path),
                                            timeout=5) as r:
                    return r.status, r.read().decode()
            except urllib.error.HTTPError as e:
                return e.code, e.read().decode()
        return in_netns(self.netns, get)

    def run_in(self, cmd, timeout=60):
        """A command of this machine (swaks) in the container's namespace."""
        return subprocess.run(["nsenter", "--net=" + self.netns, *cmd], stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=timeout)

    def healthcheck(self):
        """The image's own HEALTHCHECK, run once by podman: 0 healthy."""
        return podman("healthcheck", "run", self.name, check=False, timeout=30)

    def remove(self):
        if self.backend is not None:
            self.backend.stop()
        podman("rm", "--force", "--time", "0", self.name, check=False, timeout=60)


@pytest.fixture
def container(request):
    made = []

    def make(*args):
        name = "mxshield-test-%d-%d" % (os.getpid(), len(made))
        podman("rm", "--force", "--time", "0", name, check=False)
        c = Container(name, args)
        made.append(c)
        c.wait_ready()
        return c

    yield make
    for c in made:
        rep = getattr(request.node, "rep_call", None)
        if rep is not None and rep.failed:
            sys.stderr.write("---- podman logs %s\n%s\n" % (c.name, c.log_text()))
        c.remove()


def image_bytes(ref):
    return int(podman("image", "inspect", "--format", "{{.Size}}", ref).stdout)


def test_image_metadata_and_size():
    """HEALTHCHECK on /healthz, both ports, uid 2525, SIGTERM, the OCI
    labels with the binary's version; mxshield adds a few MB to its base."""
    (img,) = json.loads(podman("image", "inspect", IMAGE).stdout)
    cfg = img["Config"]
    hc = img.get("Healthcheck") or cfg.get("Healthcheck") or {}
    assert hc.get("Test"), "no HEALTHCHECK (podman builds it only with --format docker)"
    assert "/dev/tcp/127.0.0.1/9125" in " ".join(hc["Test"]) and "/healthz" in " ".join(hc["Test"])
    assert set(cfg["ExposedPorts"]) == {"2525/tcp", "9125/tcp"}, cfg["ExposedPorts"]
    assert cfg["User"] == "2525:2525"
    assert cfg["StopSignal"] in ("SIGTERM", "15")
    assert cfg["Entrypoint"] == ["/usr/local/bin/mxshield"]
    version = podman("run", "--rm", "--network", "none", IMAGE, "--version").stdout.strip()
    labels = cfg["Labels"]
    assert "mxshield " + labels["org.opencontainers.image.version"] == version, (labels, version)
    for k in ("title", "revision", "source", "created", "licenses", "base.name"):
        assert labels.get("org.opencontainers.image." + k), k
    base = labels["org.opencontainers.image.base.name"]
    size, base_size = image_bytes(IMAGE), image_bytes(base)
    print("\nimage size: %s %.1f MB (%d bytes); base %s %.1f MB; mxshield's layers %.1f MB"
          % (IMAGE, size / 1e6, size, base, base_size / 1e6, (size - base_size) / 1e6))
    # the runtime libraries and the binary, not a toolchain
    assert 0 < size - base_size < 10e6, (size, base_size)


def test_message_health_and_user(container):
    """The image's own configuration: MXSHIELD_BACKEND names the backend;
    /healthz and the HEALTHCHECK say 503/unhealthy until the backend is
    reached, 200/healthy after; mail goes through; the process is uid
    2525 with no capability."""
    c = container()

    # no backend yet: mxshield serves, but says it cannot reach it
    status, body = c.http("/healthz")
    assert status == 503 and "backend" in body, (status, body)
    r = c.healthcheck()
    assert r.returncode != 0, (r.returncode, r.stdout, r.stderr)

    be = c.start_backend()
    r = c.run_in(["swaks", "--server", "127.0.0.1:2525", "--from", "alice@example.net",
                  "--to", "bob@example.com", "--header", "Subject: through the image",
                  "--body", "container body", "--timeout", "20"])
    assert r.returncode == 0, r.stdout + r.stderr
    assert "<-  250" in r.stdout, r.stdout
    (m,) = be.wait_messages(1)
    assert m.mail_from == "FROM:<alice@example.net>", m.mail_from
    assert m.rcpts == ["bob@example.com"], m.rcpts
    assert b"Subject: through the image" in m.content and b"container body" in m.content
    assert b"by " + HOSTNAME.encode() in m.content, m.content[:400]
    (txn,) = c.wait_log(lambda l: l.get("event") == "txn", what="the txn line")
    assert txn["result"] == "accepted" and txn["mail_from"] == "alice@example.net", txn

    status, body = c.http("/healthz")
    assert (status, body.strip()) == (200, "ok"), (status, body)
    r = c.healthcheck()
    assert r.returncode == 0 and "unhealthy" not in r.stdout, (r.returncode, r.stdout, r.stderr)
    status, metrics = c.http("/metrics")
    assert status == 200
    assert 'mxshield_transactions_total{outcome="accepted"} 1' in metrics, metrics[:2000]

    # non-root, as the runtime and the kernel see it
    top = podman("top", c.name, "huser", "user", "args").stdout.splitlines()
    assert len(top) == 2 and top[1].split()[:2] == ["2525", "mxshield"], top
    with open("/proc/%d/comm" % c.pid) as f:
        assert f.read().strip() == "mxshield"
    with open("/proc/%d/status" % c.pid) as f:
        st = dict(l.split(":", 1) for l in f.read().splitlines() if ":" in l)
    assert st["Uid"].split() == ["2525"] * 4, st["Uid"]
    assert st["Gid"].split() == ["2525"] * 4, st["Gid"]
    for cap in ("CapEff", "CapPrm", "CapBnd", "CapAmb"):
        assert int(st[cap], 16) == 0, (cap, st[cap])
    assert st["NoNewPrivs"].strip() == "1"


def test_sighup_reloads_a_mounted_file(container, tmp_path):
    """podman kill -s HUP: a changed file is in force for new sessions, a
    session open across the reload keeps its own; a bad file is refused
    with file:line and the one in force stays."""
    conf = tmp_path / "mxshield.conf"
    shutil.copyfile(os.path.join(REPO, "docker", "mxshield.conf"), conf)
    os.chmod(conf, 0o644)
    c = container("-v", "%s:/etc/mxshield/mxshield.conf:ro" % conf)
    be = c.start_backend()

    old = c.session()
    with open(conf, "a") as f:        # in place: the bind mount keeps the inode
        f.write('\nhostname = "reloaded.container.test";\n')
    podman("kill", "--signal", "HUP", c.name)
    (ok,) = c.wait_log(lambda l: l.get("event") == "reload" and "result" in l,
                       what="the reload line")
    assert ok["result"] == "ok" and ok["generation"] == 2, ok

    new = c.session()
    assert new.transaction("a@example.net", ["b@example.com"],
                           smtpkit.make_message(subject="new")).code == 250
    assert old.transaction("a@example.net", ["b@example.com"],
                           smtpkit.make_message(subject="old")).code == 250
    msgs = be.wait_messages(2)
    by_subject = {b"new" if b"Subject: new" in m.content else b"old": m.content for m in msgs}
    assert b"by reloaded.container.test" in by_subject[b"new"], by_subject[b"new"][:400]
    assert b"by " + HOSTNAME.encode() in by_subject[b"old"], by_subject[b"old"][:400]
    for s in (old, new):
        assert s.cmd("QUIT").code == 221

    with open(conf, "a") as f:
        f.write("spoof = { treshold = 5; };\n")
    bad_line = sum(1 for _ in open(conf))
    podman("kill", "--signal", "HUP", c.name)
    lines = c.wait_log(lambda l: l.get("event") == "reload" and l.get("result") == "failed",
                       what="the refused reload")
    assert any("/etc/mxshield/mxshield.conf:%d:" % bad_line in e for e in lines[0]["errors"]), lines
    s = c.session()
    assert s.transaction("a@example.net", ["b@example.com"],
                         smtpkit.make_message(subject="after")).code == 250
    assert b"by reloaded.container.test" in be.wait_messages(3)[2].content
    assert c.inspect("{{.State.Status}}") == "running"


def timed_stop(c, *args):
    """podman stop on a thread: (thread, result dict with rc and seconds)."""
    res = {}

    def run():
        t0 = time.monotonic()
        r = podman("stop", *args, c.name, check=False, timeout=120)
        res.update(rc=r.returncode, out=r.stdout + r.stderr, seconds=time.monotonic() - t0)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, res


def test_sigterm_drains(container):
    """podman stop (SIGTERM, the image's default 10 s): an idle session
    gets 421 4.3.2, the listener closes, /healthz says draining, a message
    in progress finishes and reaches the backend, exit status 0, well
    inside the stop timeout."""
    c = container()
    be = c.start_backend()
    busy = c.session()
    assert busy.cmd("MAIL FROM:<a@example.net>").code == 250
    assert busy.cmd("RCPT TO:<b@example.com>").code == 250
    assert busy.cmd("DATA").code == 354
    content = smtpkit.make_message(subject="in flight")
    half = len(content) // 2
    busy.send(content[:half])
    idle = c.session()

    t, res = timed_stop(c)
    c.wait_log(lambda l: l.get("event") == "shutdown", what="the shutdown line")
    r = idle.reply(timeout=5)
    assert (r.code, r.enh) == (421, "4.3.2"), r
    with pytest.raises(ConnectionRefusedError):
        c.client()
    status, body = c.http("/healthz")
    assert status == 503 and "draining" in body, (status, body)

    busy.send(content[half:] + b".\r\n")      # make_message ends with CRLF, no dot lines
    r = busy.reply(timeout=10)
    assert r.code == 250, r
    (m,) = be.wait_messages(1)
    assert b"Subject: in flight" in m.content
    busy.cmd("QUIT")

    t.join(60)
    assert not t.is_alive()
    assert res["rc"] == 0, res
    assert c.inspect("{{.State.ExitCode}}") == "0"
    assert res["seconds"] < 10, res
    print("\ndrain: podman stop took %.2f s with one message finishing" % res["seconds"])
    assert c.wait_log(lambda l: l.get("event") == "stop", what="the stop line")


def test_sigterm_stuck_session_fits_the_default_stop_timeout(container):
    """A client that stops sending mid-message: the image's shutdown_timeout
    (8 s) closes it with 421 4.3.2 and mxshield exits 0 before podman's
    default 10 s would kill it; the backend got no partial message."""
    c = container()
    be = c.start_backend()
    stuck = c.session()
    assert stuck.cmd("MAIL FROM:<a@example.net>").code == 250
    assert stuck.cmd("RCPT TO:<b@example.com>").code == 250
    assert stuck.cmd("DATA").code == 354
    stuck.send(b"Subject: never finished\r\n\r\nhalf a body")

    t, res = timed_stop(c)
    r = stuck.reply(timeout=15)
    assert (r.code, r.enh) == (421, "4.3.2"), r
    t.join(60)
    assert not t.is_alive()
    assert res["rc"] == 0, res
    assert c.inspect("{{.State.ExitCode}}") == "0", "killed, not stopped"
    assert 7 < res["seconds"] < 10, res
    assert be.transactions == []
    print("\nstuck session: podman stop took %.2f s (shutdown_timeout 8 s)" % res["seconds"])
