/*
 * refbuf.h - an immutable, reference-counted byte string (immutable once shared: only a
 * single owner may still append to it, see refbuf_alloc).
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
    size_t cap;  /* bytes data[] can hold (besides the NUL); len <= cap */
    char data[]; /* NUL-terminated for convenience; len excludes the NUL */
};

/* A new refbuf holding a copy of data, with one reference. NULL on ENOMEM. */
HERALD_MUST_CHECK struct refbuf *refbuf_new(const void *data, size_t len);
/* Several pieces concatenated. */
HERALD_MUST_CHECK struct refbuf *refbuf_concat(const void *const *parts, const size_t *lens,
                                               size_t nparts);
/*
 * An empty refbuf with room for `cap` bytes, for its single owner to fill with
 * refbuf_append while nobody else holds a reference (output queues use these for
 * copied bytes). NULL on ENOMEM.
 */
HERALD_MUST_CHECK struct refbuf *refbuf_alloc(size_t cap);
/* Append while refs == 1 and there is room; false otherwise (nothing is changed). */
bool refbuf_append(struct refbuf *r, const void *data, size_t len);
struct refbuf *refbuf_ref(struct refbuf *r);
void refbuf_unref(struct refbuf **r);
/* Bytes held by all live refbufs (for stats). */
size_t refbuf_live_bytes(void);

#endif
