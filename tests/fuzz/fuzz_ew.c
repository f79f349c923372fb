/*
 * tests/fuzz/fuzz_ew.c - libFuzzer target for core/ew.c: decode the
 * input as header text into exactly sized buffers of several
 * capacities. Invariants: the length never passes cap; a shorter result
 * is a prefix of a longer one, and only a result that filled its
 * buffer says it was truncated; when the input is valid UTF-8 (ASCII
 * included) so is every result; an address found lies inside the text;
 * bare B and Q text never writes past cap. Failures abort().
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/ew.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* RFC 3629 4, written apart from core/ew.c's decoder. */
static int
valid_utf8(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned char	c = s[i];
		size_t		k;
		unsigned	lo = 0x80, hi = 0xbf;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			k = 1;
		else if (c >= 0xe0 && c <= 0xef) {
			k = 2;
			lo = c == 0xe0 ? 0xa0 : 0x80;
			hi = c == 0xed ? 0x9f : 0xbf;
		} else if (c >= 0xf0 && c <= 0xf4) {
			k = 3;
			lo = c == 0xf0 ? 0x90 : 0x80;
			hi = c == 0xf4 ? 0x8f : 0xbf;
		} else
			return 0;
		if (n - i <= k || s[i + 1] < lo || s[i + 1] > hi)
			return 0;
		for (size_t j = 2; j <= k; j++)
			if ((s[i + j] & 0xc0) != 0x80)
				return 0;
		i += k + 1;
	}
	return 1;
}

static void
check_address(const char *t, size_t n)
{
	struct span a;

	if (ew_find_address(t, n, &a)) {
		if (a.p < t || a.len > n || a.p + a.len > t + n || a.len < 5)
			abort();
	} else if (a.p != NULL || a.len != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t caps[] = { 0, 1, 3, 16, 256, 4096, 65536 };
	char		*in, *out, *prev = NULL;
	size_t		 n, prevn = 0;
	unsigned	 flags;
	int		 rc, utf8;
	long		 r;

	in = malloc(size ? size : 1);
	if (in == NULL)
		return 0;
	memcpy(in, data, size);
	utf8 = valid_utf8(data, size);
	check_address(in, size);

	for (size_t k = 0; k < sizeof(caps) / sizeof(caps[0]); k++) {
		out = malloc(caps[k] ? caps[k] : 1);
		if (out == NULL)
			abort();
		flags = 0;
		n = (size_t)-1;
		rc = ew_decode(in, size, caps[k] ? out : NULL, caps[k], &n,
		    &flags);
		if (n > caps[k])
			abort();
		if ((rc == -1) != ((flags & EW_F_TRUNCATED) != 0) ||
		    (rc != 0 && rc != -1))
			abort();
		if (utf8 && !valid_utf8((unsigned char *)out, n))
			abort();
		if (prev != NULL && (prevn > n || memcmp(prev, out, prevn) != 0))
			abort();
		check_address(out, n);
		free(prev);
		prev = out;
		prevn = n;
	}
	free(prev);

	for (size_t k = 1; k < 4; k++) {
		size_t cap = size * k / 3;

		out = malloc(cap ? cap : 1);
		if (out == NULL)
			abort();
		r = ew_decode_q(in, size, out, cap);
		if (r > (long)cap || r < -1)
			abort();
		flags = 0;
		r = ew_decode_b(in, size, out, cap, &flags);
		if (r > (long)cap || r < -1)
			abort();
		free(out);
	}
	free(in);
	return 0;
}
