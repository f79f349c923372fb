/*
 * core/dnsmsg.h - one DNS response message read into a fixed-size
 * answer (RFC 1035 4.1): its rcode, the records of the asked name and
 * type (A, AAAA, MX, PTR, TXT; CNAME chains followed inside the
 * message), their smallest TTL, and for a negative answer the TTL the
 * authority section's SOA allows (RFC 2308 5). Pure; allocates nothing.
 * The answer is shared by the cache (core/dnscache.h) and the resolver
 * (proxy/dns.h).
 */
#ifndef MXS_DNSMSG_H
#define MXS_DNSMSG_H

#include <stddef.h>
#include <stdint.h>

/* RR types mxshield asks for or reads (RFC 1035 3.2.2, RFC 3596). */
enum dns_type {
	DNS_T_A = 1,
	DNS_T_CNAME = 5,
	DNS_T_SOA = 6,
	DNS_T_PTR = 12,
	DNS_T_MX = 15,
	DNS_T_TXT = 16,
	DNS_T_AAAA = 28
};

/* What an answer means to its user. */
enum dns_status {
	DNS_OK = 0,		/* records of the asked type */
	DNS_NXDOMAIN,		/* the name does not exist */
	DNS_NODATA,		/* the name exists, no record of that type */
	DNS_TEMPFAIL		/* SERVFAIL, REFUSED, timeout, bad message */
};

#define DNS_RR_MAX	32	/* records kept per answer; more: truncated */
#define DNS_DATA_MAX	4096	/* names and TXT strings of one answer */
/* A name as text: 255 wire octets, each byte at most "\DDD". */
#define DNS_NAME_BUF	1024
#define DNS_CHAIN_MAX	8	/* CNAMEs followed inside one message */

/*
 * One record. Names (MX exchange, PTR target) are NUL-terminated text
 * in the answer's data at off (len without the NUL): labels joined by
 * dots, a byte other than a letter, digit, '-' or '_' written "\DDD"
 * (RFC 1035 5.1), no final dot. TXT: at off, len bytes of the RDATA as
 * sent: nstr character-strings, each a length byte and its bytes (see
 * dnsmsg_txt_next()).
 */
struct dns_rr {
	uint16_t	 type;
	uint16_t	 pref;		/* MX preference */
	uint32_t	 ttl;
	uint8_t		 addr[16];	/* A: 4 bytes, AAAA: 16 */
	uint16_t	 off, len;	/* name or TXT data in answer.data */
	uint16_t	 nstr;		/* TXT: character-strings */
};

struct dns_answer {
	enum dns_status	 status;
	uint8_t		 rcode;		/* as sent (RFC 1035 4.1.1) */
	uint8_t		 tc;		/* TC was set */
	uint8_t		 truncated;	/* records or data did not fit */
	uint16_t	 qtype;
	/* OK: smallest TTL of the records and the CNAMEs before them;
	 * NXDOMAIN/NODATA: min(SOA TTL, SOA MINIMUM), 0 without a SOA
	 * (RFC 2308 5: not to be cached); TEMPFAIL: 0 */
	uint32_t	 ttl;
	size_t		 nrr;
	struct dns_rr	 rr[DNS_RR_MAX];
	size_t		 ndata;
	char		 data[DNS_DATA_MAX];
};

enum dnsmsg_rc {
	DNSMSG_OK = 0,		/* out filled (its status may be TEMPFAIL) */
	DNSMSG_E_SHORT,		/* shorter than a header */
	DNSMSG_E_NOTRESP,	/* QR not set, or an opcode other than QUERY */
	DNSMSG_E_QUESTION,	/* not one question, or not the one asked */
	DNSMSG_E_FORMAT		/* a name or record runs past the end, a
				   compression loop, a name over 255 */
};

/*
 * dnsmsg_parse - read the response p (len bytes, untrusted) to a
 * question for qname (text, as above, compared without regard to case;
 * NULL: any) and qtype. Returns DNSMSG_OK with out filled; on any other
 * value out->status is DNS_TEMPFAIL with no records. Records past
 * DNS_RR_MAX or DNS_DATA_MAX set out->truncated; nothing overflows.
 * Only the question, answer and authority sections are read.
 */
enum dnsmsg_rc	dnsmsg_parse(const uint8_t *p, size_t len, const char *qname,
		    uint16_t qtype, struct dns_answer *out);

/*
 * dnsmsg_name - read the name at *off of message p (len bytes) into
 * buf (DNS_NAME_BUF bytes) as text, following compression pointers
 * (each must point before the label it replaces, so no loop; 255 wire
 * octets at most). *off moves past the name as it sits at *off.
 * Returns its text length, or -1.
 */
int		dnsmsg_name(const uint8_t *p, size_t len, size_t *off,
		    char buf[DNS_NAME_BUF]);

/*
 * dnsmsg_txt_next - the next character-string of TXT record rr: *pos
 * starts at 0; returns 1 with *s and *n set (borrowed from a), or 0
 * after the last.
 */
int		dnsmsg_txt_next(const struct dns_answer *a,
		    const struct dns_rr *rr, size_t *pos, const char **s,
		    size_t *n);

/* dnsmsg_rc_name, dns_status_name, dns_type_name: for logs ("A", "MX",
 * "TYPE99" into no buffer: unknown types give "?"); dns_type_parse:
 * the type of "A", "aaaa", "MX", "PTR", "TXT", "CNAME", or 0. */
const char	*dnsmsg_rc_name(enum dnsmsg_rc rc);
const char	*dns_status_name(enum dns_status st);
const char	*dns_type_name(uint16_t type);
uint16_t	 dns_type_parse(const char *s);

#endif
