"""
core/mime_append checked against Python's email package: messages built
with email.message.EmailMessage go through the ma_filter driver
(tests/unit/ma_filter.c, built with the unit tests next to mxshield);
the result is parsed with email.policy.default and must have:

  - no defects in any part;
  - every part that is not a changed text part decoding to exactly what
    it decoded to before (attachment bytes included);
  - each changed text part decoding to its original content followed by
    the warning (plain: a line break where needed, an empty line, the
    lines in the part's charset; HTML: an escaped <div> before the last
    </body>, or at the end);
  - byte-identical output where nothing may change (signed, pkcs7,
    charset the warning cannot be written in, no text part).

Every message also goes through byte by byte and in 7-octet pieces: the
output must be the same. The driver is MA_FILTER_BIN, else ma_filter
beside MXSHIELD_BIN, else build-asan/ma_filter or build/ma_filter.
"""

import email
import email.policy
import os
import re
import subprocess
from email.message import EmailMessage
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
WARNING = ("Warning: the headers of this message suggest it may be spoofed.\n"
           "Verify its authenticity before you act on it & <reply>.")
WARNING_LATIN1 = "Attention : l'expéditeur de ce message est peut-être usurpé.\n« Vérifiez »."
WARNING_UTF8 = "Warnung: Absender möglicherweise gefälscht – prüfen Sie ihn. ✓"
BINARY = bytes(range(256)) * 40 + b"\r\n.\r\n..\n\r\x00end"


def _driver():
    env = os.environ.get("MA_FILTER_BIN")
    if env:
        return env
    cands = []
    if os.environ.get("MXSHIELD_BIN"):
        cands.append(os.path.join(os.path.dirname(os.environ["MXSHIELD_BIN"]), "ma_filter"))
    cands += [os.path.join(REPO, "build-asan", "ma_filter"), os.path.join(REPO, "build", "ma_filter")]
    for c in cands:
        if os.path.exists(c):
            return c
    return cands[0]


DRIVER = _driver()


def run_filter(raw, text, chunk=0):
    if not os.path.exists(DRIVER):
        pytest.fail("ma_filter not built (make asan, or set MA_FILTER_BIN)", pytrace=False)
    args = [DRIVER, "-t", text]
    if chunk:
        args += ["-c", str(chunk)]
    p = subprocess.run(args, input=raw, capture_output=True, timeout=60)
    assert p.returncode == 0, p.stderr
    err = p.stderr.decode()
    m = re.search(r"outcome=(\S+) parts=(\d+)", err)
    assert m, err
    assert "Sanitizer" not in err and "runtime error" not in err, err
    return p.stdout, m.group(1), int(m.group(2))


def filtered(msg, text=WARNING):
    """The message through the driver whole, byte by byte and in 7s."""
    raw = msg.as_bytes(policy=email.policy.SMTP) if not isinstance(msg, bytes) else msg
    out, outcome, parts = run_filter(raw, text)
    for chunk in (1, 7):
        again = run_filter(raw, text, chunk)
        assert again == (out, outcome, parts), "chunk %d differs" % chunk
    return raw, out, outcome, parts


def parse(raw):
    return email.message_from_bytes(raw, policy=email.policy.default)


def decoded_parts(msg):
    """(content type, decoded payload or None, part) for each part."""
    res = []
    for part in msg.walk():
        payload = None if part.is_multipart() else part.get_payload(decode=True)
        res.append((part.get_content_type(), payload, part))
    return res


def crlf(s):
    return s.replace("\r\n", "\n").replace("\n", "\r\n")


def plain_suffix(before, text, charset):
    pre = b"" if before == b"" or before.endswith(b"\n") else b"\r\n"
    lines = [ln.rstrip(" \t") for ln in text.split("\n")]
    return pre + b"\r\n" + b"".join(ln.encode(charset) + b"\r\n" for ln in lines)


def html_block(text):
    def esc(line):
        out = []
        for ch in line:
            if ch in "&<>\"":
                out.append({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}[ch])
            elif ord(ch) >= 0x80:
                out.append("&#%d;" % ord(ch))
            else:
                out.append(ch)
        return "".join(out)
    lines = [esc(ln.rstrip(" \t")) for ln in text.split("\n")]
    return ("\r\n<div><hr>\r\n" + "<br>\r\n".join(lines) + "\r\n</div>\r\n").encode("ascii")


def html_expected(before, text):
    pos = before.lower().rfind(b"</body>")
    block = html_block(text)
    if pos < 0:
        return before + block
    return before[:pos] + block + before[pos:]


def check(msg, changed, text=WARNING, outcome="appended"):
    """changed: indexes in walk() order of the text parts that get it."""
    raw, out, got, parts = filtered(msg, text)
    assert got == outcome
    assert parts == len(changed)
    before = decoded_parts(parse(raw))
    after = decoded_parts(parse(out))
    assert [t for t, _, _ in before] == [t for t, _, _ in after]
    for i, ((ctype, old, _), (_, new, part)) in enumerate(zip(before, after)):
        assert not part.defects, (i, part.defects)
        if i not in changed:
            assert new == old, i
        elif ctype == "text/html":
            assert new == html_expected(old, text), i
        else:
            cs = part.get_content_charset() or "us-ascii"
            assert new == old + plain_suffix(old, text, cs), i
        if part.get_content_maintype() == "text" and not part.is_multipart():
            part.get_content()     # decodes in its charset without error
    if changed:
        assert out != raw
    else:
        assert out == raw
    return raw, out


def text_msg(body, subtype="plain", cte=None, charset="utf-8"):
    m = EmailMessage()
    m["From"] = "a@example.net"
    m["To"] = "b@example.com"
    m["Subject"] = "hi"
    m.set_content(body, subtype=subtype, cte=cte, charset=charset)
    return m


BODY = ("Hello,\n\n.a line starting with a dot\n..two dots\nFrom the start\n"
        "trailing space \nlong " + "x" * 120 + "\nend\n")
HTML = ("<html><head><title>t</title></head>\n<BODY>\n<p>Hello &amp; "
        "bye</p>\n.dot\n</Body>\n</html>\n")


@pytest.mark.parametrize("cte", ["7bit", "8bit", "quoted-printable", "base64"])
def test_plain(cte):
    body = BODY if cte == "7bit" else BODY + "caf\u00e9\n"
    check(text_msg(body, cte=cte), [0])


@pytest.mark.parametrize("cte", ["8bit", "quoted-printable", "base64"])
def test_plain_utf8_warning(cte):
    check(text_msg(BODY + "na\u00efve\n", cte=cte), [0], WARNING_UTF8)


@pytest.mark.parametrize("cte", ["7bit", "quoted-printable", "base64"])
def test_html(cte):
    check(text_msg(HTML, "html", cte), [0], WARNING_UTF8)


@pytest.mark.parametrize("cte", ["7bit", "quoted-printable", "base64"])
def test_html_without_body_end(cte):
    check(text_msg("<p>just a fragment</p>\n", "html", cte), [0])


def test_alternative():
    m = text_msg(BODY, cte="quoted-printable")
    m.add_alternative(HTML, subtype="html", cte="base64")
    check(m, [1, 2])


def test_mixed_binary_attachment():
    m = text_msg(BODY, cte="8bit")
    m.add_attachment(BINARY, maintype="application", subtype="octet-stream",
                     filename="blob.bin")
    m.add_attachment("not the body\n", filename="notes.txt")
    check(m, [1])


def test_nested_mixed_alternative_related():
    m = text_msg(BODY, cte="quoted-printable")
    m.add_alternative(HTML, subtype="html")
    m.get_payload()[1].add_related(b"\x89PNG\r\n\x1a\n" + BINARY, "image", "png", cid="<i@x>")
    m.add_attachment(BINARY, maintype="application", subtype="pdf", filename="a.pdf")
    kinds = [p.get_content_type() for p in m.walk()]
    assert kinds == ["multipart/mixed", "multipart/alternative", "text/plain",
                     "multipart/related", "text/html", "image/png", "application/pdf"]
    check(m, [2, 4])


def test_preamble_epilogue():
    m = MIMEMultipart("mixed")
    m.preamble = "This is a MIME message.\n--not a boundary\n"
    m.epilogue = "the end\n"
    m.attach(MIMEText("first\n.dot\n", "plain", "utf-8"))
    m.attach(MIMEApplication(BINARY))
    check(m, [1])


def test_latin1():
    for cte in ("8bit", "quoted-printable", "base64"):
        m = text_msg("Bonjour \u00e0 tous\n", cte=cte, charset="iso-8859-1")
        check(m, [0], WARNING_LATIN1)


def test_windows_1252_euro():
    m = text_msg("Preis: 5 \u20ac\n", cte="quoted-printable", charset="windows-1252")
    check(m, [0], "Achtung \u20ac \u201cGef\u00e4lscht\u201d")


def test_latin1_cannot_take_cyrillic():
    m = text_msg("Bonjour\n", cte="quoted-printable", charset="iso-8859-1")
    check(m, [], "\u0412\u043d\u0438\u043c\u0430\u043d\u0438\u0435", outcome="charset")


def test_us_ascii_non_ascii_warning():
    m = text_msg("Hello\n", cte="7bit", charset="us-ascii")
    check(m, [], WARNING_UTF8, outcome="charset")


def test_html_takes_any_text_in_ascii():
    m = text_msg(HTML, "html", "7bit", charset="us-ascii")
    check(m, [0], WARNING_UTF8)


def test_alternative_one_charset_fails():
    m = text_msg("Hello\n", cte="7bit", charset="us-ascii")
    m.add_alternative(HTML, subtype="html", cte="quoted-printable")
    check(m, [2], WARNING_UTF8)


def _signed():
    inner = MIMEMultipart("mixed")
    inner.attach(MIMEText("signed text\n", "plain", "utf-8"))
    sig = MIMEApplication(b"0\x82\x01signature", "pkcs7-signature", name="smime.p7s")
    outer = MIMEMultipart("signed", protocol="application/pkcs7-signature", micalg="sha-256")
    outer.attach(inner)
    outer.attach(sig)
    return outer


def test_signed_top():
    check(_signed(), [], outcome="signed")


def test_signed_nested_in_mixed():
    m = MIMEMultipart("mixed")
    m.attach(_signed())
    m.attach(MIMEApplication(BINARY))
    check(m, [], outcome="signed")


def test_pkcs7():
    m = MIMEApplication(BINARY, "pkcs7-mime", name="smime.p7m")
    m.set_param("smime-type", "enveloped-data")
    check(m, [], outcome="signed")


def test_message_rfc822_not_entered():
    inner = text_msg("inner text\n")
    m = MIMEMultipart("mixed")
    m.attach(MIMEText("outer\n", "plain", "utf-8"))
    part = EmailMessage()
    part.set_content(inner)
    m.attach(part)
    raw, out = check(m, [1])
    assert b"inner text\r\n\r\n" + WARNING.encode() not in out


def test_only_rfc822_and_attachment():
    m = MIMEMultipart("mixed")
    part = EmailMessage()
    part.set_content(text_msg("inner\n"))
    m.attach(part)
    att = MIMEText("a text file\n", "plain", "utf-8")
    att.add_header("Content-Disposition", "attachment", filename="f.txt")
    m.attach(att)
    check(m, [], outcome="no-text")


def test_no_boundary_untouched():
    raw = (b"Subject: x\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed\r\n\r\n"
           b"--x\r\nContent-Type: text/plain\r\n\r\nhello\r\n--x--\r\n")
    _, out, outcome, parts = filtered(raw)
    assert (out, outcome, parts) == (raw, "malformed", 0)
