/*
 * pubsub_items.c - publish (§7.1) and retract (§7.2). Retrieval is in pubsub_retrieve.c.
 *
 * A publish is acknowledged only after the turn's commit, and only then fanned out:
 * nobody hears of an item a crash could take back. Everything a publish writes goes into
 * one nested transaction: the node when the publish creates it (§7.1.4), the item, and the
 * removal of the oldest items beyond max_items (§7.1.2.4); so a publish that fails leaves
 * no trace, not even the node it would have created.
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

/* ---- publish ---- */

static bool may_publish(struct pubsub_service *svc, const struct pubsub_node *n, const char *bare)
{
    enum pubsub_aff aff = pubsub_node_aff(n, bare);
    if (aff == PUBSUB_AFF_OUTCAST)
        return false;
    if (aff >= PUBSUB_AFF_PUBLISH_ONLY)
        return true;
    switch (n->cfg.publish_model) {
    case PUBSUB_PUBLISH_OPEN:
        return true;
    case PUBSUB_PUBLISH_SUBSCRIBERS:
        return pubsub_bare_subscribed(svc, n, bare);
    case PUBSUB_PUBLISH_PUBLISHERS:
        return false;
    }
    return false;
}

/* The writes of one publish, inside the request's nested transaction (a pubsub_write_fn). */
struct item_write {
    struct pubsub_service *svc;
    const char *node;
    const struct pubsub_config *cfg;
    uint64_t seq;    /* of the new item */
    uint64_t nitems; /* the node's items: before, then after */
    const char *id, *publisher, *payload;
    size_t plen;
    struct pubsub_names evicted; /* ItemIDs removed beyond max_items, for retract-oldest */
    bool oom;
};

/* The oldest item's ItemID: it goes, and is retracted when the node says so (§7.1.2.4). */
static bool oldest_cb(void *arg, const struct pubsub_store_item *it)
{
    struct item_write *w = arg;
    w->oom = !pubsub_names_add(&w->evicted, it->id, it->id_len);
    return false;
}

static enum herald_rc item_write_cb(struct store_txn *t, void *arg)
{
    struct item_write *w = arg;
    const char *svc = w->svc->jid;
    struct pubsub_store_item old;
    enum herald_rc rc = pubsub_store_item_get(t, svc, w->node, w->id, &old);
    if (rc == HERALD_OK) {
        /* Re-publication replaces the item and makes it the newest (§13.1). */
        rc = pubsub_store_item_del(t, svc, w->node, w->id);
    } else if (rc == HERALD_ENOTFOUND) {
        w->nitems++;
        rc = HERALD_OK;
    }
    if (rc == HERALD_OK)
        rc = pubsub_store_item_put(t, svc, w->node, w->seq, w->id, w->publisher, herald_wall_us(),
                                   w->payload, w->plen);
    while (rc == HERALD_OK && w->nitems > w->cfg->max_items) {
        size_t before = w->evicted.n;
        rc = pubsub_store_items_each(t, svc, w->node, false, 0, oldest_cb, w);
        if (rc == HERALD_OK && w->oom)
            rc = HERALD_ENOMEM;
        if (rc || w->evicted.n == before)
            break;
        rc = pubsub_store_item_del(t, svc, w->node, w->evicted.v[w->evicted.n - 1]);
        if (rc == HERALD_OK)
            w->nitems--;
    }
    return rc;
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

/* The configuration of the node a publish to a missing node creates (§7.1.4), the
 * publish-options becoming the configuration (§7.1.5 rule 3). Nothing is written yet: the
 * node is created with the item. False after replying with the error. */
static bool auto_create_config(struct pubsub_req *r, const char *name, struct xml_node *pubopts,
                               struct pubsub_config *cfg)
{
    struct pubsub_service *svc = r->svc;
    if (!pubsub_may_create(svc, r->from_bare)) {
        pubsub_reply_error(r, "item-not-found", NULL);
        return false;
    }
    if (!pubsub_creation_ok(r, name))
        return false;
    pubsub_config_defaults(&svc->reg->lim, svc->pep, cfg);
    struct xmpp_error err;
    if (pubopts && apply_preconditions(cfg, pubopts, &svc->reg->lim, r->a, &err)) {
        pubsub_config_cleanup(cfg);
        pubsub_reply_xerr(r, &err);
        return false;
    }
    return true;
}

/* What one publish carries, once checked against the node's configuration. */
struct publication {
    struct xml_node *item;
    struct xml_node *payload;
    const char *id;
    char genid[2 * 16 + 1];
    struct buf pl; /* the payload, serialised once: stored as is, shared by notifications */
};

/*
 * §7.1.3: the checks of the item against the configuration cfg of node n (NULL: the node
 * the publish creates, configured by its preconditions). False after replying with the
 * error (p->pl is then clean).
 */
static bool publication_check(struct pubsub_req *r, const struct pubsub_node *n,
                              const struct pubsub_config *cfg, struct xml_node *pox,
                              struct publication *p)
{
    struct pubsub_service *svc = r->svc;
    const char *name = xml_attr(r->op, "node");
    buf_init(&p->pl, (size_t)cfg->max_payload_size);
    /* §7.1.3.6: the item rules of the node's event type. */
    if (cfg->persist_items && p->item == NULL) {
        pubsub_reply_error(r, "bad-request", "item-required");
        return false;
    }
    if (!cfg->persist_items && !cfg->deliver_payloads && p->item) {
        pubsub_reply_error(r, "bad-request", "item-forbidden");
        return false;
    }
    if (cfg->deliver_payloads && p->payload == NULL) {
        /* Persistent nodes without an item were refused above; a transient payload node
         * needs one too (§4.3 table). */
        pubsub_reply_error(r, "bad-request", "payload-required");
        return false;
    }
    if (p->payload && cfg->type &&
        (p->payload->ns == NULL || strcmp(p->payload->ns, cfg->type) != 0)) {
        pubsub_reply_error(r, "bad-request", "invalid-payload");
        return false;
    }
    if (pox && n) {
        struct xmpp_error err;
        if (pubsub_config_check_preconditions(cfg, pox, &svc->reg->lim, r->a, &err)) {
            pubsub_reply_xerr(r, &err);
            return false;
        }
    }
    if (p->payload && xml_write(&p->pl, p->payload, NULL)) {
        bool big = p->pl.err == HERALD_ELIMIT;
        buf_cleanup(&p->pl);
        if (big)
            pubsub_reply_error(r, "not-acceptable", "payload-too-big");
        else
            pubsub_reply_error(r, "internal-server-error", NULL);
        return false;
    }
    p->id = p->item ? xml_attr(p->item, "id") : NULL;
    if (p->id == NULL) {
        if (pubsub_random_hex(p->genid, 16)) {
            buf_cleanup(&p->pl);
            pubsub_reply_error(r, "internal-server-error", NULL);
            return false;
        }
        p->id = p->genid;
    }
    if (*p->id == '\0' || strlen(p->id) > PUBSUB_ITEMID_MAX ||
        !pubsub_key_fits(svc, name, p->id, false)) {
        buf_cleanup(&p->pl);
        pubsub_reply_text(r, "not-acceptable", "the ItemID is empty or too long");
        return false;
    }
    if (n && cfg->persist_items && cfg->publish_node_full == PUBSUB_FULL_REJECT &&
        n->nitems >= cfg->max_items) {
        /* §7.1.3.4, unless the item replaces one (§7.1.2: that is no new item). */
        struct store_txn *t;
        struct pubsub_store_item old;
        if (store_read(svc->srv->store, &t) ||
            pubsub_store_item_get(t, svc->jid, n->name, p->id, &old) != HERALD_OK) {
            buf_cleanup(&p->pl);
            pubsub_reply_error(r, "conflict", "node-full");
            return false;
        }
    }
    return true;
}

/*
 * Store the publication: the node too when *np is NULL (then with newcfg), the item when the
 * node persists items. Memory follows; *np is the node afterwards.
 */
static enum herald_rc publication_store(struct pubsub_req *r, struct pubsub_node **np,
                                        const struct pubsub_config *newcfg,
                                        const struct publication *p)
{
    struct pubsub_service *svc = r->svc;
    struct pubsub_node *n = *np;
    const char *name = xml_attr(r->op, "node");
    const struct pubsub_config *cfg = n ? &n->cfg : newcfg;
    struct item_write w = {.svc = svc,
                           .node = name,
                           .cfg = cfg,
                           .seq = n ? n->next_seq : 1,
                           .nitems = n ? n->nitems : 0,
                           .id = p->id,
                           .publisher = r->st->from_str,
                           .payload = p->pl.data,
                           .plen = p->pl.len};
    bool persist = cfg->persist_items;
    enum herald_rc rc = HERALD_OK;
    if (n == NULL) {
        rc = pubsub_node_create(svc, name, newcfg, r->from_bare, persist ? item_write_cb : NULL, &w,
                                &n);
        if (rc == HERALD_OK && n == NULL && (rc = pubsub_node_get(svc, name, &n)))
            log_error("pubsub: node %s was created but cannot be loaded: %s", name,
                      herald_rc_str(rc));
    } else if (persist) {
        struct store_txn *t;
        if ((rc = pubsub_txn_begin(svc, &t)) == HERALD_OK)
            rc = pubsub_txn_end(&t, item_write_cb(t, &w));
    }
    if (rc == HERALD_OK && persist) {
        n->next_seq = w.seq + 1;
        n->nitems = w.nitems;
        /* "retract-oldest" tells subscribers (when the node notifies retractions);
         * "discard-oldest" drops silently (§7.1.2.4). */
        if (cfg->publish_node_full == PUBSUB_FULL_RETRACT_OLDEST)
            pubsub_retractions_queue(svc, n, &w.evicted);
    }
    pubsub_names_free(&w.evicted);
    *np = n;
    return rc;
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
    if (item && xml_count_elems(item) > 1) {
        pubsub_reply_error(r, "bad-request", "invalid-payload");
        return;
    }
    struct xml_node *po = xml_child(r->ps, PUBSUB_NS, "publish-options");
    struct xml_node *pox = po ? xml_child(po, NS_XDATA, "x") : NULL;
    if (po && pox == NULL) {
        pubsub_reply_text(r, "bad-request", "<publish-options/> must carry a data form (§7.1.5)");
        return;
    }
    struct pubsub_node *n = NULL;
    struct pubsub_config newcfg = {0}; /* of the node this publish creates, while n is NULL */
    enum herald_rc rc = pubsub_node_get(svc, name, &n);
    if (rc == HERALD_ENOTFOUND) {
        n = NULL;
        if (!auto_create_config(r, name, pox, &newcfg))
            return;
    } else if (rc) {
        pubsub_reply_error(r, "internal-server-error", NULL);
        return;
    } else if (!may_publish(svc, n, r->from_bare)) {
        pubsub_reply_error(r, "forbidden", NULL);
        return;
    }
    struct publication entry = {.item = item, .payload = item ? xml_first_elem(item) : NULL};
    bool creating = n == NULL;
    if (!publication_check(r, n, creating ? &newcfg : &n->cfg, pox, &entry)) {
        if (creating)
            pubsub_config_cleanup(&newcfg);
        return;
    }
    rc = publication_store(r, &n, &newcfg, &entry);
    if (creating)
        pubsub_config_cleanup(&newcfg);
    if (rc) {
        buf_cleanup(&entry.pl);
        log_error("pubsub publish to %s: %s", name, herald_rc_str(rc));
        pubsub_reply_error(r, rc == HERALD_ELIMIT ? "resource-constraint" : "internal-server-error",
                           NULL);
        return;
    }
    const struct pubsub_config *cfg = &n->cfg;
    const char *id = entry.id;
    struct buf pl = entry.pl;
    /* The notification, serialised now while the payload is at hand: once, for every
     * subscriber (pubsub_notify.c shares it by reference). */
    struct pubsub_deferred_event *p = NULL;
    if (cfg->deliver_notifications && n->nsubscribers) {
        struct buf ev;
        buf_init(&ev, 0);
        pubsub_items_event_open(&ev, n->name);
        if (item)
            write_item(&ev, NULL, id, strlen(id), cfg->deliver_payloads ? pl.data : NULL,
                       cfg->deliver_payloads ? pl.len : 0);
        pubsub_items_event_close(&ev);
        if (ev.err)
            log_warn("pubsub %s: out of memory, an item notification is dropped", n->name);
        else
            p = pubsub_deferred_event_new(svc, n, ev.data, ev.len, PUBSUB_NOTIFY_ITEMS);
        buf_cleanup(&ev);
    }
    buf_cleanup(&pl);
    struct xml_node *ps = xml_elem_new(a, PUBSUB_NS, "pubsub");
    struct xml_node *pub = ps ? xml_add_child(a, ps, PUBSUB_NS, "publish") : NULL;
    struct xml_node *it = pub && item ? xml_add_child(a, pub, PUBSUB_NS, "item") : NULL;
    if (pub == NULL || xml_set_attr(a, pub, "node", n->name) || (item && it == NULL) ||
        (it && xml_set_attr(a, it, "id", id)) ||
        pubsub_reply_after_commit(r, ps, p ? pubsub_deferred_event_cb : NULL, p)) {
        /* The item is stored and will commit; only the answer could not be queued. Its
         * subscribers still hear of it (after the commit). */
        log_error("pubsub %s: out of memory queuing a publish acknowledgement", n->name);
        if (p && !pubsub_deferred_event_queue(p))
            pubsub_deferred_event_cb(r->srv, p, HERALD_ENOMEM);
    }
}

/* ---- retract ---- */

/* Did `bare` publish this item (its stored publisher is that bare JID or one of its full
 * JIDs)? */
static bool published_by(const struct pubsub_store_item *it, const char *bare)
{
    return pubsub_jid_of_bare(it->publisher, it->publisher_len, bare, strlen(bare));
}

/* The deletion of item `id` in the request's transaction, with §7.2.3's errors. */
static enum herald_rc retract_store(struct pubsub_req *r, const struct pubsub_node *n,
                                    const char *id, bool own)
{
    struct store_txn *t;
    struct pubsub_store_item old;
    enum herald_rc rc = pubsub_txn_begin(r->svc, &t);
    if (rc) {
        pubsub_reply_error(r, "internal-server-error", NULL);
        return rc;
    }
    bool foreign = false;
    rc = pubsub_store_item_get(t, r->svc->jid, n->name, id, &old);
    if (rc == HERALD_OK && own && !published_by(&old, r->from_bare)) {
        foreign = true;
        rc = HERALD_EINVAL;
    }
    if (rc == HERALD_OK)
        rc = pubsub_store_item_del(t, r->svc->jid, n->name, id);
    rc = pubsub_txn_end(&t, rc);
    if (foreign)
        pubsub_reply_error(r, "forbidden", NULL); /* §7.2.3.1: not this publisher's item */
    else if (rc == HERALD_ENOTFOUND)
        pubsub_reply_error(r, "item-not-found", NULL);
    else if (rc)
        pubsub_reply_error(r, "internal-server-error", NULL);
    return rc;
}

void pubsub_handle_retract(struct pubsub_req *r)
{
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
        pubsub_reply_text(r, "bad-request", "one <item/> per retraction (§7.2.1)");
        return;
    }
    struct pubsub_node *n = pubsub_req_node(r, name);
    if (n == NULL)
        return;
    if (!n->cfg.persist_items) {
        pubsub_reply_unsupported(r, "persistent-items");
        return;
    }
    /* §4.1: owners and publishers delete any item (the note's MAY); publish-only entities
     * and those the publish model lets publish delete only what they published. */
    enum pubsub_aff aff = pubsub_node_aff(n, r->from_bare);
    bool any = aff == PUBSUB_AFF_OWNER || aff == PUBSUB_AFF_PUBLISHER;
    bool own = !any && (aff == PUBSUB_AFF_PUBLISH_ONLY || may_publish(r->svc, n, r->from_bare));
    if (!any && !own) {
        pubsub_reply_error(r, "forbidden", NULL);
        return;
    }
    if (retract_store(r, n, id, own))
        return;
    if (n->nitems)
        n->nitems--;
    /* §7.2.2.1: notify when the node says so, or when the publisher asks (notify). */
    const char *notify = xml_attr(r->op, "notify");
    bool want = n->cfg.notify_retract ||
                (notify && (strcmp(notify, "true") == 0 || strcmp(notify, "1") == 0));
    struct pubsub_deferred_event *e = NULL;
    if (want && n->cfg.deliver_notifications && n->nsubscribers) {
        struct buf b;
        buf_init(&b, 0);
        pubsub_items_event_open(&b, n->name);
        pubsub_retract_write(&b, id, strlen(id));
        pubsub_items_event_close(&b);
        if (!b.err)
            e = pubsub_deferred_event_new(r->svc, n, b.data, b.len, PUBSUB_NOTIFY_ITEMS);
        buf_cleanup(&b);
    }
    if (pubsub_reply_after_commit(r, NULL, e ? pubsub_deferred_event_cb : NULL, e)) {
        pubsub_deferred_event_cb(r->srv, e, HERALD_ENOMEM);
        pubsub_reply_error(r, "internal-server-error", NULL);
    }
}
