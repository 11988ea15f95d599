/*
 * outq.c - a connection's output queue: a ring of (refbuf, offset, length) segments.
 *
 * Why not an evbuffer: queuing a notification by reference in an evbuffer costs a
 * malloc'd chain per reference, and a fan-out of a turn's items to 10,000 subscribers
 * made malloc the hottest function of the broker. Here a queued reference is a 16-byte
 * slot in a ring that grows by doubling and is reused turn after turn; copied bytes
 * (replies, negotiation) go into private chunks at the tail, extended in place.
 * Writing gathers up to IOV_BATCH segments into one writev.
 */
#include <errno.h>
#include <string.h>
#include <sys/uio.h>

#include "net_int.h"

#define OUTQ_MIN_CAP  8
#define OUTQ_KEEP_CAP 64   /* a drained ring larger than this is released */
#define CHUNK_SIZE    4096 /* private chunk for copied bytes */
#define IOV_BATCH     128

static struct outseg *seg_at(const struct outq *q, uint32_t i)
{
    return &q->seg[(q->head + i) & (q->cap - 1)];
}

static enum herald_rc outq_grow(struct outq *q)
{
    if (q->count < q->cap)
        return HERALD_OK;
    uint32_t cap = q->cap ? q->cap * 2 : OUTQ_MIN_CAP;
    if (cap == 0)
        return HERALD_ELIMIT;
    struct outseg *s = herald_malloc(HERALD_MEM_CONN, (size_t)cap * sizeof(*s));
    if (s == NULL)
        return HERALD_ENOMEM;
    for (uint32_t i = 0; i < q->count; i++)
        s[i] = *seg_at(q, i);
    herald_free(HERALD_MEM_CONN, q->seg);
    q->seg = s;
    q->cap = cap;
    q->head = 0;
    return HERALD_OK;
}

static enum herald_rc outq_push(struct outq *q, struct refbuf *rb, size_t off, size_t len)
{
    enum herald_rc rc = outq_grow(q);
    if (rc)
        return rc;
    *seg_at(q, q->count++) = (struct outseg){refbuf_ref(rb), (uint32_t)off, (uint32_t)len};
    q->bytes += len;
    return HERALD_OK;
}

enum herald_rc outq_push_ref(struct outq *q, struct refbuf *rb)
{
    if (rb->len == 0)
        return HERALD_OK;
    if (rb->len > UINT32_MAX)
        return HERALD_ELIMIT;
    return outq_push(q, rb, 0, rb->len);
}

enum herald_rc outq_push_copy(struct outq *q, const void *data, size_t len)
{
    if (len == 0)
        return HERALD_OK;
    if (len > UINT32_MAX)
        return HERALD_ELIMIT;
    if (q->count) {
        /* Extend the tail if it is our private chunk and it ends where the segment does. */
        struct outseg *t = seg_at(q, q->count - 1);
        if (t->rb->refs == 1 && t->off + t->len == t->rb->len &&
            (size_t)t->len + len <= UINT32_MAX && refbuf_append(t->rb, data, len)) {
            t->len += (uint32_t)len;
            q->bytes += len;
            return HERALD_OK;
        }
    }
    struct refbuf *chunk = refbuf_alloc(len > CHUNK_SIZE ? len : CHUNK_SIZE);
    if (chunk == NULL)
        return HERALD_ENOMEM;
    if (!refbuf_append(chunk, data, len)) {
        refbuf_unref(&chunk);
        return HERALD_ENOMEM;
    }
    enum herald_rc rc = outq_push(q, chunk, 0, len);
    refbuf_unref(&chunk); /* the queue holds its own reference */
    return rc;
}

void outq_consume(struct outq *q, size_t n)
{
    while (n > 0 && q->count) {
        struct outseg *s = seg_at(q, 0);
        if (n < s->len) {
            s->off += (uint32_t)n;
            s->len -= (uint32_t)n;
            q->bytes -= n;
            return;
        }
        n -= s->len;
        q->bytes -= s->len;
        refbuf_unref(&s->rb);
        q->head = (q->head + 1) & (q->cap - 1);
        q->count--;
    }
    if (q->count == 0 && q->cap > OUTQ_KEEP_CAP) {
        /* A burst is over: give the big ring back, idle connections stay small. */
        herald_free(HERALD_MEM_CONN, q->seg);
        q->seg = NULL;
        q->cap = 0;
        q->head = 0;
    }
}

ssize_t outq_writev(struct outq *q, int fd, size_t budget)
{
    struct iovec iov[IOV_BATCH];
    int n = 0;
    size_t total = 0;
    for (uint32_t i = 0; i < q->count && n < IOV_BATCH && total < budget; i++) {
        struct outseg *s = seg_at(q, i);
        size_t len = s->len;
        if (len > budget - total)
            len = budget - total;
        iov[n].iov_base = s->rb->data + s->off;
        iov[n].iov_len = len;
        total += len;
        n++;
    }
    if (n == 0)
        return 0;
    ssize_t w = writev(fd, iov, n);
    if (w > 0)
        outq_consume(q, (size_t)w);
    return w;
}

size_t outq_peek(const struct outq *q, void *buf, size_t max)
{
    size_t got = 0;
    for (uint32_t i = 0; i < q->count && got < max; i++) {
        const struct outseg *s = seg_at(q, i);
        size_t len = s->len < max - got ? s->len : max - got;
        memcpy((char *)buf + got, s->rb->data + s->off, len);
        got += len;
    }
    return got;
}

void outq_clear(struct outq *q)
{
    outq_consume(q, q->bytes);
    herald_free(HERALD_MEM_CONN, q->seg);
    memset(q, 0, sizeof(*q));
}
