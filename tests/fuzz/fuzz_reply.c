/*
 * tests/fuzz/fuzz_reply.c - libFuzzer target for core/smtp_reply. The
 * first input byte chooses the capabilities to drop and whether to add
 * some; the rest is a backend reply, given to reply_parse_line() whole
 * and line by line, and to reply_ehlo_filter(). A filtered reply must
 * itself be a well-formed EHLO reply that filters to the same bytes,
 * hold no dropped capability, and need exactly the room it took.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/smtp_reply.h"

#define CHECK(x)	do { if (!(x)) abort(); } while (0)

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const add_list[] = { "STARTTLS", "X-MXS 1", NULL };

static void
parse_line(const char *p, size_t len)
{
	struct reply_line rl;
	enum reply_rc rc;
	char *copy;

	copy = malloc(len > 0 ? len : 1);
	CHECK(copy != NULL);
	if (len > 0)
		memcpy(copy, p, len);
	rc = reply_parse_line(copy, len, &rl);
	CHECK(reply_rc_name(rc) != NULL);
	if (rc == REPLY_OK) {
		CHECK(rl.code >= 200 && rl.code <= 599);
		CHECK(rl.text.p >= copy && rl.text.p + rl.text.len <= copy + len);
		CHECK(rl.enh.p == rl.text.p && rl.enh.len <= rl.text.len);
		for (size_t i = 0; i < rl.text.len; i++)
			CHECK(rl.text.p[i] != '\r' && rl.text.p[i] != '\n' &&
			    rl.text.p[i] != '\0');
	}
	free(copy);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *const *add;
	unsigned drop, seen, seen2, addbits;
	size_t len, cap, w, w2, start, i;
	char *in, *out, *out2;

	if (size < 1)
		return 0;
	drop = data[0] & 0x7f;
	add = (data[0] & 0x80) ? add_list : NULL;
	addbits = add != NULL ? CAP_STARTTLS : 0;
	len = size - 1;
	in = malloc(len > 0 ? len : 1);
	CHECK(in != NULL);
	if (len > 0)
		memcpy(in, data + 1, len);

	parse_line(in, len);
	for (start = 0, i = 0; i + 1 < len; i++) {
		if (in[i] == '\r' && in[i + 1] == '\n') {
			parse_line(in + start, i - start);
			start = i + 2;
		}
	}

	cap = 2 * len + 64;
	out = malloc(cap);
	CHECK(out != NULL);
	w = reply_ehlo_filter(in, len, drop, add, out, cap, &seen);
	CHECK(w <= cap);
	if (w == 0) {
		CHECK(seen == 0);
	} else {
		/* well formed: filtering again changes nothing */
		out2 = malloc(w);
		CHECK(out2 != NULL);
		w2 = reply_ehlo_filter(out, w, 0, NULL, out2, w, &seen2);
		CHECK(w2 == w && memcmp(out, out2, w) == 0);
		CHECK((seen2 & drop & ~addbits) == 0);
		CHECK((seen2 & ~addbits) == ((seen & ~drop) & ~addbits));
		/* exactly the room it took */
		w2 = reply_ehlo_filter(in, len, drop, add, out2, w, NULL);
		CHECK(w2 == w && memcmp(out, out2, w) == 0);
		CHECK(reply_ehlo_filter(in, len, drop, add, out2, w - 1,
		    NULL) == 0);
		free(out2);
	}
	free(out);
	free(in);
	return 0;
}
