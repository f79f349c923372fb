"""
The development sink (tools/devsink.py, the backend of `make run`)
behind mxshield, with the authentication rules deploy/dev.conf switches
on: its test accounts log in through mxshield with smtplib (PLAIN and
LOGIN), a wrong password gets the sink's 535 5.7.8, a cancelled or
undecodable exchange leaves both ends in step, and what the sink stores
is the message mxshield relayed, with the identity the sink accepted.
"""

import glob
import os
import smtplib
import subprocess
import sys

import pytest

from smtpkit import RECEIVED_RE, free_port, listening, make_message, wait_for
from policykit import b64, refused

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DEVSINK = os.path.join(REPO, "tools", "devsink.py")

ALICE, ALICE_PW = "alice@example.com", "alice-secret"
BOB, BOB_PW = "bob@example.com", "bob-secret"

# The rules of deploy/dev.conf (hijack detection aside: test_hijack.py).
DEV_RULES = {"local_domains": ["example.com"],
             "auth": {"require_for_local_senders": True, "match_envelope": True,
                      "add_header": True}}


class Sink:
    def __init__(self, port, mail_dir, out_path):
        self.port, self.dir, self.out_path = port, mail_dir, out_path

    def stored(self):
        return sorted(glob.glob(os.path.join(self.dir, "*.eml")))

    def out(self):
        with open(self.out_path, "rb") as f:
            return f.read().decode("utf-8", "replace")


@pytest.fixture
def sink(procs, workdir):
    port = free_port()
    mail_dir = os.path.join(workdir, "mail")
    out_path = os.path.join(workdir, "devsink.out")
    with open(out_path, "wb") as out:
        p = procs([sys.executable, DEVSINK, "--listen", "127.0.0.1:%d" % port,
                   "--dir", mail_dir], stdin=subprocess.DEVNULL, stdout=out,
                  stderr=subprocess.STDOUT)
    s = Sink(port, mail_dir, out_path)
    wait_for(lambda: listening(port) or p.poll() is not None, 10, what="devsink listening")
    assert p.poll() is None, "devsink exited with %s:\n%s" % (p.returncode, s.out())
    return s


@pytest.fixture
def mx(mxshield, sink):
    return mxshield(DEV_RULES, backend_port=sink.port)


def smtp(mx):
    s = smtplib.SMTP("127.0.0.1", mx.port, local_hostname="client.example.net", timeout=10)
    code, _ = s.ehlo()
    assert code == 250
    return s


def test_login_plain_and_send(mx, sink):
    s = smtp(mx)
    assert s.esmtp_features["auth"].split() == ["PLAIN", "LOGIN"], s.esmtp_features
    s.user, s.password = ALICE, ALICE_PW
    assert s.auth("PLAIN", s.auth_plain) == (235, b"2.7.0 Authentication successful")
    msg = make_message(subject="through the dev sink", sender=ALICE)
    assert s.mail(ALICE) == (250, b"2.1.0 Ok")
    assert s.rcpt(BOB) == (250, b"2.1.5 Ok")
    code, text = s.data(msg)
    assert code == 250 and text.startswith(b"2.0.0 Ok: queued as DEV"), (code, text)
    s.quit()

    wait_for(lambda: len(sink.stored()) == 1, 5, what="one message stored")
    with open(sink.stored()[0], "rb") as f:
        stored = f.read()
    # mxshield's Received: and X-Authenticated-Sender:, then the message
    # as the client sent it
    m = RECEIVED_RE.match(stored)
    assert m and (m.group("helo"), m.group("ip"), m.group("by")) == (
        b"client.example.net", b"127.0.0.1", b"mx.test.example"), stored[:300]
    assert stored[m.end():] == b"X-Authenticated-Sender: " + ALICE.encode() + b"\r\n" + msg, \
        stored[:600]
    wait_for(lambda: "authenticated as %s" % ALICE in sink.out(), 5, what="sink's stored line")
    assert "AUTH PLAIN as %s" % ALICE in sink.out()
    assert ALICE_PW not in sink.out()
    t = mx.wait_log(lambda l: l.get("event") == "txn" and l.get("result") == "accepted",
                    what="accepted txn")
    assert t[0]["auth"] == ALICE, t
    assert t[0]["queue_id"] == text.decode().rsplit(" ", 1)[1], t


def test_wrong_password_is_refused(mx, sink):
    s = smtp(mx)
    s.user, s.password = ALICE, "not-" + ALICE_PW
    with pytest.raises(smtplib.SMTPAuthenticationError) as e:
        s.auth("PLAIN", s.auth_plain)
    assert (e.value.smtp_code, e.value.smtp_error) == (
        535, b"5.7.8 Authentication credentials invalid")
    # not logged in: a local sender is refused by mxshield, not relayed
    assert s.mail(ALICE) == (530, b"5.7.0 Authentication required")
    assert s.mail("friend@example.org") == (250, b"2.1.0 Ok")
    s.quit()
    wait_for(lambda: "AUTH PLAIN as '%s' failed" % ALICE in sink.out(), 5,
             what="sink's failed AUTH line")
    assert "not-" + ALICE_PW not in sink.out()
    assert sink.stored() == []
    assert not [l for l in mx.logs("txn") if l.get("auth")], mx.logs("txn")


def test_login_mechanism_and_envelope_match(mx, sink):
    s = smtp(mx)
    s.user, s.password = BOB, BOB_PW
    assert s.auth("LOGIN", s.auth_login, initial_response_ok=False)[0] == 235
    # match_envelope: bob may not send as alice
    assert s.mail(ALICE) == (553, b"5.7.1 Sender address not owned by the authenticated user")
    s.sendmail(BOB, [ALICE], make_message(sender=BOB))
    s.quit()
    wait_for(lambda: len(sink.stored()) == 1, 5, what="one message stored")
    assert "authenticated as %s" % BOB in sink.out()


def test_cancelled_and_undecodable_exchanges(mx, sink):
    c = mx.session()
    assert c.cmd("AUTH PLAIN").raw == b"334 \r\n"
    # the client cancels: the sink's 501 is relayed
    refused(c.cmd("*"), "501 5.7.0 Authentication cancelled")
    # bad base64: mxshield answers and cancels at the sink itself
    assert c.cmd("AUTH LOGIN").raw == b"334 VXNlcm5hbWU6\r\n"
    refused(c.cmd("!!!not base64"), "501 5.5.2 Invalid base64 data")
    # both ends are back in the command state: a good login works
    r = c.cmd("AUTH PLAIN " + b64("\0%s\0%s" % (ALICE, ALICE_PW)))
    refused(r, "235 2.7.0 Authentication successful")
    refused(c.cmd("AUTH PLAIN " + b64("\0%s\0%s" % (BOB, BOB_PW))),
            "503 5.5.1 Error: already authenticated")
    assert c.transaction(ALICE, [BOB], make_message(sender=ALICE)).code == 250
    refused(c.cmd("QUIT"), "221 2.0.0 Bye")
    wait_for(lambda: len(sink.stored()) == 1, 5, what="one message stored")
