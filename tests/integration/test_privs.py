"""
What mxshield runs as and what the machine lets it use (README
"Privileges", "Running it"): started as root it binds, reads its files,
then becomes `user` before it serves; it refuses root without `user`
unless allow_root; the directories it writes later must take files from
that user; the file descriptor limit is raised, and when descriptors run
out clients get 421 4.3.2 with the truth in the log; workers default to
the CPUs this process may use; systemd hears READY=1 and STOPPING=1.

These tests run as root (the suite does); each says so when it is not.
"""

import os
import pwd
import grp
import signal
import smtplib
import socket
import subprocess
import time

import pytest

from conftest import MXSHIELD_BIN, libconfig_text, sanitizer_env
import smtpkit

ROOT = os.geteuid() == 0
needs_root = pytest.mark.skipif(not ROOT, reason="needs root: the drop is tested from root")
NOBODY = pwd.getpwnam("nobody")


def ids(pid):
    """(uids, gids, groups) of /proc/PID/status: real, effective, saved, fs."""
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("Uid", "Gid", "Groups"):
                out[k] = [int(x) for x in v.split()]
    return out["Uid"], out["Gid"], out["Groups"]


def run_conf(tmp_path, cfg, *args, env=None, timeout=20):
    path = tmp_path / "mxshield.conf"
    path.write_text(libconfig_text(cfg))
    return subprocess.run([MXSHIELD_BIN, "-c", str(path)] + list(args),
                          stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=timeout, env=env or sanitizer_env()), path


def base(backend_port):
    return {
        "hostname": "mx.test.example",
        "workers": 1,
        "listen": [{"address": "127.0.0.1", "port": smtpkit.free_port()}],
        "backend": {"address": "127.0.0.1", "port": backend_port, "connect_timeout": 3},
        "log": {"format": "json", "level": "info"},
    }


def send_one(port, subject):
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as c:
        c.ehlo("client.example.net")
        c.sendmail("a@example.net", ["b@example.org"],
                   "Subject: %s\r\n\r\nhello\r\n" % subject)


# ------------------------------------------------------------ the drop

def dropped(mx):
    return mx.wait_log(lambda l: l.get("event") == "start" and "running as user" in l.get("msg", ""),
                       what="the drop's log line")[0]


def stop_now(factory, mx):
    """Stop mx inside the test (teardown then leaves it alone)."""
    assert mx.stop() == []
    factory.instances.remove(mx)

@needs_root
def test_drops_to_user_before_serving(mxshield, backend):
    mx = mxshield({"allow_root": None, "user": "nobody"})
    # the ports are bound as root, so they listen a moment before the
    # drop; nothing is served until it is done (READY=1 below too)
    line = dropped(mx)
    assert line["msg"] == "running as user nobody (uid %d, gid %d)" % (NOBODY.pw_uid, NOBODY.pw_gid)
    uids, gids, groups = ids(mx.pid)
    assert uids == [NOBODY.pw_uid] * 4, uids
    assert gids == [NOBODY.pw_gid] * 4, gids
    assert 0 not in groups and groups == sorted(set(
        [NOBODY.pw_gid] + [g.gr_gid for g in grp.getgrall() if "nobody" in g.gr_mem])), groups
    # the same process still relays, as nobody
    send_one(mx.port, "as nobody")
    msgs = backend.wait_messages(1)
    assert b"Subject: as nobody" in msgs[0].data
    # no worker thread kept root either
    for tid in os.listdir("/proc/%d/task" % mx.pid):
        with open("/proc/%d/task/%s/status" % (mx.pid, tid)) as f:
            uid_line = [l for l in f if l.startswith("Uid:")][0]
        assert uid_line.split()[1:] == [str(NOBODY.pw_uid)] * 4, (tid, uid_line)


@needs_root
def test_group_key_and_numeric_ids(mxshield, backend):
    mx = mxshield({"allow_root": None, "user": "65534", "group": "nogroup"})
    dropped(mx)
    uids, gids, groups = ids(mx.pid)
    assert uids == [65534] * 4 and gids == [grp.getgrnam("nogroup").gr_gid] * 4
    send_one(mx.port, "numeric")
    assert len(backend.wait_messages(1)) == 1


@needs_root
def test_root_without_user_is_refused(tmp_path, backend):
    r, path = run_conf(tmp_path, base(backend.port))
    assert r.returncode == 1
    assert ("%s: refusing to run as root: set user (and group) to the unprivileged account "
            "mxshield should serve as once its ports are bound" % path) in r.stderr, r.stderr
    assert "allow_root = true" in r.stderr
    assert backend.sessions == []


@needs_root
def test_allow_root_runs_as_root_and_says_so(mxshield, backend):
    mx = mxshield({"allow_root": True})
    uids, _, _ = ids(mx.pid)
    assert uids == [0, 0, 0, 0]
    mx.wait_log(lambda l: l.get("event") == "start" and l.get("level") == "info" and
                l.get("msg") == "running as root (allow_root = true)")
    send_one(mx.port, "as root")
    assert len(backend.wait_messages(1)) == 1


def test_unknown_user_and_group_name_file_and_line(tmp_path, backend):
    cfg = base(backend.port)
    text = libconfig_text(cfg) + 'user = "no-such-user-mx";\ngroup = "no-such-group-mx";\n'
    path = tmp_path / "bad.conf"
    path.write_text(text)
    n = len(text.splitlines())
    r = subprocess.run([MXSHIELD_BIN, "--check-config", "-c", str(path)], capture_output=True,
                       text=True, timeout=20, env=sanitizer_env())
    assert r.returncode == 1
    assert ('%s:%d: user: "no-such-user-mx": no such user' % (path, n - 1)) in r.stderr, r.stderr
    assert ('%s:%d: group: "no-such-group-mx": no such group' % (path, n)) in r.stderr, r.stderr
    # and a start refuses it the same way, before binding anything
    r = subprocess.run([MXSHIELD_BIN, "-c", str(path)], capture_output=True, text=True,
                       timeout=20, env=sanitizer_env(), stdin=subprocess.DEVNULL)
    assert r.returncode == 1 and "no such user" in r.stderr
    assert not smtpkit.listening(cfg["listen"][0]["port"])


@pytest.mark.parametrize("text, why", [
    ('user = "root";', 'user: "root" is root: name an unprivileged user'),
    ('user = "0";', 'user: "0" is root'),
    ('group = "nogroup";', "group: set user too"),
    ('user = "-x";', "must be a user or group name"),
    ('user = "a b";', "must be a user or group name"),
    ('allow_root = "yes";', "allow_root"),
])
def test_bad_user_settings(tmp_path, backend, text, why):
    path = tmp_path / "bad.conf"
    path.write_text(libconfig_text(base(backend.port)) + text + "\n")
    r = subprocess.run([MXSHIELD_BIN, "--check-config", "-c", str(path)], capture_output=True,
                       text=True, timeout=20, env=sanitizer_env())
    assert r.returncode == 1, r.stderr
    assert why in r.stderr, r.stderr
    errors = [l for l in r.stderr.splitlines() if not l.startswith("warning: ")]
    assert errors and all(l.startswith("%s:" % path) for l in errors), r.stderr


@needs_root
def test_state_dir_not_writable_by_user_is_reported(tmp_path, backend):
    state_dir = tmp_path / "state"
    state_dir.mkdir(mode=0o755)           # root's: nobody cannot create files
    os.chmod(state_dir, 0o755)
    os.chmod(tmp_path, 0o755)
    cfg = base(backend.port)
    cfg.update({"user": "nobody",
                "hijack": {"enabled": True, "state_file": str(state_dir / "hijack.state")},
                "control": {"socket": str(state_dir / "control.sock")}})
    r, path = run_conf(tmp_path, cfg, "--check-config")
    assert r.returncode == 1, r.stderr
    for key in ("hijack.state_file", "control.socket"):
        assert ("%s: directory %s is not writable by user nobody (uid %d, gid %d)"
                % (key, state_dir, NOBODY.pw_uid, NOBODY.pw_gid)) in r.stderr, r.stderr
    # a start says the same and does not serve
    r, _ = run_conf(tmp_path, cfg)
    assert r.returncode == 1
    assert "hijack.state_file: directory %s is not writable by user nobody" % state_dir in r.stderr
    assert not smtpkit.listening(cfg["listen"][0]["port"])
    # handed to nobody, the same configuration passes, and the state
    # file is written by the dropped process
    os.chown(state_dir, NOBODY.pw_uid, NOBODY.pw_gid)
    r, _ = run_conf(tmp_path, cfg, "--check-config")
    assert r.returncode == 0, r.stderr


@needs_root
def test_state_file_written_as_user(mxshield, backend, workdir):
    state_dir = os.path.join(workdir, "state")
    os.mkdir(state_dir)
    os.chown(state_dir, NOBODY.pw_uid, NOBODY.pw_gid)
    os.chmod(workdir, 0o755)
    sock = os.path.join(state_dir, "control.sock")
    mx = mxshield({"allow_root": None, "user": "nobody",
                   "hijack": {"enabled": True, "max_messages": 1, "window": 60,
                              "state_file": os.path.join(state_dir, "hijack.state")},
                   "control": {"socket": sock}})
    dropped(mx)
    assert ids(mx.pid)[0] == [NOBODY.pw_uid] * 4
    # root may still use the socket, created before the drop
    r = subprocess.run([MXSHIELD_BIN, "-c", mx.conf_path, "--list-disabled"], capture_output=True,
                       text=True, timeout=20, env=sanitizer_env())
    assert r.returncode == 0, r.stderr
    stop_now(mxshield, mx)
    assert not os.path.exists(sock), "the dropped process could not remove its socket"


# ------------------------------------------------------------ descriptors

def test_nofile_soft_limit_raised_to_hard(mxshield):
    mx = mxshield(wrap=["prlimit", "--nofile=256:512", "--"])
    with open("/proc/%d/limits" % mx.pid) as f:
        line = [l for l in f if l.startswith("Max open files")][0]
    assert line.split()[3:5] == ["512", "512"], line
    mx.wait_log(lambda l: l.get("msg") == "file descriptor limit (RLIMIT_NOFILE) raised from 256 "
                "to the hard limit 512")
    # 10000 connections need about 20000: said at start
    warn = mx.wait_log(lambda l: l.get("event") == "start" and l.get("level") == "warn" and
                       "RLIMIT_NOFILE" in l.get("msg", ""))
    assert "limits.max_connections = 10000 needs about 20065 file descriptors" in warn[0]["msg"]
    assert "the limit (RLIMIT_NOFILE) is 512" in warn[0]["msg"]


def test_check_config_warns_when_limit_too_low(tmp_path, backend):
    cfg = base(backend.port)
    cfg["limits"] = {"max_connections": 100}
    path = tmp_path / "m.conf"
    path.write_text(libconfig_text(cfg))
    r = subprocess.run(["prlimit", "--nofile=64:200", "--", MXSHIELD_BIN, "--check-config", "-c",
                        str(path)], capture_output=True, text=True, timeout=20, env=sanitizer_env())
    assert r.returncode == 0, r.stderr
    assert ("warning: %s:" % path) in r.stderr
    assert ("limits.max_connections = 100 needs about 265 file descriptors (2 a session, the "
            "listeners and 64 spare) but the limit (RLIMIT_NOFILE) is 200") in r.stderr, r.stderr
    # enough: no warning
    r = subprocess.run(["prlimit", "--nofile=64:400", "--", MXSHIELD_BIN, "--check-config", "-c",
                        str(path)], capture_output=True, text=True, timeout=20, env=sanitizer_env())
    assert r.returncode == 0 and "RLIMIT_NOFILE" not in r.stderr, r.stderr


def test_descriptors_exhausted_421_432_not_backend_down(mxshield, backend):
    mx = mxshield(wrap=["prlimit", "--nofile=40:40", "--"])
    held, replies = [], []
    try:
        for _ in range(40):
            c = smtpkit.Client(mx.port, timeout=10)
            held.append(c)
            r = c.reply()
            replies.append((r.code, r.text))
            if r.code != 220:
                break
    finally:
        for c in held:
            c.close()
    codes = [c for c, _ in replies]
    assert codes[-1] == 421, replies
    assert codes.count(220) >= 3, replies          # some sessions were served first
    last = held[-1]
    text = str(replies[-1][1])
    assert "4.3.2" in text and "System resources exhausted" in text, replies
    assert "4.4.1" not in "".join(str(t) for _, t in replies)
    line = mx.wait_log(lambda l: l.get("event") == "limit" and "too many open files" in l.get("msg", ""))
    assert "RLIMIT_NOFILE 40" in line[0]["msg"]
    mx.wait_log(lambda l: l.get("event") == "session" and
                l.get("reason") == "too many open files (RLIMIT_NOFILE)")
    # the backend never heard of the refused one: one backend session per 220
    backend.wait_for(lambda: len(backend.sessions) == codes.count(220), what="backend sessions")
    # once descriptors are free again, service is back
    send_one(mx.port, "after")
    assert len(backend.wait_messages(1)) == 1


# ------------------------------------------------------------ workers

def start_line(mx):
    return mx.wait_log(lambda l: l.get("event") == "start" and "listening on" in l.get("msg", ""))[0]["msg"]


def test_workers_default_follows_affinity(mxshield):
    mx = mxshield({"workers": None}, wrap=["taskset", "-c", "0"])
    assert start_line(mx).endswith(", 1 worker"), start_line(mx)


def test_workers_default_is_the_cpus_we_may_use(mxshield):
    cpus = sorted(os.sched_getaffinity(0))
    mx = mxshield({"workers": None})
    want = min(len(cpus), 64)
    if os.path.exists("/sys/fs/cgroup/cpu.max"):
        with open("/sys/fs/cgroup/cpu.max") as f:
            q, period = f.read().split()
        if q != "max":
            want = max(1, min(want, -(-int(q) // int(period))))
    assert start_line(mx).endswith(", %d worker%s" % (want, "" if want == 1 else "s"))


# ------------------------------------------------------------ systemd

@needs_root
def test_sd_notify_ready_after_drop_and_stopping(mxshield, backend, workdir, monkeypatch):
    os.chmod(workdir, 0o755)
    path = os.path.join(workdir, "notify.sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    os.chmod(path, 0o666)             # the dropped process sends too
    s.settimeout(10)
    monkeypatch.setenv("NOTIFY_SOCKET", path)
    try:
        mx = mxshield({"allow_root": None, "user": "nobody"})
        first = s.recv(4096).decode()
        # READY only once the drop is done: the process is nobody now
        assert ids(mx.pid)[0] == [NOBODY.pw_uid] * 4
        assert first.split("\n")[0] == "READY=1", first
        status = s.recv(4096).decode()
        assert status.startswith("STATUS=serving: 1 listener, 1 worker, backend 127.0.0.1:%d"
                                 % backend.port), status
        mx.proc.send_signal(signal.SIGTERM)
        stop = s.recv(4096).decode()
        assert stop == "STOPPING=1\nSTATUS=draining sessions", stop
        stop_now(mxshield, mx)
    finally:
        s.close()


# ------------------------------------------------------------ ${NAME} values

def test_environment_values(tmp_path, backend, mxshield, monkeypatch):
    """A whole value "${NAME}" is the variable; anything else stays as
    written; unset and malformed names are file:line errors."""
    monkeypatch.setenv("MXS_TEST_HOSTNAME", "mx.env.example")
    mx = mxshield({"hostname": "${MXS_TEST_HOSTNAME}"})
    send_one(mx.port, "env")
    (msg,) = backend.wait_messages(1)
    assert b"by mx.env.example (mxshield)" in msg.data, msg.data[:300]
    monkeypatch.delenv("MXS_TEST_HOSTNAME")
    cfg = base(backend.port)
    cfg["hostname"] = "${MXS_TEST_HOSTNAME}"
    path = tmp_path / "env.conf"
    path.write_text(libconfig_text(cfg))
    env = sanitizer_env()
    r = subprocess.run([MXSHIELD_BIN, "--check-config", "-c", str(path)], capture_output=True,
                       text=True, timeout=20, env=env)
    assert r.returncode == 1
    assert ('%s:1: hostname: "${MXS_TEST_HOSTNAME}": the environment variable '
            'MXS_TEST_HOSTNAME is not set' % path) in r.stderr, r.stderr
    # not the whole value: kept as written (and then judged as a host name)
    cfg["hostname"] = "x${MXS_TEST_HOSTNAME}"
    path.write_text(libconfig_text(cfg))
    r = subprocess.run([MXSHIELD_BIN, "--check-config", "-c", str(path)], capture_output=True,
                       text=True, timeout=20, env=env)
    assert r.returncode == 1 and '%s:1: hostname: "x${MXS_TEST_HOSTNAME}"' % path in r.stderr, r.stderr
    cfg["hostname"] = "${A-B}"
    path.write_text(libconfig_text(cfg))
    r = subprocess.run([MXSHIELD_BIN, "--check-config", "-c", str(path)], capture_output=True,
                       text=True, timeout=20, env=env)
    assert r.returncode == 1
    assert '%s:1: hostname: "${A-B}": not an environment variable name' % path in r.stderr, r.stderr
