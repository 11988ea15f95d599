/*
 * pubsub_service.c - the services: registry, stanza dispatch, replies that wait for the
 * commit, and service discovery (XEP-0060 §5.1-5.5).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "herald/disco.h"
#include "herald/log.h"
#include "herald/pubsub_store.h"
#include "herald/store.h"
#include "pubsub_int.h"

/* Every feature listed here is implemented (§11 Feature Summary). Not listed:
 * last-published, which says the default send_last_published_item is on_sub_and_presence
 * (§4.3), while it is "never" here except on PEP nodes. */
static const char *const service_features[] = {
    "http://jabber.org/protocol/pubsub",
    "http://jabber.org/protocol/pubsub#access-authorize",
    "http://jabber.org/protocol/pubsub#access-open",
    "http://jabber.org/protocol/pubsub#access-presence",
    "http://jabber.org/protocol/pubsub#access-roster",
    "http://jabber.org/protocol/pubsub#access-whitelist",
    "http://jabber.org/protocol/pubsub#auto-create",
    "http://jabber.org/protocol/pubsub#config-node",
    "http://jabber.org/protocol/pubsub#create-and-configure",
    "http://jabber.org/protocol/pubsub#create-nodes",
    "http://jabber.org/protocol/pubsub#delete-items",
    "http://jabber.org/protocol/pubsub#delete-nodes",
    "http://jabber.org/protocol/pubsub#get-pending",
    "http://jabber.org/protocol/pubsub#instant-nodes",
    "http://jabber.org/protocol/pubsub#item-ids",
    "http://jabber.org/protocol/pubsub#manage-subscriptions",
    "http://jabber.org/protocol/pubsub#member-affiliation",
    "http://jabber.org/protocol/pubsub#meta-data",
    "http://jabber.org/protocol/pubsub#modify-affiliations",
    "http://jabber.org/protocol/pubsub#multi-subscribe",
    "http://jabber.org/protocol/pubsub#outcast-affiliation",
    "http://jabber.org/protocol/pubsub#persistent-items",
    "http://jabber.org/protocol/pubsub#presence-notifications",
    "http://jabber.org/protocol/pubsub#publish",
    "http://jabber.org/protocol/pubsub#publish-only-affiliation",
    "http://jabber.org/protocol/pubsub#publish-options",
    "http://jabber.org/protocol/pubsub#publisher-affiliation",
    "http://jabber.org/protocol/pubsub#purge-nodes",
    "http://jabber.org/protocol/pubsub#retract-items",
    "http://jabber.org/protocol/pubsub#retrieve-affiliations",
    "http://jabber.org/protocol/pubsub#retrieve-default",
    "http://jabber.org/protocol/pubsub#retrieve-default-sub",
    "http://jabber.org/protocol/pubsub#retrieve-items",
    "http://jabber.org/protocol/pubsub#retrieve-subscriptions",
    "http://jabber.org/protocol/pubsub#rsm",
    "http://jabber.org/protocol/pubsub#subscribe",
    "http://jabber.org/protocol/pubsub#subscription-notifications",
    "http://jabber.org/protocol/pubsub#subscription-options",
    NS_COMMANDS, /* XEP-0050 §2.1, for §8.7 get-pending */
    NS_SHIM,     /* XEP-0131: SubID headers on notifications (§13.16) */
    NS_DISCO_INFO,
    NS_DISCO_ITEMS,
};

/* XEP-0131 §3.2: the headers we use, at the well-known node NS_SHIM. */
static const char *const shim_features[] = {NS_SHIM "#SubID"};

/* ---- small shared helpers ---- */

enum herald_rc pubsub_random_hex(char *out, size_t nbytes)
{
    unsigned char r[32];
    if (nbytes > sizeof(r) || getrandom(r, nbytes, 0) != (ssize_t)nbytes)
        return HERALD_EIO;
    for (size_t i = 0; i < nbytes; i++)
        snprintf(out + 2 * i, 3, "%02x", r[i]);
    return HERALD_OK;
}

static const char *const aff_names[] = {"outcast",      "none",      "member",
                                        "publish-only", "publisher", "owner"};

const char *pubsub_aff_name(enum pubsub_aff a)
{
    return (size_t)a < HERALD_ARRAY_LEN(aff_names) ? aff_names[a] : "none";
}

enum pubsub_aff pubsub_aff_parse(const char *s, bool *ok)
{
    for (size_t i = 0; s && i < HERALD_ARRAY_LEN(aff_names); i++) {
        if (strcmp(s, aff_names[i]) == 0) {
            *ok = true;
            return (enum pubsub_aff)i;
        }
    }
    *ok = false;
    return PUBSUB_AFF_NONE;
}

const char *pubsub_substate_name(enum pubsub_substate s)
{
    switch (s) {
    case PUBSUB_SUB_NONE:
        return "none";
    case PUBSUB_SUB_PENDING:
        return "pending";
    case PUBSUB_SUB_UNCONFIGURED:
        return "unconfigured";
    case PUBSUB_SUB_SUBSCRIBED:
        return "subscribed";
    }
    return "none";
}

/* ---- replies ---- */

void pubsub_reply_xerr(struct pubsub_req *r, const struct xmpp_error *e)
{
    router_reply_error(r->srv, r->st, e);
}

void pubsub_reply_error(struct pubsub_req *r, const char *cond, const char *app)
{
    struct xmpp_error e = app ? xmpp_error_app(cond, PUBSUB_NS_ERRORS, app) : xmpp_error_of(cond);
    pubsub_reply_xerr(r, &e);
}

void pubsub_reply_error_typed(struct pubsub_req *r, const char *cond, const char *app,
                              enum xmpp_error_type type)
{
    struct xmpp_error e = app ? xmpp_error_app(cond, PUBSUB_NS_ERRORS, app) : xmpp_error_of(cond);
    e.type = type;
    pubsub_reply_xerr(r, &e);
}

void pubsub_reply_unsupported(struct pubsub_req *r, const char *feature)
{
    struct xmpp_error e = xmpp_error_app("feature-not-implemented", PUBSUB_NS_ERRORS,
                                         "unsupported");
    e.app_attr = "feature";
    e.app_attr_value = feature;
    pubsub_reply_xerr(r, &e);
}

struct deferred_reply {
    struct arena *a;
    struct server *srv;
    struct pubsub_registry *reg;
    struct xml_node *reply;   /* result to send */
    struct stanza st;         /* addressing of the request, for an error instead */
    pubsub_after_fn fn;
    void *ctx;
};

static void deferred_reply_cb(void *arg, enum herald_rc rc)
{
    struct deferred_reply *d = arg;
    if (rc == HERALD_OK) {
        router_send(d->srv, d->reply);
    } else {
        /* Nothing of this turn is stored: memory must forget it too. */
        pubsub_registry_invalidate(d->reg);
        struct xmpp_error e = xmpp_error_of("internal-server-error");
        e.text = "the change could not be stored";
        router_reply_error(d->srv, &d->st, &e);
    }
    if (d->fn)
        d->fn(d->srv, d->ctx, rc);
    arena_free(&d->a);
    free(d);
}

enum herald_rc pubsub_reply_after_commit(struct pubsub_req *r, struct xml_node *payload,
                                         pubsub_after_fn fn, void *ctx)
{
    struct deferred_reply *d = calloc(1, sizeof(*d));
    struct arena *a = d ? arena_new(0) : NULL;
    if (a == NULL) {
        free(d);
        return HERALD_ENOMEM;
    }
    d->a = a;
    d->srv = r->srv;
    d->reg = r->svc->reg;
    d->fn = fn;
    d->ctx = ctx;
    d->st = *r->st;
    d->st.node = xml_copy(a, r->st->node);
    d->st.arena = a;
    d->st.from_str = arena_strdup(a, r->st->from_str);
    d->st.id = d->st.node ? xml_attr(d->st.node, "id") : NULL;
    d->st.type = d->st.node ? xml_attr(d->st.node, "type") : NULL;
    /* Every view into the request's arena is re-made from the copy: it is freed soon. */
    if (d->st.from_str && jid_parse(a, d->st.from_str, &d->st.from) != HERALD_OK)
        d->st.from_str = NULL;
    const char *to = d->st.node ? xml_attr(d->st.node, "to") : NULL;
    d->st.has_to = to && jid_parse(a, to, &d->st.to) == HERALD_OK;
    struct xml_node *pl = payload ? xml_copy(a, payload) : NULL;
    d->reply = d->st.node && (payload == NULL || pl)
                   ? stanza_iq_result(a, &d->st, r->svc->jid, pl)
                   : NULL;
    if (d->reply == NULL || d->st.from_str == NULL ||
        store_on_commit(r->srv->store, deferred_reply_cb, d)) {
        arena_free(&d->a);
        free(d);
        return HERALD_ENOMEM;
    }
    return HERALD_OK;
}

/* ---- the registry ---- */

void pubsub_registry_invalidate(struct pubsub_registry *reg)
{
    for (size_t i = 0; i < reg->nsvcs; i++) {
        struct pubsub_service *svc = reg->svcs[i];
        size_t pos = 0;
        void *v;
        while (hmap_iter(&svc->nodes, &pos, NULL, NULL, &v))
            pubsub_node_free(v);
        hmap_cleanup(&svc->nodes);
        hmap_init(&svc->nodes, HERALD_MEM_PUBSUB);
    }
    log_warn("pubsub: cached state dropped after a failed commit");
}

struct pubsub_service *pubsub_service_find(struct pubsub_registry *reg, const char *jid)
{
    for (size_t i = 0; i < reg->nsvcs; i++)
        if (strcmp(reg->svcs[i]->jid, jid) == 0)
            return reg->svcs[i];
    return NULL;
}

/* ---- disco ---- */

static struct xml_node *disco_feature(struct arena *a, struct xml_node *q, const char *var)
{
    struct xml_node *f = xml_add_child(a, q, NS_DISCO_INFO, "feature");
    return f && xml_set_attr(a, f, "var", var) == HERALD_OK ? f : NULL;
}

static void disco_info(struct pubsub_req *r, struct xml_node *query)
{
    struct arena *a = r->a;
    const char *nodename = xml_attr(query, "node");
    if (pubsub_commands_disco(r, nodename, false))
        return;
    struct xml_node *q = xml_elem_new(a, NS_DISCO_INFO, "query");
    struct xml_node *id = q ? xml_add_child(a, q, NS_DISCO_INFO, "identity") : NULL;
    if (id == NULL || xml_set_attr(a, id, "category", "pubsub"))
        goto oom;
    if (nodename == NULL) {
        /* §5.1: the service itself. */
        if (xml_set_attr(a, id, "type", r->svc->pep ? "pep" : "service"))
            goto oom;
        for (size_t i = 0; i < HERALD_ARRAY_LEN(service_features); i++)
            if (!disco_feature(a, q, service_features[i]))
                goto oom;
        router_reply_result(r->srv, r->st, q);
        return;
    }
    /* §5.3-5.4: a node, with its meta-data. */
    if (xml_set_attr(a, q, "node", nodename))
        goto oom;
    struct pubsub_node *n;
    enum herald_rc rc = pubsub_node_get(r->svc, nodename, &n);
    if (rc == HERALD_ENOTFOUND && strcmp(nodename, NS_SHIM) == 0) {
        /* XEP-0131 §3.2 (a well-known node, not a pubsub node): no identity there. */
        xml_remove(id);
        for (size_t i = 0; i < HERALD_ARRAY_LEN(shim_features); i++)
            if (!disco_feature(a, q, shim_features[i]))
                goto oom;
        router_reply_result(r->srv, r->st, q);
        return;
    }
    if (rc == HERALD_ENOTFOUND) {
        pubsub_reply_error(r, "item-not-found", NULL);
        return;
    }
    if (rc)
        goto fail;
    if (xml_set_attr(a, id, "type", "leaf") || !disco_feature(a, q, "http://jabber.org/protocol/pubsub"))
        goto oom;
    const char *owners[64], *publishers[64];
    struct pubsub_meta meta = {.creation_us = n->created_us, .creator = n->creator,
                               .owners = owners, .publishers = publishers};
    size_t pos = 0;
    void *v;
    while (hmap_iter(&n->affs, &pos, NULL, NULL, &v)) {
        struct pubsub_affentry *e = v;
        if (e->aff == PUBSUB_AFF_OWNER && meta.nowners < HERALD_ARRAY_LEN(owners))
            owners[meta.nowners++] = e->jid;
        else if (e->aff == PUBSUB_AFF_PUBLISHER && meta.npublishers < HERALD_ARRAY_LEN(publishers))
            publishers[meta.npublishers++] = e->jid;
    }
    for (size_t i = 0; i < n->nsubscribers; i++)
        for (uint32_t j = 0; j < n->subscribers[i]->nsubs; j++)
            meta.num_subscribers += n->subscribers[i]->subs[j].state == PUBSUB_SUB_SUBSCRIBED;
    struct xml_node *x;
    if (pubsub_config_meta_form(a, &n->cfg, &meta, &x))
        goto oom;
    xml_append(q, x);
    router_reply_result(r->srv, r->st, q);
    return;
oom:
    rc = HERALD_ENOMEM;
fail:
    log_error("pubsub disco#info: %s", herald_rc_str(rc));
    pubsub_reply_error(r, "internal-server-error", NULL);
}

struct list_ctx {
    struct arena *a;
    struct xml_node *q;
    const char *svc;
    size_t n, max;
    bool oom;
    const struct pubsub_config *cfg; /* items of a node: its item_expire */
    int64_t now;
};

static bool list_node_cb(void *arg, const char *name, size_t len)
{
    struct list_ctx *x = arg;
    struct xml_node *it = xml_add_child(x->a, x->q, NS_DISCO_ITEMS, "item");
    char *nm = arena_strndup(x->a, name, len);
    if (!it || !nm || xml_set_attr(x->a, it, "jid", x->svc) || xml_set_attr(x->a, it, "node", nm)) {
        x->oom = true;
        return false;
    }
    return ++x->n < x->max;
}

static bool list_item_cb(void *arg, const struct pubsub_store_item *item)
{
    struct list_ctx *x = arg;
    if (pubsub_item_expired(x->cfg, item->ts_us, x->now))
        return true;
    struct xml_node *it = xml_add_child(x->a, x->q, NS_DISCO_ITEMS, "item");
    char *id = arena_strndup(x->a, item->id, item->id_len);
    if (!it || !id || xml_set_attr(x->a, it, "jid", x->svc) || xml_set_attr(x->a, it, "name", id)) {
        x->oom = true;
        return false;
    }
    return ++x->n < x->max;
}

static void disco_items(struct pubsub_req *r, struct xml_node *query)
{
    struct arena *a = r->a;
    const char *nodename = xml_attr(query, "node");
    if (pubsub_commands_disco(r, nodename, true))
        return;
    struct xml_node *q = xml_elem_new(a, NS_DISCO_ITEMS, "query");
    struct store_txn *t;
    enum herald_rc rc = q ? store_read(r->srv->store, &t) : HERALD_ENOMEM;
    struct list_ctx x = {a, q, r->svc->jid, 0, 10000, false, NULL, herald_wall_us()};
    if (rc)
        goto fail;
    if (nodename == NULL) {
        /* §5.2: the nodes of the service. */
        rc = pubsub_store_nodes_each(t, r->svc->jid, list_node_cb, &x);
    } else {
        /* §5.5: the items of a node, as far as the requester may retrieve them. */
        struct pubsub_node *n;
        rc = pubsub_node_get(r->svc, nodename, &n);
        if (rc == HERALD_ENOTFOUND) {
            pubsub_reply_error(r, "item-not-found", NULL);
            return;
        }
        if (rc || xml_set_attr(a, q, "node", nodename))
            goto fail;
        enum pubsub_access_verdict v = pubsub_access_check(r->svc, n, r->from_bare,
                                                           PUBSUB_OP_RETRIEVE);
        if (v != PUBSUB_ALLOW) {
            pubsub_reply_access(r, v);
            return;
        }
        x.cfg = &n->cfg;
        rc = pubsub_store_items_each(t, r->svc->jid, nodename, true, 0, list_item_cb, &x);
    }
    if (rc == HERALD_OK && x.oom)
        rc = HERALD_ENOMEM;
    if (rc)
        goto fail;
    router_reply_result(r->srv, r->st, q);
    return;
fail:
    log_error("pubsub disco#items: %s", herald_rc_str(rc));
    pubsub_reply_error(r, "internal-server-error", NULL);
}

/* ---- dispatch ---- */

static bool is_type(const struct stanza *st, const char *t)
{
    return st->type && strcmp(st->type, t) == 0;
}

static void dispatch_pubsub(struct pubsub_req *r)
{
    const char *name = r->op->name;
    bool set = is_type(r->st, "set");
    /* (name, needs set) */
    if (strcmp(name, "publish") == 0 && set)
        pubsub_handle_publish(r);
    else if (strcmp(name, "subscribe") == 0 && set)
        pubsub_handle_subscribe(r);
    else if (strcmp(name, "unsubscribe") == 0 && set)
        pubsub_handle_unsubscribe(r);
    else if (strcmp(name, "create") == 0 && set)
        pubsub_handle_create(r);
    else if (strcmp(name, "retract") == 0 && set)
        pubsub_handle_retract(r);
    else if (strcmp(name, "items") == 0 && !set)
        pubsub_handle_items(r);
    else if (strcmp(name, "subscriptions") == 0 && !set)
        pubsub_handle_subscriptions(r);
    else if (strcmp(name, "affiliations") == 0 && !set)
        pubsub_handle_affiliations(r);
    else if (strcmp(name, "options") == 0)
        pubsub_handle_options(r);
    else if (strcmp(name, "default") == 0 && !set)
        pubsub_handle_default_options(r);
    else
        pubsub_reply_error(r, "bad-request", NULL);
}

/* The action element: the one child that is not an accompanying form element. */
static struct xml_node *find_action(const struct xml_node *ps)
{
    struct xml_node *op = NULL;
    for (struct xml_node *c = xml_first_elem(ps); c; c = xml_next(c, NULL, NULL)) {
        if (c->ns && strcmp(c->ns, NS_RSM) == 0)
            continue; /* XEP-0059 paging rides along with <items/> */
        if (c->ns == NULL || strcmp(c->ns, ps->ns) != 0)
            return NULL;
        bool companion = strcmp(c->name, "publish-options") == 0 ||
                         (strcmp(c->name, "configure") == 0 && xml_child(ps, NULL, "create")) ||
                         (strcmp(c->name, "options") == 0 && xml_child(ps, NULL, "subscribe"));
        if (companion)
            continue;
        if (op)
            return NULL; /* two actions in one request */
        op = c;
    }
    return op;
}

static void pubsub_service_stanza(struct server *srv, struct stanza *st, void *arg)
{
    struct pubsub_service *svc = arg;
    struct pubsub_req r = {.srv = srv, .svc = svc, .st = st, .a = st->arena};
    if (st->kind != STANZA_IQ) {
        /* Messages: subscription approvals (§8.6) arrive here; presence is not needed. */
        if (st->kind == STANZA_MESSAGE)
            pubsub_handle_owner_message(svc, st);
        return;
    }
    if (!is_type(st, "get") && !is_type(st, "set"))
        return; /* results and errors to the service: nothing asked for them */
    r.from_bare = jid_bare_str(st->arena, &st->from);
    if (r.from_bare == NULL) {
        pubsub_reply_error(&r, "internal-server-error", NULL);
        return;
    }
    if (st->has_to && (st->to.local || st->to.resource)) {
        pubsub_reply_error(&r, "service-unavailable", NULL);
        return;
    }
    struct xml_node *payload = xml_first_elem(st->node);
    if (xml_is(payload, NS_DISCO_INFO, "query") && is_type(st, "get")) {
        disco_info(&r, payload);
        return;
    }
    if (xml_is(payload, NS_DISCO_ITEMS, "query") && is_type(st, "get")) {
        disco_items(&r, payload);
        return;
    }
    if (xml_is(payload, PUBSUB_NS, "pubsub") || xml_is(payload, PUBSUB_NS_OWNER, "pubsub")) {
        r.ps = payload;
        r.op = find_action(payload);
        if (r.op == NULL) {
            pubsub_reply_error(&r, "bad-request", NULL);
            return;
        }
        if (strcmp(payload->ns, PUBSUB_NS_OWNER) == 0)
            pubsub_handle_owner(&r);
        else
            dispatch_pubsub(&r);
        return;
    }
    if (xml_is(payload, NS_COMMANDS, "command")) {
        pubsub_handle_command(&r, payload);
        return;
    }
    pubsub_reply_error(&r, "service-unavailable", NULL);
}

static enum herald_rc service_new(struct pubsub_registry *reg, const char *jid, bool pep,
                                  struct pubsub_service **out)
{
    struct pubsub_service *svc = calloc(1, sizeof(*svc));
    if (svc == NULL || (svc->jid = strdup(jid)) == NULL) {
        free(svc);
        return HERALD_ENOMEM;
    }
    svc->reg = reg;
    svc->srv = reg->srv;
    svc->pep = pep;
    hmap_init(&svc->nodes, HERALD_MEM_PUBSUB);
    *out = svc;
    return HERALD_OK;
}

static void service_free(struct pubsub_service *svc)
{
    size_t pos = 0;
    void *v;
    while (hmap_iter(&svc->nodes, &pos, NULL, NULL, &v))
        pubsub_node_free(v);
    hmap_cleanup(&svc->nodes);
    free(svc->jid);
    free(svc);
}

/* The demo node of the development configuration: open, on the first service. */
static enum herald_rc make_demo_node(struct pubsub_registry *reg)
{
    const char *name = reg->srv->cfg.pubsub_demo_node;
    if (name == NULL || *name == '\0' || reg->nsvcs == 0)
        return HERALD_OK;
    struct pubsub_service *svc = reg->svcs[0];
    struct pubsub_node *n;
    enum herald_rc rc = pubsub_node_get(svc, name, &n);
    if (rc != HERALD_ENOTFOUND)
        return rc;
    struct pubsub_config cfg;
    pubsub_config_defaults(&reg->lim, false, &cfg);
    char owner[1100];
    snprintf(owner, sizeof(owner), "%s", reg->srv->cfg.admins.n ? reg->srv->cfg.admins.items[0]
                                                                 : reg->srv->cfg.domain);
    rc = pubsub_node_create(svc, name, &cfg, owner, &n);
    pubsub_config_cleanup(&cfg);
    if (rc == HERALD_OK) {
        store_flush(reg->srv->store);
        log_notice("pubsub: created demo node '%s' on %s", name, svc->jid);
    }
    return rc;
}

enum herald_rc pubsub_init(struct server *srv, struct pubsub_registry **out)
{
    const struct herald_config *cfg = &srv->cfg;
    struct pubsub_registry *reg = calloc(1, sizeof(*reg));
    if (reg == NULL)
        return HERALD_ENOMEM;
    reg->srv = srv;
    reg->lim = (struct pubsub_limits){cfg->pubsub_max_items, cfg->pubsub_max_items_limit,
                                      cfg->pubsub_max_payload};
    if (pubsub_random_hex(reg->boot, 3)) { /* 6 hex characters and a NUL */
        free(reg);
        return HERALD_EIO;
    }
    reg->svcs = calloc(cfg->pubsub_services.n ? cfg->pubsub_services.n : 1, sizeof(*reg->svcs));
    if (reg->svcs == NULL) {
        free(reg);
        return HERALD_ENOMEM;
    }
    *out = reg;
    for (size_t i = 0; i < cfg->pubsub_services.n; i++) {
        const char *label = cfg->pubsub_services.items[i];
        char jid[1100];
        if (strchr(label, '.'))
            snprintf(jid, sizeof(jid), "%s", label);
        else
            snprintf(jid, sizeof(jid), "%s.%s", label, cfg->domain);
        struct pubsub_service *svc;
        enum herald_rc rc = service_new(reg, jid, false, &svc);
        if (rc)
            return rc;
        reg->svcs[reg->nsvcs++] = svc;
        if ((rc = router_add_service(srv->router, svc->jid, pubsub_service_stanza, svc)))
            return rc;
        log_info("pubsub service %s", svc->jid);
    }
    enum herald_rc rc = make_demo_node(reg);
    return rc ? rc : pubsub_expire_start(reg);
}

void pubsub_free(struct pubsub_registry **rp)
{
    struct pubsub_registry *reg = rp ? *rp : NULL;
    if (reg == NULL)
        return;
    pubsub_expire_stop(reg);
    for (size_t i = 0; i < reg->nsvcs; i++)
        service_free(reg->svcs[i]);
    free(reg->svcs);
    free(reg);
    *rp = NULL;
}
