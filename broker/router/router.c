/*
 * router.c - session table and stanza delivery.
 *
 * Delivery rules, by the 'to' of a stanza whose 'from' is already authenticated:
 *   - a service domain (pubsub.<domain>): the service's handler gets it;
 *   - a domain we do not serve: <remote-server-not-found/> (no server-to-server yet);
 *   - the server's domain: registered iq handlers (RFC 6120 §10.3.3), messages and
 *     presence to the server are not delivered to anyone (§10.3.1-2);
 *   - an account (RFC 6121 §8): presence goes to broker/im; messages and iqs to a full
 *     JID reach that session, or fall back as §8.5.3 says; to a bare JID, messages go to
 *     the available resources by type (§8.5.2) and iqs are answered on the account's
 *     behalf (§8.5.1: handlers registered for ROUTER_IQ_ACCOUNT, e.g. roster, PEP).
 */
#include <stdlib.h>
#include <string.h>

#include "herald/buf.h"
#include "herald/hmap.h"
#include "herald/im.h"
#include "herald/log.h"
#include "herald/router.h"
#include "herald/server.h"

struct service {
    char *domain;
    router_stanza_fn fn;
    void *arg;
};

struct iq_handler {
    enum router_iq_target target;
    char *ns;
    char *name;
    router_iq_fn fn;
    void *arg;
};

struct router {
    struct server *srv;
    struct hmap by_full;
    struct hmap by_bare;
    struct session **slots;
    uint32_t *gens;
    uint32_t *free_slots;
    size_t nslots, capslots, nfree, nsessions;
    struct service *services;
    size_t nservices;
    struct iq_handler *iqs;
    size_t niqs;
    char **features;
    size_t nfeatures;
    struct buf out; /* serialisation scratch, reused for every delivery */
};

struct router *router_new(struct server *srv)
{
    struct router *r = calloc(1, sizeof(*r));
    if (r == NULL)
        return NULL;
    r->srv = srv;
    hmap_init(&r->by_full, HERALD_MEM_CONN);
    hmap_init(&r->by_bare, HERALD_MEM_CONN);
    buf_init(&r->out, 0);
    return r;
}

void router_free(struct router **rp)
{
    struct router *r = rp ? *rp : NULL;
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->nslots; i++) {
        if (r->slots[i]) {
            herald_free(HERALD_MEM_CONN, r->slots[i]->full);
            free(r->slots[i]->presence);
            herald_free(HERALD_MEM_CONN, r->slots[i]);
        }
    }
    hmap_cleanup(&r->by_full);
    hmap_cleanup(&r->by_bare);
    free(r->slots);
    free(r->gens);
    free(r->free_slots);
    for (size_t i = 0; i < r->nservices; i++)
        free(r->services[i].domain);
    free(r->services);
    for (size_t i = 0; i < r->niqs; i++) {
        free(r->iqs[i].ns);
        free(r->iqs[i].name);
    }
    free(r->iqs);
    for (size_t i = 0; i < r->nfeatures; i++)
        free(r->features[i]);
    free(r->features);
    buf_cleanup(&r->out);
    free(r);
    *rp = NULL;
}

/* ---- sessions ---- */

static enum herald_rc slot_alloc(struct router *r, uint32_t *index)
{
    if (r->nfree) {
        *index = r->free_slots[--r->nfree];
        return HERALD_OK;
    }
    if (r->nslots >= UINT32_MAX - 1)
        return HERALD_ELIMIT;
    if (r->nslots == r->capslots) {
        size_t ncap = r->capslots ? r->capslots * 2 : 64;
        /* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers, as meant */
        struct session **s = realloc(r->slots, ncap * sizeof(*s));
        if (s == NULL)
            return HERALD_ENOMEM;
        r->slots = s;
        uint32_t *g = realloc(r->gens, ncap * sizeof(*g));
        if (g == NULL)
            return HERALD_ENOMEM;
        r->gens = g;
        uint32_t *f = realloc(r->free_slots, ncap * sizeof(*f));
        if (f == NULL)
            return HERALD_ENOMEM;
        r->free_slots = f;
        r->capslots = ncap;
    }
    r->slots[r->nslots] = NULL;
    r->gens[r->nslots] = 1;
    *index = (uint32_t)r->nslots++;
    return HERALD_OK;
}

enum herald_rc router_session_add(struct router *r, const struct jid *full,
                                  const struct session_ops *ops, void *owner, bool anonymous,
                                  struct session **out)
{
    struct arena *a = arena_new(0);
    if (a == NULL)
        return HERALD_ENOMEM;
    char *fs = jid_full_str(a, full);
    char *bs = jid_bare_str(a, full);
    if (fs == NULL || bs == NULL) {
        arena_free(&a);
        return HERALD_ENOMEM;
    }
    if (hmap_get(&r->by_full, fs, strlen(fs))) {
        arena_free(&a);
        return HERALD_ECONFLICT;
    }
    struct session *s = herald_calloc(HERALD_MEM_CONN, 1, sizeof(*s));
    size_t flen = strlen(fs);
    /* One block: the full JID string, then its parts NUL-separated for s->jid. */
    if (s == NULL || (s->full = herald_malloc(HERALD_MEM_CONN, 2 * (flen + 1))) == NULL) {
        herald_free(HERALD_MEM_CONN, s);
        arena_free(&a);
        return HERALD_ENOMEM;
    }
    memcpy(s->full, fs, flen + 1);
    s->bare_len = strlen(bs);
    arena_free(&a);
    char *p = s->full + flen + 1;
    struct jid *j = &s->jid;
    if (full->local) {
        j->local = p;
        p = stpcpy(p, full->local) + 1;
    }
    j->domain = p;
    p = stpcpy(p, full->domain) + 1;
    if (full->resource) {
        j->resource = p;
        memcpy(p, full->resource, strlen(full->resource) + 1); /* sized above */
    }
    uint32_t index;
    if (slot_alloc(r, &index))
        goto fail;
    if (hmap_put(&r->by_full, s->full, strlen(s->full), s, NULL)) {
        r->free_slots[r->nfree++] = index;
        goto fail;
    }
    struct session *head = hmap_get(&r->by_bare, s->full, s->bare_len);
    if (head == NULL && hmap_put(&r->by_bare, s->full, s->bare_len, s, NULL)) {
        hmap_del(&r->by_full, s->full, strlen(s->full));
        r->free_slots[r->nfree++] = index;
        goto fail;
    }
    if (head) {
        s->next_res = head->next_res;
        head->next_res = s;
    }
    s->ref = (struct session_ref){index, r->gens[index]};
    s->ops = ops;
    s->owner = owner;
    s->anonymous = anonymous;
    r->slots[index] = s;
    r->nsessions++;
    *out = s;
    return HERALD_OK;
fail:
    herald_free(HERALD_MEM_CONN, s->full);
    herald_free(HERALD_MEM_CONN, s);
    return HERALD_ENOMEM;
}

void router_session_remove(struct router *r, struct session *s)
{
    hmap_del(&r->by_full, s->full, strlen(s->full));
    struct session *head = hmap_get(&r->by_bare, s->full, s->bare_len);
    if (head == s) {
        if (s->next_res) {
            /* Re-key on the new head: the old key bytes belong to s. */
            if (hmap_put(&r->by_bare, s->next_res->full, s->bare_len, s->next_res, NULL))
                herald_assert(!"replacing an existing key cannot allocate");
        } else {
            hmap_del(&r->by_bare, s->full, s->bare_len);
        }
    } else if (head) {
        for (struct session *p = head; p->next_res; p = p->next_res) {
            if (p->next_res == s) {
                p->next_res = s->next_res;
                break;
            }
        }
    }
    uint32_t i = s->ref.index;
    herald_assert(i < r->nslots && r->slots[i] == s);
    r->slots[i] = NULL;
    r->gens[i]++;
    r->free_slots[r->nfree++] = i;
    r->nsessions--;
    free(s->presence);
    herald_free(HERALD_MEM_CONN, s->full);
    herald_free(HERALD_MEM_CONN, s);
}

struct session *router_session_get(struct router *r, struct session_ref ref)
{
    if (ref.index >= r->nslots || r->gens[ref.index] != ref.gen)
        return NULL;
    return r->slots[ref.index];
}

struct session *router_session_by_full(struct router *r, const char *full, size_t len)
{
    return hmap_get(&r->by_full, full, len);
}

struct session *router_sessions_of(struct router *r, const char *bare, size_t len)
{
    return hmap_get(&r->by_bare, bare, len);
}

size_t router_session_count(const struct router *r)
{
    return r->nsessions;
}

void router_foreach_session(struct router *r, void (*fn)(struct session *s, void *arg), void *arg)
{
    for (size_t i = 0; i < r->nslots; i++)
        if (r->slots[i])
            fn(r->slots[i], arg);
}

/* ---- registration ---- */

enum herald_rc router_add_service(struct router *r, const char *domain, router_stanza_fn fn,
                                  void *arg)
{
    struct service *s = realloc(r->services, (r->nservices + 1) * sizeof(*s));
    if (s == NULL)
        return HERALD_ENOMEM;
    r->services = s;
    if ((s[r->nservices].domain = strdup(domain)) == NULL)
        return HERALD_ENOMEM;
    s[r->nservices].fn = fn;
    s[r->nservices].arg = arg;
    r->nservices++;
    return HERALD_OK;
}

static struct service *service_find(const struct router *r, const char *domain)
{
    for (size_t i = 0; i < r->nservices; i++)
        if (strcmp(r->services[i].domain, domain) == 0)
            return &r->services[i];
    return NULL;
}

bool router_is_local_domain(const struct router *r, const char *domain)
{
    return strcmp(domain, r->srv->cfg.domain) == 0 || service_find(r, domain) != NULL;
}

enum herald_rc router_add_iq(struct router *r, enum router_iq_target target, const char *ns,
                             const char *name, router_iq_fn fn, void *arg)
{
    struct iq_handler *h = realloc(r->iqs, (r->niqs + 1) * sizeof(*h));
    if (h == NULL)
        return HERALD_ENOMEM;
    r->iqs = h;
    h = &h[r->niqs];
    h->target = target;
    h->ns = strdup(ns);
    h->name = name ? strdup(name) : NULL;
    h->fn = fn;
    h->arg = arg;
    if (h->ns == NULL || (name && h->name == NULL)) {
        free(h->ns);
        free(h->name);
        return HERALD_ENOMEM;
    }
    r->niqs++;
    return HERALD_OK;
}

enum herald_rc router_add_server_feature(struct router *r, const char *var)
{
    char **f = realloc(r->features, (r->nfeatures + 1) * sizeof(*f));
    if (f == NULL)
        return HERALD_ENOMEM;
    r->features = f;
    if ((f[r->nfeatures] = strdup(var)) == NULL)
        return HERALD_ENOMEM;
    r->nfeatures++;
    return HERALD_OK;
}

size_t router_server_features(const struct router *r, const char *const **vars)
{
    *vars = (const char *const *)r->features;
    return r->nfeatures;
}

/* ---- delivery ---- */

enum herald_rc router_send_to_session(struct session *s, const struct xml_node *n)
{
    struct buf b;
    buf_init(&b, 0);
    enum herald_rc rc = xml_write(&b, n, XMPP_NS_CLIENT);
    if (rc == HERALD_OK)
        rc = s->ops->send(s, b.data, b.len);
    buf_cleanup(&b);
    return rc;
}

/* Serialise once into the scratch buffer, then hand the same bytes to each session. */
static const struct buf *router_serialise(struct router *r, const struct stanza *st)
{
    buf_reset(&r->out);
    if (xml_write(&r->out, st->node, XMPP_NS_CLIENT)) {
        log_error("cannot serialise a stanza for delivery: %s", herald_rc_str(r->out.err));
        return NULL;
    }
    return &r->out;
}

static void deliver_to(struct router *r, struct session *s, const struct stanza *st)
{
    const struct buf *b = router_serialise(r, st);
    if (b)
        (void)s->ops->send(s, b->data, b->len); /* on ELIMIT the session is being closed */
}

void router_reply_error(struct server *srv, const struct stanza *st, const struct xmpp_error *e)
{
    /* RFC 6120 §8.3.1: never answer an error with an error; results need no answer. */
    if (stanza_is_type(st, "error") || (st->kind == STANZA_IQ && stanza_is_type(st, "result")))
        return;
    if (st->from_str == NULL)
        return;
    struct xml_node *reply = stanza_error_reply(st->arena, st, stanza_reply_from(st), e);
    if (reply == NULL) {
        log_error("out of memory building an error reply");
        return;
    }
    router_send(srv, reply);
}

void router_reply_result(struct server *srv, const struct stanza *st, struct xml_node *payload)
{
    struct xml_node *reply = stanza_iq_result(st->arena, st, stanza_reply_from(st), payload);
    if (reply == NULL) {
        log_error("out of memory building an iq result");
        return;
    }
    router_send(srv, reply);
}

void router_reply_cond(struct server *srv, const struct stanza *st, const char *cond)
{
    struct xmpp_error e = xmpp_error_of(cond);
    router_reply_error(srv, st, &e);
}

static bool dispatch_iq(struct server *srv, struct stanza *st, enum router_iq_target target)
{
    struct router *r = srv->router;
    struct xml_node *payload = xml_first_elem(st->node);
    if (payload == NULL || payload->ns == NULL)
        return false;
    for (size_t i = 0; i < r->niqs; i++) {
        struct iq_handler *h = &r->iqs[i];
        if (h->target == target && strcmp(h->ns, payload->ns) == 0 &&
            (h->name == NULL || strcmp(h->name, payload->name) == 0)) {
            h->fn(srv, st, payload, h->arg);
            return true;
        }
    }
    return false;
}

/* RFC 6121 §8.5.2.1: a message to a bare JID with available resources. */
static void deliver_message_bare(struct server *srv, struct stanza *st, const char *bare,
                                 size_t blen)
{
    struct router *r = srv->router;
    int best = -129;
    for (struct session *s = router_sessions_of(r, bare, blen); s; s = s->next_res)
        if (s->available && s->priority >= 0 && s->priority > best)
            best = s->priority;
    bool chat = stanza_is_type(st, "chat");
    bool delivered = false;
    if (stanza_is_type(st, "groupchat")) {
        router_reply_cond(srv, st, "service-unavailable");
        return;
    }
    if (stanza_is_type(st, "error") && best < 0)
        return;
    for (struct session *s = router_sessions_of(r, bare, blen); s; s = s->next_res) {
        if (!s->available || s->priority < 0)
            continue;
        /* chat goes to the most available resource(s); normal, headline and error
         * to every non-negative one (§8.5.2.1.1). */
        if (chat && s->priority != best)
            continue;
        deliver_to(r, s, st);
        delivered = true;
    }
    if (delivered || stanza_is_type(st, "headline") || stanza_is_type(st, "error"))
        return;
    /* §8.5.2.2: no available resource; there is no offline storage (yet). */
    router_reply_cond(srv, st, "service-unavailable");
}

static void route_to_account(struct server *srv, struct stanza *st, const struct jid *to)
{
    struct router *r = srv->router;
    if (st->kind == STANZA_PRESENCE) {
        im_presence_inbound(srv, st);
        return;
    }
    struct arena *a = st->arena;
    char *bare = jid_bare_str(a, to);
    if (bare == NULL)
        return;
    size_t blen = strlen(bare);
    if (to->resource) {
        char *full = jid_full_str(a, to);
        struct session *s = full ? router_session_by_full(r, full, strlen(full)) : NULL;
        if (s) {
            deliver_to(r, s, st);
            return;
        }
        /* §8.5.3.2: no such resource. Only a chat message goes on to the account's other
         * resources (§8.5.3.2.1); an error is dropped; a headline is dropped (a notice
         * nobody asked for needs no answer); normal messages (typed so, or untyped: RFC 6121
         * §5.2.2), groupchat and iqs get <service-unavailable/>. */
        if (stanza_is_type(st, "error") || stanza_is_type(st, "headline"))
            return;
        if (st->kind == STANZA_IQ || !stanza_is_type(st, "chat")) {
            router_reply_cond(srv, st, "service-unavailable");
            return;
        }
    }
    if (!im_account_exists(srv, bare)) {
        /* §8.5.1: no such account; a few queries have their own rule (XEP-0030 §8). */
        if (st->kind == STANZA_IQ && (stanza_is_type(st, "get") || stanza_is_type(st, "set")) &&
            dispatch_iq(srv, st, ROUTER_IQ_NO_ACCOUNT))
            return;
        if (!stanza_is_type(st, "headline"))
            router_reply_cond(srv, st, "service-unavailable");
        return;
    }
    if (st->kind == STANZA_IQ) {
        if (stanza_is_type(st, "result") || stanza_is_type(st, "error"))
            return; /* replies to the account's bare JID: nobody asked */
        if (!dispatch_iq(srv, st, ROUTER_IQ_ACCOUNT))
            router_reply_cond(srv, st, "service-unavailable");
        return;
    }
    deliver_message_bare(srv, st, bare, blen);
}

void router_route(struct server *srv, struct stanza *st)
{
    struct router *r = srv->router;
    const struct herald_config *cfg = &srv->cfg;
    struct jid self;
    const struct jid *to = &st->to;
    if (!st->has_to) {
        /* RFC 6120 §10.3: no 'to' means the sender's own account (bare JID). */
        self = (struct jid){st->from.local, st->from.domain, NULL};
        to = &self;
    }
    struct service *svc = service_find(r, to->domain);
    if (svc) {
        svc->fn(srv, st, svc->arg);
        return;
    }
    if (strcmp(to->domain, cfg->domain) != 0) {
        if (st->kind != STANZA_PRESENCE)
            router_reply_cond(srv, st, "remote-server-not-found");
        return;
    }
    if (to->local == NULL) {
        /* The server itself (RFC 6120 §10.3.3 for iq). */
        if (st->kind == STANZA_IQ && (stanza_is_type(st, "get") || stanza_is_type(st, "set"))) {
            if (!dispatch_iq(srv, st, ROUTER_IQ_SERVER))
                router_reply_cond(srv, st, "service-unavailable");
        }
        return;
    }
    route_to_account(srv, st, to);
}

void router_send(struct server *srv, struct xml_node *n)
{
    struct stanza st;
    struct xmpp_error err;
    struct arena *a = arena_new(0);
    if (a == NULL)
        return;
    const char *from = xml_attr(n, "from");
    if (stanza_parse(a, n, &st, &err) || from == NULL || jid_parse(a, from, &st.from) ||
        !st.has_to) {
        log_error("internal stanza with bad addresses (from %s to %s)", from ? from : "-",
                  xml_attr(n, "to") ? xml_attr(n, "to") : "-");
        arena_free(&a);
        return;
    }
    st.from_str = from;
    router_route(srv, &st);
    arena_free(&a);
}
