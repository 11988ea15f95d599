/*
 * pubsub_access.c - the one access decision (XEP-0060 §4.5 access models, §4.1
 * affiliations) that subscribe, retrieve and notify all call.
 *
 * Affiliations come first: an outcast is refused everything, owners and publishers may
 * always subscribe and retrieve (§13.12 "Auto-Subscribing Owners and Publishers": a
 * service MUST allow it), publish-only entities may neither, and members may both (§4.1:
 * the owner listed them, whatever the model). Then the node's model: open allows;
 * presence and roster ask the owners' rosters (broker/im); authorize lets others
 * subscribe only with an owner's approval, and only subscribers retrieve; whitelist
 * admits members only.
 */
#include <string.h>

#include "herald/im.h"
#include "herald/pubsub_store.h"
#include "pubsub_int.h"

/* Does `owner` grant `bare` access under cfg's presence model (a from/both subscription)
 * or roster model (`bare` in one of the allowed roster groups)? */
static bool owner_grants(struct pubsub_service *svc, const char *owner,
                         const struct pubsub_config *cfg, const char *bare)
{
    if (cfg->access_model == PUBSUB_ACCESS_ROSTER)
        return im_roster_in_groups(svc->srv, owner, bare,
                                   (const char *const *)cfg->roster_groups_allowed.v,
                                   cfg->roster_groups_allowed.n);
    enum im_subscription sub;
    bool in_roster;
    return im_roster_relation(svc->srv, owner, bare, &sub, &in_roster) == HERALD_OK &&
           (sub == IM_SUB_FROM || sub == IM_SUB_BOTH);
}

static bool owners_grant(struct pubsub_service *svc, const struct pubsub_node *n, const char *bare)
{
    size_t pos = 0;
    for (const struct pubsub_affentry *e; (e = pubsub_node_next_owner(n, &pos));)
        if (owner_grants(svc, e->jid, &n->cfg, bare))
            return true;
    return false;
}

enum pubsub_access_verdict pubsub_access_check(struct pubsub_service *svc,
                                               const struct pubsub_node *n, const char *bare,
                                               enum pubsub_access_op op)
{
    enum pubsub_aff aff = pubsub_node_aff(n, bare);
    if (aff == PUBSUB_AFF_OUTCAST || aff == PUBSUB_AFF_PUBLISH_ONLY)
        return PUBSUB_DENY_OUTCAST;
    if (aff == PUBSUB_AFF_OWNER || aff == PUBSUB_AFF_PUBLISHER || aff == PUBSUB_AFF_MEMBER)
        return PUBSUB_ALLOW;
    switch (n->cfg.access_model) {
    case PUBSUB_ACCESS_OPEN:
        return PUBSUB_ALLOW;
    case PUBSUB_ACCESS_PRESENCE:
        return owners_grant(svc, n, bare) ? PUBSUB_ALLOW : PUBSUB_DENY_PRESENCE;
    case PUBSUB_ACCESS_ROSTER:
        return owners_grant(svc, n, bare) ? PUBSUB_ALLOW : PUBSUB_DENY_ROSTER;
    case PUBSUB_ACCESS_AUTHORIZE:
        if (op == PUBSUB_OP_SUBSCRIBE)
            return PUBSUB_NEEDS_APPROVAL;
        /* Notifications go only to approved subscriptions (the caller checks the state);
         * retrieval needs one. */
        return op == PUBSUB_OP_NOTIFY || pubsub_bare_subscribed(svc, n, bare)
                   ? PUBSUB_ALLOW
                   : PUBSUB_DENY_NOT_SUBSCRIBED;
    case PUBSUB_ACCESS_WHITELIST:
        return PUBSUB_DENY_WHITELIST;
    }
    return PUBSUB_DENY_WHITELIST;
}

void pubsub_reply_access(struct pubsub_req *r, enum pubsub_access_verdict v)
{
    switch (v) {
    case PUBSUB_ALLOW:
    case PUBSUB_NEEDS_APPROVAL:
        pubsub_reply_error(r, "internal-server-error", NULL); /* not an error: a caller bug */
        return;
    case PUBSUB_DENY_OUTCAST:
        pubsub_reply_error(r, "forbidden", NULL);
        return;
    case PUBSUB_DENY_PRESENCE:
        pubsub_reply_error(r, "not-authorized", "presence-subscription-required");
        return;
    case PUBSUB_DENY_ROSTER:
        pubsub_reply_error(r, "not-authorized", "not-in-roster-group");
        return;
    case PUBSUB_DENY_WHITELIST:
        pubsub_reply_error(r, "not-allowed", "closed-node");
        return;
    case PUBSUB_DENY_NOT_SUBSCRIBED:
        pubsub_reply_error(r, "not-authorized", "not-subscribed");
        return;
    }
}

/* ---- §5.2 node listing ---- */

enum listing { LISTED, HIDDEN, ASK_OWNERS };

/* §5.2: disco#items lists the nodes "accessible to the requesting entity". Hidden from an
 * outcast, and from others where the model would refuse them (whitelist; presence and
 * roster without an owner's grant). Listed: a node the requester is affiliated with
 * (publish-only included: it publishes there), and an authorize node (subscribing is how
 * access is asked for). */
static enum listing listing_of(const struct pubsub_config *cfg, enum pubsub_aff aff)
{
    if (aff == PUBSUB_AFF_OUTCAST)
        return HIDDEN;
    if (aff != PUBSUB_AFF_NONE)
        return LISTED;
    switch (cfg->access_model) {
    case PUBSUB_ACCESS_OPEN:
    case PUBSUB_ACCESS_AUTHORIZE:
        return LISTED;
    case PUBSUB_ACCESS_PRESENCE:
    case PUBSUB_ACCESS_ROSTER:
        return ASK_OWNERS;
    case PUBSUB_ACCESS_WHITELIST:
        break;
    }
    return HIDDEN;
}

struct listed_ctx {
    const char *bare;
    bool want_owners;
    enum pubsub_aff aff;
    struct pubsub_names owners;
    bool oom;
};

static bool listed_aff_cb(void *arg, const char *jid, uint8_t aff)
{
    struct listed_ctx *x = arg;
    if (strcmp(jid, x->bare) == 0)
        x->aff = (enum pubsub_aff)aff;
    if (x->want_owners && aff == PUBSUB_AFF_OWNER &&
        !pubsub_names_add(&x->owners, jid, strlen(jid))) {
        x->oom = true;
        return false;
    }
    return true;
}

enum herald_rc pubsub_access_listed(struct pubsub_service *svc, struct store_txn *t,
                                    const char *name, const char *bare, bool *listed)
{
    *listed = false;
    const struct pubsub_node *n = hmap_get(&svc->nodes, name, strlen(name));
    if (n) {
        enum listing l = listing_of(&n->cfg, pubsub_node_aff(n, bare));
        *listed = l == LISTED || (l == ASK_OWNERS && owners_grant(svc, n, bare));
        return HERALD_OK;
    }
    /* Not loaded: decide from the node's records, without loading it (a listing must not
     * pull every node, with its subscribers, into memory). */
    struct pubsub_config cfg;
    int64_t created_us;
    char *creator;
    enum herald_rc rc = pubsub_store_node_get(t, svc->jid, name, &cfg, &created_us, &creator);
    if (rc)
        return rc;
    herald_free(HERALD_MEM_PUBSUB, creator);
    struct listed_ctx x = {
        .bare = bare,
        .want_owners =
            cfg.access_model == PUBSUB_ACCESS_PRESENCE || cfg.access_model == PUBSUB_ACCESS_ROSTER,
        .aff = PUBSUB_AFF_NONE,
    };
    rc = pubsub_store_affs_each(t, svc->jid, name, listed_aff_cb, &x);
    if (rc == HERALD_OK && x.oom)
        rc = HERALD_ENOMEM;
    if (rc == HERALD_OK) {
        enum listing l = listing_of(&cfg, x.aff);
        *listed = l == LISTED;
        for (size_t i = 0; l == ASK_OWNERS && !*listed && i < x.owners.n; i++)
            *listed = owner_grants(svc, x.owners.v[i], &cfg, bare);
    }
    pubsub_names_free(&x.owners);
    pubsub_config_cleanup(&cfg);
    return rc;
}
