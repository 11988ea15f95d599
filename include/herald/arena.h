/*
 * arena.h - a bump allocator for things that die together.
 *
 * A stanza tree is built in one arena while the parser reads it; the stream layer frees the
 * arena after the stanza's handler returns, and that is the only free of a stanza arena.
 * Handlers may also allocate their replies in the arena of the stanza they answer.
 * Nothing allocated from an arena may be kept past arena_free(): copy what must live on.
 *
 * Every arena has a byte limit fixed at creation; an allocation that would pass it fails
 * (NULL), so a hostile peer cannot make an arena grow without bound.
 */
#ifndef HERALD_ARENA_H
#define HERALD_ARENA_H

#include "herald/common.h"

struct arena;

/* A new empty arena that may hold up to `limit` bytes (0 = no limit). NULL on ENOMEM. */
HERALD_MUST_CHECK struct arena *arena_new(size_t limit);
/* Free the arena and everything in it; sets *a to NULL. NULL-safe. */
void arena_free(struct arena **a);

/* Allocate `size` bytes aligned for any type. NULL if out of memory or over the limit. */
HERALD_MUST_CHECK void *arena_alloc(struct arena *a, size_t size);
HERALD_MUST_CHECK void *arena_calloc(struct arena *a, size_t n, size_t size);
/* Copies, NUL-terminated. NULL on failure. arena_strdup(a, NULL) returns NULL. */
HERALD_MUST_CHECK char *arena_strdup(struct arena *a, const char *s);
HERALD_MUST_CHECK char *arena_strndup(struct arena *a, const char *s, size_t n);
/* printf into the arena. NULL on failure. */
HERALD_MUST_CHECK char *arena_printf(struct arena *a, const char *fmt, ...) HERALD_PRINTF(2, 3);

/* Bytes handed out so far (for limits and tests). */
size_t arena_used(const struct arena *a);

#endif
