"""
The spoof warning appended to real MIME messages through the proxy
(spoof.action = "append", proxy/data.c with core/mime_append.c): what
the backend stored, read back with Python's email parser.

  - a clean message (below the threshold): the body byte-identical, the
    header section gains only X-Spoof-Score;
  - single-part text/plain in quoted-printable and base64: the decoded
    text is the original followed by the warning, in the part's own
    encoding and charset (ISO-8859-1 included);
  - text/html: the warning before </body>;
  - multipart/alternative: in both alternatives;
  - multipart/mixed with a binary attachment: the text part gets it, the
    attachment's bytes arrive equal, no parser defects anywhere;
  - multipart/signed: the body untouched, the warning in the header
    only, and the log says so;
  - a message of 1 MB with the warning streams through whole.
Client 127.0.0.1 is outside, unauthenticated: From: a local domain
(local_from_outside, 8) with no Received: (no_received, 5) scores 13 of
25, above the default threshold of 10.
"""

import base64
import email
import email.policy
import os
from email.message import EmailMessage
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

import pytest

from policykit import session, start, verdict, wait_txn
from smtpkit import dot_stuff, strip_received

WARNING = "information in the headers of this message suggests"
CONF = {
    "local_domains": ["example.com"],
    "spoof": {"enabled": True, "action": "append"},
}


def send(mx, msg, mail_from="eve@example.com"):
    """One message from 127.0.0.1; the final reply."""
    c = session(mx)
    assert c.cmd("MAIL FROM:<%s>" % mail_from).code == 250
    assert c.cmd("RCPT TO:<user@example.com>").code == 250
    assert c.cmd("DATA").code == 354
    c.send(dot_stuff(msg) + b".\r\n")
    r = c.reply()
    c.cmd("QUIT")
    c.close()
    return r


def wire(m):
    """An email.message as SMTP content: CRLF line endings."""
    raw = m.as_bytes(policy=email.policy.SMTP)
    assert b"\n" not in raw.replace(b"\r\n", b"")
    return raw


def header_block(m, frm="Eve <eve@example.com>"):
    m["From"] = frm
    m["To"] = "user@example.com"
    m["Subject"] = "quarterly numbers"
    m["Message-ID"] = "<q4@example.com>"
    m["Date"] = "Mon, 7 Dec 2026 10:00:00 +0000"
    return m


def stored(backend):
    backend.wait_messages(1)
    data = strip_received(backend.messages[0].content)
    return data, email.message_from_bytes(data, policy=email.policy.default)


def no_defects(msg):
    for part in msg.walk():
        assert not part.defects, (part.get_content_type(), part.defects)


def split(data):
    i = data.index(b"\r\n\r\n")
    return data[:i + 2], data[i + 4:]


@pytest.fixture
def mx(mxshield):
    return start(mxshield, CONF)


def test_clean_message_body_identical(mxshield, backend):
    mx = start(mxshield, CONF)
    m = header_block(MIMEText("Hello.\n.leading dot\n", "plain", "utf-8"),
                     frm="Bob <bob@example.net>")
    m["Received"] = "from a.example.net by b.example.net; Mon, 7 Dec 2026 10:00:00 +0000"
    raw = wire(m)
    assert send(mx, raw, "bob@example.net").code == 250
    data, msg = stored(backend)
    head, body = split(data)
    ohead, obody = split(raw)
    assert body == obody
    assert head.startswith(b"X-Spoof-Score: 0/25\r\n"), head[:80]
    assert head[len(b"X-Spoof-Score: 0/25\r\n"):] == ohead
    assert b"X-Spoof-Flag" not in head
    v = verdict(wait_txn(mx)[-1], "spoof")
    assert v["score"] == 0


@pytest.mark.parametrize("cte", ["quoted-printable", "base64"])
def test_single_part_text_encoded(mx, backend, cte):
    text = "Gr\u00fc\u00dfe aus K\u00f6ln, a line long enough to be folded by " \
           "quoted-printable " + "x" * 80 + "\n=equals= and trailing space \n"
    m = header_block(EmailMessage())
    m.set_content(text, charset="iso-8859-1", cte=cte)
    assert send(mx, wire(m)).code == 250
    data, msg = stored(backend)
    no_defects(msg)
    assert msg["X-Spoof-Score"].startswith("13/25")
    assert msg["X-Spoof-Flag"] == "YES"
    assert msg["Content-Transfer-Encoding"] == cte
    assert msg.get_content_charset() == "iso-8859-1"
    got = msg.get_content()
    assert got.startswith(text.replace("\n", "\r\n")) or got.startswith(text)
    assert WARNING in got[len(text):]
    v = verdict(wait_txn(mx)[-1], "spoof")
    assert v["score"] == 13 and v["action"] == "tag"
    assert "appended" in v["reason"]


def test_html_before_body_end(mx, backend):
    html = "<html><body><p>Pay the invoice today.</p></body></html>\n"
    m = header_block(EmailMessage())
    m.set_content(html, subtype="html", charset="utf-8", cte="quoted-printable")
    assert send(mx, wire(m)).code == 250
    data, msg = stored(backend)
    no_defects(msg)
    got = msg.get_content()
    assert WARNING in got
    assert got.index(WARNING) < got.lower().rindex("</body>")
    assert got.startswith("<html><body><p>Pay the invoice today.</p>")


def test_alternative_both_parts(mx, backend):
    m = header_block(EmailMessage())
    m.set_content("Plain text.\n")
    m.add_alternative("<html><body><b>HTML text.</b></body></html>\n", subtype="html")
    assert send(mx, wire(m)).code == 250
    data, msg = stored(backend)
    no_defects(msg)
    assert msg.get_content_type() == "multipart/alternative"
    plain, html = msg.get_payload()
    assert plain.get_content().startswith("Plain text.")
    assert WARNING in plain.get_content()
    assert WARNING in html.get_content()
    assert html.get_content().index(WARNING) < html.get_content().lower().rindex("</body>")


def test_mixed_binary_attachment_intact(mx, backend):
    blob = os.urandom(300000) + b"\r\n.\r\n--\r\n" + bytes(range(256))
    outer = header_block(MIMEMultipart("mixed"))
    alt = MIMEMultipart("alternative")
    alt.attach(MIMEText("See attached.\n", "plain", "utf-8"))
    alt.attach(MIMEText("<html><body>See attached.</body></html>", "html", "utf-8"))
    outer.attach(alt)
    outer.attach(MIMEApplication(blob, "octet-stream", Name="data.bin"))
    outer.attach(MIMEText("second text part\n", "plain", "utf-8"))
    raw = wire(outer)
    assert send(mx, raw).code == 250
    data, msg = stored(backend)
    no_defects(msg)
    parts = msg.get_payload()
    assert len(parts) == 3
    assert parts[1].get_payload(decode=True) == blob
    plain, html = parts[0].get_payload()
    assert WARNING in plain.get_content() and WARNING in html.get_content()
    assert WARNING not in parts[2].get_content()
    # the attachment's lines arrived exactly as sent
    i = raw.index(b"data.bin")
    j = raw.index(b"\r\n--", i)
    assert raw[i:j] in data


def test_signed_untouched(mx, backend):
    inner = MIMEText("Signed text.\n", "plain", "utf-8")
    outer = header_block(MIMEMultipart("signed", protocol="application/pgp-signature",
                                       micalg="pgp-sha256"))
    outer.attach(inner)
    sig = MIMEApplication(b"-----BEGIN PGP SIGNATURE-----\nxx\n-----END PGP SIGNATURE-----\n",
                          "pgp-signature", _encoder=lambda p: None)
    sig.set_payload("-----BEGIN PGP SIGNATURE-----\nxx\n-----END PGP SIGNATURE-----\n")
    outer.attach(sig)
    raw = wire(outer)
    assert send(mx, raw).code == 250
    data, msg = stored(backend)
    assert split(data)[1] == split(raw)[1]
    assert msg["X-Spoof-Flag"] == "YES"
    v = verdict(wait_txn(mx)[-1], "spoof")
    assert "signed" in v["reason"]


def test_large_message_with_warning(mx, backend):
    body = ("0123456789" * 7 + "\n") * 15000   # about 1 MB
    m = header_block(MIMEText(body, "plain", "us-ascii"))
    raw = wire(m)
    assert send(mx, raw).code == 250
    data, msg = stored(backend)
    head, b = split(data)
    ohead, ob = split(raw)
    assert b.startswith(ob)
    assert WARNING.encode() in b[len(ob):]
