#!/usr/bin/env python3
"""
tests/bench/dnsbench.py - the parts of tests/bench/dns.sh that are
easier in Python:

  serve ADDR_FILE QLOG [DELAY_MS]
        a DNS server (tests/integration/dnskit.py, on 127.0.0.53 and a
        free port) with the bench's zone; writes "host:port" to ADDR_FILE
        once it listens, answers each question DELAY_MS after it came
        (UDP; one scheduler thread), appends one line per question to
        QLOG as it is answered ("time name type", seconds since the
        epoch), runs until SIGTERM
  latency OFF_PORT DNS_PORT CLIENTS SIZE
        CLIENTS sessions, one after another, each from its own address
        127.0.0.(10+i), against the "off" and the "dns" mxshield in turn:
        one message of SIZE octets, timed from connect to the reply to
        the final dot; prints "i<TAB>off_ms<TAB>dns_ms" per client
  table RES LAT DNSLOG SESSIONS WARMUP_Q MEASURED_Q COLD_Q LOAD
        the markdown summary of dns.sh's raw rows

The zone: 127.0.0.1 (smtp-source) has the PTR client.example.com, whose
A is 127.0.0.1, and example.com's SPF permits 127.0.0.0/8; each latency
client 127.0.0.x has its own PTR hX.bench.test (A 127.0.0.x) and its
own sender domain dX.bench.test (SPF ip4:127.0.0.x), so nothing one
session asks is in the cache for the next. The DNSBL zones
bl1/bl2.bench.test list nobody (NXDOMAIN). Every TTL, negative ones
too, is an hour: nothing expires during a run.
"""

import heapq
import json
import os
import signal
import socket
import statistics
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "integration"))
import dnskit  # noqa: E402
from dnslib import DNSRecord, QTYPE  # noqa: E402

TTL = 3600
LAT_FIRST = 10		# latency clients: 127.0.0.10, .11, ...


def zone(clients=200):
    z = [
        "1.0.0.127.in-addr.arpa. %d IN PTR client.example.com." % TTL,
        "client.example.com. %d IN A 127.0.0.1" % TTL,
        'example.com. %d IN TXT "v=spf1 ip4:127.0.0.0/8 -all"' % TTL,
    ]
    for i in range(clients):
        x = LAT_FIRST + i
        z += [
            "%d.0.0.127.in-addr.arpa. %d IN PTR h%d.bench.test." % (x, TTL, x),
            "h%d.bench.test. %d IN A 127.0.0.%d" % (x, TTL, x),
            'd%d.bench.test. %d IN TXT "v=spf1 ip4:127.0.0.%d -all"' % (x, TTL, x),
        ]
    return z


class Later:
    """dnskit's delayed answers, on one scheduler thread: each answer
    leaves delay_ms after its question came, however many are waiting
    (a timer thread per answer runs late on a loaded machine)."""

    def __init__(self, delay_ms):
        self.delay = delay_ms / 1000.0
        self.heap = []
        self.seq = 0
        self.cond = threading.Condition()
        threading.Thread(target=self._run, daemon=True).start()

    def __call__(self, fn):
        if not self.delay:
            fn()
            return
        with self.cond:
            self.seq += 1
            heapq.heappush(self.heap, (time.monotonic() + self.delay, self.seq, fn))
            self.cond.notify()

    def _run(self):
        while True:
            with self.cond:
                while not self.heap or self.heap[0][0] > time.monotonic():
                    self.cond.wait(self.heap[0][0] - time.monotonic() if self.heap
                                   else None)
                _, _, fn = heapq.heappop(self.heap)
            fn()


def serve(addr_file, qlog, delay_ms=0):
    srv = dnskit.DnsServer(zone=zone(), origin="bench.test", soa_ttl=TTL,
                           soa_minimum=TTL)
    srv._later = Later(int(delay_ms))
    log = open(qlog, "a", buffering=1)
    lock = threading.Lock()
    handle = srv._handle

    def logged(data):
        try:
            q = DNSRecord.parse(data).q
            what = "%s %s" % (str(q.qname).rstrip(".").lower(), QTYPE.get(q.qtype))
        except Exception:
            what = "? ?"
        with lock:
            log.write("%.3f %s\n" % (time.time(), what))
        return handle(data)
    srv._handle = logged
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    signal.signal(signal.SIGINT, lambda *a: stop.set())
    tmp = addr_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(srv.server + "\n")
    os.rename(tmp, addr_file)
    while not stop.wait(0.2):
        pass
    srv.stop()
    log.close()


# ------------------------------------------------------------ latency

class Client:
    def __init__(self, port, source):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=30,
                                          source_address=(source, 0))
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def reply(self):
        """One whole reply (the last line of a multi-line one)."""
        while True:
            while b"\r\n" not in self.buf:
                chunk = self.s.recv(65536)
                if not chunk:
                    raise RuntimeError("connection closed")
                self.buf += chunk
            line, self.buf = self.buf.split(b"\r\n", 1)
            if len(line) < 4 or line[3:4] != b"-":
                return line.decode("ascii", "replace")

    def cmd(self, text, want):
        self.s.sendall(text.encode() + b"\r\n")
        r = self.reply()
        if not r.startswith(want):
            raise RuntimeError("%s -> %s" % (text, r))
        return r


def message(size, tag):
    head = ("From: <bench@example.net>\r\nTo: <sink@example.com>\r\n"
            "Subject: dns bench %s\r\n\r\n" % tag).encode()
    line = b"x" * 76 + b"\r\n"
    body = line * max(1, (size - len(head)) // len(line))
    return head + body


def session(port, x, size):
    """ms from connect to the reply to the final dot."""
    src = "127.0.0.%d" % x
    t0 = time.monotonic()
    c = Client(port, src)
    try:
        if not c.reply().startswith("220"):
            raise RuntimeError("no greeting")
        c.cmd("EHLO h%d.bench.test" % x, "250")
        c.cmd("MAIL FROM:<bench@d%d.bench.test>" % x, "250")
        c.cmd("RCPT TO:<sink@example.com>", "250")
        c.cmd("DATA", "354")
        c.s.sendall(message(size, x) + b".\r\n")
        r = c.reply()
        t1 = time.monotonic()
        if not r.startswith("250"):
            raise RuntimeError("final dot from %s -> %s" % (src, r))
        c.cmd("QUIT", "221")
    finally:
        c.s.close()
    return (t1 - t0) * 1000.0


def latency(off_port, dns_port, clients, size):
    for i in range(int(clients)):
        x = LAT_FIRST + i
        # the order turns with each client, as dns.sh's rounds do
        order = [("off", off_port), ("dns", dns_port)]
        if i % 2:
            order.reverse()
        ms = {name: session(int(port), x, int(size)) for name, port in order}
        print("%d\t%.2f\t%.2f" % (x, ms["off"], ms["dns"]), flush=True)


# ------------------------------------------------------------ table

def pct(values, p):
    v = sorted(values)
    k = (len(v) - 1) * p
    lo = int(k)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


def table(res, lat, dnslog, sessions, warmup_q, measured_q, cold_q, load):
    rows = [l.rstrip("\n").split("\t") for l in open(res) if l.strip()]
    rate, cpu = {}, {}
    for r, name, v, us in rows:
        rate.setdefault(name, {})[int(r)] = float(v)
        cpu.setdefault(name, {})[int(r)] = float(us)
    rounds = sorted(rate["off"])
    ratios = [rate["dns"][k] / rate["off"][k] for k in rounds]
    med = {n: statistics.median(rate[n].values()) for n in rate}
    us = {n: statistics.median(cpu[n].values()) for n in cpu}
    out = []
    out.append("Machine load (1, 5, 15 min) before / after: %s" % load)
    out.append("")
    out.append("Throughput, C=50, 10 KB, warm cache (%d rounds, interleaved):" % len(rounds))
    out.append("")
    out.append("| round | off msgs/s | dns msgs/s | dns / off | CPU us/msg off / dns |")
    out.append("|---|---|---|---|---|")
    for k in rounds:
        out.append("| %d | %.0f | %.0f | %.2f | %.0f / %.0f |" % (
            k, rate["off"][k], rate["dns"][k], rate["dns"][k] / rate["off"][k],
            cpu["off"][k], cpu["dns"][k]))
    out.append("| median | %.0f | %.0f | **%.2f** | %.0f / %.0f |" % (
        med["off"], med["dns"], statistics.median(ratios), us["off"], us["dns"]))
    out.append("")
    # the resolvers' own lines, summed over workers
    keys = ("lookups", "cache_hits", "queries", "coalesced", "failures", "evictions")
    tot = dict.fromkeys(keys, 0)
    nw = 0
    for line in open(dnslog, errors="replace"):
        try:
            o = json.loads(line)
        except ValueError:
            continue
        if o.get("event") == "dns" and "lookups" in o:
            nw += 1
            for k in keys:
                tot[k] += o[k]
    rate_txt = "%.4f" % (tot["cache_hits"] / tot["lookups"]) if tot["lookups"] else "-"
    out.append("Cache (the dns process's `dns` lines at shutdown, %d workers; warm-up "
               "and measured rounds together):" % nw)
    out.append("")
    out.append("| sessions | lookups | cache hits | hit rate | questions sent | coalesced "
               "| failures | evictions | DNS server questions: warm-up / measured rounds |")
    out.append("|---|---|---|---|---|---|---|---|---|")
    out.append("| %s | %d | %d | %s | %d | %d | %d | %d | %s / %s |" % (
        sessions, tot["lookups"], tot["cache_hits"], rate_txt, tot["queries"],
        tot["coalesced"],
        tot["failures"], tot["evictions"], warmup_q, measured_q))
    out.append("")
    lrows = [l.split("\t") for l in open(lat) if l.strip()]
    off = [float(r[1]) for r in lrows]
    dns = [float(r[2]) for r in lrows]
    diff = [d - o for o, d in zip(off, dns)]
    out.append("Latency per session, cold cache, resolver answering after 50 ms "
               "(%d sessions, each from its own address and sender domain; connect "
               "to the reply to the final dot; DNS server questions: %s, %.1f a "
               "session):" % (len(lrows), cold_q, int(cold_q) / len(lrows)))
    out.append("")
    out.append("| | off ms | dns ms | added ms |")
    out.append("|---|---|---|---|")
    out.append("| median | %.1f | %.1f | %.1f |" % (
        statistics.median(off), statistics.median(dns), statistics.median(diff)))
    out.append("| p90 | %.1f | %.1f | %.1f |" % (pct(off, 0.9), pct(dns, 0.9), pct(diff, 0.9)))
    out.append("")
    out.append("The lookups of a cold session (7, of which 6 reach the server): at connect "
               "the client's PTR and both DNSBL zones, together; the PTR's answer starts "
               "the A of its name (sequential: two round trips from connect); EHLO starts "
               "the HELO name's A and AAAA, together (the FCrDNS A of the same name joins "
               "that question); MAIL starts the SPF TXT and waits for it (one round trip "
               "on every session's path); RCPT waits for whatever still runs.")
    print("\n".join(out))


def main(argv):
    if len(argv) >= 3 and argv[0] == "serve":
        serve(*argv[1:4])
    elif len(argv) == 5 and argv[0] == "latency":
        latency(*argv[1:])
    elif len(argv) == 9 and argv[0] == "table":
        table(*argv[1:])
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
