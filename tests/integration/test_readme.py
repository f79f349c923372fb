"""
The runnable examples of README.md do what README says, as written
there: each is taken out of README.md itself, so editing one without
the program (or the reverse) fails here.

- "A worked example": the smuggling command (tools/smtp-raw.py, python3
  only) gets the 550 5.5.2 and the replies README shows; nothing reaches
  the backend; the log has the rejected transaction.
"""

import os
import re
import shlex
import subprocess
import sys

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
README = os.path.join(REPO, "README.md")


def _smuggling_blocks():
    """(the command, the output README shows for it)."""
    with open(README) as f:
        text = f.read()
    m = re.search(r"Now try what a smuggler would send.*?```sh\n(.*?)```.*?```\n(.*?)```",
                  text, re.S)
    assert m, "README.md has no smuggling example (```sh block and its output)"
    return m.group(1), m.group(2)


def test_readme_smuggling_example(mxshield, backend):
    cmd, shown = _smuggling_blocks()
    assert cmd.startswith("python3 tools/smtp-raw.py 127.0.0.1:2525 "), cmd
    cmd = cmd.replace("127.0.0.1:2525", "127.0.0.1:%d" % mxshield.port, 1)
    cmd = shlex.quote(sys.executable) + cmd[len("python3"):]
    r = subprocess.run(["/bin/sh", "-c", cmd], cwd=REPO, stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=30)
    assert (r.returncode, r.stderr) == (0, ""), (r.returncode, r.stdout, r.stderr)
    out = r.stdout.splitlines()
    assert "<- 550 5.5.2 Bare <CR> or <LF> in message not allowed" in out, r.stdout
    for line in shown.splitlines():
        assert line in out, "README shows %r; the command printed:\n%s" % (line, r.stdout)
    # the smuggled MAIL never became a command, and no message was stored
    backend.wait_all_closed()
    assert backend.transactions == []
    assert not any(b"evil@example.net" in c for c in backend.all_commands())
    (txn,) = mxshield.wait_log(lambda l: l.get("event") == "txn", what="the txn line")
    assert (txn["result"], txn["where"]) == ("rejected", "data"), txn
    assert [v["code"] for v in txn["verdicts"]] == [550], txn
