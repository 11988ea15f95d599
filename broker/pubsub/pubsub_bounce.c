/*
 * pubsub_bounce.c - notification bounces (XEP-0060 §13.4, "Handling Notification-Related
 * Errors").
 *
 * Every notification's message id is "<boot>-<seq>" (pubsub_next_msgid), unique for the
 * broker's run. The registry remembers which service and node the last PUBSUB_SENT_RING
 * event notifications were about, so an error that answers one of them names the node.
 * As §13.4 recommends, an error of type "cancel", or the condition <gone/>, ends the
 * bouncing entity's subscriptions to that node: those of the full JID the error came from;
 * or, when that JID has none, those of its bare JID, if the error came from the bare JID
 * or no other resource of the account is available (one failing client does not end the
 * subscription its other resources still read). Other errors (auth, wait, modify) are
 * logged only: the service neither resends nor counts them, so a transient failure never
 * costs a subscription.
 *
 * Only notifications delivered straight to sessions are remembered; messages that go
 * through the router (which may answer for an offline recipient at once) are not.
 */
#include <stdlib.h>
#include <string.h>

#include "herald/log.h"
#include "herald/store.h"
#include "pubsub_int.h"

/* Notifications remembered, all services together: long enough for errors to come back
 * (they answer within seconds) at thousands of events a second. A slot is 24 bytes and the
 * node's name (shared with the previous slot's when it is the same node). */
#define PUBSUB_SENT_RING 16384

struct pubsub_sent {
    uint64_t seq;
    const struct pubsub_service *svc;
    char *node;
};

void pubsub_sent_note(struct pubsub_service *svc, uint64_t seq, const char *node)
{
    struct pubsub_registry *reg = svc->reg;
    if (reg->sent == NULL && (reg->sent = calloc(PUBSUB_SENT_RING, sizeof(*reg->sent))) == NULL)
        return; /* best effort: a bounce of this notification will not be recognised */
    struct pubsub_sent *s = &reg->sent[seq % PUBSUB_SENT_RING];
    if (s->node == NULL || strcmp(s->node, node) != 0) {
        char *copy = strdup(node);
        if (copy == NULL) {
            s->seq = 0;
            return;
        }
        free(s->node);
        s->node = copy;
    }
    s->seq = seq;
    s->svc = svc;
}

void pubsub_sent_free(struct pubsub_registry *reg)
{
    if (reg->sent == NULL)
        return;
    for (size_t i = 0; i < PUBSUB_SENT_RING; i++)
        free(reg->sent[i].node);
    free(reg->sent);
    reg->sent = NULL;
}

/* The node of notification `id`, if this service sent it recently; NULL otherwise. */
static const char *sent_node(const struct pubsub_service *svc, const char *id)
{
    const struct pubsub_registry *reg = svc->reg;
    size_t blen = strlen(reg->boot);
    if (reg->sent == NULL || id == NULL || strncmp(id, reg->boot, blen) != 0 || id[blen] != '-')
        return NULL;
    const char *hex = id + blen + 1;
    size_t hlen = strlen(hex);
    if (hlen == 0 || hlen > 16 || strspn(hex, "0123456789abcdef") != hlen)
        return NULL;
    uint64_t seq = strtoull(hex, NULL, 16);
    const struct pubsub_sent *s = &reg->sent[seq % PUBSUB_SENT_RING];
    return s->seq == seq && seq != 0 && s->svc == svc ? s->node : NULL;
}

/* §13.4: a "cancel" error, or <gone/> whatever its type, means the entity is not there. */
static bool bounce_is_final(const struct xml_node *msg)
{
    const struct xml_node *err = xml_child(msg, NULL, "error");
    if (err == NULL)
        return false;
    const char *type = xml_attr(err, "type");
    if (type && strcmp(type, "cancel") == 0)
        return true;
    return xml_child(err, XMPP_NS_STANZAS, "gone") != NULL;
}

void pubsub_handle_bounce(struct pubsub_service *svc, struct stanza *st)
{
    struct arena *a = st->arena;
    const char *from = st->from_str ? st->from_str : "?";
    /* A copy: the ring slot is reused by the next notification. */
    const char *nodename = sent_node(svc, xml_attr(st->node, "id"));
    if (nodename == NULL)
        return; /* not an answer to a recent notification (an approval request, say) */
    if ((nodename = arena_strdup(a, nodename)) == NULL)
        return;
    if (!bounce_is_final(st->node)) {
        log_info("pubsub %s: a notification of '%s' to %s bounced (temporary error)", svc->jid,
                 nodename, from);
        return;
    }
    struct pubsub_node *n;
    const char *full = jid_full_str(a, &st->from), *bare = jid_bare_str(a, &st->from);
    if (full == NULL || bare == NULL || pubsub_node_get(svc, nodename, &n) != HERALD_OK)
        return;
    const struct pubsub_subscriber *s = pubsub_node_subscriber(n, full);
    const char *jid = full;
    if ((s == NULL || s->nsubs == 0) &&
        (strcmp(full, bare) == 0 || !pubsub_available_elsewhere(svc->srv, bare, full))) {
        s = pubsub_node_subscriber(n, bare);
        jid = bare;
    }
    if (s == NULL || s->nsubs == 0)
        return; /* unsubscribed already, or another resource still reads them */
    struct pubsub_subop *ops = arena_calloc(a, s->nsubs, sizeof(*ops));
    if (ops == NULL)
        return;
    size_t nops = 0;
    for (uint32_t i = 0; i < s->nsubs; i++) {
        const struct pubsub_sub *sub = &s->subs[i];
        ops[nops] = (struct pubsub_subop){
            .jid = jid, .from = sub->state, .to = PUBSUB_SUB_NONE, .opts = sub->opts};
        memcpy(ops[nops++].subid, sub->subid, sizeof(sub->subid));
    }
    /* The entity is told its subscription is gone (it may come back and resubscribe); owners
     * with notify_sub hear of it too. */
    struct pubsub_changes *c = pubsub_changes_new(svc, n->name);
    if (c == NULL || pubsub_changes_commit(svc, &n, NULL, 0, ops, nops, c)) {
        log_error("pubsub %s: cannot end the subscriptions of %s to '%s' after a bounce", svc->jid,
                  from, nodename);
        pubsub_changes_run_cb(svc->srv, c, HERALD_ENOMEM);
        return;
    }
    log_info("pubsub %s: a notification of '%s' to %s bounced; its %zu subscription(s) ended",
             svc->jid, nodename, from, nops);
    if (store_on_commit(svc->srv->store, pubsub_changes_commit_cb, c))
        pubsub_changes_run_cb(svc->srv, c, HERALD_ENOMEM);
}
