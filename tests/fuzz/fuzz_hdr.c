/*
 * tests/fuzz/fuzz_hdr.c - libFuzzer target for core/hdr.c: iterate the
 * fields of the input (spans must stay inside it and tile it), look up
 * names, and extract the Message-ID into exactly sized buffers of
 * several capacities (a shorter result must be a prefix of a longer
 * one). Failures abort().
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/hdr.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_span(struct span s, const char *in, size_t size)
{
	if (s.p < in || s.len > size || s.p + s.len > in + size)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t caps[] = { 1, 2, 7, 64, 1024 };
	struct hdr_field	 f;
	char			*in, *id, *prev = NULL;
	size_t			 pos = 0, start, n, prevn = 0;

	in = malloc(size ? size : 1);
	if (in == NULL)
		return 0;
	memcpy(in, data, size);

	for (;;) {
		start = pos;
		if (!hdr_next(in, size, &pos, &f))
			break;
		check_span(f.name, in, size);
		check_span(f.value, in, size);
		check_span(f.raw, in, size);
		if (f.raw.p != in + start || f.raw.p + f.raw.len != in + pos ||
		    pos <= start || f.name.len == 0)
			abort();
		if (f.name.p < f.raw.p || f.value.p < f.name.p + f.name.len ||
		    f.value.p + f.value.len > f.raw.p + f.raw.len)
			abort();
	}
	if (pos != start || pos > size)
		abort();
	if (hdr_find(in, size, "From", &f) && !span_ieq(f.name, "from"))
		abort();

	/* cap 0 must not write at all. */
	if (hdr_message_id(in, size, NULL, 0) != 0)
		abort();
	for (size_t k = 0; k < sizeof(caps) / sizeof(caps[0]); k++) {
		id = malloc(caps[k]);
		if (id == NULL)
			abort();
		n = hdr_message_id(in, size, id, caps[k]);
		if (n >= caps[k] || id[n] != '\0')
			abort();
		if (prev != NULL &&
		    (prevn > n || memcmp(prev, id, prevn) != 0))
			abort();
		free(prev);
		prev = id;
		prevn = n;
	}
	free(prev);
	free(in);
	return 0;
}
