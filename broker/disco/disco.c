/*
 * disco.c - what the server says about itself (XEP-0030 §3-4), ping (XEP-0199 §4.2) and
 * version (XEP-0092).
 */
#include <string.h>

#include "herald/config.h"
#include "herald/disco.h"
#include "herald/im.h"
#include "herald/register.h"
#include "herald/router.h"
#include "herald/server.h"

#define NS_VERSION "jabber:iq:version"

/*
 * Every query here is a get (anything else is bad-request); disco queries name no node,
 * since none of these entities has one (XEP-0030 §3.2, §4.2 item-not-found). False
 * when the request was answered with the error.
 */
static bool disco_request_check(struct server *srv, struct stanza *st,
                                const struct xml_node *payload, bool disco)
{
    if (!stanza_is_type(st, "get")) {
        router_reply_cond(srv, st, "bad-request");
        return false;
    }
    if (disco && xml_attr(payload, "node")) {
        router_reply_cond(srv, st, "item-not-found");
        return false;
    }
    return true;
}

/* Answer with q, or internal-server-error when building it failed (ok false). */
static void disco_reply(struct server *srv, struct stanza *st, struct xml_node *q, bool ok)
{
    if (q && ok)
        router_reply_result(srv, st, q);
    else
        router_reply_cond(srv, st, "internal-server-error");
}

static enum herald_rc add_feature(struct arena *a, struct xml_node *q, const char *var)
{
    struct xml_node *f = xml_add_child(a, q, NS_DISCO_INFO, "feature");
    return f ? xml_set_attr(a, f, "var", var) : HERALD_ENOMEM;
}

static enum herald_rc add_identity(struct arena *a, struct xml_node *q, const char *category,
                                   const char *type, const char *name)
{
    struct xml_node *i = xml_add_child(a, q, NS_DISCO_INFO, "identity");
    if (i == NULL || xml_set_attr(a, i, "category", category) || xml_set_attr(a, i, "type", type) ||
        (name && xml_set_attr(a, i, "name", name)))
        return HERALD_ENOMEM;
    return HERALD_OK;
}

static void server_info_cb(struct server *srv, struct stanza *st, struct xml_node *payload,
                           void *arg)
{
    (void)arg;
    if (!disco_request_check(srv, st, payload, true))
        return;
    struct arena *a = st->arena;
    struct xml_node *q = xml_elem_new(a, NS_DISCO_INFO, "query");
    bool ok = q && add_identity(a, q, "server", "im", "Herald") == HERALD_OK;
    const char *base[] = {NS_DISCO_INFO, NS_DISCO_ITEMS, NS_PING, NS_VERSION};
    for (size_t i = 0; ok && i < HERALD_ARRAY_LEN(base); i++)
        ok = add_feature(a, q, base[i]) == HERALD_OK;
    if (ok && srv->cfg.registration)
        ok = add_feature(a, q, NS_REGISTER) == HERALD_OK;
    const char *const *vars;
    size_t n = router_server_features(srv->router, &vars);
    for (size_t i = 0; ok && i < n; i++)
        ok = add_feature(a, q, vars[i]) == HERALD_OK;
    disco_reply(srv, st, q, ok);
}

static void server_items_cb(struct server *srv, struct stanza *st, struct xml_node *payload,
                            void *arg)
{
    (void)arg;
    if (!disco_request_check(srv, st, payload, true))
        return;
    struct arena *a = st->arena;
    struct xml_node *q = xml_elem_new(a, NS_DISCO_ITEMS, "query");
    bool ok = q != NULL;
    const struct config_list *svcs = &srv->cfg.pubsub_services;
    for (size_t i = 0; ok && i < svcs->n; i++) {
        const char *label = svcs->items[i];
        const char *jid =
            strchr(label, '.') ? label : arena_printf(a, "%s.%s", label, srv->cfg.domain);
        struct xml_node *it = jid ? xml_add_child(a, q, NS_DISCO_ITEMS, "item") : NULL;
        ok = it && xml_set_attr(a, it, "jid", jid) == HERALD_OK &&
             xml_set_attr(a, it, "name", "Publish-Subscribe") == HERALD_OK;
    }
    disco_reply(srv, st, q, ok);
}

static void ping_cb(struct server *srv, struct stanza *st, struct xml_node *payload, void *arg)
{
    (void)arg;
    if (!disco_request_check(srv, st, payload, false))
        return;
    router_reply_result(srv, st, NULL);
}

static void version_cb(struct server *srv, struct stanza *st, struct xml_node *payload, void *arg)
{
    (void)arg;
    if (!disco_request_check(srv, st, payload, false))
        return;
    struct arena *a = st->arena;
    struct xml_node *q = xml_elem_new(a, NS_VERSION, "query");
    struct xml_node *n = q ? xml_add_child(a, q, NS_VERSION, "name") : NULL;
    struct xml_node *v = q ? xml_add_child(a, q, NS_VERSION, "version") : NULL;
    disco_reply(srv, st, q,
                n && v && !xml_add_text(a, n, "Herald", 6) && !xml_add_text(a, v, "0.1.0", 5));
}

/* The bare JID an account query is about: its 'to', or the sender's own (no 'to'). */
static const char *account_of(struct stanza *st)
{
    const struct jid *j = st->has_to ? &st->to : &st->from;
    struct jid bare = {j->local, j->domain, NULL};
    return jid_full_str(st->arena, &bare);
}

/* May the sender learn about the account: it is its own, or the account lets it see its
 * presence (a 'from' or 'both' subscription)? Else disco#info gets <service-unavailable/>,
 * as if there were no such account (XEP-0030 §8: no directory harvesting). */
static bool may_query_account(struct server *srv, struct stanza *st, const char *account)
{
    const char *asker = jid_bare_str(st->arena, &st->from);
    enum im_subscription sub;
    bool in_roster;
    if (asker && strcmp(asker, account) == 0)
        return true;
    return asker && im_roster_relation(srv, account, asker, &sub, &in_roster) == HERALD_OK &&
           (sub == IM_SUB_FROM || sub == IM_SUB_BOTH);
}

static bool account_is_anonymous(struct server *srv, const char *account)
{
    for (struct session *s = router_sessions_of(srv->router, account, strlen(account)); s;
         s = s->next_res)
        if (s->anonymous)
            return true;
    return false;
}

/* disco#info of an account's bare JID, answered by the server (XEP-0030 §3.2,
 * RFC 6121 §8.5.1). PEP adds its identity in its own handler when present. */
static void account_info_cb(struct server *srv, struct stanza *st, struct xml_node *payload,
                            void *arg)
{
    (void)arg;
    const char *account = account_of(st);
    if (account == NULL || !may_query_account(srv, st, account)) {
        router_reply_cond(srv, st, "service-unavailable");
        return;
    }
    if (!disco_request_check(srv, st, payload, true))
        return;
    struct arena *a = st->arena;
    struct xml_node *q = xml_elem_new(a, NS_DISCO_INFO, "query");
    /* XEP-0030 registry: account/anonymous for a temporary (SASL ANONYMOUS) account. */
    const char *type = account_is_anonymous(srv, account) ? "anonymous" : "registered";
    disco_reply(srv, st, q,
                q && !add_identity(a, q, "account", type, NULL) &&
                    !add_feature(a, q, NS_DISCO_INFO) && !add_feature(a, q, NS_DISCO_ITEMS));
}

static void account_items_cb(struct server *srv, struct stanza *st, struct xml_node *payload,
                             void *arg)
{
    (void)arg;
    if (!disco_request_check(srv, st, payload, true))
        return;
    /* XEP-0030 §4.1: the account's available resources; §8: only to the account itself and
     * to those who may see its presence, everyone else gets an empty result. */
    struct arena *a = st->arena;
    struct xml_node *q = xml_elem_new(a, NS_DISCO_ITEMS, "query");
    const char *account = account_of(st);
    bool ok = q != NULL && account != NULL;
    if (ok && may_query_account(srv, st, account)) {
        for (struct session *s = router_sessions_of(srv->router, account, strlen(account)); s && ok;
             s = s->next_res) {
            if (!s->available || s->ending)
                continue;
            struct xml_node *it = xml_add_child(a, q, NS_DISCO_ITEMS, "item");
            ok = it != NULL && xml_set_attr(a, it, "jid", s->full) == HERALD_OK;
        }
    }
    disco_reply(srv, st, q, ok);
}

/* XEP-0030 §8: disco#items of an account that does not exist is an empty result, the same
 * as a stranger gets for one that does, so that neither tells whether the account exists. */
static void no_account_items_cb(struct server *srv, struct stanza *st, struct xml_node *payload,
                                void *arg)
{
    (void)arg;
    if (!disco_request_check(srv, st, payload, true))
        return;
    disco_reply(srv, st, xml_elem_new(st->arena, NS_DISCO_ITEMS, "query"), true);
}

/* XEP-0199 §4.2: a ping without 'to' (or to one's own bare JID) is for the server, which
 * answers; a ping to another account's bare JID has nobody to answer it (RFC 6121
 * §8.5.2.1.3: <service-unavailable/>). */
static void account_ping_cb(struct server *srv, struct stanza *st, struct xml_node *payload,
                            void *arg)
{
    const char *account = account_of(st);
    const char *asker = jid_bare_str(st->arena, &st->from);
    if (account == NULL || asker == NULL || strcmp(account, asker) != 0) {
        router_reply_cond(srv, st, "service-unavailable");
        return;
    }
    ping_cb(srv, st, payload, arg);
}

enum herald_rc disco_init(struct server *srv)
{
    struct router *r = srv->router;
    enum herald_rc rc;
    if ((rc = router_add_iq(r, ROUTER_IQ_SERVER, NS_DISCO_INFO, "query", server_info_cb, NULL)) ||
        (rc = router_add_iq(r, ROUTER_IQ_SERVER, NS_DISCO_ITEMS, "query", server_items_cb, NULL)) ||
        (rc = router_add_iq(r, ROUTER_IQ_SERVER, NS_PING, "ping", ping_cb, NULL)) ||
        (rc = router_add_iq(r, ROUTER_IQ_SERVER, NS_VERSION, "query", version_cb, NULL)) ||
        (rc = router_add_iq(r, ROUTER_IQ_ACCOUNT, NS_DISCO_INFO, "query", account_info_cb, NULL)) ||
        (rc = router_add_iq(r, ROUTER_IQ_ACCOUNT, NS_DISCO_ITEMS, "query", account_items_cb,
                            NULL)) ||
        (rc = router_add_iq(r, ROUTER_IQ_ACCOUNT, NS_PING, "ping", account_ping_cb, NULL)) ||
        (rc = router_add_iq(r, ROUTER_IQ_NO_ACCOUNT, NS_DISCO_ITEMS, "query", no_account_items_cb,
                            NULL)))
        return rc;
    return HERALD_OK;
}
