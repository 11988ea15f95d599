/*
 * pubsub_store.h - pubsub records in LMDB: nodes, items (by sequence and by id),
 * subscriptions and affiliations with their reverse indexes. Keys and layouts are in
 * schemas/store.md ("pubsub").
 *
 * Writes need a transaction from store_begin(); reads work on any. A node deletion
 * removes the node, its items, subscriptions and affiliations in the caller's
 * transaction, so it is atomic with everything else the request does.
 *
 * Keys join service JID, NodeID, JID, SubID and ItemID with NUL bytes; each part is
 * bounded so the whole fits LMDB's 511-byte keys (HERALD_ELIMIT otherwise).
 */
#ifndef HERALD_PUBSUB_STORE_H
#define HERALD_PUBSUB_STORE_H

#include "herald/common.h"
#include "herald/pubsub_config.h"

struct store_txn;

/* An item as stored; strings point into the database (valid until the txn changes). */
struct pubsub_store_item {
    uint64_t seq;
    int64_t ts_us;
    const char *id;
    size_t id_len;
    const char *publisher;
    size_t publisher_len;
    const char *payload; /* serialised XML of the payload element, may be empty */
    size_t payload_len;
};

/* ---- nodes ---- */
HERALD_MUST_CHECK enum herald_rc pubsub_store_node_put(struct store_txn *t, const char *svc,
                                                       const char *node,
                                                       const struct pubsub_config *cfg,
                                                       int64_t created_us, const char *creator);
/* Fills cfg (caller cleans up) and *creator (heap, caller frees). */
HERALD_MUST_CHECK enum herald_rc pubsub_store_node_get(struct store_txn *t, const char *svc,
                                                       const char *node, struct pubsub_config *cfg,
                                                       int64_t *created_us, char **creator);
/* The node and everything that belongs to it. */
HERALD_MUST_CHECK enum herald_rc pubsub_store_node_delete(struct store_txn *t, const char *svc,
                                                          const char *node);
/* Calls fn for each NodeID of the service in order, from the first one after `after` (NULL:
 * from the first); fn returns false to stop. */
HERALD_MUST_CHECK enum herald_rc
pubsub_store_nodes_each(struct store_txn *t, const char *svc, const char *after,
                        bool (*fn)(void *arg, const char *name, size_t len), void *arg);

/* ---- items ---- */
/* Store an item at `seq` and index it by id (the caller removed any older item with the
 * same id first). */
HERALD_MUST_CHECK enum herald_rc pubsub_store_item_put(struct store_txn *t, const char *svc,
                                                       const char *node, uint64_t seq,
                                                       const char *id, const char *publisher,
                                                       int64_t ts_us, const char *payload,
                                                       size_t payload_len);
HERALD_MUST_CHECK enum herald_rc pubsub_store_item_get(struct store_txn *t, const char *svc,
                                                       const char *node, const char *id,
                                                       struct pubsub_store_item *out);
/* Remove by id (both records). HERALD_ENOTFOUND if absent. */
HERALD_MUST_CHECK enum herald_rc pubsub_store_item_del(struct store_txn *t, const char *svc,
                                                       const char *node, const char *id);
/*
 * Walk items newest first (or oldest first). `from_seq` 0 starts at the end the walk
 * begins from; otherwise the walk starts just past that sequence number (for paging).
 * fn returns false to stop.
 */
HERALD_MUST_CHECK enum herald_rc
pubsub_store_items_each(struct store_txn *t, const char *svc, const char *node, bool newest_first,
                        uint64_t from_seq,
                        bool (*fn)(void *arg, const struct pubsub_store_item *it), void *arg);
/* Number of items and the highest sequence number (0 when empty). */
HERALD_MUST_CHECK enum herald_rc pubsub_store_items_stats(struct store_txn *t, const char *svc,
                                                          const char *node, uint64_t *count,
                                                          uint64_t *last_seq);
/* Delete every item; *count (may be NULL) receives how many. */
HERALD_MUST_CHECK enum herald_rc pubsub_store_items_purge(struct store_txn *t, const char *svc,
                                                          const char *node, uint64_t *count);

/* ---- subscriptions ---- */
HERALD_MUST_CHECK enum herald_rc pubsub_store_sub_put(struct store_txn *t, const char *svc,
                                                      const char *node, const char *jid,
                                                      const char *subid, uint8_t state,
                                                      const struct pubsub_subopts *opts);
HERALD_MUST_CHECK enum herald_rc pubsub_store_sub_del(struct store_txn *t, const char *svc,
                                                      const char *node, const char *jid,
                                                      const char *subid);
HERALD_MUST_CHECK enum herald_rc
pubsub_store_subs_each(struct store_txn *t, const char *svc, const char *node,
                       bool (*fn)(void *arg, const char *jid, const char *subid, uint8_t state,
                                  const struct pubsub_subopts *opts),
                       void *arg);
/* Subscriptions of a bare JID and of its full JIDs on one service, across nodes. */
HERALD_MUST_CHECK enum herald_rc pubsub_store_subs_of_jid(
    struct store_txn *t, const char *svc, const char *bare,
    bool (*fn)(void *arg, const char *node, const char *jid, const char *subid), void *arg);

/* ---- affiliations ---- */
/* aff is enum pubsub_aff as a byte; the "none" value (1) deletes the record. */
HERALD_MUST_CHECK enum herald_rc pubsub_store_aff_put(struct store_txn *t, const char *svc,
                                                      const char *node, const char *jid,
                                                      uint8_t aff);
HERALD_MUST_CHECK enum herald_rc
pubsub_store_affs_each(struct store_txn *t, const char *svc, const char *node,
                       bool (*fn)(void *arg, const char *jid, uint8_t aff), void *arg);
HERALD_MUST_CHECK enum herald_rc
pubsub_store_affs_of_jid(struct store_txn *t, const char *svc, const char *bare,
                         bool (*fn)(void *arg, const char *node, uint8_t aff), void *arg);

/*
 * Remove every subscription of `bare` and of its full JIDs, and every affiliation of
 * `bare`, on every service (an account is deleted). Nodes stay; a node whose only owner
 * this was is left without owner (administrators still manage it: pubsub_create policy).
 * *count (may be NULL) receives how many records went.
 */
HERALD_MUST_CHECK enum herald_rc pubsub_store_forget_jid(struct store_txn *t, const char *bare,
                                                         uint64_t *count);

#endif
