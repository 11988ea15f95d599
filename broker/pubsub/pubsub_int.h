/*
 * pubsub_int.h - the publish-subscribe service (XEP-0060), shared inside broker/pubsub.
 *
 * State model. LMDB holds the truth. Each service keeps the nodes it has touched in
 * memory (config, subscribers grouped by JID, affiliations, item counters), loaded from
 * the store on first use. A request handler validates against that memory, writes its
 * changes in a nested store transaction (pubsub_txn_begin ... pubsub_txn_end), and only
 * once that merged applies the same change to memory: so memory always equals "the store
 * including every merged request of this turn". A change memory cannot follow (out of
 * memory) evicts the node, which reloads from the store on next use. Replies and
 * notifications wait for the turn's durable commit (store_on_commit). The first
 * pubsub_txn_begin of a turn registers a guard with the store: if the turn's commit fails,
 * it drops every service's cached nodes (they reload from the store, which then holds the
 * last good state) before any waiting callback runs, and the waiting requests get
 * <internal-server-error/>. So no callback context may hold a pointer to a cached node
 * across the commit: they keep the service and the node's name and look it up again (a
 * deleted node they need is detached from the cache and owned by them).
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
#define NODE_GET_PENDING PUBSUB_NS "#get-pending"

#define PUBSUB_SUBID_LEN  16             /* hex characters */
#define PUBSUB_NODE_MAX   256            /* bytes of a NodeID (keys must fit LMDB's 511) */
#define PUBSUB_ITEMID_MAX 256            /* bytes of an ItemID */
#define PUBSUB_BARE_MAX   (2 * 1023 + 2) /* a bare JID and its NUL */
/* Entries one request may carry: <item/>s asked for by ItemID (§6.5.8), <subscription/>s
 * and <affiliation/>s of an owner modification (§8.8.2, §8.9.2). More is refused with
 * <policy-violation/>, so that one stanza costs a bounded amount of work. */
#define PUBSUB_REQ_ENTRIES_MAX 1000

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
    bool full;      /* has a resource */
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
    uint64_t nsubs;    /* subscriptions in all states */
    uint64_t npending; /* of which pending (§8.7 lists the nodes that have some) */
    struct hmap affs;  /* bare jid -> struct pubsub_affentry */
};

struct pubsub_sent;

struct pubsub_service {
    struct pubsub_registry *reg;
    struct server *srv;
    char *jid;
    bool pep;
    struct hmap nodes; /* loaded nodes: name -> struct pubsub_node */
    int64_t nnodes;    /* node records in the store (pubsub_max_nodes); -1: not counted yet */
};

struct pubsub_expiry;

struct pubsub_registry {
    struct server *srv;
    struct pubsub_limits lim;
    struct pubsub_service **svcs;
    size_t nsvcs;
    char boot[8];             /* random per start: notification ids stay unique across restarts */
    uint64_t notify_seq;      /* the last notification id's number, for all services */
    struct pubsub_sent *sent; /* the nodes of recent notifications (pubsub_bounce.c) */
    struct pubsub_expiry *expiry; /* the item_expire sweep (pubsub_expire.c) */
    bool guarded;                 /* this turn's commit guard is registered (pubsub_txn_begin) */
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

struct store_txn;

/* ---- pubsub_service.c ---- */
void pubsub_reply_error(struct pubsub_req *r, const char *cond, const char *app);
void pubsub_reply_xerr(struct pubsub_req *r, const struct xmpp_error *e);
/* The condition with its usual type and a human-readable text (a static string). */
void pubsub_reply_text(struct pubsub_req *r, const char *cond, const char *text);
void pubsub_reply_unsupported(struct pubsub_req *r, const char *feature);
/* As pubsub_reply_error, with the error type a XEP-0060 example gives instead of the
 * condition's usual one. */
void pubsub_reply_error_typed(struct pubsub_req *r, const char *cond, const char *app,
                              enum xmpp_error_type type);
/* A reply that waits for the turn's commit. `payload` (may be NULL) is copied. After the
 * commit, fn(ctx, rc) runs (rc != OK: the commit failed); fn may be NULL. On failure
 * (HERALD_ENOMEM) nothing is queued and fn is not called: the caller still owns ctx. */
typedef void (*pubsub_after_fn)(struct server *srv, void *ctx, enum herald_rc rc);
HERALD_MUST_CHECK enum herald_rc pubsub_reply_after_commit(struct pubsub_req *r,
                                                           struct xml_node *payload,
                                                           pubsub_after_fn fn, void *ctx);
/* As pubsub_reply_after_commit, sending `reply` (a complete answer to the request, e.g. an
 * error with a payload; copied) instead of an iq result. */
HERALD_MUST_CHECK enum herald_rc pubsub_send_after_commit(struct pubsub_req *r,
                                                          struct xml_node *reply,
                                                          pubsub_after_fn fn, void *ctx);
/* The request's nested transaction; see the state model above. */
HERALD_MUST_CHECK enum herald_rc pubsub_txn_begin(struct pubsub_service *svc, struct store_txn **t);
/* Merge the transaction when rc is HERALD_OK, else undo it; returns the outcome. */
HERALD_MUST_CHECK enum herald_rc pubsub_txn_end(struct store_txn **t, enum herald_rc rc);
/* Drop every cached node of every service (after a failed commit). */
void pubsub_registry_invalidate(struct pubsub_registry *reg);
/* A fresh unique id (subids, item ids): 2*nbytes hex characters into out. */
HERALD_MUST_CHECK enum herald_rc pubsub_random_hex(char *out, size_t nbytes);
enum pubsub_aff pubsub_aff_parse(const char *s, bool *ok);
const char *pubsub_aff_name(enum pubsub_aff a);
const char *pubsub_substate_name(enum pubsub_substate s);
bool pubsub_substate_parse(const char *s, enum pubsub_substate *out);
/*
 * The node `name` (the request's 'node' attribute) designates, or NULL after replying:
 * <bad-request/><nodeid-required/> without a name, <item-not-found/> for a node that does
 * not exist, <internal-server-error/> when it cannot be loaded.
 */
struct pubsub_node *pubsub_req_node(struct pubsub_req *r, const char *name);
/* Do the store keys naming node `node` and `part` (a JID or an ItemID), plus a SubID when
 * `subid`, fit LMDB's key size (pubsub_store.h)? */
bool pubsub_key_fits(const struct pubsub_service *svc, const char *node, const char *part,
                     bool subid);
/* A non-negative decimal integer (XEP-0059 <max/> and <index/>, max_items): digits only. */
bool pubsub_parse_count(const char *s, uint64_t *out);
/* A heap list of heap strings (NodeIDs, ItemIDs) collected during a store walk. */
struct pubsub_names {
    char **v;
    size_t n, cap;
};
/* Append a copy of s (len bytes); false on ENOMEM. */
HERALD_MUST_CHECK bool pubsub_names_add(struct pubsub_names *l, const char *s, size_t len);
void pubsub_names_free(struct pubsub_names *l);
/* Is `jid` the bare JID `bare` (blen bytes) or one of its full JIDs? */
bool pubsub_jid_of_bare(const char *jid, size_t jid_len, const char *bare, size_t blen);

/* ---- pubsub_disco.c ---- */
/* XEP-0030 on the service: §5.1-§5.5 (and XEP-0131 §3.2, XEP-0050 §2.2). */
void pubsub_handle_disco_info(struct pubsub_req *r, struct xml_node *query);
void pubsub_handle_disco_items(struct pubsub_req *r, struct xml_node *query);
/* <feature var='var'/> added to a disco#info query; NULL on arena exhaustion. */
struct xml_node *pubsub_disco_feature(struct arena *a, struct xml_node *q, const char *var);

/* ---- pubsub_node.c ---- */
/* The node from cache or store. HERALD_ENOTFOUND if it does not exist. */
HERALD_MUST_CHECK enum herald_rc pubsub_node_get(struct pubsub_service *svc, const char *name,
                                                 struct pubsub_node **out);
void pubsub_node_free(struct pubsub_node *n);
/* Forget a node from memory (it was deleted, or the cache is invalid). */
void pubsub_node_evict(struct pubsub_service *svc, struct pubsub_node *n);
enum pubsub_aff pubsub_node_aff(const struct pubsub_node *n, const char *bare);
/* The next owner of n after *pos (start with 0), or NULL. */
const struct pubsub_affentry *pubsub_node_next_owner(const struct pubsub_node *n, size_t *pos);
/* Set an affiliation in memory (PUBSUB_AFF_NONE removes it). */
HERALD_MUST_CHECK enum herald_rc pubsub_node_set_aff(struct pubsub_node *n, const char *bare,
                                                     enum pubsub_aff aff);
struct pubsub_deferred_event;
/* §8.5: delete every item of n in a nested transaction. *ev receives the <purge/> notice
 * for the subscribers (NULL when notify_retract is off, nobody is subscribed, or memory ran
 * out), which the caller queues after the commit or frees with pubsub_deferred_event_cb. */
HERALD_MUST_CHECK enum herald_rc pubsub_node_purge(struct pubsub_service *svc,
                                                   struct pubsub_node *n,
                                                   struct pubsub_deferred_event **ev);
/* More writes for the nested transaction that creates a node. */
typedef enum herald_rc (*pubsub_write_fn)(struct store_txn *t, void *arg);
/*
 * Create a node: its record, the owner's affiliation and `extra` (may be NULL) in one nested
 * transaction, then memory (caller checked permissions, name and limits; cfg is copied).
 * Returns the store's error when nothing was written; once it was, HERALD_OK with *out NULL
 * when memory could not follow (the node loads on next use).
 */
HERALD_MUST_CHECK enum herald_rc pubsub_node_create(struct pubsub_service *svc, const char *name,
                                                    const struct pubsub_config *cfg,
                                                    const char *owner, pubsub_write_fn extra,
                                                    void *arg, struct pubsub_node **out);
/* The number of node records of the service (counted once, then kept up to date). */
HERALD_MUST_CHECK enum herald_rc pubsub_node_count(struct pubsub_service *svc, uint64_t *out);
/* May `bare` create nodes on this service (pubsub_create policy)? */
bool pubsub_may_create(struct pubsub_service *svc, const char *bare);
/* The checks every node creation makes (§8.1.1, by create or by publish): a NodeID that
 * fits the store's keys, the creator's JID too, room for one more node (pubsub_max_nodes),
 * a name that is no well-known disco node. False after replying with the error. */
bool pubsub_creation_ok(struct pubsub_req *r, const char *name);
void pubsub_handle_create(struct pubsub_req *r);
void pubsub_handle_owner(struct pubsub_req *r);
/* The node an owner request names, after the checks every owner use case makes (a NodeID,
 * an existing node, an owner); NULL when it has replied with the error. */
struct pubsub_node *pubsub_owner_node(struct pubsub_req *r);

/* ---- pubsub_owner.c ---- */
/* §8.8 subscriptions and §8.9 affiliations management (pubsub#owner). */
void pubsub_handle_owner_subscriptions(struct pubsub_req *r);
void pubsub_handle_owner_affiliations(struct pubsub_req *r);

/* ---- pubsub_changes.c ---- */
struct pubsub_changes;

/* One subscription write of a request: from NONE creates it, to NONE removes it. */
struct pubsub_subop {
    const char *jid; /* borrowed for the request's duration */
    char subid[PUBSUB_SUBID_LEN + 1];
    enum pubsub_substate from, to;
    struct pubsub_subopts opts; /* the options to store (the current ones, or defaults) */
};
/* One affiliation write (PUBSUB_AFF_NONE removes it). */
struct pubsub_affop {
    const char *bare; /* borrowed for the request's duration */
    enum pubsub_aff aff;
};
/*
 * Store the affiliation and subscription writes of one request in one nested transaction;
 * once merged, apply them to memory and queue their notifications in c (may be NULL). When
 * memory cannot follow (out of memory) the node is evicted, and reloads from the store:
 * *np is then NULL. Returns the store's error when nothing was written.
 */
HERALD_MUST_CHECK enum herald_rc pubsub_changes_commit(struct pubsub_service *svc,
                                                       struct pubsub_node **np,
                                                       const struct pubsub_affop *affs,
                                                       size_t naffs, const struct pubsub_subop *ops,
                                                       size_t nops, struct pubsub_changes *c);

/*
 * Notifications of subscription state changes (§8.8.4, §8.6, "Notification of Subscription
 * State Changes") and affiliation changes (§8.9.4), queued while a request applies its
 * changes and sent after the turn's durable commit; a subscription that became active also
 * gets the last published item when the node says so. Best effort: a note that cannot be
 * queued for lack of memory is dropped with a warning.
 */
struct pubsub_changes *pubsub_changes_new(struct pubsub_service *svc, const char *node);
/* A pubsub_after_fn: sends the notes when rc is HERALD_OK, then frees c (ctx, NULL-safe). */
void pubsub_changes_run_cb(struct server *srv, void *ctx, enum herald_rc rc);
/* A store_commit_cb for changes made outside an iq request (no deferred reply). */
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
/* The subscription `subid` of s (may be NULL), or NULL. */
struct pubsub_sub *pubsub_sub_find(struct pubsub_subscriber *s, const char *subid);
/* Add a subscription in memory (after the store write). */
HERALD_MUST_CHECK enum herald_rc pubsub_node_add_sub(struct pubsub_node *n, const char *jid,
                                                     const struct pubsub_sub *sub);
/* Remove one subscription (subid) or all of a JID's (subid NULL) from memory. */
void pubsub_node_remove_sub(struct pubsub_node *n, const char *jid, const char *subid);
/* Change a subscription's state in memory (not to NONE: that is pubsub_node_remove_sub). */
void pubsub_sub_set_state(struct pubsub_node *n, struct pubsub_sub *sub,
                          enum pubsub_substate state);
/* Has `bare`, or one of its full JIDs, an active ("subscribed") subscription to n? Costs
 * the account's subscriptions on the service, not the node's subscribers. */
bool pubsub_bare_subscribed(struct pubsub_service *svc, const struct pubsub_node *n,
                            const char *bare);
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
    PUBSUB_DENY_OUTCAST,        /* forbidden */
    PUBSUB_DENY_PRESENCE,       /* not-authorized + presence-subscription-required */
    PUBSUB_DENY_ROSTER,         /* not-authorized + not-in-roster-group */
    PUBSUB_DENY_WHITELIST,      /* not-allowed + closed-node */
    PUBSUB_DENY_NOT_SUBSCRIBED, /* authorize model, retrieve: not-authorized + not-subscribed */
    PUBSUB_NEEDS_APPROVAL,      /* authorize model, subscribe: pending */
};
/* The one access decision for subscribe, retrieve and notify (§4.5 access models). */
enum pubsub_access_verdict pubsub_access_check(struct pubsub_service *svc,
                                               const struct pubsub_node *n, const char *bare,
                                               enum pubsub_access_op op);
/* Is node `name` listed to `bare` in the service's disco#items (§5.2)? Reads the node's
 * records through t when it is not loaded, and does not load it. */
HERALD_MUST_CHECK enum herald_rc pubsub_access_listed(struct pubsub_service *svc,
                                                      struct store_txn *t, const char *name,
                                                      const char *bare, bool *listed);
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
    PUBSUB_NOTIFY_ITEMS,  /* items/retract: per-subscription filters and SHIM headers */
    PUBSUB_NOTIFY_NODE,   /* config, purge: once per JID, no headers */
    PUBSUB_NOTIFY_DELETE, /* deletion: once per JID, pending subscriptions too (§8.4.2) */
};
/* Deliver to every subscriber of n allowed to see it (ITEMS: subscribed, wanting items, by
 * the access model; NODE: subscribed, by the access model; DELETE: any subscription).
 * Returns deliveries made. */
size_t pubsub_notify_node(struct pubsub_service *svc, struct pubsub_node *n,
                          const struct pubsub_event *ev, enum pubsub_notify_kind kind);
/* "<message to='JID'" (escaped), shared by the JID's notifications. NULL on ENOMEM. */
struct refbuf *pubsub_to_prefix(const char *jid, size_t len);
/* Deliver one event to one JID (bare: its available resources; full: that session).
 * to_prefix may be NULL (it is made for this call). */
size_t pubsub_notify_jid(struct pubsub_service *svc, const char *jid, size_t jid_len,
                         struct refbuf *to_prefix, const struct pubsub_event *ev,
                         const char *headers, bool presence_based, unsigned show_values);
/* Send a complete stanza built in a tree (single recipient notifications). */
void pubsub_send_message(struct pubsub_service *svc, struct xml_node *msg);
/* A new notification message id: "<boot>-<n>". `node` is remembered for bounces
 * (pubsub_bounce.c): pass it only for messages delivered straight to sessions, NULL for
 * those that go through the router. */
void pubsub_next_msgid(struct pubsub_service *svc, const char *node, char out[40]);

/* ---- pubsub_presence.c ---- */
/* Is a resource of account `bare` other than `full` available (RFC 6121 presence)? */
bool pubsub_available_elsewhere(struct server *srv, const char *bare, const char *full);

/* ---- pubsub_bounce.c ---- */
/* Remember that notification `seq` was about `node` (best effort). */
void pubsub_sent_note(struct pubsub_service *svc, uint64_t seq, const char *node);
void pubsub_sent_free(struct pubsub_registry *reg);
/* §13.4: an error message sent to the service, answering one of its notifications. */
void pubsub_handle_bounce(struct pubsub_service *svc, struct stanza *st);

/* ---- pubsub_events.c ---- */
/*
 * An event notification (an <event/> element's serialisation) to fan out to a node's
 * subscribers after the turn's commit: a configuration, deletion or purge (NODE kind), or
 * items and retractions (ITEMS kind, sent only while the node has deliver_notifications).
 * It names the node, and looks it up again when the commit succeeded, unless it owns the
 * node (a deleted one, detached from the cache).
 */
struct pubsub_deferred_event;
struct pubsub_deferred_event *pubsub_deferred_event_new(struct pubsub_service *svc,
                                                        const struct pubsub_node *n,
                                                        const char *event_xml, size_t len,
                                                        enum pubsub_notify_kind kind);
/* The same from an element. */
struct pubsub_deferred_event *pubsub_deferred_event_of(struct pubsub_service *svc,
                                                       const struct pubsub_node *n,
                                                       const struct xml_node *event,
                                                       enum pubsub_notify_kind kind);
/* Hand it the deleted node n (no longer in the cache) to fan out to and free. */
void pubsub_deferred_event_detach(struct pubsub_deferred_event *e, struct pubsub_node *n);
/* A pubsub_after_fn: fans out when rc is HERALD_OK, then frees (ctx may be NULL). */
void pubsub_deferred_event_cb(struct server *srv, void *ctx, enum herald_rc rc);
/* Queue it after the commit on its own (no reply waits for the commit). Consumes e
 * (NULL-safe); false when it could not be queued. */
bool pubsub_deferred_event_queue(struct pubsub_deferred_event *e);
/* "<event xmlns='...#event'><items node='NODE'>" and its end, around items or retracts. */
void pubsub_items_event_open(struct buf *b, const char *node);
void pubsub_items_event_close(struct buf *b);
/* "<retract id='ID'/>" into b. */
void pubsub_retract_write(struct buf *b, const char *id, size_t idlen);
/* Queue the retraction of `ids` (deleted items of n: expired, or beyond max_items) for the
 * node's subscribers after the commit, when n has notify_retract. */
void pubsub_retractions_queue(struct pubsub_service *svc, const struct pubsub_node *n,
                              const struct pubsub_names *ids);

#endif
