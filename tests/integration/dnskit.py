"""
A DNS server for the integration tests, built on dnslib (Debian
python3-dnslib): UDP and TCP on one free port of a loopback address
(127.0.0.x), zone data given per test as zone-file lines, and modes:

  "answer"    answer from the zone: the records of the name and type
              (CNAMEs followed inside the zone), NODATA for a name that
              has other types, NXDOMAIN for a name it does not have; a
              negative answer carries the zone's SOA (TTL soa_ttl,
              MINIMUM soa_minimum) as RFC 2308 wants
  "drop"      never answer (the resolver times out)
  "servfail"  answer SERVFAIL
  "refused"   answer REFUSED

delay_ms delays every answer (in its own thread, so one slow answer
does not hold up the next question). Every question is recorded
(queries: (name, type) in arrival order, name lower case without the
final dot), whatever the mode. stop() closes its sockets and joins its
threads; nothing outlives the test.
"""

import socket
import struct
import threading
import time

from dnslib import DNSRecord, QTYPE, RCODE, RR


class DnsServer:
    def __init__(self, host="127.0.0.53", zone=(), origin="mxs.test", soa_ttl=60,
                 soa_minimum=60):
        self.host = host
        self.origin = origin
        self.soa_ttl = soa_ttl
        self.soa_minimum = soa_minimum
        self.mode = "answer"
        self.delay_ms = 0
        self.queries = []
        self._lock = threading.Lock()
        self._records = []
        self.set_zone(zone)
        self._stop = threading.Event()
        self._threads = []
        self._bind()
        for target in (self._udp_loop, self._tcp_loop):
            t = threading.Thread(target=target, daemon=True)
            t.start()
            self._threads.append(t)

    # -- zone and inspection

    def set_zone(self, lines):
        """Replace the zone: zone-file lines, "name TTL IN TYPE data"."""
        recs = []
        for line in lines:
            recs.extend(RR.fromZone(line))
        with self._lock:
            self._records = recs

    def count(self, name=None, qtype=None):
        with self._lock:
            return sum(1 for n, t in self.queries
                       if (name is None or n == name.lower().rstrip("."))
                       and (qtype is None or t == qtype))

    def reset_counts(self):
        with self._lock:
            self.queries = []

    @property
    def server(self):
        """The dns.servers entry for mxshield's configuration."""
        return "%s:%d" % (self.host, self.port)

    # -- sockets

    def _bind(self):
        for _ in range(50):
            udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            udp.bind((self.host, 0))
            port = udp.getsockname()[1]
            tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                tcp.bind((self.host, port))
            except OSError:
                udp.close()
                tcp.close()
                continue
            tcp.listen(16)
            udp.settimeout(0.1)
            tcp.settimeout(0.1)
            self.udp, self.tcp, self.port = udp, tcp, port
            return
        raise RuntimeError("no free UDP+TCP port pair on %s" % self.host)

    def stop(self):
        self._stop.set()
        for t in self._threads:
            t.join(timeout=5)
        self.udp.close()
        self.tcp.close()

    def _udp_loop(self):
        while not self._stop.is_set():
            try:
                data, peer = self.udp.recvfrom(65535)
            except socket.timeout:
                continue
            except OSError:
                return
            self._later(lambda d=data, p=peer: self._send_udp(d, p))

    def _send_udp(self, data, peer):
        reply = self._handle(data)
        if reply is not None and not self._stop.is_set():
            try:
                self.udp.sendto(reply, peer)
            except OSError:
                pass

    def _tcp_loop(self):
        while not self._stop.is_set():
            try:
                conn, _ = self.tcp.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            t = threading.Thread(target=self._tcp_conn, args=(conn,), daemon=True)
            t.start()
            self._threads.append(t)

    def _tcp_conn(self, conn):
        conn.settimeout(0.2)
        buf = b""
        with conn:
            while not self._stop.is_set():
                try:
                    chunk = conn.recv(65535)
                except socket.timeout:
                    continue
                except OSError:
                    return
                if not chunk:
                    return
                buf += chunk
                while len(buf) >= 2 and len(buf) >= 2 + struct.unpack("!H", buf[:2])[0]:
                    n = struct.unpack("!H", buf[:2])[0]
                    msg, buf = buf[2:2 + n], buf[2 + n:]
                    if self.delay_ms:
                        time.sleep(self.delay_ms / 1000.0)
                    reply = self._handle(msg)
                    if reply is not None:
                        try:
                            conn.sendall(struct.pack("!H", len(reply)) + reply)
                        except OSError:
                            return

    def _later(self, fn):
        if self.delay_ms:
            t = threading.Timer(self.delay_ms / 1000.0, fn)
            t.daemon = True
            t.start()
        else:
            fn()

    # -- answers

    def _handle(self, data):
        try:
            q = DNSRecord.parse(data)
        except Exception:
            return None
        qname = str(q.q.qname).rstrip(".").lower()
        qtype = QTYPE.get(q.q.qtype)
        with self._lock:
            self.queries.append((qname, qtype))
            records = list(self._records)
            mode = self.mode
        if mode == "drop":
            return None
        reply = q.reply()
        if mode == "servfail":
            reply.header.rcode = RCODE.SERVFAIL
            return reply.pack()
        if mode == "refused":
            reply.header.rcode = RCODE.REFUSED
            return reply.pack()
        name = qname
        for _ in range(8):
            owned = [r for r in records if str(r.rname).rstrip(".").lower() == name]
            cname = [r for r in owned if r.rtype == QTYPE.CNAME]
            if cname and q.q.qtype != QTYPE.CNAME:
                reply.add_answer(cname[0])
                name = str(cname[0].rdata.label).rstrip(".").lower()
                continue
            break
        match = [r for r in owned if r.rtype == q.q.qtype]
        for r in match:
            reply.add_answer(r)
        if not match:
            if not owned:
                reply.header.rcode = RCODE.NXDOMAIN
            reply.add_auth(RR.fromZone(
                "%s. %d IN SOA ns.%s. hostmaster.%s. 1 3600 900 604800 %d" % (
                    self.origin, self.soa_ttl, self.origin, self.origin,
                    self.soa_minimum))[0])
        return reply.pack()
