/*
 * hmap.h - a string-keyed hash map (open addressing, SipHash-1-3 with a per-map random
 * key, so peers who choose JIDs cannot force collisions).
 *
 * The map stores pointers only: each entry's key bytes must stay valid and unchanged for
 * as long as the entry is in the map (typically the key is a string inside the value).
 * The map never frees keys or values.
 */
#ifndef HERALD_HMAP_H
#define HERALD_HMAP_H

#include "herald/common.h"

struct hmap_entry {
    const char *key; /* NULL: empty; HMAP_TOMBSTONE: deleted */
    size_t klen;
    uint64_t hash;
    void *value;
};

struct hmap {
    struct hmap_entry *slots;
    size_t cap;  /* power of two, or 0 */
    size_t len;  /* live entries */
    size_t used; /* live + tombstones */
    uint64_t k0, k1;
    enum herald_mem_cat cat;
};

void hmap_init(struct hmap *m, enum herald_mem_cat cat);
void hmap_cleanup(struct hmap *m);
void *hmap_get(const struct hmap *m, const char *key, size_t klen);
/* Insert or replace. *old (may be NULL) receives the replaced value or NULL. */
HERALD_MUST_CHECK enum herald_rc hmap_put(struct hmap *m, const char *key, size_t klen, void *value,
                                          void **old);
/* Remove; returns the value or NULL if absent. */
void *hmap_del(struct hmap *m, const char *key, size_t klen);
size_t hmap_len(const struct hmap *m);
/* Iterate: for (size_t i = 0; hmap_iter(m, &i, &k, &kl, &v);) ... Do not modify while
 * iterating, except hmap_del of the current key. */
bool hmap_iter(const struct hmap *m, size_t *pos, const char **key, size_t *klen, void **value);

/* The keyed hash, for callers that shard by it. */
uint64_t hmap_hash(const struct hmap *m, const char *key, size_t klen);

#endif
