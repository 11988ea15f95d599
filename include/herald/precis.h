/*
 * precis.h - PRECIS preparation and enforcement of internationalized strings (RFC 8264,
 * RFC 8265), and the IDNA2008 contextual and Bidi rules shared with domain names.
 *
 * Two profiles are provided:
 *   - UsernameCaseMapped (RFC 8265 §3.3): XMPP localparts and SASL authcids. IdentifierClass;
 *     fullwidth/halfwidth code points mapped to their decompositions; Unicode toLowerCase();
 *     NFC; the Bidi Rule (RFC 5893) for strings holding right-to-left code points.
 *   - OpaqueString (RFC 8265 §4.2): XMPP resourceparts and passwords. FreeformClass;
 *     non-ASCII spaces (Zs) mapped to U+0020; NFC; case preserved.
 *
 * Enforcement is applied until the output is stable, at most four times (RFC 8264 §7); a
 * string that does not settle is rejected. Two strings are equal under a profile iff their
 * enforced forms are byte-equal. Pure ASCII input takes a fast path that calls no Unicode
 * library and gives the same result as the full algorithm.
 *
 * Unicode data comes from GNU libunistring (the Unicode version it was built with).
 */
#ifndef HERALD_PRECIS_H
#define HERALD_PRECIS_H

#include "herald/common.h"
#include "herald/arena.h"

enum precis_profile {
    PRECIS_USERNAME_CASE_MAPPED, /* RFC 8265 §3.3 */
    PRECIS_OPAQUE_STRING,        /* RFC 8265 §4.2 */
};

/*
 * Enforce `profile` on s[0..len) (UTF-8, need not be NUL-terminated; an embedded NUL is a
 * disallowed control). On success *out is the enforced, NUL-terminated string allocated in
 * `a`, and *out_len its length in octets (out_len may be NULL). The output is never empty.
 * HERALD_EINVAL: bad UTF-8, a disallowed or unassigned code point, a failed contextual or
 * Bidi rule, an empty result, or an unstable result. HERALD_ENOMEM: allocation failed.
 * No length limit is applied here: callers check their own.
 */
HERALD_MUST_CHECK enum herald_rc precis_enforce(struct arena *a, enum precis_profile profile,
                                                const char *s, size_t len, const char **out,
                                                size_t *out_len);

/*
 * The rules below are shared with IDNA2008 domain-name labels (the domainpart of a JID).
 * They take valid UTF-8 (check first); on invalid UTF-8 they fail.
 */

/*
 * RFC 5892 Appendix A: every ZERO WIDTH (NON-)JOINER and CONTEXTO code point in the label
 * s[0..len) satisfies its contextual rule. HERALD_EINVAL if one does not (or on ENOMEM,
 * reported as HERALD_ENOMEM).
 */
HERALD_MUST_CHECK enum herald_rc precis_check_context(const char *s, size_t len);

/* True if s[0..len) holds a right-to-left code point (Bidi class R, AL or AN; RFC 5893 §1.4). */
bool precis_has_rtl(const char *s, size_t len);

/* True if s[0..len) satisfies the six conditions of the Bidi Rule (RFC 5893 §2). */
bool precis_bidi_rule_ok(const char *s, size_t len);

#endif
