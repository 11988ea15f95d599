/*
 * pubsub_node.c - nodes: the in-memory cache, creation (§8.1), configuration (§8.2,
 * §8.3), deletion (§8.4) and purge (§8.5).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "herald/log.h"
#include "herald/pubsub_store.h"
#include "herald/store.h"
#include "herald/users.h"
#include "pubsub_int.h"

/* ---- the cache ---- */

void pubsub_node_free(struct pubsub_node *n)
{
    if (n == NULL)
        return;
    for (size_t i = 0; i < n->nsubscribers; i++) {
        struct pubsub_subscriber *s = n->subscribers[i];
        herald_free(HERALD_MEM_PUBSUB, s->jid);
        refbuf_unref(&s->to_prefix);
        herald_free(HERALD_MEM_PUBSUB, s->subs);
        herald_free(HERALD_MEM_PUBSUB, s);
    }
    herald_free(HERALD_MEM_PUBSUB, n->subscribers);
    hmap_cleanup(&n->by_jid);
    size_t pos = 0;
    void *v;
    while (hmap_iter(&n->affs, &pos, NULL, NULL, &v)) {
        struct pubsub_affentry *e = v;
        herald_free(HERALD_MEM_PUBSUB, e->jid);
        herald_free(HERALD_MEM_PUBSUB, e);
    }
    hmap_cleanup(&n->affs);
    pubsub_config_cleanup(&n->cfg);
    herald_free(HERALD_MEM_PUBSUB, n->name);
    herald_free(HERALD_MEM_PUBSUB, n->creator);
    herald_free(HERALD_MEM_PUBSUB, n);
}

void pubsub_node_evict(struct pubsub_service *svc, struct pubsub_node *n)
{
    hmap_del(&svc->nodes, n->name, strlen(n->name));
    pubsub_node_free(n);
}

static struct pubsub_node *node_alloc(struct pubsub_service *svc, const char *name)
{
    struct pubsub_node *n = herald_calloc(HERALD_MEM_PUBSUB, 1, sizeof(*n));
    if (n == NULL)
        return NULL;
    n->svc = svc;
    n->name = herald_strdup(HERALD_MEM_PUBSUB, name);
    if (n->name == NULL) {
        herald_free(HERALD_MEM_PUBSUB, n);
        return NULL;
    }
    hmap_init(&n->by_jid, HERALD_MEM_PUBSUB);
    hmap_init(&n->affs, HERALD_MEM_PUBSUB);
    n->next_seq = 1;
    return n;
}

enum pubsub_aff pubsub_node_aff(const struct pubsub_node *n, const char *bare)
{
    struct pubsub_affentry *e = hmap_get(&n->affs, bare, strlen(bare));
    return e ? e->aff : PUBSUB_AFF_NONE;
}

const struct pubsub_affentry *pubsub_node_next_owner(const struct pubsub_node *n, size_t *pos)
{
    void *v;
    while (hmap_iter(&n->affs, pos, NULL, NULL, &v)) {
        const struct pubsub_affentry *e = v;
        if (e->aff == PUBSUB_AFF_OWNER)
            return e;
    }
    return NULL;
}

enum herald_rc pubsub_node_set_aff(struct pubsub_node *n, const char *bare, enum pubsub_aff aff)
{
    struct pubsub_affentry *e = hmap_get(&n->affs, bare, strlen(bare));
    if (aff == PUBSUB_AFF_NONE) {
        if (e) {
            hmap_del(&n->affs, e->jid, strlen(e->jid));
            herald_free(HERALD_MEM_PUBSUB, e->jid);
            herald_free(HERALD_MEM_PUBSUB, e);
        }
        return HERALD_OK;
    }
    if (e) {
        e->aff = aff;
        return HERALD_OK;
    }
    e = herald_calloc(HERALD_MEM_PUBSUB, 1, sizeof(*e));
    if (e == NULL || (e->jid = herald_strdup(HERALD_MEM_PUBSUB, bare)) == NULL) {
        herald_free(HERALD_MEM_PUBSUB, e);
        return HERALD_ENOMEM;
    }
    e->aff = aff;
    if (hmap_put(&n->affs, e->jid, strlen(e->jid), e, NULL)) {
        herald_free(HERALD_MEM_PUBSUB, e->jid);
        herald_free(HERALD_MEM_PUBSUB, e);
        return HERALD_ENOMEM;
    }
    return HERALD_OK;
}

struct load_ctx {
    struct pubsub_node *n;
    enum herald_rc rc;
};

static bool load_sub_cb(void *arg, const char *jid, const char *subid, uint8_t state,
                        const struct pubsub_subopts *opts)
{
    struct load_ctx *x = arg;
    struct pubsub_sub sub = {.state = state, .opts = *opts};
    if (strlen(subid) > PUBSUB_SUBID_LEN || state > PUBSUB_SUB_SUBSCRIBED) {
        x->rc = HERALD_EPROTO;
        return false;
    }
    strcpy(sub.subid, subid);
    x->rc = pubsub_node_add_sub(x->n, jid, &sub);
    return x->rc == HERALD_OK;
}

static bool load_aff_cb(void *arg, const char *jid, uint8_t aff)
{
    struct load_ctx *x = arg;
    if (aff > PUBSUB_AFF_OWNER) {
        x->rc = HERALD_EPROTO;
        return false;
    }
    x->rc = pubsub_node_set_aff(x->n, jid, (enum pubsub_aff)aff);
    return x->rc == HERALD_OK;
}

static enum herald_rc node_load(struct pubsub_service *svc, const char *name,
                                struct pubsub_node **out)
{
    struct store_txn *t;
    enum herald_rc rc = store_read(svc->srv->store, &t);
    if (rc)
        return rc;
    struct pubsub_node *n = node_alloc(svc, name);
    if (n == NULL)
        return HERALD_ENOMEM;
    rc = pubsub_store_node_get(t, svc->jid, name, &n->cfg, &n->created_us, &n->creator);
    if (rc) {
        memset(&n->cfg, 0, sizeof(n->cfg));
        pubsub_node_free(n);
        return rc;
    }
    if (n->cfg.max_items_is_max)
        n->cfg.max_items = svc->reg->lim.max_items_limit;
    struct load_ctx x = {n, HERALD_OK};
    uint64_t last = 0;
    if ((rc = pubsub_store_subs_each(t, svc->jid, name, load_sub_cb, &x)) || (rc = x.rc) ||
        (rc = pubsub_store_affs_each(t, svc->jid, name, load_aff_cb, &x)) || (rc = x.rc) ||
        (rc = pubsub_store_items_stats(t, svc->jid, name, &n->nitems, &last)) ||
        (rc = hmap_put(&svc->nodes, n->name, strlen(n->name), n, NULL))) {
        log_error("pubsub: cannot load node %s/%s: %s", svc->jid, name, herald_rc_str(rc));
        pubsub_node_free(n);
        return rc;
    }
    n->next_seq = last + 1;
    *out = n;
    return HERALD_OK;
}

enum herald_rc pubsub_node_get(struct pubsub_service *svc, const char *name,
                               struct pubsub_node **out)
{
    struct pubsub_node *n = hmap_get(&svc->nodes, name, strlen(name));
    if (n) {
        *out = n;
        return HERALD_OK;
    }
    if (strlen(name) > PUBSUB_NODE_MAX || *name == '\0')
        return HERALD_ENOTFOUND;
    return node_load(svc, name, out);
}

/* ---- creation ---- */

bool pubsub_may_create(struct pubsub_service *svc, const char *bare)
{
    const struct herald_config *cfg = &svc->srv->cfg;
    if (config_is_admin(cfg, bare))
        return true;
    switch ((enum config_create)cfg->pubsub_create) {
    case CONFIG_CREATE_ADMINS:
        return false;
    case CONFIG_CREATE_LIST:
        for (size_t i = 0; i < cfg->pubsub_creators.n; i++)
            if (strcmp(cfg->pubsub_creators.items[i], bare) == 0)
                return true;
        return false;
    case CONFIG_CREATE_ANYONE:
        break;
    }
    /* "Any local account": a registered account of our domain (anonymous and remote
     * users may subscribe where allowed, but not create). */
    const char *at = strchr(bare, '@');
    if (at == NULL || strcmp(at + 1, cfg->domain) != 0)
        return false;
    struct store_txn *t;
    return store_read(svc->srv->store, &t) == HERALD_OK && users_exists(t, bare) == HERALD_OK;
}

/* Counted once (a walk of the service's node keys), then kept up to date by creations and
 * deletions, and counted again after a failed commit. */
enum herald_rc pubsub_node_count(struct pubsub_service *svc, uint64_t *out)
{
    if (svc->nnodes < 0) {
        uint64_t count;
        struct store_txn *t;
        enum herald_rc rc = store_read(svc->srv->store, &t);
        if (rc == HERALD_OK)
            rc = store_count_prefix(t, STORE_DB_NODES, svc->jid, strlen(svc->jid) + 1, &count);
        if (rc)
            return rc;
        svc->nnodes = (int64_t)count;
    }
    *out = (uint64_t)svc->nnodes;
    return HERALD_OK;
}

static bool nodes_full(struct pubsub_service *svc)
{
    uint64_t count;
    /* Unknown: refuse rather than pass the limit. */
    return pubsub_node_count(svc, &count) || count >= svc->srv->cfg.pubsub_max_nodes;
}

bool pubsub_creation_ok(struct pubsub_req *r, const char *name)
{
    /* Well-known disco nodes of the service (XEP-0131 §3.2, XEP-0050 §2.2): a pubsub node of
     * that name could not be discovered. */
    static const char *const reserved[] = {NS_SHIM, NS_COMMANDS, NODE_GET_PENDING};
    if (*name == '\0' || strlen(name) > PUBSUB_NODE_MAX) {
        pubsub_reply_text(r, "not-acceptable", "the NodeID is empty or too long");
        return false;
    }
    for (size_t i = 0; i < HERALD_ARRAY_LEN(reserved); i++) {
        if (strcmp(name, reserved[i]) == 0) {
            pubsub_reply_text(r, "conflict", "this NodeID is a well-known discovery node");
            return false;
        }
    }
    /* The owner's affiliation, and a subscription of its bare JID, must have store keys. */
    if (!pubsub_key_fits(r->svc, name, r->from_bare, true)) {
        pubsub_reply_text(r, "not-acceptable", "the NodeID and your JID are too long together");
        return false;
    }
    if (nodes_full(r->svc)) {
        pubsub_reply_text(r, "resource-constraint", "this service holds the most nodes it may");
        return false;
    }
    return true;
}

enum herald_rc pubsub_node_create(struct pubsub_service *svc, const char *name,
                                  const struct pubsub_config *cfg, const char *owner,
                                  pubsub_write_fn extra, void *arg, struct pubsub_node **out)
{
    struct store_txn *t;
    int64_t now = herald_wall_us();
    *out = NULL;
    enum herald_rc rc = pubsub_txn_begin(svc, &t);
    if (rc)
        return rc;
    rc = pubsub_store_node_put(t, svc->jid, name, cfg, now, owner);
    if (rc == HERALD_OK)
        rc = pubsub_store_aff_put(t, svc->jid, name, owner, PUBSUB_AFF_OWNER);
    if (rc == HERALD_OK && extra)
        rc = extra(t, arg);
    if ((rc = pubsub_txn_end(&t, rc)))
        return rc;
    if (svc->nnodes >= 0)
        svc->nnodes++;
    struct pubsub_node *n = node_alloc(svc, name);
    if (n == NULL || pubsub_config_copy(&n->cfg, cfg) ||
        (n->creator = herald_strdup(HERALD_MEM_PUBSUB, owner)) == NULL ||
        pubsub_node_set_aff(n, owner, PUBSUB_AFF_OWNER) ||
        hmap_put(&svc->nodes, n->name, strlen(n->name), n, NULL)) {
        log_warn("pubsub: out of memory caching the new node %s; it loads on next use", name);
        pubsub_node_free(n);
        return HERALD_OK;
    }
    n->created_us = now;
    *out = n;
    return HERALD_OK;
}

/* §8.1: <create node='...'/> (or an instant node without one), maybe with <configure/>. */
void pubsub_handle_create(struct pubsub_req *r)
{
    struct pubsub_service *svc = r->svc;
    struct arena *a = r->a;
    const char *name = xml_attr(r->op, "node");
    char instant[2 * 16 + 1];
    if (!pubsub_may_create(svc, r->from_bare)) {
        pubsub_reply_error(r, "forbidden", NULL);
        return;
    }
    if (name == NULL) {
        /* §8.1.3: the service makes a unique NodeID. */
        if (pubsub_random_hex(instant, 16)) {
            pubsub_reply_error(r, "internal-server-error", NULL);
            return;
        }
        name = instant;
    }
    struct pubsub_node *n;
    enum herald_rc rc = pubsub_node_get(svc, name, &n);
    if (rc == HERALD_OK) {
        pubsub_reply_error(r, "conflict", NULL);
        return;
    }
    if (rc != HERALD_ENOTFOUND)
        goto fail;
    if (!pubsub_creation_ok(r, name))
        return;
    struct xml_node *conf = xml_child(r->ps, PUBSUB_NS, "configure");
    /* §8.1.3: <configure/> follows <create/> and has no 'node' of its own. */
    if (conf && (xml_attr(conf, "node") || xml_next(r->op, PUBSUB_NS, "configure") != conf)) {
        pubsub_reply_error(r, "bad-request", NULL);
        return;
    }
    struct pubsub_config cfg;
    pubsub_config_defaults(&svc->reg->lim, svc->pep, &cfg);
    struct xml_node *x = conf ? xml_child(conf, NS_XDATA, "x") : NULL;
    if (x) {
        struct xmpp_error err;
        if (pubsub_config_apply_form(&cfg, x, &svc->reg->lim, a, &err)) {
            pubsub_config_cleanup(&cfg);
            pubsub_reply_xerr(r, &err);
            return;
        }
    }
    rc = pubsub_node_create(svc, name, &cfg, r->from_bare, NULL, NULL, &n);
    pubsub_config_cleanup(&cfg);
    if (rc)
        goto fail;
    struct xml_node *ps = xml_elem_new(a, PUBSUB_NS, "pubsub");
    struct xml_node *c = ps ? xml_add_child(a, ps, PUBSUB_NS, "create") : NULL;
    if (c == NULL || xml_set_attr(a, c, "node", name) ||
        pubsub_reply_after_commit(r, ps, NULL, NULL))
        goto fail;
    return;
fail:
    log_error("pubsub create %s: %s", name ? name : "(instant)", herald_rc_str(rc));
    pubsub_reply_error(r, "internal-server-error", NULL);
}

/* ---- owner use cases ---- */

/* §8.2.3.3 nodeid-required, §8.x "Node Does Not Exist", §8.x "Insufficient Privileges". */
struct pubsub_node *pubsub_owner_node(struct pubsub_req *r)
{
    struct pubsub_node *n = pubsub_req_node(r, xml_attr(r->op, "node"));
    if (n && pubsub_node_aff(n, r->from_bare) != PUBSUB_AFF_OWNER) {
        pubsub_reply_error(r, "forbidden", NULL);
        return NULL;
    }
    return n;
}

/* The reply, then the event (may be NULL) after the commit. */
static void reply_with_event(struct pubsub_req *r, struct pubsub_deferred_event *e)
{
    if (pubsub_reply_after_commit(r, NULL, e ? pubsub_deferred_event_cb : NULL, e)) {
        pubsub_deferred_event_cb(r->srv, e, HERALD_ENOMEM);
        pubsub_reply_error(r, "internal-server-error", NULL);
    }
}

/* §8.2.1: the form with the current values. */
static void configure_get(struct pubsub_req *r, const struct pubsub_node *n)
{
    struct arena *a = r->a;
    struct xml_node *ps = xml_elem_new(a, PUBSUB_NS_OWNER, "pubsub");
    struct xml_node *c = ps ? xml_add_child(a, ps, PUBSUB_NS_OWNER, "configure") : NULL;
    struct xml_node *x;
    if (c == NULL || xml_set_attr(a, c, "node", n->name) ||
        pubsub_config_to_form(a, &n->cfg, &r->svc->reg->lim, &x)) {
        pubsub_reply_error(r, "internal-server-error", NULL);
        return;
    }
    xml_append(c, x);
    router_reply_result(r->srv, r->st, ps);
}

/* §8.2.5: the configuration notification, with the form when payloads are on. */
static struct pubsub_deferred_event *configuration_event(struct pubsub_req *r,
                                                         const struct pubsub_node *n)
{
    struct arena *a = r->a;
    struct xml_node *ev = xml_elem_new(a, PUBSUB_NS_EVENT, "event");
    struct xml_node *c = ev ? xml_add_child(a, ev, PUBSUB_NS_EVENT, "configuration") : NULL;
    struct xml_node *form = NULL;
    if (c == NULL || xml_set_attr(a, c, "node", n->name) ||
        (n->cfg.deliver_payloads && (pubsub_config_to_form(a, &n->cfg, &r->svc->reg->lim, &form) ||
                                     xml_set_attr(a, form, "type", "result"))))
        return NULL;
    if (form)
        xml_append(c, form);
    return pubsub_deferred_event_of(r->svc, n, ev, PUBSUB_NOTIFY_NODE);
}

static void owner_configure(struct pubsub_req *r)
{
    struct pubsub_node *n = pubsub_owner_node(r);
    if (n == NULL)
        return;
    if (strcmp(r->st->type, "set") != 0) {
        configure_get(r, n);
        return;
    }
    struct xml_node *x = xml_child(r->op, NS_XDATA, "x");
    if (x == NULL) {
        pubsub_reply_error(r, "bad-request", NULL);
        return;
    }
    const char *xtype = xml_attr(x, "type");
    if (xtype && strcmp(xtype, "cancel") == 0) {
        /* §8.2.4: a cancelled form keeps the configuration: nothing to store or announce. */
        router_reply_result(r->srv, r->st, NULL);
        return;
    }
    /* §8.2.5: apply to a copy, store it, then swap it in. */
    struct pubsub_config cfg;
    struct xmpp_error err;
    struct store_txn *t;
    enum herald_rc rc = pubsub_config_copy(&cfg, &n->cfg);
    if (rc) {
        pubsub_reply_error(r, "internal-server-error", NULL);
        return;
    }
    if (pubsub_config_apply_form(&cfg, x, &r->svc->reg->lim, r->a, &err)) {
        pubsub_config_cleanup(&cfg);
        pubsub_reply_xerr(r, &err);
        return;
    }
    if ((rc = pubsub_txn_begin(r->svc, &t)) == HERALD_OK)
        rc = pubsub_txn_end(
            &t, pubsub_store_node_put(t, r->svc->jid, n->name, &cfg, n->created_us, n->creator));
    if (rc) {
        log_error("pubsub configure %s: %s", n->name, herald_rc_str(rc));
        pubsub_config_cleanup(&cfg);
        pubsub_reply_error(r, "internal-server-error", NULL);
        return;
    }
    pubsub_config_cleanup(&n->cfg);
    n->cfg = cfg;
    reply_with_event(r, n->cfg.notify_config ? configuration_event(r, n) : NULL);
}

static void owner_default(struct pubsub_req *r)
{
    struct arena *a = r->a;
    /* §8.3: 'type' picks the node type; only leaf nodes exist here (no XEP-0248). */
    const char *type = xml_attr(r->op, "type");
    if (type && strcmp(type, "collection") == 0) {
        pubsub_reply_unsupported(r, "collections");
        return;
    }
    if (type && strcmp(type, "leaf") != 0) {
        pubsub_reply_error(r, "bad-request", NULL);
        return;
    }
    struct pubsub_config cfg;
    pubsub_config_defaults(&r->svc->reg->lim, r->svc->pep, &cfg);
    struct xml_node *ps = xml_elem_new(a, PUBSUB_NS_OWNER, "pubsub");
    struct xml_node *d = ps ? xml_add_child(a, ps, PUBSUB_NS_OWNER, "default") : NULL;
    struct xml_node *x;
    enum herald_rc rc = d ? pubsub_config_to_form(a, &cfg, &r->svc->reg->lim, &x) : HERALD_ENOMEM;
    pubsub_config_cleanup(&cfg);
    if (rc) {
        pubsub_reply_error(r, "internal-server-error", NULL);
        return;
    }
    xml_append(d, x);
    router_reply_result(r->srv, r->st, ps);
}

/* §8.4.2: <delete node='...'>, with the replacement's <redirect/> when the owner gave one. */
static struct pubsub_deferred_event *deletion_event(struct pubsub_req *r,
                                                    const struct pubsub_node *n)
{
    struct arena *a = r->a;
    struct xml_node *ev = xml_elem_new(a, PUBSUB_NS_EVENT, "event");
    struct xml_node *d = ev ? xml_add_child(a, ev, PUBSUB_NS_EVENT, "delete") : NULL;
    struct xml_node *redir = xml_child(r->op, PUBSUB_NS_OWNER, "redirect");
    const char *uri = redir ? xml_attr(redir, "uri") : NULL;
    struct xml_node *rd = d && uri ? xml_add_child(a, d, PUBSUB_NS_EVENT, "redirect") : NULL;
    if (d == NULL || xml_set_attr(a, d, "node", n->name) ||
        (uri && (rd == NULL || xml_set_attr(a, rd, "uri", uri))))
        return NULL;
    return pubsub_deferred_event_of(r->svc, n, ev, PUBSUB_NOTIFY_DELETE);
}

static void owner_delete(struct pubsub_req *r)
{
    struct pubsub_node *n = pubsub_owner_node(r);
    if (n == NULL)
        return;
    struct store_txn *t;
    enum herald_rc rc = pubsub_txn_begin(r->svc, &t);
    if (rc == HERALD_OK)
        rc = pubsub_txn_end(&t, pubsub_store_node_delete(t, r->svc->jid, n->name));
    if (rc) {
        log_error("pubsub delete %s: %s", n->name, herald_rc_str(rc));
        pubsub_reply_error(r, "internal-server-error", NULL);
        return;
    }
    if (r->svc->nnodes > 0)
        r->svc->nnodes--;
    /* §8.4.2: every subscriber (pending and unconfigured too) hears of the deletion. The
     * node leaves the cache now; the event keeps the detached node for its fan-out. */
    struct pubsub_deferred_event *e =
        n->cfg.notify_delete && n->nsubscribers ? deletion_event(r, n) : NULL;
    hmap_del(&r->svc->nodes, n->name, strlen(n->name));
    if (e)
        pubsub_deferred_event_detach(e, n);
    else
        pubsub_node_free(n);
    reply_with_event(r, e);
}

enum herald_rc pubsub_node_purge(struct pubsub_service *svc, struct pubsub_node *n,
                                 struct pubsub_deferred_event **ev)
{
    *ev = NULL;
    struct store_txn *t;
    enum herald_rc rc = pubsub_txn_begin(svc, &t);
    if (rc == HERALD_OK)
        rc = pubsub_txn_end(&t, pubsub_store_items_purge(t, svc->jid, n->name, NULL));
    if (rc) {
        log_error("pubsub purge %s/%s: %s", svc->jid, n->name, herald_rc_str(rc));
        return rc;
    }
    n->nitems = 0;
    /* §8.5.2: one <purge/> instead of a retraction per item. */
    if (n->cfg.notify_retract && n->nsubscribers) {
        struct buf b;
        buf_init(&b, 0);
        buf_append_str(&b, "<event xmlns='" PUBSUB_NS_EVENT "'><purge node='");
        buf_append_xml_attr_escaped(&b, n->name, strlen(n->name));
        buf_append_str(&b, "'/></event>");
        if (!b.err)
            *ev = pubsub_deferred_event_new(svc, n, b.data, b.len, PUBSUB_NOTIFY_NODE);
        buf_cleanup(&b);
        if (*ev == NULL)
            log_warn("pubsub purge %s/%s: out of memory, subscribers are not told", svc->jid,
                     n->name);
    }
    return HERALD_OK;
}

static void owner_purge(struct pubsub_req *r)
{
    struct pubsub_node *n = pubsub_owner_node(r);
    if (n == NULL)
        return;
    if (!n->cfg.persist_items) {
        pubsub_reply_unsupported(r, "persistent-items");
        return;
    }
    struct pubsub_deferred_event *e;
    if (pubsub_node_purge(r->svc, n, &e)) {
        pubsub_reply_error(r, "internal-server-error", NULL);
        return;
    }
    reply_with_event(r, e);
}

void pubsub_handle_owner(struct pubsub_req *r)
{
    const char *name = r->op->name;
    bool set = strcmp(r->st->type, "set") == 0;
    if (strcmp(name, "configure") == 0)
        owner_configure(r);
    else if (strcmp(name, "default") == 0 && !set)
        owner_default(r);
    else if (strcmp(name, "delete") == 0 && set)
        owner_delete(r);
    else if (strcmp(name, "purge") == 0 && set)
        owner_purge(r);
    else if (strcmp(name, "subscriptions") == 0)
        pubsub_handle_owner_subscriptions(r);
    else if (strcmp(name, "affiliations") == 0)
        pubsub_handle_owner_affiliations(r);
    else
        pubsub_reply_error(r, "bad-request", NULL);
}
