/*
 * refbuf.h - an immutable, reference-counted byte string.
 *
 * A notification's body is serialised once into a refbuf and handed by reference to every
 * subscriber's output buffer (conn_send_ref); each holder owns one reference, dropped
 * with refbuf_unref(&p), which NULLs the holder's pointer. The bytes are freed with the
 * last reference. Single-threaded: the event loop owns every refbuf.
 */
#ifndef HERALD_REFBUF_H
#define HERALD_REFBUF_H

#include "herald/common.h"

struct refbuf {
    uint32_t refs;
    size_t len;
    char data[]; /* NUL-terminated for convenience; len excludes the NUL */
};

/* A new refbuf holding a copy of data, with one reference. NULL on ENOMEM. */
HERALD_MUST_CHECK struct refbuf *refbuf_new(const void *data, size_t len);
/* Several pieces concatenated. */
HERALD_MUST_CHECK struct refbuf *refbuf_concat(const void *const *parts, const size_t *lens,
                                               size_t nparts);
struct refbuf *refbuf_ref(struct refbuf *r);
void refbuf_unref(struct refbuf **r);
/* Bytes held by all live refbufs (for stats). */
size_t refbuf_live_bytes(void);

#endif
