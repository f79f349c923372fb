"""
Large messages stream through in bounded memory (DESIGN.md promise 4):
what the backend stored equals what was sent (sha256, minus mxshield's
Received: field) and the release binary's peak RSS stays under 32 MB.
"""

import hashlib

import pytest

from smtpkit import split_first_header

MB = 1024 * 1024


def _block():
    """About 1 MB of wire-form lines (dot-stuffed where needed)."""
    lines = []
    i = 0
    size = 0
    while size < MB:
        if i % 997 == 0:
            line = b".." + b"dot-stuffed line %d" % i     # content ".dot-stuffed..."
        elif i % 101 == 0:
            line = b""
        else:
            line = (b"%08d " % i) + b"abcdefghijklmnopqrstuvwxyz0123456789" * 2
        lines.append(line + b"\r\n")
        size += len(lines[-1])
        i += 1
    return b"".join(lines)


def _stream(mx, backend, total_mb):
    backend.keep_transcript = False
    c = mx.session(timeout=120)
    assert c.cmd("MAIL FROM:<big@example.net> SIZE=%d" % (total_mb * MB)).code == 250
    assert c.cmd("RCPT TO:<rcpt@example.com>").code == 250
    assert c.cmd("DATA").code == 354
    h = hashlib.sha256()
    head = b"From: <big@example.net>\r\nSubject: large\r\nMessage-ID: <large@example.net>\r\n\r\n"
    c.send(head)
    h.update(head)
    block = _block()
    for _ in range(total_mb):
        c.send(block)
        h.update(block)
    c.send(b".\r\n")
    r = c.reply(timeout=120)
    assert r.code == 250, r
    (m,) = backend.transactions
    assert r.text.endswith(m.queue_id)
    first, rest = split_first_header(m.data)
    assert first.startswith(b"Received: ")
    assert len(rest) == len(head) + total_mb * len(block)
    assert hashlib.sha256(rest).hexdigest() == h.hexdigest()
    return c


def test_50mb_release_binary_bounded_memory(mxshield, backend, release_bin):
    mx = mxshield(binary=release_bin)
    _stream(mx, backend, 50)
    peak = mx.peak_rss_kb()
    assert peak < 32 * 1024, "peak RSS %d kB while relaying 50 MB" % peak


def test_20mb_under_sanitizers(mxshield, backend):
    _stream(mxshield, backend, 20)


@pytest.mark.parametrize("n", [3])
def test_several_large_in_one_session(mxshield, backend, n):
    mx = mxshield({"backend": {"client_info": "none"}})
    backend.keep_transcript = False
    c = mx.session(timeout=60)
    block = _block()
    for i in range(n):
        assert c.cmd("MAIL FROM:<big%d@example.net>" % i).code == 250
        assert c.cmd("RCPT TO:<rcpt@example.com>").code == 250
        assert c.cmd("DATA").code == 354
        c.send(b"Subject: %d\r\n\r\n" % i + block * 3 + b".\r\n")
        assert c.reply(timeout=60).code == 250
    assert [m.data for m in backend.transactions] == [b"Subject: %d\r\n\r\n" % i + block * 3 for i in range(n)]


def test_stalled_backend_applies_back_pressure(mxshield, backend, release_bin):
    """The backend stops reading for 3 s in the middle of a 40 MB message:
    mxshield must stop reading the client instead of buffering."""
    backend.stall_data = (2 * MB, 3)
    mx = mxshield(binary=release_bin)
    _stream(mx, backend, 40)
    peak = mx.peak_rss_kb()
    assert peak < 32 * 1024, "peak RSS %d kB with a stalled backend" % peak
