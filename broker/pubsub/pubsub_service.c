/*
 * pubsub_service.c - the services: registry, stanza dispatch, replies that wait for the
 * commit, the request's store transaction and the turn's commit guard (pubsub_int.h, "State
 * model"), and the small helpers every use case shares. Discovery is in pubsub_disco.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "herald/disco.h"
#include "herald/log.h"
#include "herald/store.h"
#include "pubsub_int.h"

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

/* Indexed by enum pubsub_substate. */
static const char *const substate_names[] = {"none", "pending", "unconfigured", "subscribed"};

const char *pubsub_substate_name(enum pubsub_substate s)
{
    return (size_t)s < HERALD_ARRAY_LEN(substate_names) ? substate_names[s] : "none";
}

bool pubsub_substate_parse(const char *s, enum pubsub_substate *out)
{
    for (size_t i = 0; i < HERALD_ARRAY_LEN(substate_names); i++) {
        if (strcmp(s, substate_names[i]) == 0) {
            *out = (enum pubsub_substate)i;
            return true;
        }
    }
    return false;
}

bool pubsub_parse_count(const char *s, uint64_t *out)
{
    if (s == NULL || *s < '0' || *s > '9')
        return false;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end || errno)
        return false;
    *out = v;
    return true;
}

bool pubsub_names_add(struct pubsub_names *l, const char *s, size_t len)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        char **v = realloc(l->v, cap * sizeof(*v));
        if (v == NULL)
            return false;
        l->v = v;
        l->cap = cap;
    }
    char *copy = malloc(len + 1);
    if (copy == NULL)
        return false;
    memcpy(copy, s, len);
    copy[len] = '\0';
    l->v[l->n++] = copy;
    return true;
}

void pubsub_names_free(struct pubsub_names *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    *l = (struct pubsub_names){0};
}

bool pubsub_jid_of_bare(const char *jid, size_t jid_len, const char *bare, size_t blen)
{
    return jid_len >= blen && memcmp(jid, bare, blen) == 0 && (jid_len == blen || jid[blen] == '/');
}

bool pubsub_key_fits(const struct pubsub_service *svc, const char *node, const char *part,
                     bool subid)
{
    /* The longest key: service \0 node \0 part [\0 subid] (schemas/store.md; the reverse
     * index keys have the same parts in another order). */
    size_t len = strlen(svc->jid) + 1 + strlen(node) + 1 + strlen(part);
    if (subid)
        len += 1 + PUBSUB_SUBID_LEN;
    return len <= STORE_MAX_KEY;
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

void pubsub_reply_text(struct pubsub_req *r, const char *cond, const char *text)
{
    struct xmpp_error e = xmpp_error_of(cond);
    e.text = text;
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
    struct xmpp_error e =
        xmpp_error_app("feature-not-implemented", PUBSUB_NS_ERRORS, "unsupported");
    e.app_attr = "feature";
    e.app_attr_value = feature;
    pubsub_reply_xerr(r, &e);
}

struct pubsub_node *pubsub_req_node(struct pubsub_req *r, const char *name)
{
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
        log_error("pubsub: cannot load node %s/%s: %s", r->svc->jid, name, herald_rc_str(rc));
        pubsub_reply_error(r, "internal-server-error", NULL);
        return NULL;
    }
    return n;
}

/* ---- replies that wait for the commit ---- */

struct deferred_reply {
    struct arena *a;
    struct server *srv;
    struct xml_node *reply; /* to send once the commit succeeded */
    struct stanza st;       /* the request's addressing, for an error instead */
    pubsub_after_fn fn;
    void *ctx;
};

static void deferred_reply_cb(void *arg, enum herald_rc rc)
{
    struct deferred_reply *d = arg;
    if (rc == HERALD_OK) {
        router_send(d->srv, d->reply);
    } else {
        /* The turn's guard has already dropped the cached nodes (pubsub_txn_begin). */
        struct xmpp_error e = xmpp_error_of("internal-server-error");
        e.text = "the change could not be stored";
        router_reply_error(d->srv, &d->st, &e);
    }
    if (d->fn)
        d->fn(d->srv, d->ctx, rc);
    arena_free(&d->a);
    free(d);
}

/*
 * The request's addressing in a: the <iq/> with its id, type, to and from, but none of its
 * payload (a publish's may be large, and the reply does not need it). Every view into the
 * request's arena is re-made from the copy: it is freed when the handler returns.
 */
static bool stanza_detach(struct arena *a, const struct stanza *st, struct stanza *out)
{
    static const char *const keep[] = {"id", "type", "to", "from"};
    *out = (struct stanza){.arena = a, .kind = st->kind};
    out->node = xml_elem_new(a, st->node->ns, st->node->name);
    if (out->node == NULL)
        return false;
    for (size_t i = 0; i < HERALD_ARRAY_LEN(keep); i++) {
        const char *v = xml_attr(st->node, keep[i]);
        if (v && xml_set_attr(a, out->node, keep[i], v))
            return false;
    }
    out->id = xml_attr(out->node, "id");
    out->type = xml_attr(out->node, "type");
    out->from_str = arena_strdup(a, st->from_str);
    if (out->from_str == NULL || jid_parse(a, out->from_str, &out->from) != HERALD_OK)
        return false;
    const char *to = xml_attr(out->node, "to");
    out->has_to = to && jid_parse(a, to, &out->to) == HERALD_OK;
    return true;
}

/* Queue a deferred answer: a copy of `reply` when given, else an iq result with a copy of
 * `payload` (may be NULL). Everything it keeps lives in its own arena. */
static enum herald_rc deferred_queue(struct pubsub_req *r, struct xml_node *payload,
                                     struct xml_node *reply, pubsub_after_fn fn, void *ctx)
{
    struct deferred_reply *d = calloc(1, sizeof(*d));
    struct arena *a = d ? arena_new(0) : NULL;
    if (a == NULL) {
        free(d);
        return HERALD_ENOMEM;
    }
    *d = (struct deferred_reply){.a = a, .srv = r->srv, .fn = fn, .ctx = ctx};
    bool ok = stanza_detach(a, r->st, &d->st);
    if (ok && reply) {
        d->reply = xml_copy(a, reply);
    } else if (ok) {
        struct xml_node *pl = payload ? xml_copy(a, payload) : NULL;
        d->reply = payload == NULL || pl ? stanza_iq_result(a, &d->st, r->svc->jid, pl) : NULL;
    }
    if (d->reply == NULL || store_on_commit(r->srv->store, deferred_reply_cb, d)) {
        arena_free(&d->a);
        free(d);
        return HERALD_ENOMEM;
    }
    return HERALD_OK;
}

enum herald_rc pubsub_reply_after_commit(struct pubsub_req *r, struct xml_node *payload,
                                         pubsub_after_fn fn, void *ctx)
{
    return deferred_queue(r, payload, NULL, fn, ctx);
}

enum herald_rc pubsub_send_after_commit(struct pubsub_req *r, struct xml_node *reply,
                                        pubsub_after_fn fn, void *ctx)
{
    return deferred_queue(r, NULL, reply, fn, ctx);
}

/* ---- the request's transaction and the turn's guard ---- */

static void turn_guard_cb(void *arg, enum herald_rc rc)
{
    struct pubsub_registry *reg = arg;
    reg->guarded = false;
    if (rc != HERALD_OK)
        pubsub_registry_invalidate(reg); /* nothing of the turn is stored */
}

enum herald_rc pubsub_txn_begin(struct pubsub_service *svc, struct store_txn **t)
{
    struct pubsub_registry *reg = svc->reg;
    /* Registered before the turn's first pubsub write, so it runs before every callback a
     * request of this turn queues after writing. */
    if (!reg->guarded) {
        if (store_on_commit(reg->srv->store, turn_guard_cb, reg))
            return HERALD_ENOMEM;
        reg->guarded = true;
    }
    return store_begin(reg->srv->store, t);
}

enum herald_rc pubsub_txn_end(struct store_txn **t, enum herald_rc rc)
{
    if (rc != HERALD_OK) {
        store_abort(t);
        return rc;
    }
    return store_commit(t);
}

/* ---- the registry ---- */

static void drop_cache(struct pubsub_registry *reg)
{
    for (size_t i = 0; i < reg->nsvcs; i++) {
        struct pubsub_service *svc = reg->svcs[i];
        size_t pos = 0;
        void *v;
        while (hmap_iter(&svc->nodes, &pos, NULL, NULL, &v))
            pubsub_node_free(v);
        hmap_cleanup(&svc->nodes);
        hmap_init(&svc->nodes, HERALD_MEM_PUBSUB);
        svc->nnodes = -1;
    }
}

void pubsub_registry_invalidate(struct pubsub_registry *reg)
{
    drop_cache(reg);
    log_warn("pubsub: cached state dropped after a failed commit");
}

void pubsub_account_deleted(struct server *srv, const char *bare)
{
    /* The store lost the account's subscriptions and affiliations with the account
     * (accounts_delete); cached nodes reload without them. Deletions are rare: dropping the
     * whole cache is simpler than finding the nodes. */
    if (srv->pubsub == NULL)
        return;
    drop_cache(srv->pubsub);
    log_info("pubsub: %s deleted: node cache reloads", bare);
}

struct pubsub_service *pubsub_service_find(struct pubsub_registry *reg, const char *jid)
{
    for (size_t i = 0; i < reg->nsvcs; i++)
        if (strcmp(reg->svcs[i]->jid, jid) == 0)
            return reg->svcs[i];
    return NULL;
}

/* ---- dispatch ---- */

static bool is_type(const struct stanza *st, const char *t)
{
    return st->type && strcmp(st->type, t) == 0;
}

static void dispatch_pubsub(struct pubsub_req *r)
{
    static const struct {
        const char *name;
        int set; /* 1: iq set only, 0: iq get only, -1: either */
        void (*fn)(struct pubsub_req *r);
    } ops[] = {
        {"publish", 1, pubsub_handle_publish},
        {"subscribe", 1, pubsub_handle_subscribe},
        {"unsubscribe", 1, pubsub_handle_unsubscribe},
        {"create", 1, pubsub_handle_create},
        {"retract", 1, pubsub_handle_retract},
        {"items", 0, pubsub_handle_items},
        {"subscriptions", 0, pubsub_handle_subscriptions},
        {"affiliations", 0, pubsub_handle_affiliations},
        {"options", -1, pubsub_handle_options},
        {"default", 0, pubsub_handle_default_options},
    };
    int set = is_type(r->st, "set");
    for (size_t i = 0; i < HERALD_ARRAY_LEN(ops); i++) {
        if (strcmp(r->op->name, ops[i].name) == 0 && (ops[i].set < 0 || ops[i].set == set)) {
            ops[i].fn(r);
            return;
        }
    }
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
        pubsub_handle_disco_info(&r, payload);
        return;
    }
    if (xml_is(payload, NS_DISCO_ITEMS, "query") && is_type(st, "get")) {
        pubsub_handle_disco_items(&r, payload);
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
    svc->nnodes = -1;
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
    snprintf(owner, sizeof(owner), "%s",
             reg->srv->cfg.admins.n ? reg->srv->cfg.admins.items[0] : reg->srv->cfg.domain);
    rc = pubsub_node_create(svc, name, &cfg, owner, NULL, NULL, &n);
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
    /* Callbacks still waiting for a commit (e.g. of the unavailable presences of the
     * connections closed at shutdown) name our services: run them while those exist. */
    if (reg->srv->store && store_dirty(reg->srv->store))
        store_flush(reg->srv->store);
    pubsub_expire_stop(reg);
    for (size_t i = 0; i < reg->nsvcs; i++)
        service_free(reg->svcs[i]);
    free(reg->svcs);
    pubsub_sent_free(reg);
    free(reg);
    *rp = NULL;
}
