/*
 * pubsub_int.h - the publish-subscribe service (XEP-0060), shared inside broker/pubsub.
 *
 * State model. LMDB holds the truth. Each service keeps the nodes it has touched in
 * memory (config, subscribers grouped by JID, affiliations, item counters), loaded from
 * the store on first use. A request handler validates against that memory, writes its
 * changes in a nested store transaction, merges it (store_commit), and only then applies
 * the same change to memory: so memory always equals "the store including every merged
 * request of this turn". Replies and notifications wait for the turn's durable commit
 * (store_on_commit). If that commit fails, every service drops its cached nodes (they
 * reload from the store, which then holds the last good state) and the waiting
 * requests get <internal-server-error/>.
 *
 * Fan-out. A notification's body is serialised once into a refbuf and referenced by every
 * recipient's output buffer; only "<message to='JID'" (cached per subscriber) and, for
 * JIDs with several subscriptions, SHIM headers are per recipient (pubsub_notify.c).
 */
#ifndef HERALD_PUBSUB_INT_H
#define HERALD_PUBSUB_INT_H

#include "herald/hmap.h"
#include "herald/pubsub.h"
#include "herald/pubsub_config.h"
#include "herald/refbuf.h"
#include "herald/router.h"
#include "herald/server.h"
#include "herald/stanza.h"

#define PUBSUB_NS        "http://jabber.org/protocol/pubsub"
#define PUBSUB_NS_EVENT  "http://jabber.org/protocol/pubsub#event"
#define PUBSUB_NS_OWNER  "http://jabber.org/protocol/pubsub#owner"
#define PUBSUB_NS_ERRORS "http://jabber.org/protocol/pubsub#errors"
#define NS_SHIM          "http://jabber.org/protocol/shim"
#define NS_RSM           "http://jabber.org/protocol/rsm"
#define NS_DELAY         "urn:xmpp:delay"
#define NS_XDATA         "jabber:x:data"
#define NS_COMMANDS      "http://jabber.org/protocol/commands"

#define PUBSUB_SUBID_LEN   16  /* hex characters */
#define PUBSUB_NODE_MAX    256 /* bytes of a NodeID (keys must fit LMDB's 511) */
#define PUBSUB_ITEMID_MAX  256 /* bytes of an ItemID */
#define PUBSUB_BARE_MAX    (2 * 1023 + 2) /* a bare JID and its NUL */

/* Affiliations (§4.1), ordered so that comparisons read as privilege. */
enum pubsub_aff {
    PUBSUB_AFF_OUTCAST = 0,
    PUBSUB_AFF_NONE,
    PUBSUB_AFF_MEMBER,
    PUBSUB_AFF_PUBLISH_ONLY,
    PUBSUB_AFF_PUBLISHER,
    PUBSUB_AFF_OWNER,
};

/* Subscription states (§4.2). */
enum pubsub_substate {
    PUBSUB_SUB_NONE = 0,
    PUBSUB_SUB_PENDING,
    PUBSUB_SUB_UNCONFIGURED,
    PUBSUB_SUB_SUBSCRIBED,
};

struct pubsub_sub {
    char subid[PUBSUB_SUBID_LEN + 1];
    enum pubsub_substate state;
    struct pubsub_subopts opts;
};

/* Everything one JID has on one node: notifications are per JID, not per subscription. */
struct pubsub_subscriber {
    char *jid; /* canonical; the hmap key */
    size_t jid_len;
    bool full; /* has a resource */
    uint32_t index; /* position in node->subscribers */
    uint32_t nsubs;
    struct pubsub_sub *subs;
    struct refbuf *to_prefix; /* "<message to='jid'" with the JID escaped, shared */
};

struct pubsub_affentry {
    char *jid; /* bare; the hmap key */
    enum pubsub_aff aff;
};

struct pubsub_node {
    struct pubsub_service *svc;
    char *name;
    struct pubsub_config cfg;
    int64_t created_us;
    char *creator;
    uint64_t next_seq; /* sequence number of the next published item */
    uint64_t nitems;
    struct hmap by_jid; /* jid -> struct pubsub_subscriber */
    struct pubsub_subscriber **subscribers;
    size_t nsubscribers, capsubscribers;
    uint64_t nsubs; /* subscriptions in all states */
    struct hmap affs; /* bare jid -> struct pubsub_affentry */
};

struct pubsub_service {
    struct pubsub_registry *reg;
    struct server *srv;
    char *jid;
    bool pep;
    struct hmap nodes; /* loaded nodes: name -> struct pubsub_node */
    uint64_t notify_seq;
};

struct pubsub_expiry;

struct pubsub_registry {
    struct server *srv;
    struct pubsub_limits lim;
    struct pubsub_service **svcs;
    size_t nsvcs;
    char boot[8]; /* random per start: notification ids stay unique across restarts */
    struct pubsub_expiry *expiry; /* the item_expire sweep (pubsub_expire.c) */
};

/* One request being handled; everything borrowed from the stanza (valid during the
 * handler only). */
struct pubsub_req {
    struct server *srv;
    struct pubsub_service *svc;
    struct stanza *st;
    struct arena *a;
    const char *from_bare; /* requester's bare JID */
    struct xml_node *ps;   /* the <pubsub/> element */
    struct xml_node *op;   /* the action element inside it */
};

/* ---- pubsub_service.c ---- */
void pubsub_reply_error(struct pubsub_req *r, const char *cond, const char *app);
void pubsub_reply_xerr(struct pubsub_req *r, const struct xmpp_error *e);
void pubsub_reply_unsupported(struct pubsub_req *r, const char *feature);
/* As pubsub_reply_error, with the error type a XEP-0060 example gives instead of the
 * condition's usual one. */
void pubsub_reply_error_typed(struct pubsub_req *r, const char *cond, const char *app,
                              enum xmpp_error_type type);
/* A reply that waits for the turn's commit. `payload` (may be NULL) is copied. After the
 * commit, fn(ctx, rc) runs (rc != OK: the commit failed); ctx may be NULL. */
typedef void (*pubsub_after_fn)(struct server *srv, void *ctx, enum herald_rc rc);
HERALD_MUST_CHECK enum herald_rc pubsub_reply_after_commit(struct pubsub_req *r,
                                                           struct xml_node *payload,
                                                           pubsub_after_fn fn, void *ctx);
/* Drop every cached node of every service (after a failed commit). */
void pubsub_registry_invalidate(struct pubsub_registry *reg);
/* A fresh unique id (subids, item ids): 2*nbytes hex characters into out. */
HERALD_MUST_CHECK enum herald_rc pubsub_random_hex(char *out, size_t nbytes);
enum pubsub_aff pubsub_aff_parse(const char *s, bool *ok);
const char *pubsub_aff_name(enum pubsub_aff a);
const char *pubsub_substate_name(enum pubsub_substate s);

/* ---- pubsub_node.c ---- */
/* The node from cache or store. HERALD_ENOTFOUND if it does not exist. */
HERALD_MUST_CHECK enum herald_rc pubsub_node_get(struct pubsub_service *svc, const char *name,
                                                 struct pubsub_node **out);
void pubsub_node_free(struct pubsub_node *n);
/* Forget a node from memory (it was deleted, or the cache is invalid). */
void pubsub_node_evict(struct pubsub_service *svc, struct pubsub_node *n);
enum pubsub_aff pubsub_node_aff(const struct pubsub_node *n, const char *bare);
/* Set an affiliation in memory (PUBSUB_AFF_NONE removes it). */
HERALD_MUST_CHECK enum herald_rc pubsub_node_set_aff(struct pubsub_node *n, const char *bare,
                                                     enum pubsub_aff aff);
/* Create a node in the store and memory (caller checked permissions). cfg is copied. */
HERALD_MUST_CHECK enum herald_rc pubsub_node_create(struct pubsub_service *svc,
                                                    const char *name,
                                                    const struct pubsub_config *cfg,
                                                    const char *owner, struct pubsub_node **out);
/* May `bare` create nodes on this service (pubsub_create policy)? */
bool pubsub_may_create(struct pubsub_service *svc, const char *bare);
void pubsub_handle_create(struct pubsub_req *r);
void pubsub_handle_owner(struct pubsub_req *r);
/* The node an owner request names, after the checks every owner use case makes (a NodeID,
 * an existing node, an owner); NULL when it has replied with the error. */
struct pubsub_node *pubsub_owner_node(struct pubsub_req *r);

/* ---- pubsub_owner.c ---- */
/* §8.8 subscriptions and §8.9 affiliations management (pubsub#owner). */
void pubsub_handle_owner_subscriptions(struct pubsub_req *r);
void pubsub_handle_owner_affiliations(struct pubsub_req *r);

struct store_txn;
struct pubsub_changes;

/* One subscription write of a request: from NONE creates it, to NONE removes it. */
struct pubsub_subop {
    const char *jid; /* borrowed for the request's duration */
    char subid[PUBSUB_SUBID_LEN + 1];
    enum pubsub_substate from, to;
    struct pubsub_subopts opts; /* the options to store (the current ones, or defaults) */
};
/* Write the ops in the request's nested transaction. */
HERALD_MUST_CHECK enum herald_rc pubsub_subops_store(struct store_txn *t,
                                                     const struct pubsub_service *svc,
                                                     const struct pubsub_node *n,
                                                     const struct pubsub_subop *ops, size_t nops);
/*
 * After store_commit: apply the ops to memory and queue their notifications in c (may be
 * NULL). Returns false when memory could not follow (out of memory): the caller then evicts
 * the node, which reloads from the store.
 */
bool pubsub_subops_apply(struct pubsub_node *n, const struct pubsub_subop *ops, size_t nops,
                         struct pubsub_changes *c);

/*
 * Notifications of subscription state changes (§8.8.4, §8.6, "Notification of Subscription
 * State Changes") and affiliation changes (§8.9.4), queued while a request applies its
 * changes and sent after the turn's durable commit; a subscription that became active also
 * gets the last published item when the node says so. Best effort: a note that cannot be
 * queued for lack of memory is dropped with a warning.
 */
struct pubsub_changes *pubsub_changes_new(struct pubsub_service *svc, const char *node);
void pubsub_changes_add_sub(struct pubsub_changes *c, const char *jid, const char *subid,
                            enum pubsub_substate state, bool send_last);
void pubsub_changes_add_aff(struct pubsub_changes *c, const char *bare, enum pubsub_aff aff);
/* A pubsub_after_fn: sends the notes when rc is HERALD_OK, then frees c (ctx). */
void pubsub_changes_run_cb(struct server *srv, void *ctx, enum herald_rc rc);
/* A store_commit_cb for changes made outside an iq request (no deferred reply): drops the
 * cached state when the commit failed, then as pubsub_changes_run_cb. */
void pubsub_changes_commit_cb(void *arg, enum herald_rc rc);
/* Send one subscription state notification now (<event><subscription/></event>). */
void pubsub_notify_substate(struct pubsub_service *svc, const struct pubsub_node *n,
                            const char *jid, const char *subid, enum pubsub_substate state);

/* ---- pubsub_approval.c ---- */
/* §8.6: a node owner's answer to a subscription approval request (a data form). */
void pubsub_handle_owner_message(struct pubsub_service *svc, struct stanza *st);
/* §8.6: ask every owner to approve a pending subscription. */
void pubsub_request_approval(struct pubsub_service *svc, struct pubsub_node *n, const char *jid,
                             const char *subid);
/* XEP-0050 commands: §8.7 get-pending. */
void pubsub_handle_command(struct pubsub_req *r, struct xml_node *cmd);
/* XEP-0050 §2.2 discovery of the commands (disco#info / #items on their nodes). Returns
 * false, having replied nothing, when `nodename` is not a command node. */
bool pubsub_commands_disco(struct pubsub_req *r, const char *nodename, bool items);

/* ---- pubsub_items.c ---- */
void pubsub_handle_publish(struct pubsub_req *r);
void pubsub_handle_retract(struct pubsub_req *r);
/* "<item id='ID'>PAYLOAD</item>" (an empty <item/> when plen is 0) into b. */
void pubsub_item_write(struct buf *b, const char *id, size_t idlen, const char *payload,
                       size_t plen);

/* ---- pubsub_retrieve.c ---- */
void pubsub_handle_items(struct pubsub_req *r);
/* Send the node's last item to one JID (send_last_published_item), with a delay stamp.
 * `jid` is the recipient (a subscribed JID, or one session of a subscribed bare JID);
 * `subid` (may be NULL) is named in a SHIM header when `jid` has several subscriptions. */
void pubsub_send_last_item(struct pubsub_service *svc, struct pubsub_node *n, const char *jid,
                           const char *subid);
/* Has an item published at ts_us outlived the node's pubsub#item_expire at now_us? */
bool pubsub_item_expired(const struct pubsub_config *cfg, int64_t ts_us, int64_t now_us);

/* ---- pubsub_subs.c ---- */
void pubsub_handle_subscribe(struct pubsub_req *r);
void pubsub_handle_unsubscribe(struct pubsub_req *r);
void pubsub_handle_options(struct pubsub_req *r);
void pubsub_handle_default_options(struct pubsub_req *r);
void pubsub_handle_subscriptions(struct pubsub_req *r);
void pubsub_handle_affiliations(struct pubsub_req *r);
struct pubsub_subscriber *pubsub_node_subscriber(const struct pubsub_node *n, const char *jid);
/* Add a subscription in memory (after the store write). */
HERALD_MUST_CHECK enum herald_rc pubsub_node_add_sub(struct pubsub_node *n, const char *jid,
                                                     const struct pubsub_sub *sub);
/* Remove one subscription (subid) or all of a JID's (subid NULL) from memory. */
void pubsub_node_remove_sub(struct pubsub_node *n, const char *jid, const char *subid);
/* pubsub#notify_sub: tell the node's owners (their available resources) that `jid`'s
 * subscription `subid` is now in `state` (<event><subscription/></event>, the §8.8.4
 * format). Sends now: call it after the commit. Does nothing unless n has notify_sub. */
void pubsub_notify_owners_sub(struct pubsub_service *svc, const struct pubsub_node *n,
                              const char *jid, const char *subid, enum pubsub_substate state);

/* ---- pubsub_expire.c ---- */
/* Start the periodic sweep that deletes items older than their node's item_expire (and
 * notifies the retractions when notify_retract is set); stop frees it (NULL-safe). */
HERALD_MUST_CHECK enum herald_rc pubsub_expire_start(struct pubsub_registry *reg);
void pubsub_expire_stop(struct pubsub_registry *reg);

/* ---- pubsub_access.c ---- */
enum pubsub_access_op { PUBSUB_OP_SUBSCRIBE, PUBSUB_OP_RETRIEVE, PUBSUB_OP_NOTIFY };
enum pubsub_access_verdict {
    PUBSUB_ALLOW,
    PUBSUB_DENY_OUTCAST,     /* forbidden */
    PUBSUB_DENY_PRESENCE,    /* not-authorized + presence-subscription-required */
    PUBSUB_DENY_ROSTER,      /* not-authorized + not-in-roster-group */
    PUBSUB_DENY_WHITELIST,   /* not-allowed + closed-node */
    PUBSUB_DENY_NOT_SUBSCRIBED, /* authorize model, retrieve: not-authorized + not-subscribed */
    PUBSUB_NEEDS_APPROVAL,   /* authorize model, subscribe: pending */
};
/* The one access decision for subscribe, retrieve and notify (§4.5 access models). */
enum pubsub_access_verdict pubsub_access_check(struct pubsub_service *svc,
                                               const struct pubsub_node *n,
                                               const char *bare, enum pubsub_access_op op);
/* Reply with the error a verdict stands for. */
void pubsub_reply_access(struct pubsub_req *r, enum pubsub_access_verdict v);

/* ---- pubsub_notify.c ---- */
/* A serialised notification shared by reference by every recipient. */
struct pubsub_event {
    struct refbuf *body; /* " from='svc' type='headline' id='...'>EVENT</message>" */
    size_t event_end;    /* offset just after EVENT (before "</message>") */
};
/* Build from the <event/> element's serialisation (starting "<event"). */
HERALD_MUST_CHECK enum herald_rc pubsub_event_build(struct pubsub_service *svc,
                                                    const struct pubsub_node *n,
                                                    const char *event_xml, size_t len,
                                                    struct pubsub_event *out);
void pubsub_event_release(struct pubsub_event *ev);

enum pubsub_notify_kind {
    PUBSUB_NOTIFY_ITEMS,   /* items/retract: per-subscription filters and SHIM headers */
    PUBSUB_NOTIFY_NODE,    /* config, delete, purge: once per JID, no headers */
};
/*
 * Deliver to every subscriber of n allowed to see it. `without_payload` (may be NULL) is
 * used for subscribers whose options exclude payloads. Returns deliveries made.
 */
size_t pubsub_notify_node(struct pubsub_service *svc, struct pubsub_node *n,
                          const struct pubsub_event *ev, enum pubsub_notify_kind kind);
/* "<message to='JID'" (escaped), shared by the JID's notifications. NULL on ENOMEM. */
struct refbuf *pubsub_to_prefix(const char *jid, size_t len);
/* Deliver one event to one JID (bare: its available resources; full: that session).
 * to_prefix may be NULL (it is made for this call). */
size_t pubsub_notify_jid(struct pubsub_service *svc, const char *jid, size_t jid_len,
                         struct refbuf *to_prefix,
                         const struct pubsub_event *ev, const char *headers,
                         bool presence_based, unsigned show_values);
/* Send a complete stanza built in a tree (single recipient notifications). */
void pubsub_send_message(struct pubsub_service *svc, struct xml_node *msg);
/* A new notification message id: "<boot>-<n>". */
void pubsub_next_msgid(struct pubsub_service *svc, char out[40]);

#endif
