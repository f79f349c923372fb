"""
Integration fixtures: a recording backend and the real mxshield binary
with a generated configuration, both on free loopback ports.

  MXSHIELD_BIN          binary under test (default: build-asan/mxshield when
                        it exists, else build/mxshield)
  MXSHIELD_RELEASE_BIN  release binary for memory measurements
                        (default: build/mxshield)

Every process started here is stopped by its PID on teardown, also when
the test failed. Teardown fails the test when mxshield crashed, did not
stop on SIGTERM within 5 s, or printed a sanitizer report. The working
directory of a failed test (config, stderr) is kept and named in the
report; a passing test's is removed.
"""

import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import pytest

sys.path.insert(0, os.path.dirname(__file__))

import smtpkit  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

SANITIZER_MARKS = ("ERROR: AddressSanitizer", "runtime error:", "LeakSanitizer",
                   "ERROR: ThreadSanitizer", "SUMMARY: UndefinedBehaviorSanitizer")


def _default_bin():
    env = os.environ.get("MXSHIELD_BIN")
    if env:
        return env
    asan = os.path.join(REPO, "build-asan", "mxshield")
    if os.path.exists(asan):
        return asan
    return os.path.join(REPO, "build", "mxshield")


def _release_bin():
    return os.environ.get("MXSHIELD_RELEASE_BIN") or os.path.join(REPO, "build", "mxshield")


# Every configuration without limits.max_connections allows 10000
# sessions, about 20000 file descriptors, and mxshield warns when the
# hard limit is lower (README "Running it"). Some build machines'
# hard limit is lower; raise it for the processes the tests start where
# we may, as a service manager would (systemd LimitNOFILE=65536).
try:
    _soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if _hard != resource.RLIM_INFINITY and _hard < 65536:
        resource.setrlimit(resource.RLIMIT_NOFILE, (_soft, 65536))
except (ValueError, OSError):
    pass    # not root: the limit stays, and so may the warning

NOFILE_HARD = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
_NOFILE_WARNING = re.compile(r"^warning: .*: limits\.max_connections = \d+ needs about (\d+) file "
                             r"descriptors .* but the limit \(RLIMIT_NOFILE\) is (\d+):")


def strip_machine_warnings(text):
    """text without the --check-config warning of a file descriptor limit
    below what limits.max_connections needs, when the limit it quotes is
    this machine's hard limit and that is indeed too low: a fact of the
    machine, not of the file under test (tests/integration/test_privs.py
    tests the warning itself)."""
    out = []
    for line in text.splitlines(True):
        m = _NOFILE_WARNING.match(line)
        if m and int(m.group(2)) == NOFILE_HARD and int(m.group(1)) > NOFILE_HARD:
            continue
        out.append(line)
    return "".join(out)


def machine_log_warning(line):
    """The start's log line of the same warning (a parsed JSON line)."""
    return (line.get("event") == "start" and line.get("level") == "warn" and
            bool(strip_machine_warnings("warning: " + line.get("msg", "")) == ""))


MXSHIELD_BIN = _default_bin()
MXSHIELD_RELEASE_BIN = _release_bin()


def sanitizer_env():
    env = dict(os.environ)
    env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0:halt_on_error=1:"
                   "detect_stack_use_after_return=1:strict_string_checks=1")
    env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=0")
    env.setdefault("LSAN_OPTIONS", "report_objects=0")
    return env


# --------------------------------------------------------------------------
# libconfig writer
# --------------------------------------------------------------------------

def _cfg_value(v, indent):
    pad = "    " * indent
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v) + ("L" if not -2**31 <= v < 2**31 else "")
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, dict):
        inner = "".join("%s    %s = %s;\n" % (pad, k, _cfg_value(x, indent + 1))
                        for k, x in v.items())
        return "{\n" + inner + pad + "}"
    if isinstance(v, (list, tuple)):
        if v and all(isinstance(x, dict) for x in v):
            return "(\n" + ",\n".join(pad + "    " + _cfg_value(x, indent + 1) for x in v) + "\n" + pad + ")"
        return "[ " + ", ".join(_cfg_value(x, indent) for x in v) + " ]"
    raise TypeError("cannot write %r to a libconfig file" % (v,))


def libconfig_text(cfg):
    return "".join("%s = %s;\n" % (k, _cfg_value(v, 0)) for k, v in cfg.items())


def merge(base, over):
    """Deep-merge over into base (dicts merge, everything else replaces);
    a value of None deletes the key."""
    out = dict(base)
    for k, v in over.items():
        if v is None:
            out.pop(k, None)
        elif isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = merge(out[k], v)
        else:
            out[k] = v
    return out


# --------------------------------------------------------------------------
# mxshield process
# --------------------------------------------------------------------------

class Mxshield:
    def __init__(self, binary, workdir, config, name="mxshield", wrap=()):
        self.binary = binary
        self.workdir = workdir
        self.config = config
        self.port = config["listen"][0]["port"]
        self.conf_path = os.path.join(workdir, name + ".conf")
        self.stderr_path = os.path.join(workdir, name + ".stderr")
        self.clients = []
        with open(self.conf_path, "w") as f:
            f.write(libconfig_text(config))
        self._err = open(self.stderr_path, "wb")
        # wrap: a command that execs mxshield (prlimit, taskset), so
        # that the PID is still mxshield's
        self.proc = subprocess.Popen(list(wrap) + [binary, "-c", self.conf_path],
                                     stdin=subprocess.DEVNULL,
                                     stdout=self._err, stderr=self._err, env=sanitizer_env(),
                                     cwd=workdir)
        self.pid = self.proc.pid
        self.exit_code = None
        self.needed_kill = False
        deadline = time.monotonic() + 15
        # the SMTP listener, and the metrics endpoint when there is one:
        # it starts just after the listeners are bound
        ports = [self.port]
        if "metrics" in config:
            ports.append(config["metrics"].get("port", 9125))
        while not all(smtpkit.listening(p) for p in ports):
            if self.proc.poll() is not None:
                self._err.close()
                raise AssertionError("mxshield exited with %s before listening:\n%s\nconfig:\n%s" % (
                    self.proc.returncode, self.stderr(), libconfig_text(config)))
            if time.monotonic() > deadline:
                self.stop()
                raise AssertionError("mxshield not listening on %s after 15 s:\n%s" % (
                    ports, self.stderr()))
            time.sleep(0.02)

    # -- inspection

    def stderr(self):
        try:
            with open(self.stderr_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def log_lines(self):
        """Every stderr line that is a JSON object, parsed."""
        out = []
        for line in self.stderr().splitlines():
            line = line.strip()
            if not line.startswith("{"):
                continue
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
        return out

    def logs(self, event):
        return [l for l in self.log_lines() if l.get("event") == event]

    def wait_log(self, pred, timeout=5, what="log line"):
        return smtpkit.wait_for(lambda: [l for l in self.log_lines() if pred(l)], timeout,
                                what="%s in mxshield's log:\n%s" % (what, self.stderr()[-3000:]))

    def _status(self, key):
        with open("/proc/%d/status" % self.pid) as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
        raise AssertionError("no %s in /proc/%d/status" % (key, self.pid))

    def rss_kb(self):
        """Resident set size now (VmRSS, kB)."""
        return self._status("VmRSS")

    def peak_rss_kb(self):
        """Peak resident set size (VmHWM, kB)."""
        return self._status("VmHWM")

    def alive(self):
        return self.proc.poll() is None

    # -- clients

    def client(self, source=None, timeout=10):
        """A raw Client connected to this mxshield; closed on teardown."""
        c = smtpkit.Client(self.port, source=source, timeout=timeout)
        self.clients.append(c)
        return c

    def session(self, helo="client.example.net", source=None, timeout=10):
        """A raw Client past the greeting and EHLO."""
        c = self.client(source=source, timeout=timeout)
        g = c.reply()
        assert g.code == 220, g
        c.ehlo(helo)
        return c

    # -- teardown

    def stop(self):
        """Close our clients, SIGTERM, wait 5 s, SIGKILL. Returns problems."""
        problems = []
        for c in self.clients:
            c.close()
        if self.proc.poll() is not None:
            problems.append("mxshield (pid %d) died during the test, exit status %s" % (
                self.pid, self.proc.returncode))
        else:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.needed_kill = True
                self.proc.kill()
                self.proc.wait(timeout=5)
                problems.append("mxshield (pid %d) still running 5 s after SIGTERM; killed" % self.pid)
        self.exit_code = self.proc.returncode
        if not self._err.closed:
            self._err.close()
        err = self.stderr()
        for mark in SANITIZER_MARKS:
            if mark in err:
                i = err.index(mark)
                problems.append("sanitizer report in mxshield's stderr (%s):\n%s" % (
                    mark, err[max(0, i - 200):i + 4000]))
                break
        else:
            problems += self.broken_log_lines()
        return problems

    def broken_log_lines(self):
        """Lines of stderr that are not whole log lines (README "Reading
        the logs"): with log.format "json" each line is one JSON object
        with "ts" and "event", in valid UTF-8, at most 16 KiB with its
        newline; with "text" each starts "<ts> <event>". Empty when all
        are."""
        try:
            with open(self.stderr_path, "rb") as f:
                raw = f.read()
        except OSError:
            return []
        text = self.config.get("log", {}).get("format", "json") == "text"
        bad = []
        lines = raw.split(b"\n")
        if lines[-1] != b"":
            bad.append((len(lines), lines[-1], "no newline at the end"))
        for n, line in enumerate(lines[:-1], 1):
            why = None
            if len(line) + 1 > 16384:
                why = "longer than 16 KiB"
            elif text:
                if not re.match(rb"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z [a-z_]+( |$)", line):
                    why = "not <ts> <event> ..."
            else:
                try:
                    obj = json.loads(line.decode("utf-8"))
                    if not isinstance(obj, dict) or "ts" not in obj or "event" not in obj:
                        why = "not an object with ts and event"
                except ValueError as e:
                    why = "not JSON: %s" % e
            if why:
                bad.append((n, line, why))
        return ["mxshield's stderr line %d is not a whole log line (%s): %r" % (
                    n, why, line[:300] + (b"..." if len(line) > 300 else b""))
                for n, line, why in bad[:5]]


class MxshieldFactory:
    """mxshield(overrides) starts an instance; attribute access on the
    factory itself (mxshield.port) starts a default one on first use."""

    def __init__(self, request, workdir, backend_port_fn):
        self.request = request
        self.workdir = workdir
        self.backend_port_fn = backend_port_fn
        self.instances = []

    def base_config(self, backend_port, workers=1):
        cfg = {
            "hostname": "mx.test.example",
            "workers": workers,
            "listen": [{"address": "127.0.0.1", "port": smtpkit.free_port()}],
            "backend": {"address": "127.0.0.1", "port": backend_port, "connect_timeout": 3},
            "log": {"format": "json", "level": "info"},
        }
        if os.geteuid() == 0:
            # mxshield refuses root without user; the tests stay root
            # (tests/integration/test_privs.py drops to a user)
            cfg["allow_root"] = True
        return cfg

    def __call__(self, overrides=None, binary=None, backend_port=None, workers=1, wrap=()):
        if binary is None:
            binary = MXSHIELD_BIN
        if not os.path.exists(binary):
            pytest.fail("mxshield binary %s not built (make asan, or set MXSHIELD_BIN)" % binary,
                        pytrace=False)
        if backend_port is None:
            backend_port = self.backend_port_fn()
        cfg = merge(self.base_config(backend_port, workers), overrides or {})
        mx = Mxshield(binary, self.workdir, cfg, name="mxshield%d" % len(self.instances),
                      wrap=wrap)
        self.instances.append(mx)
        return mx

    def __getattr__(self, name):
        if name.startswith("_") or name in ("request", "workdir", "backend_port_fn", "instances"):
            raise AttributeError(name)
        if not self.instances:
            self()
        return getattr(self.instances[-1], name)


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)


def _failed(request):
    for when in ("setup", "call"):
        rep = getattr(request.node, "rep_" + when, None)
        if rep is not None and rep.failed:
            return True
    return False


@pytest.fixture
def workdir(request):
    d = tempfile.mkdtemp(prefix="mxshield-it-%s-" % request.node.name[:40].replace("/", "_"))
    yield d
    if _failed(request) or getattr(request.node, "mx_keep", False):
        sys.stderr.write("\nkept %s for %s\n" % (d, request.node.nodeid))
    else:
        shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def backend():
    be = smtpkit.RecordingBackend()
    yield be
    be.stop()


@pytest.fixture
def make_backend():
    """Factory for extra backends (a second one, custom names)."""
    made = []

    def make(**kw):
        be = smtpkit.RecordingBackend(**kw)
        made.append(be)
        return be
    yield make
    for be in made:
        be.stop()


@pytest.fixture
def mxshield(request, workdir, backend):
    fac = MxshieldFactory(request, workdir, lambda: backend.port)
    yield fac
    problems = []
    for mx in fac.instances:
        problems += mx.stop()
    if _failed(request):
        for mx in fac.instances:
            sys.stderr.write("\n--- %s stderr (tail) ---\n%s\n" % (mx.stderr_path, mx.stderr()[-4000:]))
    if problems:
        request.node.mx_keep = True
        pytest.fail("mxshield teardown: " + "\n".join(problems), pytrace=False)


@pytest.fixture
def release_bin():
    if not os.path.exists(MXSHIELD_RELEASE_BIN):
        pytest.fail("release binary %s not built (make build, or set MXSHIELD_RELEASE_BIN)"
                    % MXSHIELD_RELEASE_BIN, pytrace=False)
    return MXSHIELD_RELEASE_BIN


@pytest.fixture
def procs():
    """Start helper processes (smtp-sink, swaks); killed by PID on teardown."""
    started = []

    def start(argv, **kw):
        p = subprocess.Popen(argv, **kw)
        started.append(p)
        return p
    yield start
    for p in started:
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(timeout=3)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=3)
