/*
 * im_int.h - shared inside broker/im only: the request context, the output batch, roster
 * and subscription helpers.
 *
 * Every handler (a presence stanza, a roster iq, a session ending) runs in one struct
 * im_ctx: a scratch arena, one storage transaction opened on the first write, and one
 * output batch. Nothing is sent while the handler runs; im_ctx_end() commits the writes
 * and then sends the batch in order: at once when the store has nothing waiting, else
 * after the turn's commit (store_on_commit), so nobody hears of a roster change a crash
 * could take back, and the im output of a turn keeps its order.
 *
 * The RFC 6121 roles are separate functions even though both ends are local: the
 * "user's server" side handles what a local session sends (im_sub_outbound,
 * im_pres_broadcast...), the "contact's server" side what arrives for a local account
 * (im_sub_inbound, im_pres_deliver, im_pres_probe_inbound). im_route() is the wire
 * between them.
 */
#ifndef HERALD_IM_INT_H
#define HERALD_IM_INT_H

#include "herald/im.h"
#include "herald/refbuf.h"
#include "herald/roster_store.h"
#include "herald/router.h"
#include "herald/server.h"

#define NS_ROSTER "jabber:iq:roster"

/* Most entities one resource may have sent directed presence to (RFC 6121 §4.6). */
#define IM_DIRECTED_MAX 128

struct im_batch;

struct im {
    struct server *srv;
    struct im_batch *waiting; /* batches queued with store_on_commit, not run yet */
    uint64_t push_seq;        /* makes roster push ids unique */
};

/* Per-session state, allocated only once the session sends directed presence. */
struct im_session {
    size_t ndirected, cap;
    char **directed; /* canonical JIDs, heap (HERALD_MEM_CONN) */
};

struct im_ctx {
    struct server *srv;
    struct im *im;
    struct arena *a;       /* scratch for this handler */
    struct store_txn *txn; /* write transaction, opened by im_ctx_write() */
    struct im_batch *out;
    bool failed;    /* a write failed: the request's writes are aborted */
    bool next_turn; /* send in a turn's work phase, not now (see im_session_ending) */
};

/* ---- context and output (outbox.c) ---- */

HERALD_MUST_CHECK enum herald_rc im_ctx_begin(struct im_ctx *c, struct server *srv);
/* Commit (or abort) the writes, then send or queue the output. Afterwards c->failed
 * tells whether the request's writes were dropped; nothing else of c may be used. */
void im_ctx_end(struct im_ctx *c);
/* A transaction to read from; NULL (logged) on failure. Call again after any
 * write: an earlier read transaction may be gone (store.h). */
struct store_txn *im_ctx_read(struct im_ctx *c);
/* The request's write transaction, opened on first use; NULL (logged) on failure. */
struct store_txn *im_ctx_write(struct im_ctx *c);
/* Record a storage failure: the request's writes will be aborted. */
void im_ctx_fail(struct im_ctx *c, const char *what, enum herald_rc rc);

/* A stanza serialised once: "<elem" is written per recipient (with 'to' and 'id' when the
 * entry asks for them), `rest` is everything after the element name, shared. elem NULL:
 * rest is the whole stanza. */
struct im_shared {
    const char *elem;
    struct refbuf *rest;
};

/* Serialise n (an unprefixed jabber:client element built by broker/im). */
HERALD_MUST_CHECK enum herald_rc im_share_node(const struct xml_node *n, struct im_shared *out);
/* Share a serialised "<elem ...>" string (such as session->presence). */
HERALD_MUST_CHECK enum herald_rc im_share_str(const char *elem, const char *s, size_t len,
                                              struct im_shared *out);
void im_shared_release(struct im_shared *sh);

enum im_target {
    IM_TO_SESSION,    /* the session `ref` */
    IM_TO_FULL,       /* the session bound to full JID `jid`, if any */
    IM_TO_AVAILABLE,  /* every available resource of bare JID `jid` */
    IM_TO_INTERESTED, /* every interested resource of bare JID `jid` (roster pushes) */
};
#define IM_OUT_TO_JID     0x01u /* stamp to='<jid>' */
#define IM_OUT_TO_SESSION 0x02u /* stamp to='<the receiving session's full JID>' */
#define IM_OUT_PUSH_ID    0x04u /* stamp a fresh id='...' (roster pushes) */
#define IM_OUT_FAIL_ONLY  0x08u /* send only if the request's writes did not commit */

/* Queue one delivery. jid (jlen bytes, need not be NUL-terminated) may be NULL for
 * IM_TO_SESSION without IM_OUT_TO_JID. Allocation failures are logged and the delivery
 * dropped (presence is best effort; iq errors have their own path). */
void im_out(struct im_ctx *c, enum im_target t, const char *jid, size_t jlen,
            struct session_ref ref, const struct im_shared *sh, unsigned flags);
void im_out_node(struct im_ctx *c, enum im_target t, const char *jid, struct session_ref ref,
                 const struct xml_node *n, unsigned flags);
/* Reply to a stanza from a local session: an error (RFC 6120 §8.3) or an iq result. */
void im_out_error(struct im_ctx *c, const struct stanza *st, const char *cond, const char *text,
                  unsigned flags);
void im_out_result(struct im_ctx *c, const struct stanza *st, struct xml_node *payload);
/* Called by im_free(): queued batches still run later, but only free themselves. */
void im_orphan_batches(struct im *im);

/* ---- helpers (im.c) ---- */

/* "local@domain" of a session, in c->a. */
const char *im_bare_of(struct im_ctx *c, const struct session *s);
/* Is this canonical JID a local account address (localpart at our domain)? */
bool im_is_local_account(const struct server *srv, const struct jid *j);
/* Same test on a canonical JID string of known length. */
bool im_str_is_local_account(const struct server *srv, const char *s, size_t len);
/* Does the account have a resource that sent initial presence? */
bool im_has_available(struct server *srv, const char *bare, size_t len);
/*
 * Deliver a stanza made for a local account (its 'from' and 'to' set, in c->a) as the
 * receiving server would: subscription types to im_sub_inbound, probes to
 * im_pres_probe_inbound, the rest to im_pres_deliver. Other destinations go to the router.
 */
void im_route(struct im_ctx *c, struct xml_node *n);
/* A list of JIDs in c->a, for what must wait until a cursor is closed (nothing may
 * write while one is open). Pushing puts a copy of s first; false when c->a is full. */
struct im_jid_list {
    struct im_jid_list *next;
    const char *jid;
};
HERALD_MUST_CHECK bool im_jid_list_push(struct im_ctx *c, struct im_jid_list **l, const char *s,
                                        size_t len);
/* A new presence element in c->a with from, to and type (each may be NULL). */
struct xml_node *im_presence_new(struct im_ctx *c, const char *from, const char *to,
                                 const char *type);
/* A copy of a client's presence: its id, xml:lang and children, with new from/to/type. */
struct xml_node *im_presence_copy(struct im_ctx *c, const struct xml_node *src, const char *from,
                                  const char *to, const char *type);

/* ---- roster (roster.c) ---- */

/* A roster item read into c->a (exists false: not in the roster). */
struct im_item {
    bool exists;
    struct roster_item r;
};

HERALD_MUST_CHECK enum herald_rc im_item_load(struct im_ctx *c, const char *owner,
                                              const char *contact, struct im_item *out);
/* Store the item with the next roster version and push it (RFC 6121 §2.1.6). */
HERALD_MUST_CHECK enum herald_rc im_item_save(struct im_ctx *c, const char *owner,
                                              const char *contact, struct im_item *it);
/* Remove the item with the next roster version and push subscription='remove'. */
HERALD_MUST_CHECK enum herald_rc im_item_remove(struct im_ctx *c, const char *owner,
                                                const char *contact);
/* May the owner's roster take one more item (max_roster_items)? */
HERALD_MUST_CHECK enum herald_rc im_roster_has_room(struct im_ctx *c, const char *owner,
                                                    bool *room);
void im_roster_iq_cb(struct server *srv, struct stanza *st, struct xml_node *payload, void *arg);

/* ---- subscriptions (subscription.c) ---- */

enum im_sub_type { IM_SUBSCRIBE, IM_SUBSCRIBED, IM_UNSUBSCRIBE, IM_UNSUBSCRIBED };
/* Parse a presence type; false when it is not a subscription type. */
bool im_sub_type_of(const char *type, enum im_sub_type *out);
/* User's server: a local session sent a subscription stanza with a 'to' (§3, A.2). */
void im_sub_outbound(struct im_ctx *c, struct session *s, const struct stanza *st,
                     enum im_sub_type type);
/* Contact's server: a subscription stanza for local account `owner` from `contact`
 * (bare JIDs); n is the stanza as routed (from/to stamped) (§3, A.3). */
void im_sub_inbound(struct im_ctx *c, enum im_sub_type type, const char *owner, const char *contact,
                    struct xml_node *n);
/* RFC 6121 §2.5.2: what removing `contact` from owner's roster tells the contact. */
void im_sub_removed(struct im_ctx *c, const char *owner, const char *contact,
                    const struct im_item *old, bool pending_in);
/*
 * §2.5.2 for every roster item and pending request of `owner`, as if each were removed:
 * the contacts' rosters change and they hear of it. The owner's own records stay (the
 * caller deletes them). Failures are recorded in c (im_ctx_fail): nothing is written.
 */
void im_sub_cancel_all(struct im_ctx *c, const char *owner);
/* The pending inbound request of `contact` for `owner`, if any. */
HERALD_MUST_CHECK enum herald_rc im_pending_exists(struct im_ctx *c, const char *owner,
                                                   const char *contact, bool *exists);

/* ---- presence (presence.c) ---- */

void im_pres_broadcast(struct im_ctx *c, struct session *s, const struct stanza *st);
void im_pres_unavailable(struct im_ctx *c, struct session *s, const struct stanza *st);
void im_pres_directed(struct im_ctx *c, struct session *s, struct stanza *st);
void im_pres_probe_outbound(struct im_ctx *c, struct session *s, struct stanza *st);
void im_pres_session_end(struct im_ctx *c, struct session *s);
/* Contact's server: presence (no type, unavailable, error) for a local account or one of
 * its resources; `from` is the sender (for the directed-presence bookkeeping). */
void im_pres_deliver(struct im_ctx *c, const struct jid *to, const char *from, const char *type,
                     const struct im_shared *sh);
/* Contact's server: a probe of `target` (bare or full) by `prober` (§4.3.2, §4.6.6);
 * internal: made by this server at initial presence (no reply for offline contacts). */
void im_pres_probe_inbound(struct im_ctx *c, const char *prober, const struct jid *target,
                           const char *id, bool internal);
/* Current presence of each of owner's available resources to `to` (§3.1.5, §4.3.2);
 * false when none is available. */
bool im_pres_send_current(struct im_ctx *c, const char *owner, const char *to);
/* Unavailable presence from each of owner's available resources to `to` (§3.2.2, §3.3.3). */
void im_pres_send_unavailable(struct im_ctx *c, const char *owner, const char *to);
void im_session_state_free(struct session *s);

#endif
