/*
 * buf.c - growable byte buffer with a limit and sticky errors; bounds-checked reader.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "herald/buf.h"

void buf_init(struct buf *b, size_t limit)
{
    memset(b, 0, sizeof(*b));
    b->limit = limit;
}

void buf_cleanup(struct buf *b)
{
    free(b->data);
    memset(b, 0, sizeof(*b));
}

void buf_reset(struct buf *b)
{
    b->len = 0;
    b->err = HERALD_OK;
    if (b->data)
        b->data[0] = '\0';
}

/* Make room for `extra` more bytes plus the terminating NUL. */
static enum herald_rc buf_reserve(struct buf *b, size_t extra)
{
    if (b->err)
        return b->err;
    if (extra > SIZE_MAX - b->len - 1 || (b->limit && b->len + extra > b->limit)) {
        b->err = HERALD_ELIMIT;
        return b->err;
    }
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return HERALD_OK;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    char *p = realloc(b->data, cap);
    if (p == NULL) {
        b->err = HERALD_ENOMEM;
        return b->err;
    }
    b->data = p;
    b->cap = cap;
    return HERALD_OK;
}

enum herald_rc buf_append(struct buf *b, const void *data, size_t len)
{
    enum herald_rc rc = buf_reserve(b, len);
    if (rc)
        return rc;
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return HERALD_OK;
}

enum herald_rc buf_append_str(struct buf *b, const char *s)
{
    return buf_append(b, s, strlen(s));
}

enum herald_rc buf_append_byte(struct buf *b, uint8_t c)
{
    return buf_append(b, &c, 1);
}

enum herald_rc buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0) {
        if (!b->err)
            b->err = HERALD_EINVAL;
        return b->err;
    }
    enum herald_rc rc = buf_reserve(b, (size_t)n);
    if (rc)
        return rc;
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return HERALD_OK;
}

enum herald_rc buf_printf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    enum herald_rc rc = buf_vprintf(b, fmt, ap);
    va_end(ap);
    return rc;
}

/* n bytes of v, most significant first. */
static enum herald_rc buf_append_be(struct buf *b, uint64_t v, size_t n)
{
    uint8_t x[8];
    for (size_t i = n; i-- > 0; v >>= 8)
        x[i] = (uint8_t)v;
    return buf_append(b, x, n);
}

enum herald_rc buf_append_u16be(struct buf *b, uint16_t v)
{
    return buf_append_be(b, v, 2);
}

enum herald_rc buf_append_u32be(struct buf *b, uint32_t v)
{
    return buf_append_be(b, v, 4);
}

enum herald_rc buf_append_u64be(struct buf *b, uint64_t v)
{
    return buf_append_be(b, v, 8);
}

enum herald_rc buf_append_lstr(struct buf *b, const void *s, size_t len)
{
    if (len > UINT32_MAX) {
        if (!b->err)
            b->err = HERALD_ELIMIT;
        return b->err;
    }
    enum herald_rc rc = buf_append_u32be(b, (uint32_t)len);
    return rc ? rc : buf_append(b, s, len);
}

static enum herald_rc buf_escape(struct buf *b, const char *s, size_t len, bool attr)
{
    size_t run = 0;
    for (size_t i = 0; i < len; i++) {
        const char *rep;
        switch (s[i]) {
        case '&':
            rep = "&amp;";
            break;
        case '<':
            rep = "&lt;";
            break;
        case '>':
            rep = "&gt;";
            break;
        case '\'':
            rep = "&apos;";
            break;
        case '"':
            rep = "&quot;";
            break;
        case '\r':
            rep = "&#13;";
            break;
        case '\t':
            if (!attr)
                continue;
            rep = "&#9;";
            break;
        case '\n':
            if (!attr)
                continue;
            rep = "&#10;";
            break;
        default:
            continue;
        }
        if (buf_append(b, s + run, i - run) || buf_append_str(b, rep))
            return b->err;
        run = i + 1;
    }
    return buf_append(b, s + run, len - run);
}

enum herald_rc buf_append_xml_escaped(struct buf *b, const char *s, size_t len)
{
    return buf_escape(b, s, len, false);
}

enum herald_rc buf_append_xml_attr_escaped(struct buf *b, const char *s, size_t len)
{
    return buf_escape(b, s, len, true);
}

char *buf_steal(struct buf *b, size_t *len)
{
    char *p = b->data;
    if (len)
        *len = b->len;
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}

void buf_reader_init(struct buf_reader *r, const void *data, size_t len)
{
    r->p = data;
    r->left = len;
}

/* n bytes, most significant first; nothing is consumed when fewer are left. */
static enum herald_rc buf_read_be(struct buf_reader *r, size_t n, uint64_t *v)
{
    if (r->left < n)
        return HERALD_EPROTO;
    uint64_t x = 0;
    for (size_t i = 0; i < n; i++)
        x = (x << 8) | r->p[i];
    *v = x;
    r->p += n;
    r->left -= n;
    return HERALD_OK;
}

enum herald_rc buf_read_u8(struct buf_reader *r, uint8_t *v)
{
    uint64_t x;
    enum herald_rc rc = buf_read_be(r, 1, &x);
    if (rc == HERALD_OK)
        *v = (uint8_t)x;
    return rc;
}

enum herald_rc buf_read_u16be(struct buf_reader *r, uint16_t *v)
{
    uint64_t x;
    enum herald_rc rc = buf_read_be(r, 2, &x);
    if (rc == HERALD_OK)
        *v = (uint16_t)x;
    return rc;
}

enum herald_rc buf_read_u32be(struct buf_reader *r, uint32_t *v)
{
    uint64_t x;
    enum herald_rc rc = buf_read_be(r, 4, &x);
    if (rc == HERALD_OK)
        *v = (uint32_t)x;
    return rc;
}

enum herald_rc buf_read_u64be(struct buf_reader *r, uint64_t *v)
{
    return buf_read_be(r, 8, v);
}

enum herald_rc buf_read_lstr(struct buf_reader *r, const char **s, size_t *len)
{
    uint32_t n;
    if (buf_read_u32be(r, &n) || n > r->left)
        return HERALD_EPROTO;
    *s = (const char *)r->p;
    *len = n;
    r->p += n;
    r->left -= n;
    return HERALD_OK;
}
