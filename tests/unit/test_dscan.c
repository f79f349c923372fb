/*
 * tests/unit/test_dscan.c - the DATA stream scanner (core/dscan.c):
 * every SMTP smuggling end-of-data variant in both modes, dot-stuffing
 * pass-through, NUL, empty messages, header end detection, and random
 * inputs against a line-by-line reference. Every case is fed whole, one
 * byte at a time, cut at every offset and in random splits, and each
 * output is checked against the invariants (no bare CR or LF, no
 * CRLF.CRLF before the end). Expected values are typed by hand.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/dscan.h"

#define B(s)	s, sizeof(s) - 1
#define UNK	DSCAN_HDR_UNKNOWN
#define EB	DSCAN_E_BARE
#define EN	DSCAN_E_NUL
/* A pipelined command after a smuggled end, and a real end after it. */
#define M	"MAIL FROM:<x@y>\r\n"
#define Q	".\r\nQUIT\r\n"

struct expect {
	const char	*out;
	size_t		 outlen;
	size_t		 consumed;
	int		 done;
	unsigned	 err;
	uint64_t	 lines;
	uint64_t	 hdr_end;
};

struct dcase {
	const char	*name;
	const char	*in;
	size_t		 inlen;
	struct expect	 norm;		/* DSCAN_NORMALIZE */
	struct expect	 rej;		/* DSCAN_REJECT */
};

/*
 * End-of-data variants after a line "x" (and at the very start), alone,
 * followed by a pipelined MAIL FROM, and followed by MAIL FROM and a
 * real end of data. Only CRLF "." CRLF ends the data.
 */
static const struct dcase smuggle[] = {
	/* LF.LF */
	{ "x LF.LF", B("x\n.\n"),
	  { B("x\r\n..\r\n"), 4, 0, 0, 2, 0 },
	  { B("x"), 4, 0, EB, 2, UNK } },
	{ "x LF.LF M", B("x\n.\n" M),
	  { B("x\r\n..\r\n" M), 21, 0, 0, 3, 0 },
	  { B("x"), 21, 0, EB, 3, UNK } },
	{ "x LF.LF M Q", B("x\n.\n" M Q),
	  { B("x\r\n..\r\n" M), 24, 1, 0, 3, 0 },
	  { B("x"), 24, 1, EB, 3, 1 } },
	/* CR.CR */
	{ "x CR.CR", B("x\r.\r"),
	  { B("x\r\n.."), 4, 0, 0, 1, 0 },
	  { B("x"), 4, 0, EB, 1, UNK } },
	{ "x CR.CR M", B("x\r.\r" M),
	  { B("x\r\n..\r\n" M), 21, 0, 0, 3, 0 },
	  { B("x"), 21, 0, EB, 3, UNK } },
	{ "x CR.CR M Q", B("x\r.\r" M Q),
	  { B("x\r\n..\r\n" M), 24, 1, 0, 3, 0 },
	  { B("x"), 24, 1, EB, 3, 1 } },
	/* LF.CRLF */
	{ "x LF.CRLF", B("x\n.\r\n"),
	  { B("x\r\n..\r\n"), 5, 0, 0, 2, 0 },
	  { B("x"), 5, 0, EB, 2, UNK } },
	{ "x LF.CRLF M", B("x\n.\r\n" M),
	  { B("x\r\n..\r\n" M), 22, 0, 0, 3, 0 },
	  { B("x"), 22, 0, EB, 3, UNK } },
	{ "x LF.CRLF M Q", B("x\n.\r\n" M Q),
	  { B("x\r\n..\r\n" M), 25, 1, 0, 3, 0 },
	  { B("x"), 25, 1, EB, 3, 1 } },
	/* CRLF.LF */
	{ "x CRLF.LF", B("x\r\n.\n"),
	  { B("x\r\n..\r\n"), 5, 0, 0, 2, 0 },
	  { B("x\r\n"), 5, 0, EB, 2, 0 } },
	{ "x CRLF.LF M", B("x\r\n.\n" M),
	  { B("x\r\n..\r\n" M), 22, 0, 0, 3, 0 },
	  { B("x\r\n"), 22, 0, EB, 3, 0 } },
	{ "x CRLF.LF M Q", B("x\r\n.\n" M Q),
	  { B("x\r\n..\r\n" M), 25, 1, 0, 3, 0 },
	  { B("x\r\n"), 25, 1, EB, 3, 0 } },
	/* CR.LF */
	{ "x CR.LF", B("x\r.\n"),
	  { B("x\r\n..\r\n"), 4, 0, 0, 2, 0 },
	  { B("x"), 4, 0, EB, 2, UNK } },
	{ "x CR.LF M", B("x\r.\n" M),
	  { B("x\r\n..\r\n" M), 21, 0, 0, 3, 0 },
	  { B("x"), 21, 0, EB, 3, UNK } },
	{ "x CR.LF M Q", B("x\r.\n" M Q),
	  { B("x\r\n..\r\n" M), 24, 1, 0, 3, 0 },
	  { B("x"), 24, 1, EB, 3, 1 } },
	/* CRLF.CR: undecided until the octet after the CR */
	{ "x CRLF.CR", B("x\r\n.\r"),
	  { B("x\r\n"), 5, 0, 0, 1, 0 },
	  { B("x\r\n"), 5, 0, 0, 1, 0 } },
	{ "x CRLF.CR M", B("x\r\n.\r" M),
	  { B("x\r\n..\r\n" M), 22, 0, 0, 3, 0 },
	  { B("x\r\n"), 22, 0, EB, 3, 0 } },
	{ "x CRLF.CR M Q", B("x\r\n.\r" M Q),
	  { B("x\r\n..\r\n" M), 25, 1, 0, 3, 0 },
	  { B("x\r\n"), 25, 1, EB, 3, 0 } },
	/* CR.CRLF */
	{ "x CR.CRLF", B("x\r.\r\n"),
	  { B("x\r\n..\r\n"), 5, 0, 0, 2, 0 },
	  { B("x"), 5, 0, EB, 2, UNK } },
	{ "x CR.CRLF M", B("x\r.\r\n" M),
	  { B("x\r\n..\r\n" M), 22, 0, 0, 3, 0 },
	  { B("x"), 22, 0, EB, 3, UNK } },
	{ "x CR.CRLF M Q", B("x\r.\r\n" M Q),
	  { B("x\r\n..\r\n" M), 25, 1, 0, 3, 0 },
	  { B("x"), 25, 1, EB, 3, 1 } },
	/* LF.CR */
	{ "x LF.CR", B("x\n.\r"),
	  { B("x\r\n.."), 4, 0, 0, 1, 0 },
	  { B("x"), 4, 0, EB, 1, UNK } },
	{ "x LF.CR M", B("x\n.\r" M),
	  { B("x\r\n..\r\n" M), 21, 0, 0, 3, 0 },
	  { B("x"), 21, 0, EB, 3, UNK } },
	{ "x LF.CR M Q", B("x\n.\r" M Q),
	  { B("x\r\n..\r\n" M), 24, 1, 0, 3, 0 },
	  { B("x"), 24, 1, EB, 3, 1 } },
	/* CRLF . CR CRLF: the dot line ends in a bare CR */
	{ "x CRLF.CR CRLF", B("x\r\n.\r\r\n"),
	  { B("x\r\n..\r\n\r\n"), 7, 0, 0, 3, 0 },
	  { B("x\r\n"), 7, 0, EB, 3, 0 } },
	{ "x CRLF.CR CRLF M", B("x\r\n.\r\r\n" M),
	  { B("x\r\n..\r\n\r\n" M), 24, 0, 0, 4, 0 },
	  { B("x\r\n"), 24, 0, EB, 4, 0 } },
	{ "x CRLF.CR CRLF M Q", B("x\r\n.\r\r\n" M Q),
	  { B("x\r\n..\r\n\r\n" M), 27, 1, 0, 4, 0 },
	  { B("x\r\n"), 27, 1, EB, 4, 0 } },
	/* CRLF . LF CRLF */
	{ "x CRLF.LF CRLF", B("x\r\n.\n\r\n"),
	  { B("x\r\n..\r\n\r\n"), 7, 0, 0, 3, 0 },
	  { B("x\r\n"), 7, 0, EB, 3, 0 } },
	{ "x CRLF.LF CRLF M", B("x\r\n.\n\r\n" M),
	  { B("x\r\n..\r\n\r\n" M), 24, 0, 0, 4, 0 },
	  { B("x\r\n"), 24, 0, EB, 4, 0 } },
	{ "x CRLF.LF CRLF M Q", B("x\r\n.\n\r\n" M Q),
	  { B("x\r\n..\r\n\r\n" M), 27, 1, 0, 4, 0 },
	  { B("x\r\n"), 27, 1, EB, 4, 0 } },
	/* CRLF .. LF: a stuffed dot line with a bare LF */
	{ "x CRLF..LF", B("x\r\n..\n"),
	  { B("x\r\n..\r\n"), 6, 0, 0, 2, 0 },
	  { B("x\r\n.."), 6, 0, EB, 2, 0 } },
	{ "x CRLF..LF M", B("x\r\n..\n" M),
	  { B("x\r\n..\r\n" M), 23, 0, 0, 3, 0 },
	  { B("x\r\n.."), 23, 0, EB, 3, 0 } },
	{ "x CRLF..LF M Q", B("x\r\n..\n" M Q),
	  { B("x\r\n..\r\n" M), 26, 1, 0, 3, 0 },
	  { B("x\r\n.."), 26, 1, EB, 3, 0 } },
	/* LF CRLF . CRLF: a real end after a bare LF */
	{ "x LF CRLF.CRLF", B("x\n\r\n.\r\n"),
	  { B("x\r\n\r\n"), 7, 1, 0, 2, 0 },
	  { B("x"), 7, 1, EB, 2, 1 } },
	{ "x LF CRLF.CRLF M", B("x\n\r\n.\r\n" M),
	  { B("x\r\n\r\n"), 7, 1, 0, 2, 0 },
	  { B("x"), 7, 1, EB, 2, 1 } },
	{ "x LF CRLF.CRLF M Q", B("x\n\r\n.\r\n" M Q),
	  { B("x\r\n\r\n"), 7, 1, 0, 2, 0 },
	  { B("x"), 7, 1, EB, 2, 1 } },
	/* CR CRLF . CRLF: a real end after a bare CR */
	{ "x CR CRLF.CRLF", B("x\r\r\n.\r\n"),
	  { B("x\r\n\r\n"), 7, 1, 0, 2, 0 },
	  { B("x"), 7, 1, EB, 2, 1 } },
	{ "x CR CRLF.CRLF M", B("x\r\r\n.\r\n" M),
	  { B("x\r\n\r\n"), 7, 1, 0, 2, 0 },
	  { B("x"), 7, 1, EB, 2, 1 } },
	{ "x CR CRLF.CRLF M Q", B("x\r\r\n.\r\n" M Q),
	  { B("x\r\n\r\n"), 7, 1, 0, 2, 0 },
	  { B("x"), 7, 1, EB, 2, 1 } },
	/* CRLF.CRLF: the real end; what follows is not consumed */
	{ "x CRLF.CRLF", B("x\r\n.\r\n"),
	  { B("x\r\n"), 6, 1, 0, 1, 0 },
	  { B("x\r\n"), 6, 1, 0, 1, 0 } },
	{ "x CRLF.CRLF M", B("x\r\n.\r\n" M),
	  { B("x\r\n"), 6, 1, 0, 1, 0 },
	  { B("x\r\n"), 6, 1, 0, 1, 0 } },
	{ "x CRLF.CRLF M Q", B("x\r\n.\r\n" M Q),
	  { B("x\r\n"), 6, 1, 0, 1, 0 },
	  { B("x\r\n"), 6, 1, 0, 1, 0 } },

	/* At the very start: the DATA command's CRLF precedes. */
	{ ".LF", B(".\n"),
	  { B("..\r\n"), 2, 0, 0, 1, 0 },
	  { B(""), 2, 0, EB, 1, UNK } },
	{ ".LF M", B(".\n" M),
	  { B("..\r\n" M), 19, 0, 0, 2, 0 },
	  { B(""), 19, 0, EB, 2, UNK } },
	{ ".LF M Q", B(".\n" M Q),
	  { B("..\r\n" M), 22, 1, 0, 2, 0 },
	  { B(""), 22, 1, EB, 2, 0 } },
	{ ".CR", B(".\r"),
	  { B(""), 2, 0, 0, 0, UNK },
	  { B(""), 2, 0, 0, 0, UNK } },
	{ ".CR M", B(".\r" M),
	  { B("..\r\n" M), 19, 0, 0, 2, 0 },
	  { B(""), 19, 0, EB, 2, UNK } },
	{ ".CR M Q", B(".\r" M Q),
	  { B("..\r\n" M), 22, 1, 0, 2, 0 },
	  { B(""), 22, 1, EB, 2, 0 } },
	{ ".CRLF", B(".\r\n"),
	  { B(""), 3, 1, 0, 0, 0 },
	  { B(""), 3, 1, 0, 0, 0 } },
	{ ".CRLF M", B(".\r\n" M),
	  { B(""), 3, 1, 0, 0, 0 },
	  { B(""), 3, 1, 0, 0, 0 } },
	{ ".CRLF M Q", B(".\r\n" M Q),
	  { B(""), 3, 1, 0, 0, 0 },
	  { B(""), 3, 1, 0, 0, 0 } },
	{ "LF.LF", B("\n.\n"),
	  { B("\r\n..\r\n"), 3, 0, 0, 2, 0 },
	  { B(""), 3, 0, EB, 2, UNK } },
	{ "LF.LF M", B("\n.\n" M),
	  { B("\r\n..\r\n" M), 20, 0, 0, 3, 0 },
	  { B(""), 20, 0, EB, 3, UNK } },
	{ "LF.LF M Q", B("\n.\n" M Q),
	  { B("\r\n..\r\n" M), 23, 1, 0, 3, 0 },
	  { B(""), 23, 1, EB, 3, 0 } },
	{ "CRLF.LF", B("\r\n.\n"),
	  { B("\r\n..\r\n"), 4, 0, 0, 2, 0 },
	  { B("\r\n"), 4, 0, EB, 2, 0 } },
	{ "CRLF.LF M", B("\r\n.\n" M),
	  { B("\r\n..\r\n" M), 21, 0, 0, 3, 0 },
	  { B("\r\n"), 21, 0, EB, 3, 0 } },
	{ "CRLF.LF M Q", B("\r\n.\n" M Q),
	  { B("\r\n..\r\n" M), 24, 1, 0, 3, 0 },
	  { B("\r\n"), 24, 1, EB, 3, 0 } },
	{ ".CR CRLF", B(".\r\r\n"),
	  { B("..\r\n\r\n"), 4, 0, 0, 2, 0 },
	  { B(""), 4, 0, EB, 2, UNK } },
	{ ".CR CRLF M", B(".\r\r\n" M),
	  { B("..\r\n\r\n" M), 21, 0, 0, 3, 0 },
	  { B(""), 21, 0, EB, 3, UNK } },
	{ ".CR CRLF M Q", B(".\r\r\n" M Q),
	  { B("..\r\n\r\n" M), 24, 1, 0, 3, 0 },
	  { B(""), 24, 1, EB, 3, 0 } },
	{ "CR.CRLF", B("\r.\r\n"),
	  { B("\r\n..\r\n"), 4, 0, 0, 2, 0 },
	  { B(""), 4, 0, EB, 2, UNK } },
	{ "CR.CRLF M", B("\r.\r\n" M),
	  { B("\r\n..\r\n" M), 21, 0, 0, 3, 0 },
	  { B(""), 21, 0, EB, 3, UNK } },
	{ "CR.CRLF M Q", B("\r.\r\n" M Q),
	  { B("\r\n..\r\n" M), 24, 1, 0, 3, 0 },
	  { B(""), 24, 1, EB, 3, 0 } },
};

/* Dot-stuffing, NUL, empty messages, line-ending rewrites. */
static const struct dcase misc[] = {
	{ "nothing", B(""),
	  { B(""), 0, 0, 0, 0, UNK },
	  { B(""), 0, 0, 0, 0, UNK } },
	{ "empty message", B(".\r\n"),
	  { B(""), 3, 1, 0, 0, 0 },
	  { B(""), 3, 1, 0, 0, 0 } },
	{ "one empty line", B("\r\n.\r\n"),
	  { B("\r\n"), 5, 1, 0, 1, 0 },
	  { B("\r\n"), 5, 1, 0, 1, 0 } },
	{ "unfinished line", B("abc"),
	  { B("abc"), 3, 0, 0, 0, UNK },
	  { B("abc"), 3, 0, 0, 0, UNK } },
	{ "held CR", B("abc\r"),
	  { B("abc"), 4, 0, 0, 0, UNK },
	  { B("abc"), 4, 0, 0, 0, UNK } },
	{ "held dot", B("a\r\n."),
	  { B("a\r\n"), 4, 0, 0, 1, 0 },
	  { B("a\r\n"), 4, 0, 0, 1, 0 } },
	{ "stuffed dot line", B("..\r\n.\r\n"),
	  { B("..\r\n"), 7, 1, 0, 1, 0 },
	  { B("..\r\n"), 7, 1, 0, 1, 0 } },
	{ "stuffing as sent",
	  B("a\r\n..b\r\n...\r\n. \r\n.c\r\n.\r\n"),
	  { B("a\r\n..b\r\n...\r\n. \r\n.c\r\n"), 24, 1, 0, 5, 0 },
	  { B("a\r\n..b\r\n...\r\n. \r\n.c\r\n"), 24, 1, 0, 5, 0 } },
	{ "CR CRLF", B("a\r\r\nb\r\n.\r\n"),
	  { B("a\r\n\r\nb\r\n"), 10, 1, 0, 3, 0 },
	  { B("a"), 10, 1, EB, 3, 1 } },
	{ "LF CR", B("a\n\rb\r\n.\r\n"),
	  { B("a\r\n\r\nb\r\n"), 9, 1, 0, 3, 0 },
	  { B("a"), 9, 1, EB, 3, 1 } },
	{ "bare LF lines", B("a\nb\nc\r\n.\r\n"),
	  { B("a\r\nb\r\nc\r\n"), 10, 1, 0, 3, 0 },
	  { B("a"), 10, 1, EB, 3, 1 } },
	{ "dots after bare LF", B("a\n..\n.\r\n"),
	  { B("a\r\n...\r\n..\r\n"), 8, 0, 0, 3, 0 },
	  { B("a"), 8, 0, EB, 3, UNK } },
	{ "dot text after bare LF", B("a\n.b\r\n.\r\n"),
	  { B("a\r\n..b\r\n"), 9, 1, 0, 2, 0 },
	  { B("a"), 9, 1, EB, 2, 1 } },
	{ "NUL", B("a\0b\r\n.\r\n"),
	  { B("a"), 8, 1, EN, 1, 1 },
	  { B("a"), 8, 1, EN, 1, 1 } },
	{ "NUL alone", B("\0"),
	  { B(""), 1, 0, EN, 0, UNK },
	  { B(""), 1, 0, EN, 0, UNK } },
	{ "NUL then dot mid-line", B("a\r\n\0.\r\n.\r\n"),
	  { B("a\r\n"), 10, 1, EN, 2, 0 },
	  { B("a\r\n"), 10, 1, EN, 2, 0 } },
	{ "dot NUL", B(".\0\r\n.\r\n"),
	  { B("."), 7, 1, EN, 1, 1 },
	  { B("."), 7, 1, EN, 1, 1 } },
	{ "bare CR NUL", B("a\r\0\r\n.\r\n"),
	  { B("a\r\n"), 8, 1, EN, 2, 0 },
	  { B("a"), 8, 1, EB | EN, 2, 1 } },
	{ "CRLF CRLF . CRLF", B("a\r\n\r\n.\r\nb"),
	  { B("a\r\n\r\n"), 8, 1, 0, 2, 0 },
	  { B("a\r\n\r\n"), 8, 1, 0, 2, 0 } },
	{ "dot space is no end", B("a\r\n. \r\n.\r\n"),
	  { B("a\r\n. \r\n"), 10, 1, 0, 2, 0 },
	  { B("a\r\n. \r\n"), 10, 1, 0, 2, 0 } },
	{ "CR CR LF LF", B("\r\r\n\n.\r\n"),
	  { B("\r\n\r\n\r\n..\r\n"), 7, 0, 0, 4, 0 },
	  { B(""), 7, 0, EB, 4, UNK } },
};

/* Where the header section ends (an output offset). */
static const struct dcase hdrs[] = {
	{ "empty line", B("A: b\r\n\r\nbody\r\n.\r\n"),
	  { B("A: b\r\n\r\nbody\r\n"), 17, 1, 0, 3, 6 },
	  { B("A: b\r\n\r\nbody\r\n"), 17, 1, 0, 3, 6 } },
	{ "non-field line", B("A: b\r\n c\r\nBody\r\n.\r\n"),
	  { B("A: b\r\n c\r\nBody\r\n"), 19, 1, 0, 3, 10 },
	  { B("A: b\r\n c\r\nBody\r\n"), 19, 1, 0, 3, 10 } },
	{ "continuation first", B(" x: y\r\n.\r\n"),
	  { B(" x: y\r\n"), 10, 1, 0, 1, 0 },
	  { B(" x: y\r\n"), 10, 1, 0, 1, 0 } },
	{ "WSP before colon", B("From : x\r\nTo\t: y\r\n\r\n.\r\n"),
	  { B("From : x\r\nTo\t: y\r\n\r\n"), 23, 1, 0, 3, 18 },
	  { B("From : x\r\nTo\t: y\r\n\r\n"), 23, 1, 0, 3, 18 } },
	{ "space in name", B("Fr om: x\r\n.\r\n"),
	  { B("Fr om: x\r\n"), 13, 1, 0, 1, 0 },
	  { B("Fr om: x\r\n"), 13, 1, 0, 1, 0 } },
	{ "empty name", B(":x\r\n.\r\n"),
	  { B(":x\r\n"), 7, 1, 0, 1, 0 },
	  { B(":x\r\n"), 7, 1, 0, 1, 0 } },
	{ "no body", B("A: b\r\n.\r\n"),
	  { B("A: b\r\n"), 9, 1, 0, 1, 6 },
	  { B("A: b\r\n"), 9, 1, 0, 1, 6 } },
	{ "stuffed dot name", B("..A: b\r\n\r\n.\r\n"),
	  { B("..A: b\r\n\r\n"), 13, 1, 0, 2, 8 },
	  { B("..A: b\r\n\r\n"), 13, 1, 0, 2, 8 } },
	{ "unstuffed dot name", B(".A: b\r\n\r\n.\r\n"),
	  { B(".A: b\r\n\r\n"), 12, 1, 0, 2, 7 },
	  { B(".A: b\r\n\r\n"), 12, 1, 0, 2, 7 } },
	{ "dot then space", B(". A: b\r\nC: d\r\n.\r\n"),
	  { B(". A: b\r\nC: d\r\n"), 17, 1, 0, 2, 0 },
	  { B(". A: b\r\nC: d\r\n"), 17, 1, 0, 2, 0 } },
	{ "8-bit name", B("\xc3\xa9: x\r\n\r\n.\r\n"),
	  { B("\xc3\xa9: x\r\n\r\n"), 12, 1, 0, 2, 0 },
	  { B("\xc3\xa9: x\r\n\r\n"), 12, 1, 0, 2, 0 } },
	{ "blank continuation", B("A: b\r\n \r\n\tc\r\n\r\n.\r\n"),
	  { B("A: b\r\n \r\n\tc\r\n\r\n"), 18, 1, 0, 4, 13 },
	  { B("A: b\r\n \r\n\tc\r\n\r\n"), 18, 1, 0, 4, 13 } },
	{ "empty values", B("A:\r\nB:c\r\nx\r\n.\r\n"),
	  { B("A:\r\nB:c\r\nx\r\n"), 15, 1, 0, 3, 9 },
	  { B("A:\r\nB:c\r\nx\r\n"), 15, 1, 0, 3, 9 } },
	{ "bare LF in header", B("A: b\nC: d\r\n\r\nx\r\n.\r\n"),
	  { B("A: b\r\nC: d\r\n\r\nx\r\n"), 19, 1, 0, 4, 12 },
	  { B("A: b"), 19, 1, EB, 4, 4 } },
	{ "dot line after bare LF",
	  B("A: b\n.B: c\r\n\r\n.\r\n"),
	  { B("A: b\r\n..B: c\r\n\r\n"), 17, 1, 0, 3, 14 },
	  { B("A: b"), 17, 1, EB, 3, 4 } },
	{ "bare CR in header", B("A: b\rC: d\r\n\r\n.\r\n"),
	  { B("A: b\r\nC: d\r\n\r\n"), 16, 1, 0, 3, 12 },
	  { B("A: b"), 16, 1, EB, 3, 4 } },
	{ "name cut by bare CR", B("ABC\rD: x\r\n\r\n.\r\n"),
	  { B("ABC\r\nD: x\r\n\r\n"), 15, 1, 0, 3, 0 },
	  { B("ABC"), 15, 1, EB, 3, 3 } },
	{ "stuffed continuation", B("A: b\r\n. c\r\nD: e\r\n\r\n.\r\n"),
	  { B("A: b\r\n. c\r\nD: e\r\n\r\n"), 22, 1, 0, 4, 17 },
	  { B("A: b\r\n. c\r\nD: e\r\n\r\n"), 22, 1, 0, 4, 17 } },
	{ "unfinished header", B("Subject: a\r\nFro"),
	  { B("Subject: a\r\nFro"), 15, 0, 0, 1, UNK },
	  { B("Subject: a\r\nFro"), 15, 0, 0, 1, UNK } },
};

/* Collects output; checks every emit is a real run of bytes. */
struct sink {
	char	buf[8192];
	size_t	n;
	size_t	calls;
};

static void
sink_emit(void *ctx, const char *p, size_t n)
{
	struct sink *s = ctx;

	assert_true(n > 0);
	assert_true(n <= sizeof(s->buf) - s->n);
	memcpy(s->buf + s->n, p, n);
	s->n += n;
	s->calls++;
}

struct result {
	struct dscan	d;
	struct sink	out;
	size_t		consumed;
	int		done;
};

/* Splits: whole input, one byte per call, a cut at offset k, random. */
enum split { SPLIT_WHOLE, SPLIT_BYTE, SPLIT_AT, SPLIT_RANDOM };

static uint64_t
rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static size_t
next_chunk(enum split how, uint64_t *arg, size_t pos, size_t left)
{
	switch (how) {
	case SPLIT_BYTE:
		return left < 1 ? left : 1;
	case SPLIT_AT:
		if (pos < *arg)
			return *arg - pos < left ? *arg - pos : left;
		return left;
	case SPLIT_RANDOM: {
		uint64_t r = rnd(arg);
		size_t n = (r & 7) == 0 ? 0 : (size_t)(r >> 8) % 7 + 1;

		if ((r & 0xf0) == 0)
			n = left;
		return n < left ? n : left;
	}
	default:
		return left;
	}
}

/*
 * Feed in[0..len) in the chunks `how` gives; after the end of data,
 * check that further calls consume nothing.
 */
static void
run(enum dscan_mode mode, const char *in, size_t len, enum split how,
    uint64_t arg, struct result *r)
{
	size_t	pos = 0, chunk, got;
	int	done = 0, again;

	memset(r, 0, sizeof(*r));
	dscan_init(&r->d, mode);
	do {
		chunk = next_chunk(how, &arg, pos, len - pos);
		got = dscan_feed(&r->d, in + pos, chunk, sink_emit, &r->out,
		    &done);
		assert_true(got <= chunk);
		r->consumed += got;
		if (done)
			break;
		assert_int_equal(got, chunk);
		pos += chunk;
	} while (pos < len);
	r->done = done;
	if (done) {
		got = dscan_feed(&r->d, in + r->consumed,
		    len - r->consumed, sink_emit, &r->out, &again);
		assert_int_equal(got, 0);
		assert_int_equal(again, 1);
	}
	assert_int_equal(r->d.in_bytes, r->consumed);
	assert_int_equal(r->d.out_bytes, r->out.n);
}

static void
print_esc(const char *what, const char *p, size_t n)
{
	print_error("  %s (%zu): \"", what, n);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == '\r')
			print_error("\\r");
		else if (c == '\n')
			print_error("\\n");
		else if (c < 32 || c > 126)
			print_error("\\x%02x", c);
		else
			print_error("%c", c);
	}
	print_error("\"\n");
}

static void
check_bytes(const char *name, const char *got, size_t gotlen,
    const char *exp, size_t explen)
{
	if (gotlen == explen && memcmp(got, exp, gotlen) == 0)
		return;
	print_error("%s: output differs\n", name);
	print_esc("expected", exp, explen);
	print_esc("got", got, gotlen);
	fail();
}

/*
 * The output must be safe whatever the input: no NUL, no bare CR or LF,
 * and "\r\n" + out + ".\r\n" (what the backend reads after our DATA)
 * must hold CRLF.CRLF only at its very end. A finished clean message
 * ends in CRLF or is empty.
 */
static int
output_safe(const char *o, size_t n, int done, unsigned err)
{
	for (size_t i = 0; i < n; i++) {
		if (o[i] == '\0')
			return 0;
		if (o[i] == '\r' && (i + 1 == n || o[i + 1] != '\n'))
			return 0;
		if (o[i] == '\n' && (i == 0 || o[i - 1] != '\r'))
			return 0;
		if (i + 5 <= n && memcmp(o + i, "\r\n.\r\n", 5) == 0)
			return 0;
	}
	if (n >= 3 && memcmp(o, ".\r\n", 3) == 0)
		return 0;
	if (done && err == 0 && n > 0 &&
	    (n < 2 || o[n - 2] != '\r' || o[n - 1] != '\n'))
		return 0;
	return 1;
}

static void
check_result(const char *name, const char *mode, const char *how,
    const struct result *r, const struct expect *e)
{
	char	label[160];

	snprintf(label, sizeof(label), "%s [%s, %s]", name, mode, how);
	check_bytes(label, r->out.buf, r->out.n, e->out, e->outlen);
	if (r->consumed != e->consumed || r->done != e->done ||
	    r->d.err != e->err || r->d.lines != e->lines ||
	    r->d.hdr_end != e->hdr_end) {
		print_error("%s: consumed %zu done %d err %u lines %llu "
		    "hdr_end %lld; expected %zu %d %u %llu %lld\n", label,
		    r->consumed, r->done, r->d.err,
		    (unsigned long long)r->d.lines, (long long)r->d.hdr_end,
		    e->consumed, e->done, e->err,
		    (unsigned long long)e->lines, (long long)e->hdr_end);
		fail();
	}
	if (!output_safe(r->out.buf, r->out.n, r->done, r->d.err)) {
		print_error("%s: unsafe output\n", label);
		print_esc("got", r->out.buf, r->out.n);
		fail();
	}
}

static void
check_case(const struct dcase *c)
{
	static const char *const mname[] = { "reject", "normalize" };
	static const enum dscan_mode modes[] = {
		DSCAN_REJECT, DSCAN_NORMALIZE
	};
	struct result	r;
	char		how[32];

	for (size_t m = 0; m < 2; m++) {
		const struct expect *e = modes[m] == DSCAN_NORMALIZE ?
		    &c->norm : &c->rej;

		run(modes[m], c->in, c->inlen, SPLIT_WHOLE, 0, &r);
		check_result(c->name, mname[m], "whole", &r, e);
		run(modes[m], c->in, c->inlen, SPLIT_BYTE, 0, &r);
		check_result(c->name, mname[m], "bytewise", &r, e);
		for (size_t k = 0; k <= c->inlen; k++) {
			snprintf(how, sizeof(how), "cut at %zu", k);
			run(modes[m], c->in, c->inlen, SPLIT_AT, k, &r);
			check_result(c->name, mname[m], how, &r, e);
		}
		for (uint64_t seed = 1; seed <= 50; seed++) {
			snprintf(how, sizeof(how), "random %llu",
			    (unsigned long long)seed);
			run(modes[m], c->in, c->inlen, SPLIT_RANDOM,
			    seed * 0x9e3779b97f4a7c15ull, &r);
			check_result(c->name, mname[m], how, &r, e);
		}
	}
}

static void
test_smuggling(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(smuggle) / sizeof(smuggle[0]); i++)
		check_case(&smuggle[i]);
}

static void
test_misc(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(misc) / sizeof(misc[0]); i++)
		check_case(&misc[i]);
}

static void
test_header_end(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(hdrs) / sizeof(hdrs[0]); i++)
		check_case(&hdrs[i]);
}

/* Clean input goes out as one span per call, not line by line. */
static void
test_single_span(void **state)
{
	static const char in[] =
	    "Subject: a\r\nFrom: b\r\n\r\nline 1\r\n..dot\r\nline 3\r\n"
	    "last line without end";
	static const char end[] = "\r\n.\r\nQUIT\r\n";
	struct result	r;
	int		done;
	size_t		got;

	(void)state;
	memset(&r, 0, sizeof(r));
	dscan_init(&r.d, DSCAN_NORMALIZE);
	got = dscan_feed(&r.d, in, sizeof(in) - 1, sink_emit, &r.out, &done);
	assert_int_equal(got, sizeof(in) - 1);
	assert_int_equal(done, 0);
	assert_int_equal(r.out.calls, 1);
	check_bytes("single span", r.out.buf, r.out.n, in, sizeof(in) - 1);
	assert_int_equal(r.d.hdr_end, 21);

	got = dscan_feed(&r.d, end, sizeof(end) - 1, sink_emit, &r.out,
	    &done);
	assert_int_equal(got, 5);
	assert_int_equal(done, 1);
	assert_int_equal(r.out.calls, 2);
	assert_int_equal(r.out.n, sizeof(in) - 1 + 2);
}

/*
 * An empty feed, as from a side with no buffer (NULL, 0): nothing
 * emitted, nothing changed, whatever is held stays held; no NULL + 0
 * (clang's UBSan aborts on it).
 */
static void
test_empty_feed(void **state)
{
	struct result	r;
	int		done;

	(void)state;
	memset(&r, 0, sizeof(r));
	dscan_init(&r.d, DSCAN_NORMALIZE);
	assert_int_equal(dscan_feed(&r.d, NULL, 0, sink_emit, &r.out, &done),
	    0);
	assert_int_equal(done, 0);
	assert_int_equal(r.out.calls, 0);
	/* "x\r" holds the CR; an empty feed keeps it held */
	assert_int_equal(dscan_feed(&r.d, "x\r", 2, sink_emit, &r.out,
	    &done), 2);
	assert_int_equal(dscan_feed(&r.d, NULL, 0, sink_emit, &r.out, &done),
	    0);
	assert_int_equal(done, 0);
	check_bytes("empty feed", r.out.buf, r.out.n, "x", 1);
	assert_int_equal(dscan_feed(&r.d, "\n.\r\n", 4, sink_emit, &r.out,
	    &done), 4);
	assert_int_equal(done, 1);
	check_bytes("empty feed end", r.out.buf, r.out.n, "x\r\n", 3);
	assert_int_equal(r.d.in_bytes, 6);
}

/* bare counts every bare CR and LF, in both modes. */
static void
test_bare_count(void **state)
{
	static const char in[] = "a\nb\rc\r\r\n.\n.\r\r\n.\r\n";
	struct result	r;

	(void)state;
	run(DSCAN_NORMALIZE, in, sizeof(in) - 1, SPLIT_WHOLE, 0, &r);
	assert_int_equal(r.d.bare, 5);
	assert_int_equal(r.d.lines, 7);
	assert_int_equal(r.done, 1);
	check_bytes("bare count", r.out.buf, r.out.n,
	    B("a\r\nb\r\nc\r\n\r\n..\r\n..\r\n\r\n"));
	run(DSCAN_REJECT, in, sizeof(in) - 1, SPLIT_BYTE, 0, &r);
	assert_int_equal(r.d.bare, 5);
	assert_int_equal(r.d.err, DSCAN_E_BARE);
	assert_int_equal(r.done, 1);
	check_bytes("bare count reject", r.out.buf, r.out.n, B("a"));
}

/*
 * A line-by-line reference, not streaming: where the data ends, and
 * what normalize mode must send. Lines that start after a real CRLF go
 * out as sent (a lone "." there ended by a bare CR or LF becomes ".."),
 * lines that start after a bare ending get one more dot if they begin
 * with one; every ending becomes CRLF.
 */
struct ref {
	char		out[1024];
	size_t		n;
	size_t		end;		/* content is in[0..end) */
	size_t		consumed;
	int		done;
	int		nul;
	uint64_t	lines;
	uint64_t	bare;
	uint64_t	hdr_end;
};

static void
ref_put(struct ref *r, const char *p, size_t n)
{
	assert_true(n <= sizeof(r->out) - r->n);
	memcpy(r->out + r->n, p, n);
	r->n += n;
}

static int
ref_is_field(const char *l, size_t n)
{
	size_t i = 0;

	while (i < n && l[i] >= 33 && l[i] <= 126 && l[i] != ':')
		i++;
	if (i == 0)
		return 0;
	while (i < n && (l[i] == ' ' || l[i] == '\t'))
		i++;
	return i < n && l[i] == ':';
}

/* Header end over the reference output, read as the backend reads it. */
static uint64_t
ref_hdr_end(const char *o, size_t n)
{
	size_t	pos = 0, e, s;
	int	first = 1;

	while (pos < n) {
		for (e = pos; e + 1 < n && !(o[e] == '\r' && o[e + 1] == '\n');
		    e++)
			;
		s = pos < e && o[pos] == '.' ? pos + 1 : pos;
		if (s < e && (o[s] == ' ' || o[s] == '\t')) {
			if (first)
				return pos;
		} else if (!ref_is_field(o + s, e - s))
			return pos;
		first = 0;
		pos = e + 2;
	}
	return n;
}

static void
ref_scan(const char *in, size_t len, struct ref *r)
{
	size_t	i, j, tl;
	int	real, real_start = 1;

	memset(r, 0, sizeof(*r));
	r->end = len;
	r->consumed = len;
	for (i = 0; i + 3 <= len; i++) {
		if (i != 0 && !(i >= 2 && in[i - 2] == '\r' &&
		    in[i - 1] == '\n'))
			continue;
		if (memcmp(in + i, ".\r\n", 3) == 0) {
			r->end = i;
			r->consumed = i + 3;
			r->done = 1;
			break;
		}
	}
	r->nul = memchr(in, '\0', r->end) != NULL;
	for (i = 0; i < r->end; i = j + (real ? 2 : 1)) {
		for (j = i; j < r->end && in[j] != '\r' && in[j] != '\n'; j++)
			;
		if (j == r->end)
			break;	/* only when not done: no ending yet */
		real = in[j] == '\r' && j + 1 < r->end && in[j + 1] == '\n';
		tl = j - i;
		if (real_start) {
			if (tl == 1 && in[i] == '.' && !real)
				ref_put(r, "..", 2);
			else
				ref_put(r, in + i, tl);
		} else {
			if (tl > 0 && in[i] == '.')
				ref_put(r, ".", 1);
			ref_put(r, in + i, tl);
		}
		ref_put(r, "\r\n", 2);
		r->lines++;
		if (!real)
			r->bare++;
		real_start = real;
	}
	r->hdr_end = ref_hdr_end(r->out, r->n);
}

static int
is_prefix(const char *p, size_t n, const char *of, size_t ofn)
{
	return n <= ofn && memcmp(p, of, n) == 0;
}

/*
 * Random inputs, half of them ended by a real end of data: both modes
 * agree with the reference, the output is safe, and every split gives
 * the same result. Dense: short, rich in CR, LF and dots. Sparse: long
 * runs of text, so that the block-wise search meets its edge cases.
 */
static void
test_random(void **state)
{
	static const char dense[] = "aaaa\r\r\r\n\n\n...:: \tA";
	static const char sparse[] = "\r\n\r\n\r\n.:\r\n.\n\r";
	uint64_t	seed = 0x243f6a8885a308d3ull;
	char		in[256];
	size_t		len;
	struct ref	ref;
	struct result	r, r2;

	(void)state;
	for (int iter = 0; iter < 40000; iter++) {
		uint64_t x = rnd(&seed);
		int terminated = (x & 1) != 0;
		int long_runs = (x & 2) != 0;
		len = (size_t)(x >> 8) % (long_runs ? 240 : 48);
		for (size_t i = 0; i < len; i++) {
			uint64_t y = rnd(&seed);

			if (long_runs)
				in[i] = (y % 2003) == 0 ? '\0' :
				    (y % 29) != 0 ? 'a' :
				    sparse[(y >> 8) % (sizeof(sparse) - 1)];
			else
				in[i] = (y % 97) == 0 ? '\0' :
				    dense[(y >> 8) % (sizeof(dense) - 1)];
		}
		if (terminated) {
			memcpy(in + len, "\r\n.\r\n", 5);
			len += 5;
		}
		/* The reference is asked about a terminated input. */
		memcpy(in + len, "\r\n.\r\n", 5);
		ref_scan(in, len + 5, &ref);
		assert_true(ref.done);

		for (int m = 0; m < 2; m++) {
			enum dscan_mode mode = m ? DSCAN_NORMALIZE :
			    DSCAN_REJECT;

			run(mode, in, len, SPLIT_WHOLE, 0, &r);
			assert_true(output_safe(r.out.buf, r.out.n, r.done,
			    r.d.err));
			if (terminated || r.done) {
				assert_int_equal(r.done, 1);
				assert_int_equal(r.consumed, ref.consumed);
				assert_int_equal(r.d.lines, ref.lines);
				assert_int_equal(r.d.bare, ref.bare);
			}
			if (mode == DSCAN_NORMALIZE) {
				assert_true(r.d.err == 0 || r.d.err == EN);
				assert_int_equal(r.d.err != 0 && r.done,
				    ref.nul && r.done);
				if (r.done && r.d.err == 0) {
					check_bytes("random normalize",
					    r.out.buf, r.out.n, ref.out,
					    ref.n);
					assert_int_equal(r.d.hdr_end,
					    ref.hdr_end);
				} else
					assert_true(is_prefix(r.out.buf,
					    r.out.n, ref.out, ref.n));
			} else {
				if (r.done)
					assert_int_equal(r.d.err,
					    (ref.bare ? EB : 0u) |
					    (ref.nul ? EN : 0u));
				if (r.done && r.d.err == 0) {
					check_bytes("random reject",
					    r.out.buf, r.out.n, in, ref.end);
					assert_int_equal(r.d.hdr_end,
					    ref.hdr_end);
				} else
					assert_true(is_prefix(r.out.buf,
					    r.out.n, in, ref.end));
			}

			run(mode, in, len, SPLIT_BYTE, 0, &r2);
			assert_int_equal(r2.consumed, r.consumed);
			assert_int_equal(r2.done, r.done);
			assert_int_equal(r2.d.err, r.d.err);
			assert_int_equal(r2.d.lines, r.d.lines);
			assert_int_equal(r2.d.hdr_end, r.d.hdr_end);
			check_bytes("random bytewise", r2.out.buf, r2.out.n,
			    r.out.buf, r.out.n);
			run(mode, in, len, SPLIT_RANDOM, x | 1, &r2);
			assert_int_equal(r2.consumed, r.consumed);
			assert_int_equal(r2.done, r.done);
			assert_int_equal(r2.d.err, r.d.err);
			assert_int_equal(r2.d.hdr_end, r.d.hdr_end);
			check_bytes("random split", r2.out.buf, r2.out.n,
			    r.out.buf, r.out.n);
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_smuggling),
		cmocka_unit_test(test_misc),
		cmocka_unit_test(test_header_end),
		cmocka_unit_test(test_single_span),
		cmocka_unit_test(test_bare_count),
		cmocka_unit_test(test_empty_feed),
		cmocka_unit_test(test_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
