/*
 * tests/fuzz/fuzz_cmd.c - libFuzzer target for core/smtp_cmd. The first
 * three input bytes choose the line limit and the split seed; the rest
 * is a client byte stream, fed to cmd_scan_line() whole and again in
 * random splits (each call sees an exactly sized heap copy of what the
 * caller holds). Both runs must find the same lines. Every line, and
 * the whole stream as one line, goes through cmd_parse(), and
 * cmd_param_next()/cmd_param_size() walk the parameters and the raw
 * argument. Spans must stay inside their line.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/smtp_cmd.h"

#define CHECK(x)	do { if (!(x)) abort(); } while (0)

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct event {
	enum cmd_line_rc rc;
	size_t		 len;
	uint64_t	 hash;
};

static uint64_t
fnv(const char *p, size_t n)
{
	uint64_t h = 14695981039346656037ULL;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * 1099511628211ULL;
	return h;
}

static uint32_t
xorshift(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static int
inside(struct span s, const char *p, size_t len)
{
	return s.p >= p && s.len <= len && s.p + s.len <= p + len;
}

static void
walk_params(struct span params, int must_pass)
{
	struct span key, value;
	size_t guard = params.len + 1;
	int r;

	while ((r = cmd_param_next(&params, &key, &value)) == 1) {
		CHECK(key.len > 0);
		CHECK(guard-- > 0);
	}
	CHECK(r == 0 || r == -1);
	if (must_pass)
		CHECK(r == 0);
	CHECK(cmd_param_size(params) >= -2);
}

static void
parse_line(const char *line, size_t len)
{
	struct smtp_cmd c;
	enum cmd_rc rc;
	char *copy;

	copy = malloc(len > 0 ? len : 1);
	CHECK(copy != NULL);
	if (len > 0)
		memcpy(copy, line, len);
	rc = cmd_parse(copy, len, &c);
	CHECK(rc <= CMD_E_HELO);
	CHECK((unsigned)c.verb < CMD_VERB_COUNT);
	CHECK(cmd_verb_name(c.verb) != NULL);
	CHECK(cmd_rc_name(rc) != NULL);
	if (len > 0) {
		CHECK(inside(c.verb_s, copy, len));
		CHECK(inside(c.arg, copy, len));
		CHECK(inside(c.path, copy, len));
		CHECK(inside(c.local, copy, len));
		CHECK(inside(c.domain, copy, len));
		CHECK(inside(c.params, copy, len));
		walk_params(c.arg, 0);
	}
	if (rc == CMD_OK && (c.verb == CMD_MAIL || c.verb == CMD_RCPT)) {
		if (c.null_path) {
			CHECK(c.verb == CMD_MAIL && c.path.len == 0);
		} else if (c.postmaster) {
			CHECK(c.verb == CMD_RCPT && c.path.len == 10);
			CHECK(c.domain.len == 0);
		} else {
			CHECK(c.local.p == c.path.p);
			CHECK(c.local.len > 0 && c.domain.len > 0);
			CHECK(c.local.len <= CMD_LOCAL_MAX);
			CHECK(c.local.len + 1 + c.domain.len == c.path.len);
			CHECK(c.path.p[c.local.len] == '@');
			CHECK(c.path.len + 2 <= CMD_PATH_MAX);
		}
		walk_params(c.params, 1);
	}
	free(copy);
}

/*
 * Runs the scanner over in[0..len); split 0 feeds it all at once, else
 * in chunks drawn from seed. Records the events; parses the lines when
 * parse is set.
 */
static size_t
scan(const char *in, size_t len, size_t limit, int split, uint32_t seed,
    struct event *ev, int parse)
{
	struct cmd_scanner st;
	enum cmd_line_rc rc;
	struct span line;
	char *held, *copy;
	size_t have = 0, off = 0, chunk, n, nev = 0;

	memset(&st, 0, sizeof(st));
	held = malloc(len + 1);
	CHECK(held != NULL);
	while (off < len) {
		chunk = split ? 1 + xorshift(&seed) % (len - off) : len - off;
		if (split && (seed & 3) != 0 && chunk > 8)
			chunk = 1 + chunk % 8;
		memcpy(held + have, in + off, chunk);
		have += chunk;
		off += chunk;
		for (;;) {
			copy = malloc(have > 0 ? have : 1);
			CHECK(copy != NULL);
			memcpy(copy, held, have);
			n = cmd_scan_line(&st, copy, have, limit, &rc, &line);
			CHECK(n <= have);
			CHECK(cmd_line_rc_name(rc) != NULL);
			if (rc != LINE_NEED_MORE) {
				CHECK(n > 0);
				CHECK(inside(line, copy, n));
				CHECK(n <= limit || rc == LINE_TOO_LONG);
				ev[nev].rc = rc;
				ev[nev].len = line.len;
				ev[nev].hash = fnv(line.p, line.len);
				nev++;
				if (parse && rc == LINE_OK)
					parse_line(line.p, line.len);
			} else if (n == 0) {
				CHECK(have < limit);
			}
			free(copy);
			if (n == 0)
				break;
			memmove(held, held + n, have - n);
			have -= n;
		}
	}
	free(held);
	return nev;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct event *whole, *split;
	size_t len, limit, nw, ns;
	uint32_t seed;
	char *in;

	if (size < 3)
		return 0;
	limit = (data[0] & 0x80) ? 2048 : (size_t)(data[0] & 0x3f) + 1;
	seed = ((uint32_t)data[1] << 8 | data[2]) * 2654435761u + 1;
	len = size - 3;
	in = malloc(len > 0 ? len : 1);
	CHECK(in != NULL);
	if (len > 0)
		memcpy(in, data + 3, len);
	whole = calloc(len + 1, sizeof(*whole));
	split = calloc(len + 1, sizeof(*split));
	CHECK(whole != NULL && split != NULL);

	nw = scan(in, len, limit, 0, 0, whole, 1);
	ns = scan(in, len, limit, 1, seed, split, 0);
	CHECK(nw == ns);
	for (size_t i = 0; i < nw; i++) {
		CHECK(whole[i].rc == split[i].rc);
		CHECK(whole[i].len == split[i].len);
		CHECK(whole[i].hash == split[i].hash);
	}
	parse_line(in, len);

	free(split);
	free(whole);
	free(in);
	return 0;
}
