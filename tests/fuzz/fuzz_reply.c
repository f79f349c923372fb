/*
 * tests/fuzz/fuzz_reply.c - libFuzzer target for core/smtp_reply. The
 * first input byte chooses the capabilities to keep, whether to add some
 * and whether to restrict the AUTH mechanisms; the rest is a backend
 * reply, given to reply_parse_line() whole and line by line, and to
 * reply_ehlo_filter(). A filtered reply must itself be a well-formed
 * EHLO reply that filters to the same bytes (the additions are not on
 * the allowlist, so they go and come back), hold no capability outside
 * the kept ones, report what went in bounded text, and need exactly the
 * room it took. reply_queue_id() must return a bounded span of id bytes
 * inside the reply.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/smtp_reply.h"

#define CHECK(x)	do { if (!(x)) abort(); } while (0)

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const add_list[] = { "STARTTLS", "X-MXS 1", NULL };
static const char *const mech_list[] = { "PLAIN", "LOGIN", "CRAM-MD5", NULL };
static const unsigned keep_bits[] = { CAP_ALLOWED, CAP_ALLOWED & ~CAP_AUTH,
	CAP_PIPELINING | CAP_SIZE, 0xffffu };

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

/* The removed text: NUL-terminated in its room, names and spaces only. */
static void
check_removed(const struct ehlo_result *res)
{
	const char *nul = memchr(res->removed, '\0', sizeof(res->removed));
	size_t n;

	CHECK(nul != NULL);
	n = (size_t)(nul - res->removed);
	for (size_t i = 0; i < n; i++) {
		char c = res->removed[i];

		CHECK((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		    c == '?' || c == ' ' || c == ':' || c == '.');
	}
	CHECK((n == 0) == (res->nremoved == 0));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ehlo_opts o;
	struct ehlo_result res, res2;
	unsigned addbits;
	size_t len, cap, w, w2, start, i;
	char *in, *out, *out2;

	if (size < 1)
		return 0;
	o.keep = keep_bits[data[0] & 3];
	o.add = (data[0] & 0x80) ? add_list : NULL;
	o.mechs = (data[0] & 0x40) ? mech_list : NULL;
	addbits = o.add != NULL ? CAP_STARTTLS | CAP_OTHER : 0;
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

	{
		struct span id = reply_queue_id(in, len);

		CHECK(id.len <= REPLY_QID_MAX);
		if (id.len > 0) {
			CHECK(id.p >= in && id.p + id.len <= in + len);
			for (i = 0; i < id.len; i++)
				CHECK((id.p[i] != '\0' &&
				    strchr("._-@<>+=", id.p[i]) != NULL) ||
				    (id.p[i] >= 'a' && id.p[i] <= 'z') ||
				    (id.p[i] >= 'A' && id.p[i] <= 'Z') ||
				    (id.p[i] >= '0' && id.p[i] <= '9'));
		}
	}

	cap = 2 * len + 64;
	out = malloc(cap);
	CHECK(out != NULL);
	w = reply_ehlo_filter(in, len, &o, out, cap, &res);
	CHECK(w <= cap);
	if (w == 0) {
		CHECK(res.seen == 0 && res.nremoved == 0 &&
		    res.removed[0] == '\0');
	} else {
		check_removed(&res);
		/* well formed: filtering again changes nothing; only the
		 * additions are removed (and added again) */
		out2 = malloc(w);
		CHECK(out2 != NULL);
		w2 = reply_ehlo_filter(out, w, &o, out2, w, &res2);
		CHECK(w2 == w && memcmp(out, out2, w) == 0);
		check_removed(&res2);
		CHECK((res2.seen & ~addbits & ~(o.keep & CAP_ALLOWED)) == 0);
		CHECK((res2.seen & ~addbits) ==
		    (res.seen & o.keep & CAP_ALLOWED & ~addbits) ||
		    o.mechs != NULL);
		CHECK(res2.nremoved == (o.add != NULL ? 2 : 0));
		/* exactly the room it took */
		w2 = reply_ehlo_filter(in, len, &o, out2, w, NULL);
		CHECK(w2 == w && memcmp(out, out2, w) == 0);
		CHECK(reply_ehlo_filter(in, len, &o, out2, w - 1,
		    &res2) == 0);
		CHECK(res2.seen == 0 && res2.nremoved == 0);
		free(out2);
	}
	free(out);
	free(in);
	return 0;
}
