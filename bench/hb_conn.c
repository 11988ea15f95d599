/* herald-bench: one XMPP client connection's socket side (plaintext TCP): connect, edge-
 * triggered reads straight into the connection's expat buffer, writes with a fallback
 * buffer, publishing and closing. The XMPP side (expat callbacks) is hb_xmpp.c. */
#include "hb.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

/* The socket closes now, or after XML_Parse returns when the failure is found inside a parser
 * callback (the parser must outlive its own callbacks). */
void hb_conn_fail(struct hb_conn *c, enum hb_err kind, const char *what)
{
    if (c->state == HB_ST_FAILED || c->state == HB_ST_CLOSED)
        return;
    if (c->state == HB_ST_CLOSING) {
        c->state = HB_ST_CLOSED; /* losing a closing connection is not an error */
    } else {
        if (c->state == HB_ST_READY && kind == HB_ERR_STREAM)
            kind = HB_ERR_DISCONNECT;
        hb_ctx_error(c->ctx, c, kind, what);
        c->state = HB_ST_FAILED;
        hb_ctx_conn_failed(c->ctx, c);
    }
    if (c->ctx->parsing == c)
        XML_StopParser(c->parser, XML_FALSE);
    else
        hb_conn_close(c);
}

void hb_conn_send(struct hb_conn *c, const char *data, size_t len)
{
    if (c->fd < 0)
        return;
    if (c->out && evbuffer_get_length(c->out) > 0) {
        if (evbuffer_add(c->out, data, len) != 0)
            hb_conn_fail(c, HB_ERR_STREAM, "out of memory");
        return;
    }
    ssize_t w = send(c->fd, data, len, MSG_NOSIGNAL);
    if (w == (ssize_t)len)
        return;
    if (w < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            hb_conn_fail(c, HB_ERR_STREAM, strerror(errno));
            return;
        }
        w = 0;
    }
    if (!c->out && !(c->out = evbuffer_new())) {
        hb_conn_fail(c, HB_ERR_STREAM, "out of memory");
        return;
    }
    if (evbuffer_add(c->out, data + w, len - (size_t)w) != 0) {
        hb_conn_fail(c, HB_ERR_STREAM, "out of memory");
        return;
    }
    event_add(&c->wev, NULL);
}

void hb_conn_sendf(struct hb_conn *c, const char *fmt, ...)
{
    char buf[HB_MAX_SETUP];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof buf) {
        hb_conn_fail(c, HB_ERR_STREAM, "stanza too long for the setup buffer");
        return;
    }
    hb_conn_send(c, buf, (size_t)n);
}

static void conn_connected(struct hb_conn *c)
{
    c->state = HB_ST_FEATURES1;
    event_add(&c->rev, NULL);
    hb_xmpp_stream_open(c);
}

/* Parses n bytes at buf: in the parser's own buffer (where recv() put them, no copy) or, after
 * a stream restart, from the context's scratch buffer. */
static void conn_parse(struct hb_conn *c, const char *buf, size_t n, bool in_parser_buffer)
{
    struct hb_ctx *ctx = c->ctx;
    ctx->parsing = c;
    while (n > 0 && c->fd >= 0) {
        enum XML_Status st = in_parser_buffer ? XML_ParseBuffer(c->parser, (int)n, 0)
                                              : XML_Parse(c->parser, buf, (int)n, 0);
        if (st == XML_STATUS_OK) {
            c->fed += n;
            break;
        }
        if (c->restart && c->state == HB_ST_AUTH) {
            /* keep what followed </success> (normally nothing) across the reset */
            size_t used = (size_t)(c->restart_at - c->fed);
            if (used > n)
                used = n;
            memmove(ctx->rbuf, buf + used, n - used);
            buf = (const char *)ctx->rbuf;
            n -= used;
            in_parser_buffer = false;
            if (XML_ParserReset(c->parser, NULL) != XML_TRUE) {
                ctx->parsing = NULL;
                hb_conn_fail(c, HB_ERR_STREAM, "cannot reset the XML parser");
                return;
            }
            hb_xmpp_parser_setup(c);
            c->state = HB_ST_FEATURES2;
            hb_xmpp_stream_open(c);
            continue;
        }
        if (c->state != HB_ST_FAILED && c->state != HB_ST_CLOSED) {
            char msg[128];
            snprintf(msg, sizeof msg, "XML error: %s",
                     XML_ErrorString(XML_GetErrorCode(c->parser)));
            hb_conn_fail(c, HB_ERR_STREAM, msg);
        }
        break;
    }
    ctx->parsing = NULL;
    if ((c->state == HB_ST_FAILED || c->state == HB_ST_CLOSED) && c->fd >= 0)
        hb_conn_close(c);
}

/* recv() goes straight into the parser's buffer: expat (built with XML_CONTEXT_BYTES) copies
 * whatever XML_Parse is given into that buffer anyway, and sizes it to the largest input, so
 * small chunks keep every connection's buffer small (about 8 kB) and save a copy.
 * Edge-triggered: read until a short read (a TCP socket then has nothing more; new data
 * raises a new edge). This saves the level-triggered re-poll of every ready socket on each
 * epoll_wait, and the extra recv() that would only return EAGAIN. */
static void conn_read_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    struct hb_conn *c = arg;
    struct hb_ctx *ctx = c->ctx;
    ssize_t n;
    for (;;) {
        char *buf = XML_GetBuffer(c->parser, HB_READ_CHUNK);
        if (!buf) {
            hb_conn_fail(c, HB_ERR_STREAM, "out of memory (XML buffer)");
            return;
        }
        n = recv(fd, buf, HB_READ_CHUNK, 0);
        if (n > 0) {
            ctx->now_ns = hb_now_ns();
            conn_parse(c, buf, (size_t)n, true);
            if (c->fd < 0 || (size_t)n < HB_READ_CHUNK)
                return;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        break;
    }
    if (c->state == HB_ST_CLOSING) {
        c->state = HB_ST_CLOSED;
        hb_conn_close(c);
        return;
    }
    hb_conn_fail(c, HB_ERR_STREAM, n < 0 ? strerror(errno) : "connection closed by the server");
}

static void conn_write_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    struct hb_conn *c = arg;
    if (c->state == HB_ST_CONNECTING) {
        int err = 0;
        socklen_t len = sizeof err;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
            err = errno;
        event_del(&c->wev);
        if (err) {
            char msg[128];
            snprintf(msg, sizeof msg, "connect: %s", strerror(err));
            hb_conn_fail(c, HB_ERR_CONNECT, msg);
            return;
        }
        conn_connected(c);
        return;
    }
    if (!c->out) {
        event_del(&c->wev);
        return;
    }
    if (evbuffer_write(c->out, fd) < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
        errno != EINTR) {
        hb_conn_fail(c, HB_ERR_STREAM, strerror(errno));
        return;
    }
    if (evbuffer_get_length(c->out) == 0)
        event_del(&c->wev);
}

void hb_conn_start(struct hb_ctx *ctx, struct hb_conn *c, enum hb_role role, unsigned index)
{
    c->ctx = ctx;
    c->role = role;
    c->index = index;
    c->fd = -1;
    c->state = HB_ST_NEW;
    c->parser = XML_ParserCreateNS(NULL, ' ');
    if (!c->parser) {
        hb_conn_fail(c, HB_ERR_CONNECT, "out of memory (XML parser)");
        return;
    }
    hb_xmpp_parser_setup(c);
    int fd = socket(ctx->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        char msg[128];
        snprintf(msg, sizeof msg, "socket: %s", strerror(errno));
        hb_conn_fail(c, HB_ERR_CONNECT, msg);
        return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->fd = fd;
    ctx->open++;
    int prio = role == HB_ROLE_PUB ? 0 : 1;
    event_assign(&c->rev, ctx->base, fd, EV_READ | EV_PERSIST | EV_ET, conn_read_cb, c);
    event_assign(&c->wev, ctx->base, fd, EV_WRITE | EV_PERSIST, conn_write_cb, c);
    event_priority_set(&c->rev, prio);
    event_priority_set(&c->wev, prio);
    c->state = HB_ST_CONNECTING;
    if (connect(fd, (const struct sockaddr *)&ctx->addr, ctx->addrlen) == 0) {
        conn_connected(c);
    } else if (errno == EINPROGRESS) {
        event_add(&c->wev, NULL);
    } else {
        char msg[128];
        snprintf(msg, sizeof msg, "connect: %s", strerror(errno));
        hb_conn_fail(c, HB_ERR_CONNECT, msg);
    }
}

void hb_conn_publish_next(struct hb_conn *c)
{
    struct hb_ctx *ctx = c->ctx;
    const struct hb_opts *o = &ctx->o;
    unsigned seq = ++ctx->published;
    char *b = ctx->pubbuf;
    size_t cap = ctx->pubbuf_size;
    int pre = snprintf(b, cap,
                       "<iq type='set' id='p%u' to='%s'><pubsub xmlns='" HB_NS_PUBSUB
                       "'><publish node='%s'><item>",
                       seq, o->pubsub, o->node);
    int head = snprintf(b + pre, cap - (size_t)pre,
                        "<bench xmlns='" HB_NS_BENCH "' run='%s' seq='%u' ts='%llu'>", ctx->run_id,
                        seq, (unsigned long long)hb_now_ns());
    static const char close_bench[] = "</bench>";
    static const char tail[] = "</item></publish></pubsub></iq>";
    size_t bench_min = (size_t)head + sizeof close_bench - 1;
    size_t pad = o->payload > bench_min ? o->payload - bench_min : 0;
    size_t len = (size_t)pre + (size_t)head;
    /* pubbuf_size covers payload + the fixed parts (sized in main) */
    memset(b + len, 'x', pad);
    len += pad;
    memcpy(b + len, close_bench, sizeof close_bench - 1);
    len += sizeof close_bench - 1;
    memcpy(b + len, tail, sizeof tail - 1);
    len += sizeof tail - 1;
    ctx->outstanding++;
    hb_conn_send(c, b, len);
}

void hb_conn_delete_node(struct hb_conn *c)
{
    if (c->fd < 0 || c->state != HB_ST_READY)
        return;
    hb_conn_sendf(c,
                  "<iq type='set' id='da' to='%s'><pubsub xmlns='" HB_NS_PUBSUB
                  "#owner'><delete node='%s'/></pubsub></iq>",
                  c->ctx->o.pubsub, c->ctx->o.node);
}

void hb_conn_shutdown(struct hb_conn *c)
{
    if (c->fd < 0 || c->state == HB_ST_FAILED || c->state == HB_ST_CLOSED ||
        c->state == HB_ST_CLOSING)
        return;
    if (c->state == HB_ST_CONNECTING || c->state == HB_ST_NEW) {
        c->state = HB_ST_CLOSED;
        hb_conn_close(c);
        return;
    }
    c->state = HB_ST_CLOSING;
    hb_conn_send(c, "</stream:stream>", 16);
}

void hb_conn_close(struct hb_conn *c)
{
    if (c->fd < 0)
        return;
    event_del(&c->rev);
    event_del(&c->wev);
    close(c->fd);
    c->fd = -1;
    if (c->out) {
        evbuffer_free(c->out);
        c->out = NULL;
    }
    c->ctx->open--;
    hb_ctx_conn_closed(c->ctx, c);
}

void hb_conn_cleanup(struct hb_conn *c)
{
    hb_conn_close(c);
    if (c->parser) {
        XML_ParserFree(c->parser);
        c->parser = NULL;
    }
}
