#!/usr/bin/env python3
"""
tools/devsink.py - the development SMTP sink behind `make run`.

Accepts every message and stores it as DIR/<timestamp>-<n>.eml: the
message as received, dot-unstuffed, line endings untouched. Standard
library only; meant for a developer's loopback, not for the Internet
(it trusts its client, but bounds lines and message size anyway).

  devsink.py --listen 127.0.0.1:2526 --dir run/mail [--max-size BYTES]
"""

import argparse
import asyncio
import itertools
import os
import signal
import sys
import time

MAX_LINE = 1024 * 1024  # per line; longer ends the session


class Sink:
    def __init__(self, directory, max_size):
        self.dir = directory
        self.max_size = max_size
        self.counter = itertools.count(1)
        self.hostname = "devsink.localhost"

    def store(self, data, mail_from, rcpts):
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
        print("devsink: stored %s (%d bytes) from <%s> to %s" % (
            path, len(data), mail_from, ", ".join("<%s>" % r for r in rcpts)), flush=True)
        return n

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
        while True:
            line = await reader.readuntil(b"\n")
            cmd = line.rstrip(b"\r\n").decode("utf-8", "replace")
            verb = cmd.split(" ", 1)[0].upper()
            arg = cmd[len(verb):].strip()
            if verb == "EHLO":
                mail_from, rcpts = None, []
                writer.write(("250-%s\r\n250-PIPELINING\r\n250-SIZE %d\r\n250-8BITMIME\r\n"
                              "250 ENHANCEDSTATUSCODES\r\n" % (self.hostname, self.max_size)).encode())
            elif verb == "HELO":
                mail_from, rcpts = None, []
                reply("250 %s" % self.hostname)
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
                    n = self.store(data, mail_from, rcpts)
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


def _hostport(s):
    host, _, port = s.rpartition(":")
    if not host or not port.isdigit():
        raise argparse.ArgumentTypeError("expected host:port, got %r" % s)
    return host.strip("[]"), int(port)


async def main_async(args):
    os.makedirs(args.dir, exist_ok=True)
    sink = Sink(args.dir, args.max_size)
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
    args = p.parse_args()
    try:
        asyncio.run(main_async(args))
    except OSError as e:
        print("devsink: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
