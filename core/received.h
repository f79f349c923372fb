/*
 * core/received.h - the Received: trace header mxshield prepends
 * (RFC 5321 4.4, RFC 3848 protocol words, RFC 5322 3.3 date).
 */
#ifndef MXS_RECEIVED_H
#define MXS_RECEIVED_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct rcvd_info {
	const char	*helo;		/* as sent by the client, may be NULL */
	size_t		 helo_len;
	const char	*client_ip;	/* printable, v4 or v6 */
	const char	*client_name;	/* the client's forward-confirmed
					   host name (checked by the caller
					   as one), or NULL */
	const char	*hostname;	/* ours */
	const char	*proto;		/* SMTP, ESMTP, ESMTPS, ESMTPA, ESMTPSA */
	const char	*tls;		/* "TLSv1.2 cipher" or NULL */
	uint64_t	 sid;
	time_t		 now;		/* UTC seconds */
};

/*
 * rcvd_format - write the header with its final CRLF into out:
 * "from HELO (name [ip])" with a client_name, "from HELO ([ip])"
 * without (RFC 5321 4.4 TCP-info). Folded
 * at 78 columns at most per line where the parts allow; the HELO is
 * sanitised (esc_printable, and "(", ")", "\\" become "?") and cut to 255
 * octets; a NULL or empty HELO is written "unknown". The output is
 * NUL-terminated. Returns the length, 0 if cap is too small.
 */
size_t	rcvd_format(char *out, size_t cap, const struct rcvd_info *ri);

/* rcvd_proto - the RFC 3848 word for (ehlo, tls, auth) flags. */
const char *rcvd_proto(int ehlo, int tls, int auth);

/* rcvd_date - RFC 5322 date-time in UTC ("Tue, 24 Nov 2026 13:33:11 +0000"). */
size_t	rcvd_date(char *out, size_t cap, time_t now);

#endif
