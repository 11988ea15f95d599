/*
 * arena.c - bump allocator: a chain of blocks, freed all at once.
 *
 * Blocks grow geometrically (first 1 KiB, capped at 64 KiB) so a small stanza costs one
 * small malloc and a large one a handful. Requests bigger than a block get a block of
 * their own. The byte limit counts what was handed out, not block slack.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "herald/arena.h"

#define ARENA_ALIGN       16
#define ARENA_FIRST_BLOCK 1024
#define ARENA_MAX_BLOCK   65536

struct arena_block {
    struct arena_block *prev;
    size_t size; /* usable bytes after the header */
    size_t used;
    _Alignas(ARENA_ALIGN) unsigned char data[];
};

struct arena {
    struct arena_block *head;
    size_t limit;
    size_t used;
    size_t next_block;
};

struct arena *arena_new(size_t limit)
{
    struct arena *a = herald_calloc(HERALD_MEM_XML, 1, sizeof(*a));
    if (a == NULL)
        return NULL;
    a->limit = limit;
    a->next_block = ARENA_FIRST_BLOCK;
    return a;
}

void arena_free(struct arena **ap)
{
    if (ap == NULL || *ap == NULL)
        return;
    struct arena_block *b = (*ap)->head;
    while (b) {
        struct arena_block *prev = b->prev;
        herald_free(HERALD_MEM_XML, b);
        b = prev;
    }
    herald_free(HERALD_MEM_XML, *ap);
    *ap = NULL;
}

void *arena_alloc(struct arena *a, size_t size)
{
    size_t need = (size + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    if (need < size)
        return NULL; /* overflow */
    if (a->limit && (need > a->limit || a->used > a->limit - need))
        return NULL;
    struct arena_block *b = a->head;
    if (b == NULL || b->size - b->used < need) {
        size_t bsize = a->next_block;
        if (bsize < need)
            bsize = need;
        if (bsize > SIZE_MAX - sizeof(*b))
            return NULL;
        struct arena_block *nb = herald_malloc(HERALD_MEM_XML, sizeof(*nb) + bsize);
        if (nb == NULL)
            return NULL;
        nb->size = bsize;
        nb->used = 0;
        /* Keep filling the current block if the new one is a one-off large request. */
        if (b != NULL && bsize == need && b->size - b->used > 256) {
            nb->prev = b->prev;
            b->prev = nb;
            nb->used = need;
            a->used += need;
            return nb->data;
        }
        nb->prev = b;
        a->head = nb;
        b = nb;
        if (a->next_block < ARENA_MAX_BLOCK)
            a->next_block *= 2;
    }
    void *p = b->data + b->used;
    b->used += need;
    a->used += need;
    return p;
}

void *arena_calloc(struct arena *a, size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        return NULL;
    void *p = arena_alloc(a, n * size);
    if (p)
        memset(p, 0, n * size);
    return p;
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
    if (s == NULL)
        return NULL;
    char *p = arena_alloc(a, n + 1);
    if (p == NULL)
        return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *arena_strdup(struct arena *a, const char *s)
{
    return s ? arena_strndup(a, s, strlen(s)) : NULL;
}

char *arena_printf(struct arena *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return NULL;
    char *p = arena_alloc(a, (size_t)n + 1);
    if (p == NULL)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

size_t arena_used(const struct arena *a)
{
    return a->used;
}
