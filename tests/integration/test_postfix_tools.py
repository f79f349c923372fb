"""
Postfix's smtp-source through mxshield into Postfix's smtp-sink: a
second, independent SMTP implementation on both sides, parallel
sessions, every message acknowledged and delivered once.
"""

import os
import shutil
import subprocess
import time

import pytest

from smtpkit import free_port, wait_for

SOURCE = shutil.which("smtp-source") or "/usr/sbin/smtp-source"
SINK = shutil.which("smtp-sink") or "/usr/sbin/smtp-sink"


@pytest.fixture
def sink(procs, workdir):
    if not (os.path.exists(SOURCE) and os.path.exists(SINK)):
        pytest.fail("postfix smtp-source/smtp-sink not installed (make test installs them: "
                    "tools/deps.sh test)", pytrace=False)
    port = free_port()
    dump = os.path.join(workdir, "sink")
    os.mkdir(dump)
    os.chmod(dump, 0o777)
    os.chmod(workdir, 0o755)    # smtp-sink runs as nobody when we are root
    argv = [SINK, "-c", "-d", dump + "/%M.", "127.0.0.1:%d" % port, "100"]
    if os.geteuid() == 0:
        argv[1:1] = ["-u", "nobody"]
    out = open(os.path.join(workdir, "sink.out"), "wb")
    p = procs(argv, stdout=out, stderr=subprocess.STDOUT)

    def up():
        import socket
        s = socket.socket()
        try:
            s.settimeout(0.2)
            s.connect(("127.0.0.1", port))
            return True
        except OSError:
            return False
        finally:
            s.close()
    wait_for(up, 5, what="smtp-sink listening")
    # that probe was one session (no message) for smtp-sink
    p.port = port
    p.dump = dump
    return p


def _dumped(dump):
    return sorted(os.path.join(dump, f) for f in os.listdir(dump))


def test_smtp_source_to_smtp_sink(mxshield, sink):
    mx = mxshield(backend_port=sink.port, workers=2)
    t = time.monotonic()
    out = subprocess.run([SOURCE, "-c", "-s", "5", "-m", "50", "-l", "2048",
                          "-f", "a@example.com", "-t", "b@example.com",
                          "127.0.0.1:%d" % mx.port], capture_output=True, timeout=60)
    assert out.returncode == 0, out
    assert b"fatal" not in out.stderr and b"error" not in out.stderr.lower(), out.stderr
    assert time.monotonic() - t < 30
    wait_for(lambda: len(_dumped(sink.dump)) >= 50, 10, what="50 messages at smtp-sink")
    time.sleep(0.3)
    files = _dumped(sink.dump)
    assert len(files) == 50
    ids = set()
    for f in files:
        data = open(f, "rb").read()
        assert b"by mx.test.example (mxshield)" in data, data[:600]
        assert data.count(b"(mxshield)") == 1
        for line in data.split(b"\n"):
            if line.lower().startswith(b"message-id:"):
                ids.add(line)
    assert len(ids) == 50
    mx.wait_log(lambda l: l.get("event") == "txn", what="txn lines")
    txns = mx.logs("txn")
    assert len(txns) == 50 and all(str(t["backend_reply"]).startswith("250") for t in txns), txns[:3]
