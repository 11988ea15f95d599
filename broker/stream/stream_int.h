/*
 * stream_int.h - the client-to-server stream, shared inside broker/stream only.
 */
#ifndef HERALD_STREAM_INT_H
#define HERALD_STREAM_INT_H

#include <event2/event.h>

#include "herald/net.h"
#include "herald/router.h"
#include "herald/sasl.h"
#include "herald/server.h"
#include "herald/stanza.h"
#include "herald/xml_stream.h"

#define NS_TLS     "urn:ietf:params:xml:ns:xmpp-tls"
#define NS_SASL    "urn:ietf:params:xml:ns:xmpp-sasl"
#define NS_BIND    "urn:ietf:params:xml:ns:xmpp-bind"
#define NS_SESSION "urn:ietf:params:xml:ns:xmpp-session"
#define NS_STREAMS "urn:ietf:params:xml:ns:xmpp-streams"
#define NS_SASL_CB "urn:xmpp:sasl-cb:0"

enum c2s_state {
    C2S_WAIT_HEADER, /* a (new) stream header is expected */
    C2S_NEGOTIATE,   /* features sent; STARTTLS, SASL or registration may follow */
    C2S_SASL,        /* a SASL exchange is running */
    C2S_SASL_DELAY,  /* a failure answer is being held back (brute-force slow-down) */
    C2S_AUTHED,      /* authenticated, resource not bound yet */
    C2S_BOUND,       /* a session: stanzas are routed */
    C2S_CLOSED,      /* our closing tag or stream error is sent */
};

struct c2s {
    struct server *srv;
    struct conn *conn;
    struct xml_stream *xs;
    enum c2s_state state;
    bool tls;
    bool header_sent; /* our stream header for the current stream */
    bool restart;     /* stop parsing this chunk: the stream restarts (STARTTLS) */
    bool anonymous;
    unsigned auth_failures;
    bool cb_type_refused; /* a -PLUS attempt named a channel-binding type we lack */
    char stream_id[24];
    char *user; /* authenticated localpart (heap) */
    struct sasl_server *sasl;
    struct event *delay; /* delayed SASL failure */
    struct session *session;
};

/* c2s.c */
/* Queue output; on failure (slow reader over its limit) the stream is dropped. */
HERALD_MUST_CHECK enum herald_rc c2s_send(struct c2s *c, const char *data, size_t len);
void c2s_overflow(struct c2s *c);
void c2s_send_str(struct c2s *c, const char *s);
/* Send what b holds (unless building it failed: logged), then buf_cleanup(b). */
void c2s_send_buf(struct c2s *c, struct buf *b);
void c2s_send_node(struct c2s *c, const struct xml_node *n);
/* Send a stream error (RFC 6120 §4.9) and close. text may be NULL. */
void c2s_stream_error(struct c2s *c, const char *condition, const char *text);
void c2s_send_features(struct c2s *c);
void c2s_sasl_opts(struct c2s *c, struct sasl_server_opts *o);
/* Go on after a held-back SASL failure was sent: handle the events parsed meanwhile, then
 * read again. Only from outside the input callback (a timer). */
void c2s_resume(struct c2s *c);

/* c2s_auth.c */
void c2s_handle_starttls(struct c2s *c, const struct xml_node *el);
void c2s_handle_sasl(struct c2s *c, struct xml_node *el);
void c2s_auth_cleanup(struct c2s *c);

/* c2s_bind.c */
void c2s_handle_bind_iq(struct c2s *c, struct xml_node *iq, struct arena *a);
extern const struct session_ops c2s_session_ops;

#endif
