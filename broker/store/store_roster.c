/*
 * store_roster.c - roster item, roster version and pending subscription records
 * (layouts in schemas/store.md; contract in include/herald/roster_store.h).
 */
#include <string.h>

#include "herald/roster_store.h"

/* Big enough for any key the store accepts; keys are built here, never truncated. */
struct roster_keybuf {
    char k[STORE_MAX_KEY];
    size_t len;
};

static enum herald_rc key_make(struct roster_keybuf *kb, const char *owner, const char *contact)
{
    size_t ol = strlen(owner), cl = contact ? strlen(contact) : 0;
    size_t need = ol + (contact ? 1 + cl : 0);
    if (ol == 0 || need > sizeof(kb->k))
        return HERALD_ELIMIT;
    memcpy(kb->k, owner, ol);
    if (contact) {
        kb->k[ol] = '\0';
        memcpy(kb->k + ol + 1, contact, cl);
    }
    kb->len = need;
    return HERALD_OK;
}

bool roster_key_fits(const char *owner, const char *contact)
{
    return strlen(owner) + 1 + strlen(contact) <= STORE_MAX_KEY;
}

/* ---- roster item record v1 ----
 * u8 version | u8 subscription | u8 flags | u64 ver | lstr name | u16 ngroups | lstr group...
 */

enum herald_rc roster_item_encode(const struct roster_item *it, struct buf *out)
{
    if (it->sub > ROSTER_SUB_BOTH || (it->flags & ~ROSTER_F_ALL) ||
        it->name.len > ROSTER_NAME_MAX || it->ngroups > ROSTER_GROUPS_MAX)
        return HERALD_EINVAL;
    buf_append_byte(out, ROSTER_RECORD_V1);
    buf_append_byte(out, it->sub);
    buf_append_byte(out, it->flags);
    buf_append_u64be(out, it->ver);
    buf_append_lstr(out, it->name.s, it->name.len);
    buf_append_u16be(out, (uint16_t)it->ngroups);
    for (size_t i = 0; i < it->ngroups; i++) {
        const struct roster_str *g = &it->groups[i];
        if (g->len == 0 || g->len > ROSTER_GROUP_MAX)
            return HERALD_EINVAL;
        buf_append_lstr(out, g->s, g->len);
    }
    return out->err;
}

enum herald_rc roster_item_decode(const void *data, size_t len, struct roster_item *out)
{
    struct buf_reader r;
    uint8_t ver, sub, flags;
    uint16_t ngroups;
    buf_reader_init(&r, data, len);
    memset(out, 0, sizeof(*out));
    if (buf_read_u8(&r, &ver) || ver != ROSTER_RECORD_V1 || buf_read_u8(&r, &sub) ||
        sub > ROSTER_SUB_BOTH || buf_read_u8(&r, &flags) || (flags & ~ROSTER_F_ALL) ||
        buf_read_u64be(&r, &out->ver) || buf_read_lstr(&r, &out->name.s, &out->name.len) ||
        out->name.len > ROSTER_NAME_MAX || buf_read_u16be(&r, &ngroups) ||
        ngroups > ROSTER_GROUPS_MAX)
        return HERALD_EPROTO;
    out->sub = sub;
    out->flags = flags;
    out->ngroups = ngroups;
    for (size_t i = 0; i < ngroups; i++) {
        struct roster_str *g = &out->groups[i];
        if (buf_read_lstr(&r, &g->s, &g->len) || g->len == 0 || g->len > ROSTER_GROUP_MAX)
            return HERALD_EPROTO;
    }
    return r.left == 0 ? HERALD_OK : HERALD_EPROTO;
}

/* ---- pending request record v1: u8 version | u64 stamp | lstr stanza ---- */

enum herald_rc roster_pending_encode(const struct roster_pending *p, struct buf *out)
{
    if (p->len == 0)
        return HERALD_EINVAL;
    buf_append_byte(out, ROSTER_PENDING_RECORD_V1);
    buf_append_u64be(out, p->stamp);
    buf_append_lstr(out, p->stanza, p->len);
    return out->err;
}

enum herald_rc roster_pending_decode(const void *data, size_t len, struct roster_pending *out)
{
    struct buf_reader r;
    uint8_t ver;
    buf_reader_init(&r, data, len);
    memset(out, 0, sizeof(*out));
    if (buf_read_u8(&r, &ver) || ver != ROSTER_PENDING_RECORD_V1 ||
        buf_read_u64be(&r, &out->stamp) || buf_read_lstr(&r, &out->stanza, &out->len) ||
        out->len == 0 || r.left != 0)
        return HERALD_EPROTO;
    return HERALD_OK;
}

/* ---- records keyed "owner\0contact" ---- */

/* A key that cannot be stored was never stored: HERALD_ENOTFOUND for it. */
static enum herald_rc pair_get(struct store_txn *t, enum store_db db, const char *owner,
                               const char *contact, const void **v, size_t *vlen)
{
    struct roster_keybuf kb;
    if (key_make(&kb, owner, contact))
        return HERALD_ENOTFOUND;
    return store_get(t, db, kb.k, kb.len, v, vlen);
}

/* Store what encode() left in b (its error, if any, is returned). Frees b. */
static enum herald_rc pair_put(struct store_txn *t, enum store_db db, const char *owner,
                               const char *contact, struct buf *b, enum herald_rc encoded)
{
    struct roster_keybuf kb;
    enum herald_rc rc = encoded ? encoded : key_make(&kb, owner, contact);
    if (rc == HERALD_OK)
        rc = store_put(t, db, kb.k, kb.len, b->data, b->len);
    buf_cleanup(b);
    return rc;
}

static enum herald_rc pair_del(struct store_txn *t, enum store_db db, const char *owner,
                               const char *contact)
{
    struct roster_keybuf kb;
    if (key_make(&kb, owner, contact))
        return HERALD_ENOTFOUND;
    return store_del(t, db, kb.k, kb.len);
}

static enum herald_rc count_prefix(struct store_txn *t, enum store_db db, const char *owner,
                                   uint64_t *count)
{
    struct roster_keybuf kb;
    enum herald_rc rc = key_make(&kb, owner, "");
    return rc ? rc : store_count_prefix(t, db, kb.k, kb.len, count);
}

/* ---- roster items ---- */

enum herald_rc roster_item_get(struct store_txn *t, const char *owner, const char *contact,
                               struct roster_item *out)
{
    const void *v;
    size_t vlen;
    enum herald_rc rc = pair_get(t, STORE_DB_ROSTER, owner, contact, &v, &vlen);
    return rc ? rc : roster_item_decode(v, vlen, out);
}

enum herald_rc roster_item_put(struct store_txn *t, const char *owner, const char *contact,
                               const struct roster_item *it)
{
    struct buf b;
    buf_init(&b, 0);
    return pair_put(t, STORE_DB_ROSTER, owner, contact, &b, roster_item_encode(it, &b));
}

enum herald_rc roster_item_del(struct store_txn *t, const char *owner, const char *contact)
{
    return pair_del(t, STORE_DB_ROSTER, owner, contact);
}

enum herald_rc roster_count(struct store_txn *t, const char *owner, uint64_t *count)
{
    return count_prefix(t, STORE_DB_ROSTER, owner, count);
}

/* ---- roster version ---- */

enum herald_rc roster_version_get(struct store_txn *t, const char *owner, uint64_t *ver)
{
    struct roster_keybuf kb;
    const void *v;
    size_t vlen;
    *ver = 0;
    if (key_make(&kb, owner, NULL))
        return HERALD_OK;
    enum herald_rc rc = store_get(t, STORE_DB_ROSTER_VER, kb.k, kb.len, &v, &vlen);
    if (rc == HERALD_ENOTFOUND)
        return HERALD_OK;
    if (rc)
        return rc;
    struct buf_reader r;
    buf_reader_init(&r, v, vlen);
    if (buf_read_u64be(&r, ver) || r.left != 0) {
        *ver = 0;
        return HERALD_EPROTO;
    }
    return HERALD_OK;
}

enum herald_rc roster_version_put(struct store_txn *t, const char *owner, uint64_t ver)
{
    struct roster_keybuf kb;
    enum herald_rc rc = key_make(&kb, owner, NULL);
    if (rc)
        return rc;
    unsigned char v[8];
    for (int i = 0; i < 8; i++)
        v[i] = (unsigned char)(ver >> (56 - 8 * i));
    return store_put(t, STORE_DB_ROSTER_VER, kb.k, kb.len, v, sizeof(v));
}

/* ---- pending requests ---- */

enum herald_rc roster_pending_get(struct store_txn *t, const char *owner, const char *from,
                                  struct roster_pending *out)
{
    const void *v;
    size_t vlen;
    enum herald_rc rc = pair_get(t, STORE_DB_PENDING, owner, from, &v, &vlen);
    return rc ? rc : roster_pending_decode(v, vlen, out);
}

enum herald_rc roster_pending_put(struct store_txn *t, const char *owner, const char *from,
                                  const struct roster_pending *p)
{
    struct buf b;
    buf_init(&b, 0);
    return pair_put(t, STORE_DB_PENDING, owner, from, &b, roster_pending_encode(p, &b));
}

enum herald_rc roster_pending_del(struct store_txn *t, const char *owner, const char *from)
{
    return pair_del(t, STORE_DB_PENDING, owner, from);
}

enum herald_rc roster_pending_count(struct store_txn *t, const char *owner, uint64_t *count)
{
    return count_prefix(t, STORE_DB_PENDING, owner, count);
}

enum herald_rc roster_forget(struct store_txn *t, const char *owner)
{
    struct roster_keybuf kb;
    enum herald_rc rc = key_make(&kb, owner, "");
    if (rc == HERALD_OK)
        rc = store_del_prefix(t, STORE_DB_ROSTER, kb.k, kb.len, NULL);
    if (rc == HERALD_OK)
        rc = store_del_prefix(t, STORE_DB_PENDING, kb.k, kb.len, NULL);
    if (rc == HERALD_OK) {
        rc = store_del(t, STORE_DB_ROSTER_VER, kb.k, kb.len - 1);
        if (rc == HERALD_ENOTFOUND)
            rc = HERALD_OK;
    }
    return rc;
}

/* ---- iteration ---- */

enum herald_rc roster_iter_open(struct store_txn *t, enum store_db db, const char *owner,
                                struct roster_iter *it)
{
    struct roster_keybuf kb;
    memset(it, 0, sizeof(*it));
    enum herald_rc rc = key_make(&kb, owner, "");
    if (rc)
        return rc;
    it->plen = kb.len;
    return store_cursor_open(t, db, kb.k, kb.len, &it->c);
}

enum herald_rc roster_iter_next(struct roster_iter *it, const char **contact, size_t *clen,
                                const void **val, size_t *vlen)
{
    enum herald_rc rc = it->started ? store_cursor_next(it->c) : store_cursor_first(it->c, NULL, 0);
    it->started = true;
    const void *key;
    size_t klen;
    if (rc == HERALD_OK)
        rc = store_cursor_get(it->c, &key, &klen, val, vlen);
    if (rc)
        return rc;
    if (klen <= it->plen)
        return HERALD_EPROTO; /* "owner\0" alone is never written */
    *contact = (const char *)key + it->plen;
    *clen = klen - it->plen;
    return HERALD_OK;
}

void roster_iter_close(struct roster_iter *it)
{
    store_cursor_close(&it->c);
}
