"""
README "Put mxshield in front of Postfix or Exim", tried on a real
Postfix: the open-relay trap it warns about exists, and each way out it
gives closes it.

A private Postfix instance (postfixkit.PrivatePostfix) runs for the
module. mxshield talks to it from 127.0.0.1, which every listener has in
mynetworks, as Debian's Postfix has 127.0.0.0/8; the client connects
from 127.0.0.2, outside mynetworks, and asks to relay to
someone@elsewhere.example (Postfix would discard such mail here: its
default_transport is discard(8), nothing leaves the machine).

  trap      a plain smtpd, client_info = "received": Postfix sees
            mxshield's 127.0.0.1, permit_mynetworks matches, and the
            stranger may relay.
  xclient   -o smtpd_authorized_xclient_hosts=127.0.0.1, client_info =
            "xclient": Postfix sees 127.0.0.2 and refuses to relay.
  haproxy   -o smtpd_upstream_proxy_protocol=haproxy, client_info =
            "proxy": likewise.
  screen    postscreen with -o postscreen_upstream_proxy_protocol=haproxy
            handing off to "smtpd pass": postscreen and smtpd see
            127.0.0.2 (its 220- pregreet banner and greet wait included).
  nonets    a plain smtpd with -o mynetworks= (empty) and
            -o smtpd_client_event_limit_exceptions=127.0.0.1,
            client_info = "received": Postfix sees 127.0.0.1 and trusts
            nobody.

Prerequisites as in test_postfix_backend.py: a private Postfix that
does not start fails as root (or with MXSHIELD_REQUIRE_POSTFIX=1) and is
skipped with the reason otherwise.
"""

import os
import re

import pytest

import postfixkit
from postfixkit import DOMAIN
from smtpkit import make_message

CLIENT_IP = "127.0.0.2"
LOCAL_RCPT = "rcpt@" + DOMAIN
FOREIGN_RCPT = "someone@elsewhere.example"
GREET_WAIT = 2      # postscreen_greet_wait on the "screen" listener, seconds

LISTENERS = {
    "trap": ["mynetworks=127.0.0.1/32"],
    "xclient": ["mynetworks=127.0.0.1/32", "smtpd_authorized_xclient_hosts=127.0.0.1"],
    "haproxy": ["mynetworks=127.0.0.1/32", "smtpd_upstream_proxy_protocol=haproxy"],
    "screen": ["mynetworks=127.0.0.1/32", "postscreen_upstream_proxy_protocol=haproxy",
               "postscreen_greet_wait=%ds" % GREET_WAIT],
    "nonets": ["mynetworks=", "smtpd_client_event_limit_exceptions=127.0.0.1"],
}


def _use_postscreen(pf, name):
    """Turn listener `name` into postscreen and add the smtpd it hands
    clients to, as README's master.cf for proxy with postscreen shows."""
    path = os.path.join(pf.etc, "master.cf")
    with open(path) as f:
        text = f.read()
    line = "127.0.0.1:%d inet n - n - - smtpd" % pf.ports[name]
    assert line in text, text
    text = text.replace(line, "127.0.0.1:%d inet n - n - 1 postscreen" % pf.ports[name])
    text += "smtpd     pass  -       -       n       -       -       smtpd\n"
    with open(path, "w") as f:
        f.write(text)


@pytest.fixture(scope="module")
def postfix(request):
    def setup(pf):
        pf.configure(LISTENERS)
        _use_postscreen(pf, "screen")
    yield from postfixkit.running(request, setup)


def _greeted(mx):
    c = mx.client(source=CLIENT_IP, timeout=GREET_WAIT + 10)
    g = c.reply()
    assert g.code == 220, g
    r = c.cmd("EHLO client.example.net")
    assert r.code == 250, r
    return c


def _try_relay(mx):
    """The stranger at 127.0.0.2 asks to relay; the reply to that RCPT."""
    c = _greeted(mx)
    assert c.cmd("MAIL FROM:<stranger@example.net>").code == 250
    r = c.cmd("RCPT TO:<%s>" % FOREIGN_RCPT)
    assert c.cmd("QUIT").code == 221
    return r


def _deliver(mx, postfix):
    """A message for the local domain from 127.0.0.2, as Postfix logged it."""
    c = _greeted(mx)
    msgid = "<%s@client.example.net>" % os.urandom(8).hex()
    final = c.transaction("sender@example.net", [LOCAL_RCPT],
                          make_message(msgid=msgid, rcpt=LOCAL_RCPT))
    assert final.code == 250, final
    assert c.cmd("QUIT").code == 221
    d = postfix.wait_delivered(msgid)
    assert final.text.endswith("queued as " + d.qid), (final, d.qid)
    return d


def _refused_as_relay(r):
    # Postfix 3.x default: smtpd_relay_restrictions = permit_mynetworks,
    # permit_sasl_authenticated, defer_unauth_destination
    assert (r.code, r.enh) == (454, "4.7.1"), r
    assert "Relay access denied" in r.text, r


def test_trap_received_mode_relays_for_anyone(mxshield, postfix):
    mx = mxshield(backend_port=postfix.ports["trap"])       # client_info = "received"
    r = _try_relay(mx)
    assert r.code == 250, "Postfix refused to relay for mxshield's address: %r" % r
    d = _deliver(mx, postfix)
    assert re.match(r"^%s: client=unknown\[127\.0\.0\.1\]:\d+$" % d.qid, d.client_line()), \
        d.client_line()


def test_xclient_recipe(mxshield, postfix):
    mx = mxshield({"backend": {"client_info": "xclient"}},
                  backend_port=postfix.ports["xclient"])
    _refused_as_relay(_try_relay(mx))
    d = _deliver(mx, postfix)
    assert re.match(r"^%s: client=unknown\[127\.0\.0\.2\]:\d+$" % d.qid, d.client_line()), \
        d.client_line()


def test_proxy_recipe(mxshield, postfix):
    mx = mxshield({"backend": {"client_info": "proxy"}},
                  backend_port=postfix.ports["haproxy"])
    _refused_as_relay(_try_relay(mx))
    d = _deliver(mx, postfix)
    assert d.smtpd_lines[0].text.startswith("connect from unknown[127.0.0.2]:"), d.smtpd_lines


def test_proxy_recipe_with_postscreen(mxshield, postfix):
    mark = postfix.log_mark()
    # backend.connect_timeout must outlast postscreen's greet wait
    mx = mxshield({"backend": {"client_info": "proxy", "connect_timeout": GREET_WAIT + 5}},
                  backend_port=postfix.ports["screen"])
    _refused_as_relay(_try_relay(mx))
    d = _deliver(mx, postfix)
    assert re.match(r"^%s: client=unknown\[127\.0\.0\.2\]:\d+$" % d.qid, d.client_line()), \
        d.client_line()
    screened = [l.text for l in postfix.log_lines()[mark:] if l.prog.endswith("/postscreen")]
    connects = [t for t in screened if t.startswith("CONNECT from ")]
    assert connects and all(t.startswith("CONNECT from [127.0.0.2]:") for t in connects), screened
    # its tests ran on the real client, the greet wait (220- banner) included
    assert any(t.startswith("PASS NEW [127.0.0.2]:") for t in screened), screened


def test_proxy_recipe_postscreen_greet_wait_over_connect_timeout(mxshield, postfix):
    """The caveat README gives: a greet wait longer than
    backend.connect_timeout leaves the client with 421 4.4.1."""
    mx = mxshield({"backend": {"client_info": "proxy", "connect_timeout": 1}},
                  backend_port=postfix.ports["screen"])
    c = mx.client(source="127.0.0.3", timeout=GREET_WAIT + 10)
    g = c.reply()
    assert (g.code, g.enh) == (421, "4.4.1"), g


def test_received_recipe_without_mynetworks(mxshield, postfix):
    mx = mxshield(backend_port=postfix.ports["nonets"])     # client_info = "received"
    _refused_as_relay(_try_relay(mx))
    d = _deliver(mx, postfix)
    assert re.match(r"^%s: client=unknown\[127\.0\.0\.1\]:\d+$" % d.qid, d.client_line()), \
        d.client_line()
    # the real client is only in mxshield's Received: field
    rcvd = d.fields("Received")
    assert len(rcvd) == 2 and "[127.0.0.2]" in rcvd[1] and "(mxshield)" in rcvd[1], rcvd

