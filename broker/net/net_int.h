/*
 * net_int.h - shared inside broker/net only.
 */
#ifndef HERALD_NET_INT_H
#define HERALD_NET_INT_H

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/event_struct.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <openssl/ssl.h>

#include "herald/hmap.h"
#include "herald/net.h"
#include "herald/refbuf.h"

struct ip_entry {
    char addr[48];
    uint32_t conns;
    uint32_t failures;
    uint64_t last_failure_ms;
    uint32_t registrations; /* in-band registrations attempted in the current window */
    uint64_t reg_window_ms; /* when that hour-long window began */
};

struct listener {
    struct net *net;
    struct evconnlistener *lev;
    enum listener_kind kind;
    char addr[64];
    unsigned port;
};

/* outq.c: a ring of references to refbufs (see outq.c for why not an evbuffer). */
struct outseg {
    struct refbuf *rb;
    uint32_t off;
    uint32_t len;
};
struct outq {
    struct outseg *seg;
    uint32_t head, count, cap; /* cap is a power of two (or 0) */
    size_t bytes;
};
HERALD_MUST_CHECK enum herald_rc outq_push_ref(struct outq *q, struct refbuf *rb);
HERALD_MUST_CHECK enum herald_rc outq_push_copy(struct outq *q, const void *data, size_t len);
/* writev() up to `budget` bytes and consume what was written; its return value. */
ssize_t outq_writev(struct outq *q, int fd, size_t budget);
/* Copy the first up-to-max queued bytes (nothing is consumed). */
size_t outq_peek(const struct outq *q, void *buf, size_t max);
void outq_consume(struct outq *q, size_t n);
void outq_clear(struct outq *q);

struct conn {
    struct net *net;
    evutil_socket_t fd;
    SSL *ssl;         /* set once TLS starts (direct TLS at accept, or after STARTTLS) */
    struct event rev; /* EV_READ|EV_PERSIST, added while reading */
    struct event wev; /* EV_WRITE|EV_PERSIST, added only while the socket is full */
    struct outq out;  /* queued output */
    size_t tls_retry; /* length of an SSL_write to repeat after WANT_WRITE, or 0 */
    uint64_t id;
    enum listener_kind kind;
    const struct conn_owner_ops *ops;
    void *owner;
    struct ip_entry *ip;
    struct event *deadline;
    char *label;
    char *ctx; /* cached log context */
    const char *action;
    struct conn *reap_next;
    struct conn *flush_next;  /* the net's list of connections with output to write */
    struct conn *prev, *next; /* every live conn, for shutdown */
    bool loopback;
    bool closing;     /* conn_close() called: flushing */
    bool dead;        /* queued for reaping */
    bool starttls;    /* waiting for output to flush before the TLS handshake */
    bool handshaking; /* TLS handshake in progress */
    bool read_armed;
    bool write_armed;
    bool in_flush;
    bool read_wants_write; /* SSL_read returned WANT_WRITE */
    bool owner_paused;
    bool flow_paused;
    char peer[64];
};

struct net {
    struct server *srv;
    net_accept_fn on_accept;
    struct listener *listeners;
    size_t nlisteners;
    SSL_CTX *tls;
    struct conn *reap;
    struct conn *flush; /* connections with output queued this turn, newest first */
    struct conn *all;
    size_t nconns;
    uint64_t next_id;
    struct hmap ips;
    struct event *sweep;
};

/* tls.c */
HERALD_MUST_CHECK enum herald_rc tls_ctx_load(struct net *n, SSL_CTX **out);
/* A server session on the shared context; `direct`: on the direct-TLS port (XEP-0368), where
 * ALPN must name xmpp-client when the client offers any. */
HERALD_MUST_CHECK SSL *tls_new_session(struct net *n, bool direct);
HERALD_MUST_CHECK enum herald_rc tls_channel_binding(SSL *ssl, const char *type, struct buf *out);
bool tls_has_channel_binding(SSL *ssl, const char *type);

/* conn.c */
HERALD_MUST_CHECK enum herald_rc conn_accept(struct net *n, evutil_socket_t fd,
                                             const struct sockaddr *sa, int salen,
                                             enum listener_kind kind, struct ip_entry *ip);
void conn_destroy(struct conn *c);
void conn_kill(struct conn *c);

/* listener.c */
void net_ip_release(struct net *n, struct ip_entry *ip);

#endif
