/*
 * base64.c - strict RFC 4648 base64.
 *
 * The decoder validates the whole input before it appends anything, so a rejected input
 * never leaves half-decoded bytes behind and never touches the buffer's sticky error.
 */
#include <string.h>

#include "herald/base64.h"

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* 0..63 for alphabet characters, -1 for everything else ('=' included). */
static int b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

size_t base64_encoded_len(size_t len)
{
    size_t groups = len / 3 + (len % 3 != 0);
    if (groups > SIZE_MAX / 4)
        return SIZE_MAX;
    return groups * 4;
}

size_t base64_decoded_max(size_t len)
{
    return len / 4 * 3;
}

enum herald_rc base64_encode(struct buf *out, const void *data, size_t len)
{
    const uint8_t *p = data;
    char quad[4];
    size_t i = 0;

    if (out->err)
        return out->err;
    for (; len - i >= 3; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        quad[0] = b64_alphabet[v >> 18];
        quad[1] = b64_alphabet[(v >> 12) & 63];
        quad[2] = b64_alphabet[(v >> 6) & 63];
        quad[3] = b64_alphabet[v & 63];
        if (buf_append(out, quad, 4))
            return out->err;
    }
    if (len - i == 1) {
        uint32_t v = (uint32_t)p[i] << 16;
        quad[0] = b64_alphabet[v >> 18];
        quad[1] = b64_alphabet[(v >> 12) & 63];
        quad[2] = quad[3] = '=';
        return buf_append(out, quad, 4);
    }
    if (len - i == 2) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
        quad[0] = b64_alphabet[v >> 18];
        quad[1] = b64_alphabet[(v >> 12) & 63];
        quad[2] = b64_alphabet[(v >> 6) & 63];
        quad[3] = '=';
        return buf_append(out, quad, 4);
    }
    /* Make sure an empty encoding still leaves a NUL-terminated buffer. */
    return buf_append(out, "", 0);
}

/*
 * Check that in[0..len) is canonical padded base64; return the number of '=' (0..2) or -1.
 * Done as a separate pass so decoding proper can append without ever backing out.
 */
static int b64_validate(const unsigned char *in, size_t len)
{
    if (len % 4 != 0)
        return -1;
    if (len == 0)
        return 0;
    int pad = 0;
    if (in[len - 1] == '=')
        pad = in[len - 2] == '=' ? 2 : 1;
    for (size_t i = 0; i < len - (size_t)pad; i++) {
        if (b64_value(in[i]) < 0)
            return -1;
    }
    /* The bits the padding leaves over must be zero (RFC 4648 §3.5, RFC 6120 §6.4). */
    if (pad == 2 && (b64_value(in[len - 3]) & 0x0f) != 0)
        return -1;
    if (pad == 1 && (b64_value(in[len - 2]) & 0x03) != 0)
        return -1;
    return pad;
}

enum herald_rc base64_decode(struct buf *out, const char *in, size_t len)
{
    const unsigned char *s = (const unsigned char *)in;

    if (out->err)
        return out->err;
    /* RFC 6120 §6.4.2: a lone "=" is a present but empty response. */
    if (len == 1 && s[0] == '=')
        return buf_append(out, "", 0);
    int pad = b64_validate(s, len);
    if (pad < 0)
        return HERALD_EPROTO;

    size_t start = out->len;
    uint8_t tri[3];
    for (size_t i = 0; i < len; i += 4) {
        uint32_t v = 0;
        size_t n = 3;
        for (size_t k = 0; k < 4; k++) {
            int d = b64_value(s[i + k]);
            v = v << 6 | (uint32_t)(d < 0 ? 0 : d);
        }
        if (i + 4 == len)
            n = 3 - (size_t)pad;
        tri[0] = (uint8_t)(v >> 16);
        tri[1] = (uint8_t)(v >> 8);
        tri[2] = (uint8_t)v;
        if (buf_append(out, tri, n)) {
            /* The sticky error stays; trim the partial output all the same. */
            out->len = start;
            if (out->data)
                out->data[start] = '\0';
            return out->err;
        }
    }
    return buf_append(out, "", 0);
}
