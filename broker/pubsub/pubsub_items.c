/*
 * pubsub_items.c - publish (§7.1) and retract (§7.2). Retrieval is in pubsub_retrieve.c.
 *
 * A publish is acknowledged only after the turn's commit, and only then fanned out:
 * nobody hears of an item a crash could take back. max_items is enforced in the same
 * transaction as the insert (retract-oldest, §7.1.2).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "herald/log.h"
#include "herald/pubsub_store.h"
#include "herald/store.h"
#include "pubsub_int.h"

/* "<item id='ID'>PAYLOAD</item>" (or an empty item) into b. */
static void write_item(struct buf *b, const char *ns, const char *id, size_t idlen,
                       const char *payload, size_t plen)
{
    buf_append_str(b, "<item");
    if (ns) {
        buf_append_str(b, " xmlns='");
        buf_append_str(b, ns);
        buf_append_byte(b, '\'');
    }
    buf_append_str(b, " id='");
    buf_append_xml_attr_escaped(b, id, idlen);
    if (plen == 0) {
        buf_append_str(b, "'/>");
        return;
    }
    buf_append_str(b, "'>");
    buf_append(b, payload, plen);
    buf_append_str(b, "</item>");
}

void pubsub_item_write(struct buf *b, const char *id, size_t idlen, const char *payload,
                       size_t plen)
{
    write_item(b, NULL, id, idlen, payload, plen);
}

/* ---- fan-out after commit ---- */

struct published {
    struct pubsub_service *svc;
    char *node;
    struct pubsub_event ev;
};

static void published_cb(struct server *srv, void *ctx, enum herald_rc rc)
{
    struct published *p = ctx;
    struct pubsub_node *n;
    (void)srv;
    if (rc == HERALD_OK && pubsub_node_get(p->svc, p->node, &n) == HERALD_OK &&
        n->cfg.deliver_notifications)
        pubsub_notify_node(p->svc, n, &p->ev, PUBSUB_NOTIFY_ITEMS);
    pubsub_event_release(&p->ev);
    free(p->node);
    free(p);
}

/* The event for `items_inner` ("<item .../>" or "<retract .../>") on node n. */
static struct published *published_new(struct pubsub_service *svc, struct pubsub_node *n,
                                       const char *items_inner, size_t len)
{
    struct buf b;
    buf_init(&b, 0);
    buf_append_str(&b, "<event xmlns='" PUBSUB_NS_EVENT "'><items node='");
    buf_append_xml_attr_escaped(&b, n->name, strlen(n->name));
    buf_append_str(&b, "'>");
    buf_append(&b, items_inner, len);
    buf_append_str(&b, "</items></event>");
    struct published *p = calloc(1, sizeof(*p));
    if (b.err || p == NULL || (p->node = strdup(n->name)) == NULL ||
        pubsub_event_build(svc, n, b.data, b.len, &p->ev)) {
        if (p)
            free(p->node);
        free(p);
        buf_cleanup(&b);
        return NULL;
    }
    buf_cleanup(&b);
    p->svc = svc;
    return p;
}

/* ---- publish ---- */

static bool may_publish(struct pubsub_node *n, const char *bare)
{
    enum pubsub_aff aff = pubsub_node_aff(n, bare);
    if (aff == PUBSUB_AFF_OUTCAST)
        return false;
    if (aff >= PUBSUB_AFF_PUBLISH_ONLY)
        return true;
    switch (n->cfg.publish_model) {
    case PUBSUB_PUBLISH_OPEN:
        return true;
    case PUBSUB_PUBLISH_SUBSCRIBERS: {
        size_t blen = strlen(bare);
        for (size_t i = 0; i < n->nsubscribers; i++) {
            const struct pubsub_subscriber *s = n->subscribers[i];
            if (s->jid_len >= blen && memcmp(s->jid, bare, blen) == 0 &&
                (s->jid[blen] == '\0' || s->jid[blen] == '/'))
                for (uint32_t j = 0; j < s->nsubs; j++)
                    if (s->subs[j].state == PUBSUB_SUB_SUBSCRIBED)
                        return true;
        }
        return false;
    }
    case PUBSUB_PUBLISH_PUBLISHERS:
        return false;
    }
    return false;
}

struct oldest_ctx {
    char id[PUBSUB_ITEMID_MAX + 1];
    bool found;
};

static bool oldest_cb(void *arg, const struct pubsub_store_item *it)
{
    struct oldest_ctx *x = arg;
    size_t n = it->id_len < PUBSUB_ITEMID_MAX ? it->id_len : PUBSUB_ITEMID_MAX;
    memcpy(x->id, it->id, n);
    x->id[n] = '\0';
    x->found = true;
    return false;
}

/*
 * Write the item and evict beyond max_items, in one nested transaction. *count is the
 * node's item count afterwards.
 */
static enum herald_rc store_published(struct pubsub_service *svc, struct pubsub_node *n,
                                      const char *id, const char *publisher,
                                      const char *payload, size_t plen, uint64_t *count)
{
    struct store_txn *t;
    struct pubsub_store_item old;
    enum herald_rc rc = store_begin(svc->srv->store, &t);
    if (rc)
        return rc;
    uint64_t c = n->nitems;
    rc = pubsub_store_item_get(t, svc->jid, n->name, id, &old);
    if (rc == HERALD_OK) {
        /* Re-publication replaces the item and makes it the newest (§13.1). */
        rc = pubsub_store_item_del(t, svc->jid, n->name, id);
    } else if (rc == HERALD_ENOTFOUND) {
        c++;
        rc = HERALD_OK;
    }
    if (rc == HERALD_OK)
        rc = pubsub_store_item_put(t, svc->jid, n->name, n->next_seq, id, publisher,
                                   herald_wall_us(), payload, plen);
    while (rc == HERALD_OK && c > n->cfg.max_items) {
        struct oldest_ctx o = {.found = false};
        rc = pubsub_store_items_each(t, svc->jid, n->name, false, 0, oldest_cb, &o);
        if (rc || !o.found)
            break;
        if ((rc = pubsub_store_item_del(t, svc->jid, n->name, o.id)) == HERALD_OK)
            c--;
    }
    if (rc) {
        store_abort(&t);
        return rc;
    }
    if ((rc = store_commit(&t)))
        return rc;
    *count = c;
    return HERALD_OK;
}

/*
 * §7.1.5 rule 3: a node auto-created by a publish takes the preconditions as its
 * configuration. They are node_config fields under another FORM_TYPE: re-label a copy
 * of the form and apply it as a configuration.
 */
static enum herald_rc apply_preconditions(struct pubsub_config *cfg, const struct xml_node *x,
                                          const struct pubsub_limits *lim, struct arena *a,
                                          struct xmpp_error *err)
{
    struct xml_node *copy = xml_copy(a, x);
    if (copy == NULL) {
        *err = xmpp_error_of("internal-server-error");
        return HERALD_ENOMEM;
    }
    for (struct xml_node *f = xml_child(copy, NS_XDATA, "field"); f;
         f = xml_next(f, NS_XDATA, "field")) {
        const char *var = xml_attr(f, "var");
        struct xml_node *v = xml_child(f, NS_XDATA, "value");
        if (var && strcmp(var, "FORM_TYPE") == 0 && v) {
            if (strcmp(xml_text(v), PUBSUB_NS_PUB_OPTIONS) != 0) {
                *err = xmpp_error_of("bad-request");
                err->text = "publish-options need the FORM_TYPE " PUBSUB_NS_PUB_OPTIONS;
                return HERALD_EINVAL;
            }
            xml_remove(v);
            struct xml_node *nv = xml_add_child(a, f, NS_XDATA, "value");
            if (nv == NULL ||
                xml_add_text(a, nv, PUBSUB_NS_NODE_CONFIG, strlen(PUBSUB_NS_NODE_CONFIG))) {
                *err = xmpp_error_of("internal-server-error");
                return HERALD_ENOMEM;
            }
        }
    }
    if (xml_set_attr(a, copy, "type", "submit")) {
        *err = xmpp_error_of("internal-server-error");
        return HERALD_ENOMEM;
    }
    return pubsub_config_apply_form(cfg, copy, lim, a, err);
}

/* Auto-create for a publish to a missing node (§7.1.4), the publish-options becoming
 * the configuration (§7.1.5 rule 3). */
static struct pubsub_node *auto_create(struct pubsub_req *r, const char *name,
                                       struct xml_node *pubopts)
{
    struct pubsub_service *svc = r->svc;
    struct pubsub_node *n = NULL;
    if (!pubsub_may_create(svc, r->from_bare)) {
        pubsub_reply_error(r, "item-not-found", NULL);
        return NULL;
    }
    if (strlen(name) > PUBSUB_NODE_MAX) {
        pubsub_reply_error(r, "not-acceptable", NULL);
        return NULL;
    }
    struct pubsub_config cfg;
    pubsub_config_defaults(&svc->reg->lim, svc->pep, &cfg);
    if (pubopts) {
        struct xmpp_error err;
        if (apply_preconditions(&cfg, pubopts, &svc->reg->lim, r->a, &err)) {
            pubsub_config_cleanup(&cfg);
            pubsub_reply_xerr(r, &err);
            return NULL;
        }
    }
    enum herald_rc rc = pubsub_node_create(svc, name, &cfg, r->from_bare, &n);
    pubsub_config_cleanup(&cfg);
    if (rc) {
        pubsub_reply_error(r, "internal-server-error", NULL);
        return NULL;
    }
    return n;
}

void pubsub_handle_publish(struct pubsub_req *r)
{
    struct pubsub_service *svc = r->svc;
    struct arena *a = r->a;
    const char *name = xml_attr(r->op, "node");
    if (name == NULL || *name == '\0') {
        pubsub_reply_error(r, "bad-request", "nodeid-required");
        return;
    }
    struct xml_node *item = xml_child(r->op, PUBSUB_NS, "item");
    if (xml_count_elems(r->op) > 1 || (xml_first_elem(r->op) && item == NULL)) {
        struct xmpp_error e = xmpp_error_app("bad-request", PUBSUB_NS_ERRORS, "invalid-payload");
        e.text = "one <item/> at most (batch publishing was removed in XEP-0060 1.13)";
        pubsub_reply_xerr(r, &e);
        return;
    }
    struct xml_node *payload = item ? xml_first_elem(item) : NULL;
    if (item && xml_count_elems(item) > 1) {
        pubsub_reply_error(r, "bad-request", "invalid-payload");
        return;
    }
    struct xml_node *po = xml_child(r->ps, PUBSUB_NS, "publish-options");
    struct xml_node *pox = po ? xml_child(po, NS_XDATA, "x") : NULL;
    struct pubsub_node *n;
    enum herald_rc rc = pubsub_node_get(svc, name, &n);
    bool created = false;
    if (rc == HERALD_ENOTFOUND) {
        if ((n = auto_create(r, name, pox)) == NULL)
            return;
        created = true;
    } else if (rc) {
        pubsub_reply_error(r, "internal-server-error", NULL);
        return;
    }
    if (!may_publish(n, r->from_bare)) {
        pubsub_reply_error(r, "forbidden", NULL);
        return;
    }
    const struct pubsub_config *cfg = &n->cfg;
    /* §7.1.3.6: the item rules of the node's event type. */
    if (cfg->persist_items && item == NULL) {
        pubsub_reply_error(r, "bad-request", "item-required");
        return;
    }
    if (!cfg->persist_items && !cfg->deliver_payloads && item) {
        pubsub_reply_error(r, "bad-request", "item-forbidden");
        return;
    }
    if (cfg->deliver_payloads && payload == NULL) {
        /* Persistent nodes without an item were refused above; a transient payload node
         * needs one too (§4.3 table). */
        pubsub_reply_error(r, "bad-request", "payload-required");
        return;
    }
    if (payload && cfg->type && (payload->ns == NULL || strcmp(payload->ns, cfg->type) != 0)) {
        pubsub_reply_error(r, "bad-request", "invalid-payload");
        return;
    }
    if (pox && !created) {
        struct xmpp_error err;
        if (pubsub_config_check_preconditions(cfg, pox, &svc->reg->lim, a, &err)) {
            pubsub_reply_xerr(r, &err);
            return;
        }
    }
    /* The payload, serialised once: stored as is and shared by every notification. */
    struct buf pl;
    buf_init(&pl, (size_t)cfg->max_payload_size);
    if (payload && xml_write(&pl, payload, NULL)) {
        bool big = pl.err == HERALD_ELIMIT;
        buf_cleanup(&pl);
        if (big)
            pubsub_reply_error(r, "not-acceptable", "payload-too-big");
        else
            pubsub_reply_error(r, "internal-server-error", NULL);
        return;
    }
    const char *id = item ? xml_attr(item, "id") : NULL;
    char genid[2 * 16 + 1];
    if (id && (*id == '\0' || strlen(id) > PUBSUB_ITEMID_MAX)) {
        buf_cleanup(&pl);
        struct xmpp_error e = xmpp_error_of("not-acceptable");
        e.text = "the ItemID is empty or too long";
        pubsub_reply_xerr(r, &e);
        return;
    }
    if (id == NULL) {
        if (pubsub_random_hex(genid, 16)) {
            buf_cleanup(&pl);
            pubsub_reply_error(r, "internal-server-error", NULL);
            return;
        }
        id = genid;
    }
    if (cfg->persist_items) {
        uint64_t count;
        if (cfg->publish_node_full == PUBSUB_FULL_REJECT && n->nitems >= cfg->max_items) {
            struct store_txn *t;
            struct pubsub_store_item old;
            if (store_read(svc->srv->store, &t) ||
                pubsub_store_item_get(t, svc->jid, n->name, id, &old) != HERALD_OK) {
                buf_cleanup(&pl);
                pubsub_reply_error(r, "conflict", "node-full");
                return;
            }
        }
        rc = store_published(svc, n, id, r->st->from_str, pl.data, pl.len, &count);
        if (rc) {
            buf_cleanup(&pl);
            log_error("pubsub publish to %s: %s", n->name, herald_rc_str(rc));
            pubsub_reply_error(r, rc == HERALD_ELIMIT ? "resource-constraint"
                                                      : "internal-server-error",
                               NULL);
            return;
        }
        n->next_seq++;
        n->nitems = count;
    }
    /* The notification, serialised now while the payload is at hand. */
    struct published *p = NULL;
    if (cfg->deliver_notifications && n->nsubscribers) {
        struct buf ib;
        buf_init(&ib, 0);
        if (item)
            write_item(&ib, NULL, id, strlen(id), cfg->deliver_payloads ? pl.data : NULL,
                       cfg->deliver_payloads ? pl.len : 0);
        p = ib.err ? NULL : published_new(svc, n, ib.data ? ib.data : "", ib.len);
        buf_cleanup(&ib);
        if (p == NULL)
            log_error("pubsub: out of memory building a notification for %s", n->name);
    }
    buf_cleanup(&pl);
    struct xml_node *ps = xml_elem_new(a, PUBSUB_NS, "pubsub");
    struct xml_node *pub = ps ? xml_add_child(a, ps, PUBSUB_NS, "publish") : NULL;
    struct xml_node *it = pub && item ? xml_add_child(a, pub, PUBSUB_NS, "item") : NULL;
    if (pub == NULL || xml_set_attr(a, pub, "node", n->name) || (item && it == NULL) ||
        (it && xml_set_attr(a, it, "id", id)) ||
        pubsub_reply_after_commit(r, ps, p ? published_cb : NULL, p)) {
        if (p)
            published_cb(r->srv, p, HERALD_ENOMEM);
        pubsub_reply_error(r, "internal-server-error", NULL);
    }
}

/* ---- retract ---- */

/* Did `bare` publish this item (its stored publisher is that bare JID or one of its full
 * JIDs)? */
static bool published_by(const struct pubsub_store_item *it, const char *bare)
{
    size_t blen = strlen(bare);
    return it->publisher_len >= blen && memcmp(it->publisher, bare, blen) == 0 &&
           (it->publisher_len == blen || it->publisher[blen] == '/');
}

void pubsub_handle_retract(struct pubsub_req *r)
{
    struct pubsub_service *svc = r->svc;
    const char *name = xml_attr(r->op, "node");
    struct xml_node *item = xml_child(r->op, PUBSUB_NS, "item");
    const char *id = item ? xml_attr(item, "id") : NULL;
    if (name == NULL) {
        pubsub_reply_error(r, "bad-request", "nodeid-required");
        return;
    }
    if (id == NULL || *id == '\0') {
        pubsub_reply_error(r, "bad-request", "item-required");
        return;
    }
    if (xml_count_elems(r->op) > 1) {
        struct xmpp_error e = xmpp_error_of("bad-request");
        e.text = "one <item/> per retraction (§7.2.1)";
        pubsub_reply_xerr(r, &e);
        return;
    }
    struct pubsub_node *n;
    enum herald_rc rc = pubsub_node_get(svc, name, &n);
    if (rc == HERALD_ENOTFOUND) {
        pubsub_reply_error(r, "item-not-found", NULL);
        return;
    }
    if (rc) {
        pubsub_reply_error(r, "internal-server-error", NULL);
        return;
    }
    if (!n->cfg.persist_items) {
        pubsub_reply_unsupported(r, "persistent-items");
        return;
    }
    /* §4.1: owners and publishers delete any item (the note's MAY); publish-only entities
     * and those the publish model lets publish delete only what they published. */
    enum pubsub_aff aff = pubsub_node_aff(n, r->from_bare);
    bool any = aff == PUBSUB_AFF_OWNER || aff == PUBSUB_AFF_PUBLISHER;
    bool own = !any && (aff == PUBSUB_AFF_PUBLISH_ONLY || may_publish(n, r->from_bare));
    if (!any && !own) {
        pubsub_reply_error(r, "forbidden", NULL);
        return;
    }
    struct store_txn *t;
    struct pubsub_store_item old;
    if ((rc = store_begin(svc->srv->store, &t))) {
        pubsub_reply_error(r, "internal-server-error", NULL);
        return;
    }
    rc = pubsub_store_item_get(t, svc->jid, n->name, id, &old);
    if (rc == HERALD_ENOTFOUND) {
        store_abort(&t);
        pubsub_reply_error(r, "item-not-found", NULL);
        return;
    }
    if (rc == HERALD_OK && own && !published_by(&old, r->from_bare)) {
        store_abort(&t);
        pubsub_reply_error(r, "forbidden", NULL);
        return;
    }
    if (rc || (rc = pubsub_store_item_del(t, svc->jid, n->name, id))) {
        store_abort(&t);
        pubsub_reply_error(r, "internal-server-error", NULL);
        return;
    }
    if ((rc = store_commit(&t))) {
        pubsub_reply_error(r, "internal-server-error", NULL);
        return;
    }
    if (n->nitems)
        n->nitems--;
    /* §7.2.2.1: notify when the node says so, or when the publisher asks (notify). */
    const char *notify = xml_attr(r->op, "notify");
    bool want = n->cfg.notify_retract ||
                (notify && (strcmp(notify, "true") == 0 || strcmp(notify, "1") == 0));
    struct published *p = NULL;
    if (want && n->cfg.deliver_notifications && n->nsubscribers) {
        struct buf b;
        buf_init(&b, 0);
        buf_append_str(&b, "<retract id='");
        buf_append_xml_attr_escaped(&b, id, strlen(id));
        buf_append_str(&b, "'/>");
        p = b.err ? NULL : published_new(svc, n, b.data, b.len);
        buf_cleanup(&b);
    }
    if (pubsub_reply_after_commit(r, NULL, p ? published_cb : NULL, p)) {
        if (p)
            published_cb(r->srv, p, HERALD_ENOMEM);
        pubsub_reply_error(r, "internal-server-error", NULL);
    }
}
