/*
 * core/mime_part.h - reading the Content-* fields of a MIME part's
 * header for core/mime_append.c, and writing code points in the
 * single-byte charsets of core/ew_tab.c. Input: unfolded fields,
 * untrusted; results are copied into struct mp_part (bounded).
 * RFC 2045 5, 6; RFC 2046 5.1.1 (boundary); RFC 2183 (disposition);
 * RFC 2231 parameters ("boundary*0") are not read: such a multipart has
 * no boundary here and is left alone.
 */
#ifndef MXS_MIME_PART_H
#define MXS_MIME_PART_H

#include <stddef.h>
#include <stdint.h>

#include "core/ew.h"
#include "core/mime_append.h"

#define MA_CSNAME	40	/* a longer charset name is unknown */

enum mp_ctype {
	MP_CT_NONE = 0,		/* no Content-Type field */
	MP_CT_PLAIN,		/* text/plain */
	MP_CT_HTML,		/* text/html */
	MP_CT_MULTI,		/* multipart/ *, sub says which */
	MP_CT_MESSAGE,		/* message/ * */
	MP_CT_PKCS7,		/* application/(x-)pkcs7-mime */
	MP_CT_OTHER,
	MP_CT_BAD		/* a field that cannot be read: opaque */
};
enum mp_msub { MP_MS_OTHER = 0, MP_MS_ALT, MP_MS_SIGNED, MP_MS_DIGEST };
enum mp_cte {
	MP_CTE_NONE = 0,	/* no field: 7bit */
	MP_CTE_7BIT, MP_CTE_8BIT, MP_CTE_BINARY, MP_CTE_QP, MP_CTE_B64,
	MP_CTE_OTHER		/* not one of RFC 2045's: never changed */
};
enum mp_bnd { MP_BND_NONE = 0, MP_BND_OK, MP_BND_BAD };

/* What a header section says (the top one or a part's). */
struct mp_part {
	enum mp_ctype	type;
	enum mp_msub	sub;
	enum mp_cte	cte;
	enum mp_bnd	bnd;
	int		have_ct, have_cte, have_cd;
	int		attach;		/* Content-Disposition other than
					   inline */
	int		cs_given;	/* a charset parameter, maybe bad */
	size_t		blen, cslen;
	char		bound[MA_MAX_BOUNDARY];
	char		cs[MA_CSNAME];
};

/*
 * mp_field - fold what the unfolded field f[0..n) ("Name: value") says
 * into *pt; only the first Content-Type, Content-Transfer-Encoding and
 * Content-Disposition count. trunc: the field was cut (longer than
 * MA_FIELD): a cut Content-Type is unreadable (MP_CT_BAD), a cut
 * encoding unknown, a cut disposition an attachment.
 */
void		mp_field(struct mp_part *pt, const char *f, size_t n, int trunc);

/*
 * mp_is_field - does the line p[0..n) start a header field as Python's
 * email reads one (printable name, then ":"; or an mbox "From ")?
 */
int		mp_is_field(const char *p, size_t n);

/* mp_utf8_next - the code point at s[*i], invalid UTF-8 as U+FFFD;
 * advances *i (by 1 at least). */
uint32_t	mp_utf8_next(const char *s, size_t n, size_t *i);

/* mp_cs_octet - the octet of code point cp in a single-byte charset
 * (EW_CS_LATIN1, EW_CS_TABLE; ASCII in any), -1 when it has none. */
int		mp_cs_octet(const struct ew_charset *cs, uint32_t cp);

/* mp_cs_never - a charset no text can be added to, even ASCII (UTF-16,
 * UTF-32, UTF-7, UCS-2/4). */
int		mp_cs_never(const char *name, size_t n);

#endif
