/*
 * core/spf.h - a pure, resumable SPF evaluator (RFC 7208 check_host()).
 *
 * It does no I/O. The caller allocates spf_size() bytes, starts an
 * evaluation with spf_begin(), then loops: spf_next() either says which
 * DNS record set it needs (name and type) or that it is done; the caller
 * looks the record set up however it likes (cache, c-ares, test table)
 * and hands the answer back with spf_answer(). The verdict, the matched
 * mechanism and the expanded exp= explanation come from spf_result(),
 * the Received-SPF: field (RFC 7208 9.1) from spf_received_header().
 *
 * Every input (request, answers) is untrusted. All state lives in the
 * struct (no malloc, no globals, no clock: %{t} is an argument), so a
 * worker can keep many evaluations in flight. An evaluation asks at most
 * SPF_MAX_QUERIES questions.
 */
#ifndef MXS_SPF_H
#define MXS_SPF_H

#include <stddef.h>
#include <stdint.h>

#include "core/net.h"
#include "core/span.h"

#define SPF_NAME_MAX	253	/* a query name, without trailing dot */
#define SPF_SENDER_MAX	512	/* longer MAIL FROM paths give "none" */
#define SPF_HELO_MAX	255
#define SPF_RECORD_MAX	4096	/* longest SPF record we evaluate */
#define SPF_DNS_MECH	10	/* RFC 7208 4.6.4: terms causing lookups */
#define SPF_VOID_MAX	2	/* RFC 7208 4.6.4: default void lookups */
#define SPF_NAMES_MAX	10	/* RFC 7208 4.6.4: MX / PTR names */
#define SPF_EXPAND_MAX	2048	/* a longer domain-spec expansion: permerror */
#define SPF_EXPLAIN_MAX	512	/* explanation text is cut here */
/* Upper bound on the questions of one evaluation: the record, 10 terms
 * of 1 + 10 lookups each, %{p} (1 + 10) and the exp= record. */
#define SPF_MAX_QUERIES	(1 + SPF_DNS_MECH * (1 + SPF_NAMES_MAX) + \
			 (1 + SPF_NAMES_MAX) + 1)

enum spf_result {
	SPF_NONE,
	SPF_NEUTRAL,
	SPF_PASS,
	SPF_FAIL,
	SPF_SOFTFAIL,
	SPF_TEMPERROR,
	SPF_PERMERROR,
};

enum spf_identity {
	SPF_ID_MAILFROM,	/* RFC 7208 2.4; postmaster@HELO for <> */
	SPF_ID_HELO,		/* RFC 7208 2.3 */
};

enum spf_qtype {
	SPF_T_TXT,
	SPF_T_A,
	SPF_T_AAAA,
	SPF_T_MX,
	SPF_T_PTR,
};

enum spf_rcode {
	SPF_RC_NOERROR,		/* records (maybe none: NODATA) */
	SPF_RC_NXDOMAIN,
	SPF_RC_ERROR,		/* SERVFAIL, timeout, anything else */
};

enum spf_step {
	SPF_NEED,		/* answer the query, then call spf_next again */
	SPF_DONE,
};

struct spf_request {
	struct net_addr		 ip;	/* client; v4-mapped v6 counts as v4 */
	enum spf_identity	 identity;
	struct span		 sender;	/* MAIL FROM path; empty: <> */
	struct span		 helo;		/* as the client sent it */
	struct span		 receiver;	/* ours (%{r}), may be empty */
	int64_t			 now;		/* %{t}, Unix seconds */
	unsigned		 max_dns_mech;	/* 0: 10; more than 10: 10 */
	unsigned		 max_void;	/* 0: 2 */
};

/* What the evaluator needs: name (text form, NUL-terminated, no final
 * dot, bytes 0x20..0x7e except "\\") and type. */
struct spf_query {
	char			 name[SPF_NAME_MAX + 1];
	size_t			 len;
	enum spf_qtype		 type;
};

/* One resource record of the asked type (CNAMEs already followed). */
struct spf_rr {
	const struct span	*txt;	/* TXT: the character-strings */
	size_t			 ntxt;
	struct span		 name;	/* MX exchange, PTR target */
	unsigned char		 addr[16];	/* A: 4 bytes, AAAA: 16 */
};

struct spf_answer {
	enum spf_rcode		 rcode;
	const struct spf_rr	*rr;	/* borrowed for the call only */
	size_t			 nrr;
};

struct spf_verdict {
	enum spf_result		 result;
	struct span		 domain;	/* the domain checked first */
	struct span		 mechanism;	/* the term that matched, no
						   qualifier; empty: none */
	struct span		 problem;	/* errors: offending text */
	const char		*reason;	/* errors, none: why */
	struct span		 explanation;	/* fail: the exp= text,
						   expanded; empty: none */
};

struct spf;

/* spf_size - bytes to allocate for a struct spf (some tens of KB). */
size_t	spf_size(void);

/*
 * spf_begin - start check_host() for the request; copies what it needs,
 * so the request may go away afterwards. A malformed or overlong
 * identity gives "none" at the first spf_next() (RFC 7208 4.3).
 */
void	spf_begin(struct spf *s, const struct spf_request *req);

/*
 * spf_next - run until a DNS answer is needed (SPF_NEED, *q filled) or
 * the result is known (SPF_DONE). Calling it again before answering
 * repeats the same query.
 */
enum spf_step	spf_next(struct spf *s, struct spf_query *q);

/*
 * spf_answer - the answer to the last query. The records are read
 * during the call only. Ignored when no query is outstanding.
 */
void	spf_answer(struct spf *s, const struct spf_answer *a);

/*
 * spf_result - the verdict so far (final after SPF_DONE). The spans
 * point into *s and stay valid until the next spf_begin(). They hold
 * text from DNS and the request: sanitise before logging.
 */
enum spf_result	spf_result(const struct spf *s, struct spf_verdict *v);

/*
 * spf_received_header - the whole "Received-SPF:" field (RFC 7208 9.1)
 * with its final CRLF: result, comment, client-ip, envelope-from, helo,
 * receiver, mechanism or problem, identity. Untrusted parts are made
 * printable ASCII, quoted where they are not dot-atoms, cut to 255
 * octets, and cannot open or close the comment. Folded at 78 columns
 * where the parts allow. NUL-terminated; returns the length, 0 if cap
 * is too small (4096 octets always suffice).
 */
size_t	spf_received_header(const struct spf *s, char *out, size_t cap);

/* Lower-case RFC 7208 names: "pass", "permerror", ... */
const char	*spf_result_name(enum spf_result r);
const char	*spf_qtype_name(enum spf_qtype t);

#endif
