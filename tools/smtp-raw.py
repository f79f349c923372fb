#!/usr/bin/env python3
"""
tools/smtp-raw.py - send exact bytes to an SMTP server, one chunk at a
time, and print every reply: for trying what a hostile client sends
(bare LF, bare CR, NUL) where swaks would tidy it up. Needs only
python3.

  python3 tools/smtp-raw.py HOST:PORT CHUNK...

It reads the greeting, then sends each CHUNK and prints the replies it
gets, waiting for one reply per CRLF-ended line in the chunk (a message
sent after DATA's 354 counts as one). A CHUNK is text with the escapes
\\r \\n \\t \\0 \\\\ and \\xHH; nothing is added to it. Exit status 0 once
every chunk was sent, 1 when the server closed the connection or went
silent for 10 seconds first.
"""

import re
import socket
import sys

TIMEOUT = 10


def unescape(text):
    """'a\\r\\n' -> b'a\\r\\n'; only the escapes the usage names."""
    table = {"r": b"\r", "n": b"\n", "t": b"\t", "0": b"\0", "\\": b"\\"}
    out = bytearray()
    i = 0
    while i < len(text):
        c = text[i]
        if c != "\\" or i + 1 == len(text):
            out += c.encode("utf-8")
            i += 1
            continue
        e = text[i + 1]
        if e in table:
            out += table[e]
            i += 2
        elif e == "x" and re.fullmatch(r"[0-9a-fA-F]{2}", text[i + 2:i + 4]):
            out.append(int(text[i + 2:i + 4], 16))
            i += 4
        else:
            sys.exit("smtp-raw: unknown escape \\%s in %r" % (e, text))
    return bytes(out)


def replies_owed(chunk, in_data):
    """How many replies a chunk earns, and whether DATA is open after it."""
    n = 0
    if in_data:
        # a message: one reply, after the CRLF.CRLF that ends it
        return (1, False) if b"\r\n.\r\n" in b"\r\n" + chunk else (0, True)
    for line in chunk.split(b"\r\n")[:-1]:
        n += 1
        if line.upper() == b"DATA":
            in_data = True
    return n, in_data


def read_reply(f):
    """One reply, all its lines; None when the connection is gone."""
    while True:
        line = f.readline()
        if not line:
            return None
        sys.stdout.write("<- %s\n" % line.decode("utf-8", "replace").rstrip("\r\n"))
        if line[3:4] != b"-":
            return line


def main():
    if len(sys.argv) < 3 or ":" not in sys.argv[1]:
        sys.exit("usage: smtp-raw.py HOST:PORT CHUNK...")
    host, port = sys.argv[1].rsplit(":", 1)
    chunks = [unescape(a) for a in sys.argv[2:]]
    try:
        s = socket.create_connection((host.strip("[]"), int(port)), TIMEOUT)
        s.settimeout(TIMEOUT)
        f = s.makefile("rb")
        if read_reply(f) is None:
            return 1
        in_data = False
        for chunk in chunks:
            sys.stdout.write("-> %r\n" % chunk)
            s.sendall(chunk)
            n, in_data = replies_owed(chunk, in_data)
            r = None
            for _ in range(n):
                r = read_reply(f)
                if r is None:
                    print("smtp-raw: connection closed")
                    return 1
            if in_data and r is not None and not r.startswith(b"354"):
                in_data = False  # DATA was refused: no message follows
        s.close()
    except (OSError, ValueError) as e:
        print("smtp-raw: %s" % e)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
