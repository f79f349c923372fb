/*
 * core/spf_header.c - the Received-SPF: trace field of an evaluation
 * (RFC 7208 9.1) and the names of results and query types.
 *
 *   Received-SPF: pass (mx.example.org: domain of example.com
 *   	designates 192.0.2.1 as permitted sender) client-ip=192.0.2.1;
 *   	envelope-from="a@example.com"; helo=mail.example.com;
 *   	receiver=mx.example.org; mechanism="ip4:192.0.2.0/24";
 *   	identity=mailfrom
 *
 * Input: sender, HELO, receiver, record text and domains are untrusted.
 * Each is made printable ASCII and cut to 255 octets; a key-value is a
 * dot-atom or a quoted-string with '"' and '\' escaped (RFC 5322 3.2);
 * the comment cannot be opened or closed from inside. No allocation.
 */
#include <stdio.h>
#include <string.h>

#include "core/obuf.h"
#include "core/spf_int.h"

#define HDR_VALUE_MAX	255

/* RFC 5322 3.2.3 atext. */
static bool
is_atext(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || (c != '\0' &&
	    strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

static bool
is_dot_atom(const char *p, size_t len)
{
	if (len == 0 || p[0] == '.' || p[len - 1] == '.')
		return false;
	for (size_t i = 0; i < len; i++) {
		if (p[i] == '.' && p[i + 1] == '.')
			return false;
		if (p[i] != '.' && !is_atext((unsigned char)p[i]))
			return false;
	}
	return true;
}

/* Untrusted text as printable ASCII, cut to HDR_VALUE_MAX; in a comment
 * "(", ")" and "\" become "?" too. Returns the length written to out. */
static size_t
clean(char *out, const char *p, size_t len, bool comment)
{
	if (len > HDR_VALUE_MAX)
		len = HDR_VALUE_MAX;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c < 0x20 || c > 0x7e ||
		    (comment && (c == '(' || c == ')' || c == '\\')))
			c = '?';
		out[i] = (char)c;
	}
	return len;
}

/* key=value; as a dot-atom when it is one, else a quoted-string. */
static void
kv(struct obuf *o, const char *key, const char *p, size_t len, bool last)
{
	char	v[HDR_VALUE_MAX], q[2 * HDR_VALUE_MAX + 2];
	size_t	n = clean(v, p, len, false), qn = 0;

	if (is_dot_atom(v, n)) {
		memcpy(q, v, n);
		qn = n;
	} else {
		q[qn++] = '"';
		for (size_t i = 0; i < n; i++) {
			if (v[i] == '"' || v[i] == '\\')
				q[qn++] = '\\';
			q[qn++] = v[i];
		}
		q[qn++] = '"';
	}
	ob_space(o, strlen(key) + 1 + qn + (last ? 0 : 1));
	ob_str(o, key);
	ob_put(o, "=", 1);
	ob_put(o, q, qn);
	if (!last)
		ob_put(o, ";", 1);
}

/* The words of the comment, after "receiver: " (RFC 7208 9.1 examples). */
static void
comment_words(const struct spf *s, char *out, size_t cap, const char *ip)
{
	char	d[HDR_VALUE_MAX + 1];
	size_t	n = clean(d, s->dom0, s->d0len, true);
	const char *why = s->reason != NULL ? s->reason : "error";

	d[n] = '\0';
	switch (s->result) {
	case SPF_PASS:
		snprintf(out, cap, "domain of %s designates %s as permitted "
		    "sender", d, ip);
		break;
	case SPF_FAIL:
		snprintf(out, cap, "domain of %s does not designate %s as "
		    "permitted sender", d, ip);
		break;
	case SPF_SOFTFAIL:
		snprintf(out, cap, "transitioning domain of %s does not "
		    "designate %s as permitted sender", d, ip);
		break;
	case SPF_NEUTRAL:
		snprintf(out, cap, "%s is neither permitted nor denied by "
		    "domain of %s", ip, d);
		break;
	case SPF_NONE:
		snprintf(out, cap, "domain of %s does not designate "
		    "permitted sender hosts", d);
		break;
	case SPF_TEMPERROR:
		snprintf(out, cap, "temporary error in processing domain of "
		    "%s: %s", d, why);
		break;
	default:
		snprintf(out, cap, "permanent error in processing domain of "
		    "%s: %s", d, why);
		break;
	}
}

size_t
spf_received_header(const struct spf *s, char *out, size_t cap)
{
	struct obuf	 o = { out, cap, 0, 0, false };
	char		 ip[64], words[3 * HDR_VALUE_MAX], r[HDR_VALUE_MAX];
	size_t		 ipn, rn, i;
	const char	*w;

	if (cap == 0)
		return 0;
	ipn = net_addr_format(&s->ip, ip, sizeof(ip));
	comment_words(s, words, sizeof(words), ip);
	rn = clean(r, s->rcv, s->rlen, true);

	ob_str(&o, "Received-SPF: ");
	ob_str(&o, spf_result_name(s->result));
	ob_space(&o, 1 + rn + 2);
	ob_put(&o, "(", 1);
	if (rn > 0) {
		ob_put(&o, r, rn);
		ob_put(&o, ":", 1);
	}
	/* the comment folds between words */
	for (w = words; *w != '\0'; w += i) {
		for (i = 0; w[i] != '\0' && w[i] != ' '; i++)
			;
		if (w != words || rn > 0)
			ob_space(&o, i + (w[i] == '\0' ? 1 : 0));
		ob_put(&o, w, i);
		while (w[i] == ' ')
			i++;
	}
	ob_put(&o, ")", 1);
	kv(&o, "client-ip", ip, ipn, false);
	kv(&o, "envelope-from", s->from, s->from_len, false);
	kv(&o, "helo", s->helo, s->hlen, false);
	if (s->rlen > 0)
		kv(&o, "receiver", s->rcv, s->rlen, false);
	if (s->result == SPF_PERMERROR || s->result == SPF_TEMPERROR) {
		if (s->prob_len > 0)
			kv(&o, "problem", s->prob, s->prob_len, false);
	} else if (s->mech_len > 0)
		kv(&o, "mechanism", s->mech, s->mech_len, false);
	else if (s->result != SPF_NONE)
		kv(&o, "mechanism", "default", 7, false);
	kv(&o, "identity", s->identity == SPF_ID_HELO ? "helo" : "mailfrom",
	    s->identity == SPF_ID_HELO ? 4 : 8, true);
	ob_put(&o, "\r\n", 2);
	if (o.full) {
		out[0] = '\0';
		return 0;
	}
	out[o.len] = '\0';
	return o.len;
}

const char *
spf_result_name(enum spf_result r)
{
	switch (r) {
	case SPF_NONE:		return "none";
	case SPF_NEUTRAL:	return "neutral";
	case SPF_PASS:		return "pass";
	case SPF_FAIL:		return "fail";
	case SPF_SOFTFAIL:	return "softfail";
	case SPF_TEMPERROR:	return "temperror";
	case SPF_PERMERROR:	return "permerror";
	}
	return "unknown";
}

const char *
spf_qtype_name(enum spf_qtype t)
{
	switch (t) {
	case SPF_T_TXT:		return "TXT";
	case SPF_T_A:		return "A";
	case SPF_T_AAAA:	return "AAAA";
	case SPF_T_MX:		return "MX";
	case SPF_T_PTR:		return "PTR";
	}
	return "?";
}
