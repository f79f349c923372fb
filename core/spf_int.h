/*
 * core/spf_int.h - the inside of the SPF evaluator, shared by
 * core/spf.c (the check_host() state machine), core/spf_term.c (record
 * terms, domain-spec and macro syntax, macro expansion, names and TXT
 * records from answers; RFC 7208 4.5, 4.6, 5, 7) and
 * core/spf_header.c (Received-SPF:, RFC 7208 9.1). Not for use outside
 * these files.
 */
#ifndef MXS_SPF_INT_H
#define MXS_SPF_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/spf.h"

#define SPF_RECBUF	(4 * SPF_RECORD_MAX)	/* records of open frames */
#define SPF_DEPTH	(SPF_DNS_MECH + 1)	/* each include counts */
#define SPF_TERM_MAX	255			/* kept mechanism/problem */

enum spf_kind {
	SPF_K_ALL,
	SPF_K_INCLUDE,
	SPF_K_A,
	SPF_K_MX,
	SPF_K_PTR,
	SPF_K_IP4,
	SPF_K_IP6,
	SPF_K_EXISTS,
	SPF_K_REDIRECT,
	SPF_K_EXP,
	SPF_K_UNKNOWN_MOD,
};

/* One term of a record, as parsed by spf_term_parse(). */
struct spf_term {
	enum spf_kind	 kind;
	enum spf_result	 qual;		/* mechanisms: what a match gives */
	struct span	 text;		/* the term without its qualifier */
	struct span	 spec;		/* domain-spec; len 0 when absent */
	struct span	 bad;		/* syntax error: the offending text */
	int		 cidr4;		/* 0..32, default 32 */
	int		 cidr6;		/* 0..128, default 128 */
	unsigned char	 net[16];	/* ip4 / ip6 network */
};

/* One check_host() in progress: the first, an include or a redirect. */
struct spf_frame {
	char		 dom[SPF_NAME_MAX + 1];
	size_t		 dlen;
	size_t		 rec;		/* record at s->rec + rec, rlen long */
	size_t		 rlen;
	size_t		 pos;		/* next term */
	size_t		 term;		/* term being evaluated */
	size_t		 tlen;
	struct span	 redirect;	/* modifiers found by the syntax pass */
	struct span	 exp;
	bool		 redirected;	/* no record there is permerror */
};

/* A host name from an MX or PTR answer. */
struct spf_hname {
	char		 n[SPF_NAME_MAX + 2];	/* room for the final dot */
	size_t		 len;
	bool		 ok;		/* valid and worth a lookup */
};

struct spf {
	/* the request, copied */
	struct net_addr	 ip;
	enum spf_identity identity;
	bool		 bad_identity;
	char		 from[SPF_SENDER_MAX + 1];	/* as given */
	size_t		 from_len;
	char		 sender[SPF_SENDER_MAX + 16];	/* l@o, %{s} */
	size_t		 slen;
	size_t		 llen;		/* local part: sender[0..llen) */
	char		 helo[SPF_HELO_MAX + 1];
	size_t		 hlen;
	char		 rcv[SPF_HELO_MAX + 1];
	size_t		 rlen;
	char		 dom0[SPF_SENDER_MAX + 1];	/* first <domain> */
	size_t		 d0len;
	int64_t		 now;
	unsigned	 max_mech;
	unsigned	 max_void;

	/* progress */
	int		 st;		/* enum in spf.c */
	int		 op;		/* what the outstanding query is for */
	int		 resume;	/* state to return to after %{p} */
	bool		 waiting;	/* q is outstanding */
	struct spf_query q;
	unsigned	 nq, nmech, nvoid;

	struct spf_frame fr[SPF_DEPTH];
	int		 depth;
	char		 rec[SPF_RECBUF];
	size_t		 rec_used;

	/* the mechanism being evaluated */
	struct spf_term	 t;
	char		 tgt[SPF_NAME_MAX + 1];	/* ptr: the target */
	size_t		 tgtlen;
	struct spf_hname names[SPF_NAMES_MAX];
	unsigned	 nnames, ni;

	/* %{p}: 0 not computed, 1 computed */
	int		 p_done;
	struct spf_hname pnames[SPF_NAMES_MAX];	/* ok: validated */
	unsigned	 npnames, pi;

	char		 xbuf[SPF_EXPAND_MAX];

	/* exp= */
	char		 exptxt[SPF_RECORD_MAX];
	size_t		 exptxt_len;
	char		 expl[SPF_EXPLAIN_MAX + 1];
	size_t		 expl_len;

	/* verdict */
	enum spf_result	 result;
	char		 mech[SPF_TERM_MAX + 1];
	size_t		 mech_len;
	char		 prob[SPF_TERM_MAX + 1];
	size_t		 prob_len;
	const char	*reason;
};

/* Result of a macro expansion. */
enum spf_xrc {
	SPF_X_OK,
	SPF_X_SYNTAX,		/* bad macro or character */
	SPF_X_NEEDP,		/* %{p} is not known yet */
	SPF_X_LONG,		/* longer than the output buffer */
};

/*
 * spf_term_parse - one term (no spaces inside) into *t; syntax per RFC
 * 7208 4.6.1, 5, 6 and 7.1. Returns 0, or -1 with t->bad set.
 */
int	spf_term_parse(const char *p, size_t len, struct spf_term *t);

/*
 * spf_expand - macro-expand p[0..len) for the frame's domain into out
 * (cap bytes, not NUL-terminated). explain: the exp text rules (SP and
 * c, r, t allowed; overflow cuts instead of failing).
 */
enum spf_xrc	spf_expand(const struct spf *s, const struct spf_frame *f,
		    const char *p, size_t len, bool explain, char *out,
		    size_t cap, size_t *olen);

/*
 * spf_name_fix - a macro-expanded domain into a query name in place:
 * one trailing dot dropped, labels removed from the left while longer
 * than 253 (RFC 7208 4.8, 7.3). Returns the new length, or 0 when the
 * name cannot be queried (empty label, label over 63, byte outside
 * 0x20..0x7e or a backslash).
 */
size_t	spf_name_fix(char *n, size_t len);

/* spf_reverse_name - the PTR query name of ip: in-addr.arpa or ip6.arpa
 * (RFC 7208 5.5); out has SPF_NAME_MAX + 1 bytes. Returns the length. */
size_t	spf_reverse_name(const struct net_addr *ip, char *out);

/* spf_domain0_ok - is the first <domain> worth querying (4.3)? */
bool	spf_domain0_ok(const char *d, size_t len);

/* spf_txt_join - the strings of one TXT record joined into out (cap
 * bytes); returns the whole length, which may be more than cap. */
size_t	spf_txt_join(const struct spf_rr *rr, char *out, size_t cap);

/* spf_is_record - does the TXT record start with "v=spf1" (4.5)? */
bool	spf_is_record(const struct spf_rr *rr, size_t *len);

/* spf_hname_set - an MX or PTR name from an answer, made queryable. */
void	spf_hname_set(struct spf_hname *h, struct span n);

/* spf_ieq - ASCII case-insensitive equality of two byte strings. */
bool	spf_ieq(const char *a, size_t alen, const char *b, size_t blen);

#endif
