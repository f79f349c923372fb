/*
 * core/b64.h - the value of one base64 digit (RFC 4648 4), shared by
 * the SASL reader (core/sasl.c) and the RFC 2047 decoder (core/ew.c),
 * which differ in how strict they are about padding. Pure.
 */
#ifndef MXS_B64_H
#define MXS_B64_H

/* 0..63 for a base64 digit, -1 for anything else ('=' included). */
static inline int
b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

#endif
