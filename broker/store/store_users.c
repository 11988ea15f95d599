/*
 * store_users.c - account credential records.
 *
 * Record (version 1): u8 version=1, u8 count, then per hash: u8 hash id, u32 iterations,
 * lstr salt, lstr stored_key, lstr server_key (u32 lengths, big-endian).
 */
#include <string.h>

#include "herald/buf.h"
#include "herald/store.h"
#include "herald/users.h"

#define USERS_RECORD_V1 1

enum herald_rc users_encode(const struct scram_creds creds[SCRAM_HASH_COUNT], struct buf *out)
{
    buf_append_byte(out, USERS_RECORD_V1);
    buf_append_byte(out, SCRAM_HASH_COUNT);
    for (int i = 0; i < SCRAM_HASH_COUNT; i++) {
        const struct scram_creds *c = &creds[i];
        size_t hl = scram_hash_len(c->hash);
        buf_append_byte(out, (uint8_t)c->hash);
        buf_append_u32be(out, c->iterations);
        buf_append_lstr(out, c->salt, c->salt_len);
        buf_append_lstr(out, c->stored_key, hl);
        buf_append_lstr(out, c->server_key, hl);
    }
    return out->err;
}

enum herald_rc users_decode(const void *data, size_t len, enum scram_hash hash,
                            struct scram_creds *out)
{
    struct buf_reader r;
    uint8_t ver, count;
    buf_reader_init(&r, data, len);
    if (buf_read_u8(&r, &ver) || ver != USERS_RECORD_V1 || buf_read_u8(&r, &count))
        return HERALD_EPROTO;
    for (unsigned i = 0; i < count; i++) {
        uint8_t h;
        uint32_t iter;
        const char *salt, *sk, *srv;
        size_t sl, skl, srvl;
        if (buf_read_u8(&r, &h) || buf_read_u32be(&r, &iter) || buf_read_lstr(&r, &salt, &sl) ||
            buf_read_lstr(&r, &sk, &skl) || buf_read_lstr(&r, &srv, &srvl))
            return HERALD_EPROTO;
        if (h != (uint8_t)hash)
            continue;
        size_t hl = scram_hash_len(hash);
        if (sl == 0 || sl > SCRAM_SALT_MAX || skl != hl || srvl != hl || iter == 0 ||
            iter > SCRAM_ITERATIONS_MAX)
            return HERALD_EPROTO;
        memset(out, 0, sizeof(*out));
        out->hash = hash;
        out->iterations = iter;
        out->salt_len = sl;
        memcpy(out->salt, salt, sl);
        memcpy(out->stored_key, sk, hl);
        memcpy(out->server_key, srv, hl);
        return HERALD_OK;
    }
    return HERALD_ENOTFOUND;
}

enum herald_rc users_get_creds(struct store_txn *t, const char *bare, enum scram_hash hash,
                               struct scram_creds *out)
{
    const void *v;
    size_t vlen;
    enum herald_rc rc = store_get(t, STORE_DB_USERS, bare, strlen(bare), &v, &vlen);
    return rc ? rc : users_decode(v, vlen, hash, out);
}

enum herald_rc users_exists(struct store_txn *t, const char *bare)
{
    const void *v;
    size_t vlen;
    return store_get(t, STORE_DB_USERS, bare, strlen(bare), &v, &vlen);
}

enum herald_rc users_put(struct store_txn *t, const char *bare,
                         const struct scram_creds creds[SCRAM_HASH_COUNT])
{
    struct buf b;
    buf_init(&b, 4096);
    enum herald_rc rc = users_encode(creds, &b);
    if (rc == HERALD_OK)
        rc = store_put(t, STORE_DB_USERS, bare, strlen(bare), b.data, b.len);
    buf_cleanup(&b);
    return rc;
}

enum herald_rc users_del(struct store_txn *t, const char *bare)
{
    return store_del(t, STORE_DB_USERS, bare, strlen(bare));
}
