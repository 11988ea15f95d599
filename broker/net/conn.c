/*
 * conn.c - one client connection: socket and TLS I/O, output accounting and limits,
 * STARTTLS, deferred close.
 *
 * I/O model (Redis's, not bufferevents). Input is read straight into a stack buffer and
 * handed to the owner, so a connection holds no input buffer. Output is appended to an
 * output queue (outq.c: copies, or references to shared notification bodies) and the
 * connection is
 * put on the net's flush list; at the end of the loop turn net_flush() writes each
 * listed connection once, everything it accumulated in one writev (or TLS records of up
 * to 16 kB). Only when the socket is full is an EV_WRITE event armed, until it drains.
 * A fan-out to N subscribers thus costs N writes and no epoll_ctl calls, and a
 * subscriber that receives several notifications in one turn gets them in one write.
 *
 * Lifetime. A conn is freed only by net_reap() at the end of a turn, after its owner was
 * told (on_closed). Everything else only marks it: conn_close() stops reading and lets
 * the output drain; conn_kill() (errors, EOF, timeouts) queues it for reaping at once.
 * So no callback ever runs on a freed conn, and owners may call conn_close() from
 * anywhere, including from inside on_input.
 *
 * Flow control. When a connection's queued output passes half its limit, reading its
 * input pauses until the output drains, so a client cannot make us buffer unbounded
 * replies. Past the full limit conn_send refuses (HERALD_ELIMIT) and the owner drops the
 * stream: that is the slow-consumer policy.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <openssl/err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "herald/log.h"
#include "herald/server.h"
#include "net_int.h"

#define CLOSE_FLUSH_TIMEOUT_S 10
#define READ_CHUNK            16384
#define READ_BUDGET           (4 * READ_CHUNK) /* per readiness event: others get a turn */
#define WRITE_BUDGET          (1024 * 1024)    /* per connection per flush */
#define TLS_RECORD            16384

static void conn_read_cb(evutil_socket_t fd, short what, void *arg);
static void conn_write_cb(evutil_socket_t fd, short what, void *arg);
static void conn_write(struct conn *c);

static void arm_read(struct conn *c, bool on)
{
    if (on == c->read_armed || c->dead)
        return;
    c->read_armed = on;
    if (on)
        event_add(&c->rev, NULL);
    else
        event_del(&c->rev);
}

static void arm_write(struct conn *c, bool on)
{
    if (on == c->write_armed || c->dead)
        return;
    c->write_armed = on;
    if (on)
        event_add(&c->wev, NULL);
    else
        event_del(&c->wev);
}

/* Should the socket be read now? */
static void update_read(struct conn *c)
{
    arm_read(c, !c->closing && !c->starttls && !c->owner_paused && !c->flow_paused);
}

static void log_ssl_error(struct conn *c, const char *what)
{
    unsigned long e = ERR_get_error();
    if (e) {
        char buf[256];
        ERR_error_string_n(e, buf, sizeof(buf));
        log_info("[%s] %s failed: %s (while %s)", conn_log_ctx(c), what, buf, c->action);
    } else {
        log_debug("[%s] %s failed (errno: %d) (while %s)", conn_log_ctx(c), what, errno, c->action);
    }
    ERR_clear_error();
}

static enum herald_rc conn_tls_begin(struct conn *c)
{
    c->ssl = tls_new_session(c->net, c->kind == LISTENER_C2S_TLS);
    if (c->ssl == NULL || SSL_set_fd(c->ssl, c->fd) != 1)
        return HERALD_ENOMEM;
    SSL_set_accept_state(c->ssl);
    c->handshaking = true;
    c->action = "negotiating TLS";
    return HERALD_OK;
}

enum herald_rc conn_accept(struct net *n, evutil_socket_t fd, const struct sockaddr *sa, int salen,
                           enum listener_kind kind, struct ip_entry *ip)
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
    if (evutil_make_socket_nonblocking(fd) != 0 ||
        event_assign(&c->rev, n->srv->base, fd, EV_READ | EV_PERSIST, conn_read_cb, c) != 0 ||
        event_assign(&c->wev, n->srv->base, fd, EV_WRITE | EV_PERSIST, conn_write_cb, c) != 0 ||
        (kind == LISTENER_C2S_TLS && conn_tls_begin(c) != HERALD_OK)) {
        if (c->ssl)
            SSL_free(c->ssl);
        herald_free(HERALD_MEM_CONN, c);
        return HERALD_ENOMEM;
    }
    c->next = n->all;
    if (n->all)
        n->all->prev = c;
    n->all = c;
    n->nconns++;
    if (!c->handshaking)
        c->action = "opening the stream";
    if (n->on_accept(n->srv, c)) {
        n->all = c->next;
        if (c->next)
            c->next->prev = NULL;
        n->nconns--;
        if (c->ssl)
            SSL_free(c->ssl);
        herald_free(HERALD_MEM_CONN, c);
        return HERALD_ENOMEM;
    }
    arm_read(c, true);
    log_debug("[%s] accepted on %s listener", conn_log_ctx(c),
              kind == LISTENER_C2S_TLS ? "direct TLS" : "plain");
    return HERALD_OK;
}

/* Queue the conn for reaping (once); stop all I/O on it. */
void conn_kill(struct conn *c)
{
    if (c->dead)
        return;
    arm_read(c, false);
    arm_write(c, false);
    c->dead = true;
    if (c->deadline)
        event_del(c->deadline);
    c->reap_next = c->net->reap;
    c->net->reap = c;
}

void conn_destroy(struct conn *c)
{
    if (c->ops && c->ops->on_closed)
        c->ops->on_closed(c->owner, c);
    outq_clear(&c->out); /* drops the references to shared bodies */
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
    if (c->ssl && !c->handshaking) {
        /* One close_notify, best effort: the socket is non-blocking and we do not wait
         * for the peer's (RFC 8446 §6.1 allows closing the read side). */
        ERR_clear_error();
        (void)SSL_shutdown(c->ssl);
        ERR_clear_error();
    }
    conn_kill(c);
}

/* ---- input ---- */

/* Drive the TLS handshake; false when it is not finished (or failed). */
static bool conn_handshake(struct conn *c)
{
    ERR_clear_error();
    int r = SSL_do_handshake(c->ssl);
    if (r == 1) {
        c->handshaking = false;
        c->action = "opening the stream";
        arm_write(c, c->out.bytes > 0);
        return true;
    }
    switch (SSL_get_error(c->ssl, r)) {
    case SSL_ERROR_WANT_READ:
        arm_write(c, false);
        return false;
    case SSL_ERROR_WANT_WRITE:
        arm_write(c, true);
        return false;
    default:
        log_ssl_error(c, "TLS handshake");
        conn_kill(c);
        return false;
    }
}

/* Read once into buf: bytes read, 0 for "nothing now", -1 when the connection ended. */
static ssize_t conn_read_some(struct conn *c, char *buf, size_t len)
{
    if (c->ssl == NULL) {
        ssize_t n = read(c->fd, buf, len);
        if (n > 0)
            return n;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            return 0;
        if (n < 0)
            log_debug("[%s] read() failed (errno: %d %s)", conn_log_ctx(c), errno, strerror(errno));
        else
            log_debug("[%s] peer closed the connection", conn_log_ctx(c));
        return -1;
    }
    ERR_clear_error();
    int n = SSL_read(c->ssl, buf, (int)len);
    if (n > 0) {
        c->read_wants_write = false;
        return n;
    }
    switch (SSL_get_error(c->ssl, n)) {
    case SSL_ERROR_WANT_READ:
        return 0;
    case SSL_ERROR_WANT_WRITE:
        c->read_wants_write = true;
        arm_write(c, true);
        return 0;
    case SSL_ERROR_ZERO_RETURN:
        log_debug("[%s] peer closed TLS", conn_log_ctx(c));
        return -1;
    case SSL_ERROR_SYSCALL:
        if (ERR_peek_error() == 0) { /* EOF without close_notify: a dirty shutdown */
            log_debug("[%s] peer closed the connection", conn_log_ctx(c));
            return -1;
        }
        /* fall through */
    default:
        log_ssl_error(c, "SSL_read()");
        return -1;
    }
}

static void conn_read(struct conn *c)
{
    char buf[READ_CHUNK];
    size_t budget = READ_BUDGET;
    if (c->handshaking && !conn_handshake(c))
        return;
    while (!c->closing && !c->dead && !c->starttls && !c->owner_paused && budget > 0) {
        ssize_t n = conn_read_some(c, buf, sizeof(buf));
        if (n < 0) {
            conn_kill(c);
            return;
        }
        if (n == 0)
            return;
        budget = (size_t)n >= budget ? 0 : budget - (size_t)n;
        if (!c->ops->on_input(c->owner, c, buf, (size_t)n))
            break;
        /* A short plain read drained the socket; TLS may hold decrypted bytes. */
        if ((size_t)n < sizeof(buf) && (c->ssl == NULL || SSL_pending(c->ssl) == 0))
            return;
    }
}

static void conn_read_cb(evutil_socket_t fd, short what, void *arg)
{
    struct conn *c = arg;
    (void)fd, (void)what;
    conn_read(c);
    /* An SSL_write that wanted to read first can go on now. */
    if (c->tls_retry && !c->write_armed)
        conn_write(c);
}

/* ---- output ---- */

static void flush_list_add(struct conn *c)
{
    if (c->in_flush || c->dead)
        return;
    /* Last queued, first written. A publish's acknowledgement is queued before the
     * notifications it causes, so it leaves after them: a publisher pacing itself on its
     * acknowledgements (a window of outstanding publishes) cannot run ahead of the
     * fan-out, and an item's subscribers are served before the next item arrives.
     * (Written first, the acks let publishers pile fan-outs on top of each other: p50
     * latency tripled at 10,000 subscribers in bench/.) */
    struct net *n = c->net;
    c->in_flush = true;
    c->flush_next = n->flush;
    n->flush = c;
}

/* The output drained: finish what was waiting for that. */
static void conn_drained(struct conn *c)
{
    arm_write(c, c->read_wants_write);
    if (c->closing) {
        conn_finish_close(c);
        return;
    }
    if (c->starttls) {
        c->starttls = false;
        if (conn_tls_begin(c)) {
            log_error("[%s] cannot start TLS", conn_log_ctx(c));
            conn_kill(c);
            return;
        }
        update_read(c);
        return;
    }
    if (c->flow_paused) {
        c->flow_paused = false;
        update_read(c);
    }
}

/* Plain sockets: one writev of everything queued (up to the budget). */
static bool conn_write_plain(struct conn *c)
{
    size_t budget = WRITE_BUDGET;
    while (c->out.bytes > 0 && budget > 0) {
        ssize_t n = outq_writev(&c->out, c->fd, budget);
        if (n > 0) {
            budget = (size_t)n >= budget ? 0 : budget - (size_t)n;
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            return false;
        log_debug("[%s] writev() failed (errno: %d %s)", conn_log_ctx(c), errno, strerror(errno));
        conn_kill(c);
        return false;
    }
    return c->out.bytes == 0;
}

/* TLS: records of up to 16 kB, each from a linearised piece of the queue. */
static bool conn_write_tls(struct conn *c)
{
    size_t budget = WRITE_BUDGET;
    unsigned char p[TLS_RECORD];
    while (c->out.bytes > 0 && budget > 0) {
        size_t len = c->tls_retry ? c->tls_retry : c->out.bytes;
        bool cut = !c->tls_retry && len > TLS_RECORD;
        if (cut)
            len = TLS_RECORD;
        len = outq_peek(&c->out, p, len);
        if (cut) {
            /* End the record after a '>' so a peer never receives half a tag: parsers
             * with expat's reparse deferral (Debian 12's) can wait forever on one. */
            unsigned char *gt = memrchr(p, '>', len);
            if (gt && gt > p)
                len = (size_t)(gt - p) + 1;
        }
        ERR_clear_error();
        int n = SSL_write(c->ssl, p, (int)len);
        c->tls_retry = 0;
        if (n > 0) {
            outq_consume(&c->out, (size_t)n);
            budget = (size_t)n >= budget ? 0 : budget - (size_t)n;
            continue;
        }
        switch (SSL_get_error(c->ssl, n)) {
        case SSL_ERROR_WANT_WRITE:
        case SSL_ERROR_WANT_READ: /* the read event is armed and will call us back */
            c->tls_retry = len;
            return false;
        default:
            log_ssl_error(c, "SSL_write()");
            conn_kill(c);
            return false;
        }
    }
    return c->out.bytes == 0;
}

static void conn_write(struct conn *c)
{
    if (c->dead || c->handshaking)
        return;
    bool done = c->out.bytes == 0 || (c->ssl ? conn_write_tls(c) : conn_write_plain(c));
    if (c->dead)
        return;
    if (done)
        conn_drained(c);
    else
        arm_write(c, true);
}

static void conn_write_cb(evutil_socket_t fd, short what, void *arg)
{
    struct conn *c = arg;
    (void)fd, (void)what;
    if (c->handshaking) {
        if (conn_handshake(c))
            conn_read(c);
        return;
    }
    if (c->read_wants_write)
        conn_read(c);
    conn_write(c);
}

void net_flush(struct net *n)
{
    while (n->flush) {
        struct conn *c = n->flush;
        n->flush = c->flush_next;
        c->in_flush = false;
        if (!c->write_armed) /* else the socket is full: its write event will come */
            conn_write(c);
    }
}

/* ---- the interface ---- */

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
    return c->out.bytes;
}

size_t conn_output_limit(const struct conn *c)
{
    return (size_t)c->net->srv->cfg.output_buffer_limit;
}

/* Room for more output? */
static enum herald_rc conn_out_ready(struct conn *c, size_t *pending)
{
    if (c->dead)
        return HERALD_EIO;
    *pending = c->out.bytes;
    return *pending > conn_output_limit(c) ? HERALD_ELIMIT : HERALD_OK;
}

/* Queued: write at the end of the turn; past half the limit, stop reading the peer. */
static void conn_queued(struct conn *c, size_t pending)
{
    flush_list_add(c);
    if (!c->flow_paused && pending > conn_output_limit(c) / 2) {
        c->flow_paused = true;
        update_read(c);
    }
}

enum herald_rc conn_send(struct conn *c, const void *data, size_t len)
{
    size_t pending;
    enum herald_rc rc = conn_out_ready(c, &pending);
    if (rc || (rc = outq_push_copy(&c->out, data, len)))
        return rc;
    conn_queued(c, pending + len);
    return HERALD_OK;
}

/*
 * A notification is two references: the recipient's cached "<message to='...'" and the
 * body shared by all recipients. Nothing is copied.
 */
enum herald_rc conn_send_ref(struct conn *c, struct refbuf *prefix, struct refbuf *body)
{
    size_t pending;
    enum herald_rc rc = conn_out_ready(c, &pending);
    if (rc || (prefix && (rc = outq_push_ref(&c->out, prefix))) ||
        (rc = outq_push_ref(&c->out, body)))
        return rc;
    conn_queued(c, pending + (prefix ? prefix->len : 0) + body->len);
    return HERALD_OK;
}

enum herald_rc conn_starttls(struct conn *c)
{
    if (c->ssl || c->net->tls == NULL || c->dead)
        return HERALD_EPROTO;
    /* Nothing more is read until TLS starts (after <proceed/> is written): bytes the
     * client sends after <proceed/> belong to the TLS handshake. */
    c->starttls = true;
    c->action = "starting TLS";
    update_read(c);
    flush_list_add(c);
    return HERALD_OK;
}

enum herald_rc conn_channel_binding(struct conn *c, const char *type, struct buf *out)
{
    if (c->ssl == NULL || c->handshaking)
        return HERALD_ENOTFOUND;
    return tls_channel_binding(c->ssl, type, out);
}

bool conn_has_channel_binding(struct conn *c, const char *type)
{
    return c->ssl && !c->handshaking && tls_has_channel_binding(c->ssl, type);
}

void conn_close(struct conn *c)
{
    if (c->closing || c->dead)
        return;
    c->closing = true;
    c->action = "closing";
    update_read(c);
    if (conn_output_pending(c) == 0) {
        conn_finish_close(c);
        return;
    }
    flush_list_add(c);
    if (conn_set_deadline(c, CLOSE_FLUSH_TIMEOUT_S) != HERALD_OK)
        conn_kill(c); /* no timer: do not risk waiting forever on a stuck peer */
}

void conn_abort(struct conn *c)
{
    conn_kill(c);
}

void conn_pause_input(struct conn *c, bool pause)
{
    c->owner_paused = pause;
    if (c->dead)
        return;
    update_read(c);
}

static void conn_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
    struct conn *c = arg;
    (void)fd, (void)what;
    if (c->closing) {
        log_info("[%s] output not drained in time; dropping", conn_log_ctx(c));
        conn_kill(c);
        return;
    }
    log_info("[%s] deadline passed (while %s)", conn_log_ctx(c), c->action);
    if (c->ops && c->ops->on_deadline && !c->dead)
        c->ops->on_deadline(c->owner, c);
    if (!c->closing)
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
