/*
 * pubsub_subs.c - subscriptions: subscribe (§6.1), unsubscribe (§6.2), options (§6.3,
 * §6.4), and what an entity may ask about itself (§5.6 subscriptions, §5.7
 * affiliations). Also the in-memory subscriber lists the fan-out walks.
 *
 * Several subscriptions of one JID to one node are allowed (multi-subscribe, with
 * SubIDs). A subscribe request without options for a JID that already has an active
 * subscription returns that subscription instead of making another, so a client that
 * retries does not end up with duplicates.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "herald/log.h"
#include "herald/pubsub_store.h"
#include "herald/store.h"
#include "pubsub_int.h"

/* ---- memory ---- */

struct pubsub_subscriber *pubsub_node_subscriber(const struct pubsub_node *n, const char *jid)
{
    return hmap_get(&n->by_jid, jid, strlen(jid));
}

struct pubsub_sub *pubsub_sub_find(struct pubsub_subscriber *s, const char *subid)
{
    for (uint32_t i = 0; s && i < s->nsubs; i++)
        if (strcmp(s->subs[i].subid, subid) == 0)
            return &s->subs[i];
    return NULL;
}

static struct pubsub_subscriber *subscriber_new(struct pubsub_node *n, const char *jid)
{
    struct pubsub_subscriber *s = herald_calloc(HERALD_MEM_PUBSUB, 1, sizeof(*s));
    if (s == NULL)
        return NULL;
    s->jid = herald_strdup(HERALD_MEM_PUBSUB, jid);
    s->to_prefix = pubsub_to_prefix(jid, strlen(jid));
    if (n->nsubscribers == n->capsubscribers) {
        size_t cap = n->capsubscribers ? n->capsubscribers * 2 : 8;
        struct pubsub_subscriber **a =
            herald_realloc(HERALD_MEM_PUBSUB, n->subscribers, cap * sizeof(*a));
        if (a) {
            n->subscribers = a;
            n->capsubscribers = cap;
        }
    }
    if (s->jid == NULL || s->to_prefix == NULL || n->nsubscribers == n->capsubscribers ||
        hmap_put(&n->by_jid, s->jid, strlen(s->jid), s, NULL)) {
        herald_free(HERALD_MEM_PUBSUB, s->jid);
        refbuf_unref(&s->to_prefix);
        herald_free(HERALD_MEM_PUBSUB, s);
        return NULL;
    }
    s->jid_len = strlen(s->jid);
    s->full = strchr(s->jid, '/') != NULL;
    s->index = (uint32_t)n->nsubscribers;
    n->subscribers[n->nsubscribers++] = s;
    return s;
}

/* Swap-remove a subscriber without subscriptions from the dense array the fan-out walks. */
static void subscriber_drop(struct pubsub_node *n, struct pubsub_subscriber *s)
{
    hmap_del(&n->by_jid, s->jid, s->jid_len);
    struct pubsub_subscriber *last = n->subscribers[--n->nsubscribers];
    n->subscribers[s->index] = last;
    last->index = s->index;
    herald_free(HERALD_MEM_PUBSUB, s->jid);
    refbuf_unref(&s->to_prefix);
    herald_free(HERALD_MEM_PUBSUB, s->subs);
    herald_free(HERALD_MEM_PUBSUB, s);
}

enum herald_rc pubsub_node_add_sub(struct pubsub_node *n, const char *jid,
                                   const struct pubsub_sub *sub)
{
    struct pubsub_subscriber *s = pubsub_node_subscriber(n, jid);
    if (s == NULL && (s = subscriber_new(n, jid)) == NULL)
        return HERALD_ENOMEM;
    struct pubsub_sub *subs =
        herald_realloc(HERALD_MEM_PUBSUB, s->subs, (s->nsubs + 1) * sizeof(*subs));
    if (subs == NULL) {
        if (s->nsubs == 0)
            subscriber_drop(n, s); /* just made: no subscriber without subscriptions */
        return HERALD_ENOMEM;
    }
    s->subs = subs;
    s->subs[s->nsubs++] = *sub;
    n->nsubs++;
    n->npending += sub->state == PUBSUB_SUB_PENDING;
    return HERALD_OK;
}

void pubsub_node_remove_sub(struct pubsub_node *n, const char *jid, const char *subid)
{
    struct pubsub_subscriber *s = pubsub_node_subscriber(n, jid);
    if (s == NULL)
        return;
    for (uint32_t i = 0; i < s->nsubs;) {
        if (subid == NULL || strcmp(s->subs[i].subid, subid) == 0) {
            n->npending -= s->subs[i].state == PUBSUB_SUB_PENDING;
            s->subs[i] = s->subs[--s->nsubs];
            n->nsubs--;
        } else {
            i++;
        }
    }
    if (s->nsubs == 0)
        subscriber_drop(n, s);
}

void pubsub_sub_set_state(struct pubsub_node *n, struct pubsub_sub *sub, enum pubsub_substate state)
{
    n->npending -= sub->state == PUBSUB_SUB_PENDING;
    n->npending += state == PUBSUB_SUB_PENDING;
    sub->state = state;
}

struct bare_sub_ctx {
    const struct pubsub_node *n;
    bool found;
};

static bool bare_sub_cb(void *arg, const char *node, const char *jid, const char *subid)
{
    struct bare_sub_ctx *x = arg;
    if (strcmp(node, x->n->name) != 0)
        return true;
    /* The index names the subscription; its state is in memory (equal to the store). */
    const struct pubsub_sub *sub = pubsub_sub_find(pubsub_node_subscriber(x->n, jid), subid);
    x->found = sub && sub->state == PUBSUB_SUB_SUBSCRIBED;
    return !x->found;
}

bool pubsub_bare_subscribed(struct pubsub_service *svc, const struct pubsub_node *n,
                            const char *bare)
{
    /* The reverse index finds the bare JID's subscriptions and those of its full JIDs,
     * which the node's subscriber map cannot without walking every subscriber. */
    struct bare_sub_ctx x = {n, false};
    struct store_txn *t;
    if (store_read(svc->srv->store, &t) ||
        pubsub_store_subs_of_jid(t, svc->jid, bare, bare_sub_cb, &x))
        return false;
    return x.found;
}

/* ---- shared request checks ---- */

/* Parse and canonicalise the 'jid' attribute; it must be the requester's (§6.1.3.1). */
static const char *request_jid(struct pubsub_req *r, bool forbidden_on_mismatch)
{
    const char *raw = xml_attr(r->op, "jid");
    struct jid j;
    if (raw == NULL) {
        pubsub_reply_error(r, "bad-request", "jid-required");
        return NULL;
    }
    if (jid_parse(r->a, raw, &j)) {
        pubsub_reply_error(r, "bad-request", "invalid-jid");
        return NULL;
    }
    const char *bare = jid_bare_str(r->a, &j);
    const char *full = jid_full_str(r->a, &j);
    if (bare == NULL || full == NULL) {
        pubsub_reply_error(r, "internal-server-error", NULL);
        return NULL;
    }
    if (strcmp(bare, r->from_bare) != 0) {
        if (forbidden_on_mismatch)
            pubsub_reply_error(r, "forbidden", NULL);
        else
            pubsub_reply_error(r, "bad-request", "invalid-jid");
        return NULL;
    }
    return full;
}

static struct xml_node *subscription_elem(struct arena *a, struct xml_node *parent, const char *ns,
                                          const char *node, const char *jid,
                                          const struct pubsub_sub *sub)
{
    struct xml_node *s = xml_add_child(a, parent, ns, "subscription");
    if (s == NULL || (node && xml_set_attr(a, s, "node", node)) || xml_set_attr(a, s, "jid", jid) ||
        (sub->subid[0] && xml_set_attr(a, s, "subid", sub->subid)) ||
        xml_set_attr(a, s, "subscription", pubsub_substate_name(sub->state)))
        return NULL;
    return s;
}

/* ---- owners' notifications (notify_sub) ---- */

void pubsub_notify_owners_sub(struct pubsub_service *svc, const struct pubsub_node *n,
                              const char *jid, const char *subid, enum pubsub_substate state)
{
    if (!n->cfg.notify_sub)
        return;
    struct buf b;
    buf_init(&b, 0);
    buf_append_str(&b, "<event xmlns='" PUBSUB_NS_EVENT "'><subscription node='");
    buf_append_xml_attr_escaped(&b, n->name, strlen(n->name));
    buf_append_str(&b, "' jid='");
    buf_append_xml_attr_escaped(&b, jid, strlen(jid));
    if (subid && *subid) {
        buf_append_str(&b, "' subid='");
        buf_append_xml_attr_escaped(&b, subid, strlen(subid));
    }
    buf_append_str(&b, "' subscription='");
    buf_append_str(&b, pubsub_substate_name(state));
    buf_append_str(&b, "'/></event>");
    struct pubsub_event ev;
    if (b.err || pubsub_event_build(svc, n, b.data, b.len, &ev)) {
        log_error("pubsub: out of memory telling the owners of %s of a subscription", n->name);
        buf_cleanup(&b);
        return;
    }
    buf_cleanup(&b);
    size_t pos = 0;
    for (const struct pubsub_affentry *e; (e = pubsub_node_next_owner(n, &pos));)
        pubsub_notify_jid(svc, e->jid, strlen(e->jid), NULL, &ev, NULL, false, PUBSUB_SHOW_ALL);
    pubsub_event_release(&ev);
}

/* What happens after the commit of a subscription change. */
struct sub_change {
    struct pubsub_service *svc;
    char *node;
    char *jid;
    char subid[PUBSUB_SUBID_LEN + 1];
    enum pubsub_substate state;
};

static void sub_change_free(struct sub_change *x)
{
    if (x == NULL)
        return;
    free(x->node);
    free(x->jid);
    free(x);
}

static struct sub_change *sub_change_new(struct pubsub_service *svc, const char *node,
                                         const char *jid, const char *subid,
                                         enum pubsub_substate state)
{
    struct sub_change *x = calloc(1, sizeof(*x));
    if (x == NULL || (x->node = strdup(node)) == NULL || (x->jid = strdup(jid)) == NULL) {
        sub_change_free(x);
        return NULL;
    }
    x->svc = svc;
    x->state = state;
    snprintf(x->subid, sizeof(x->subid), "%s", subid);
    return x;
}

static void subscribed_cb(struct server *srv, void *arg, enum herald_rc rc)
{
    struct sub_change *x = arg;
    struct pubsub_node *n;
    (void)srv;
    if (rc == HERALD_OK && pubsub_node_get(x->svc, x->node, &n) == HERALD_OK) {
        if (x->state == PUBSUB_SUB_PENDING) {
            pubsub_request_approval(x->svc, n, x->jid, x->subid);
        } else {
            pubsub_notify_owners_sub(x->svc, n, x->jid, x->subid, x->state);
            if (x->state != PUBSUB_SUB_NONE &&
                n->cfg.send_last_published_item != PUBSUB_SEND_LAST_NEVER)
                pubsub_send_last_item(x->svc, n, x->jid, x->subid);
        }
    }
    sub_change_free(x);
}

/* The reply (payload may be NULL), then the change's follow-ups after the commit. */
static void reply_with_change(struct pubsub_req *r, struct xml_node *payload, const char *node,
                              const char *jid, const char *subid, enum pubsub_substate state)
{
    struct sub_change *x = sub_change_new(r->svc, node, jid, subid, state);
    if (x == NULL || pubsub_reply_after_commit(r, payload, subscribed_cb, x)) {
        sub_change_free(x);
        pubsub_reply_error(r, "internal-server-error", NULL);
    }
}

/* The <options/> of a subscribe request (§6.3.7), or NULL; false after replying. */
static bool subscribe_options(struct pubsub_req *r, struct xml_node **out)
{
    struct xml_node *options = xml_child(r->ps, PUBSUB_NS, "options");
    *out = options;
    if (options == NULL)
        return true;
    /* §6.3.7: the options follow the <subscribe/>, which names node and JID for both. */
    if (xml_next(r->op, PUBSUB_NS, "options") != options || xml_attr(options, "node") ||
        xml_attr(options, "jid")) {
        pubsub_reply_text(r, "bad-request",
                          "<options/> follows <subscribe/> and takes no node or jid attribute");
        return false;
    }
    return true;
}

void pubsub_handle_subscribe(struct pubsub_req *r)
{
    struct arena *a = r->a;
    const char *name = xml_attr(r->op, "node");
    if (name == NULL) {
        pubsub_reply_error(r, "bad-request", "nodeid-required");
        return;
    }
    const char *jid = request_jid(r, false);
    struct pubsub_node *n = jid ? pubsub_req_node(r, name) : NULL;
    if (n == NULL)
        return;
    if (!n->cfg.subscribe) {
        pubsub_reply_unsupported(r, "subscribe");
        return;
    }
    enum pubsub_access_verdict v =
        pubsub_access_check(r->svc, n, r->from_bare, PUBSUB_OP_SUBSCRIBE);
    if (v != PUBSUB_ALLOW && v != PUBSUB_NEEDS_APPROVAL) {
        pubsub_reply_access(r, v);
        return;
    }
    struct xml_node *options;
    if (!subscribe_options(r, &options))
        return;
    struct pubsub_subscriber *s = pubsub_node_subscriber(n, jid);
    for (uint32_t i = 0; s && i < s->nsubs; i++) {
        if (s->subs[i].state == PUBSUB_SUB_PENDING) {
            pubsub_reply_error(r, "not-authorized", "pending-subscription");
            return;
        }
    }
    struct xml_node *ps = xml_elem_new(a, PUBSUB_NS, "pubsub");
    if (ps == NULL)
        goto fail;
    if (s && s->nsubs && options == NULL) {
        /* Already subscribed: answer with the current subscription (§6.1.6). */
        if (!subscription_elem(a, ps, PUBSUB_NS, n->name, jid, &s->subs[0]) ||
            pubsub_reply_after_commit(r, ps, NULL, NULL))
            goto fail;
        return;
    }
    if (n->nsubs >= r->srv->cfg.pubsub_max_subscriptions) {
        pubsub_reply_error_typed(r, "policy-violation", "too-many-subscriptions",
                                 XMPP_ERROR_WAIT); /* §6.1.3.9 */
        return;
    }
    if (!pubsub_key_fits(r->svc, n->name, jid, true)) {
        pubsub_reply_text(r, "not-acceptable", "the NodeID and this JID are too long together");
        return;
    }
    struct pubsub_sub sub = {.state =
                                 v == PUBSUB_ALLOW ? PUBSUB_SUB_SUBSCRIBED : PUBSUB_SUB_PENDING};
    pubsub_subopts_defaults(&sub.opts);
    struct xml_node *x = options ? xml_child(options, NS_XDATA, "x") : NULL;
    if (x) {
        struct xmpp_error err;
        if (pubsub_subopts_apply_form(&sub.opts, x, a, &err)) {
            pubsub_reply_xerr(r, &err);
            return;
        }
    }
    if (pubsub_random_hex(sub.subid, PUBSUB_SUBID_LEN / 2))
        goto fail;
    struct store_txn *t;
    enum herald_rc rc = pubsub_txn_begin(r->svc, &t);
    if (rc == HERALD_OK)
        rc = pubsub_txn_end(&t, pubsub_store_sub_put(t, r->svc->jid, name, jid, sub.subid,
                                                     (uint8_t)sub.state, &sub.opts));
    if (rc) {
        log_error("pubsub subscribe to %s: %s", name, herald_rc_str(rc));
        goto fail;
    }
    if (pubsub_node_add_sub(n, jid, &sub)) {
        /* Stored: the subscription stands; memory reloads it (n is gone from here on). */
        log_warn("pubsub %s: out of memory adding a subscription; the node reloads", name);
        pubsub_node_evict(r->svc, n);
    }
    struct xml_node *se = subscription_elem(a, ps, PUBSUB_NS, name, jid, &sub);
    /* Options are supported but not required (§6.1.5 last example). */
    if (se == NULL || (sub.state == PUBSUB_SUB_SUBSCRIBED &&
                       !xml_add_child(a, se, PUBSUB_NS, "subscribe-options")))
        goto fail;
    if (x) {
        /* §6.3.7: the resulting options, as a form of type result. */
        struct xml_node *o = xml_add_child(a, ps, PUBSUB_NS, "options");
        struct xml_node *form;
        if (o == NULL || pubsub_subopts_to_form(a, &sub.opts, &form) ||
            xml_set_attr(a, form, "type", "result"))
            goto fail;
        xml_append(o, form);
    }
    reply_with_change(r, ps, name, jid, sub.subid, sub.state);
    return;
fail:
    pubsub_reply_error(r, "internal-server-error", NULL);
}

/* ---- unsubscribe ---- */

/* The one subscription a request designates by its SubID, with the §6.2.3 / §6.3.4
 * errors when it cannot be determined. */
static struct pubsub_sub *request_sub(struct pubsub_req *r, struct pubsub_subscriber *s,
                                      enum xmpp_error_type not_subscribed_type)
{
    const char *subid = xml_attr(r->op, "subid");
    if (s == NULL || s->nsubs == 0) {
        /* The type of the §6.2.3.2 (cancel) or §6.3.4.2 (modify) example. */
        pubsub_reply_error_typed(r, "unexpected-request", "not-subscribed", not_subscribed_type);
        return NULL;
    }
    if (subid == NULL) {
        if (s->nsubs > 1) {
            pubsub_reply_error(r, "bad-request", "subid-required");
            return NULL;
        }
        return &s->subs[0];
    }
    struct pubsub_sub *sub = pubsub_sub_find(s, subid);
    if (sub == NULL)
        pubsub_reply_error(r, "not-acceptable", "invalid-subid");
    return sub;
}

/* The subscription an unsubscribe or options request designates by its node, JID and SubID
 * (§6.2.3, §6.3.4: the type of the not-subscribed error differs); false after replying. */
struct designated {
    const char *name;
    const char *jid;
    struct pubsub_node *n;
    struct pubsub_subscriber *s;
    struct pubsub_sub *sub;
};

static bool request_designated(struct pubsub_req *r, enum xmpp_error_type not_subscribed_type,
                               struct designated *d)
{
    d->name = xml_attr(r->op, "node");
    if (d->name == NULL) {
        pubsub_reply_error(r, "bad-request", "nodeid-required");
        return false;
    }
    d->jid = request_jid(r, true);
    d->n = d->jid ? pubsub_req_node(r, d->name) : NULL;
    if (d->n == NULL)
        return false;
    d->s = pubsub_node_subscriber(d->n, d->jid);
    d->sub = request_sub(r, d->s, not_subscribed_type);
    return d->sub != NULL;
}

void pubsub_handle_unsubscribe(struct pubsub_req *r)
{
    struct designated d;
    if (!request_designated(r, XMPP_ERROR_CANCEL, &d))
        return;
    struct pubsub_sub gone = *d.sub; /* d.sub goes with the memory change */
    gone.state = PUBSUB_SUB_NONE;
    struct store_txn *t;
    enum herald_rc rc = pubsub_txn_begin(r->svc, &t);
    if (rc == HERALD_OK)
        rc = pubsub_txn_end(&t, pubsub_store_sub_del(t, r->svc->jid, d.name, d.jid, gone.subid));
    if (rc) {
        log_error("pubsub unsubscribe from %s: %s", d.name, herald_rc_str(rc));
        pubsub_reply_error(r, "internal-server-error", NULL);
        return;
    }
    pubsub_node_remove_sub(d.n, d.jid, gone.subid);
    /* §6.2.2: the result may name the subscription, now 'none', with its SubID. */
    struct xml_node *ps = xml_elem_new(r->a, PUBSUB_NS, "pubsub");
    if (ps == NULL || !subscription_elem(r->a, ps, PUBSUB_NS, d.name, d.jid, &gone)) {
        pubsub_reply_error(r, "internal-server-error", NULL);
        return;
    }
    reply_with_change(r, ps, d.name, d.jid, gone.subid, PUBSUB_SUB_NONE);
}

/* ---- options ---- */

/* §6.3.2: the options form of one subscription. */
static void options_get(struct pubsub_req *r, const struct designated *d)
{
    struct arena *a = r->a;
    struct xml_node *ps = xml_elem_new(a, PUBSUB_NS, "pubsub");
    struct xml_node *o = ps ? xml_add_child(a, ps, PUBSUB_NS, "options") : NULL;
    struct xml_node *x;
    if (o == NULL || xml_set_attr(a, o, "node", d->n->name) || xml_set_attr(a, o, "jid", d->jid) ||
        (d->s->nsubs > 1 && xml_set_attr(a, o, "subid", d->sub->subid)) ||
        pubsub_subopts_to_form(a, &d->sub->opts, &x)) {
        pubsub_reply_error(r, "internal-server-error", NULL);
        return;
    }
    xml_append(o, x);
    router_reply_result(r->srv, r->st, ps);
}

void pubsub_handle_options(struct pubsub_req *r)
{
    struct designated d;
    if (!request_designated(r, XMPP_ERROR_MODIFY, &d))
        return;
    if (strcmp(r->st->type, "set") != 0) {
        options_get(r, &d);
        return;
    }
    struct xml_node *x = xml_child(r->op, NS_XDATA, "x");
    struct pubsub_subopts opts = d.sub->opts;
    struct xmpp_error err;
    if (x == NULL) {
        pubsub_reply_error(r, "bad-request", "invalid-options");
        return;
    }
    if (pubsub_subopts_apply_form(&opts, x, r->a, &err)) {
        pubsub_reply_xerr(r, &err);
        return;
    }
    /* Configured: an "unconfigured" subscription becomes active (§6.1.5). */
    enum pubsub_substate state =
        d.sub->state == PUBSUB_SUB_UNCONFIGURED ? PUBSUB_SUB_SUBSCRIBED : d.sub->state;
    struct store_txn *t;
    enum herald_rc rc = pubsub_txn_begin(r->svc, &t);
    if (rc == HERALD_OK)
        rc = pubsub_txn_end(&t, pubsub_store_sub_put(t, r->svc->jid, d.name, d.jid, d.sub->subid,
                                                     (uint8_t)state, &opts));
    if (rc) {
        log_error("pubsub options of %s: %s", d.name, herald_rc_str(rc));
        pubsub_reply_error(r, "internal-server-error", NULL);
        return;
    }
    d.sub->opts = opts;
    pubsub_sub_set_state(d.n, d.sub, state);
    if (pubsub_reply_after_commit(r, NULL, NULL, NULL))
        pubsub_reply_error(r, "internal-server-error", NULL);
}

/* §6.4: default subscription options, of the service or of a node. */
void pubsub_handle_default_options(struct pubsub_req *r)
{
    struct arena *a = r->a;
    const char *name = xml_attr(r->op, "node");
    if (name && pubsub_req_node(r, name) == NULL)
        return;
    struct pubsub_subopts o;
    pubsub_subopts_defaults(&o);
    struct xml_node *ps = xml_elem_new(a, PUBSUB_NS, "pubsub");
    struct xml_node *d = ps ? xml_add_child(a, ps, PUBSUB_NS, "default") : NULL;
    struct xml_node *x;
    /* Type result, as in the §6.4.2 example: defaults to look at, not a form to fill. */
    if (d == NULL || (name && xml_set_attr(a, d, "node", name)) ||
        pubsub_subopts_to_form(a, &o, &x) || xml_set_attr(a, x, "type", "result")) {
        pubsub_reply_error(r, "internal-server-error", NULL);
        return;
    }
    xml_append(d, x);
    router_reply_result(r->srv, r->st, ps);
}

/* ---- what an entity may ask about itself ---- */

struct mine_ctx {
    struct pubsub_req *r;
    struct xml_node *list;
    const char *only_node;
    enum herald_rc rc;
};

static bool my_sub_cb(void *arg, const char *node, const char *jid, const char *subid)
{
    struct mine_ctx *x = arg;
    struct pubsub_node *n;
    if (x->only_node && strcmp(x->only_node, node) != 0)
        return true;
    if ((x->rc = pubsub_node_get(x->r->svc, node, &n)) != HERALD_OK) {
        if (x->rc == HERALD_ENOTFOUND)
            x->rc = HERALD_OK; /* an index entry for a node deleted in this turn */
        return x->rc == HERALD_OK;
    }
    const struct pubsub_sub *sub = pubsub_sub_find(pubsub_node_subscriber(n, jid), subid);
    if (sub && !subscription_elem(x->r->a, x->list, PUBSUB_NS, node, jid, sub)) {
        x->rc = HERALD_ENOMEM;
        return false;
    }
    return true;
}

static bool my_aff_cb(void *arg, const char *node, uint8_t aff)
{
    struct mine_ctx *x = arg;
    if (x->only_node && strcmp(x->only_node, node) != 0)
        return true;
    struct xml_node *e = xml_add_child(x->r->a, x->list, PUBSUB_NS, "affiliation");
    if (e == NULL || xml_set_attr(x->r->a, e, "node", node) ||
        xml_set_attr(x->r->a, e, "affiliation", pubsub_aff_name((enum pubsub_aff)aff))) {
        x->rc = HERALD_ENOMEM;
        return false;
    }
    return true;
}

/* §5.6 and §5.7: the requester's subscriptions or affiliations, over the whole service or
 * at the node its 'node' attribute names, from the store's reverse index. */
static void list_mine(struct pubsub_req *r, bool affiliations)
{
    struct arena *a = r->a;
    struct xml_node *ps = xml_elem_new(a, PUBSUB_NS, "pubsub");
    struct xml_node *list = ps ? xml_add_child(a, ps, PUBSUB_NS, r->op->name) : NULL;
    const char *node = xml_attr(r->op, "node");
    struct store_txn *t;
    struct mine_ctx x = {r, list, node, HERALD_OK};
    enum herald_rc rc = list ? store_read(r->srv->store, &t) : HERALD_ENOMEM;
    if (rc == HERALD_OK && node && xml_set_attr(a, list, "node", node))
        rc = HERALD_ENOMEM;
    if (rc == HERALD_OK)
        rc = affiliations ? pubsub_store_affs_of_jid(t, r->svc->jid, r->from_bare, my_aff_cb, &x)
                          : pubsub_store_subs_of_jid(t, r->svc->jid, r->from_bare, my_sub_cb, &x);
    if (rc == HERALD_OK)
        rc = x.rc;
    if (rc) {
        log_error("pubsub %s of %s: %s", r->op->name, r->from_bare, herald_rc_str(rc));
        pubsub_reply_error(r, "internal-server-error", NULL);
        return;
    }
    router_reply_result(r->srv, r->st, ps);
}

void pubsub_handle_subscriptions(struct pubsub_req *r)
{
    list_mine(r, false);
}

void pubsub_handle_affiliations(struct pubsub_req *r)
{
    list_mine(r, true);
}
