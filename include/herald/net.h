/*
 * net.h - listeners and connections: sockets, TLS, buffering, output limits.
 *
 * A struct conn carries bytes for one owner (the c2s stream). The owner gets input
 * through conn_owner_ops.on_input and is told once, through on_closed, that the
 * connection is gone; after that it must not use the conn. Connections are freed from the
 * loop (never inside their own callbacks): conn_close() flushes output, then closes.
 *
 * Only broker/net includes OpenSSL headers.
 */
#ifndef HERALD_NET_H
#define HERALD_NET_H

#include "herald/buf.h"
#include "herald/common.h"
#include "herald/refbuf.h"

struct server;
struct net;
struct conn;

enum listener_kind { LISTENER_C2S, LISTENER_C2S_TLS, LISTENER_C2S_INSECURE };

struct conn_owner_ops {
    /*
     * Bytes arrived. Return true to keep reading, false to stop (the rest stays queued
     * in the connection, e.g. for STARTTLS or a close).
     */
    bool (*on_input)(void *owner, struct conn *c, const char *data, size_t len);
    /* The connection is gone (peer closed, error, timeout, or our close finished). */
    void (*on_closed)(void *owner, struct conn *c);
    /* The deadline of conn_set_deadline() passed. Optional: the owner may say goodbye
     * and conn_close(); when NULL (or if the owner does not close), the connection is
     * dropped. */
    void (*on_deadline)(void *owner, struct conn *c);
    /* The server is stopping (net_close_all): the owner may send a last word; the
     * connection is closed right after. Optional. */
    void (*on_shutdown)(void *owner, struct conn *c);
};

/* A new connection was accepted: the stream layer creates its owner. */
typedef HERALD_MUST_CHECK enum herald_rc (*net_accept_fn)(struct server *srv, struct conn *c);

HERALD_MUST_CHECK enum herald_rc net_new(struct server *srv, net_accept_fn on_accept,
                                         struct net **out);
/* Bind every configured listener; write the ready file. */
HERALD_MUST_CHECK enum herald_rc net_listen(struct net *n);
/* Reload the TLS certificate and key (SIGHUP). */
HERALD_MUST_CHECK enum herald_rc net_reload_tls(struct net *n);
/* Close listeners (no new connections). Existing connections stay. */
void net_stop_listening(struct net *n);
/* Tell every connection's owner (on_shutdown), then conn_close() it (shutdown). */
void net_close_all(struct net *n);
/* Write what every connection queued this turn (end of turn, before net_reap). */
void net_flush(struct net *n);
/* Free connections whose close has completed; called by the server at the end of a turn. */
void net_reap(struct net *n);
/* Are connections waiting for net_reap()? */
bool net_reap_pending(const struct net *n);
size_t net_conn_count(const struct net *n);
void net_free(struct net **n);

/* May this peer's address attempt another in-band registration (max_registrations_per_ip
 * an hour)? Counts the attempt when it may. */
bool net_registration_allowed(struct conn *c);
/* Remember an authentication failure from this peer's address; returns the delay (ms) to
 * wait before answering it (doubles per recent failure, capped). */
uint64_t net_auth_failure(struct conn *c);

void conn_set_owner(struct conn *c, const struct conn_owner_ops *ops, void *owner);
enum listener_kind conn_listener_kind(const struct conn *c);
bool conn_is_tls(const struct conn *c);
uint64_t conn_id(const struct conn *c);
const char *conn_peer(const struct conn *c); /* "address:port" */
bool conn_peer_is_loopback(const struct conn *c);
/* Log context shown in brackets: the conn id, the peer, and the label (a JID) if set. */
void conn_set_label(struct conn *c, const char *label);
const char *conn_log_ctx(const struct conn *c);
void conn_set_action(struct conn *c, const char *action); /* static string */
const char *conn_action(const struct conn *c);

/* Queue bytes (copied). HERALD_ELIMIT if the output is over `limit` bytes (0: none). */
HERALD_MUST_CHECK enum herald_rc conn_send(struct conn *c, const void *data, size_t len);
/* Queue a shared prefix (may be NULL) then a shared body, by reference: one reference
 * to each is kept until the bytes are written. Nothing is copied. */
HERALD_MUST_CHECK enum herald_rc conn_send_ref(struct conn *c, struct refbuf *prefix,
                                               struct refbuf *body);
size_t conn_output_pending(const struct conn *c);
/* The output limit over which conn_send fails (from output_buffer_limit). */
size_t conn_output_limit(const struct conn *c);

/*
 * Upgrade to TLS after <proceed/> was queued (RFC 6120 §5.4.3.3): once the output is
 * flushed the socket is handed to OpenSSL. The owner restarts its XML stream now; the
 * next on_input bytes are decrypted. HERALD_EPROTO if input was pipelined after
 * <starttls/> (not allowed) or TLS is unavailable.
 */
HERALD_MUST_CHECK enum herald_rc conn_starttls(struct conn *c);
/* Channel-binding data (RFC 5929 tls-server-end-point, RFC 9266 tls-exporter). */
HERALD_MUST_CHECK enum herald_rc conn_channel_binding(struct conn *c, const char *type,
                                                      struct buf *out);
/* Which channel-binding types this connection can give ("tls-exporter" needs TLS 1.3). */
bool conn_has_channel_binding(struct conn *c, const char *type);

/* Flush what is queued, then close (TLS close_notify first). Stops reading at once. */
void conn_close(struct conn *c);
/* Drop the connection now, without flushing (a peer that does not read its output). */
void conn_abort(struct conn *c);
/* Pause or resume reading input (flow control). */
void conn_pause_input(struct conn *c, bool pause);
/* Arm (or with 0, disarm) a deadline after which the connection is closed. */
HERALD_MUST_CHECK enum herald_rc conn_set_deadline(struct conn *c, uint64_t seconds);

#endif
