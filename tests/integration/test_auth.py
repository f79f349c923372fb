"""
AUTH through mxshield (DESIGN.md "AUTH"): the backend runs the dialog
and owns the users; mxshield relays it, binds the identity (authcid,
never the authzid) on the backend's 235, never logs the secret, answers
undecodable base64 with 501 5.5.2 and cancels the backend's exchange
with "*". An authenticated session cannot be replayed to a fresh
backend connection ("Rejecting in the middle of the body"). The
identity of CRAM-MD5 (the user before the digest) and SCRAM (n=) is
read too; while a control depends on the identity (hijack.enabled,
auth.match_envelope, auth.match_from_header, auth.add_header), AUTH
with a mechanism whose identity mxshield cannot read gets
504 5.5.4 and never reaches the backend.
"""

import base64
import re

import pytest

import smtpkit
from smtpkit import RECEIVED_RE, make_message

AUTH_CAPS = ["PIPELINING", "SIZE 104857600", "8BITMIME", "ENHANCEDSTATUSCODES", "AUTH PLAIN LOGIN"]
SECRET = "Tr0ub4dor&3-secret"


def b64(s):
    return base64.b64encode(s.encode() if isinstance(s, str) else s).decode()


@pytest.fixture
def auth_backend(backend):
    backend.capabilities = list(AUTH_CAPS)
    return backend


def _no_secret_in_logs(mx):
    err = mx.stderr()
    assert SECRET not in err
    assert b64(SECRET) not in err
    assert b64("\0alice@example.com\0" + SECRET) not in err


def test_ehlo_offers_auth_when_tls_not_required(mxshield, auth_backend):
    c = mxshield.session()
    r = c.cmd("EHLO client.example.net")
    assert "AUTH PLAIN LOGIN" in r.lines


def test_auth_plain_relayed_bound_and_logged(mxshield, auth_backend):
    backend = auth_backend
    c = mxshield.session()
    line = "AUTH PLAIN " + b64("\0alice@example.com\0" + SECRET)
    r = c.cmd(line)
    assert r.raw == b"235 2.7.0 Authentication successful\r\n"
    assert (line + "\r\n").encode() in backend.all_commands()
    assert c.transaction("alice@example.com", ["rcpt@example.com"], make_message()).code == 250
    c.cmd("QUIT")
    (m,) = backend.transactions
    mo = RECEIVED_RE.match(m.data)
    assert mo and mo.group("proto") == b"ESMTPA", m.data[:300]
    (txn,) = mxshield.wait_log(lambda l: l.get("event") == "txn", what="txn line")
    assert txn["auth"] == "alice@example.com", txn
    _no_secret_in_logs(mxshield)


def test_auth_login_dialog(mxshield, auth_backend):
    c = mxshield.session()
    assert c.cmd("AUTH LOGIN").raw == b"334 VXNlcm5hbWU6\r\n"
    assert c.cmd(b64("bob@example.com")).raw == b"334 UGFzc3dvcmQ6\r\n"
    assert c.cmd(b64(SECRET)).code == 235
    assert c.transaction("bob@example.com", ["rcpt@example.com"], make_message()).code == 250
    (txn,) = mxshield.wait_log(lambda l: l.get("event") == "txn", what="txn line")
    assert txn["auth"] == "bob@example.com", txn
    assert auth_backend.sessions[0].auth_lines[:3] == [b"AUTH LOGIN", b64("bob@example.com").encode(),
                                                       b64(SECRET).encode()]
    _no_secret_in_logs(mxshield)


def test_authzid_is_not_trusted(mxshield, auth_backend):
    c = mxshield.session()
    assert c.cmd("AUTH PLAIN " + b64("admin@example.com\0alice@example.com\0" + SECRET)).code == 235
    assert c.transaction("alice@example.com", ["rcpt@example.com"], make_message()).code == 250
    (txn,) = mxshield.wait_log(lambda l: l.get("event") == "txn", what="txn line")
    assert txn["auth"] == "alice@example.com", txn


def test_auth_failure_relayed_and_not_bound(mxshield, auth_backend):
    auth_backend.auth_reply = b"535 5.7.8 Error: authentication failed"
    c = mxshield.session()
    r = c.cmd("AUTH PLAIN " + b64("\0alice@example.com\0wrong"))
    assert r.raw == b"535 5.7.8 Error: authentication failed\r\n"
    assert c.transaction("x@example.net", ["rcpt@example.com"], make_message()).code == 250
    (txn,) = mxshield.wait_log(lambda l: l.get("event") == "txn", what="txn line")
    assert not txn["auth"], txn
    mo = RECEIVED_RE.match(auth_backend.transactions[0].data)
    assert mo and mo.group("proto") == b"ESMTP"


def test_undecodable_base64_cancels_backend_exchange(mxshield, auth_backend):
    c = mxshield.session()
    assert c.cmd("AUTH LOGIN").code == 334
    r = c.cmd("@@@ not base64 @@@")
    assert (r.code, r.enh) == (501, "5.5.2"), r
    c.assert_quiet(0.3)
    assert auth_backend.wait_for(lambda: b"*" in auth_backend.sessions[0].auth_lines, 3,
                                 "the backend's AUTH exchange cancelled with *")
    assert not any(b"@@@" in x for x in auth_backend.all_commands())
    assert c.cmd("NOOP").code == 250


def test_authenticated_session_closed_after_mid_body_reject(mxshield, auth_backend):
    c = mxshield.session()
    assert c.cmd("AUTH PLAIN " + b64("\0alice@example.com\0" + SECRET)).code == 235
    assert c.cmd("MAIL FROM:<alice@example.com>").code == 250
    assert c.cmd("RCPT TO:<rcpt@example.com>").code == 250
    assert c.cmd("DATA").code == 354
    body = b"Subject: big\r\n\r\n" + (b"k" * 70 + b"\r\n") * 5000 + b"bare\nline\r\n"
    c.send(body + b".\r\n")
    r = c.reply(timeout=10)
    assert (r.code, r.enh) == (550, "5.5.2"), r
    r = c.reply_or_none(timeout=5)
    assert r is not None and (r.code, r.enh) == (421, "4.7.0"), r
    c.expect_closed(3)
    assert auth_backend.transactions == []
    # the backend was never asked to take the session again without AUTH
    assert len(auth_backend.sessions) == 1


def test_xoauth2_identity_bound(mxshield, auth_backend):
    backend = auth_backend
    backend.capabilities = AUTH_CAPS[:-1] + ["AUTH PLAIN LOGIN XOAUTH2"]
    c = mxshield.session()
    token = "ya29.secret-token"
    r = c.cmd("AUTH XOAUTH2 " + b64("user=carol@example.com\x01auth=Bearer " + token + "\x01\x01"))
    assert r.code == 235, r
    assert c.transaction("carol@example.com", ["rcpt@example.com"], make_message()).code == 250
    c.cmd("QUIT")
    (txn,) = mxshield.wait_log(lambda l: l.get("event") == "txn", what="txn line")
    assert txn["auth"] == "carol@example.com", txn
    assert token not in mxshield.stderr()


def test_add_header_names_identity_and_strips_forgeries(mxshield, auth_backend):
    backend = auth_backend
    mx = mxshield({"auth": {"add_header": True}})
    forged = (b"X-Authenticated-Sender: ceo@example.com\r\n"
              b"Subject: hello\r\n"
              b"x-authenticated-sender:\r\n  folded@example.com\r\n"
              b"\r\nbody\r\n")
    # unauthenticated: the forged headers go, nothing is added
    c = mx.session()
    assert c.transaction("x@example.net", ["rcpt@example.com"], forged).code == 250
    c.cmd("QUIT")
    # authenticated: ours first, the forged ones gone
    c = mx.session()
    assert c.cmd("AUTH PLAIN " + b64("\0alice@example.com\0" + SECRET)).code == 235
    assert c.transaction("alice@example.com", ["rcpt@example.com"], forged).code == 250
    c.cmd("QUIT")
    first, second = backend.transactions
    assert b"authenticated-sender" not in first.data.lower()
    assert b"Subject: hello\r\n" in first.data and b"\r\n\r\nbody\r\n" in first.data
    hdr = second.data.split(b"\r\n\r\n", 1)[0]
    lines = [l for l in hdr.split(b"\r\n") if b"authenticated-sender" in l.lower()]
    assert lines == [b"X-Authenticated-Sender: alice@example.com"], hdr
    assert b"folded@example.com" not in second.data and b"ceo@example.com" not in second.data


# --------------------------------------------------------------------------
# CRAM-MD5 and SCRAM: the identity read as for PLAIN; mechanisms whose
# identity mxshield cannot read are refused while a control needs it
# --------------------------------------------------------------------------

CRAM_SCRAM_CAPS = AUTH_CAPS[:-1] + ["AUTH PLAIN LOGIN CRAM-MD5 SCRAM-SHA-256"]
UNREADABLE_CAPS = AUTH_CAPS[:-1] + ["AUTH PLAIN DIGEST-MD5 GSSAPI"]
REFUSED_504 = b"504 5.5.4 Unrecognized authentication type\r\n"


def test_cram_md5_identity_bound_and_logged(mxshield, auth_backend):
    backend = auth_backend
    backend.capabilities = CRAM_SCRAM_CAPS
    c = mxshield.session()
    r = c.cmd("AUTH CRAM-MD5")
    assert r.code == 334, r
    # RFC 2195: base64 of "user SP digest"; the backend checks no digest
    response = b64("tim@example.com b913a602c7eda7a495b4e6e7334d3890")
    assert c.cmd(response).code == 235
    assert c.transaction("tim@example.com", ["rcpt@example.com"], make_message()).code == 250
    c.cmd("QUIT")
    # relayed byte for byte
    assert backend.sessions[0].auth_lines == [b"AUTH CRAM-MD5", response.encode()]
    (txn,) = mxshield.wait_log(lambda l: l.get("event") == "txn", what="txn line")
    assert txn["auth"] == "tim@example.com", txn
    assert "b913a602c7eda7a495b4e6e7334d3890" not in mxshield.stderr()
    assert response not in mxshield.stderr()


@pytest.mark.parametrize("initial", [True, False])
def test_scram_identity_bound_authzid_not_trusted(mxshield, auth_backend, initial):
    backend = auth_backend
    backend.capabilities = CRAM_SCRAM_CAPS
    c = mxshield.session()
    # n= "car,ol=x@example.com" escaped as =2C and =3D; a= is not trusted
    first = "n,a=admin@example.com,n=car=2Col=3Dx@example.com,r=rOprNGfwEbeRWgbNEkqO"
    if initial:
        r = c.cmd("AUTH SCRAM-SHA-256 " + b64(first))
    else:
        assert c.cmd("AUTH SCRAM-SHA-256").raw == b"334 \r\n"
        r = c.cmd(b64(first))
    assert r.code == 334, r
    server_first = base64.b64decode(r.text)
    assert server_first.startswith(b"r=rOprNGfwEbeRWgbNEkqO"), server_first
    # client-final (the backend checks no proof), server-final, empty
    final = b64(b"c=" + base64.b64encode(b"n,a=admin@example.com,") + b"," +
                server_first.split(b",")[0] + b",p=" + base64.b64encode(b"x" * 32))
    r = c.cmd(final)
    assert r.code == 334 and base64.b64decode(r.text).startswith(b"v="), r
    assert c.cmd("").code == 235
    assert c.transaction("x@example.net", ["rcpt@example.com"], make_message()).code == 250
    c.cmd("QUIT")
    lines = backend.sessions[0].auth_lines
    if initial:
        assert lines == [("AUTH SCRAM-SHA-256 " + b64(first)).encode(), final.encode(), b""]
    else:
        assert lines == [b"AUTH SCRAM-SHA-256", b64(first).encode(), final.encode(), b""]
    (txn,) = mxshield.wait_log(lambda l: l.get("event") == "txn", what="txn line")
    assert txn["auth"] == "car,ol=x@example.com", txn


IDENTITY_CONTROLS = {
    "hijack": {"hijack": {"enabled": True}},
    "match_envelope": {"auth": {"match_envelope": True}},
    "add_header": {"auth": {"add_header": True}},
}


@pytest.mark.parametrize("control", sorted(IDENTITY_CONTROLS))
def test_unreadable_mechanism_refused_while_a_control_needs_the_identity(
        mxshield, auth_backend, control):
    backend = auth_backend
    backend.capabilities = UNREADABLE_CAPS
    mx = mxshield(IDENTITY_CONTROLS[control])
    c = mx.session()
    # with and without an initial response, any case: 504, not relayed
    assert c.cmd("AUTH DIGEST-MD5").raw == REFUSED_504
    assert c.cmd("AUTH gssapi YIIB").raw == REFUSED_504
    assert c.cmd("AUTH X-UNHEARD-OF =").raw == REFUSED_504
    # the session goes on; a mechanism mxshield reads still works
    assert c.cmd("NOOP").code == 250
    line = "AUTH PLAIN " + b64("\0alice@example.com\0" + SECRET)
    assert c.cmd(line).code == 235
    assert c.transaction("alice@example.com", ["rcpt@example.com"], make_message()).code == 250
    c.cmd("QUIT")
    # the backend saw only the PLAIN exchange
    assert backend.sessions[0].auth_lines == [line.encode()]
    assert not any(x.upper().startswith((b"AUTH DIGEST", b"AUTH GSSAPI", b"AUTH X-"))
                   for x in backend.all_commands())
    # one log line per refusal: the mechanism, never the data
    smtpkit.wait_for(lambda: len(mx.logs("auth")) == 3, 3, what="three auth lines")
    got = mx.logs("auth")
    assert [l["mechanism"] for l in got] == ["DIGEST-MD5", "gssapi", "X-UNHEARD-OF"], got
    for l in got:
        assert (l["action"], l["reply"]) == ("reject", REFUSED_504.decode().rstrip("\r\n")), l
        assert re.fullmatch(r"[0-9a-f]{16}", l["sid"]) and l["client"] == "127.0.0.1", l
    assert "YIIB" not in mx.stderr()
    (txn,) = mx.wait_log(lambda l: l.get("event") == "txn", what="txn line")
    assert txn["auth"] == "alice@example.com", txn


def test_unreadable_mechanism_relayed_when_no_control_needs_the_identity(mxshield, auth_backend):
    backend = auth_backend
    backend.capabilities = UNREADABLE_CAPS
    c = mxshield.session()
    # relayed; this backend does not speak DIGEST-MD5 and answers itself
    r = c.cmd("AUTH DIGEST-MD5")
    assert r.raw == REFUSED_504
    assert backend.sessions[0].auth_lines == [b"AUTH DIGEST-MD5"]
    assert mxshield.logs("auth") == []


def ehlo_auth_line(r):
    return [l for l in r.lines if l.upper().startswith("AUTH")]


@pytest.mark.parametrize("control", sorted(IDENTITY_CONTROLS))
def test_ehlo_offers_only_mechanisms_whose_identity_is_read(mxshield, auth_backend, control):
    auth_backend.capabilities = AUTH_CAPS[:-1] + ["AUTH PLAIN DIGEST-MD5 GSSAPI CRAM-MD5"]
    c = mxshield(IDENTITY_CONTROLS[control]).client()
    assert c.reply().code == 220
    assert ehlo_auth_line(c.cmd("EHLO client.example.net")) == ["AUTH PLAIN CRAM-MD5"]


def test_ehlo_offers_every_mechanism_when_no_control_needs_the_identity(mxshield, auth_backend):
    auth_backend.capabilities = AUTH_CAPS[:-1] + ["AUTH PLAIN DIGEST-MD5 GSSAPI CRAM-MD5"]
    c = mxshield.client()
    assert c.reply().code == 220
    assert ehlo_auth_line(c.cmd("EHLO client.example.net")) == ["AUTH PLAIN DIGEST-MD5 GSSAPI CRAM-MD5"]


def test_login_accepted_without_a_readable_identity_is_not_kept(mxshield, auth_backend):
    """OAUTHBEARER without a=: the token names the user, mxshield cannot
    read it, the backend says 235. With hijack detection on, the session
    never goes on unattributed: 421 4.7.0 and closed, nothing relayed."""
    auth_backend.capabilities = AUTH_CAPS[:-1] + ["AUTH PLAIN OAUTHBEARER"]
    mx = mxshield(IDENTITY_CONTROLS["hijack"])
    c = mx.session()
    r = c.cmd("AUTH OAUTHBEARER " + b64("n,,\x01auth=Bearer opaque-token\x01\x01"))
    assert (r.code, r.enh) == (421, "4.7.0"), r
    c.expect_closed(3)
    auth_backend.wait_all_closed()
    assert not any(v in ("MAIL", "RCPT", "DATA") for v in auth_backend.all_verbs())
    (sess,) = mx.wait_log(lambda l: l.get("event") == "session", what="session line")
    assert "without an identity" in sess["reason"], sess
