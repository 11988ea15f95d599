/*
 * jid.h - XMPP addresses (RFC 7622).
 *
 * jid_parse() validates a JID string and produces its canonical form: the localpart
 * prepared and enforced with the PRECIS UsernameCaseMapped profile (RFC 8265 §3.3), the
 * domainpart lowercased/NFC with IDNA2008 rules for U-labels (RFC 7622 §3.2) and the
 * trailing dot removed, the resourcepart with the OpaqueString profile (RFC 8265 §4.2).
 * Each part is at most 1023 octets after preparation (RFC 7622 §3.1).
 *
 * A struct jid is a value: three pointers into one NUL-separated block owned by whoever
 * made it (an arena, or the heap via jid_dup()). local and resource are NULL when absent.
 */
#ifndef HERALD_JID_H
#define HERALD_JID_H

#include "herald/common.h"
#include "herald/arena.h"

#define JID_PART_MAX 1023

struct jid {
    const char *local;    /* NULL if none */
    const char *domain;   /* never NULL in a parsed JID */
    const char *resource; /* NULL if none */
};

/*
 * Parse and canonicalise `s` (NUL-terminated UTF-8). The parts are allocated in `a`.
 * HERALD_EINVAL for anything RFC 7622 does not allow (empty parts, forbidden code points,
 * bad UTF-8, over-long parts, an IP-literal that is not an address...).
 */
HERALD_MUST_CHECK enum herald_rc jid_parse(struct arena *a, const char *s, struct jid *out);

/* Same as jid_parse for a string of known length (need not be NUL-terminated). */
HERALD_MUST_CHECK enum herald_rc jid_parse_n(struct arena *a, const char *s, size_t len,
                                             struct jid *out);

/*
 * Prepare one part alone: for `herald user add` and SASL authcids (localpart),
 * bind requests (resourcepart). The result is allocated in `a`.
 */
HERALD_MUST_CHECK enum herald_rc jid_prep_local(struct arena *a, const char *s, size_t len,
                                                const char **out);
HERALD_MUST_CHECK enum herald_rc jid_prep_domain(struct arena *a, const char *s, size_t len,
                                                 const char **out);
HERALD_MUST_CHECK enum herald_rc jid_prep_resource(struct arena *a, const char *s, size_t len,
                                                   const char **out);

/* "local@domain/resource" of a canonical JID, allocated in `a`. NULL on ENOMEM. */
HERALD_MUST_CHECK char *jid_full_str(struct arena *a, const struct jid *j);
/* "local@domain" (or "domain"). */
HERALD_MUST_CHECK char *jid_bare_str(struct arena *a, const struct jid *j);
/* Canonical JIDs are equal iff these compare equal (byte comparison of the parts). */
bool jid_equal(const struct jid *x, const struct jid *y);
bool jid_bare_equal(const struct jid *x, const struct jid *y);

/*
 * Heap copy: one malloc holding the three parts; free with jid_heap_free(). For long-lived
 * holders such as sessions. Returns HERALD_ENOMEM on failure.
 */
struct jid_heap {
    struct jid jid;
    char *block;
};
HERALD_MUST_CHECK enum herald_rc jid_heap_copy(struct jid_heap *dst, const struct jid *src);
void jid_heap_free(struct jid_heap *j);

#endif
