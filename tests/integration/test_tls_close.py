"""
How a TLS session ends (RFC 5246 7.2.1): mxshield sends close_notify
before it closes either leg, after the 221 to QUIT and on every other
close (a 421 hang-up, the client going away), so the peer can tell the
end of the session from a cut connection. Without it OpenSSL reports
"unexpected eof while reading".

Every test checks what the client was told, what the backend received
and how each TLS peer saw the close.
"""

import subprocess

import pytest

import conftest
import tlsutil
from tlsutil import certs_fixture  # noqa: F401  (the certs fixture)

OUR_EHLO = b"EHLO mx.test.example\r\n"


def start(mxshield, certs, listen_tls="starttls", **over):
    return mxshield(conftest.merge(tlsutil.tls_config(certs, listen_tls), over))


def tls_client(mx, certs, listen_tls, helo="close.example.net"):
    """A client past the greeting and EHLO inside TLS."""
    ctx = tlsutil.strict_eof(certs.client_context())
    if listen_tls == "implicit":
        c = tlsutil.implicit_client(mx.port, ctx)
        mx.clients.append(c)
        assert c.reply().code == 220
    else:
        c = mx.client()
        assert c.reply().code == 220
        c.ehlo(helo)
        assert c.cmd("STARTTLS").code == 220
        assert tlsutil.starttls(c, ctx) == b""
    r = c.ehlo(helo)
    assert r.code == 250, r
    return c


def session_line(mx):
    return mx.wait_log(lambda l: l.get("event") == "session", what="session line")[0]


@pytest.mark.parametrize("listen_tls", ["starttls", "implicit"])
def test_client_gets_close_notify_after_quit(mxshield, backend, certs, listen_tls):
    mx = start(mxshield, certs, listen_tls)
    c = tls_client(mx, certs, listen_tls)
    r = c.cmd("QUIT")
    assert (r.code, r.enh) == (221, "2.0.0"), r
    assert tlsutil.close_kind(c) == "close_notify"
    backend.wait_all_closed(3)
    assert backend.all_verbs()[-2:] == ["EHLO", "QUIT"], backend.all_verbs()
    sess = session_line(mx)
    assert sess["reason"] == "quit" and sess["tls"].startswith("TLSv1."), sess


def test_client_gets_close_notify_on_hang_up(mxshield, backend, certs):
    """A 421 that ends the session (max_errors) ends TLS cleanly too."""
    mx = start(mxshield, certs, "implicit", limits={"max_errors": 2})
    c = tls_client(mx, certs, "implicit")
    got = [c.cmd("FOO"), c.cmd("BAR")]
    got.append(c.reply())
    assert [r.code for r in got] == [502, 502, 421], got
    assert got[-1].enh == "4.7.0", got
    assert tlsutil.close_kind(c) == "close_notify"
    backend.wait_all_closed(3)
    assert not any(v in ("FOO", "BAR") for v in backend.all_verbs()), backend.all_verbs()
    assert session_line(mx)["reason"] == "too many errors"


@pytest.mark.parametrize("starttls", [True, False], ids=["starttls", "implicit"])
def test_openssl_s_client_sees_no_unexpected_eof(mxshield, backend, certs, procs, starttls):
    mx = start(mxshield, certs, "starttls" if starttls else "implicit")
    p = procs(tlsutil.s_client_argv(mx.port, certs, starttls=starttls, extra=["-brief", "-ign_eof"]),
              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    s = tlsutil.Interactive(p)
    s.expect(rb"^Verification: OK", stream="err")
    s.write("EHLO sclient.example.net\n")
    s.expect(rb"^250 ")
    s.write("QUIT\n")
    s.expect(rb"^221 2\.0\.0")
    s.close_stdin()
    rc = s.wait(10)
    assert rc is not None, "s_client still running after QUIT"
    out, err = s.output()
    said = (out + err).decode("utf-8", "replace")
    assert "unexpected eof" not in said.lower(), said[-600:]
    assert rc == 0, (rc, said[-600:])
    backend.wait_all_closed(3)
    assert backend.all_verbs()[-1] == "QUIT", backend.all_verbs()
    assert session_line(mx)["reason"] == "quit"


@pytest.mark.parametrize("backend_mode", ["starttls", "implicit"])
def test_backend_gets_close_notify_after_quit(mxshield, backend, certs, backend_mode):
    """mxshield as the backend's TLS client: after QUIT and the backend's
    221 (the backend leaves the close to mxshield) the backend reads a
    close_notify, then EOF."""
    backend.tls_cert, backend.tls_key = certs.backend, certs.backend_key
    backend.starttls = backend_mode == "starttls"
    backend.implicit_tls = backend_mode == "implicit"
    backend.quit_wait_close = True
    mx = mxshield({"backend": {"tls": backend_mode, "tls_ca_file": certs.ca,
                               "tls_server_name": "backend.test.example"}})
    c = mx.session()
    r = c.cmd("QUIT")
    assert (r.code, r.enh) == (221, "2.0.0"), r
    c.expect_closed(3)
    backend.wait_all_closed(5)
    (sess,) = backend.sessions
    assert sess.tls is not None
    assert sess.commands[-2:] == [b"EHLO client.example.net\r\n", b"QUIT\r\n"], sess.commands
    assert sess.close_kind == "close_notify", sess.close_kind


def test_backend_gets_close_notify_when_the_client_goes(mxshield, backend, certs):
    """The client drops the connection without QUIT: the backend leg
    still ends with close_notify."""
    backend.tls_cert, backend.tls_key = certs.backend, certs.backend_key
    backend.implicit_tls = True
    mx = mxshield({"backend": {"tls": "implicit", "tls_ca_file": certs.ca,
                               "tls_server_name": "backend.test.example"}})
    c = mx.session()
    assert c.cmd("NOOP").code == 250
    c.close()
    backend.wait_all_closed(5)
    (sess,) = backend.sessions
    assert sess.verbs()[-1] == "NOOP", sess.commands
    assert sess.close_kind == "close_notify", sess.close_kind
    assert session_line(mx)["reason"] == "client closed the connection"
