"""
smtpkit - the pieces integration tests are built from.

RecordingBackend is the SMTP server behind mxshield. It stores what came
off the wire, byte for byte: every session's whole transcript (all bytes
the backend received, in order), the command lines it read, and for each
message it accepted the raw DATA bytes exactly as sent (dot-stuffing
kept, terminator included). It never normalises anything, so it cannot
hide a smuggling bug: two messages on the wire are two messages here, a
bare LF in the stream stays a bare LF in the transcript. In "lenient"
end-of-data mode it behaves like a vulnerable MTA (any of LF/CR/CRLF "."
LF/CR/CRLF ends the data), which turns a smuggling leak into a second
stored message.

Client is a raw SMTP client over a plain socket: send exact bytes, read
complete (multi-line) replies against a deadline, see the connection
close. Everything here bounds its waits; nothing blocks forever.
"""

import base64
import hashlib
import ipaddress
import os
import random
import re
import socket
import struct
import ssl
import threading
import time

DEFAULT_CAPS = ["PIPELINING", "SIZE 104857600", "8BITMIME", "ENHANCEDSTATUSCODES"]
# Capabilities mxshield must remove (DESIGN.md "EHLO").
HOSTILE_CAPS = ["CHUNKING", "BINARYMIME", "XCLIENT ADDR NAME HELO PROTO",
                "XFORWARD NAME ADDR PROTO HELO", "STARTTLS"]

PROXY_V2_SIG = b"\r\n\r\n\x00\r\nQUIT\n"

STRICT_EOD = re.compile(rb"(\r\n)\.(\r\n)")
# What a lenient (smuggling-prone) MTA takes as end of data.
LENIENT_EOD = re.compile(rb"(\r\n|\n|\r)\.(\r\n|\n|\r)")


class Timeout(AssertionError):
    pass


class ConnectionClosed(AssertionError):
    pass


def xtext_decode(v):
    """RFC 3461 xtext: "+XX" is a hex-encoded octet."""
    out = bytearray()
    i = 0
    while i < len(v):
        if v[i:i + 1] == b"+" and i + 3 <= len(v):
            out.append(int(v[i + 1:i + 3], 16))
            i += 3
        else:
            out.append(v[i])
            i += 1
    return out.decode("latin-1")


def xtext_encode(s):
    return "".join(c if 0x21 <= ord(c) <= 0x7E and c not in "+=" else "+%02X" % ord(c) for c in s)


def proxy_v1(src, dst, sport, dport):
    fam = "TCP6" if ":" in src else "TCP4"
    return ("PROXY %s %s %s %d %d\r\n" % (fam, src, dst, sport, dport)).encode()


def proxy_v2(src, dst, sport, dport, command=1):
    """PROXY v2 header (command 1 = PROXY, 0 = LOCAL), TCP over v4/v6."""
    s, d = ipaddress.ip_address(src), ipaddress.ip_address(dst)
    fam = 0x11 if s.version == 4 else 0x21
    body = s.packed + d.packed + sport.to_bytes(2, "big") + dport.to_bytes(2, "big")
    if command == 0:
        fam, body = 0x00, b""
    return PROXY_V2_SIG + bytes([0x20 | command, fam]) + len(body).to_bytes(2, "big") + body


def parse_proxy(raw):
    """(src, dst, sport, dport) from a v1 or v2 header (None for LOCAL/UNKNOWN)."""
    if raw.startswith(PROXY_V2_SIG):
        cmd, fam = raw[12] & 0x0F, raw[13]
        body = raw[16:]
        if cmd == 0:
            return None
        if fam == 0x11:
            a = 4
        elif fam == 0x21:
            a = 16
        else:
            raise AssertionError("unexpected PROXY v2 family %#x" % fam)
        src = str(ipaddress.ip_address(body[:a]))
        dst = str(ipaddress.ip_address(body[a:2 * a]))
        sport = int.from_bytes(body[2 * a:2 * a + 2], "big")
        dport = int.from_bytes(body[2 * a + 2:2 * a + 4], "big")
        return src, dst, sport, dport
    assert raw.startswith(b"PROXY ") and raw.endswith(b"\r\n"), raw
    parts = raw[6:-2].decode().split(" ")
    if parts[0] == "UNKNOWN":
        return None
    assert parts[0] in ("TCP4", "TCP6") and len(parts) == 5, raw
    return parts[1], parts[2], int(parts[3]), int(parts[4])


def free_port(host="127.0.0.1"):
    """A TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def wait_for(pred, timeout, interval=0.02, what="condition"):
    """Poll pred() until true; AssertionError after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() >= deadline:
            raise Timeout("timed out after %.1fs waiting for %s" % (timeout, what))
        time.sleep(interval)


def bare_line_endings(data):
    """Offsets of every bare CR or bare LF in data (empty list: none)."""
    out = []
    n = len(data)
    i = data.find(b"\r")
    while i != -1:
        if i + 1 >= n or data[i + 1] != 0x0A:
            out.append(i)
        i = data.find(b"\r", i + 1)
    i = data.find(b"\n")
    while i != -1:
        if i == 0 or data[i - 1] != 0x0D:
            out.append(i)
        i = data.find(b"\n", i + 1)
    return sorted(out)


def dot_stuff(content):
    """Wire form of message content (CRLF lines): lines starting with '.'
    get one more; does not add the terminator."""
    if content.startswith(b"."):
        content = b"." + content
    return content.replace(b"\r\n.", b"\r\n..")


def dot_unstuff(wire):
    if wire.startswith(b".."):
        wire = wire[1:]
    return wire.replace(b"\r\n..", b"\r\n.")


def make_message(msgid=None, subject="test", sender="sender@example.net",
                 rcpt="rcpt@example.com", body=b"Hello.\r\n", extra_headers=()):
    """Message content with CRLF line ends (not dot-stuffed)."""
    if msgid is None:
        msgid = "<%s@client.example.net>" % os.urandom(8).hex()
    hdr = [
        "From: <%s>" % sender,
        "To: <%s>" % rcpt,
        "Subject: %s" % subject,
        "Date: Tue, 24 Nov 2026 13:33:11 +0000",
        "Message-ID: %s" % msgid,
    ]
    hdr.extend(extra_headers)
    return ("\r\n".join(hdr) + "\r\n\r\n").encode() + body


# Received: header mxshield prepends (DESIGN.md, backend.client_info).
RECEIVED_RE = re.compile(
    rb"Received: from (?P<helo>[^\r\n ]+) \(\[(?P<ip>[0-9a-fA-F.:]+)\]\)\r\n"
    rb"\tby (?P<by>[^ \r\n]+) \(mxshield\) with (?P<proto>[A-Z]+) id (?P<id>[0-9a-f]{16});\r\n"
    rb"\t(?P<date>(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), [ 0-9]\d \w{3} \d{4} \d\d:\d\d:\d\d \+0000)\r\n")


def split_first_header(data):
    """(first header field with its continuation lines, rest)."""
    i = 0
    while True:
        j = data.find(b"\r\n", i)
        if j == -1:
            return data, b""
        i = j + 2
        if i >= len(data) or data[i:i + 1] not in (b" ", b"\t"):
            return data[:i], data[i:]


def strip_received(data, hostname=b"mx.test.example"):
    """Remove mxshield's Received: field from the top of data; assert it
    is there (exactly one field, naming our hostname). Returns the rest."""
    first, rest = split_first_header(data)
    assert first.startswith(b"Received: "), "no Received: header first: %r" % data[:200]
    assert b"by " + hostname + b" " in first.replace(b"\r\n\t", b" ").replace(b"\r\n ", b" "), first
    assert first.endswith(b"\r\n")
    return rest


# --------------------------------------------------------------------------
# Recording backend
# --------------------------------------------------------------------------

class Message:
    """One message the backend acknowledged with 250."""

    def __init__(self, session, mail_from, rcpts, raw, data, queue_id):
        self.session = session
        self.mail_from = mail_from      # the MAIL command line argument, as text
        self.rcpts = rcpts              # accepted RCPT addresses
        self.raw = raw                  # bytes after 354 through the terminator
        self.data = data                # raw minus the end-of-data line: wire form,
                                        # still dot-stuffed, ends with CRLF (or empty)
        self.queue_id = queue_id

    @property
    def content(self):
        return dot_unstuff(self.data)

    def __repr__(self):
        return "<Message %s from=%s rcpts=%s %d bytes>" % (
            self.queue_id, self.mail_from, self.rcpts, len(self.data))


class BackendSession:
    def __init__(self, backend, n, peer):
        self.backend = backend
        self.n = n
        self.peer = peer
        self.transcript = bytearray()   # every byte received, in order
        self.sent = bytearray()         # every byte we sent
        self.commands = []              # command lines as read (bytes, line end kept)
        self.closed = False
        self.closed_by = None           # "peer" or "us"
        self.data_bytes = 0             # DATA bytes received in total
        self.unacked = []               # complete messages never acknowledged
        self.partial_data = None        # DATA bytes of an unfinished message at close
        self.proxy = None               # raw PROXY header received (proxy_header knob)
        self.xclient = {}               # XCLIENT attributes received, xtext-decoded
        self.auth_lines = []            # AUTH command and responses, as received
        self.tls = None                 # (version, cipher) once TLS is up
        self.tls_error = None           # why our TLS handshake failed
        self.tls_sni = None             # server name the client sent (SNI)
        self.plain_commands = None      # commands read before STARTTLS (copy)
        self.discarded_after_starttls = b""  # bytes pipelined after STARTTLS
        self.close_kind = None          # how the client closed (RecordingBackend)

    def verbs(self):
        out = []
        for c in self.commands:
            w = c.split(b" ", 1)[0].strip().upper()
            out.append(w.decode("latin-1"))
        return out

    def __repr__(self):
        return "<BackendSession %d %s commands=%r closed=%s>" % (
            self.n, self.peer, [c[:60] for c in self.commands], self.closed)


class RecordingBackend:
    """A threaded SMTP server on 127.0.0.1 that records raw bytes.

    Knobs (set before the client connects; read at use):
      greeting            reply line(s) without CRLF, b"220 ..." (bytes)
      capabilities        EHLO keywords after the first line
      rcpt_replies        {substring of lower-cased RCPT line: reply bytes}
      mail_replies        {substring of lower-cased MAIL line: reply bytes}
      replies             {VERB: reply bytes} override (any bytes, CRLFs
                          included if multi-line; malformed on purpose allowed)
      data_reply          reply to the final dot, or None for "250 queued"
      delay               {VERB or "GREETING" or "DOT": seconds}
      silent              set of VERB/"GREETING"/"DOT" that never get a reply
      close_on            set of VERB/"GREETING"/"DOT": close instead of replying
      close_after         set of VERB: close right after that reply is sent
      close_after_data_bytes  close once this many DATA bytes arrived
      refuse_second_ehlo  True: a second HELO/EHLO on one connection gets
                          503 5.5.1 (OpenSMTPD's "Already identified")
      stall_data          (after_bytes, seconds): stop reading for that long
                          once after_bytes of DATA arrived (back-pressure)
      eod                 "strict" (CRLF.CRLF) or "lenient" (smuggling-prone)
      keep_transcript     False to not keep transcripts (huge messages)
      batch               True: replies to pipelined commands in one write
      proxy_header        True: read a PROXY v1/v2 header before the greeting
      auth_reply          final reply of an AUTH exchange (235 by default)
                          to PLAIN, LOGIN, XOAUTH2, CRAM-MD5 (a challenge
                          first) and SCRAM-SHA-1/256 (server-first and
                          server-final messages first); no password,
                          digest or proof is checked
      tls_cert, tls_key   PEM files for the TLS knobs below
      starttls            True: advertise STARTTLS (until TLS is up) and
                          upgrade the connection on it (server side)
      implicit_tls        True: TLS from the first byte, before the greeting
      starttls_inject     bytes written right after the 220 to STARTTLS, in
                          the same write and in plaintext (response injection)
      tls_capabilities    EHLO keywords once TLS is up (None: capabilities)
      quit_wait_close     True: after the 221 to QUIT, leave the close to
                          the client (see close_kind)

    With TLS the transcript and command lines are the plaintext, as
    before; a session's tls is (version, cipher) once its handshake is
    done, tls_error says why one failed. close_kind says how the client
    closed, when it did: "close_notify" (the TLS alert, then EOF), "eof"
    (EOF without the alert, or on plaintext), "reset".
    """

    def __init__(self, host="127.0.0.1", port=0, name="backend.test", tls_cert=None,
                 tls_key=None, starttls=False, implicit_tls=False, starttls_inject=b""):
        self.host = host
        self.name = name
        self.greeting = b"220 %s ESMTP recorder" % name.encode()
        self.capabilities = list(DEFAULT_CAPS)
        self.rcpt_replies = {"reject@": b"550 5.1.1 <reject@example.com>: Recipient address rejected: User unknown"}
        self.mail_replies = {}
        self.replies = {}
        self.data_reply = None
        self.delay = {}
        self.silent = set()
        self.close_on = set()
        self.close_after = set()
        self.refuse_second_ehlo = False
        self.close_after_data_bytes = None
        self.stall_data = None
        self.eod = "strict"
        self.keep_transcript = True
        self.batch = True
        self.proxy_header = False
        self.auth_reply = b"235 2.7.0 Authentication successful"
        self.tls_cert = tls_cert
        self.tls_key = tls_key
        self.starttls = starttls
        self.implicit_tls = implicit_tls
        self.starttls_inject = starttls_inject
        self.tls_capabilities = None
        self.quit_wait_close = False
        self._tls_ctx = None

        self.sessions = []
        self.transactions = []
        self.connections = 0
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._threads = []
        self._socks = set()
        self._qid = random.randrange(1 << 32)
        self._lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._lsock.bind((host, port))
        self._lsock.listen(128)
        self._lsock.settimeout(0.1)
        self.port = self._lsock.getsockname()[1]
        t = threading.Thread(target=self._accept_loop, name="backend-accept", daemon=True)
        t.start()
        self._threads.append(t)

    # -- public helpers ------------------------------------------------------

    @property
    def messages(self):
        return self.transactions

    def all_transcripts(self):
        with self._cond:
            return [bytes(s.transcript) for s in self.sessions]

    def all_commands(self):
        with self._cond:
            return [c for s in self.sessions for c in s.commands]

    def all_verbs(self):
        with self._cond:
            return [v for s in self.sessions for v in s.verbs()]

    def wait_for(self, pred, timeout=5, what="backend condition"):
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                v = pred()
                if v:
                    return v
                left = deadline - time.monotonic()
                if left <= 0:
                    raise Timeout("timed out after %.1fs waiting for %s; sessions=%r" % (
                        timeout, what, self.sessions))
                self._cond.wait(min(left, 0.05))

    def wait_messages(self, n, timeout=5):
        """Wait until n messages are stored; returns the list of them."""
        self.wait_for(lambda: len(self.transactions) >= n, timeout, "%d stored message(s)" % n)
        with self._cond:
            return list(self.transactions)

    def wait_all_closed(self, timeout=5):
        """Every backend connection accepted so far was closed (by either side)."""
        return self.wait_for(lambda: all(s.closed for s in self.sessions), timeout,
                             "all backend connections closed")

    def stop(self):
        self._stop.set()
        try:
            self._lsock.close()
        except OSError:
            pass
        with self._cond:
            socks = list(self._socks)
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for t in self._threads:
            t.join(timeout=3)

    # -- server --------------------------------------------------------------

    def _accept_loop(self):
        n = 0
        while not self._stop.is_set():
            try:
                conn, peer = self._lsock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            n += 1
            sess = BackendSession(self, n, peer)
            with self._cond:
                self.connections += 1
                self.sessions.append(sess)
                self._socks.add(conn)
                self._cond.notify_all()
            t = threading.Thread(target=self._serve, args=(conn, sess),
                                 name="backend-%d" % n, daemon=True)
            t.start()
            self._threads.append(t)

    def _server_context(self):
        with self._cond:
            if self._tls_ctx is None:
                ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                ctx.load_cert_chain(self.tls_cert, self.tls_key)
                # an EOF without close_notify is not a clean close
                # (close_kind); Python ignores the difference by default
                ctx.options &= ~ssl.OP_IGNORE_UNEXPECTED_EOF

                def sni(sock, name, _ctx):
                    sock.mx_sni = name
                ctx.sni_callback = sni
                self._tls_ctx = ctx
            return self._tls_ctx

    def _next_qid(self):
        with self._cond:
            self._qid = (self._qid + 0x9E3779B1) & 0xFFFFFFFFFF
            return "%010X" % self._qid

    def _serve(self, conn, sess):
        conn.settimeout(0.1)
        state = _SessState(self, conn, sess)
        try:
            state.run()
        except _Closed:
            pass
        except OSError:
            pass
        finally:
            with self._cond:
                if not sess.closed:
                    sess.closed = True
                    sess.closed_by = sess.closed_by or "peer"
                if state.in_data and state.data is not None:
                    sess.partial_data = bytes(state.data[2:])
                self._socks.discard(conn)
                self._socks.discard(state.conn)
                self._cond.notify_all()
            for c in (state.conn, conn):
                try:
                    c.close()
                except OSError:
                    pass


class _Closed(Exception):
    pass


class _SessState:
    def __init__(self, be, conn, sess):
        self.be = be
        self.conn = conn
        self.sess = sess
        self.buf = bytearray()
        self.out = bytearray()
        self.in_data = False
        self.data = None
        self.scan = 0
        self.stalled = False
        self.mail = None
        self.rcpts = []
        self.auth_state = None
        self.tls = False

    # -- I/O

    def start_tls(self):
        """Handshake as the TLS server on this connection; raises _Closed
        (with sess.tls_error set) when it fails."""
        ctx = self.be._server_context()
        self.conn.settimeout(5)
        # suppress_ragged_eofs off: an EOF without close_notify raises
        # instead of reading b"" (close_kind tells them apart)
        t = ctx.wrap_socket(self.conn, server_side=True, do_handshake_on_connect=False,
                            suppress_ragged_eofs=False)
        with self.be._cond:
            self.be._socks.discard(self.conn)
            self.be._socks.add(t)
        self.conn = t
        try:
            t.do_handshake()
        except (OSError, ValueError) as e:
            with self.be._cond:
                self.sess.tls_error = str(e) or type(e).__name__
                self.be._cond.notify_all()
            raise _Closed()
        t.settimeout(0.1)
        self.tls = True
        self.identified = False     # RFC 3207 4.2: EHLO again inside TLS
        with self.be._cond:
            self.sess.tls = (t.version(), t.cipher()[0])
            self.sess.tls_sni = getattr(t, "mx_sni", None)
            self.be._cond.notify_all()

    def recv(self):
        while True:
            if self.be._stop.is_set():
                raise _Closed()
            try:
                chunk = self.conn.recv(262144)
            except socket.timeout:
                continue
            except ssl.SSLError as e:
                # an EOF without close_notify (OpenSSL 3: unexpected eof)
                if isinstance(e, ssl.SSLEOFError) or e.reason == "UNEXPECTED_EOF_WHILE_READING":
                    self.peer_closed("eof")
                raise
            except ConnectionResetError:
                self.peer_closed("reset")
            if not chunk:
                self.peer_closed("close_notify" if self.tls else "eof")
            with self.be._cond:
                if self.be.keep_transcript:
                    self.sess.transcript += chunk
                self.be._cond.notify_all()
            return chunk

    def flush(self):
        if self.out:
            self.conn.sendall(bytes(self.out))
            with self.be._cond:
                self.sess.sent += self.out
            self.out = bytearray()

    def reply(self, key, text):
        """Queue (or send) a reply; honours delay/silent/close_on for key."""
        if key in self.be.close_on:
            self.flush()
            self.close_us()
        d = self.be.delay.get(key)
        if d:
            self.flush()
            time.sleep(d)
        if key in self.be.silent:
            return
        if not text.endswith(b"\r\n"):
            text += b"\r\n"
        self.out += text
        if not self.be.batch or d:
            self.flush()
        if key in self.be.close_after:
            # gone at once, with a reset: the next byte mxshield writes
            # fails
            self.flush()
            self.conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            with self.be._cond:
                self.sess.closed = True
                self.sess.closed_by = "us"
                self.be._cond.notify_all()
            self.conn.close()
            raise _Closed()

    def peer_closed(self, kind):
        with self.be._cond:
            self.sess.close_kind = kind
            self.be._cond.notify_all()
        raise _Closed()

    def close_us(self):
        with self.be._cond:
            self.sess.closed = True
            self.sess.closed_by = "us"
            self.be._cond.notify_all()
        try:
            self.conn.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        raise _Closed()

    # -- protocol

    def run(self):
        if self.be.proxy_header:
            self.read_proxy_header()
        if self.be.implicit_tls:
            assert not self.buf, "implicit TLS after a PROXY header with more bytes"
            self.start_tls()
        self.reply("GREETING", self.be.greeting)
        self.flush()
        self.process()          # bytes that came with the PROXY header
        self.flush()
        while True:
            self.buf += self.recv()
            self.process()
            self.flush()

    def read_proxy_header(self):
        """PROXY v1 line or v2 binary header, stored raw in sess.proxy;
        bytes that cannot start one are left as commands (sess.proxy b"")."""
        while True:
            b = bytes(self.buf)
            if len(b) >= 16 and b.startswith(PROXY_V2_SIG):
                n = 16 + int.from_bytes(b[14:16], "big")
                if len(b) >= n:
                    break
            elif b.startswith(b"PROXY "):
                i = b.find(b"\r\n")
                if i != -1:
                    n = i + 2
                    break
                if len(b) > 107:
                    n = len(b)
                    break
            elif not (PROXY_V2_SIG.startswith(b) or b"PROXY ".startswith(b)):
                n = 0
                break
            self.buf += self.recv()
        with self.be._cond:
            self.sess.proxy = bytes(self.buf[:n])
            self.be._cond.notify_all()
        del self.buf[:n]

    def process(self):
        while True:
            if self.in_data:
                if not self.process_data():
                    return
                continue
            i = self.buf.find(b"\n")
            if i == -1:
                return
            line = bytes(self.buf[:i + 1])
            del self.buf[:i + 1]
            with self.be._cond:
                self.sess.commands.append(line)
                self.be._cond.notify_all()
            if self.auth_state:
                self.auth_continue(line)
            else:
                self.command(line)

    def auth_continue(self, line):
        text = line.rstrip(b"\r\n")
        with self.be._cond:
            self.sess.auth_lines.append(text)
        if text == b"*":
            self.auth_state = None
            self.reply("AUTH", b"501 5.7.0 Authentication aborted")
            return
        try:
            base64.b64decode(text, validate=True)
        except ValueError:
            self.auth_state = None
            self.reply("AUTH", b"501 5.5.2 Cannot decode response")
            return
        if self.auth_state == "login-user":
            self.auth_state = "login-pass"
            self.reply("AUTH", b"334 UGFzc3dvcmQ6")
            return
        if self.auth_state == "scram-first":
            self.scram_first(text)
            return
        if self.auth_state == "scram-final":
            # the proof is not checked: these "accounts" have no salted
            # password; the server-final message is plausible only
            self.auth_state = "scram-last"
            self.reply("AUTH", b"334 " + base64.b64encode(
                b"v=" + base64.b64encode(b"server-signature-not-checked")))
            return
        self.auth_state = None
        self.reply("AUTH", self.be.auth_reply)

    def scram_first(self, b64text):
        """SCRAM (RFC 5802): answer a client-first-message with a
        server-first-message that extends the client's nonce."""
        msg = base64.b64decode(b64text, validate=True)
        nonce = [a[2:] for a in msg.split(b",") if a.startswith(b"r=")]
        if not nonce:
            self.auth_state = None
            self.reply("AUTH", b"501 5.5.2 Invalid SCRAM message")
            return
        self.auth_state = "scram-final"
        first = b"r=" + nonce[0] + b"3rfcNHYJY1ZVvWVs7j,s=" + \
            base64.b64encode(b"salt-of-the-test") + b",i=4096"
        self.reply("AUTH", b"334 " + base64.b64encode(first))

    def auth_start(self, arg):
        parts = arg.split()
        mech = parts[0].upper() if parts else b""
        ir = parts[1] if len(parts) > 1 else None
        with self.be._cond:
            self.sess.auth_lines.append(b"AUTH " + arg)
        if mech not in (b"PLAIN", b"LOGIN", b"XOAUTH2", b"OAUTHBEARER", b"CRAM-MD5",
                        b"SCRAM-SHA-1", b"SCRAM-SHA-256"):
            self.reply("AUTH", b"504 5.5.4 Unrecognized authentication type")
            return
        if ir is not None and ir != b"=":
            try:
                base64.b64decode(ir, validate=True)
            except ValueError:
                self.reply("AUTH", b"501 5.5.2 Cannot decode response")
                return
        if mech == b"CRAM-MD5":
            # RFC 2195: the server speaks first; the digest is not checked
            if ir is not None:
                self.reply("AUTH", b"501 5.5.2 No initial response allowed")
                return
            self.auth_state = "cram"
            self.reply("AUTH", b"334 " + base64.b64encode(
                b"<1896.697170952@postoffice.reston.mci.net>"))
            return
        if mech.startswith(b"SCRAM-"):
            if ir is None:
                self.auth_state = "scram-first"
                self.reply("AUTH", b"334 ")
            else:
                self.scram_first(ir)
            return
        if mech in (b"PLAIN", b"XOAUTH2", b"OAUTHBEARER"):
            if ir is None:
                self.auth_state = "plain"
                self.reply("AUTH", b"334 ")
            else:
                self.reply("AUTH", self.be.auth_reply)
        else:
            if ir is None:
                self.auth_state = "login-user"
                self.reply("AUTH", b"334 VXNlcm5hbWU6")
            else:
                self.auth_state = "login-pass"
                self.reply("AUTH", b"334 UGFzc3dvcmQ6")

    def process_data(self):
        self.data += self.buf
        self.buf = bytearray()
        got = len(self.data) - 2
        with self.be._cond:
            self.sess.data_bytes = got
        lim = self.be.close_after_data_bytes
        if lim is not None and got >= lim:
            self.close_us()
        stall = self.be.stall_data
        if stall and not self.stalled and got >= stall[0]:
            self.stalled = True
            time.sleep(stall[1])
        rx = STRICT_EOD if self.be.eod == "strict" else LENIENT_EOD
        m = rx.search(self.data, max(0, self.scan - 4))
        if m is None:
            self.scan = len(self.data)
            return False
        end_content = m.start() + len(m.group(1))
        raw = bytes(self.data[2:m.end()])
        data = bytes(self.data[2:max(2, end_content)])
        self.buf = bytearray(self.data[m.end():])
        self.data = None
        self.in_data = False
        self.scan = 0
        self.end_of_data(raw, data)
        return True

    def end_of_data(self, raw, data):
        mail, rcpts = self.mail, self.rcpts
        self.mail, self.rcpts = None, []
        if "DOT" in self.be.close_on or "DOT" in self.be.silent:
            with self.be._cond:
                self.sess.unacked.append(raw)
            self.reply("DOT", b"")
            return
        if self.be.data_reply is not None:
            with self.be._cond:
                self.sess.unacked.append(raw)
            self.reply("DOT", self.be.data_reply)
            return
        qid = self.be._next_qid()
        msg = Message(self.sess, mail, rcpts, raw, data, qid)
        # Stored before the 250 is sent, as an MTA commits its queue file
        # before it answers: a client holding a 250 finds the message here.
        with self.be._cond:
            self.be.transactions.append(msg)
            self.be._cond.notify_all()
        self.reply("DOT", b"250 2.0.0 Ok: queued as " + qid.encode())

    def command(self, line):
        text = line.rstrip(b"\r\n")
        verb = text.split(b" ", 1)[0].upper().decode("latin-1")
        arg = text[len(verb) + 1:] if len(text) > len(verb) else b""
        be = self.be
        if verb in be.replies:
            r = be.replies[verb]
            if verb == "QUIT":
                self.reply(verb, r)
                self.flush()
                self.close_us()
            self.reply(verb, r)
            return
        if verb in ("EHLO", "HELO") and be.refuse_second_ehlo:
            if getattr(self, "identified", False):
                self.reply(verb, b"503 5.5.1 Invalid command: Already identified")
                return
            self.identified = True
        if verb == "EHLO":
            # echo the name as a real MTA would: printable ASCII only
            shown = bytes(b if 0x20 < b < 0x7F else 0x3F for b in arg[:255])
            lines = [b"250-" + be.name.encode() + b" Hello " + shown]
            caps = list(be.capabilities)
            if self.tls and be.tls_capabilities is not None:
                caps = list(be.tls_capabilities)
            if be.starttls and not self.tls:
                caps.append("STARTTLS")
            lines += [b"250-" + c.encode() for c in caps]
            lines[-1] = b"250 " + lines[-1][4:]
            self.mail, self.rcpts = None, []
            self.reply(verb, b"\r\n".join(lines))
        elif verb == "HELO":
            self.mail, self.rcpts = None, []
            self.reply(verb, b"250 " + be.name.encode())
        elif verb == "MAIL":
            low = text.lower().decode("latin-1")
            for k, r in be.mail_replies.items():
                if k in low:
                    self.reply(verb, r)
                    return
            if self.mail is not None:
                self.reply(verb, b"503 5.5.1 Error: nested MAIL command")
                return
            self.mail = arg.decode("latin-1")
            self.rcpts = []
            self.reply(verb, b"250 2.1.0 Ok")
        elif verb == "RCPT":
            if self.mail is None:
                self.reply(verb, b"503 5.5.1 Error: need MAIL command")
                return
            low = text.lower().decode("latin-1")
            for k, r in be.rcpt_replies.items():
                if k in low:
                    self.reply(verb, r)
                    return
            m = re.search(r"<([^>]*)>", arg.decode("latin-1"))
            self.rcpts.append(m.group(1) if m else arg.decode("latin-1"))
            self.reply(verb, b"250 2.1.5 Ok")
        elif verb == "DATA":
            if self.mail is None:
                self.reply(verb, b"503 5.5.1 Error: need RCPT command")
            elif not self.rcpts:
                self.reply(verb, b"554 5.5.1 Error: no valid recipients")
            else:
                self.reply(verb, b"354 End data with <CR><LF>.<CR><LF>")
                self.flush()
                self.in_data = True
                self.data = bytearray(b"\r\n")
                self.scan = 0
        elif verb == "RSET":
            self.mail, self.rcpts = None, []
            self.reply(verb, b"250 2.0.0 Ok")
        elif verb == "NOOP":
            self.reply(verb, b"250 2.0.0 Ok")
        elif verb == "VRFY":
            self.reply(verb, b"252 2.0.0 Cannot VRFY user, but will accept message")
        elif verb == "EXPN":
            self.reply(verb, b"502 5.5.1 EXPN not available")
        elif verb == "HELP":
            self.reply(verb, b"214 2.0.0 See RFC 5321")
        elif verb == "QUIT":
            self.reply(verb, b"221 2.0.0 Bye")
            self.flush()
            if not be.quit_wait_close:
                self.close_us()
        elif verb == "STARTTLS" and be.starttls and not self.tls:
            if verb in be.silent:
                return
            self.reply(verb, b"220 2.0.0 Ready to start TLS")
            self.out += be.starttls_inject
            self.flush()
            with self.be._cond:
                self.sess.discarded_after_starttls += bytes(self.buf)
                self.sess.plain_commands = list(self.sess.commands)
            self.buf = bytearray()      # RFC 3207: nothing pipelined is kept
            self.mail, self.rcpts = None, []
            self.start_tls()
        elif verb == "STARTTLS" and self.tls:
            self.reply(verb, b"503 5.5.1 Error: TLS already active")
        elif verb == "STARTTLS":
            self.reply(verb, b"220 2.0.0 Ready to start TLS")
        elif verb == "XCLIENT":
            if not any(c.upper().startswith("XCLIENT") for c in be.capabilities):
                self.reply(verb, b"502 5.5.2 Error: command not recognized")
                return
            attrs = {}
            for kv in arg.split():
                k, _, v = kv.partition(b"=")
                attrs[k.decode("latin-1").upper()] = xtext_decode(v)
            with self.be._cond:
                self.sess.xclient.update(attrs)
            self.mail, self.rcpts = None, []
            self.reply(verb, self.be.greeting)      # Postfix: a new 220 greeting
        elif verb == "XFORWARD":
            self.reply(verb, b"250 2.0.0 Ok")
        elif verb == "AUTH":
            self.auth_start(arg)
        else:
            self.reply(verb, b"502 5.5.2 Error: command not recognized")


# --------------------------------------------------------------------------
# Raw client
# --------------------------------------------------------------------------

class Reply:
    def __init__(self, lines, raw):
        self.raw = raw                              # bytes, CRLFs included
        self.code = int(lines[0][:3])
        self.lines = [l[4:].decode("utf-8", "replace") for l in lines]

    @property
    def text(self):
        return "\n".join(self.lines)

    @property
    def enh(self):
        """Enhanced status code of the first line ("5.5.2"), or ""."""
        m = re.match(r"([245]\.\d{1,3}\.\d{1,3})(?:\s|$)", self.lines[0])
        return m.group(1) if m else ""

    def __repr__(self):
        return "<Reply %r>" % self.raw


REPLY_LINE = re.compile(rb"^[2-5]\d\d(?:[ -].*)?$", re.S)


class Client:
    """A raw SMTP client. All reads take a timeout; nothing blocks forever."""

    def __init__(self, port, host="127.0.0.1", source=None, timeout=10):
        self.timeout = timeout
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if source:
            self.sock.bind((source, 0))
        self.sock.settimeout(timeout)
        self.sock.connect((host, port))
        self.local_port = self.sock.getsockname()[1]
        self.buf = bytearray()
        self.eof = False
        self.received = bytearray()     # everything read, for messages

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def sendline(self, line):
        if isinstance(line, str):
            line = line.encode()
        self.send(line + b"\r\n")

    def _fill(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            raise Timeout("no complete reply within the deadline; buffered %r; all read %r" % (
                bytes(self.buf[:300]), bytes(self.received[-500:])))
        self.sock.settimeout(left)
        try:
            chunk = self.sock.recv(65536)
        except socket.timeout:
            raise Timeout("no complete reply within the deadline; buffered %r; all read %r" % (
                bytes(self.buf[:300]), bytes(self.received[-500:])))
        except ConnectionResetError:
            chunk = b""
            self.reset = True
        if not chunk:
            self.eof = True
            return False
        self.buf += chunk
        self.received += chunk
        return True

    def reply(self, timeout=None):
        """Read one complete reply. Raises ConnectionClosed at EOF (with
        the partial bytes), Timeout at the deadline, AssertionError on a
        malformed line."""
        deadline = time.monotonic() + (timeout if timeout is not None else self.timeout)
        lines = []
        start = 0
        while True:
            i = self.buf.find(b"\n", start)
            if i == -1:
                if self.eof or not self._fill(deadline):
                    raise ConnectionClosed("connection closed; partial reply %r, all read %r" % (
                        bytes(self.buf), bytes(self.received[-500:])))
                continue
            line = bytes(self.buf[start:i + 1])
            start = i + 1
            assert line.endswith(b"\r\n"), "reply line without CRLF: %r" % line
            body = line[:-2]
            assert REPLY_LINE.match(body), "malformed reply line %r" % line
            if lines:
                assert body[:3] == lines[0][:3], "inconsistent multi-line reply %r" % self.buf[:start]
            lines.append(body)
            if len(body) == 3 or body[3:4] == b" ":
                raw = bytes(self.buf[:start])
                del self.buf[:start]
                return Reply(lines, raw)

    def reply_or_none(self, timeout=None):
        """A reply, or None when the connection closed cleanly before one."""
        try:
            return self.reply(timeout)
        except ConnectionClosed:
            if self.buf:
                raise
            return None

    def replies(self, n, timeout=None):
        return [self.reply(timeout) for _ in range(n)]

    def cmd(self, line, timeout=None):
        self.sendline(line)
        return self.reply(timeout)

    def expect_closed(self, timeout=3):
        """Wait until the server closes; assert nothing but EOF arrives."""
        deadline = time.monotonic() + timeout
        while not self.eof:
            try:
                if not self._fill(deadline):
                    break
            except Timeout:
                raise Timeout("connection still open %.1fs later; extra bytes %r" % (
                    timeout, bytes(self.buf)))
            except ConnectionResetError:
                break
        return bytes(self.buf)

    def assert_quiet(self, wait=0.3):
        """Nothing more arrives within wait seconds (no extra replies)."""
        deadline = time.monotonic() + wait
        while not self.buf and not self.eof:
            try:
                self._fill(deadline)
            except Timeout:
                break
        assert not self.buf, "unexpected extra bytes from the server: %r" % bytes(self.buf)

    def send_tolerant(self, data):
        """sendall that reports (instead of raising) a connection the
        server already closed or reset; returns True if all was sent."""
        try:
            self.send(data)
            return True
        except (BrokenPipeError, ConnectionResetError):
            return False

    def is_closed(self, timeout=3):
        try:
            self.expect_closed(timeout)
            return True
        except Timeout:
            return False

    # -- conveniences

    def ehlo(self, name="client.example.net"):
        r = self.cmd("EHLO " + name)
        assert r.code == 250, r
        return r

    def transaction(self, mail_from, rcpts, content, timeout=None):
        """MAIL, RCPTs, DATA (one at a time), the dot-stuffed content and
        the final dot. Returns the final reply. Asserts the intermediate
        ones succeed."""
        r = self.cmd("MAIL FROM:<%s>" % mail_from)
        assert r.code == 250, r
        for rc in rcpts:
            r = self.cmd("RCPT TO:<%s>" % rc)
            assert r.code == 250, r
        r = self.cmd("DATA")
        assert r.code == 354, r
        self.send(dot_stuff(content) + b".\r\n")
        return self.reply(timeout)


def session(port, helo="client.example.net", source=None, timeout=10):
    """A connected Client that got a 220 and a 250 to EHLO."""
    c = Client(port, source=source, timeout=timeout)
    g = c.reply()
    assert g.code == 220, g
    c.ehlo(helo)
    return c


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def listening(port, files=("/proc/net/tcp", "/proc/net/tcp6")):
    """True when some socket listens on TCP port, read from /proc so that
    probing opens no SMTP session."""
    hexport = ":%04X" % port
    for f in files:
        try:
            with open(f) as fh:
                next(fh)
                for line in fh:
                    parts = line.split()
                    if parts[1].endswith(hexport) and parts[3] == "0A":
                        return True
        except OSError:
            pass
    return False
