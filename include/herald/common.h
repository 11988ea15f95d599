/*
 * common.h - result codes, attributes and assertions shared by every module.
 *
 * Internal calls return enum herald_rc. XMPP-level failures are a separate value
 * (struct xmpp_error in stanza.h); the two vocabularies are never mixed.
 *
 * Memory: herald_malloc() and friends wrap the C allocator and keep a per-category
 * live-byte count (malloc_usable_size), so stats and the slow-consumer policy can say
 * how much memory a category holds. They return NULL on failure like malloc; callers
 * must check. Memory from herald_malloc() is released with herald_free() and the same
 * category.
 */
#ifndef HERALD_COMMON_H
#define HERALD_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

enum herald_rc {
    HERALD_OK = 0,
    HERALD_AGAIN,     /* would block / not yet: try again later */
    HERALD_ENOMEM,    /* allocation failed */
    HERALD_ELIMIT,    /* a configured limit was reached */
    HERALD_EPROTO,    /* the peer's input is invalid */
    HERALD_EIO,       /* an I/O or storage failure */
    HERALD_ENOTFOUND, /* the thing asked for does not exist */
    HERALD_ECONFLICT, /* the thing to create already exists, or a state conflict */
    HERALD_EINVAL,    /* an argument or value is invalid */
};

#define HERALD_MUST_CHECK       __attribute__((warn_unused_result))
#define HERALD_PRINTF(fmt, arg) __attribute__((format(printf, fmt, arg)))
#define HERALD_NORETURN         __attribute__((noreturn))
#define HERALD_UNUSED           __attribute__((unused))
#define HERALD_ARRAY_LEN(a)     (sizeof(a) / sizeof((a)[0]))

/* Static string name of a result code, for logs. */
const char *herald_rc_str(enum herald_rc rc);

/* Abort with expression, file and line. Only for states that are bugs, never for input. */
HERALD_NORETURN void herald_assert_fail(const char *expr, const char *file, int line);
#define herald_assert(cond)                                                                        \
    do {                                                                                           \
        if (!(cond))                                                                               \
            herald_assert_fail(#cond, __FILE__, __LINE__);                                         \
    } while (0)

/* Allocation categories for accounting (stats, memory limits). */
enum herald_mem_cat {
    HERALD_MEM_MISC = 0,
    HERALD_MEM_CONN,   /* connection and session structures */
    HERALD_MEM_XML,    /* parsers and stanza arenas */
    HERALD_MEM_OUTPUT, /* shared notification bodies (refbufs) */
    HERALD_MEM_PUBSUB, /* in-memory pubsub indexes */
    HERALD_MEM_CAT_MAX,
};

HERALD_MUST_CHECK void *herald_malloc(enum herald_mem_cat cat, size_t size);
HERALD_MUST_CHECK void *herald_calloc(enum herald_mem_cat cat, size_t n, size_t size);
/* On failure returns NULL and leaves p untouched, like realloc. */
HERALD_MUST_CHECK void *herald_realloc(enum herald_mem_cat cat, void *p, size_t size);
/* strdup/strndup in a category. */
HERALD_MUST_CHECK char *herald_strdup(enum herald_mem_cat cat, const char *s);
HERALD_MUST_CHECK char *herald_strndup(enum herald_mem_cat cat, const char *s, size_t n);
void herald_free(enum herald_mem_cat cat, void *p);
/* Live bytes currently held in a category. */
size_t herald_mem_used(enum herald_mem_cat cat);

/* mkdir -p with mode 0700 for the created folders. */
HERALD_MUST_CHECK enum herald_rc herald_mkdir_p(const char *path);

/* Monotonic milliseconds, and wall-clock seconds with microseconds. */
uint64_t herald_now_ms(void);
int64_t herald_wall_us(void);

#endif
