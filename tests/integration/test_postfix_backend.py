"""
A REAL Postfix behind mxshield: does the backend learn who the client is
(DESIGN.md "Client identity to the backend")?

A private Postfix instance (postfixkit.PrivatePostfix: everything under
one temporary directory, smtpd listeners on free 127.0.0.1 ports, mail
for example.com delivered to a Maildir there, its own maillog) runs for
the whole module, with three smtpd listeners:

  plain    XCLIENT not authorized (smtpd_authorized_xclient_hosts empty)
  xclient  smtpd_authorized_xclient_hosts = 127.0.0.0/8
  haproxy  smtpd_upstream_proxy_protocol = haproxy

The client always connects from 127.0.0.2 (mxshield itself talks to
Postfix from 127.0.0.1), so what Postfix logs ("QID: client=unknown[ADDR]:PORT",
smtpd_client_port_logging = yes) and what it writes into its Received:
field tell which identity reached it:

  xclient  Postfix sees 127.0.0.2 and the client's HELO; mxshield adds no
           Received: field. Not authorized: the client gets 421 4.4.2,
           nothing is delivered, mxshield logs why.
  proxy    (v1 and v2) Postfix sees 127.0.0.2; mxshield adds nothing.
  received Postfix sees 127.0.0.1; mxshield's own Received: (naming
           127.0.0.2) sits right below Postfix's.

Postfix or swaks not installed: the tests fail (make test installs
both). Not root, no postfix user, or Postfix < 3.5: skipped with the
reason. A private instance that fails to start fails the module with
Postfix's own output when running as root (make test installed Postfix,
so the machine can run it) or with MXSHIELD_REQUIRE_POSTFIX=1, and is
skipped with that output otherwise (postfixkit.not_started).
"""

import os
import re
import shutil
import subprocess

import pytest

import postfixkit
from postfixkit import DOMAIN, HOSTNAME, POSTFIX
from smtpkit import RECEIVED_RE, make_message, wait_for

SWAKS = shutil.which("swaks")
RCPT = "rcpt@" + DOMAIN
CLIENT_IP = "127.0.0.2"


@pytest.fixture(scope="module")
def postfix(request):
    if not os.path.exists(POSTFIX):
        pytest.fail("postfix is not installed (%s missing; make test installs it: "
                    "tools/deps.sh test)" % POSTFIX, pytrace=False)
    def setup(pf):
        pf.configure({
            "plain": [],
            "xclient": ["smtpd_authorized_xclient_hosts=127.0.0.0/8"],
            "haproxy": ["smtpd_upstream_proxy_protocol=haproxy"],
        })
    yield from postfixkit.running(request, setup)


def _msg():
    msgid = "<%s@client.example.net>" % os.urandom(8).hex()
    return msgid, make_message(msgid=msgid, rcpt=RCPT)


def _send(mx, helo="client.example.net", verb="EHLO"):
    """One message from 127.0.0.2 through mx; (client, msgid, final reply)."""
    c = mx.client(source=CLIENT_IP)
    g = c.reply()
    assert g.code == 220, g
    r = c.cmd("%s %s" % (verb, helo))
    assert r.code == 250, r
    assert not any(l.upper().startswith(("XCLIENT", "XFORWARD")) for l in r.lines), r
    msgid, content = _msg()
    final = c.transaction("sender@example.net", [RCPT], content)
    assert final.code == 250 and "queued as" in final.text, final
    assert c.cmd("QUIT").code == 221
    return c, msgid, final


def _postfix_received(value, helo, ip, proto, qid):
    """Postfix's own Received: (smtpd_received_header, unfolded)."""
    want = re.compile(r"^from %s \(unknown \[%s\]\) by %s \(Postfix\) with %s id %s for <%s>; " % (
        re.escape(helo), re.escape(ip), re.escape(HOSTNAME), proto, qid, re.escape(RCPT)))
    assert want.match(value), "Postfix's Received: %r\nexpected %s" % (value, want.pattern)


def _common(d, final, port, ip):
    """What Postfix logged for the session that delivered d."""
    assert final.text.endswith("queued as " + d.qid), (final, d.qid)
    line = d.client_line()
    assert line == "%s: client=unknown[%s]:%d" % (d.qid, ip, port), (line, d.smtpd_lines)


@pytest.mark.parametrize("verb,helo,proto", [
    ("EHLO", "client.example.net", "ESMTP"),
    ("EHLO", "host_name.example", "ESMTP"),         # an underscore, as real hosts send
    ("HELO", "client.example.net", "SMTP"),
])
def test_xclient_postfix_sees_the_client(mxshield, postfix, verb, helo, proto):
    mx = mxshield({"backend": {"client_info": "xclient"}},
                  backend_port=postfix.ports["xclient"])
    c, msgid, final = _send(mx, helo, verb)
    d = postfix.wait_delivered(msgid)
    _common(d, final, c.local_port, CLIENT_IP)
    assert d.smtpd_lines[0].prog == "postfix-xclient/smtpd", d.smtpd_lines
    # XCLIENT replaced the identity for the whole session: no log line of
    # it names mxshield's address after the XCLIENT
    after = [l.text for l in d.smtpd_lines[1:]]
    assert not any("127.0.0.1" in t for t in after), d.smtpd_lines
    assert after[-1].startswith("disconnect from unknown[%s]:%d " % (CLIENT_IP, c.local_port)), after
    rcvd = d.fields("Received")
    assert len(rcvd) == 1, "mxshield must add no Received: in xclient mode: %r" % rcvd
    _postfix_received(rcvd[0], helo, CLIENT_IP, proto, d.qid)
    assert b"(mxshield)" not in d.data


def test_xclient_not_authorized_gives_421(mxshield, postfix):
    mark = postfix.log_mark()
    before = postfix.maildir_files()
    mx = mxshield({"backend": {"client_info": "xclient"}},
                  backend_port=postfix.ports["plain"])
    c = mx.client(source=CLIENT_IP)
    assert c.reply().code == 220
    c.sendline("EHLO client.example.net")
    r = c.reply()
    assert (r.code, r.enh) == (421, "4.4.2"), r
    c.expect_closed(3)
    # mxshield explains, naming the Postfix setting
    (why,) = mx.wait_log(lambda l: "XCLIENT" in l.get("msg", "") and l.get("level") == "error",
                         what="the XCLIENT misconfiguration error")
    assert "smtpd_authorized_xclient_hosts" in why["msg"], why
    mx.wait_log(lambda l: l.get("client") == "127.0.0.2" and "XCLIENT" in l.get("msg", "")
                and l.get("level") == "warn", what="the session's backend warning")
    # Postfix saw mxshield's EHLO only, from 127.0.0.1, and no XCLIENT,
    # no MAIL: nothing queued, nothing delivered
    def session_over():
        new = postfix.log_lines()[mark:]
        return [l for l in new if l.prog == "postfix-plain/smtpd"
                and l.text.startswith("disconnect from ")]
    (disc,) = wait_for(session_over, 5, what="Postfix's disconnect line:\n" + postfix.maillog()[-2000:])
    assert disc.text.startswith("disconnect from unknown[127.0.0.1]:"), disc
    assert "ehlo=1" in disc.text and "xclient" not in disc.text and "mail=" not in disc.text, disc
    new = postfix.log_lines()[mark:]
    assert not any(": client=" in l.text for l in new), new
    assert postfix.maildir_files() == before


@pytest.mark.parametrize("version", [1, 2])
def test_proxy_postfix_sees_the_client(mxshield, postfix, version):
    mx = mxshield({"backend": {"client_info": "proxy", "proxy_protocol_version": version}},
                  backend_port=postfix.ports["haproxy"])
    c, msgid, final = _send(mx)
    d = postfix.wait_delivered(msgid)
    _common(d, final, c.local_port, CLIENT_IP)
    assert d.smtpd_lines[0].prog == "postfix-haproxy/smtpd", d.smtpd_lines
    assert not any("127.0.0.1" in l.text for l in d.smtpd_lines), d.smtpd_lines
    assert d.smtpd_lines[0].text == "connect from unknown[%s]:%d" % (CLIENT_IP, c.local_port), \
        d.smtpd_lines
    rcvd = d.fields("Received")
    assert len(rcvd) == 1, "mxshield must add no Received: in proxy mode: %r" % rcvd
    _postfix_received(rcvd[0], "client.example.net", CLIENT_IP, "ESMTP", d.qid)
    assert b"(mxshield)" not in d.data


def test_received_postfix_sees_mxshield(mxshield, postfix):
    mx = mxshield(backend_port=postfix.ports["plain"])     # client_info = "received"
    c, msgid, final = _send(mx)
    d = postfix.wait_delivered(msgid)
    assert final.text.endswith("queued as " + d.qid), (final, d.qid)
    m = re.match(r"^%s: client=unknown\[127\.0\.0\.1\]:(\d+)$" % d.qid, d.client_line())
    assert m and int(m.group(1)) != c.local_port, d.client_line()
    assert d.smtpd_lines[0].prog == "postfix-plain/smtpd", d.smtpd_lines
    assert not any(CLIENT_IP in l.text for l in d.smtpd_lines), d.smtpd_lines
    rcvd = d.fields("Received")
    assert len(rcvd) == 2, rcvd
    # Postfix's on top: the relayed EHLO, from mxshield's address
    _postfix_received(rcvd[0], "client.example.net", "127.0.0.1", "ESMTP", d.qid)
    # mxshield's right below, naming the real client
    hdr = d.header.replace(b"\n", b"\r\n") + b"\r\n"
    i = hdr.index(b"\r\nReceived: ", hdr.index(b"Received: ") + 1) + 2
    m = RECEIVED_RE.match(hdr, i)
    assert m, "mxshield's Received: %r" % hdr[i:i + 300]
    assert (m.group("helo"), m.group("ip"), m.group("by"), m.group("proto")) == (
        b"client.example.net", CLIENT_IP.encode(), b"mx.test.example", b"ESMTP"), m.group(0)


def test_swaks_pipelining_through_xclient(mxshield, postfix):
    """An independent client (swaks, pipelining) in xclient mode."""
    if SWAKS is None:
        pytest.fail("swaks is not installed (make test installs it: tools/deps.sh test)",
                    pytrace=False)
    mx = mxshield({"backend": {"client_info": "xclient"}},
                  backend_port=postfix.ports["xclient"])
    msgid = "<%s@swaks.example.net>" % os.urandom(8).hex()
    out = subprocess.run([SWAKS, "--server", "127.0.0.1", "--port", str(mx.port),
                          "--local-interface", CLIENT_IP, "--helo", "swaks.example.net",
                          "--from", "sender@example.net", "--to", RCPT, "--pipeline",
                          "--header", "Message-Id: " + msgid, "--timeout", "10"],
                         capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr
    assert re.search(r"^<-+ +250 [^\n]*queued as", out.stdout, re.M), out.stdout[-2000:]
    d = postfix.wait_delivered(msgid)
    assert re.match(r"^%s: client=unknown\[127\.0\.0\.2\]:\d+$" % d.qid, d.client_line()), \
        d.client_line()
    rcvd = d.fields("Received")
    assert len(rcvd) == 1, rcvd
    _postfix_received(rcvd[0], "swaks.example.net", CLIENT_IP, "ESMTP", d.qid)
