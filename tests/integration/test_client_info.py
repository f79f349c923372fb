"""
How the backend learns who the client is (backend.client_info, DESIGN.md
"Client identity to the backend"): "xclient" sends mxshield's EHLO, then
XCLIENT ADDR= PORT= NAME= HELO= PROTO= (xtext), takes the new 220 and
relays the client's EHLO; a backend without (or refusing) XCLIENT gives
the client 421 4.4.2. "proxy" opens the backend connection with a PROXY
header. In both, mxshield adds no Received: field. ("received" and
"none" are in test_relay.py.)
"""

import pytest

from smtpkit import dot_stuff, make_message, parse_proxy

XCLIENT_CAP = "XCLIENT ADDR PORT NAME HELO PROTO LOGIN DESTADDR DESTPORT"


@pytest.mark.parametrize("helo", ["client.example.net", "host_name.example"])
def test_xclient(mxshield, backend, helo):
    backend.capabilities = backend.capabilities + [XCLIENT_CAP]
    mx = mxshield({"backend": {"client_info": "xclient"}})
    c = mx.client(source="127.0.0.2")
    assert c.reply().code == 220
    r = c.cmd("EHLO " + helo)
    assert r.code == 250
    assert not any(l.upper().startswith("XCLIENT") for l in r.lines), r
    content = make_message()
    assert c.transaction("sender@example.net", ["rcpt@example.com"], content).code == 250
    (s,) = backend.sessions
    verbs = s.verbs()
    i = verbs.index("XCLIENT")
    assert verbs[0] == "EHLO" and i > 0 and verbs[i + 1] == "EHLO", s.commands
    assert s.commands[i + 1] == b"EHLO " + helo.encode() + b"\r\n"
    x = s.xclient
    assert x.get("ADDR") == "127.0.0.2", x
    assert x.get("PORT") == str(c.local_port), x
    assert x.get("HELO") == helo, x
    assert x.get("PROTO") == "ESMTP", x
    assert x.get("NAME"), x
    # the backend writes its own trace: mxshield adds nothing
    assert backend.transactions[0].data == dot_stuff(content)


def test_xclient_helo_outside_syntax(mxshield, backend):
    """A HELO argument outside domain syntax ("+", "=" need xtext in
    XCLIENT HELO=) is refused before anything reaches the backend: no
    EHLO of ours, no XCLIENT; the next, good EHLO starts them."""
    backend.capabilities = backend.capabilities + [XCLIENT_CAP]
    mx = mxshield({"backend": {"client_info": "xclient"}})
    c = mx.client(source="127.0.0.2")
    assert c.reply().code == 220
    r = c.cmd("EHLO odd+helo=x.example")
    assert (r.code, r.enh) == (501, "5.5.2"), r
    c.assert_quiet(0.3)
    assert [s.commands for s in backend.sessions] in ([], [[]]), backend.sessions
    assert c.cmd("EHLO good.example").code == 250
    assert c.transaction("sender@example.net", ["rcpt@example.com"], make_message()).code == 250
    (s,) = backend.sessions
    assert s.verbs().count("XCLIENT") == 1, s.commands
    assert s.xclient.get("HELO") == "good.example", s.xclient
    assert not any(b"odd+helo" in x for x in s.commands), s.commands


@pytest.mark.parametrize("how", ["not-offered", "refused"])
def test_xclient_unusable_gives_421(mxshield, backend, how):
    if how == "refused":
        backend.capabilities = backend.capabilities + [XCLIENT_CAP]
        backend.replies = {"XCLIENT": b"550 5.7.0 Error: insufficient authorization"}
    mx = mxshield({"backend": {"client_info": "xclient"}})
    c = mx.client()
    assert c.reply().code == 220
    c.sendline("EHLO client.example.net")
    r = c.reply()
    assert (r.code, r.enh) == (421, "4.4.2"), r
    c.expect_closed(3)
    assert backend.transactions == []


@pytest.mark.parametrize("version", [1, 2])
def test_proxy_header_to_backend(mxshield, backend, version):
    backend.proxy_header = True
    mx = mxshield({"backend": {"client_info": "proxy", "proxy_protocol_version": version}})
    c = mx.client(source="127.0.0.2")
    assert c.reply().code == 220
    c.ehlo()
    content = make_message()
    assert c.transaction("sender@example.net", ["rcpt@example.com"], content).code == 250
    (s,) = backend.sessions
    assert s.proxy, "no PROXY header before the first command: %r" % s.commands[:2]
    if version == 2:
        assert s.proxy.startswith(b"\r\n\r\n\x00\r\nQUIT\n"), s.proxy
    else:
        assert s.proxy.startswith(b"PROXY TCP4 "), s.proxy
    assert parse_proxy(s.proxy) == ("127.0.0.2", "127.0.0.1", c.local_port, mx.port)
    assert backend.transactions[0].data == dot_stuff(content)
