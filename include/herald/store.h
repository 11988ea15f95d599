/*
 * store.h - durable storage: one LMDB environment, named databases, group commit.
 *
 * Model (DESIGN.md "Durability"). All writes of one event-loop turn go into one LMDB write
 * transaction, committed and synced once by store_flush() at the end of the turn. Each
 * request writes inside its own nested transaction (store_begin ... store_commit or
 * store_abort), so a request that fails half-way leaves no trace while the others of the
 * turn still commit. Whatever must wait for durability (an iq result, notifications)
 * is registered with store_on_commit() and runs after the sync, in registration order,
 * with HERALD_OK, or with the error if the commit failed (then nothing of the turn is
 * stored and nobody may be told otherwise).
 *
 * Reads use store_read(): the turn's write transaction once one is open (so a request
 * sees what earlier requests of the same turn wrote), else a read snapshot renewed each
 * turn. A store_txn from store_read() is valid until the end of the turn or the next
 * store_begin(); one from store_begin() until store_commit/store_abort.
 *
 * Values returned by store_get and cursors point into the database map: valid until the
 * transaction ends or is written to. Copy them to keep them.
 *
 * Keys and record layouts are documented in schemas/store.md. Only broker/store/
 * includes <lmdb.h>.
 */
#ifndef HERALD_STORE_H
#define HERALD_STORE_H

#include "herald/common.h"

struct store;
struct store_txn;
struct store_cursor;

enum store_db {
    STORE_DB_META = 0,    /* "schema" -> u32 version */
    STORE_DB_USERS,       /* bare JID -> credentials record */
    STORE_DB_ROSTER,      /* owner \0 contact -> roster item record */
    STORE_DB_ROSTER_VER,  /* owner -> u64 roster version */
    STORE_DB_PENDING,     /* owner \0 from -> pending inbound subscription request */
    STORE_DB_NODES,       /* service \0 node -> node record */
    STORE_DB_ITEMS,       /* service \0 node \0 seq(u64 BE) -> item record */
    STORE_DB_ITEM_IDS,    /* service \0 node \0 item-id -> seq (u64 BE) */
    STORE_DB_SUBS,        /* service \0 node \0 jid \0 subid -> subscription record */
    STORE_DB_SUBS_BY_JID, /* jid \0 service \0 node \0 subid -> empty (reverse index) */
    STORE_DB_AFFS,        /* service \0 node \0 jid -> affiliation record */
    STORE_DB_AFFS_BY_JID, /* jid \0 service \0 node -> affiliation record (reverse index) */
    STORE_DB_FEEDS,       /* feed URL -> fetch state */
    STORE_DB_SEEN,        /* feed \0 entry key -> content hash */
    STORE_DB_MAX
};

struct store_options {
    uint64_t map_size; /* bytes of address space for the map */
    bool sync;         /* sync at every commit (durable) */
};

/* Open (creating if needed) the environment in folder `dir`. */
HERALD_MUST_CHECK enum herald_rc store_open(const char *dir, const struct store_options *opt,
                                            struct store **out);
/* Commits pending writes (store_flush) and closes. NULL-safe; sets *s to NULL. */
void store_close(struct store **s);

HERALD_MUST_CHECK enum herald_rc store_read(struct store *s, struct store_txn **out);
HERALD_MUST_CHECK enum herald_rc store_begin(struct store *s, struct store_txn **out);
/* Merge the request's writes into the turn's transaction. Sets *t to NULL. */
HERALD_MUST_CHECK enum herald_rc store_commit(struct store_txn **t);
/* Undo the request's writes. Sets *t to NULL. NULL-safe. */
void store_abort(struct store_txn **t);

typedef void (*store_commit_cb)(void *arg, enum herald_rc rc);
/* Run fn(arg, rc) after the turn's commit. HERALD_ENOMEM if it cannot be queued. */
HERALD_MUST_CHECK enum herald_rc store_on_commit(struct store *s, store_commit_cb fn, void *arg);
/* End of turn: commit and sync the turn's writes, then run the callbacks. */
void store_flush(struct store *s);
/* True when a write transaction or callbacks are waiting for store_flush(). */
bool store_dirty(const struct store *s);
/* Commits done and the time they took (for stats and benchmarks). */
uint64_t store_commit_count(const struct store *s);

/* ---- key/value access ---- */

/* HERALD_ENOTFOUND when absent. */
HERALD_MUST_CHECK enum herald_rc store_get(struct store_txn *t, enum store_db db, const void *key,
                                           size_t klen, const void **val, size_t *vlen);
/* HERALD_ELIMIT when the map is full or the key is too long (LMDB: 511 bytes). */
HERALD_MUST_CHECK enum herald_rc store_put(struct store_txn *t, enum store_db db, const void *key,
                                           size_t klen, const void *val, size_t vlen);
/* HERALD_ENOTFOUND when absent. */
HERALD_MUST_CHECK enum herald_rc store_del(struct store_txn *t, enum store_db db, const void *key,
                                           size_t klen);
/* Delete every key starting with prefix; *count (may be NULL) receives how many. */
HERALD_MUST_CHECK enum herald_rc store_del_prefix(struct store_txn *t, enum store_db db,
                                                  const void *prefix, size_t plen, uint64_t *count);
/* Number of keys starting with prefix (walks them). */
HERALD_MUST_CHECK enum herald_rc store_count_prefix(struct store_txn *t, enum store_db db,
                                                    const void *prefix, size_t plen,
                                                    uint64_t *count);

/* Largest key length the store accepts. */
#define STORE_MAX_KEY 511

/*
 * Cursors over keys that start with a prefix, in key order. A cursor belongs to the
 * transaction it was opened in and must be closed before that transaction ends.
 */
HERALD_MUST_CHECK enum herald_rc store_cursor_open(struct store_txn *t, enum store_db db,
                                                   const void *prefix, size_t plen,
                                                   struct store_cursor **out);
void store_cursor_close(struct store_cursor **c);
/* Position at the first key >= prefix+from (from may be NULL: the first key of the prefix). */
HERALD_MUST_CHECK enum herald_rc store_cursor_first(struct store_cursor *c, const void *from,
                                                    size_t flen);
/* Position at the last key of the prefix, or the last key < prefix+before if before given. */
HERALD_MUST_CHECK enum herald_rc store_cursor_last(struct store_cursor *c, const void *before,
                                                   size_t blen);
HERALD_MUST_CHECK enum herald_rc store_cursor_next(struct store_cursor *c);
HERALD_MUST_CHECK enum herald_rc store_cursor_prev(struct store_cursor *c);
/* The current record (HERALD_ENOTFOUND once past either end of the prefix). */
HERALD_MUST_CHECK enum herald_rc store_cursor_get(struct store_cursor *c, const void **key,
                                                  size_t *klen, const void **val, size_t *vlen);
/* Delete the current record; the cursor then points at the next one. */
HERALD_MUST_CHECK enum herald_rc store_cursor_del(struct store_cursor *c);

#endif
