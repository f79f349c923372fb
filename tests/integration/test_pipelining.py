"""
PIPELINING (RFC 2920): replies in command order whether mxshield or the
backend answers; mxshield's own view of the transaction (DATA only after
an accepted RCPT); nothing after QUIT is read. DESIGN.md "A session".
"""

import time

import pytest

from smtpkit import Timeout, dot_stuff, make_message, strip_received


def test_pipelined_group_with_rejected_rcpt(mxshield, backend):
    c = mxshield.session()
    c.send(b"MAIL FROM:<sender@example.net>\r\nRCPT TO:<b1@example.com>\r\n"
           b"RCPT TO:<reject@example.com>\r\nRCPT TO:<b2@example.com>\r\nDATA\r\n")
    rs = c.replies(5)
    assert [r.code for r in rs] == [250, 250, 550, 250, 354]
    assert rs[2].raw == b"550 5.1.1 <reject@example.com>: Recipient address rejected: User unknown\r\n"
    content = make_message()
    c.send(dot_stuff(content) + b".\r\n")
    r = c.reply()
    (m,) = backend.transactions
    assert r.text == "2.0.0 Ok: queued as " + m.queue_id
    assert m.rcpts == ["b1@example.com", "b2@example.com"]
    assert strip_received(m.data) == dot_stuff(content)


def test_local_and_relayed_replies_keep_order(mxshield, backend):
    """A slow backend and replies mxshield writes itself: still in order."""
    backend.delay = {"RCPT": 0.3}
    c = mxshield.session()
    c.send(b"MAIL FROM:<sender@example.net>\r\nRCPT TO:<a@example.com>\r\n"
           b"XCLIENT ADDR=192.0.2.1\r\nRCPT TO:<b@example.com>\r\nBDAT 10 LAST\r\nNOOP\r\n")
    rs = c.replies(6)
    assert [(r.code, r.enh) for r in rs] == [(250, "2.1.0"), (250, "2.1.5"), (502, "5.5.1"),
                                             (250, "2.1.5"), (502, "5.5.1"), (250, "2.0.0")]
    c.assert_quiet()
    verbs = backend.all_verbs()
    assert "XCLIENT" not in verbs and "BDAT" not in verbs
    assert verbs.count("RCPT") == 2


def test_data_when_every_rcpt_was_rejected(mxshield, backend):
    c = mxshield.session()
    c.send(b"MAIL FROM:<sender@example.net>\r\nRCPT TO:<reject@example.com>\r\nDATA\r\n")
    rs = c.replies(3)
    assert [r.code for r in rs[:2]] == [250, 550]
    # Postfix's words: every RCPT was refused
    assert rs[2].raw == b"554 5.5.1 Error: no valid recipients\r\n", rs[2]
    c.assert_quiet()
    assert "DATA" not in backend.all_verbs()
    # the session goes on
    assert c.cmd("RSET").code == 250
    r = c.transaction("sender@example.net", ["ok@example.com"], make_message())
    assert r.code == 250 and len(backend.transactions) == 1


def test_data_without_mail(mxshield, backend):
    c = mxshield.session()
    r = c.cmd("DATA")
    assert r.code == 503, r
    c.assert_quiet()
    assert "DATA" not in backend.all_verbs()
    assert c.cmd("NOOP").code == 250


def test_data_without_rcpt(mxshield, backend):
    c = mxshield.session()
    assert c.cmd("MAIL FROM:<sender@example.net>").code == 250
    r = c.cmd("DATA")
    assert r.code in (503, 554), r
    c.assert_quiet()
    assert "DATA" not in backend.all_verbs()


def test_commands_pipelined_after_the_final_dot(mxshield, backend):
    """RFC 2920: the message content may open a group; what follows the
    final dot in the same packet are the next commands."""
    c = mxshield.session()
    c.send(b"MAIL FROM:<one@example.net>\r\nRCPT TO:<r1@example.com>\r\nDATA\r\n")
    assert [r.code for r in c.replies(3)] == [250, 250, 354]
    m1 = make_message(subject="first")
    m2 = make_message(subject="second")
    c.send(dot_stuff(m1) + b".\r\nMAIL FROM:<two@example.net>\r\nRCPT TO:<r2@example.com>\r\nDATA\r\n")
    rs = c.replies(4)
    assert [r.code for r in rs] == [250, 250, 250, 354]
    c.send(dot_stuff(m2) + b".\r\nRSET\r\nNOOP\r\n")
    rs2 = c.replies(3)
    assert [r.code for r in rs2] == [250, 250, 250]
    a, b = backend.transactions
    assert rs[0].text.endswith(a.queue_id) and rs2[0].text.endswith(b.queue_id)
    assert (a.mail_from, a.rcpts) == ("FROM:<one@example.net>", ["r1@example.com"])
    assert (b.mail_from, b.rcpts) == ("FROM:<two@example.net>", ["r2@example.com"])
    assert strip_received(a.data) == dot_stuff(m1) and strip_received(b.data) == dot_stuff(m2)


def test_one_byte_at_a_time(mxshield, backend):
    c = mxshield.client()
    assert c.reply().code == 220
    content = make_message(body=b".dot\r\nline\r\n")
    script = [(b"EHLO drip.example.net\r\n", [250]), (b"MAIL FROM:<s@example.net>\r\n", [250]),
              (b"RCPT TO:<r@example.com>\r\n", [250]), (b"DATA\r\n", [354]),
              (dot_stuff(content) + b".\r\n", [250])]
    for data, codes in script:
        for i in range(len(data)):
            c.send(data[i:i + 1])
            if i % 16 == 0:
                time.sleep(0.002)
        assert [r.code for r in c.replies(len(codes))] == codes
    (m,) = backend.transactions
    assert strip_received(m.data) == dot_stuff(content)


def test_many_pipelined_recipients(mxshield, backend):
    rcpts = ["r%d.reject@example.com" % i if i % 7 == 3 else "r%d@example.com" % i for i in range(120)]
    c = mxshield.session()
    c.send(b"MAIL FROM:<s@example.net>\r\n" +
           b"".join(b"RCPT TO:<%s>\r\n" % r.encode() for r in rcpts) + b"DATA\r\n")
    rs = c.replies(len(rcpts) + 2)
    assert [r.code for r in rs] == [250] + [550 if "reject" in r else 250 for r in rcpts] + [354]
    c.send(dot_stuff(make_message()) + b".\r\n")
    assert c.reply().code == 250
    (m,) = backend.transactions
    assert m.rcpts == [r for r in rcpts if "reject" not in r]


def test_quit_then_pipelined_command(mxshield, backend):
    """Nothing after QUIT is read or relayed. NOOP first, pipelined on
    purpose: forbid_unauth_pipelining off (with it on, the NOOP ends the
    session, see test_forbid_pipelining.py)."""
    c = mxshield({"limits": {"forbid_unauth_pipelining": False}}).session()
    c.send(b"NOOP\r\nQUIT\r\nMAIL FROM:<after-quit@example.net>\r\nNOOP\r\n")
    rs = c.replies(2)
    assert [r.code for r in rs] == [250, 221]
    c.expect_closed(3)
    backend.wait_all_closed()
    cmds = backend.all_commands()
    assert not any(b"after-quit" in x for x in cmds)
    assert backend.all_verbs().count("NOOP") == 1
    assert not any(b"after-quit" in t for t in backend.all_transcripts())


@pytest.mark.parametrize("split", [1, 2, 3, 4])
def test_final_dot_split_across_packets(mxshield, backend, split):
    """CRLF . CRLF arriving in two packets is still the end, and a pause
    inside it does not end the message early."""
    c = mxshield.session()
    assert c.cmd("MAIL FROM:<sender@example.net>").code == 250
    assert c.cmd("RCPT TO:<rcpt@example.com>").code == 250
    assert c.cmd("DATA").code == 354
    content = make_message(body=b"last line")
    wire = content + b"\r\n.\r\n"
    cut = len(wire) - 5 + split
    c.send(wire[:cut])
    with pytest.raises(Timeout):
        c.reply(timeout=0.3)
    assert backend.transactions == []
    c.send(wire[cut:])
    r = c.reply()
    (m,) = backend.transactions
    assert r.code == 250 and r.text.endswith(m.queue_id)
    assert strip_received(m.data) == content + b"\r\n"


def test_message_sent_before_354(mxshield, backend):
    """A client that does not wait for 354 (RFC 2920 says it must): either
    the message is taken as sent, or refused and not stored; never a
    mismatch between what the client was told and what the backend got."""
    c = mxshield.session()
    content = make_message(body=b"MAIL FROM:<evil@x>\r\nRCPT TO:<v@y>\r\nDATA\r\n")
    c.send(b"MAIL FROM:<sender@example.net>\r\nRCPT TO:<rcpt@example.com>\r\nDATA\r\n" +
           dot_stuff(content) + b".\r\nNOOP\r\n")
    rs = []
    while True:
        r = c.reply_or_none(timeout=5)
        if r is None:
            break
        rs.append(r)
        if len(rs) == 5 or r.code == 421:
            break
    codes = [r.code for r in rs]
    assert codes[:2] == [250, 250], rs
    assert not any(b"evil@x" in x for x in backend.all_commands())
    if codes[2:4] == [354, 250]:
        (m,) = backend.transactions
        assert rs[3].text.endswith(m.queue_id)
        assert strip_received(m.data) == dot_stuff(content)
    else:
        # refused somewhere: the client never heard 250 for the message
        assert not (354 in codes and codes[codes.index(354) + 1:][:1] == [250]), rs
        assert backend.transactions == []
