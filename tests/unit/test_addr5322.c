/*
 * tests/unit/test_addr5322.c - address lists in header fields
 * (core/addr5322.c): the RFC 5322 Appendix A messages against the
 * values of tests/data/headers/rfc5322-appendix-a/expected.json, the
 * isemail set of tests/data/address (turned into tables by
 * gen_addr5322.py at build time), hand-typed tables of malformed
 * lists, folding and From fields, and every prefix of each sample
 * (no crash, spans inside the input).
 *
 * isemail: every category but ISEMAIL_ERR must parse as one mailbox,
 * ISEMAIL_ERR must be refused, except for isemail_skip[] below: those
 * judge DNS label rules or UTF-8 after "\" that RFC 5322 and RFC 6532
 * allow, or a bare LF that cannot be part of a header field.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/addr5322.h"
#include "core/hdr.h"

#define B(s)	s, sizeof(s) - 1

struct exp_mb {
	const char	*group, *display, *addr, *route;
};
struct exp_field {
	const char	*file, *name;
	int		 first, n, ngroups;
};
struct isemail {
	int		 id;
	const char	*category, *addr;
	size_t		 len;
};
#include "addr5322_cases.h"

static const struct {
	int		 id;
	const char	*why;
} isemail_skip[] = {
	{ 30, "leading hyphen in a label: DNS rule, atext in RFC 5322" },
	{ 31, "trailing hyphen in a label: DNS rule, atext in RFC 5322" },
	{ 102, "trailing hyphen in a label: DNS rule, atext in RFC 5322" },
	{ 134, "\\ before a bare LF: a header field cannot hold one" },
	{ 160, "\\ before UTF-8: VCHAR includes UTF-8 in RFC 6532 3.2" },
};

static char *
span_str(struct span s, char *buf, size_t cap)
{
	size_t	n = s.len < cap - 1 ? s.len : cap - 1;

	memcpy(buf, s.p, n);
	buf[n] = '\0';
	return buf;
}

static char *
slurp(const char *file, size_t *len)
{
	char	 path[512], *buf;
	FILE	*fp;

	snprintf(path, sizeof(path), "%s/headers/rfc5322-appendix-a/%s",
	    MXS_TESTDATA, file);
	fp = fopen(path, "rb");
	assert_non_null(fp);
	buf = malloc(65536);
	assert_non_null(buf);
	*len = fread(buf, 1, 65536, fp);
	fclose(fp);
	return buf;
}

static void
check_mb(const struct al_mailbox *m, const struct exp_mb *e)
{
	char	buf[256], sbuf[256];

	al_addr_text(m, buf, sizeof(buf));
	assert_string_equal(buf, e->addr);
	if (e->display == NULL)
		assert_int_equal(m->display.len, 0);
	else {
		al_phrase_text(m->display, buf, sizeof(buf));
		assert_string_equal(buf, e->display);
	}
	if (e->group == NULL)
		assert_false(m->flags & AL_IN_GROUP);
	else {
		assert_true(m->flags & AL_IN_GROUP);
		al_phrase_text(m->group, buf, sizeof(buf));
		assert_string_equal(buf, e->group);
	}
	if (e->route == NULL)
		assert_false(m->flags & AL_ROUTE);
	else {
		assert_true(m->flags & AL_ROUTE);
		assert_string_equal(span_str(m->route, sbuf, sizeof(sbuf)),
		    e->route);
	}
}

static void
test_appendix_a(void **state)
{
	struct al_mailbox	 mb[16];
	struct hdr_field	 f;
	char			*msg, buf[1024];
	size_t			 len, n, ng;
	size_t			 k, i;

	for (k = 0; k < sizeof(exp_fields) / sizeof(exp_fields[0]); k++) {
		const struct exp_field *e = &exp_fields[k];

		msg = slurp(e->file, &len);
		assert_true(hdr_find(msg, len, e->name, &f));
		assert_int_equal(al_field(f.value.p, f.value.len, buf,
		    sizeof(buf), mb, 16, &n, &ng), AL_OK);
		assert_int_equal(n, e->n);
		assert_int_equal(ng, e->ngroups);
		for (i = 0; i < n; i++)
			check_mb(&mb[i], &exp_mbs[e->first + i]);
		if (strcmp(e->name, "From") == 0) {
			assert_int_equal(al_from(msg, len, buf, sizeof(buf),
			    mb, 16, &n), AL_FROM_OK);
			assert_int_equal(n, e->n);
			check_mb(&mb[0], &exp_mbs[e->first]);
		}
		free(msg);
	}
}

static void
test_isemail(void **state)
{
	struct al_mailbox	 mb[4];
	char			 buf[1024];
	size_t			 k, j, n, covered = 0;
	enum al_rc		 rc;
	int			 skip;

	for (k = 0; k < sizeof(isemail_cases) / sizeof(isemail_cases[0]);
	    k++) {
		const struct isemail *t = &isemail_cases[k];

		skip = 0;
		for (j = 0; j < sizeof(isemail_skip) / sizeof(isemail_skip[0]);
		    j++)
			if (isemail_skip[j].id == t->id)
				skip = 1;
		if (skip)
			continue;
		rc = al_field(t->addr, t->len, buf, sizeof(buf), mb, 4, &n,
		    NULL);
		if (strcmp(t->category, "ISEMAIL_ERR") == 0) {
			if (rc == AL_OK && n == 1)
				fail_msg("isemail %d accepted", t->id);
		} else if (rc != AL_OK || n != 1)
			fail_msg("isemail %d refused: %s", t->id,
			    al_rc_name(rc));
		covered++;
	}
	assert_true(covered > 150);
}

/*
 * Hand-typed lists: rc, count (on an error, the mailboxes before it),
 * and the first address when parsed.
 */
static const struct {
	const char	*in;
	size_t		 len;
	enum al_rc	 rc;
	size_t		 n;
	const char	*addr;
	unsigned	 flags;
} list_cases[] = {
	{ B("a@b"), AL_OK, 1, "a@b", 0 },
	{ B(""), AL_OK, 0, NULL, 0 },
	{ B(" , ,"), AL_OK, 0, NULL, 0 },
	{ B("<a@b>"), AL_OK, 1, "a@b", AL_ANGLE },
	{ B("\"a b\"@c"), AL_OK, 1, "\"a b\"@c", AL_QUOTED_LOCAL },
	{ B("a@[1.2.3.4]"), AL_OK, 1, "a@[1.2.3.4]", AL_DOMAIN_LIT },
	{ B("<@x,@y:a@b>"), AL_OK, 1, "a@b", AL_ROUTE | AL_ANGLE },
	{ B("<,@x,,@y:a@b>"), AL_OK, 1, "a@b", AL_ROUTE | AL_ANGLE },
	{ B("A.B <a@b>"), AL_OK, 1, "a@b", AL_ANGLE | AL_OBS },
	{ B("a . b @ c . d"), AL_OK, 1, "a.b@c.d", AL_OBS },
	{ B("G:a@b,c@d;"), AL_OK, 2, "a@b", AL_IN_GROUP },
	{ B("G:;"), AL_OK, 0, NULL, 0 },
	{ B("G : ( x ) ; , a@b"), AL_OK, 1, "a@b", 0 },
	{ B("\xc3\xa9l\xc3\xa8ve@\xc3\xa9" "cole.fr"), AL_OK, 1,
	  "\xc3\xa9l\xc3\xa8ve@\xc3\xa9" "cole.fr", AL_UTF8 },
	{ B("\"J\xc3\xb6" "rg\" <j@x>"), AL_OK, 1, "j@x", AL_ANGLE },
	{ B("(a(b\\)c)d)a@b(e)"), AL_OK, 1, "a@b", 0 },
	{ B("=?utf-8?q?x?= <a@b>"), AL_OK, 1, "a@b", AL_ANGLE },
	{ B("a"), AL_E_SYNTAX, 0, NULL, 0 },
	{ B("a@"), AL_E_SYNTAX, 0, NULL, 0 },
	{ B("@b"), AL_E_SYNTAX, 0, NULL, 0 },
	{ B("<>"), AL_E_SYNTAX, 0, NULL, 0 },
	{ B("<a@b"), AL_E_SYNTAX, 0, NULL, 0 },
	{ B("a@b>"), AL_E_SYNTAX, 1, NULL, 0 },
	{ B("a@b c@d"), AL_E_SYNTAX, 0, NULL, 0 },
	{ B("John Doe a@b"), AL_E_SYNTAX, 0, NULL, 0 },
	{ B("a..b@c"), AL_E_SYNTAX, 0, NULL, 0 },
	{ B("a@b..c"), AL_E_SYNTAX, 0, NULL, 0 },
	{ B(". <a@b>"), AL_E_SYNTAX, 0, NULL, 0 },
	{ B("\"a@b"), AL_E_SYNTAX, 0, NULL, 0 },
	{ B("(a@b"), AL_E_SYNTAX, 0, NULL, 0 },
	{ B("a@[b"), AL_E_SYNTAX, 0, NULL, 0 },
	{ B("a@b\\"), AL_E_SYNTAX, 1, NULL, 0 },
	{ B("G:a@b"), AL_E_SYNTAX, 1, NULL, 0 },
	{ B("G:H:a@b;;"), AL_E_SYNTAX, 0, NULL, 0 },
	{ B(":a@b;"), AL_E_SYNTAX, 0, NULL, 0 },
	{ B("<@x a@b>"), AL_E_SYNTAX, 0, NULL, 0 },
	{ B("<@:a@b>"), AL_E_SYNTAX, 0, NULL, 0 },
	{ B("a@b;"), AL_E_SYNTAX, 1, NULL, 0 },
	{ B("a\r@b"), AL_E_SYNTAX, 0, NULL, 0 },
	{ B("a\0@b"), AL_E_SYNTAX, 0, NULL, 0 },
	{ B("\"\\"), AL_E_SYNTAX, 0, NULL, 0 },
	{ B("a@b,c@d,e@f,g@h,i@j"), AL_E_TOOMANY, 4, "a@b", 0 },
};

static void
test_lists(void **state)
{
	struct al_mailbox	mb[4];
	char			buf[256];
	size_t			k, n, ng;
	enum al_rc		rc;

	for (k = 0; k < sizeof(list_cases) / sizeof(list_cases[0]); k++) {
		rc = al_parse(list_cases[k].in, list_cases[k].len, mb, 4, &n,
		    &ng);
		if (rc != list_cases[k].rc || n != list_cases[k].n)
			fail_msg("case %zu (%s): rc %s n %zu", k,
			    list_cases[k].in, al_rc_name(rc), n);
		if (list_cases[k].addr == NULL)
			continue;
		al_addr_text(&mb[0], buf, sizeof(buf));
		assert_string_equal(buf, list_cases[k].addr);
		assert_int_equal(mb[0].flags, list_cases[k].flags);
	}
}

static const struct {
	const char	*in;
	size_t		 len;
	enum al_rc	 rc;
	const char	*out;
} unfold_cases[] = {
	{ B("a\r\n b"), AL_OK, "a b" },
	{ B("a\r\n\tb\r\n  c"), AL_OK, "a\tb  c" },
	{ B("a\n b"), AL_OK, "a b" },
	{ B("a\r\n. b"), AL_OK, "a b" },
	{ B("a\r\nb"), AL_E_FOLD, "a" },
	{ B("a\rb"), AL_E_FOLD, "a" },
	{ B("a\r\n"), AL_E_FOLD, "a" },
	{ B("a\r"), AL_E_FOLD, "a" },
	{ B("0123456789abcdef"), AL_E_TOOLONG, "0123456789" },
};

static void
test_unfold(void **state)
{
	char	buf[10];
	size_t	k, n;

	for (k = 0; k < sizeof(unfold_cases) / sizeof(unfold_cases[0]);
	    k++) {
		assert_int_equal(al_unfold(unfold_cases[k].in,
		    unfold_cases[k].len, buf, sizeof(buf), &n),
		    unfold_cases[k].rc);
		assert_int_equal(n, strlen(unfold_cases[k].out));
		assert_memory_equal(buf, unfold_cases[k].out, n);
	}
}

static const struct {
	const char	*in;
	size_t		 len;
	enum al_from_rc	 rc;
	size_t		 n;
} from_cases[] = {
	{ B("From: a@b\r\n\r\n"), AL_FROM_OK, 1 },
	{ B("From: a@b, c@d\r\nTo: x@y\r\n\r\n"), AL_FROM_OK, 2 },
	{ B(".From: a@b\r\n"), AL_FROM_OK, 1 },
	{ B("To: x@y\r\n\r\nFrom: a@b\r\n"), AL_FROM_NONE, 0 },
	{ B("From: a@b\r\nfrom: c@d\r\n"), AL_FROM_MANY, 0 },
	{ B("From: <a@b\r\n"), AL_FROM_UNPARSABLE, 0 },
	{ B("From: \"x@y\" <a@b>, bad\r\n"), AL_FROM_UNPARSABLE, 1 },
	{ B("From:\r\n\r\n"), AL_FROM_NOADDR, 0 },
	{ B("From: Undisclosed:;\r\n"), AL_FROM_NOADDR, 0 },
	{ B("From: (a@b)\r\n"), AL_FROM_NOADDR, 0 },
	{ B("From: a@b,c@d,e@f\r\n"), AL_FROM_TOOMANY, 2 },
	{ B("From: a@b0123456789012345678901234567890123456789012345678901"
	    "234567890\r\n"), AL_FROM_UNPARSABLE, 0 },
};

static void
test_from(void **state)
{
	struct al_mailbox	mb[2];
	char			buf[64];
	size_t			k, n;

	for (k = 0; k < sizeof(from_cases) / sizeof(from_cases[0]); k++) {
		assert_int_equal(al_from(from_cases[k].in, from_cases[k].len,
		    buf, sizeof(buf), mb, 2, &n), from_cases[k].rc);
		assert_int_equal(n, from_cases[k].n);
	}
	assert_string_equal(al_from_name(AL_FROM_MANY),
	    "several From headers");
}

static void
test_phrase(void **state)
{
	char	buf[8];

	assert_int_equal(al_phrase_text(span_make(B(
	    " \"a\\\"b\"  (c) d ")), buf, sizeof(buf)), 5);
	assert_string_equal(buf, "a\"b d");
	assert_int_equal(al_phrase_text(span_make(B("abcdefghij")), buf,
	    sizeof(buf)), 7);
	assert_string_equal(buf, "abcdefg");
	assert_int_equal(al_phrase_text(span_make(B("x")), buf, 0), 0);
}

/* Every prefix of every sample: no crash, spans inside the prefix. */
static void
test_prefixes(void **state)
{
	struct al_mailbox	 mb[4];
	size_t			 k, l, i, n;
	char			*in;

	for (k = 0; k < sizeof(list_cases) / sizeof(list_cases[0]); k++)
		for (l = 0; l <= list_cases[k].len; l++) {
			in = malloc(l ? l : 1);
			assert_non_null(in);
			memcpy(in, list_cases[k].in, l);
			(void)al_parse(in, l, mb, 4, &n, NULL);
			assert_true(n <= 4);
			for (i = 0; i < n; i++)
				assert_true(mb[i].addr.p >= in &&
				    mb[i].addr.p + mb[i].addr.len <= in + l);
			free(in);
		}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_appendix_a),
		cmocka_unit_test(test_isemail),
		cmocka_unit_test(test_lists),
		cmocka_unit_test(test_unfold),
		cmocka_unit_test(test_from),
		cmocka_unit_test(test_phrase),
		cmocka_unit_test(test_prefixes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
