/*
 * store.c - LMDB environment, per-turn group commit, nested request transactions,
 * key/value access and prefix cursors.
 *
 * Transactions. At most three exist at once, all owned by struct store and never
 * allocated per request:
 *   - `snap`: a read-only snapshot, renewed lazily each turn (MDB_NOTLS lets it coexist
 *     with the write transaction in the same thread);
 *   - `turn`: the write transaction collecting every write of this loop turn;
 *   - `op`: a child of `turn` for the request being handled.
 * store_read() hands out the innermost live one, so a request always reads its own and
 * earlier writes.
 */
#include <errno.h>
#include <lmdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "herald/log.h"
#include "herald/store.h"

#define STORE_SCHEMA_VERSION 1

static const char *const db_names[STORE_DB_MAX] = {
    [STORE_DB_META] = "meta",       [STORE_DB_USERS] = "users",
    [STORE_DB_ROSTER] = "roster",   [STORE_DB_ROSTER_VER] = "roster_ver",
    [STORE_DB_PENDING] = "pending", [STORE_DB_NODES] = "nodes",
    [STORE_DB_ITEMS] = "items",     [STORE_DB_ITEM_IDS] = "item_ids",
    [STORE_DB_SUBS] = "subs",       [STORE_DB_SUBS_BY_JID] = "subs_by_jid",
    [STORE_DB_AFFS] = "affs",       [STORE_DB_AFFS_BY_JID] = "affs_by_jid",
    [STORE_DB_FEEDS] = "feeds",     [STORE_DB_SEEN] = "seen",
};

enum txn_kind { TXN_SNAP, TXN_TURN, TXN_OP };

struct store_txn {
    struct store *s;
    MDB_txn *txn;
    enum txn_kind kind;
    bool live;
};

struct commit_cb {
    store_commit_cb fn;
    void *arg;
};

struct store {
    MDB_env *env;
    MDB_dbi dbi[STORE_DB_MAX];
    struct store_txn snap, turn, op;
    bool snap_reset; /* snapshot exists but is reset (renew before use) */
    struct commit_cb *cbs;
    size_t ncbs, capcbs;
    uint64_t commits;
};

struct store_cursor {
    struct store_txn *t;
    MDB_cursor *cur;
    MDB_val key, val;
    bool valid;
    size_t plen;
    unsigned char prefix[STORE_MAX_KEY];
    unsigned char scratch[STORE_MAX_KEY]; /* seek keys are built here */
};

static enum herald_rc map_err(int rc)
{
    switch (rc) {
    case MDB_SUCCESS:
        return HERALD_OK;
    case MDB_NOTFOUND:
        return HERALD_ENOTFOUND;
    case MDB_KEYEXIST:
        return HERALD_ECONFLICT;
    case MDB_MAP_FULL:
    case MDB_TXN_FULL:
    case MDB_BAD_VALSIZE:
        return HERALD_ELIMIT;
    case ENOMEM:
        return HERALD_ENOMEM;
    default:
        return HERALD_EIO;
    }
}

static enum herald_rc store_check_schema(struct store *s)
{
    MDB_txn *txn;
    int rc = mdb_txn_begin(s->env, NULL, 0, &txn);
    if (rc)
        return map_err(rc);
    MDB_val k = {6, "schema"}, v;
    rc = mdb_get(txn, s->dbi[STORE_DB_META], &k, &v);
    if (rc == MDB_NOTFOUND) {
        unsigned char ver[4] = {0, 0, 0, STORE_SCHEMA_VERSION};
        v = (MDB_val){sizeof(ver), ver};
        rc = mdb_put(txn, s->dbi[STORE_DB_META], &k, &v, 0);
        if (rc == 0)
            return map_err(mdb_txn_commit(txn));
    } else if (rc == 0) {
        const unsigned char *p = v.mv_data;
        uint32_t ver =
            v.mv_size == 4
                ? ((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3])
                : 0;
        if (ver != STORE_SCHEMA_VERSION) {
            log_error("store: schema version %u is not one this build understands (%u)", ver,
                      STORE_SCHEMA_VERSION);
            rc = EINVAL;
        }
    }
    mdb_txn_abort(txn);
    return map_err(rc);
}

enum herald_rc store_open(const char *dir, const struct store_options *opt, struct store **out)
{
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        log_error("store: cannot create %s: %s", dir, strerror(errno));
        return HERALD_EIO;
    }
    struct store *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return HERALD_ENOMEM;
    int rc = mdb_env_create(&s->env);
    if (rc == 0)
        rc = mdb_env_set_maxdbs(s->env, STORE_DB_MAX + 4);
    if (rc == 0)
        rc = mdb_env_set_mapsize(s->env, (size_t)opt->map_size);
    if (rc == 0)
        rc = mdb_env_open(s->env, dir, MDB_NOTLS | (opt->sync ? 0 : MDB_NOSYNC), 0600);
    if (rc) {
        log_error("store: cannot open environment %s: %s", dir, mdb_strerror(rc));
        goto fail;
    }
    int dead = 0;
    (void)mdb_reader_check(s->env, &dead);
    MDB_txn *txn;
    if ((rc = mdb_txn_begin(s->env, NULL, 0, &txn)) != 0)
        goto fail;
    for (int i = 0; i < STORE_DB_MAX; i++) {
        if ((rc = mdb_dbi_open(txn, db_names[i], MDB_CREATE, &s->dbi[i])) != 0) {
            mdb_txn_abort(txn);
            log_error("store: cannot open database %s: %s", db_names[i], mdb_strerror(rc));
            goto fail;
        }
    }
    if ((rc = mdb_txn_commit(txn)) != 0)
        goto fail;
    enum herald_rc hrc = store_check_schema(s);
    if (hrc) {
        mdb_env_close(s->env);
        free(s);
        return hrc;
    }
    s->snap = (struct store_txn){s, NULL, TXN_SNAP, false};
    s->turn = (struct store_txn){s, NULL, TXN_TURN, false};
    s->op = (struct store_txn){s, NULL, TXN_OP, false};
    *out = s;
    return HERALD_OK;
fail:
    if (rc)
        log_error("store: %s: %s", dir, mdb_strerror(rc));
    if (s->env)
        mdb_env_close(s->env);
    free(s);
    return map_err(rc);
}

void store_close(struct store **sp)
{
    struct store *s = sp ? *sp : NULL;
    if (s == NULL)
        return;
    store_abort(&(struct store_txn *){s->op.live ? &s->op : NULL});
    store_flush(s);
    if (s->snap.txn)
        mdb_txn_abort(s->snap.txn);
    mdb_env_close(s->env);
    free(s->cbs);
    free(s);
    *sp = NULL;
}

enum herald_rc store_read(struct store *s, struct store_txn **out)
{
    if (s->op.live) {
        *out = &s->op;
        return HERALD_OK;
    }
    if (s->turn.live) {
        *out = &s->turn;
        return HERALD_OK;
    }
    int rc = 0;
    if (s->snap.txn == NULL)
        rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &s->snap.txn);
    else if (s->snap_reset)
        rc = mdb_txn_renew(s->snap.txn);
    if (rc) {
        log_error("store: cannot begin read transaction: %s", mdb_strerror(rc));
        return map_err(rc);
    }
    s->snap_reset = false;
    s->snap.live = true;
    *out = &s->snap;
    return HERALD_OK;
}

enum herald_rc store_begin(struct store *s, struct store_txn **out)
{
    herald_assert(!s->op.live);
    int rc;
    if (!s->turn.live) {
        if (s->snap.live) {
            mdb_txn_reset(s->snap.txn);
            s->snap.live = false;
            s->snap_reset = true;
        }
        rc = mdb_txn_begin(s->env, NULL, 0, &s->turn.txn);
        if (rc) {
            log_error("store: cannot begin write transaction: %s", mdb_strerror(rc));
            return map_err(rc);
        }
        s->turn.live = true;
    }
    rc = mdb_txn_begin(s->env, s->turn.txn, 0, &s->op.txn);
    if (rc) {
        log_error("store: cannot begin nested transaction: %s", mdb_strerror(rc));
        return map_err(rc);
    }
    s->op.live = true;
    *out = &s->op;
    return HERALD_OK;
}

enum herald_rc store_commit(struct store_txn **tp)
{
    struct store_txn *t = *tp;
    *tp = NULL;
    herald_assert(t && t->kind == TXN_OP && t->live);
    t->live = false;
    int rc = mdb_txn_commit(t->txn);
    t->txn = NULL;
    if (rc)
        log_error("store: nested commit failed: %s", mdb_strerror(rc));
    return map_err(rc);
}

void store_abort(struct store_txn **tp)
{
    struct store_txn *t = tp ? *tp : NULL;
    if (t == NULL)
        return;
    *tp = NULL;
    herald_assert(t->kind == TXN_OP);
    if (!t->live)
        return;
    mdb_txn_abort(t->txn);
    t->txn = NULL;
    t->live = false;
}

enum herald_rc store_on_commit(struct store *s, store_commit_cb fn, void *arg)
{
    if (s->ncbs == s->capcbs) {
        size_t cap = s->capcbs ? s->capcbs * 2 : 64;
        struct commit_cb *n = realloc(s->cbs, cap * sizeof(*n));
        if (n == NULL)
            return HERALD_ENOMEM;
        s->cbs = n;
        s->capcbs = cap;
    }
    s->cbs[s->ncbs++] = (struct commit_cb){fn, arg};
    return HERALD_OK;
}

void store_flush(struct store *s)
{
    herald_assert(!s->op.live);
    enum herald_rc result = HERALD_OK;
    if (s->turn.live) {
        int rc = mdb_txn_commit(s->turn.txn);
        s->turn.txn = NULL;
        s->turn.live = false;
        s->commits++;
        if (rc) {
            log_error("store: commit failed: %s", mdb_strerror(rc));
            result = map_err(rc);
        }
    }
    if (s->snap.live) {
        mdb_txn_reset(s->snap.txn);
        s->snap.live = false;
        s->snap_reset = true;
    }
    /* Callbacks may register callbacks (for the next turn): run a stable batch. */
    size_t n = s->ncbs;
    for (size_t i = 0; i < n; i++)
        s->cbs[i].fn(s->cbs[i].arg, result);
    if (n) {
        memmove(s->cbs, s->cbs + n, (s->ncbs - n) * sizeof(*s->cbs));
        s->ncbs -= n;
    }
}

bool store_dirty(const struct store *s)
{
    return s->turn.live || s->ncbs > 0;
}

uint64_t store_commit_count(const struct store *s)
{
    return s->commits;
}

/* ---- key/value ---- */

enum herald_rc store_get(struct store_txn *t, enum store_db db, const void *key, size_t klen,
                         const void **val, size_t *vlen)
{
    if (klen == 0 || klen > STORE_MAX_KEY)
        return HERALD_ENOTFOUND;
    MDB_val k = {klen, (void *)key}, v;
    int rc = mdb_get(t->txn, t->s->dbi[db], &k, &v);
    if (rc == 0) {
        *val = v.mv_data;
        *vlen = v.mv_size;
    }
    return map_err(rc);
}

enum herald_rc store_put(struct store_txn *t, enum store_db db, const void *key, size_t klen,
                         const void *val, size_t vlen)
{
    herald_assert(t->kind == TXN_OP);
    if (klen == 0 || klen > STORE_MAX_KEY)
        return HERALD_ELIMIT;
    MDB_val k = {klen, (void *)key}, v = {vlen, (void *)val};
    int rc = mdb_put(t->txn, t->s->dbi[db], &k, &v, 0);
    if (rc)
        log_warn("store: put into %s failed: %s", db_names[db], mdb_strerror(rc));
    return map_err(rc);
}

enum herald_rc store_del(struct store_txn *t, enum store_db db, const void *key, size_t klen)
{
    herald_assert(t->kind == TXN_OP);
    if (klen == 0 || klen > STORE_MAX_KEY)
        return HERALD_ENOTFOUND;
    MDB_val k = {klen, (void *)key};
    return map_err(mdb_del(t->txn, t->s->dbi[db], &k, NULL));
}

/* ---- cursors ---- */

static void cursor_check(struct store_cursor *c, int rc)
{
    c->valid =
        rc == 0 && c->key.mv_size >= c->plen && memcmp(c->key.mv_data, c->prefix, c->plen) == 0;
}

enum herald_rc store_cursor_open(struct store_txn *t, enum store_db db, const void *prefix,
                                 size_t plen, struct store_cursor **out)
{
    if (plen > STORE_MAX_KEY)
        return HERALD_ELIMIT;
    struct store_cursor *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return HERALD_ENOMEM;
    int rc = mdb_cursor_open(t->txn, t->s->dbi[db], &c->cur);
    if (rc) {
        free(c);
        return map_err(rc);
    }
    c->t = t;
    c->plen = plen;
    if (plen)
        memcpy(c->prefix, prefix, plen);
    *out = c;
    return HERALD_OK;
}

void store_cursor_close(struct store_cursor **cp)
{
    if (cp == NULL || *cp == NULL)
        return;
    mdb_cursor_close((*cp)->cur);
    free(*cp);
    *cp = NULL;
}

static enum herald_rc cursor_seek(struct store_cursor *c, const void *suffix, size_t slen,
                                  MDB_val *k)
{
    unsigned char *kb = c->scratch;
    if (c->plen + slen > STORE_MAX_KEY)
        return HERALD_ELIMIT;
    memcpy(kb, c->prefix, c->plen);
    if (slen)
        memcpy(kb + c->plen, suffix, slen);
    *k = (MDB_val){c->plen + slen, kb};
    return HERALD_OK;
}

enum herald_rc store_cursor_first(struct store_cursor *c, const void *from, size_t flen)
{
    enum herald_rc hrc;
    int rc;
    if (c->plen + flen == 0) {
        rc = mdb_cursor_get(c->cur, &c->key, &c->val, MDB_FIRST);
    } else {
        if ((hrc = cursor_seek(c, from, flen, &c->key)))
            return hrc;
        rc = mdb_cursor_get(c->cur, &c->key, &c->val, MDB_SET_RANGE);
    }
    cursor_check(c, rc);
    return c->valid ? HERALD_OK : (rc && rc != MDB_NOTFOUND ? map_err(rc) : HERALD_ENOTFOUND);
}

enum herald_rc store_cursor_last(struct store_cursor *c, const void *before, size_t blen)
{
    int rc;
    MDB_val k;
    if (before) {
        enum herald_rc hrc = cursor_seek(c, before, blen, &k);
        if (hrc)
            return hrc;
    } else {
        /* The first key after the prefix range: the prefix with its last byte raised
         * (carrying over 0xff bytes). An all-0xff or empty prefix means "to the end". */
        unsigned char *succ = c->scratch;
        size_t n = c->plen;
        memcpy(succ, c->prefix, n);
        while (n > 0 && succ[n - 1] == 0xff)
            n--;
        if (n == 0) {
            rc = mdb_cursor_get(c->cur, &c->key, &c->val, MDB_LAST);
            cursor_check(c, rc);
            return c->valid ? HERALD_OK : HERALD_ENOTFOUND;
        }
        succ[n - 1]++;
        k = (MDB_val){n, succ};
    }
    c->key = k;
    rc = mdb_cursor_get(c->cur, &c->key, &c->val, MDB_SET_RANGE);
    if (rc == 0)
        rc = mdb_cursor_get(c->cur, &c->key, &c->val, MDB_PREV);
    else if (rc == MDB_NOTFOUND)
        rc = mdb_cursor_get(c->cur, &c->key, &c->val, MDB_LAST);
    cursor_check(c, rc);
    return c->valid ? HERALD_OK : (rc && rc != MDB_NOTFOUND ? map_err(rc) : HERALD_ENOTFOUND);
}

enum herald_rc store_cursor_next(struct store_cursor *c)
{
    if (!c->valid)
        return HERALD_ENOTFOUND;
    int rc = mdb_cursor_get(c->cur, &c->key, &c->val, MDB_NEXT);
    cursor_check(c, rc);
    return c->valid ? HERALD_OK : HERALD_ENOTFOUND;
}

enum herald_rc store_cursor_prev(struct store_cursor *c)
{
    if (!c->valid)
        return HERALD_ENOTFOUND;
    int rc = mdb_cursor_get(c->cur, &c->key, &c->val, MDB_PREV);
    cursor_check(c, rc);
    return c->valid ? HERALD_OK : HERALD_ENOTFOUND;
}

enum herald_rc store_cursor_get(struct store_cursor *c, const void **key, size_t *klen,
                                const void **val, size_t *vlen)
{
    if (!c->valid)
        return HERALD_ENOTFOUND;
    if (key) {
        *key = c->key.mv_data;
        *klen = c->key.mv_size;
    }
    if (val) {
        *val = c->val.mv_data;
        *vlen = c->val.mv_size;
    }
    return HERALD_OK;
}

enum herald_rc store_cursor_del(struct store_cursor *c)
{
    herald_assert(c->t->kind == TXN_OP);
    if (!c->valid)
        return HERALD_ENOTFOUND;
    unsigned char k[STORE_MAX_KEY];
    size_t klen = c->key.mv_size;
    memcpy(k, c->key.mv_data, klen);
    int rc = mdb_cursor_del(c->cur, 0);
    if (rc)
        return map_err(rc);
    /* Re-seek rather than rely on LMDB's post-delete cursor state. */
    c->key = (MDB_val){klen, k};
    rc = mdb_cursor_get(c->cur, &c->key, &c->val, MDB_SET_RANGE);
    cursor_check(c, rc);
    /* The record is deleted either way; a failed re-seek must not pass for the end. */
    return rc && rc != MDB_NOTFOUND ? map_err(rc) : HERALD_OK;
}

/* Walk every key starting with prefix, deleting each when del; *count gets how many. */
static enum herald_rc store_prefix_walk(struct store_txn *t, enum store_db db, const void *prefix,
                                        size_t plen, bool del, uint64_t *count)
{
    struct store_cursor *c;
    uint64_t n = 0;
    enum herald_rc rc = store_cursor_open(t, db, prefix, plen, &c);
    if (rc)
        return rc;
    rc = store_cursor_first(c, NULL, 0);
    while (rc == HERALD_OK) {
        if (!del) {
            n++;
            rc = store_cursor_next(c);
        } else if ((rc = store_cursor_del(c)) == HERALD_OK) {
            n++;
            /* The cursor is at the next key already. */
            rc = c->valid ? HERALD_OK : HERALD_ENOTFOUND;
        }
    }
    store_cursor_close(&c);
    if (count)
        *count = n;
    return rc == HERALD_ENOTFOUND ? HERALD_OK : rc;
}

enum herald_rc store_del_prefix(struct store_txn *t, enum store_db db, const void *prefix,
                                size_t plen, uint64_t *count)
{
    return store_prefix_walk(t, db, prefix, plen, true, count);
}

enum herald_rc store_count_prefix(struct store_txn *t, enum store_db db, const void *prefix,
                                  size_t plen, uint64_t *count)
{
    return store_prefix_walk(t, db, prefix, plen, false, count);
}
