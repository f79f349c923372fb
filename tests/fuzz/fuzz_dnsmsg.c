/*
 * tests/fuzz/fuzz_dnsmsg.c - libFuzzer target for core/dnsmsg. The
 * input's first two bytes choose the asked type; the rest is a DNS
 * response, parsed from an exactly sized heap copy for each type. What
 * must always hold: a failure leaves a TEMPFAIL answer without records;
 * a success keeps every record and its data inside the answer, names
 * NUL-terminated text of printable characters, TXT strings that walk to
 * the record's end, and a status that matches the rcode.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/dnsmsg.h"

#define CHECK(x)	do { if (!(x)) abort(); } while (0)

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint16_t qtypes[] = { DNS_T_A, DNS_T_AAAA, DNS_T_MX,
	DNS_T_PTR, DNS_T_TXT, DNS_T_CNAME };

static void
check_answer(const struct dns_answer *a, enum dnsmsg_rc rc, uint16_t qtype)
{
	CHECK(dnsmsg_rc_name(rc) != NULL);
	CHECK(a->nrr <= DNS_RR_MAX && a->ndata <= DNS_DATA_MAX);
	if (rc != DNSMSG_OK) {
		CHECK(a->status == DNS_TEMPFAIL && a->nrr == 0);
		return;
	}
	CHECK(a->status != DNS_OK || a->nrr > 0);
	CHECK(a->status == DNS_OK || a->nrr == 0);
	if (a->status == DNS_NXDOMAIN)
		CHECK(a->rcode == 3);
	if (a->status == DNS_OK || a->status == DNS_NODATA)
		CHECK(a->rcode == 0);
	for (size_t i = 0; i < a->nrr; i++) {
		const struct dns_rr *rr = &a->rr[i];
		size_t pos = 0, n, count = 0;
		const char *s;

		CHECK(rr->type == qtype);
		CHECK(rr->ttl >= a->ttl && rr->ttl < 0x80000000u);
		CHECK((size_t)rr->off + rr->len <= a->ndata);
		switch (rr->type) {
		case DNS_T_MX:
		case DNS_T_PTR:
		case DNS_T_CNAME:
			CHECK((size_t)rr->off + rr->len < a->ndata);
			CHECK(a->data[rr->off + rr->len] == '\0');
			CHECK(strlen(a->data + rr->off) == rr->len);
			for (size_t j = 0; j < rr->len; j++)
				CHECK(a->data[rr->off + j] > ' ' &&
				    a->data[rr->off + j] < 0x7f);
			break;
		case DNS_T_TXT:
			while (dnsmsg_txt_next(a, rr, &pos, &s, &n)) {
				CHECK(s >= a->data && s + n <= a->data +
				    a->ndata);
				count++;
			}
			CHECK(pos == rr->len && count == rr->nstr);
			break;
		default:
			break;
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct dns_answer a;	/* 5 KB: off the stack */

	for (size_t t = 0; t < sizeof(qtypes) / sizeof(qtypes[0]); t++) {
		uint8_t *c = malloc(size > 0 ? size : 1);
		enum dnsmsg_rc rc;

		CHECK(c != NULL);
		if (size > 0)
			memcpy(c, data, size);
		rc = dnsmsg_parse(c, size, NULL, qtypes[t], &a);
		check_answer(&a, rc, qtypes[t]);
		free(c);
	}
	return 0;
}
