/*
 * common.c - result-code names, assertion failure, accounted allocation and clocks.
 *
 * The per-category counters are the one process-wide mutable state outside main/server:
 * they are statistics, written only from the event-loop thread (the counters are atomic
 * anyway so a helper thread could allocate without corrupting them).
 */
#include <errno.h>
#include <malloc.h>
#include <sys/stat.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "herald/common.h"

static _Atomic size_t mem_used[HERALD_MEM_CAT_MAX];

const char *herald_rc_str(enum herald_rc rc)
{
    switch (rc) {
    case HERALD_OK:
        return "ok";
    case HERALD_AGAIN:
        return "again";
    case HERALD_ENOMEM:
        return "out of memory";
    case HERALD_ELIMIT:
        return "limit reached";
    case HERALD_EPROTO:
        return "protocol error";
    case HERALD_EIO:
        return "I/O error";
    case HERALD_ENOTFOUND:
        return "not found";
    case HERALD_ECONFLICT:
        return "conflict";
    case HERALD_EINVAL:
        return "invalid value";
    }
    return "unknown error";
}

void herald_assert_fail(const char *expr, const char *file, int line)
{
    fprintf(stderr, "herald: assertion failed: %s (%s:%d)\n", expr, file, line);
    fflush(stderr);
    abort();
}

static void mem_account(enum herald_mem_cat cat, void *p, bool add)
{
    if (p == NULL || cat >= HERALD_MEM_CAT_MAX)
        return;
    size_t n = malloc_usable_size(p);
    if (add)
        atomic_fetch_add_explicit(&mem_used[cat], n, memory_order_relaxed);
    else
        atomic_fetch_sub_explicit(&mem_used[cat], n, memory_order_relaxed);
}

void *herald_malloc(enum herald_mem_cat cat, size_t size)
{
    void *p = malloc(size ? size : 1);
    mem_account(cat, p, true);
    return p;
}

void *herald_calloc(enum herald_mem_cat cat, size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    mem_account(cat, p, true);
    return p;
}

void *herald_realloc(enum herald_mem_cat cat, void *p, size_t size)
{
    size_t old = p ? malloc_usable_size(p) : 0;
    void *q = realloc(p, size ? size : 1);
    if (q == NULL)
        return NULL;
    atomic_fetch_sub_explicit(&mem_used[cat], old, memory_order_relaxed);
    mem_account(cat, q, true);
    return q;
}

char *herald_strndup(enum herald_mem_cat cat, const char *s, size_t n)
{
    char *p = herald_malloc(cat, n + 1);
    if (p == NULL)
        return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *herald_strdup(enum herald_mem_cat cat, const char *s)
{
    return herald_strndup(cat, s, strlen(s));
}

void herald_free(enum herald_mem_cat cat, void *p)
{
    mem_account(cat, p, false);
    free(p);
}

size_t herald_mem_used(enum herald_mem_cat cat)
{
    return cat < HERALD_MEM_CAT_MAX ? atomic_load(&mem_used[cat]) : 0;
}

uint64_t herald_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int64_t herald_wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

enum herald_rc herald_mkdir_p(const char *path)
{
    char buf[4096];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof(buf))
        return HERALD_EINVAL;
    memcpy(buf, path, n + 1);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0700) != 0 && errno != EEXIST)
            return HERALD_EIO;
        *p = '/';
    }
    return mkdir(buf, 0700) != 0 && errno != EEXIST ? HERALD_EIO : HERALD_OK;
}
