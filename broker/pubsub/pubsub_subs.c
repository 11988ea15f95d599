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

enum herald_rc pubsub_node_add_sub(struct pubsub_node *n, const char *jid,
                                   const struct pubsub_sub *sub)
{
    struct pubsub_subscriber *s = pubsub_node_subscriber(n, jid);
    if (s == NULL && (s = subscriber_new(n, jid)) == NULL)
        return HERALD_ENOMEM;
    struct pubsub_sub *subs =
        herald_realloc(HERALD_MEM_PUBSUB, s->subs, (s->nsubs + 1) * sizeof(*subs));
    if (subs == NULL)
        return HERALD_ENOMEM;
    s->subs = subs;
    s->subs[s->nsubs++] = *sub;
    n->nsubs++;
    return HERALD_OK;
}

void pubsub_node_remove_sub(struct pubsub_node *n, const char *jid, const char *subid)
{
    struct pubsub_subscriber *s = pubsub_node_subscriber(n, jid);
    if (s == NULL)
        return;
    for (uint32_t i = 0; i < s->nsubs;) {
        if (subid == NULL || strcmp(s->subs[i].subid, subid) == 0) {
            s->subs[i] = s->subs[--s->nsubs];
            n->nsubs--;
        } else {
            i++;
        }
    }
    if (s->nsubs)
        return;
    /* Swap-remove from the dense array the fan-out walks. */
    hmap_del(&n->by_jid, s->jid, s->jid_len);
    struct pubsub_subscriber *last = n->subscribers[--n->nsubscribers];
    n->subscribers[s->index] = last;
    last->index = s->index;
    herald_free(HERALD_MEM_PUBSUB, s->jid);
    refbuf_unref(&s->to_prefix);
    herald_free(HERALD_MEM_PUBSUB, s->subs);
    herald_free(HERALD_MEM_PUBSUB, s);
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

static struct pubsub_node *request_node(struct pubsub_req *r)
{
    const char *name = xml_attr(r->op, "node");
    struct pubsub_node *n;
    if (name == NULL) {
        pubsub_reply_error(r, "bad-request", "nodeid-required");
        return NULL;
    }
    enum herald_rc rc = pubsub_node_get(r->svc, name, &n);
    if (rc == HERALD_ENOTFOUND) {
        pubsub_reply_error(r, "item-not-found", NULL);
        return NULL;
    }
    if (rc) {
        pubsub_reply_error(r, "internal-server-error", NULL);
        return NULL;
    }
    return n;
}

static struct xml_node *subscription_elem(struct arena *a, struct xml_node *parent,
                                          const char *ns, const char *node, const char *jid,
                                          const struct pubsub_sub *sub)
{
    struct xml_node *s = xml_add_child(a, parent, ns, "subscription");
    if (s == NULL || (node && xml_set_attr(a, s, "node", node)) ||
        xml_set_attr(a, s, "jid", jid) ||
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
        buf_append_str(&b, subid);
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
    void *v;
    while (hmap_iter(&n->affs, &pos, NULL, NULL, &v)) {
        const struct pubsub_affentry *e = v;
        if (e->aff != PUBSUB_AFF_OWNER)
            continue;
        pubsub_notify_jid(svc, e->jid, strlen(e->jid), NULL, &ev, NULL, false, PUBSUB_SHOW_ALL);
    }
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

static struct sub_change *sub_change_new(struct pubsub_service *svc, const struct pubsub_node *n,
                                         const char *jid, const char *subid,
                                         enum pubsub_substate state)
{
    struct sub_change *x = calloc(1, sizeof(*x));
    if (x == NULL || (x->node = strdup(n->name)) == NULL || (x->jid = strdup(jid)) == NULL) {
        if (x)
            free(x->node);
        free(x);
        return NULL;
    }
    x->svc = svc;
    x->state = state;
    snprintf(x->subid, sizeof(x->subid), "%s", subid);
    return x;
}

static void sub_change_free(struct sub_change *x)
{
    free(x->node);
    free(x->jid);
    free(x);
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
            if (n->cfg.send_last_published_item != PUBSUB_SEND_LAST_NEVER)
                pubsub_send_last_item(x->svc, n, x->jid, x->subid);
        }
    }
    sub_change_free(x);
}

static void unsubscribed_cb(struct server *srv, void *arg, enum herald_rc rc)
{
    struct sub_change *x = arg;
    struct pubsub_node *n;
    (void)srv;
    if (rc == HERALD_OK && pubsub_node_get(x->svc, x->node, &n) == HERALD_OK)
        pubsub_notify_owners_sub(x->svc, n, x->jid, x->subid, PUBSUB_SUB_NONE);
    sub_change_free(x);
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
    if (jid == NULL)
        return;
    struct pubsub_node *n = request_node(r);
    if (n == NULL)
        return;
    if (!n->cfg.subscribe) {
        pubsub_reply_unsupported(r, "subscribe");
        return;
    }
    enum pubsub_access_verdict v = pubsub_access_check(r->svc, n, r->from_bare,
                                                       PUBSUB_OP_SUBSCRIBE);
    if (v != PUBSUB_ALLOW && v != PUBSUB_NEEDS_APPROVAL) {
        pubsub_reply_access(r, v);
        return;
    }
    struct xml_node *options = xml_child(r->ps, PUBSUB_NS, "options");
    if (options && (xml_attr(options, "node") || xml_attr(options, "jid"))) {
        /* §6.3.7: the <subscribe/> names node and JID; the options may not. */
        struct xmpp_error e = xmpp_error_of("bad-request");
        e.text = "<options/> with <subscribe/> takes no node or jid attribute";
        pubsub_reply_xerr(r, &e);
        return;
    }
    struct pubsub_subscriber *s = pubsub_node_subscriber(n, jid);
    for (uint32_t i = 0; s && i < s->nsubs; i++) {
        if (s->subs[i].state == PUBSUB_SUB_PENDING) {
            pubsub_reply_error(r, "not-authorized", "pending-subscription");
            return;
        }
    }
    struct pubsub_sub sub = {.state = v == PUBSUB_ALLOW ? PUBSUB_SUB_SUBSCRIBED
                                                        : PUBSUB_SUB_PENDING};
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
    enum herald_rc rc = store_begin(r->srv->store, &t);
    if (rc)
        goto fail;
    if ((rc = pubsub_store_sub_put(t, r->svc->jid, n->name, jid, sub.subid, (uint8_t)sub.state,
                                   &sub.opts))) {
        store_abort(&t);
        if (rc == HERALD_ELIMIT) {
            pubsub_reply_error(r, "not-acceptable", NULL);
            return;
        }
        goto fail;
    }
    if (store_commit(&t) || pubsub_node_add_sub(n, jid, &sub))
        goto fail;
    struct xml_node *se = subscription_elem(a, ps, PUBSUB_NS, n->name, jid, &sub);
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
    struct sub_change *ctx = sub_change_new(r->svc, n, jid, sub.subid, sub.state);
    if (ctx == NULL)
        goto fail;
    if (pubsub_reply_after_commit(r, ps, subscribed_cb, ctx)) {
        subscribed_cb(r->srv, ctx, HERALD_ENOMEM);
        goto fail;
    }
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
    for (uint32_t i = 0; i < s->nsubs; i++)
        if (strcmp(s->subs[i].subid, subid) == 0)
            return &s->subs[i];
    pubsub_reply_error(r, "not-acceptable", "invalid-subid");
    return NULL;
}

void pubsub_handle_unsubscribe(struct pubsub_req *r)
{
    if (xml_attr(r->op, "node") == NULL) {
        pubsub_reply_error(r, "bad-request", "nodeid-required");
        return;
    }
    const char *jid = request_jid(r, true);
    if (jid == NULL)
        return;
    struct pubsub_node *n = request_node(r);
    if (n == NULL)
        return;
    struct pubsub_sub *sub = request_sub(r, pubsub_node_subscriber(n, jid), XMPP_ERROR_CANCEL);
    if (sub == NULL)
        return;
    char subid[PUBSUB_SUBID_LEN + 1];
    memcpy(subid, sub->subid, sizeof(subid));
    struct pubsub_sub gone = *sub;
    gone.state = PUBSUB_SUB_NONE;
    struct store_txn *t;
    enum herald_rc rc = store_begin(r->srv->store, &t);
    if (rc == HERALD_OK) {
        rc = pubsub_store_sub_del(t, r->svc->jid, n->name, jid, subid);
        if (rc)
            store_abort(&t);
        else
            rc = store_commit(&t);
    }
    if (rc) {
        pubsub_reply_error(r, "internal-server-error", NULL);
        return;
    }
    pubsub_node_remove_sub(n, jid, subid);
    /* §6.2.2: the result may name the subscription, now 'none', with its SubID. */
    struct xml_node *ps = xml_elem_new(r->a, PUBSUB_NS, "pubsub");
    struct sub_change *ctx = sub_change_new(r->svc, n, jid, subid, PUBSUB_SUB_NONE);
    if (ps == NULL || ctx == NULL || !subscription_elem(r->a, ps, PUBSUB_NS, n->name, jid, &gone) ||
        pubsub_reply_after_commit(r, ps, unsubscribed_cb, ctx)) {
        if (ctx)
            sub_change_free(ctx);
        pubsub_reply_error(r, "internal-server-error", NULL);
    }
}

/* ---- options ---- */

void pubsub_handle_options(struct pubsub_req *r)
{
    struct arena *a = r->a;
    bool set = strcmp(r->st->type, "set") == 0;
    if (xml_attr(r->op, "node") == NULL) {
        pubsub_reply_error(r, "bad-request", "nodeid-required");
        return;
    }
    const char *jid = request_jid(r, true);
    if (jid == NULL)
        return;
    struct pubsub_node *n = request_node(r);
    if (n == NULL)
        return;
    struct pubsub_subscriber *s = pubsub_node_subscriber(n, jid);
    struct pubsub_sub *sub = request_sub(r, s, XMPP_ERROR_MODIFY);
    if (sub == NULL)
        return;
    if (!set) {
        /* §6.3.2: the options form of this subscription. */
        struct xml_node *ps = xml_elem_new(a, PUBSUB_NS, "pubsub");
        struct xml_node *o = ps ? xml_add_child(a, ps, PUBSUB_NS, "options") : NULL;
        struct xml_node *x;
        if (o == NULL || xml_set_attr(a, o, "node", n->name) || xml_set_attr(a, o, "jid", jid) ||
            (s->nsubs > 1 && xml_set_attr(a, o, "subid", sub->subid)) ||
            pubsub_subopts_to_form(a, &sub->opts, &x)) {
            pubsub_reply_error(r, "internal-server-error", NULL);
            return;
        }
        xml_append(o, x);
        router_reply_result(r->srv, r->st, ps);
        return;
    }
    struct xml_node *x = xml_child(r->op, NS_XDATA, "x");
    struct pubsub_subopts opts = sub->opts;
    struct xmpp_error err;
    if (x == NULL) {
        pubsub_reply_error(r, "bad-request", "invalid-options");
        return;
    }
    if (pubsub_subopts_apply_form(&opts, x, a, &err)) {
        pubsub_reply_xerr(r, &err);
        return;
    }
    struct store_txn *t;
    enum herald_rc rc = store_begin(r->srv->store, &t);
    if (rc == HERALD_OK) {
        rc = pubsub_store_sub_put(t, r->svc->jid, n->name, jid, sub->subid,
                                  (uint8_t)(sub->state == PUBSUB_SUB_UNCONFIGURED
                                                ? PUBSUB_SUB_SUBSCRIBED
                                                : sub->state),
                                  &opts);
        if (rc)
            store_abort(&t);
        else
            rc = store_commit(&t);
    }
    if (rc) {
        pubsub_reply_error(r, "internal-server-error", NULL);
        return;
    }
    sub->opts = opts;
    if (sub->state == PUBSUB_SUB_UNCONFIGURED)
        sub->state = PUBSUB_SUB_SUBSCRIBED;
    if (pubsub_reply_after_commit(r, NULL, NULL, NULL))
        pubsub_reply_error(r, "internal-server-error", NULL);
}

/* §6.4: default subscription options, of the service or of a node. */
void pubsub_handle_default_options(struct pubsub_req *r)
{
    struct arena *a = r->a;
    const char *name = xml_attr(r->op, "node");
    struct pubsub_node *n;
    if (name) {
        enum herald_rc rc = pubsub_node_get(r->svc, name, &n);
        if (rc == HERALD_ENOTFOUND) {
            pubsub_reply_error(r, "item-not-found", NULL);
            return;
        }
        if (rc) {
            pubsub_reply_error(r, "internal-server-error", NULL);
            return;
        }
    }
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
    struct pubsub_subscriber *s = pubsub_node_subscriber(n, jid);
    for (uint32_t i = 0; s && i < s->nsubs; i++) {
        if (strcmp(s->subs[i].subid, subid) == 0 &&
            !subscription_elem(x->r->a, x->list, PUBSUB_NS, node, jid, &s->subs[i])) {
            x->rc = HERALD_ENOMEM;
            return false;
        }
    }
    return true;
}

/* §5.6 */
void pubsub_handle_subscriptions(struct pubsub_req *r)
{
    struct arena *a = r->a;
    struct xml_node *ps = xml_elem_new(a, PUBSUB_NS, "pubsub");
    struct xml_node *list = ps ? xml_add_child(a, ps, PUBSUB_NS, "subscriptions") : NULL;
    const char *node = xml_attr(r->op, "node");
    struct store_txn *t;
    struct mine_ctx x = {r, list, node, HERALD_OK};
    enum herald_rc rc = list ? store_read(r->srv->store, &t) : HERALD_ENOMEM;
    if (rc == HERALD_OK && node && xml_set_attr(a, list, "node", node))
        rc = HERALD_ENOMEM;
    if (rc == HERALD_OK)
        rc = pubsub_store_subs_of_jid(t, r->svc->jid, r->from_bare, my_sub_cb, &x);
    if (rc == HERALD_OK)
        rc = x.rc;
    if (rc) {
        pubsub_reply_error(r, "internal-server-error", NULL);
        return;
    }
    router_reply_result(r->srv, r->st, ps);
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

/* §5.7 */
void pubsub_handle_affiliations(struct pubsub_req *r)
{
    struct arena *a = r->a;
    struct xml_node *ps = xml_elem_new(a, PUBSUB_NS, "pubsub");
    struct xml_node *list = ps ? xml_add_child(a, ps, PUBSUB_NS, "affiliations") : NULL;
    const char *node = xml_attr(r->op, "node");
    struct store_txn *t;
    struct mine_ctx x = {r, list, node, HERALD_OK};
    enum herald_rc rc = list ? store_read(r->srv->store, &t) : HERALD_ENOMEM;
    if (rc == HERALD_OK && node && xml_set_attr(a, list, "node", node))
        rc = HERALD_ENOMEM;
    if (rc == HERALD_OK)
        rc = pubsub_store_affs_of_jid(t, r->svc->jid, r->from_bare, my_aff_cb, &x);
    if (rc == HERALD_OK)
        rc = x.rc;
    if (rc) {
        pubsub_reply_error(r, "internal-server-error", NULL);
        return;
    }
    router_reply_result(r->srv, r->st, ps);
}
