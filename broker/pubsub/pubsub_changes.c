/*
 * pubsub_changes.c - subscription and affiliation changes made for someone else: by an owner
 * (§8.8.2, §8.9.2), by the answer to an approval request (§8.6), or as the consequence of an
 * affiliation change (§8.7 note). They are stored in one nested transaction, applied to
 * memory once merged, and notified after the turn's commit: the subscriber of its new state
 * ("Notification of Subscription State Changes", §8.8.4), the owners when the node has
 * notify_sub, the entity of its new affiliation (§8.9.4), and a subscription that became
 * active gets the last published item when the node sends it ("Item Caching").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "herald/log.h"
#include "herald/pubsub_store.h"
#include "herald/store.h"
#include "pubsub_int.h"

struct change_note {
    char *jid;
    char subid[PUBSUB_SUBID_LEN + 1];
    bool is_aff;
    unsigned value; /* enum pubsub_substate, or enum pubsub_aff when is_aff */
    bool send_last;
};

struct pubsub_changes {
    struct pubsub_service *svc;
    char *node;
    struct change_note *v;
    size_t n, cap;
};

struct pubsub_changes *pubsub_changes_new(struct pubsub_service *svc, const char *node)
{
    struct pubsub_changes *c = calloc(1, sizeof(*c));
    if (c == NULL || (c->node = strdup(node)) == NULL) {
        free(c);
        return NULL;
    }
    c->svc = svc;
    return c;
}

/* A new note for jid; NULL (with a warning: notes are best effort) on ENOMEM. */
static struct change_note *changes_push(struct pubsub_changes *c, const char *jid)
{
    if (c == NULL)
        return NULL;
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 8;
        struct change_note *v = realloc(c->v, cap * sizeof(*v));
        if (v == NULL)
            goto oom;
        c->v = v;
        c->cap = cap;
    }
    struct change_note *e = &c->v[c->n];
    memset(e, 0, sizeof(*e));
    if ((e->jid = strdup(jid)) == NULL)
        goto oom;
    c->n++;
    return e;
oom:
    log_warn("pubsub %s: out of memory, a change notification to %s is dropped", c->node, jid);
    return NULL;
}

static void changes_free(struct pubsub_changes *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->n; i++)
        free(c->v[i].jid);
    free(c->v);
    free(c->node);
    free(c);
}

/* ---- the notifications ---- */

/* "<message from='svc' to='jid' id='...'>" with the node's notification type. */
static struct xml_node *notice_new(struct arena *a, struct pubsub_service *svc,
                                   const struct pubsub_node *n, const char *to)
{
    char id[40];
    /* Not remembered for bounces: this goes through the router, which may answer for an
     * offline recipient there and then, and such an answer must not end a subscription
     * that was just made. */
    pubsub_next_msgid(svc, NULL, id);
    struct xml_node *m = xml_elem_new(a, XMPP_NS_CLIENT, "message");
    if (m == NULL || xml_set_attr(a, m, "from", svc->jid) || xml_set_attr(a, m, "to", to) ||
        xml_set_attr(a, m, "id", id) ||
        (n->cfg.notification_type == PUBSUB_NOTIFY_HEADLINE &&
         xml_set_attr(a, m, "type", "headline")))
        return NULL;
    return m;
}

void pubsub_notify_substate(struct pubsub_service *svc, const struct pubsub_node *n,
                            const char *jid, const char *subid, enum pubsub_substate state)
{
    struct arena *a = arena_new(0);
    struct xml_node *m = a ? notice_new(a, svc, n, jid) : NULL;
    struct xml_node *ev = m ? xml_add_child(a, m, PUBSUB_NS_EVENT, "event") : NULL;
    struct xml_node *s = ev ? xml_add_child(a, ev, PUBSUB_NS_EVENT, "subscription") : NULL;
    if (s && xml_set_attr(a, s, "node", n->name) == HERALD_OK &&
        xml_set_attr(a, s, "jid", jid) == HERALD_OK &&
        (subid == NULL || *subid == '\0' || xml_set_attr(a, s, "subid", subid) == HERALD_OK) &&
        xml_set_attr(a, s, "subscription", pubsub_substate_name(state)) == HERALD_OK)
        pubsub_send_message(svc, m);
    else
        log_warn("pubsub %s: out of memory, no subscription notification to %s", n->name, jid);
    arena_free(&a);
}

/* §8.9.4: the modified affiliation, as in the example (with the element name spelt right). */
static void notify_aff(struct pubsub_service *svc, const struct pubsub_node *n, const char *bare,
                       enum pubsub_aff aff)
{
    struct arena *a = arena_new(0);
    struct xml_node *m = a ? notice_new(a, svc, n, bare) : NULL;
    struct xml_node *ps = m ? xml_add_child(a, m, PUBSUB_NS, "pubsub") : NULL;
    struct xml_node *l = ps ? xml_add_child(a, ps, PUBSUB_NS, "affiliations") : NULL;
    struct xml_node *e = l ? xml_add_child(a, l, PUBSUB_NS, "affiliation") : NULL;
    if (e && xml_set_attr(a, l, "node", n->name) == HERALD_OK &&
        xml_set_attr(a, e, "jid", bare) == HERALD_OK &&
        xml_set_attr(a, e, "affiliation", pubsub_aff_name(aff)) == HERALD_OK)
        pubsub_send_message(svc, m);
    else
        log_warn("pubsub %s: out of memory, no affiliation notification to %s", n->name, bare);
    arena_free(&a);
}

void pubsub_changes_run_cb(struct server *srv, void *ctx, enum herald_rc rc)
{
    struct pubsub_changes *c = ctx;
    struct pubsub_node *n;
    (void)srv;
    if (c == NULL)
        return;
    /* The node may have been deleted by a later request of the same turn: then its
     * deletion notice is all its subscribers hear. */
    if (rc == HERALD_OK && c->n && pubsub_node_get(c->svc, c->node, &n) == HERALD_OK) {
        for (size_t i = 0; i < c->n; i++) {
            const struct change_note *e = &c->v[i];
            if (e->is_aff) {
                notify_aff(c->svc, n, e->jid, (enum pubsub_aff)e->value);
                continue;
            }
            pubsub_notify_substate(c->svc, n, e->jid, e->subid, (enum pubsub_substate)e->value);
            /* pubsub#notify_sub: the owners hear of it too. */
            pubsub_notify_owners_sub(c->svc, n, e->jid, e->subid, (enum pubsub_substate)e->value);
            /* Item Caching: an approved subscriber gets the last item like a new one. */
            if (e->send_last && n->cfg.send_last_published_item != PUBSUB_SEND_LAST_NEVER)
                pubsub_send_last_item(c->svc, n, e->jid, e->subid);
        }
    }
    changes_free(c);
}

void pubsub_changes_commit_cb(void *arg, enum herald_rc rc)
{
    pubsub_changes_run_cb(NULL, arg, rc);
}

/* ---- the writes ---- */

static enum herald_rc changes_store(struct pubsub_service *svc, const struct pubsub_node *n,
                                    const struct pubsub_affop *affs, size_t naffs,
                                    const struct pubsub_subop *ops, size_t nops)
{
    struct store_txn *t;
    enum herald_rc rc = pubsub_txn_begin(svc, &t);
    if (rc)
        return rc;
    for (size_t i = 0; i < naffs && rc == HERALD_OK; i++)
        rc = pubsub_store_aff_put(t, svc->jid, n->name, affs[i].bare, (uint8_t)affs[i].aff);
    for (size_t i = 0; i < nops && rc == HERALD_OK; i++) {
        const struct pubsub_subop *op = &ops[i];
        if (op->to == PUBSUB_SUB_NONE)
            rc = pubsub_store_sub_del(t, svc->jid, n->name, op->jid, op->subid);
        else
            rc = pubsub_store_sub_put(t, svc->jid, n->name, op->jid, op->subid, (uint8_t)op->to,
                                      &op->opts);
    }
    return pubsub_txn_end(&t, rc);
}

/* Memory after the commit, and the notes; false when memory could not follow. */
static bool changes_apply(struct pubsub_node *n, const struct pubsub_affop *affs, size_t naffs,
                          const struct pubsub_subop *ops, size_t nops, struct pubsub_changes *c)
{
    bool ok = true;
    for (size_t i = 0; i < naffs; i++) {
        struct change_note *e = changes_push(c, affs[i].bare);
        if (e) {
            e->is_aff = true;
            e->value = affs[i].aff;
        }
        ok = ok && pubsub_node_set_aff(n, affs[i].bare, affs[i].aff) == HERALD_OK;
    }
    for (size_t i = 0; i < nops; i++) {
        const struct pubsub_subop *op = &ops[i];
        struct change_note *e = changes_push(c, op->jid);
        if (e) {
            memcpy(e->subid, op->subid, sizeof(e->subid));
            e->value = op->to;
            e->send_last = op->to == PUBSUB_SUB_SUBSCRIBED &&
                           (op->from == PUBSUB_SUB_NONE || op->from == PUBSUB_SUB_PENDING);
        }
        if (!ok)
            continue; /* the node is evicted anyway: only the notes matter */
        if (op->to == PUBSUB_SUB_NONE) {
            pubsub_node_remove_sub(n, op->jid, op->subid);
        } else if (op->from == PUBSUB_SUB_NONE) {
            struct pubsub_sub sub = {.state = op->to, .opts = op->opts};
            memcpy(sub.subid, op->subid, sizeof(sub.subid));
            ok = pubsub_node_add_sub(n, op->jid, &sub) == HERALD_OK;
        } else {
            struct pubsub_sub *sub = pubsub_sub_find(pubsub_node_subscriber(n, op->jid), op->subid);
            if (sub)
                pubsub_sub_set_state(n, sub, op->to);
        }
    }
    return ok;
}

enum herald_rc pubsub_changes_commit(struct pubsub_service *svc, struct pubsub_node **np,
                                     const struct pubsub_affop *affs, size_t naffs,
                                     const struct pubsub_subop *ops, size_t nops,
                                     struct pubsub_changes *c)
{
    struct pubsub_node *n = *np;
    if (naffs == 0 && nops == 0)
        return HERALD_OK;
    enum herald_rc rc = changes_store(svc, n, affs, naffs, ops, nops);
    if (rc) {
        log_error("pubsub %s: storing subscription or affiliation changes: %s", n->name,
                  herald_rc_str(rc));
        return rc;
    }
    if (!changes_apply(n, affs, naffs, ops, nops, c)) {
        log_warn("pubsub %s: out of memory applying a change; the node reloads", n->name);
        pubsub_node_evict(svc, n);
        *np = NULL;
    }
    return HERALD_OK;
}
