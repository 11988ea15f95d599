/*
 * router.h - local sessions, local services and stanza delivery (RFC 6120 §10,
 * RFC 6121 §8).
 *
 * Sessions. A bound resource is a struct session, owned by the router, created by the
 * stream layer at bind (router_session_add) and removed when the stream ends
 * (router_session_remove). The stream layer provides session_ops to put bytes on the
 * wire. Work that outlives a loop turn (commit callbacks, deferred fan-out) holds a
 * struct session_ref and resolves it with router_session_get(), which returns NULL once
 * that session is gone: never hold a raw session pointer across turns.
 *
 * Delivery. router_route() takes a stanza whose `from` is authenticated and applies the
 * delivery rules: services (pubsub.<domain>), the server itself, local accounts (bare and
 * full JIDs), or an error for domains we do not serve (no server-to-server yet).
 */
#ifndef HERALD_ROUTER_H
#define HERALD_ROUTER_H

#include "herald/common.h"
#include "herald/jid.h"
#include "herald/refbuf.h"
#include "herald/stanza.h"

struct server;
struct router;
struct session;

struct session_ops {
    /* Queue one complete serialised stanza. HERALD_ELIMIT when the session's output is
     * over its limit: the transport is then already closing it (slow consumer). */
    enum herald_rc (*send)(struct session *s, const char *data, size_t len);
    /* Queue a shared prefix (may be NULL) and a shared body, by reference. */
    enum herald_rc (*send_shared)(struct session *s, struct refbuf *prefix, struct refbuf *body);
    /* End the session's stream, with a stream error condition or NULL for a plain close. */
    void (*close)(struct session *s, const char *condition, const char *text);
};

struct session_ref {
    uint32_t index;
    uint32_t gen;
};

struct session {
    struct session_ref ref;
    struct jid jid;  /* canonical full JID; parts point into `full` */
    char *full;      /* "local@domain/resource" */
    size_t bare_len; /* full[0..bare_len) is the bare JID */
    const struct session_ops *ops;
    void *owner;
    struct session *next_res; /* next resource of the same account */
    bool anonymous;
    bool encrypted; /* the stream is TLS-protected (set by the stream layer at bind) */
    /* Its account is being removed (XEP-0077 §3.2): nothing it sends is handled, it does
     * not keep the account in existence, and its stream ends once the removal commits. */
    bool ending;
    /* Presence state (RFC 6121 §4), kept by broker/im. */
    bool available;  /* initial presence sent, no unavailable since */
    bool interested; /* requested the roster (RFC 6121 §2.1.5) */
    int priority;
    char *presence; /* last broadcast presence, serialised without 'to' (heap) */
    void *im;       /* broker/im private state */
    void *pep;      /* broker/pep private state (entity capabilities) */
};

HERALD_MUST_CHECK struct router *router_new(struct server *srv);
void router_free(struct router **r);

/* ---- sessions ---- */

/* HERALD_ECONFLICT if the full JID is bound already. */
HERALD_MUST_CHECK enum herald_rc router_session_add(struct router *r, const struct jid *full,
                                                    const struct session_ops *ops, void *owner,
                                                    bool anonymous, struct session **out);
void router_session_remove(struct router *r, struct session *s);
struct session *router_session_get(struct router *r, struct session_ref ref);
struct session *router_session_by_full(struct router *r, const char *full, size_t len);
/* First resource of a bare JID (walk ->next_res), or NULL. */
struct session *router_sessions_of(struct router *r, const char *bare, size_t len);
size_t router_session_count(const struct router *r);
/* Visit every session (for shutdown); the callback must not remove sessions. */
void router_foreach_session(struct router *r, void (*fn)(struct session *s, void *arg), void *arg);

/* ---- services and handlers ---- */

typedef void (*router_stanza_fn)(struct server *srv, struct stanza *st, void *arg);
typedef void (*router_iq_fn)(struct server *srv, struct stanza *st, struct xml_node *payload,
                             void *arg);

/* A service domain (e.g. pubsub.localhost) receives every stanza addressed to it. */
HERALD_MUST_CHECK enum herald_rc router_add_service(struct router *r, const char *domain,
                                                    router_stanza_fn fn, void *arg);
bool router_is_local_domain(const struct router *r, const char *domain);

enum router_iq_target {
    ROUTER_IQ_SERVER,     /* to the server's domain */
    ROUTER_IQ_ACCOUNT,    /* to an account's bare JID, or with no 'to' (the sender's own) */
    ROUTER_IQ_NO_ACCOUNT, /* to a bare JID of the domain with no account (else: RFC 6121
                           * §8.5.1 <service-unavailable/>) */
};
/* Handle iqs whose payload is {ns}name (name NULL: any element of ns). */
HERALD_MUST_CHECK enum herald_rc router_add_iq(struct router *r, enum router_iq_target target,
                                               const char *ns, const char *name, router_iq_fn fn,
                                               void *arg);
/* Features and identities answered by disco#info on the server's domain. */
HERALD_MUST_CHECK enum herald_rc router_add_server_feature(struct router *r, const char *var);
size_t router_server_features(const struct router *r, const char *const **vars);

/* ---- delivery ---- */

/* Route a stanza whose `from` is set. Errors go back to the sender. */
void router_route(struct server *srv, struct stanza *st);
/*
 * Send a stanza made by the server (its 'from' and 'to' attributes must be set) to a
 * local entity, through the same rules as router_route. The tree may be in any arena.
 */
void router_send(struct server *srv, struct xml_node *stanza);
/* Serialise `n` (in jabber:client) and send it to one session. */
enum herald_rc router_send_to_session(struct session *s, const struct xml_node *n);
/* Reply with an error to `st`, from the entity it was addressed to. */
void router_reply_error(struct server *srv, const struct stanza *st, const struct xmpp_error *e);
/* The same with the RFC's usual type for `cond` and no text (xmpp_error_of). */
void router_reply_cond(struct server *srv, const struct stanza *st, const char *cond);
/* Reply with an iq result (payload may be NULL) from the entity addressed. */
void router_reply_result(struct server *srv, const struct stanza *st, struct xml_node *payload);

#endif
