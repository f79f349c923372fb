/*
 * tests/fuzz/fuzz_spoof.c - libFuzzer target for core/spoof.c: the
 * first octets choose the session facts (trusted, authenticated, HELO
 * failed, a source route) and the weights; the rest is the held header
 * section, read as far as its first NUL as the MAIL FROM path too.
 * Invariants: the score lies in 0..SPOOF_MAX and is the capped sum of
 * the weights of the signs reported; a sign whose weight is 0 is never
 * reported; the same input gives the same answer; the signs' text fits
 * every buffer size and is a prefix-closed list of names. Failures
 * abort().
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/spoof.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FACTS	(1 + SPOOF_NSIGNS)

static void
check_text(unsigned signs)
{
	static const size_t caps[] = { 0, 1, 8, 40, 400 };
	char full[512], buf[400];
	size_t n, fn;

	fn = spoof_signs_text(signs, full, sizeof(full));
	if (fn != strlen(full))
		abort();
	for (size_t k = 0; k < sizeof(caps) / sizeof(caps[0]); k++) {
		n = spoof_signs_text(signs, buf, caps[k]);
		if (caps[k] == 0) {
			if (n != 0)
				abort();
			continue;
		}
		if (n >= caps[k] || n != strlen(buf) || n > fn ||
		    memcmp(buf, full, n) != 0)
			abort();
		/* whole names only: what was kept ends at a name's end */
		if (n < fn && n > 0 && full[n] != ',')
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char dom1[] = "example.com", dom2[] = "example.org";
	static char *const locals[] = { dom1, dom2 };
	struct net own[2];
	struct spoof_input in;
	int weights[SPOOF_NSIGNS], score, again, sum = 0;
	unsigned signs, signs2;
	const char *nul;
	char *hdr;

	if (size < FACTS)
		return 0;
	if (net_parse("192.0.2.25", 10, &own[0]) != 0 ||
	    net_parse("2001:db8::25", 12, &own[1]) != 0)
		abort();
	for (int i = 0; i < SPOOF_NSIGNS; i++)
		weights[i] = data[1 + i] % 27 - 1;	/* -1..25 */
	hdr = malloc(size - FACTS ? size - FACTS : 1);
	if (hdr == NULL)
		return 0;
	memcpy(hdr, data + FACTS, size - FACTS);
	memset(&in, 0, sizeof(in));
	in.hdr = hdr;
	in.hdrlen = size - FACTS;
	nul = memchr(hdr, '\0', in.hdrlen);
	in.mail_from.p = hdr;
	in.mail_from.len = nul ? (size_t)(nul - hdr) : in.hdrlen;
	in.mail_from_route = data[0] & 1;
	in.trusted = data[0] & 2;
	in.authenticated = data[0] & 4;
	in.helo_failed = data[0] & 8;
	if (data[0] & 16) {
		in.local_domains = locals;
		in.nlocal_domains = 2;
	}
	if (data[0] & 32) {
		in.own = own;
		in.nown = 2;
	}
	if (data[0] & 64) {
		in.spf_ran = true;
		in.spf = (data[0] & 128) ? SPF_FAIL : SPF_SOFTFAIL;
		in.spf_domain.p = dom1;
		in.spf_domain.len = sizeof(dom1) - 1;
	}

	score = spoof_score(&in, weights, &signs);
	if (score < 0 || score > SPOOF_MAX)
		abort();
	for (int i = 0; i < SPOOF_NSIGNS; i++) {
		if (!(signs & (1u << i)))
			continue;
		if (weights[i] <= 0)
			abort();
		sum += weights[i];
	}
	if (signs >> SPOOF_NSIGNS)
		abort();
	if (score != (sum > SPOOF_MAX ? SPOOF_MAX : sum))
		abort();
	again = spoof_score(&in, weights, &signs2);
	if (again != score || signs2 != signs)
		abort();
	if (spoof_score(&in, weights, NULL) != score)
		abort();
	check_text(signs);
	free(hdr);
	return 0;
}
