/*
 * refbuf.c - refcounted immutable bytes, accounted under HERALD_MEM_OUTPUT.
 */
#include <string.h>

#include "herald/refbuf.h"

struct refbuf *refbuf_concat(const void *const *parts, const size_t *lens, size_t nparts)
{
    size_t len = 0;
    for (size_t i = 0; i < nparts; i++) {
        if (lens[i] > SIZE_MAX - len - sizeof(struct refbuf) - 1)
            return NULL;
        len += lens[i];
    }
    struct refbuf *r = herald_malloc(HERALD_MEM_OUTPUT, sizeof(*r) + len + 1);
    if (r == NULL)
        return NULL;
    r->refs = 1;
    r->len = len;
    r->cap = len;
    size_t off = 0;
    for (size_t i = 0; i < nparts; i++) {
        if (lens[i])
            memcpy(r->data + off, parts[i], lens[i]);
        off += lens[i];
    }
    r->data[len] = '\0';
    return r;
}

struct refbuf *refbuf_alloc(size_t cap)
{
    if (cap > SIZE_MAX - sizeof(struct refbuf) - 1)
        return NULL;
    struct refbuf *r = herald_malloc(HERALD_MEM_OUTPUT, sizeof(*r) + cap + 1);
    if (r == NULL)
        return NULL;
    r->refs = 1;
    r->len = 0;
    r->cap = cap;
    r->data[0] = '\0';
    return r;
}

bool refbuf_append(struct refbuf *r, const void *data, size_t len)
{
    if (r->refs != 1 || len > r->cap - r->len)
        return false;
    memcpy(r->data + r->len, data, len);
    r->len += len;
    r->data[r->len] = '\0';
    return true;
}

struct refbuf *refbuf_new(const void *data, size_t len)
{
    return refbuf_concat(&data, &len, 1);
}

struct refbuf *refbuf_ref(struct refbuf *r)
{
    herald_assert(r->refs > 0 && r->refs < UINT32_MAX);
    r->refs++;
    return r;
}

void refbuf_unref(struct refbuf **rp)
{
    struct refbuf *r = rp ? *rp : NULL;
    if (r == NULL)
        return;
    *rp = NULL;
    herald_assert(r->refs > 0);
    if (--r->refs == 0)
        herald_free(HERALD_MEM_OUTPUT, r);
}

size_t refbuf_live_bytes(void)
{
    return herald_mem_used(HERALD_MEM_OUTPUT);
}
