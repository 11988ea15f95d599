/*
 * roster_store.h - rosters (RFC 6121 §2), roster versions (§2.6) and pending inbound
 * subscription requests (§3.1.3) as stored in LMDB; layouts in schemas/store.md.
 *
 * Keys. STORE_DB_ROSTER and STORE_DB_PENDING are keyed "owner\0contact" (both canonical
 * JIDs, which cannot contain NUL), so all of one owner's records are a key range walked
 * with a prefix cursor over "owner\0". STORE_DB_ROSTER_VER is keyed "owner".
 *
 * Records start with a format version byte; decoders reject versions they do not know
 * and any record that is truncated, has trailing bytes or holds values out of range.
 *
 * Lifetime: strings in a decoded record point into the bytes decoded. From the *_get
 * functions and iterators those are the database map: valid until the transaction is
 * written to or ends (see store.h). Copy what must live longer.
 */
#ifndef HERALD_ROSTER_STORE_H
#define HERALD_ROSTER_STORE_H

#include "herald/buf.h"
#include "herald/common.h"
#include "herald/store.h"

/* RFC 6121 §2.3.3 leaves these to the server; the stanza size bounds them too. */
#define ROSTER_NAME_MAX   1023 /* bytes of a handle ('name') */
#define ROSTER_GROUP_MAX  1023 /* bytes of one group name */
#define ROSTER_GROUPS_MAX 64   /* groups of one item */

#define ROSTER_RECORD_V1         1
#define ROSTER_PENDING_RECORD_V1 1

/* The four primary subscription states (RFC 6121 §2.1.2.5), from the owner's side. */
enum roster_sub {
    ROSTER_SUB_NONE = 0,
    ROSTER_SUB_TO = 1,
    ROSTER_SUB_FROM = 2,
    ROSTER_SUB_BOTH = 3
};

/* Sub-states kept on the item: "Pending Out" (ask='subscribe', §2.1.2.2) and a
 * subscription pre-approval (approved='true', §3.4). "Pending In" is the existence of a
 * STORE_DB_PENDING record, since it may exist without a roster item (Appendix A.1 #3). */
#define ROSTER_F_ASK      0x01u
#define ROSTER_F_APPROVED 0x02u
#define ROSTER_F_ALL      (ROSTER_F_ASK | ROSTER_F_APPROVED)

struct roster_str {
    const char *s; /* not NUL-terminated */
    size_t len;
};

struct roster_item {
    uint8_t sub;            /* enum roster_sub */
    uint8_t flags;          /* ROSTER_F_* */
    uint64_t ver;           /* the roster version at which the item last changed */
    struct roster_str name; /* len 0: no handle */
    size_t ngroups;
    struct roster_str groups[ROSTER_GROUPS_MAX];
};

struct roster_pending {
    uint64_t stamp;     /* when it was received, seconds since the Unix epoch */
    const char *stanza; /* the complete <presence type='subscribe'/> as received */
    size_t len;
};

/* ---- record codecs (pure; exposed for tests and fuzzing) ---- */

/* HERALD_EINVAL when a value is out of range (too many groups, empty group...). */
HERALD_MUST_CHECK enum herald_rc roster_item_encode(const struct roster_item *it, struct buf *out);
/* HERALD_EPROTO for anything that is not a valid record of a known version. */
HERALD_MUST_CHECK enum herald_rc roster_item_decode(const void *data, size_t len,
                                                    struct roster_item *out);
HERALD_MUST_CHECK enum herald_rc roster_pending_encode(const struct roster_pending *p,
                                                       struct buf *out);
HERALD_MUST_CHECK enum herald_rc roster_pending_decode(const void *data, size_t len,
                                                       struct roster_pending *out);

/* True when "owner\0contact" fits in a store key (STORE_MAX_KEY). */
bool roster_key_fits(const char *owner, const char *contact);

/* ---- roster items (STORE_DB_ROSTER) ---- */

/* HERALD_ENOTFOUND when absent, HERALD_EPROTO for an unreadable record. */
HERALD_MUST_CHECK enum herald_rc roster_item_get(struct store_txn *t, const char *owner,
                                                 const char *contact, struct roster_item *out);
/* In a store_begin() transaction. HERALD_ELIMIT when the key does not fit. */
HERALD_MUST_CHECK enum herald_rc roster_item_put(struct store_txn *t, const char *owner,
                                                 const char *contact, const struct roster_item *it);
/* HERALD_ENOTFOUND when absent. */
HERALD_MUST_CHECK enum herald_rc roster_item_del(struct store_txn *t, const char *owner,
                                                 const char *contact);
HERALD_MUST_CHECK enum herald_rc roster_count(struct store_txn *t, const char *owner,
                                              uint64_t *count);

/* ---- roster version (STORE_DB_ROSTER_VER: u64 big-endian) ---- */

/* 0 when the owner has no version yet. HERALD_EPROTO for a record that is not 8 bytes. */
HERALD_MUST_CHECK enum herald_rc roster_version_get(struct store_txn *t, const char *owner,
                                                    uint64_t *ver);
HERALD_MUST_CHECK enum herald_rc roster_version_put(struct store_txn *t, const char *owner,
                                                    uint64_t ver);

/* ---- pending inbound subscription requests (STORE_DB_PENDING) ---- */

HERALD_MUST_CHECK enum herald_rc roster_pending_get(struct store_txn *t, const char *owner,
                                                    const char *from, struct roster_pending *out);
HERALD_MUST_CHECK enum herald_rc roster_pending_put(struct store_txn *t, const char *owner,
                                                    const char *from,
                                                    const struct roster_pending *p);
/* HERALD_ENOTFOUND when absent. */
HERALD_MUST_CHECK enum herald_rc roster_pending_del(struct store_txn *t, const char *owner,
                                                    const char *from);
HERALD_MUST_CHECK enum herald_rc roster_pending_count(struct store_txn *t, const char *owner,
                                                      uint64_t *count);

/* Delete all of owner's roster items, pending requests and roster version. */
HERALD_MUST_CHECK enum herald_rc roster_forget(struct store_txn *t, const char *owner);

/* ---- walking one owner's records in contact order ---- */

struct roster_iter {
    struct store_cursor *c;
    size_t plen; /* length of "owner\0" */
    bool started;
};

/* db is STORE_DB_ROSTER or STORE_DB_PENDING. Close before the transaction ends. */
HERALD_MUST_CHECK enum herald_rc roster_iter_open(struct store_txn *t, enum store_db db,
                                                  const char *owner, struct roster_iter *it);
/* The next record; HERALD_ENOTFOUND past the last. `contact` is not NUL-terminated. */
HERALD_MUST_CHECK enum herald_rc roster_iter_next(struct roster_iter *it, const char **contact,
                                                  size_t *clen, const void **val, size_t *vlen);
void roster_iter_close(struct roster_iter *it);

#endif
