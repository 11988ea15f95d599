/*
 * store_pubsub.c - pubsub keys and records (see schemas/store.md, "pubsub").
 *
 *   nodes        svc \0 node                      -> u8 v=1, i64 created, lstr creator,
 *                                                    lstr node-config record
 *   items        svc \0 node \0 seq(u64 BE)        -> u8 v=1, i64 ts, lstr id,
 *                                                    lstr publisher, lstr payload
 *   item_ids     svc \0 node \0 id                 -> u64 BE seq
 *   subs         svc \0 node \0 jid \0 subid       -> u8 v=1, u8 state, lstr options record
 *   subs_by_jid  jid \0 svc \0 node \0 subid       -> (empty)
 *   affs         svc \0 node \0 jid                -> u8 v=1, u8 affiliation
 *   affs_by_jid  jid \0 svc \0 node                -> u8 v=1, u8 affiliation
 *
 * Sequence numbers are big-endian so that key order is publication order.
 */
#include <string.h>

#include "herald/buf.h"
#include "herald/pubsub_store.h"
#include "herald/store.h"

#define REC_V1   1
#define AFF_NONE 1 /* enum pubsub_aff's "none": no record is kept for it */

struct pkey {
    size_t len;
    unsigned char b[STORE_MAX_KEY];
};

/* Append a part (and the NUL separator before it unless it is the first). */
static enum herald_rc key_add(struct pkey *k, const char *part)
{
    size_t n = strlen(part);
    size_t sep = k->len ? 1 : 0;
    if (k->len + sep + n > sizeof(k->b))
        return HERALD_ELIMIT;
    if (sep)
        k->b[k->len++] = '\0';
    memcpy(k->b + k->len, part, n);
    k->len += n;
    return HERALD_OK;
}

/* A trailing NUL turns "a\0b" into the prefix of every "a\0b\0..." key. */
static enum herald_rc key_end_prefix(struct pkey *k)
{
    if (k->len + 1 > sizeof(k->b))
        return HERALD_ELIMIT;
    k->b[k->len++] = '\0';
    return HERALD_OK;
}

static enum herald_rc key_add_seq(struct pkey *k, uint64_t seq)
{
    if (k->len + 1 + 8 > sizeof(k->b))
        return HERALD_ELIMIT;
    k->b[k->len++] = '\0';
    for (int i = 7; i >= 0; i--)
        k->b[k->len + (size_t)i] = (unsigned char)(seq >> (8 * (7 - i)));
    k->len += 8;
    return HERALD_OK;
}

static enum herald_rc key2(struct pkey *k, const char *a, const char *b)
{
    k->len = 0;
    enum herald_rc rc = key_add(k, a);
    return rc ? rc : key_add(k, b);
}

static enum herald_rc key3(struct pkey *k, const char *a, const char *b, const char *c)
{
    enum herald_rc rc = key2(k, a, b);
    return rc ? rc : key_add(k, c);
}

static uint64_t seq_of(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

/*
 * Walk the records of db whose keys start with prefix, in key order from prefix+from (from
 * NULL: the first): fn gets each key past the prefix, and the value; it returns false to
 * stop, after setting *rc to fail the walk (left HERALD_OK, the walk just ends).
 */
typedef bool (*rec_fn)(void *arg, const char *rest, size_t rlen, const void *v, size_t vlen,
                       enum herald_rc *rc);

static enum herald_rc prefix_each_from(struct store_txn *t, enum store_db db, const void *prefix,
                                       size_t plen, const void *from, size_t flen, rec_fn fn,
                                       void *arg)
{
    struct store_cursor *c;
    enum herald_rc rc = store_cursor_open(t, db, prefix, plen, &c);
    if (rc)
        return rc;
    for (rc = store_cursor_first(c, from, flen); rc == HERALD_OK; rc = store_cursor_next(c)) {
        const void *key, *v;
        size_t klen, vlen;
        if ((rc = store_cursor_get(c, &key, &klen, &v, &vlen)))
            break;
        if (!fn(arg, (const char *)key + plen, klen - plen, v, vlen, &rc))
            break;
    }
    store_cursor_close(&c);
    return rc == HERALD_ENOTFOUND ? HERALD_OK : rc;
}

static enum herald_rc prefix_each(struct store_txn *t, enum store_db db, const void *prefix,
                                  size_t plen, rec_fn fn, void *arg)
{
    return prefix_each_from(t, db, prefix, plen, NULL, 0, fn, arg);
}

/* "part" and the rest of a key after its NUL (rest NULL when there is none), as strings. */
static void key_split(const char *k, size_t klen, char part[STORE_MAX_KEY],
                      char rest[STORE_MAX_KEY])
{
    const char *nul = memchr(k, '\0', klen);
    size_t plen = nul ? (size_t)(nul - k) : klen;
    memcpy(part, k, plen);
    part[plen] = '\0';
    size_t rlen = nul ? klen - plen - 1 : 0;
    if (rlen)
        memcpy(rest, nul + 1, rlen);
    rest[rlen] = '\0';
}

/* ---- nodes ---- */

enum herald_rc pubsub_store_node_put(struct store_txn *t, const char *svc, const char *node,
                                     const struct pubsub_config *cfg, int64_t created_us,
                                     const char *creator)
{
    struct pkey k;
    struct buf rec, conf;
    enum herald_rc rc = key2(&k, svc, node);
    if (rc)
        return rc;
    buf_init(&rec, 0);
    buf_init(&conf, 0);
    rc = pubsub_config_encode(cfg, &conf);
    if (rc == HERALD_OK) {
        buf_append_byte(&rec, REC_V1);
        buf_append_u64be(&rec, (uint64_t)created_us);
        buf_append_lstr(&rec, creator ? creator : "", creator ? strlen(creator) : 0);
        buf_append_lstr(&rec, conf.data, conf.len);
        rc = rec.err ? rec.err : store_put(t, STORE_DB_NODES, k.b, k.len, rec.data, rec.len);
    }
    buf_cleanup(&rec);
    buf_cleanup(&conf);
    return rc;
}

enum herald_rc pubsub_store_node_get(struct store_txn *t, const char *svc, const char *node,
                                     struct pubsub_config *cfg, int64_t *created_us, char **creator)
{
    struct pkey k;
    const void *v;
    size_t vlen;
    enum herald_rc rc = key2(&k, svc, node);
    if (rc == HERALD_ELIMIT)
        return HERALD_ENOTFOUND; /* no such key can exist */
    if (rc || (rc = store_get(t, STORE_DB_NODES, k.b, k.len, &v, &vlen)))
        return rc;
    struct buf_reader r;
    uint8_t ver;
    uint64_t created;
    const char *cr, *conf;
    size_t crlen, conflen;
    buf_reader_init(&r, v, vlen);
    if (buf_read_u8(&r, &ver) || ver != REC_V1 || buf_read_u64be(&r, &created) ||
        buf_read_lstr(&r, &cr, &crlen) || buf_read_lstr(&r, &conf, &conflen) || r.left)
        return HERALD_EPROTO;
    if ((rc = pubsub_config_decode(conf, conflen, cfg)))
        return rc;
    *created_us = (int64_t)created;
    *creator = herald_strndup(HERALD_MEM_PUBSUB, cr, crlen);
    if (*creator == NULL) {
        pubsub_config_cleanup(cfg);
        return HERALD_ENOMEM;
    }
    return HERALD_OK;
}

/* Delete the reverse-index entries that belong to this node, walking the forward ones. */
struct reverse_ctx {
    struct store_txn *t;
    enum store_db rev;
    const char *svc, *node;
};

static bool delete_reverse_cb(void *arg, const char *rest, size_t rlen, const void *v, size_t vlen,
                              enum herald_rc *rc)
{
    /* fwd key: svc \0 node \0 jid [\0 subid]; rev key: jid \0 svc \0 node [\0 subid] */
    struct reverse_ctx *x = arg;
    char jid[STORE_MAX_KEY], subid[STORE_MAX_KEY];
    struct pkey rk;
    (void)v, (void)vlen;
    key_split(rest, rlen, jid, subid);
    if ((*rc = key3(&rk, jid, x->svc, x->node)) || (*subid && (*rc = key_add(&rk, subid))))
        return false;
    *rc = store_del(x->t, x->rev, rk.b, rk.len);
    if (*rc == HERALD_ENOTFOUND)
        *rc = HERALD_OK;
    return *rc == HERALD_OK;
}

static enum herald_rc delete_reverse(struct store_txn *t, enum store_db fwd, enum store_db rev,
                                     const struct pkey *prefix, const char *svc, const char *node)
{
    struct reverse_ctx x = {t, rev, svc, node};
    return prefix_each(t, fwd, prefix->b, prefix->len, delete_reverse_cb, &x);
}

enum herald_rc pubsub_store_node_delete(struct store_txn *t, const char *svc, const char *node)
{
    struct pkey k, p;
    enum herald_rc rc = key2(&k, svc, node);
    if (rc)
        return rc;
    p = k;
    if ((rc = key_end_prefix(&p)))
        return rc;
    if ((rc = store_del(t, STORE_DB_NODES, k.b, k.len)))
        return rc;
    if ((rc = delete_reverse(t, STORE_DB_SUBS, STORE_DB_SUBS_BY_JID, &p, svc, node)) ||
        (rc = delete_reverse(t, STORE_DB_AFFS, STORE_DB_AFFS_BY_JID, &p, svc, node)))
        return rc;
    static const enum store_db dbs[] = {STORE_DB_ITEMS, STORE_DB_ITEM_IDS, STORE_DB_SUBS,
                                        STORE_DB_AFFS};
    for (size_t i = 0; i < HERALD_ARRAY_LEN(dbs); i++)
        if ((rc = store_del_prefix(t, dbs[i], p.b, p.len, NULL)))
            return rc;
    return HERALD_OK;
}

struct nodes_ctx {
    bool (*fn)(void *arg, const char *name, size_t len);
    void *arg;
};

static bool nodes_cb(void *arg, const char *rest, size_t rlen, const void *v, size_t vlen,
                     enum herald_rc *rc)
{
    struct nodes_ctx *x = arg;
    (void)v, (void)vlen, (void)rc;
    return x->fn(x->arg, rest, rlen);
}

enum herald_rc pubsub_store_nodes_each(struct store_txn *t, const char *svc, const char *after,
                                       bool (*fn)(void *arg, const char *name, size_t len),
                                       void *arg)
{
    struct pkey p = {0};
    struct nodes_ctx x = {fn, arg};
    enum herald_rc rc = key_add(&p, svc);
    if (rc || (rc = key_end_prefix(&p)))
        return rc;
    /* "name\0" sorts just after "name" and before any longer name starting with it. */
    return prefix_each_from(t, STORE_DB_NODES, p.b, p.len, after, after ? strlen(after) + 1 : 0,
                            nodes_cb, &x);
}

/* ---- items ---- */

static enum herald_rc item_decode(const void *key, size_t klen, const void *v, size_t vlen,
                                  struct pubsub_store_item *out)
{
    struct buf_reader r;
    uint8_t ver;
    uint64_t ts;
    if (klen < 8)
        return HERALD_EPROTO;
    out->seq = seq_of((const unsigned char *)key + klen - 8);
    buf_reader_init(&r, v, vlen);
    if (buf_read_u8(&r, &ver) || ver != REC_V1 || buf_read_u64be(&r, &ts) ||
        buf_read_lstr(&r, &out->id, &out->id_len) ||
        buf_read_lstr(&r, &out->publisher, &out->publisher_len) ||
        buf_read_lstr(&r, &out->payload, &out->payload_len) || r.left)
        return HERALD_EPROTO;
    out->ts_us = (int64_t)ts;
    return HERALD_OK;
}

enum herald_rc pubsub_store_item_put(struct store_txn *t, const char *svc, const char *node,
                                     uint64_t seq, const char *id, const char *publisher,
                                     int64_t ts_us, const char *payload, size_t payload_len)
{
    struct pkey k, ik;
    enum herald_rc rc = key2(&k, svc, node);
    if (rc || (rc = key_add_seq(&k, seq)) || (rc = key3(&ik, svc, node, id)))
        return rc;
    struct buf rec;
    buf_init(&rec, 0);
    buf_append_byte(&rec, REC_V1);
    buf_append_u64be(&rec, (uint64_t)ts_us);
    buf_append_lstr(&rec, id, strlen(id));
    buf_append_lstr(&rec, publisher ? publisher : "", publisher ? strlen(publisher) : 0);
    buf_append_lstr(&rec, payload ? payload : "", payload_len);
    rc = rec.err ? rec.err : store_put(t, STORE_DB_ITEMS, k.b, k.len, rec.data, rec.len);
    buf_cleanup(&rec);
    if (rc)
        return rc;
    unsigned char sb[8];
    for (int i = 7; i >= 0; i--)
        sb[i] = (unsigned char)(seq >> (8 * (7 - i)));
    return store_put(t, STORE_DB_ITEM_IDS, ik.b, ik.len, sb, sizeof(sb));
}

static enum herald_rc item_seq(struct store_txn *t, const char *svc, const char *node,
                               const char *id, uint64_t *seq)
{
    struct pkey ik;
    const void *v;
    size_t vlen;
    enum herald_rc rc = key3(&ik, svc, node, id);
    if (rc == HERALD_ELIMIT)
        return HERALD_ENOTFOUND;
    if (rc || (rc = store_get(t, STORE_DB_ITEM_IDS, ik.b, ik.len, &v, &vlen)))
        return rc;
    if (vlen != 8)
        return HERALD_EPROTO;
    *seq = seq_of(v);
    return HERALD_OK;
}

enum herald_rc pubsub_store_item_get(struct store_txn *t, const char *svc, const char *node,
                                     const char *id, struct pubsub_store_item *out)
{
    uint64_t seq;
    struct pkey k;
    const void *v;
    size_t vlen;
    enum herald_rc rc = item_seq(t, svc, node, id, &seq);
    if (rc || (rc = key2(&k, svc, node)) || (rc = key_add_seq(&k, seq)) ||
        (rc = store_get(t, STORE_DB_ITEMS, k.b, k.len, &v, &vlen)))
        return rc;
    return item_decode(k.b, k.len, v, vlen, out);
}

enum herald_rc pubsub_store_item_del(struct store_txn *t, const char *svc, const char *node,
                                     const char *id)
{
    uint64_t seq;
    struct pkey k, ik;
    enum herald_rc rc = item_seq(t, svc, node, id, &seq);
    if (rc || (rc = key2(&k, svc, node)) || (rc = key_add_seq(&k, seq)) ||
        (rc = key3(&ik, svc, node, id)))
        return rc;
    rc = store_del(t, STORE_DB_ITEMS, k.b, k.len);
    if (rc && rc != HERALD_ENOTFOUND)
        return rc;
    return store_del(t, STORE_DB_ITEM_IDS, ik.b, ik.len);
}

enum herald_rc pubsub_store_items_each(struct store_txn *t, const char *svc, const char *node,
                                       bool newest_first, uint64_t from_seq,
                                       bool (*fn)(void *arg, const struct pubsub_store_item *it),
                                       void *arg)
{
    struct pkey p;
    struct store_cursor *c;
    enum herald_rc rc = key2(&p, svc, node);
    if (rc == HERALD_ELIMIT)
        return HERALD_OK;
    if (rc || (rc = key_end_prefix(&p)) ||
        (rc = store_cursor_open(t, STORE_DB_ITEMS, p.b, p.len, &c)))
        return rc;
    unsigned char sb[8];
    for (int i = 7; i >= 0; i--)
        sb[i] = (unsigned char)(from_seq >> (8 * (7 - i)));
    if (newest_first)
        rc = from_seq ? store_cursor_last(c, sb, 8) : store_cursor_last(c, NULL, 0);
    else if (from_seq) {
        /* first key > from_seq */
        rc = store_cursor_first(c, sb, 8);
        const void *key;
        size_t klen;
        if (rc == HERALD_OK && store_cursor_get(c, &key, &klen, NULL, NULL) == HERALD_OK &&
            klen >= 8 && seq_of((const unsigned char *)key + klen - 8) == from_seq)
            rc = store_cursor_next(c);
    } else {
        rc = store_cursor_first(c, NULL, 0);
    }
    while (rc == HERALD_OK) {
        const void *key, *v;
        size_t klen, vlen;
        struct pubsub_store_item it;
        if ((rc = store_cursor_get(c, &key, &klen, &v, &vlen)) ||
            (rc = item_decode(key, klen, v, vlen, &it)))
            break;
        if (!fn(arg, &it))
            break;
        rc = newest_first ? store_cursor_prev(c) : store_cursor_next(c);
    }
    store_cursor_close(&c);
    return rc == HERALD_ENOTFOUND ? HERALD_OK : rc;
}

enum herald_rc pubsub_store_items_stats(struct store_txn *t, const char *svc, const char *node,
                                        uint64_t *count, uint64_t *last_seq)
{
    struct pkey p;
    struct store_cursor *c;
    enum herald_rc rc = key2(&p, svc, node);
    if (rc || (rc = key_end_prefix(&p)))
        return rc;
    if ((rc = store_count_prefix(t, STORE_DB_ITEMS, p.b, p.len, count)))
        return rc;
    *last_seq = 0;
    if ((rc = store_cursor_open(t, STORE_DB_ITEMS, p.b, p.len, &c)))
        return rc;
    rc = store_cursor_last(c, NULL, 0);
    const void *key;
    size_t klen;
    if (rc == HERALD_OK && (rc = store_cursor_get(c, &key, &klen, NULL, NULL)) == HERALD_OK &&
        klen >= 8)
        *last_seq = seq_of((const unsigned char *)key + klen - 8);
    store_cursor_close(&c);
    return rc == HERALD_ENOTFOUND ? HERALD_OK : rc;
}

enum herald_rc pubsub_store_items_purge(struct store_txn *t, const char *svc, const char *node,
                                        uint64_t *count)
{
    struct pkey p;
    enum herald_rc rc = key2(&p, svc, node);
    if (rc || (rc = key_end_prefix(&p)))
        return rc;
    if ((rc = store_del_prefix(t, STORE_DB_ITEMS, p.b, p.len, count)))
        return rc;
    return store_del_prefix(t, STORE_DB_ITEM_IDS, p.b, p.len, NULL);
}

/* ---- subscriptions ---- */

enum herald_rc pubsub_store_sub_put(struct store_txn *t, const char *svc, const char *node,
                                    const char *jid, const char *subid, uint8_t state,
                                    const struct pubsub_subopts *opts)
{
    struct pkey k, rk;
    enum herald_rc rc = key3(&k, svc, node, jid);
    if (rc || (rc = key_add(&k, subid)) || (rc = key3(&rk, jid, svc, node)) ||
        (rc = key_add(&rk, subid)))
        return rc;
    struct buf rec, o;
    buf_init(&rec, 0);
    buf_init(&o, 0);
    rc = pubsub_subopts_encode(opts, &o);
    if (rc == HERALD_OK) {
        buf_append_byte(&rec, REC_V1);
        buf_append_byte(&rec, state);
        buf_append_lstr(&rec, o.data, o.len);
        rc = rec.err ? rec.err : store_put(t, STORE_DB_SUBS, k.b, k.len, rec.data, rec.len);
    }
    buf_cleanup(&rec);
    buf_cleanup(&o);
    return rc ? rc : store_put(t, STORE_DB_SUBS_BY_JID, rk.b, rk.len, "", 0);
}

enum herald_rc pubsub_store_sub_del(struct store_txn *t, const char *svc, const char *node,
                                    const char *jid, const char *subid)
{
    struct pkey k, rk;
    enum herald_rc rc = key3(&k, svc, node, jid);
    if (rc || (rc = key_add(&k, subid)) || (rc = key3(&rk, jid, svc, node)) ||
        (rc = key_add(&rk, subid)))
        return rc;
    rc = store_del(t, STORE_DB_SUBS, k.b, k.len);
    if (rc)
        return rc;
    rc = store_del(t, STORE_DB_SUBS_BY_JID, rk.b, rk.len);
    return rc == HERALD_ENOTFOUND ? HERALD_OK : rc;
}

struct subs_ctx {
    bool (*fn)(void *arg, const char *jid, const char *subid, uint8_t state,
               const struct pubsub_subopts *opts);
    void *arg;
};

static bool subs_cb(void *arg, const char *rest, size_t rlen, const void *v, size_t vlen,
                    enum herald_rc *rc)
{
    struct subs_ctx *x = arg;
    char jid[STORE_MAX_KEY], subid[STORE_MAX_KEY];
    struct buf_reader r;
    uint8_t ver, state;
    const char *o;
    size_t olen;
    struct pubsub_subopts opts;
    buf_reader_init(&r, v, vlen);
    if (memchr(rest, '\0', rlen) == NULL || buf_read_u8(&r, &ver) || ver != REC_V1 ||
        buf_read_u8(&r, &state) || buf_read_lstr(&r, &o, &olen) || r.left ||
        pubsub_subopts_decode(o, olen, &opts) != HERALD_OK) {
        *rc = HERALD_EPROTO;
        return false;
    }
    key_split(rest, rlen, jid, subid);
    return x->fn(x->arg, jid, subid, state, &opts);
}

enum herald_rc pubsub_store_subs_each(struct store_txn *t, const char *svc, const char *node,
                                      bool (*fn)(void *arg, const char *jid, const char *subid,
                                                 uint8_t state, const struct pubsub_subopts *opts),
                                      void *arg)
{
    struct pkey p;
    struct subs_ctx x = {fn, arg};
    enum herald_rc rc = key2(&p, svc, node);
    if (rc || (rc = key_end_prefix(&p)))
        return rc;
    return prefix_each(t, STORE_DB_SUBS, p.b, p.len, subs_cb, &x);
}

/* Walk reverse-index keys "bare..." that belong to `bare` or one of its full JIDs, on
 * service svc: fn gets the JID, the node, the rest of the key (a SubID) and the value. */
typedef bool (*rev_fn)(void *arg, const char *jid, const char *node, const char *rest, size_t rlen,
                       const void *v, size_t vlen);

struct rev_ctx {
    const char *svc;
    size_t blen, slen;
    rev_fn fn;
    void *arg;
};

static bool rev_cb(void *arg, const char *k, size_t klen, const void *v, size_t vlen,
                   enum herald_rc *rc)
{
    struct rev_ctx *x = arg;
    (void)rc;
    /* k: the key past the bare JID: "" or "/resource", then \0 svc \0 node [\0 subid] */
    if (klen == 0 || (k[0] != '\0' && k[0] != '/'))
        return true; /* another JID that starts with the same bytes */
    const char *jend = memchr(k, '\0', klen);
    if (jend == NULL)
        return true;
    const char *s = jend + 1;
    size_t left = klen - (size_t)(s - k);
    if (left <= x->slen || memcmp(s, x->svc, x->slen) != 0 || s[x->slen] != '\0')
        return true; /* another service */
    const char *node = s + x->slen + 1;
    left -= x->slen + 1;
    const char *nend = memchr(node, '\0', left);
    size_t nlen = nend ? (size_t)(nend - node) : left;
    char jid[STORE_MAX_KEY], nodename[STORE_MAX_KEY];
    memcpy(jid, k - x->blen, x->blen + (size_t)(jend - k)); /* from the key's start */
    jid[x->blen + (size_t)(jend - k)] = '\0';
    memcpy(nodename, node, nlen);
    nodename[nlen] = '\0';
    const char *rest = nend ? nend + 1 : node + nlen;
    size_t rlen = nend ? left - nlen - 1 : 0;
    return x->fn(x->arg, jid, nodename, rest, rlen, v, vlen);
}

static enum herald_rc rev_each(struct store_txn *t, enum store_db db, const char *svc,
                               const char *bare, rev_fn fn, void *arg)
{
    struct rev_ctx x = {svc, strlen(bare), strlen(svc), fn, arg};
    return prefix_each(t, db, bare, x.blen, rev_cb, &x);
}

struct subs_of_ctx {
    bool (*fn)(void *arg, const char *node, const char *jid, const char *subid);
    void *arg;
};

static bool subs_of_cb(void *arg, const char *jid, const char *node, const char *rest, size_t rlen,
                       const void *v, size_t vlen)
{
    struct subs_of_ctx *x = arg;
    char subid[STORE_MAX_KEY];
    (void)v, (void)vlen;
    memcpy(subid, rest, rlen);
    subid[rlen] = '\0';
    return x->fn(x->arg, node, jid, subid);
}

enum herald_rc pubsub_store_subs_of_jid(struct store_txn *t, const char *svc, const char *bare,
                                        bool (*fn)(void *arg, const char *node, const char *jid,
                                                   const char *subid),
                                        void *arg)
{
    struct subs_of_ctx x = {fn, arg};
    return rev_each(t, STORE_DB_SUBS_BY_JID, svc, bare, subs_of_cb, &x);
}

/* ---- affiliations ---- */

enum herald_rc pubsub_store_aff_put(struct store_txn *t, const char *svc, const char *node,
                                    const char *jid, uint8_t aff)
{
    struct pkey k, rk;
    enum herald_rc rc = key3(&k, svc, node, jid);
    if (rc || (rc = key3(&rk, jid, svc, node)))
        return rc;
    if (aff == AFF_NONE) {
        rc = store_del(t, STORE_DB_AFFS, k.b, k.len);
        if (rc == HERALD_OK || rc == HERALD_ENOTFOUND)
            rc = store_del(t, STORE_DB_AFFS_BY_JID, rk.b, rk.len);
        return rc == HERALD_ENOTFOUND ? HERALD_OK : rc;
    }
    unsigned char rec[2] = {REC_V1, aff};
    rc = store_put(t, STORE_DB_AFFS, k.b, k.len, rec, sizeof(rec));
    return rc ? rc : store_put(t, STORE_DB_AFFS_BY_JID, rk.b, rk.len, rec, sizeof(rec));
}

static bool aff_decode(const void *v, size_t vlen, uint8_t *aff)
{
    const unsigned char *p = v;
    if (vlen != 2 || p[0] != REC_V1)
        return false;
    *aff = p[1];
    return true;
}

struct affs_ctx {
    bool (*fn)(void *arg, const char *jid, uint8_t aff);
    void *arg;
};

static bool affs_cb(void *arg, const char *rest, size_t rlen, const void *v, size_t vlen,
                    enum herald_rc *rc)
{
    struct affs_ctx *x = arg;
    char jid[STORE_MAX_KEY];
    uint8_t aff;
    if (!aff_decode(v, vlen, &aff)) {
        *rc = HERALD_EPROTO;
        return false;
    }
    memcpy(jid, rest, rlen);
    jid[rlen] = '\0';
    return x->fn(x->arg, jid, aff);
}

enum herald_rc pubsub_store_affs_each(struct store_txn *t, const char *svc, const char *node,
                                      bool (*fn)(void *arg, const char *jid, uint8_t aff),
                                      void *arg)
{
    struct pkey p;
    struct affs_ctx x = {fn, arg};
    enum herald_rc rc = key2(&p, svc, node);
    if (rc || (rc = key_end_prefix(&p)))
        return rc;
    return prefix_each(t, STORE_DB_AFFS, p.b, p.len, affs_cb, &x);
}

struct affs_of_ctx {
    bool (*fn)(void *arg, const char *node, uint8_t aff);
    void *arg;
    const char *bare;
};

static bool affs_of_cb(void *arg, const char *jid, const char *node, const char *rest, size_t rlen,
                       const void *v, size_t vlen)
{
    struct affs_of_ctx *x = arg;
    uint8_t aff;
    (void)rest, (void)rlen;
    /* affiliations are kept for bare JIDs only */
    if (strcmp(jid, x->bare) != 0 || !aff_decode(v, vlen, &aff))
        return true;
    return x->fn(x->arg, node, aff);
}

enum herald_rc pubsub_store_affs_of_jid(struct store_txn *t, const char *svc, const char *bare,
                                        bool (*fn)(void *arg, const char *node, uint8_t aff),
                                        void *arg)
{
    struct affs_of_ctx x = {fn, arg, bare};
    return rev_each(t, STORE_DB_AFFS_BY_JID, svc, bare, affs_of_cb, &x);
}

/*
 * Reverse-index keys "jid \0 svc \0 node [\0 subid]" of `bare` and its full JIDs: delete
 * each with the forward key "svc \0 node \0 jid [\0 subid]" it mirrors.
 */
static enum herald_rc forget_in(struct store_txn *t, enum store_db rev, enum store_db fwd,
                                const char *bare, uint64_t *count)
{
    size_t blen = strlen(bare);
    struct store_cursor *c;
    enum herald_rc rc = store_cursor_open(t, rev, bare, blen, &c);
    if (rc)
        return rc;
    rc = store_cursor_first(c, NULL, 0);
    while (rc == HERALD_OK) {
        const void *key;
        size_t klen;
        if ((rc = store_cursor_get(c, &key, &klen, NULL, NULL)))
            break;
        const char *k = key;
        if (klen <= blen || (k[blen] != '\0' && k[blen] != '/')) {
            rc = store_cursor_next(c); /* another account whose name starts like this one */
            continue;
        }
        /* Split the reverse key into its NUL-separated parts. */
        const char *part[4];
        size_t plen[4], np = 0, start = 0;
        for (size_t i = 0; i <= klen && np < 4; i++) {
            if (i == klen || k[i] == '\0') {
                part[np] = k + start;
                plen[np++] = i - start;
                start = i + 1;
            }
        }
        if (np < 3) {
            rc = HERALD_EPROTO;
            break;
        }
        struct pkey f = {0};
        size_t order[4] = {1, 2, 0, 3};
        for (size_t i = 0; i < np && rc == HERALD_OK; i++) {
            size_t p = order[i];
            if (f.len + (f.len ? 1 : 0) + plen[p] > sizeof(f.b)) {
                rc = HERALD_EPROTO;
                break;
            }
            if (f.len)
                f.b[f.len++] = '\0';
            memcpy(f.b + f.len, part[p], plen[p]);
            f.len += plen[p];
        }
        if (rc)
            break;
        rc = store_del(t, fwd, f.b, f.len);
        if (rc && rc != HERALD_ENOTFOUND)
            break;
        if ((rc = store_cursor_del(c)))
            break;
        if (count)
            (*count)++;
        const void *next;
        size_t nlen;
        rc = store_cursor_get(c, &next, &nlen, NULL, NULL);
    }
    store_cursor_close(&c);
    return rc == HERALD_ENOTFOUND ? HERALD_OK : rc;
}

enum herald_rc pubsub_store_forget_jid(struct store_txn *t, const char *bare, uint64_t *count)
{
    if (count)
        *count = 0;
    enum herald_rc rc = forget_in(t, STORE_DB_SUBS_BY_JID, STORE_DB_SUBS, bare, count);
    return rc ? rc : forget_in(t, STORE_DB_AFFS_BY_JID, STORE_DB_AFFS, bare, count);
}
