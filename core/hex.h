/*
 * core/hex.h - the value of one hexadecimal digit, either case: shared
 * by IPv6 text (core/net.c), RFC 2047 Q (core/ew.c) and quoted-
 * printable (core/mime_codec.c). xtext (core/xtext.c) takes upper case
 * only and keeps its own. Pure.
 */
#ifndef MXS_HEX_H
#define MXS_HEX_H

/* 0..15 for a hexadecimal digit, -1 for anything else. */
static inline int
hex_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

#endif
