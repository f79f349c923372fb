#!/usr/bin/env python3
"""
tools/devsink.py - the development SMTP sink behind `make run`.

Accepts every message and stores it as DIR/<timestamp>-<n>.eml: the
message as received, dot-unstuffed, line endings untouched. Standard
library only; meant for a developer's loopback, not for the Internet
(it trusts its client, but bounds lines and message size anyway).

It offers AUTH PLAIN and LOGIN (RFC 4954) with a few test accounts, so
that mxshield's authentication rules and hijack detection can be tried:
235 for a known user and password, 535 5.7.8 for anything else. AUTH is
never required; mail is accepted with or without it.

  alice@example.com   alice-secret
  bob@example.com     bob-secret
  carol               carol-secret    (an identity without a domain)

  devsink.py --listen 127.0.0.1:2526 --dir run/mail [--max-size BYTES]
             [--user NAME:PASSWORD ...]   (--user replaces the accounts above)
"""

import argparse
import asyncio
import base64
import binascii
import itertools
import os
import signal
import sys
import time

MAX_LINE = 1024 * 1024  # per line; longer ends the session

ACCOUNTS = {
    "alice@example.com": "alice-secret",
    "bob@example.com": "bob-secret",
    "carol": "carol-secret",
}


class AuthError(Exception):
    """Ends an AUTH exchange with this reply."""


class Sink:
    def __init__(self, directory, max_size, accounts):
        self.dir = directory
        self.max_size = max_size
        self.accounts = accounts
        self.counter = itertools.count(1)
        self.hostname = "devsink.localhost"

    def store(self, data, mail_from, rcpts, user):
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
        while True:
            n = next(self.counter)
            path = os.path.join(self.dir, "%s-%d.eml" % (stamp, n))
            try:
                with open(path, "xb") as f:
                    f.write(data)
                break
            except FileExistsError:
                continue
        print("devsink: stored %s (%d bytes) from <%s> to %s%s" % (
            path, len(data), mail_from, ", ".join("<%s>" % r for r in rcpts),
            " (authenticated as %s)" % user if user else ""), flush=True)
        return n

    async def auth(self, reader, writer, arg):
        """One AUTH exchange; returns the user name on success, raises
        AuthError with the final reply otherwise. Passwords are never
        printed."""
        async def response(challenge):
            writer.write(b"334 " + challenge + b"\r\n")
            await writer.drain()
            line = (await reader.readuntil(b"\n")).rstrip(b"\r\n")
            if line == b"*":
                raise AuthError("501 5.7.0 Authentication cancelled")
            return decode(line)

        def decode(text):
            if text == b"=":        # an empty initial response (RFC 4954 4)
                return b""
            try:
                return base64.b64decode(text, validate=True)
            except (binascii.Error, ValueError):
                raise AuthError("501 5.5.2 Cannot decode response")

        mech, _, initial = arg.partition(" ")
        mech, initial = mech.upper(), initial.strip().encode()
        if mech == "PLAIN":
            data = decode(initial) if initial else await response(b"")
            parts = data.split(b"\0")
            if len(parts) != 3:
                raise AuthError("501 5.5.2 Malformed PLAIN response")
            authzid, user, password = parts
            if authzid not in (b"", user):
                user = b""          # acting for someone else: not here
        elif mech == "LOGIN":
            user = decode(initial) if initial else await response(b"VXNlcm5hbWU6")
            password = await response(b"UGFzc3dvcmQ6")
        elif mech == "":
            raise AuthError("501 5.5.4 Syntax: AUTH mechanism")
        else:
            raise AuthError("504 5.5.4 Unrecognized authentication type")
        name = user.decode("utf-8", "replace")
        if not user or self.accounts.get(name) != password.decode("utf-8", "replace"):
            print("devsink: AUTH %s as %r failed" % (mech, name), flush=True)
            raise AuthError("535 5.7.8 Authentication credentials invalid")
        print("devsink: AUTH %s as %s" % (mech, name), flush=True)
        return name

    async def handle(self, reader, writer):
        peer = writer.get_extra_info("peername")
        try:
            await self.session(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        except Exception as e:  # a dev tool: report, keep serving others
            print("devsink: session %s failed: %r" % (peer, e), file=sys.stderr, flush=True)
        finally:
            try:
                writer.close()
                await writer.wait_closed()
            except Exception:
                pass

    async def session(self, reader, writer):
        def reply(text):
            writer.write(text.encode() + b"\r\n")

        reply("220 %s ESMTP devsink" % self.hostname)
        await writer.drain()
        mail_from, rcpts = None, []
        ehlo, user = False, None
        while True:
            line = await reader.readuntil(b"\n")
            cmd = line.rstrip(b"\r\n").decode("utf-8", "replace")
            verb = cmd.split(" ", 1)[0].upper()
            arg = cmd[len(verb):].strip()
            if verb == "EHLO":
                mail_from, rcpts, ehlo = None, [], True
                writer.write(("250-%s\r\n250-PIPELINING\r\n250-SIZE %d\r\n250-8BITMIME\r\n"
                              "250-AUTH PLAIN LOGIN\r\n250 ENHANCEDSTATUSCODES\r\n"
                              % (self.hostname, self.max_size)).encode())
            elif verb == "HELO":
                mail_from, rcpts = None, []
                reply("250 %s" % self.hostname)
            elif verb == "AUTH":
                if not ehlo:
                    reply("503 5.5.1 Send EHLO first")
                elif user is not None:
                    reply("503 5.5.1 Already authenticated")
                elif mail_from is not None:
                    reply("503 5.5.1 AUTH not permitted during a mail transaction")
                else:
                    try:
                        user = await self.auth(reader, writer, arg)
                        reply("235 2.7.0 Authentication successful")
                    except AuthError as e:
                        reply(str(e))
            elif verb == "MAIL":
                mail_from = _path(arg)
                rcpts = []
                reply("250 2.1.0 Ok")
            elif verb == "RCPT":
                if mail_from is None:
                    reply("503 5.5.1 Need MAIL first")
                else:
                    rcpts.append(_path(arg))
                    reply("250 2.1.5 Ok")
            elif verb == "DATA":
                if mail_from is None or not rcpts:
                    reply("503 5.5.1 Need MAIL and RCPT first")
                    continue
                reply("354 End data with <CR><LF>.<CR><LF>")
                await writer.drain()
                data, too_big = await self.read_data(reader)
                if too_big:
                    reply("552 5.3.4 Message too big for devsink")
                else:
                    n = self.store(data, mail_from, rcpts, user)
                    reply("250 2.0.0 Ok: queued as DEV%06d" % n)
                mail_from, rcpts = None, []
            elif verb == "RSET":
                mail_from, rcpts = None, []
                reply("250 2.0.0 Ok")
            elif verb in ("NOOP", "HELP"):
                reply("250 2.0.0 Ok")
            elif verb == "VRFY":
                reply("252 2.0.0 Will accept")
            elif verb == "QUIT":
                reply("221 2.0.0 Bye")
                await writer.drain()
                return
            else:
                reply("502 5.5.1 Command not implemented")
            await writer.drain()

    async def read_data(self, reader):
        """Lines up to the one that is exactly ".\\r\\n"; dot-unstuffed."""
        parts = []
        size = 0
        too_big = False
        while True:
            line = await reader.readuntil(b"\n")
            if line == b".\r\n":
                return b"".join(parts), too_big
            if line.startswith(b"."):
                line = line[1:]
            size += len(line)
            if size > self.max_size:
                too_big = True
                parts = []
            elif not too_big:
                parts.append(line)


def _path(arg):
    """The address in "FROM:<a@b> ..." / "TO:<a@b>"."""
    i, j = arg.find("<"), arg.find(">")
    if i != -1 and j > i:
        return arg[i + 1:j]
    return arg.split(":", 1)[-1].strip()


def _account(s):
    name, sep, password = s.partition(":")
    if not name or not sep:
        raise argparse.ArgumentTypeError("expected NAME:PASSWORD, got %r" % s)
    return name, password


def _hostport(s):
    host, _, port = s.rpartition(":")
    if not host or not port.isdigit():
        raise argparse.ArgumentTypeError("expected host:port, got %r" % s)
    return host.strip("[]"), int(port)


async def main_async(args):
    os.makedirs(args.dir, exist_ok=True)
    sink = Sink(args.dir, args.max_size, dict(args.user) if args.user else ACCOUNTS)
    host, port = args.listen
    server = await asyncio.start_server(sink.handle, host, port, limit=MAX_LINE + 2)
    print("devsink: storing messages in %s" % args.dir, flush=True)
    print("devsink: listening on %s:%d" % (host, port), flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with server:
        await stop.wait()
    print("devsink: stopped", flush=True)


def main():
    p = argparse.ArgumentParser(description="Development SMTP sink: stores every message as a .eml file.")
    p.add_argument("--listen", type=_hostport, default=("127.0.0.1", 2526), help="host:port (127.0.0.1:2526)")
    p.add_argument("--dir", required=True, help="directory for the .eml files (created)")
    p.add_argument("--max-size", type=int, default=100 * 1024 * 1024, help="largest message kept, bytes")
    p.add_argument("--user", type=_account, action="append", metavar="NAME:PASSWORD",
                   help="an AUTH account (repeat; replaces the built-in test accounts)")
    args = p.parse_args()
    try:
        asyncio.run(main_async(args))
    except OSError as e:
        print("devsink: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
