/*
 * im.c - instant messaging and presence (RFC 6121): the module's entry points, the
 * dispatch of presence stanzas to the roles of RFC 6121 (outbound: the user's server;
 * inbound: the contact's server), the local "wire" between them, and the roster queries
 * other modules use (pubsub access models).
 *
 * roster.c handles jabber:iq:roster (§2), subscription.c the subscription state machine
 * (§3, Appendix A), presence.c broadcast, probes and directed presence (§4).
 */
#include <stdlib.h>
#include <string.h>

#include "herald/accounts.h"
#include "herald/log.h"
#include "herald/pubsub.h"
#include "herald/users.h"
#include "im_int.h"

enum herald_rc im_new(struct server *srv, struct im **out)
{
    struct im *im = herald_calloc(HERALD_MEM_MISC, 1, sizeof(*im));
    if (im == NULL)
        return HERALD_ENOMEM;
    im->srv = srv;
    enum herald_rc rc =
        router_add_iq(srv->router, ROUTER_IQ_ACCOUNT, NS_ROSTER, "query", im_roster_iq_cb, im);
    if (rc) {
        herald_free(HERALD_MEM_MISC, im);
        return rc;
    }
    *out = im;
    return HERALD_OK;
}

static void free_session_state_cb(struct session *s, void *arg)
{
    (void)arg;
    im_session_state_free(s);
}

void im_free(struct im **imp)
{
    struct im *im = imp ? *imp : NULL;
    if (im == NULL)
        return;
    im_orphan_batches(im);
    /* Sessions still bound at shutdown never went through im_session_ending. */
    if (im->srv->router)
        router_foreach_session(im->srv->router, free_session_state_cb, NULL);
    herald_free(HERALD_MEM_MISC, im);
    *imp = NULL;
}

/* ---- helpers shared by the im files ---- */

const char *im_bare_of(struct im_ctx *c, const struct session *s)
{
    return arena_strndup(c->a, s->full, s->bare_len);
}

bool im_is_local_account(const struct server *srv, const struct jid *j)
{
    return j->local != NULL && strcmp(j->domain, srv->cfg.domain) == 0;
}

bool im_str_is_local_account(const struct server *srv, const char *s, size_t len)
{
    const char *at = memchr(s, '@', len);
    const char *slash = memchr(s, '/', len);
    if (at == NULL || (slash && slash < at))
        return false;
    const char *dom = at + 1;
    size_t dlen = (slash ? (size_t)(slash - dom) : len - (size_t)(dom - s));
    return dlen == strlen(srv->cfg.domain) && memcmp(dom, srv->cfg.domain, dlen) == 0;
}

bool im_has_available(struct server *srv, const char *bare, size_t len)
{
    for (struct session *s = router_sessions_of(srv->router, bare, len); s; s = s->next_res)
        if (s->available)
            return true;
    return false;
}

bool im_account_exists(struct server *srv, const char *bare)
{
    for (struct session *s = router_sessions_of(srv->router, bare, strlen(bare)); s;
         s = s->next_res)
        if (!s->ending)
            return true;
    struct store_txn *t;
    return store_read(srv->store, &t) == HERALD_OK && users_exists(t, bare) == HERALD_OK;
}

bool im_jid_list_push(struct im_ctx *c, struct im_jid_list **l, const char *s, size_t len)
{
    struct im_jid_list *e = arena_alloc(c->a, sizeof(*e));
    if (e == NULL || (e->jid = arena_strndup(c->a, s, len)) == NULL)
        return false;
    e->next = *l;
    *l = e;
    return true;
}

struct xml_node *im_presence_new(struct im_ctx *c, const char *from, const char *to,
                                 const char *type)
{
    struct xml_node *n = xml_elem_new(c->a, XMPP_NS_CLIENT, "presence");
    if (n == NULL || (from && xml_set_attr(c->a, n, "from", from)) ||
        (to && xml_set_attr(c->a, n, "to", to)) || (type && xml_set_attr(c->a, n, "type", type)))
        return NULL;
    return n;
}

struct xml_node *im_presence_copy(struct im_ctx *c, const struct xml_node *src, const char *from,
                                  const char *to, const char *type)
{
    struct xml_node *n = im_presence_new(c, from, to, type);
    if (n == NULL)
        return NULL;
    const char *id = xml_attr(src, "id");
    const char *lang = xml_attr_ns(src, XML_NS_XML, "lang");
    if ((id && xml_set_attr(c->a, n, "id", id)) ||
        (lang && xml_set_attr_ns(c->a, n, XML_NS_XML, "xml", "lang", lang)))
        return NULL;
    for (const struct xml_node *ch = src->first_child; ch; ch = ch->next) {
        struct xml_node *cp = xml_copy(c->a, ch);
        if (cp == NULL)
            return NULL;
        xml_append(n, cp);
    }
    return n;
}

void im_route(struct im_ctx *c, struct xml_node *n)
{
    const char *to = xml_attr(n, "to");
    const char *from = xml_attr(n, "from");
    const char *type = xml_attr(n, "type");
    struct jid tj, fj;
    if (to == NULL || from == NULL || jid_parse(c->a, to, &tj) || jid_parse(c->a, from, &fj)) {
        log_error("im: routing a presence with bad addresses (from %s to %s)", from ? from : "-",
                  to ? to : "-");
        return;
    }
    if (!im_is_local_account(c->srv, &tj)) {
        router_send(c->srv, n); /* services; other domains are not reachable yet */
        return;
    }
    enum im_sub_type sub;
    if (im_sub_type_of(type, &sub)) {
        const char *owner = jid_bare_str(c->a, &tj);
        const char *contact = jid_bare_str(c->a, &fj);
        if (owner && contact)
            im_sub_inbound(c, sub, owner, contact, n);
        return;
    }
    if (type && strcmp(type, "probe") == 0) {
        im_pres_probe_inbound(c, from, &tj, xml_attr(n, "id"), false);
        return;
    }
    if (xml_set_attr(c->a, n, "to", NULL))
        return;
    struct im_shared sh;
    if (im_share_node(n, &sh)) {
        log_error("im: cannot serialise a presence");
        return;
    }
    im_pres_deliver(c, &tj, from, type, &sh);
    im_shared_release(&sh);
}

/* ---- entry points ---- */

static bool is(const char *type, const char *want)
{
    return type && strcmp(type, want) == 0;
}

void im_presence_outbound(struct server *srv, struct session *from, struct stanza *st)
{
    struct im_ctx c;
    if (im_ctx_begin(&c, srv)) {
        log_error("im: out of memory handling presence from %s", from->full);
        return;
    }
    enum im_sub_type sub;
    const char *t = st->type;
    bool was_available = from->available;
    if (!st->has_to) {
        /* RFC 6121 §4.2-§4.5: broadcast presence. Other types without 'to' address the
         * user's own account, where subscriptions and probes mean nothing. */
        if (t == NULL)
            im_pres_broadcast(&c, from, st);
        else if (is(t, "unavailable"))
            im_pres_unavailable(&c, from, st);
    } else if (im_sub_type_of(t, &sub)) {
        im_sub_outbound(&c, from, st, sub);
    } else if (is(t, "probe")) {
        im_pres_probe_outbound(&c, from, st);
    } else {
        im_pres_directed(&c, from, st); /* available, unavailable or error (§4.6) */
    }
    im_ctx_end(&c);
    /* Pubsub cares about availability: last items on presence, temporary subscriptions
     * (XEP-0060 §4.3, §13.5). */
    if (from->available != was_available || (!st->has_to && t && is(t, "unavailable")))
        pubsub_presence_changed(srv, from, from->available, was_available);
}

void im_presence_inbound(struct server *srv, struct stanza *st)
{
    if (!st->has_to || st->from_str == NULL)
        return; /* the router gives us only addressed presence from a known sender */
    struct im_ctx c;
    if (im_ctx_begin(&c, srv)) {
        log_error("im: out of memory handling presence for %s", xml_attr(st->node, "to"));
        return;
    }
    /* Work on a copy stamped as the router saw it: from the sender, to the account. */
    const char *to = jid_full_str(c.a, &st->to);
    struct xml_node *n = to ? im_presence_copy(&c, st->node, st->from_str, to, st->type) : NULL;
    if (n == NULL)
        log_error("im: out of memory handling presence for %s", xml_attr(st->node, "to"));
    else
        im_route(&c, n);
    im_ctx_end(&c);
}

void im_session_bound(struct server *srv, struct session *s)
{
    (void)srv;
    s->available = false;
    s->interested = false;
    s->priority = 0;
}

void im_session_ending(struct server *srv, struct session *s)
{
    struct im_ctx c;
    if (im_ctx_begin(&c, srv)) {
        log_error("im: out of memory ending the session %s", s->full);
        im_session_state_free(s);
        return;
    }
    /* Sessions mostly end while closed connections are reaped, after the turn has
     * written its output: what they tell others goes out with the next turn. */
    c.next_turn = true;
    bool was_available = s->available;
    im_pres_session_end(&c, s);
    im_ctx_end(&c);
    pubsub_presence_changed(srv, s, false, was_available);
}

enum herald_rc im_account_delete(struct server *srv, const char *bare)
{
    struct im_ctx c;
    enum herald_rc rc = im_ctx_begin(&c, srv);
    if (rc)
        return rc;
    struct store_txn *t = im_ctx_read(&c);
    rc = t ? users_exists(t, bare) : HERALD_EIO;
    if (rc == HERALD_OK) {
        im_sub_cancel_all(&c, bare);
        t = im_ctx_write(&c);
        rc = t ? accounts_delete(t, bare) : HERALD_EIO;
        if (rc)
            im_ctx_fail(&c, "account delete", rc);
    }
    im_ctx_end(&c);
    return rc == HERALD_OK && c.failed ? HERALD_EIO : rc;
}

/* ---- roster queries for other modules ---- */

enum herald_rc im_roster_relation(struct server *srv, const char *owner, const char *contact,
                                  enum im_subscription *sub, bool *in_roster)
{
    struct store_txn *t;
    struct roster_item it;
    *sub = IM_SUB_NONE;
    *in_roster = false;
    enum herald_rc rc = store_read(srv->store, &t);
    if (rc == HERALD_OK)
        rc = roster_item_get(t, owner, contact, &it);
    if (rc == HERALD_ENOTFOUND)
        return HERALD_OK;
    if (rc)
        return rc;
    static const enum im_subscription map[] = {[ROSTER_SUB_NONE] = IM_SUB_NONE,
                                               [ROSTER_SUB_TO] = IM_SUB_TO,
                                               [ROSTER_SUB_FROM] = IM_SUB_FROM,
                                               [ROSTER_SUB_BOTH] = IM_SUB_BOTH};
    *sub = map[it.sub];
    *in_roster = true;
    return HERALD_OK;
}

bool im_roster_in_groups(struct server *srv, const char *owner, const char *contact,
                         const char *const *groups, size_t ngroups)
{
    struct store_txn *t;
    struct roster_item it;
    if (store_read(srv->store, &t) || roster_item_get(t, owner, contact, &it))
        return false;
    for (size_t i = 0; i < it.ngroups; i++)
        for (size_t j = 0; j < ngroups && groups[j]; j++)
            if (strlen(groups[j]) == it.groups[i].len &&
                memcmp(groups[j], it.groups[i].s, it.groups[i].len) == 0)
                return true;
    return false;
}
