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
#include "pubsub_int.h"

/* Does any owner of n grant `bare` presence access (a from/both subscription), or list it
 * in one of the allowed roster groups? */
static bool owners_grant(struct pubsub_service *svc, const struct pubsub_node *n, const char *bare,
                         bool by_group)
{
    size_t pos = 0;
    for (const struct pubsub_affentry *e; (e = pubsub_node_next_owner(n, &pos));) {
        if (by_group) {
            if (im_roster_in_groups(svc->srv, e->jid, bare,
                                    (const char *const *)n->cfg.roster_groups_allowed.v,
                                    n->cfg.roster_groups_allowed.n))
                return true;
            continue;
        }
        enum im_subscription sub;
        bool in_roster;
        if (im_roster_relation(svc->srv, e->jid, bare, &sub, &in_roster) == HERALD_OK &&
            (sub == IM_SUB_FROM || sub == IM_SUB_BOTH))
            return true;
    }
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
        return owners_grant(svc, n, bare, false) ? PUBSUB_ALLOW : PUBSUB_DENY_PRESENCE;
    case PUBSUB_ACCESS_ROSTER:
        return owners_grant(svc, n, bare, true) ? PUBSUB_ALLOW : PUBSUB_DENY_ROSTER;
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
