/*
 * core/dnsname.c - host name validation for names DNS gave, and the
 * reversed address forms of PTR and DNSBL queries (RFC 1034 3.5,
 * RFC 1123 2.1, RFC 3596 2.5, RFC 5782 2.1, 2.4). Input: names from
 * DNS answers (untrusted) and addresses. Allocates nothing.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "core/dnsname.h"

static bool
is_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

/* Accepts any bytes; see dnsname.h. */
bool
dnsname_is_host(const char *p, size_t len)
{
	size_t	lab = 0;
	bool	alldigit = true;

	if (p == NULL)
		return false;
	if (len > 0 && p[len - 1] == '.')
		len--;
	if (len == 0 || len > DNSNAME_MAX)
		return false;
	for (size_t i = 0; i <= len; i++) {
		unsigned char c = i < len ? (unsigned char)p[i] : '.';

		if (c == '.') {
			/* a label: 1..63, no hyphen at either end */
			if (lab == 0 || lab > DNSNAME_LABEL ||
			    p[i - 1] == '-' || p[i - lab] == '-')
				return false;
			lab = 0;
			continue;
		}
		if (!is_alnum(c) && c != '-')
			return false;
		if (c < '0' || c > '9')
			alldigit = false;
		lab++;
	}
	return !alldigit;
}

size_t
dnsname_reverse(const struct net_addr *a, const char *zone, char *buf,
    size_t cap)
{
	static const char	hex[] = "0123456789abcdef";
	static const uint8_t	mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
				    0xff, 0xff };
	const uint8_t		*v4 = NULL;
	size_t			 n = 0;
	int			 w;

	if (cap > 0)
		buf[0] = '\0';
	if (a->family == AF_INET)
		v4 = a->addr;
	else if (a->family == AF_INET6 && memcmp(a->addr, mapped, 12) == 0)
		v4 = a->addr + 12;
	else if (a->family != AF_INET6)
		return 0;
	if (v4 != NULL) {
		w = snprintf(buf, cap, "%u.%u.%u.%u.%s", v4[3], v4[2], v4[1],
		    v4[0], zone != NULL ? zone : "in-addr.arpa");
		if (w < 0 || (size_t)w >= cap) {
			if (cap > 0)
				buf[0] = '\0';
			return 0;
		}
		return (size_t)w;
	}
	if (cap < 64 + 1)
		return 0;
	for (int i = 15; i >= 0; i--) {
		buf[n++] = hex[a->addr[i] & 0x0f];
		buf[n++] = '.';
		buf[n++] = hex[a->addr[i] >> 4];
		buf[n++] = '.';
	}
	w = snprintf(buf + n, cap - n, "%s", zone != NULL ? zone : "ip6.arpa");
	if (w < 0 || (size_t)w >= cap - n) {
		buf[0] = '\0';
		return 0;
	}
	return n + (size_t)w;
}

int
dnsname_dnsbl_code(const unsigned char addr[4], char *const *codes,
    size_t ncodes)
{
	struct net_addr	c;

	if (addr[0] != 127)
		return -1;
	if (ncodes == 0)
		return 1;
	for (size_t i = 0; i < ncodes; i++) {
		if (net_addr_parse(codes[i], strlen(codes[i]), &c) != 0 ||
		    c.family != AF_INET)
			continue;
		if (memcmp(c.addr, addr, 4) == 0)
			return 1;
	}
	return 0;
}
