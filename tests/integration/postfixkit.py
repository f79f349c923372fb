"""
postfixkit - a private, throw-away Postfix instance for integration tests.

Everything lives under one temporary directory (mode 0755 so that the
postfix user can reach it):

  TMP/etc/main.cf, master.cf   configuration (postfix -c TMP/etc)
  TMP/spool                    queue_directory (created by postfix start)
  TMP/data                     data_directory
  TMP/mail/box/                the Maildir every message for example.com
                               is delivered to (virtual(8), static map)
  TMP/maillog                  Postfix's log (postlogd, maillog_file)

The system's /etc/postfix, /var/spool/postfix and port 25 are never
touched: every smtpd listener is 127.0.0.1:<free port>, nothing is ever
relayed (any other destination goes to discard(8)), and DNS is never
asked (smtpd_peername_lookup = no, so a client shows as unknown[ADDR]).

Listeners (master.cf), each an smtpd with its own -o overrides:

  plain    smtpd_authorized_xclient_hosts empty (XCLIENT not offered)
  xclient  smtpd_authorized_xclient_hosts = 127.0.0.0/8
  haproxy  smtpd_upstream_proxy_protocol = haproxy (PROXY v1 and v2)

Postfix needs root to start (master binds, then drops to mail_owner) and
the mail_owner user "postfix" that the Debian package creates.
PrivatePostfix.prerequisites() says why an instance cannot run here, or
returns None. stop() runs "postfix stop", waits for the master (by the
PID in TMP/spool/pid/master.pid) to exit, then kills by PID any process
left whose environment says MAIL_CONFIG=TMP/etc (this instance's
daemons, nothing else). Every wait is bounded.
"""

import os
import pwd
import grp
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import pytest

from smtpkit import free_port, listening, wait_for

POSTFIX = shutil.which("postfix") or "/usr/sbin/postfix"
POSTCONF = shutil.which("postconf") or "/usr/sbin/postconf"

HOSTNAME = "backend.test.example"
DOMAIN = "example.com"

MASTER_CF_SERVICES = """\
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
virtual   unix  -       n       n       -       -       virtual
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""

# "Mon DD HH:MM:SS host postfix/smtpd[123]: text"
LOG_RE = re.compile(r"^\S+\s+\d+ [\d:]+ \S+ (?P<prog>postfix[^\[]*)\[(?P<pid>\d+)\]: (?P<text>.*)$")
QID_RE = r"[0-9A-F]{6,}|[0-9B-DF-HJ-NP-TV-Zb-df-hj-np-tv-z]{10,}"


def postfix_version():
    try:
        out = subprocess.run([POSTCONF, "-d", "-h", "mail_version"], capture_output=True,
                             timeout=20, text=True)
    except (OSError, subprocess.TimeoutExpired) as e:
        return None, "postconf -d mail_version failed: %s" % e
    v = out.stdout.strip()
    if out.returncode != 0 or not re.match(r"^\d+\.\d+", v):
        return None, "postconf -d mail_version: rc=%d %r %r" % (out.returncode, v, out.stderr)
    return tuple(int(x) for x in re.findall(r"\d+", v)[:2]), v


class LogLine:
    def __init__(self, raw, prog, pid, text):
        self.raw, self.prog, self.pid, self.text = raw, prog, int(pid), text

    def __repr__(self):
        return self.raw


class Delivery:
    """One message Postfix delivered to the Maildir."""

    def __init__(self, qid, path, data, smtpd_lines, qid_lines):
        self.qid = qid
        self.path = path
        self.data = data                    # file bytes (LF line ends)
        self.smtpd_lines = smtpd_lines      # the receiving smtpd session
        self.qid_lines = qid_lines          # every log line naming qid

    @property
    def header(self):
        return self.data.split(b"\n\n", 1)[0]

    def fields(self, name):
        """Unfolded header fields called name, top to bottom (str)."""
        out = []
        for f in re.split(rb"\n(?![ \t])", self.header):
            k, _, v = f.partition(b":")
            if k.strip().lower() == name.lower().encode():
                out.append(re.sub(r"\s*\n\s*", " ", v.decode("utf-8", "replace")).strip())
        return out

    def client_line(self):
        """The smtpd "QID: client=..." line."""
        for l in self.qid_lines:
            if l.prog.endswith("/smtpd") and l.text.startswith(self.qid + ": client="):
                return l.text
        raise AssertionError("no smtpd client= line for %s: %r" % (self.qid, self.qid_lines))


class PrivatePostfix:
    def __init__(self, root=None):
        self.root = root or tempfile.mkdtemp(prefix="mxshield-postfix-")
        os.chmod(self.root, 0o755)
        self.etc = os.path.join(self.root, "etc")
        self.spool = os.path.join(self.root, "spool")
        self.data_dir = os.path.join(self.root, "data")
        self.mail = os.path.join(self.root, "mail")
        self.maildir = os.path.join(self.mail, "box")
        self.maillog_path = os.path.join(self.root, "maillog")
        self.ports = {}
        self.master_pid = None
        self.started = False

    # -- prerequisites

    @staticmethod
    def prerequisites():
        """None when a private instance can be tried here, else why not."""
        if not os.path.exists(POSTFIX):
            return "postfix is not installed (%s missing)" % POSTFIX
        if os.geteuid() != 0:
            return "a private Postfix instance needs root (postfix start); euid is %d" % os.geteuid()
        try:
            pwd.getpwnam("postfix")
            grp.getgrnam("postdrop")
        except KeyError as e:
            return "the postfix user or postdrop group is missing: %s" % e
        ver, text = postfix_version()
        if ver is None:
            return text
        if ver < (3, 5):
            return ("Postfix %s is too old: maillog_file/postlogd and PROXY v2 for "
                    "smtpd_upstream_proxy_protocol need 3.5+" % text)
        return None

    # -- configuration

    def configure(self, listeners):
        """listeners: {name: [-o overrides]}; each gets a free port."""
        pw = pwd.getpwnam("postfix")
        for d in (self.etc, self.spool, self.data_dir, self.mail):
            os.makedirs(d, exist_ok=True)
        os.chown(self.data_dir, pw.pw_uid, pw.pw_gid)
        os.chown(self.mail, pw.pw_uid, pw.pw_gid)
        r = self.root
        main_cf = """\
# private test instance, generated by tests/integration/postfixkit.py
compatibility_level = 3.6
queue_directory = {r}/spool
data_directory = {r}/data
mail_owner = postfix
setgid_group = postdrop
myhostname = {host}
mydomain = test.example
myorigin = $myhostname
mydestination =
relay_domains =
append_dot_mydomain = no
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.1/32
smtpd_peername_lookup = no
smtpd_client_port_logging = yes
smtpd_delay_reject = yes
smtpd_authorized_xclient_hosts =
smtpd_upstream_proxy_timeout = 5s
maillog_file = {r}/maillog
maillog_file_prefixes = {r}
# every message for {dom} goes to one Maildir; anything else is discarded
virtual_mailbox_domains = {dom}
virtual_mailbox_base = {r}/mail
virtual_mailbox_maps = static:box/
virtual_uid_maps = static:{uid}
virtual_gid_maps = static:{gid}
default_transport = discard
relay_transport = discard
local_transport = discard
alias_maps =
alias_database =
biff = no
smtputf8_enable = no
""".format(r=r, host=HOSTNAME, dom=DOMAIN, uid=pw.pw_uid, gid=pw.pw_gid)
        with open(os.path.join(self.etc, "main.cf"), "w") as f:
            f.write(main_cf)
        lines = []
        for name, opts in listeners.items():
            port = free_port()
            self.ports[name] = port
            lines.append("127.0.0.1:%d inet n - n - - smtpd" % port)
            lines.append("  -o syslog_name=postfix-%s" % name)
            lines += ["  -o %s" % o for o in opts]
        with open(os.path.join(self.etc, "master.cf"), "w") as f:
            f.write("\n".join(lines) + "\n" + MASTER_CF_SERVICES)

    # -- lifecycle

    def _postfix(self, *args, timeout=30):
        return subprocess.run([POSTFIX, "-c", self.etc] + list(args), capture_output=True,
                              text=True, timeout=timeout, stdin=subprocess.DEVNULL)

    def start(self, timeout=20):
        """Start; returns None, or the reason it failed (with logs)."""
        try:
            out = self._postfix("start", timeout=timeout)
        except subprocess.TimeoutExpired:
            self.started = True         # maybe half-started: stop() cleans up
            return "postfix -c %s start did not return within %ds\n%s" % (
                self.etc, timeout, self.maillog()[-3000:])
        self.started = True
        if out.returncode != 0:
            return "postfix -c %s start: rc=%d\nstdout: %s\nstderr: %s\nmaillog: %s" % (
                self.etc, out.returncode, out.stdout, out.stderr, self.maillog()[-3000:])
        try:
            wait_for(lambda: self._read_master_pid(), 10, what="master.pid")
            for name, port in self.ports.items():
                wait_for(lambda: listening(port), 10,
                         what="Postfix listener %s on 127.0.0.1:%d" % (name, port))
        except AssertionError as e:
            return "%s\nmaillog: %s" % (e, self.maillog()[-3000:])
        return None

    def _read_master_pid(self):
        try:
            with open(os.path.join(self.spool, "pid", "master.pid")) as f:
                self.master_pid = int(f.read().strip())
            return self.master_pid
        except (OSError, ValueError):
            return None

    def _instance_pids(self):
        """PIDs of processes of THIS instance (MAIL_CONFIG=our etc)."""
        mark = b"MAIL_CONFIG=" + self.etc.encode() + b"\0"
        pids = []
        for p in os.listdir("/proc"):
            if not p.isdigit():
                continue
            try:
                with open("/proc/%s/environ" % p, "rb") as f:
                    env = f.read() + b"\0"
                with open("/proc/%s/stat" % p) as f:
                    state = f.read().rsplit(")", 1)[1].split()[0]
            except OSError:
                continue
            if state != "Z" and (b"\0" + mark in b"\0" + env):
                pids.append(int(p))
        return pids

    def stop(self):
        """Stop the instance; returns a list of problems (empty: clean)."""
        problems = []
        if not self.started:
            return problems
        self._read_master_pid()
        was_running = bool(self.master_pid) and _alive(self.master_pid)
        try:
            out = self._postfix("stop", timeout=20)
            if out.returncode != 0 and was_running:
                problems.append("postfix stop: rc=%d %s %s" % (out.returncode, out.stdout, out.stderr))
        except subprocess.TimeoutExpired:
            problems.append("postfix stop did not return within 20 s")
        if self.master_pid:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and _alive(self.master_pid):
                time.sleep(0.05)
            if _alive(self.master_pid):
                problems.append("Postfix master %d still running 10 s after postfix stop; killed"
                                % self.master_pid)
                _kill(self.master_pid, signal.SIGKILL)
        left = self._instance_pids()
        if left:
            for p in left:
                _kill(p, signal.SIGTERM)
            deadline = time.monotonic() + 3
            while time.monotonic() < deadline and self._instance_pids():
                time.sleep(0.05)
            for p in self._instance_pids():
                _kill(p, signal.SIGKILL)
        self.started = False
        return problems

    def remove(self):
        shutil.rmtree(self.root, ignore_errors=True)

    # -- what Postfix recorded

    def maillog(self):
        try:
            with open(self.maillog_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def log_lines(self):
        out = []
        for raw in self.maillog().splitlines():
            m = LOG_RE.match(raw)
            if m:
                out.append(LogLine(raw, m.group("prog"), m.group("pid"), m.group("text")))
        return out

    def log_mark(self):
        """A position in the maillog: lines after it are new."""
        return len(self.log_lines())

    def maildir_files(self):
        out = []
        for sub in ("new", "cur"):
            d = os.path.join(self.maildir, sub)
            if os.path.isdir(d):
                out += [os.path.join(d, f) for f in sorted(os.listdir(d))]
        return out

    def find_message(self, msgid):
        needle = ("\nMessage-ID: %s\n" % msgid).lower().encode()
        hits = []
        for p in self.maildir_files():
            try:
                with open(p, "rb") as f:
                    data = f.read()
            except OSError:
                continue
            if needle in data.split(b"\n\n", 1)[0].lower() + b"\n":
                hits.append((p, data))
        return hits

    def qid_for(self, msgid):
        for l in self.log_lines():
            m = re.match(r"^(%s): message-id=(.*)$" % QID_RE, l.text)
            if m and m.group(2).strip() == msgid:
                return m.group(1)
        return None

    def wait_delivered(self, msgid, timeout=10):
        """The Delivery of the message with that Message-ID, once Postfix
        logged status=sent and the Maildir file exists."""
        def done():
            qid = self.qid_for(msgid)
            if not qid:
                return None
            if not any(l.text.startswith(qid + ": ") and "status=sent" in l.text
                       for l in self.log_lines()):
                return None
            hits = self.find_message(msgid)
            return (qid, hits) if hits else None
        qid, hits = wait_for(done, timeout, interval=0.05,
                             what="delivery of %s by Postfix; maillog tail:\n%s" % (
                                 msgid, self.maillog()[-3000:]))
        assert len(hits) == 1, "message %s delivered %d times: %r" % (msgid, len(hits), hits)
        lines = self.log_lines()
        qid_lines = [l for l in lines if l.text.startswith(qid + ": ")]
        return Delivery(qid, hits[0][0], hits[0][1], self.smtpd_session(lines, qid), qid_lines)

    @staticmethod
    def smtpd_session(lines, qid):
        """Log lines of the smtpd session that received qid: from its
        "connect from" to its "disconnect from" (same process)."""
        for i, l in enumerate(lines):
            if l.prog.endswith("/smtpd") and l.text.startswith(qid + ": client="):
                pid = l.pid
                start = i
                while start > 0 and not (lines[start].pid == pid and
                                         lines[start].text.startswith("connect from ")):
                    start -= 1
                end = i
                while end < len(lines) and not (lines[end].pid == pid and
                                                lines[end].text.startswith("disconnect from ")):
                    end += 1
                return [x for x in lines[start:end + 1] if x.pid == pid]
        return []


def running(request, setup):
    """A module fixture's body: a private Postfix, made ready by
    setup(pf) (pf.configure(...) and more), started (a second try with
    new ports when one was taken meanwhile), yielded, then stopped; kept
    on disk when a test of the module failed or it did not stop cleanly.
    Skips with the reason when this machine cannot run one."""
    why = PrivatePostfix.prerequisites()
    if why:
        pytest.skip("no private Postfix instance: " + why)
    failed_before = request.session.testsfailed
    for attempt in range(2):
        pf = PrivatePostfix()
        setup(pf)
        err = pf.start()
        if not err:
            break
        problems = pf.stop()
        if attempt == 0 and "Address already in use" in err:
            pf.remove()             # a free port was taken meanwhile: new ports
            continue
        not_started("private Postfix instance did not start (kept %s): %s %s"
                    % (pf.root, err, problems))
    yield pf
    problems = pf.stop()
    if request.session.testsfailed > failed_before or problems:
        sys.stderr.write("\nkept private Postfix instance %s (maillog, Maildir)\n" % pf.root)
    else:
        pf.remove()
    if problems:
        pytest.fail("private Postfix teardown: " + "\n".join(problems), pytrace=False)


def not_started(msg):
    """A private Postfix that did not start: a failure where make test
    installed Postfix and runs as root (or MXSHIELD_REQUIRE_POSTFIX=1),
    since the machine then can run it; a skip with the reason otherwise."""
    if os.environ.get("MXSHIELD_REQUIRE_POSTFIX") or os.geteuid() == 0:
        pytest.fail(msg, pytrace=False)
    pytest.skip(msg)


def _alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _kill(pid, sig):
    try:
        os.kill(pid, sig)
    except OSError:
        pass
