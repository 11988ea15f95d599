/*
 * hmap.c - open addressing with linear probing; grows at 3/4 load (live + tombstones).
 */
#include <string.h>
#include <sys/random.h>

#include "herald/hmap.h"

static const char hmap_tombstone_byte;
#define HMAP_TOMBSTONE (&hmap_tombstone_byte)

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                                                   \
    do {                                                                                           \
        v0 += v1;                                                                                  \
        v1 = ROTL(v1, 13);                                                                         \
        v1 ^= v0;                                                                                  \
        v0 = ROTL(v0, 32);                                                                         \
        v2 += v3;                                                                                  \
        v3 = ROTL(v3, 16);                                                                         \
        v3 ^= v2;                                                                                  \
        v0 += v3;                                                                                  \
        v3 = ROTL(v3, 21);                                                                         \
        v3 ^= v0;                                                                                  \
        v2 += v1;                                                                                  \
        v1 = ROTL(v1, 17);                                                                         \
        v1 ^= v2;                                                                                  \
        v2 = ROTL(v2, 32);                                                                         \
    } while (0)

/* SipHash-1-3 (one compression round, three finalisation rounds), as Redis and Rust use. */
static uint64_t siphash13(const unsigned char *in, size_t len, uint64_t k0, uint64_t k1)
{
    uint64_t v0 = 0x736f6d6570736575ULL ^ k0, v1 = 0x646f72616e646f6dULL ^ k1;
    uint64_t v2 = 0x6c7967656e657261ULL ^ k0, v3 = 0x7465646279746573ULL ^ k1;
    uint64_t b = (uint64_t)len << 56;
    const unsigned char *end = in + (len & ~(size_t)7);
    for (; in != end; in += 8) {
        uint64_t m = 0;
        for (int i = 7; i >= 0; i--) /* SipHash reads little-endian words on any host */
            m = (m << 8) | in[i];
        v3 ^= m;
        SIPROUND;
        v0 ^= m;
    }
    switch (len & 7) {
    case 7:
        b |= (uint64_t)in[6] << 48;
        /* fall through */
    case 6:
        b |= (uint64_t)in[5] << 40;
        /* fall through */
    case 5:
        b |= (uint64_t)in[4] << 32;
        /* fall through */
    case 4:
        b |= (uint64_t)in[3] << 24;
        /* fall through */
    case 3:
        b |= (uint64_t)in[2] << 16;
        /* fall through */
    case 2:
        b |= (uint64_t)in[1] << 8;
        /* fall through */
    case 1:
        b |= (uint64_t)in[0];
        break;
    case 0:
        break;
    }
    v3 ^= b;
    SIPROUND;
    v0 ^= b;
    v2 ^= 0xff;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

void hmap_init(struct hmap *m, enum herald_mem_cat cat)
{
    memset(m, 0, sizeof(*m));
    m->cat = cat;
    uint64_t k[2] = {0x0123456789abcdefULL, 0xfedcba9876543210ULL};
    if (getrandom(k, sizeof(k), 0) != (ssize_t)sizeof(k)) {
        /* Keep the fixed key: still a correct map, only without flooding protection. */
    }
    m->k0 = k[0];
    m->k1 = k[1];
}

void hmap_cleanup(struct hmap *m)
{
    herald_free(m->cat, m->slots);
    m->slots = NULL;
    m->cap = m->len = m->used = 0;
}

uint64_t hmap_hash(const struct hmap *m, const char *key, size_t klen)
{
    return siphash13((const unsigned char *)key, klen, m->k0, m->k1);
}

static struct hmap_entry *hmap_find(const struct hmap *m, const char *key, size_t klen, uint64_t h)
{
    if (m->cap == 0)
        return NULL;
    size_t mask = m->cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        struct hmap_entry *e = &m->slots[i];
        if (e->key == NULL)
            return NULL;
        if (e->key != HMAP_TOMBSTONE && e->hash == h && e->klen == klen &&
            memcmp(e->key, key, klen) == 0)
            return e;
    }
}

static enum herald_rc hmap_resize(struct hmap *m, size_t cap)
{
    struct hmap_entry *slots = herald_calloc(m->cat, cap, sizeof(*slots));
    if (slots == NULL)
        return HERALD_ENOMEM;
    for (size_t i = 0; i < m->cap; i++) {
        struct hmap_entry *e = &m->slots[i];
        if (e->key == NULL || e->key == HMAP_TOMBSTONE)
            continue;
        size_t j = e->hash & (cap - 1);
        while (slots[j].key)
            j = (j + 1) & (cap - 1);
        slots[j] = *e;
    }
    herald_free(m->cat, m->slots);
    m->slots = slots;
    m->cap = cap;
    m->used = m->len;
    return HERALD_OK;
}

void *hmap_get(const struct hmap *m, const char *key, size_t klen)
{
    struct hmap_entry *e = hmap_find(m, key, klen, hmap_hash(m, key, klen));
    return e ? e->value : NULL;
}

enum herald_rc hmap_put(struct hmap *m, const char *key, size_t klen, void *value, void **old)
{
    uint64_t h = hmap_hash(m, key, klen);
    struct hmap_entry *e = hmap_find(m, key, klen, h);
    if (e) {
        if (old)
            *old = e->value;
        e->key = key; /* the new value may own a new copy of the key */
        e->value = value;
        return HERALD_OK;
    }
    if ((m->used + 1) * 4 > m->cap * 3) {
        size_t cap = m->cap ? m->cap : 8;
        while ((m->len + 1) * 4 > cap * 3 / 2) /* leave room after growing */
            cap *= 2;
        enum herald_rc rc = hmap_resize(m, cap);
        if (rc)
            return rc;
    }
    size_t mask = m->cap - 1;
    size_t i = h & mask;
    while (m->slots[i].key && m->slots[i].key != HMAP_TOMBSTONE)
        i = (i + 1) & mask;
    if (m->slots[i].key == NULL)
        m->used++;
    m->slots[i] = (struct hmap_entry){key, klen, h, value};
    m->len++;
    if (old)
        *old = NULL;
    return HERALD_OK;
}

void *hmap_del(struct hmap *m, const char *key, size_t klen)
{
    struct hmap_entry *e = hmap_find(m, key, klen, hmap_hash(m, key, klen));
    if (e == NULL)
        return NULL;
    void *v = e->value;
    e->key = HMAP_TOMBSTONE;
    e->value = NULL;
    m->len--;
    if (m->len == 0) {
        /* An empty map forgets its tombstones so long-lived maps do not degrade. */
        memset(m->slots, 0, m->cap * sizeof(*m->slots));
        m->used = 0;
    }
    return v;
}

size_t hmap_len(const struct hmap *m)
{
    return m->len;
}

bool hmap_iter(const struct hmap *m, size_t *pos, const char **key, size_t *klen, void **value)
{
    for (; *pos < m->cap; (*pos)++) {
        struct hmap_entry *e = &m->slots[*pos];
        if (e->key == NULL || e->key == HMAP_TOMBSTONE)
            continue;
        if (key)
            *key = e->key;
        if (klen)
            *klen = e->klen;
        if (value)
            *value = e->value;
        (*pos)++;
        return true;
    }
    return false;
}
