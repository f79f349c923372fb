/*
 * core/proxyproto.h - the PROXY protocol header (HAProxy's
 * proxy-protocol.txt, versions 1 and 2): reading the header a trusted
 * load balancer puts at the start of a connection, and writing one for
 * the backend (backend.client_info = "proxy"). Pure; allocates nothing.
 */
#ifndef MXS_PROXYPROTO_H
#define MXS_PROXYPROTO_H

#include <stddef.h>

#include "core/net.h"
#include "core/span.h"

/* v1: the longest line, CRLF included (spec 2.1). */
#define PP_V1_MAX	107
/* v2: the fixed part: signature, ver/cmd, fam/proto, length. */
#define PP_V2_HDR	16
/* v2: TLV bytes accepted after the address block; more is refused. */
#define PP_V2_MAX_TLV	1500
/* v2: the largest header pp_parse() accepts (AF_UNIX block + TLVs). */
#define PP_V2_MAX	(PP_V2_HDR + 216 + PP_V2_MAX_TLV)
/* Room that always suffices for pp_build_v1() / pp_build_v2(). */
#define PP_BUILD_MAX	108

/* pp_parse() results below zero. */
#define PP_E_NOTPROXY	(-1)	/* not a PROXY header at all */
#define PP_E_MALFORMED	(-2)	/* starts like one, then breaks the spec */
#define PP_E_TOOBIG	(-3)	/* v2 length over PP_V2_MAX_TLV of TLVs */

enum pp_cmd {
	PP_CMD_LOCAL = 0,	/* v2 LOCAL: health check from the proxy */
	PP_CMD_PROXY = 1,	/* v1 always; v2 PROXY */
};

enum pp_proto {
	PP_PROTO_UNSPEC = 0,
	PP_PROTO_STREAM = 1,	/* TCP */
	PP_PROTO_DGRAM = 2,	/* UDP */
};

struct pp_result {
	int		 version;	/* 1 or 2 */
	enum pp_cmd	 command;
	int		 family;	/* AF_INET, AF_INET6, AF_UNIX or
					   AF_UNSPEC (v1 UNKNOWN, v2 UNSPEC) */
	enum pp_proto	 proto;		/* STREAM for v1 TCP4/TCP6 */
	int		 unknown;	/* use the socket's own addresses:
					   v1 UNKNOWN, v2 LOCAL, v2 UNSPEC,
					   AF_UNIX or DGRAM */
	struct net_addr	 src, dst;	/* valid when !unknown */
	int		 sport, dport;	/* 0..65535, valid when !unknown */
	struct span	 tlv;		/* v2 PROXY: the TLV bytes, framing
					   checked, not interpreted; into p */
	const char	*why;		/* on error: a static reason for logs */
};

/*
 * pp_parse - the PROXY header at the start of p[0..len), the bytes
 * received so far on a connection. Call again with more bytes appended
 * while it returns 0; the caller bounds that with a timeout. Nothing is
 * kept between calls: each call reads from p[0].
 *
 * Returns the header's length in bytes (> 0; the SMTP stream starts
 * right after it), 0 when the bytes so far are a proper prefix of a
 * header that could still be valid, or:
 *  - PP_E_NOTPROXY as soon as the first bytes differ from "PROXY " and
 *    from the 12-byte v2 signature ("EHLO", "GET /" decide at once);
 *  - PP_E_MALFORMED for anything else that breaks the spec, as soon as
 *    the bytes seen prove it;
 *  - PP_E_TOOBIG for a v2 header longer than PP_V2_MAX_TLV bytes of
 *    TLVs after its address block, decided from the length field.
 * The answer for a given stream never depends on how it was split.
 *
 * v1 is strict: "PROXY" SP ("TCP4" | "TCP6") SP src SP dst SP sport SP
 * dport CRLF, single spaces, upper case, addresses of the named family
 * (IPv4 dotted quad without leading zeros; IPv6 text per RFC 4291 2.2),
 * ports 0..65535 in decimal without leading zeros, CRLF (a bare LF, a
 * bare CR or any control byte is malformed), at most PP_V1_MAX bytes.
 * "PROXY UNKNOWN" CRLF, or "PROXY UNKNOWN" SP followed by any printable
 * ASCII up to the CRLF (ignored, as the spec says), sets unknown.
 *
 * v2: signature, version 2, command LOCAL or PROXY, family/protocol one
 * of the seven the spec defines (0x00, 0x11, 0x12, 0x21, 0x22, 0x31,
 * 0x32). For PROXY the length must cover the family's address block
 * (12, 36 or 216 bytes), and the TLVs after it must exactly fill the
 * rest (type, 16-bit length, value; contents unchecked). INET/INET6
 * over STREAM fill the addresses; UNSPEC, UNIX or DGRAM set unknown.
 * LOCAL sets unknown and ignores the block after the fixed part, as the
 * spec says; it is still bounded by PP_V2_MAX_TLV.
 *
 * *out is zeroed first and filled only on success (why on errors).
 */
int		pp_parse(const char *p, size_t len, struct pp_result *out);

/* "NOTPROXY", "MALFORMED", "TOOBIG", "OK", "NEED_MORE", for logs. */
const char	*pp_rc_name(int rc);

/*
 * pp_build_v1 / pp_build_v2 - the header that tells the backend the
 * client src:sport connected to dst:dport. The family follows the
 * addresses: both IPv4 or IPv4-mapped IPv6 (::ffff:a.b.c.d) give TCP4 /
 * AF_INET with the mapped ones converted; otherwise both are written as
 * IPv6 (TCP6 / AF_INET6), an IPv4 one as its mapped form, which v1
 * prints in hex groups ("::ffff:c000:201"). An address that is neither
 * AF_INET nor AF_INET6 gives "PROXY UNKNOWN\r\n" (v1) or a LOCAL header
 * with family UNSPEC (v2), so the backend uses the connection's own
 * endpoints. Ports must be 0..65535.
 *
 * v1 writes the line and a NUL after it; v2 writes binary (no NUL, no
 * TLVs). Returns the header's length (without the NUL), or 0 when cap
 * is too small or a port is out of range. PP_BUILD_MAX bytes suffice.
 */
size_t		pp_build_v1(char *out, size_t cap, const struct net_addr *src,
		    int sport, const struct net_addr *dst, int dport);
size_t		pp_build_v2(char *out, size_t cap, const struct net_addr *src,
		    int sport, const struct net_addr *dst, int dport);

#endif
