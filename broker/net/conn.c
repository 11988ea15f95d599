/*
 * conn.c - one client connection: bufferevent callbacks, output accounting and limits,
 * STARTTLS, deferred close.
 *
 * Lifetime. A conn is freed only by net_reap() at the end of a loop turn, after its
 * owner was told (on_closed). Everything else only marks it: conn_close() stops reading
 * and lets the output drain; conn_kill() (errors, EOF, timeouts) queues it for reaping at
 * once. So no callback ever runs on a freed conn, and owners may call conn_close() from
 * anywhere, including from inside on_input.
 *
 * The conn owns the socket and the SSL object; the bufferevents are created without
 * BEV_OPT_CLOSE_ON_FREE so that STARTTLS can swap a plain bufferevent for an OpenSSL one
 * on the same socket (one bufferevent per connection, never a filter stack: less memory
 * per session).
 *
 * Flow control. When a connection's queued output passes half its limit, reading its
 * input pauses until the output drains, so a client cannot make us buffer unbounded
 * replies. Past the full limit conn_send refuses (HERALD_ELIMIT) and the owner closes the
 * stream: that is the slow-consumer policy.
 */
#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "herald/log.h"
#include "herald/server.h"
#include "net_int.h"

#define CLOSE_FLUSH_TIMEOUT_S 10
#define MAX_SINGLE_WRITE      (256 * 1024)
#define MAX_SINGLE_READ       16384

static void conn_read_cb(struct bufferevent *bev, void *arg);
static void conn_write_cb(struct bufferevent *bev, void *arg);
static void conn_event_cb(struct bufferevent *bev, short what, void *arg);

static void conn_setup_bev(struct conn *c)
{
    bufferevent_setcb(c->bev, conn_read_cb, conn_write_cb, conn_event_cb, c);
    bufferevent_set_max_single_write(c->bev, MAX_SINGLE_WRITE);
    bufferevent_set_max_single_read(c->bev, MAX_SINGLE_READ);
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

enum herald_rc conn_accept(struct net *n, evutil_socket_t fd, const struct sockaddr *sa,
                           int salen, enum listener_kind kind, struct ip_entry *ip)
{
    (void)salen;
    struct conn *c = herald_calloc(HERALD_MEM_CONN, 1, sizeof(*c));
    if (c == NULL)
        return HERALD_ENOMEM;
    c->net = n;
    c->fd = fd;
    c->id = ++n->next_id;
    c->kind = kind;
    c->ip = ip;
    char addr[48] = "?";
    unsigned port = 0;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &in->sin_addr, addr, sizeof(addr));
        port = ntohs(in->sin_port);
        c->loopback = (ntohl(in->sin_addr.s_addr) >> 24) == 127;
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &in6->sin6_addr, addr, sizeof(addr));
        port = ntohs(in6->sin6_port);
        c->loopback = IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
    }
    snprintf(c->peer, sizeof(c->peer), "%s:%u", addr, port);
    if (kind == LISTENER_C2S_TLS) {
        c->ssl = tls_new_session(n);
        if (c->ssl == NULL)
            goto fail;
        c->bev = bufferevent_openssl_socket_new(n->srv->base, fd, c->ssl,
                                                BUFFEREVENT_SSL_ACCEPTING, 0);
        if (c->bev)
            bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
    } else {
        c->bev = bufferevent_socket_new(n->srv->base, fd, 0);
    }
    if (c->bev == NULL)
        goto fail;
    conn_setup_bev(c);
    n->nconns++;
    c->next = n->all;
    if (n->all)
        n->all->prev = c;
    n->all = c;
    c->action = "opening the stream";
    if (n->on_accept(n->srv, c)) {
        /* The stream layer could not take it. */
        n->all = c->next;
        if (c->next)
            c->next->prev = NULL;
        n->nconns--;
        bufferevent_free(c->bev);
        c->bev = NULL;
        goto fail;
    }
    log_debug("[%s] accepted on %s listener", conn_log_ctx(c),
              kind == LISTENER_C2S_TLS ? "direct TLS" : "plain");
    return HERALD_OK;
fail:
    if (c->ssl)
        SSL_free(c->ssl);
    herald_free(HERALD_MEM_CONN, c->ctx);
    herald_free(HERALD_MEM_CONN, c);
    return HERALD_ENOMEM;
}

/* Queue the conn for reaping (once); stop all I/O on it. */
void conn_kill(struct conn *c)
{
    if (c->dead)
        return;
    c->dead = true;
    if (c->bev)
        bufferevent_disable(c->bev, EV_READ | EV_WRITE);
    if (c->deadline)
        event_del(c->deadline);
    c->reap_next = c->net->reap;
    c->net->reap = c;
}

void conn_destroy(struct conn *c)
{
    if (c->ops && c->ops->on_closed)
        c->ops->on_closed(c->owner, c);
    if (c->bev)
        bufferevent_free(c->bev);
    if (c->ssl) {
        SSL_free(c->ssl);
        ERR_clear_error();
    }
    if (c->fd >= 0)
        evutil_closesocket(c->fd);
    if (c->deadline)
        event_free(c->deadline);
    net_ip_release(c->net, c->ip);
    if (c->prev)
        c->prev->next = c->next;
    else
        c->net->all = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->net->nconns--;
    herald_free(HERALD_MEM_CONN, c->label);
    herald_free(HERALD_MEM_CONN, c->ctx);
    herald_free(HERALD_MEM_CONN, c);
}

/* Output flushed after conn_close(): say goodbye to TLS and reap. */
static void conn_finish_close(struct conn *c)
{
    if (c->ssl && SSL_is_init_finished(c->ssl)) {
        /* One close_notify, best effort: the socket is non-blocking and we do not wait
         * for the peer's (RFC 8446 §6.1 allows closing the read side). */
        (void)SSL_shutdown(c->ssl);
        ERR_clear_error();
    }
    conn_kill(c);
}

static void conn_read_cb(struct bufferevent *bev, void *arg)
{
    struct conn *c = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    while (!c->closing && !c->dead && !c->owner_paused) {
        struct evbuffer_iovec v;
        if (evbuffer_peek(in, -1, NULL, &v, 1) < 1 || v.iov_len == 0)
            break;
        bool more = c->ops->on_input(c->owner, c, v.iov_base, v.iov_len);
        evbuffer_drain(in, v.iov_len);
        if (!more)
            break;
    }
    if (c->starttls && evbuffer_get_length(in) > 0) {
        /* RFC 6120 §5.4.3.3: the client must wait for <proceed/> before sending more. */
        log_info("[%s] data pipelined after <starttls/>; closing", conn_log_ctx(c));
        conn_kill(c);
    }
}

static void conn_do_starttls(struct conn *c)
{
    c->starttls = false;
    SSL *ssl = tls_new_session(c->net);
    struct bufferevent *bev = NULL;
    if (ssl)
        bev = bufferevent_openssl_socket_new(c->net->srv->base, c->fd, ssl,
                                             BUFFEREVENT_SSL_ACCEPTING, 0);
    if (bev == NULL) {
        log_error("[%s] cannot start TLS", conn_log_ctx(c));
        if (ssl)
            SSL_free(ssl);
        conn_kill(c);
        return;
    }
    /* Safe inside this bufferevent's own callback: libevent holds a reference until the
     * callback returns. */
    bufferevent_free(c->bev);
    c->bev = bev;
    c->ssl = ssl;
    bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
    conn_setup_bev(c);
    c->action = "negotiating TLS";
}

static void conn_write_cb(struct bufferevent *bev, void *arg)
{
    struct conn *c = arg;
    (void)bev;
    /* Called when the output buffer has drained completely (low watermark 0). */
    if (c->closing) {
        conn_finish_close(c);
        return;
    }
    if (c->starttls) {
        conn_do_starttls(c);
        return;
    }
    if (c->flow_paused) {
        c->flow_paused = false;
        if (!c->owner_paused)
            bufferevent_enable(c->bev, EV_READ);
    }
}

static void conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
    struct conn *c = arg;
    (void)bev;
    if (what & BEV_EVENT_CONNECTED)
        return;
    if (what & BEV_EVENT_EOF) {
        log_debug("[%s] peer closed the connection", conn_log_ctx(c));
    } else if (what & BEV_EVENT_TIMEOUT) {
        log_info("[%s] timed out (while %s)", conn_log_ctx(c), c->action);
    } else if (what & BEV_EVENT_ERROR) {
        unsigned long e = c->ssl ? bufferevent_get_openssl_error(c->bev) : 0;
        int err = EVUTIL_SOCKET_ERROR();
        if (e) {
            char buf[256];
            ERR_error_string_n(e, buf, sizeof(buf));
            log_info("[%s] TLS error: %s (while %s)", conn_log_ctx(c), buf, c->action);
        } else if (err) {
            log_debug("[%s] socket error: %s", conn_log_ctx(c), evutil_socket_error_to_string(err));
        }
        while (c->ssl && bufferevent_get_openssl_error(c->bev))
            ;
    }
    conn_kill(c);
}

void conn_set_owner(struct conn *c, const struct conn_owner_ops *ops, void *owner)
{
    c->ops = ops;
    c->owner = owner;
}

enum listener_kind conn_listener_kind(const struct conn *c)
{
    return c->kind;
}

bool conn_is_tls(const struct conn *c)
{
    return c->ssl != NULL;
}

uint64_t conn_id(const struct conn *c)
{
    return c->id;
}

const char *conn_peer(const struct conn *c)
{
    return c->peer;
}

bool conn_peer_is_loopback(const struct conn *c)
{
    return c->loopback;
}

void conn_set_label(struct conn *c, const char *label)
{
    herald_free(HERALD_MEM_CONN, c->label);
    c->label = label ? herald_strdup(HERALD_MEM_CONN, label) : NULL;
    herald_free(HERALD_MEM_CONN, c->ctx);
    c->ctx = NULL;
}

const char *conn_log_ctx(const struct conn *c)
{
    struct conn *m = (struct conn *)c; /* the cache is not part of the conn's state */
    if (m->ctx == NULL) {
        char buf[512];
        snprintf(buf, sizeof(buf), "conn %llu %s%s%s", (unsigned long long)c->id, c->peer,
                 c->label ? " " : "", c->label ? c->label : "");
        m->ctx = herald_strdup(HERALD_MEM_CONN, buf);
    }
    return m->ctx ? m->ctx : "conn ?";
}

void conn_set_action(struct conn *c, const char *action)
{
    c->action = action;
}

const char *conn_action(const struct conn *c)
{
    return c->action;
}

size_t conn_output_pending(const struct conn *c)
{
    return c->bev ? evbuffer_get_length(bufferevent_get_output(c->bev)) : 0;
}

size_t conn_output_limit(const struct conn *c)
{
    return (size_t)c->net->srv->cfg.output_buffer_limit;
}

/* Past half the limit, stop reading the peer until its output has drained. */
static void conn_flow_check(struct conn *c, size_t pending)
{
    if (!c->flow_paused && pending > conn_output_limit(c) / 2) {
        c->flow_paused = true;
        bufferevent_disable(c->bev, EV_READ);
    }
}

enum herald_rc conn_send(struct conn *c, const void *data, size_t len)
{
    if (c->dead || c->bev == NULL)
        return HERALD_EIO;
    struct evbuffer *out = bufferevent_get_output(c->bev);
    size_t pending = evbuffer_get_length(out);
    if (pending > conn_output_limit(c))
        return HERALD_ELIMIT;
    if (evbuffer_add(out, data, len))
        return HERALD_ENOMEM;
    conn_flow_check(c, pending + len);
    return HERALD_OK;
}

static void refbuf_release_cb(const void *data, size_t len, void *arg)
{
    struct refbuf *r = arg;
    (void)data, (void)len;
    refbuf_unref(&r);
}

enum herald_rc conn_send_ref(struct conn *c, const void *prefix, size_t plen,
                             struct refbuf *body)
{
    if (c->dead || c->bev == NULL)
        return HERALD_EIO;
    struct evbuffer *out = bufferevent_get_output(c->bev);
    size_t pending = evbuffer_get_length(out);
    if (pending > conn_output_limit(c))
        return HERALD_ELIMIT;
    if (plen && evbuffer_add(out, prefix, plen))
        return HERALD_ENOMEM;
    refbuf_ref(body);
    if (evbuffer_add_reference(out, body->data, body->len, refbuf_release_cb, body)) {
        refbuf_unref(&body);
        return HERALD_ENOMEM;
    }
    conn_flow_check(c, pending + plen + body->len);
    return HERALD_OK;
}

enum herald_rc conn_starttls(struct conn *c)
{
    if (c->ssl || c->net->tls == NULL || c->dead)
        return HERALD_EPROTO;
    c->starttls = true;
    c->action = "starting TLS";
    bufferevent_disable(c->bev, EV_READ);
    if (conn_output_pending(c) == 0)
        conn_do_starttls(c);
    return HERALD_OK;
}

enum herald_rc conn_channel_binding(struct conn *c, const char *type, struct buf *out)
{
    if (c->ssl == NULL)
        return HERALD_ENOTFOUND;
    return tls_channel_binding(c->ssl, type, out);
}

bool conn_has_channel_binding(struct conn *c, const char *type)
{
    return c->ssl && tls_has_channel_binding(c->ssl, type);
}

void conn_close(struct conn *c)
{
    if (c->closing || c->dead)
        return;
    c->closing = true;
    c->action = "closing";
    bufferevent_disable(c->bev, EV_READ);
    if (conn_output_pending(c) == 0) {
        conn_finish_close(c);
        return;
    }
    bufferevent_set_timeouts(c->bev, NULL, &(struct timeval){CLOSE_FLUSH_TIMEOUT_S, 0});
    bufferevent_enable(c->bev, EV_WRITE);
}

void conn_abort(struct conn *c)
{
    conn_kill(c);
}

void conn_pause_input(struct conn *c, bool pause)
{
    c->owner_paused = pause;
    if (c->dead || c->closing || c->starttls)
        return;
    if (pause)
        bufferevent_disable(c->bev, EV_READ);
    else if (!c->flow_paused) {
        bufferevent_enable(c->bev, EV_READ);
        /* Input may already be buffered: deliver it without waiting for the socket. */
        if (evbuffer_get_length(bufferevent_get_input(c->bev)) > 0)
            bufferevent_trigger(c->bev, EV_READ, BEV_TRIG_IGNORE_WATERMARKS);
    }
}

static void conn_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
    struct conn *c = arg;
    (void)fd, (void)what;
    log_info("[%s] deadline passed (while %s)", conn_log_ctx(c), c->action);
    conn_kill(c);
}

enum herald_rc conn_set_deadline(struct conn *c, uint64_t seconds)
{
    if (seconds == 0) {
        if (c->deadline) {
            event_free(c->deadline);
            c->deadline = NULL;
        }
        return HERALD_OK;
    }
    if (c->deadline == NULL) {
        c->deadline = evtimer_new(c->net->srv->base, conn_deadline_cb, c);
        if (c->deadline == NULL)
            return HERALD_ENOMEM;
    }
    struct timeval tv = {(time_t)seconds, 0};
    return evtimer_add(c->deadline, &tv) ? HERALD_EIO : HERALD_OK;
}
