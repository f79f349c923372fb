/*
 * core/received.c - the Received: trace field mxshield prepends when
 * backend.client_info = "received" (RFC 5321 4.4 Stamp; RFC 3848
 * protocol words; RFC 5322 3.3 date-time, 3.6.7 trace fields):
 *
 *   Received: from HELO ([IP])
 *   	by HOSTNAME (mxshield) with PROTO (TLS) id SIDHEX;
 *   	DATE
 *
 * Input: the HELO is untrusted (made printable, comment delimiters
 * replaced, cut to 255 octets); hostname, address, protocol and TLS
 * description come from mxshield itself. The time is an argument; no
 * clock, no allocation. Lines are folded to stay within 78 characters
 * where the parts allow it (a TAB counts as one character).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/esc.h"
#include "core/obuf.h"
#include "core/received.h"

#define RCVD_HELO_MAX	255	/* RFC 5321 4.5.3.1.2: a domain */

/*
 * The HELO as it may appear in the field: printable ASCII, with "(",
 * ")" and "\" replaced too so a client cannot open or close a comment
 * and make the field parse differently.
 */
static size_t
clean_helo(char *out, size_t cap, const char *helo, size_t len)
{
	size_t n;

	if (len > RCVD_HELO_MAX)
		len = RCVD_HELO_MAX;
	n = esc_printable(out, cap, helo, len);
	for (size_t i = 0; i < n; i++)
		if (out[i] == '(' || out[i] == ')' || out[i] == '\\')
			out[i] = '?';
	return n;
}

/* Our TLS description inside a comment: printable, spaces kept. */
static size_t
clean_comment(char *out, size_t cap, const char *s)
{
	size_t n = strlen(s);

	if (cap == 0)
		return 0;
	if (n > cap - 1)
		n = cap - 1;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c > 0x7e || c == '(' || c == ')' || c == '\\')
			c = '?';
		out[i] = (char)c;
	}
	out[n] = '\0';
	return n;
}

/*
 * The TCP-info address literal: "[192.0.2.1]", "[IPv6:2001:db8::1]"
 * (RFC 5321 4.1.3). A v4-mapped IPv6 address (::ffff:192.0.2.1, what a
 * dual-stack socket reports for an IPv4 client) is written as IPv4.
 */
static size_t
addr_literal(char *out, size_t cap, const char *ip)
{
	int n;

	if (strncasecmp(ip, "::ffff:", 7) == 0 && strchr(ip + 7, ':') == NULL &&
	    strchr(ip + 7, '.') != NULL)
		ip += 7;
	if (strchr(ip, ':') != NULL)
		n = snprintf(out, cap, "([IPv6:%s])", ip);
	else
		n = snprintf(out, cap, "([%s])", ip);
	if (n < 0 || (size_t)n >= cap)
		return 0;
	return (size_t)n;
}

/* The RFC 3848 protocol word; a static string. */
const char *
rcvd_proto(int ehlo, int tls, int auth)
{
	/* RFC 3848 2: the S and A forms exist only for ESMTP */
	if (!ehlo)
		return "SMTP";
	if (tls && auth)
		return "ESMTPSA";
	if (tls)
		return "ESMTPS";
	if (auth)
		return "ESMTPA";
	return "ESMTP";
}

/*
 * RFC 5322 3.3 date-time of now in UTC, NUL-terminated (32 bytes do).
 * Returns its length; 0 (and "") if cap is too small or the year falls
 * outside 1900..9999.
 */
size_t
rcvd_date(char *out, size_t cap, time_t now)
{
	static const char days[7][4] = {
		"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"
	};
	static const char months[12][4] = {
		"Jan", "Feb", "Mar", "Apr", "May", "Jun",
		"Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
	};
	struct tm	tm;
	int		n;

	if (cap > 0)
		out[0] = '\0';
	if (gmtime_r(&now, &tm) == NULL)
		return 0;
	if (tm.tm_wday < 0 || tm.tm_wday > 6 || tm.tm_mon < 0 ||
	    tm.tm_mon > 11 || tm.tm_year + 1900L < 1900 ||
	    tm.tm_year + 1900L > 9999)
		return 0;	/* RFC 5322 3.3: 4-digit years from 1900 */
	n = snprintf(out, cap, "%s, %02d %s %04d %02d:%02d:%02d +0000",
	    days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
	    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
	if (n < 0 || (size_t)n >= cap) {
		if (cap > 0)
			out[0] = '\0';
		return 0;
	}
	return (size_t)n;
}

/*
 * The whole field, CRLF-terminated and NUL-terminated, into out. Returns
 * its length, or 0 (and "" when cap > 0) if it does not fit or the date
 * cannot be written. Bytes up to cap may be written even on failure.
 */
size_t
rcvd_format(char *out, size_t cap, const struct rcvd_info *ri)
{
	struct obuf	 o = { out, cap, 0, 0, 0 };
	char		 helo[RCVD_HELO_MAX + 1], lit[64], date[64], sid[17];
	char		 named[64 + 256] = "";
	char		 tls[128], with[192];
	const char	*host = ri->hostname != NULL ? ri->hostname : "localhost";
	const char	*proto = ri->proto != NULL ? ri->proto : "SMTP";
	size_t		 n;

	if (cap > 0)
		out[0] = '\0';
	if (ri->helo != NULL && ri->helo_len > 0)
		clean_helo(helo, sizeof(helo), ri->helo, ri->helo_len);
	else
		strcpy(helo, "unknown");
	lit[0] = '\0';
	if (ri->client_ip != NULL && ri->client_ip[0] != '\0' &&
	    addr_literal(lit, sizeof(lit), ri->client_ip) == 0)
		return 0;
	if (lit[0] != '\0' && ri->client_name != NULL &&
	    ri->client_name[0] != '\0' && strlen(ri->client_name) <= 253) {
		/* "([ip])" becomes "(name [ip])"; the name is only letters,
		 * digits, hyphens and dots (the caller checked it) */
		snprintf(named, sizeof(named), "(%s %s", ri->client_name,
		    lit + 1);
	}
	if (rcvd_date(date, sizeof(date), ri->now) == 0)
		return 0;
	snprintf(sid, sizeof(sid), "%016" PRIx64, ri->sid);

	/* Received: from HELO ([IP]) */
	ob_str(&o, "Received: from ");
	ob_str(&o, helo);
	if (named[0] != '\0') {
		ob_space(&o, strlen(named));
		ob_str(&o, named);
	} else if (lit[0] != '\0') {
		ob_space(&o, strlen(lit));
		ob_str(&o, lit);
	}

	/* by HOSTNAME (mxshield) with PROTO (TLS) id SIDHEX; */
	ob_fold(&o);
	ob_str(&o, "by ");
	ob_str(&o, host);
	ob_str(&o, " (mxshield)");
	if (ri->tls != NULL && ri->tls[0] != '\0') {
		clean_comment(tls, sizeof(tls), ri->tls);
		snprintf(with, sizeof(with), "with %s (%s)", proto, tls);
	} else
		snprintf(with, sizeof(with), "with %s", proto);
	n = strlen(with) + strlen(" id ") + strlen(sid) + 1;
	if (o.col + 1 + n <= OBUF_COLS)
		ob_put(&o, " ", 1);
	else
		ob_fold(&o);	/* "with" starts a line of its own */
	ob_str(&o, with);
	ob_space(&o, 3 + strlen(sid) + 1);
	ob_str(&o, "id ");
	ob_str(&o, sid);
	ob_str(&o, ";");

	/* DATE */
	ob_fold(&o);
	ob_str(&o, date);
	ob_put(&o, "\r\n", 2);

	if (o.full) {
		if (cap > 0)
			out[0] = '\0';
		return 0;
	}
	out[o.len] = '\0';
	return o.len;
}
