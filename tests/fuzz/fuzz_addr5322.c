/*
 * tests/fuzz/fuzz_addr5322.c - libFuzzer target for core/addr5322.c:
 * the input as a field body (al_unfold, al_parse, al_field) and as a
 * header section (al_from), in exactly sized buffers. Checks: spans
 * inside the buffer they point into, counts within the caller's
 * array, unfolded length within its buffer, text outputs NUL-terminated
 * within their capacity. Failures abort().
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/addr5322.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAXMB	8

static void
check_span(struct span s, const char *buf, size_t size)
{
	if (s.len == 0)
		return;
	if (s.p < buf || s.len > size || s.p + s.len > buf + size)
		abort();
}

static void
check_mbs(const struct al_mailbox *mb, size_t n, const char *buf,
    size_t size)
{
	char	*txt;
	size_t	 i, t;

	if (n > MAXMB)
		abort();
	for (i = 0; i < n; i++) {
		check_span(mb[i].display, buf, size);
		check_span(mb[i].group, buf, size);
		check_span(mb[i].route, buf, size);
		check_span(mb[i].local, buf, size);
		check_span(mb[i].domain, buf, size);
		check_span(mb[i].addr, buf, size);
		if (mb[i].addr.len == 0 || mb[i].local.len == 0 ||
		    mb[i].domain.len == 0)
			abort();
		if (((mb[i].flags & AL_ROUTE) != 0) != (mb[i].route.len > 0))
			abort();
		txt = malloc(16);
		if (txt == NULL)
			abort();
		t = al_addr_text(&mb[i], txt, 16);
		if (t >= 16 || txt[t] != '\0')
			abort();
		t = al_phrase_text(mb[i].display, txt, 16);
		if (t >= 16 || txt[t] != '\0')
			abort();
		free(txt);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct al_mailbox	 mb[MAXMB];
	char			*in, *buf;
	size_t			 n, ng, ulen, cap;
	enum al_rc		 rc;

	in = malloc(size ? size : 1);
	if (in == NULL)
		return 0;
	memcpy(in, data, size);

	/* As an unfolded body, in an exactly sized buffer. */
	rc = al_parse(in, size, mb, MAXMB, &n, &ng);
	check_mbs(mb, n, in, size);
	if (rc == AL_OK && ng > size)
		abort();

	/* Unfolded into a buffer of the input's size, then half of it. */
	for (cap = size; ; cap /= 2) {
		buf = malloc(cap ? cap : 1);
		if (buf == NULL)
			abort();
		rc = al_unfold(in, size, buf, cap, &ulen);
		if (ulen > cap || ulen > size)
			abort();
		rc = al_field(in, size, buf, cap, mb, MAXMB, &n, NULL);
		check_mbs(mb, n, buf, cap);
		free(buf);
		if (cap == 0)
			break;
	}

	/* As a header section. */
	buf = malloc(size ? size : 1);
	if (buf == NULL)
		abort();
	switch (al_from(in, size, buf, size, mb, MAXMB, &n)) {
	case AL_FROM_OK:
		if (n == 0)
			abort();
		/* FALLTHROUGH */
	default:
		check_mbs(mb, n, buf, size);
		break;
	}
	(void)al_from_name(AL_FROM_OK);
	(void)al_rc_name(rc);
	free(buf);
	free(in);
	return 0;
}
