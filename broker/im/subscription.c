/*
 * subscription.c - presence subscriptions (RFC 6121 §3): the state machine of
 * Appendix A for both roles, pre-approval (§3.4) and the inbound requests kept until the
 * contact answers (§3.1.3).
 *
 * The nine states of Appendix A.1 are made of the roster item (subscription none, to,
 * from, both and the 'ask' flag for "Pending Out") and of a STORE_DB_PENDING record for
 * "Pending In", which exists without a roster item when the contact never added the
 * user (A.1 #3: the server "MUST NOT create a roster item"). The tables below are the
 * RFC's tables A.2.1-A.3.4 row for row: whether the stanza goes on (route or deliver),
 * and the new state. A roster push follows every change of the roster item; a change of
 * "Pending In" alone changes no item and pushes nothing.
 */
#include <string.h>
#include <time.h>

#include "herald/log.h"
#include "im_int.h"

enum a_state {
    S_NONE,
    S_NONE_OUT,
    S_NONE_IN,
    S_NONE_OUT_IN,
    S_TO,
    S_TO_IN,
    S_FROM,
    S_FROM_OUT,
    S_BOTH,
    S_COUNT
};

/* What a table row says. PREAPPROVE: note a pre-approval (§3.4.2 #3-4). */
enum a_action { A_DROP, A_PASS, A_PREAPPROVE };

struct a_rule {
    enum a_action act;
    enum a_state next;
};

#define PASS(s)                                                                                    \
    {                                                                                              \
        A_PASS, s                                                                                  \
    }
#define DROP(s)                                                                                    \
    {                                                                                              \
        A_DROP, s                                                                                  \
    }

/* A.2.1 Table 2: outbound "subscribe". */
static const struct a_rule out_subscribe[S_COUNT] = {
    [S_NONE] = PASS(S_NONE_OUT),
    [S_NONE_OUT] = PASS(S_NONE_OUT),
    [S_NONE_IN] = PASS(S_NONE_OUT_IN),
    [S_NONE_OUT_IN] = PASS(S_NONE_OUT_IN),
    [S_TO] = PASS(S_TO),
    [S_TO_IN] = PASS(S_TO_IN),
    [S_FROM] = PASS(S_FROM_OUT),
    [S_FROM_OUT] = PASS(S_FROM_OUT),
    [S_BOTH] = PASS(S_BOTH),
};
/* A.2.2 Table 3: outbound "unsubscribe". */
static const struct a_rule out_unsubscribe[S_COUNT] = {
    [S_NONE] = PASS(S_NONE),           [S_NONE_OUT] = PASS(S_NONE), [S_NONE_IN] = PASS(S_NONE_IN),
    [S_NONE_OUT_IN] = PASS(S_NONE_IN), [S_TO] = PASS(S_NONE),       [S_TO_IN] = PASS(S_NONE_IN),
    [S_FROM] = PASS(S_FROM),           [S_FROM_OUT] = PASS(S_FROM), [S_BOTH] = PASS(S_FROM),
};
/* A.2.3 Table 4: outbound "subscribed". */
static const struct a_rule out_subscribed[S_COUNT] = {
    [S_NONE] = {A_PREAPPROVE, S_NONE}, [S_NONE_OUT] = {A_PREAPPROVE, S_NONE_OUT},
    [S_NONE_IN] = PASS(S_FROM),        [S_NONE_OUT_IN] = PASS(S_FROM_OUT),
    [S_TO] = {A_PREAPPROVE, S_TO},     [S_TO_IN] = PASS(S_BOTH),
    [S_FROM] = DROP(S_FROM),           [S_FROM_OUT] = DROP(S_FROM_OUT),
    [S_BOTH] = DROP(S_BOTH),
};
/* A.2.4 Table 5: outbound "unsubscribed" (the S.N. rows may cancel a pre-approval). */
static const struct a_rule out_unsubscribed[S_COUNT] = {
    [S_NONE] = DROP(S_NONE),    [S_NONE_OUT] = DROP(S_NONE_OUT),
    [S_NONE_IN] = PASS(S_NONE), [S_NONE_OUT_IN] = PASS(S_NONE_OUT),
    [S_TO] = DROP(S_TO),        [S_TO_IN] = PASS(S_TO),
    [S_FROM] = PASS(S_NONE),    [S_FROM_OUT] = PASS(S_NONE_OUT),
    [S_BOTH] = PASS(S_TO),
};
/* A.3.1 Table 6: inbound "subscribe" (pre-approval [1] is applied before the table). */
static const struct a_rule in_subscribe[S_COUNT] = {
    [S_NONE] = PASS(S_NONE_IN),    [S_NONE_OUT] = PASS(S_NONE_OUT_IN),
    [S_NONE_IN] = DROP(S_NONE_IN), [S_NONE_OUT_IN] = DROP(S_NONE_OUT_IN),
    [S_TO] = PASS(S_TO_IN),        [S_TO_IN] = DROP(S_TO_IN),
    [S_FROM] = DROP(S_FROM),       [S_FROM_OUT] = DROP(S_FROM_OUT),
    [S_BOTH] = DROP(S_BOTH),
};
/* A.3.2 Table 7: inbound "unsubscribe". */
static const struct a_rule in_unsubscribe[S_COUNT] = {
    [S_NONE] = DROP(S_NONE),    [S_NONE_OUT] = DROP(S_NONE_OUT),
    [S_NONE_IN] = PASS(S_NONE), [S_NONE_OUT_IN] = PASS(S_NONE_OUT),
    [S_TO] = DROP(S_TO),        [S_TO_IN] = PASS(S_TO),
    [S_FROM] = PASS(S_NONE),    [S_FROM_OUT] = PASS(S_NONE_OUT),
    [S_BOTH] = PASS(S_TO),
};
/* A.3.3 Table 8: inbound "subscribed". */
static const struct a_rule in_subscribed[S_COUNT] = {
    [S_NONE] = DROP(S_NONE),         [S_NONE_OUT] = PASS(S_TO),   [S_NONE_IN] = DROP(S_NONE_IN),
    [S_NONE_OUT_IN] = PASS(S_TO_IN), [S_TO] = DROP(S_TO),         [S_TO_IN] = DROP(S_TO_IN),
    [S_FROM] = DROP(S_FROM),         [S_FROM_OUT] = PASS(S_BOTH), [S_BOTH] = DROP(S_BOTH),
};
/* A.3.4 Table 9: inbound "unsubscribed". */
static const struct a_rule in_unsubscribed[S_COUNT] = {
    [S_NONE] = DROP(S_NONE),           [S_NONE_OUT] = PASS(S_NONE), [S_NONE_IN] = DROP(S_NONE_IN),
    [S_NONE_OUT_IN] = PASS(S_NONE_IN), [S_TO] = PASS(S_NONE),       [S_TO_IN] = PASS(S_NONE_IN),
    [S_FROM] = DROP(S_FROM),           [S_FROM_OUT] = PASS(S_FROM), [S_BOTH] = PASS(S_FROM),
};

static const char *const type_names[] = {[IM_SUBSCRIBE] = "subscribe",
                                         [IM_SUBSCRIBED] = "subscribed",
                                         [IM_UNSUBSCRIBE] = "unsubscribe",
                                         [IM_UNSUBSCRIBED] = "unsubscribed"};

bool im_sub_type_of(const char *type, enum im_sub_type *out)
{
    for (size_t i = 0; type && i < HERALD_ARRAY_LEN(type_names); i++) {
        if (strcmp(type, type_names[i]) == 0) {
            *out = (enum im_sub_type)i;
            return true;
        }
    }
    return false;
}

/* ---- state ---- */

struct sub_state {
    struct im_item item;
    bool pending; /* "Pending In": a STORE_DB_PENDING record */
};

enum herald_rc im_pending_exists(struct im_ctx *c, const char *owner, const char *contact,
                                 bool *exists)
{
    struct roster_pending p;
    struct store_txn *t = im_ctx_read(c);
    enum herald_rc rc = t ? roster_pending_get(t, owner, contact, &p) : HERALD_EIO;
    *exists = rc == HERALD_OK;
    if (rc == HERALD_ENOTFOUND || rc == HERALD_EPROTO) {
        if (rc == HERALD_EPROTO)
            log_warn("im: unreadable pending request %s for %s ignored", contact, owner);
        rc = HERALD_OK;
    }
    return rc;
}

static enum herald_rc state_load(struct im_ctx *c, const char *owner, const char *contact,
                                 struct sub_state *st)
{
    enum herald_rc rc = im_item_load(c, owner, contact, &st->item);
    return rc ? rc : im_pending_exists(c, owner, contact, &st->pending);
}

static enum a_state state_of(const struct sub_state *st)
{
    const struct roster_item *r = &st->item.r;
    bool ask = st->item.exists && (r->flags & ROSTER_F_ASK);
    switch (st->item.exists ? r->sub : ROSTER_SUB_NONE) {
    case ROSTER_SUB_TO:
        return st->pending ? S_TO_IN : S_TO;
    case ROSTER_SUB_FROM:
        return ask ? S_FROM_OUT : S_FROM;
    case ROSTER_SUB_BOTH:
        return S_BOTH;
    default:
        if (ask)
            return st->pending ? S_NONE_OUT_IN : S_NONE_OUT;
        return st->pending ? S_NONE_IN : S_NONE;
    }
}

static bool has_from(enum a_state s)
{
    return s == S_FROM || s == S_FROM_OUT || s == S_BOTH;
}

/* The roster item and pending flag a state stands for. */
static void state_split(enum a_state s, uint8_t *sub, bool *ask, bool *pending)
{
    static const struct {
        uint8_t sub;
        bool ask, pending;
    } m[S_COUNT] = {
        [S_NONE] = {ROSTER_SUB_NONE, false, false},
        [S_NONE_OUT] = {ROSTER_SUB_NONE, true, false},
        [S_NONE_IN] = {ROSTER_SUB_NONE, false, true},
        [S_NONE_OUT_IN] = {ROSTER_SUB_NONE, true, true},
        [S_TO] = {ROSTER_SUB_TO, false, false},
        [S_TO_IN] = {ROSTER_SUB_TO, false, true},
        [S_FROM] = {ROSTER_SUB_FROM, false, false},
        [S_FROM_OUT] = {ROSTER_SUB_FROM, true, false},
        [S_BOTH] = {ROSTER_SUB_BOTH, false, false},
    };
    *sub = m[s].sub;
    *ask = m[s].ask;
    *pending = m[s].pending;
}

/*
 * Move to `next`: rewrite the roster item when its part of the state changes (creating it
 * only when the new state needs one: "Pending In" alone has no item) and drop the pending
 * record when "Pending In" ends. Adding "Pending In" is the caller's job (it stores the
 * request). A subscription from the contact consumes a pre-approval.
 */
static enum herald_rc state_set(struct im_ctx *c, const char *owner, const char *contact,
                                struct sub_state *st, enum a_state next, uint8_t set_flags,
                                uint8_t clear_flags)
{
    uint8_t sub;
    bool ask, pending;
    state_split(next, &sub, &ask, &pending);
    struct roster_item *r = &st->item.r;
    uint8_t flags = st->item.exists ? r->flags : 0;
    flags =
        (uint8_t)((flags & ~(ROSTER_F_ASK | clear_flags)) | set_flags | (ask ? ROSTER_F_ASK : 0));
    if (sub & ROSTER_SUB_FROM)
        flags &= (uint8_t)~ROSTER_F_APPROVED;
    bool item_changes = st->item.exists ? (r->sub != sub || r->flags != flags)
                                        : (sub != ROSTER_SUB_NONE || flags != 0);
    enum herald_rc rc = HERALD_OK;
    if (st->pending && !pending) {
        struct store_txn *t = im_ctx_write(c);
        rc = t ? roster_pending_del(t, owner, contact) : HERALD_EIO;
        if (rc == HERALD_ENOTFOUND)
            rc = HERALD_OK;
        if (rc)
            im_ctx_fail(c, "pending request delete", rc);
        else
            st->pending = false;
    }
    if (rc == HERALD_OK && item_changes) {
        r->sub = sub;
        r->flags = flags;
        rc = im_item_save(c, owner, contact, &st->item);
    }
    return rc;
}

/* A subscription stanza from `from` to `to` (bare JIDs), keeping the client's id and
 * children (a <status/> note, a nickname...) when `src` is given. */
static struct xml_node *sub_stanza(struct im_ctx *c, const struct xml_node *src, const char *from,
                                   const char *to, enum im_sub_type type)
{
    const char *t = type_names[type];
    struct xml_node *n =
        src ? im_presence_copy(c, src, from, to, t) : im_presence_new(c, from, to, t);
    if (n == NULL)
        log_error("im: out of memory building a %s stanza", t);
    return n;
}

static void route_new(struct im_ctx *c, const char *from, const char *to, enum im_sub_type type)
{
    struct xml_node *n = sub_stanza(c, NULL, from, to, type);
    if (n)
        im_route(c, n);
}

/* ---- the user's server (outbound, A.2) ---- */

void im_sub_outbound(struct im_ctx *c, struct session *s, const struct stanza *st,
                     enum im_sub_type type)
{
    struct server *srv = c->srv;
    const char *user = im_bare_of(c, s);
    /* §3.1.2 #1, §3.1.3: subscriptions are between bare JIDs. */
    const char *contact = jid_bare_str(c->a, &st->to);
    if (user == NULL || contact == NULL) {
        log_error("im: out of memory handling a subscription from %s", s->full);
        return;
    }
    if (strcmp(user, contact) == 0)
        return; /* one's own presence needs no subscription (§4.2.2) */
    bool local = router_is_local_domain(srv->router, st->to.domain);
    if (!local) {
        /* §3.1.2 #3: no server-to-server connections: the request cannot be routed. */
        if (type == IM_SUBSCRIBE)
            im_out_error(c, st, "remote-server-not-found", NULL, 0);
        return;
    }
    bool account = im_is_local_account(srv, &st->to);
    if (type == IM_SUBSCRIBE && account && !im_account_exists(srv, contact)) {
        im_out_error(c, st, "item-not-found", "no such account", 0); /* §3.1.2 */
        return;
    }
    if (!roster_key_fits(user, contact)) {
        im_out_error(c, st, "not-acceptable", "the address is too long to store", 0);
        return;
    }
    struct sub_state ss;
    if (state_load(c, user, contact, &ss))
        return;
    enum a_state cur = state_of(&ss);
    static const struct a_rule *const tables[] = {[IM_SUBSCRIBE] = out_subscribe,
                                                  [IM_SUBSCRIBED] = out_subscribed,
                                                  [IM_UNSUBSCRIBE] = out_unsubscribe,
                                                  [IM_UNSUBSCRIBED] = out_unsubscribed};
    struct a_rule rule = tables[type][cur];
    uint8_t set = 0, clear = 0;
    if (rule.act == A_PREAPPROVE) {
        if (ss.item.exists && (ss.item.r.flags & ROSTER_F_APPROVED))
            return;              /* already noted */
        set = ROSTER_F_APPROVED; /* §3.4.2 #3-4: noted and pushed, never routed */
    }
    if (type == IM_UNSUBSCRIBED && rule.act == A_DROP)
        clear = ROSTER_F_APPROVED; /* §3.2.2 #2: cancels a pre-approval, not routed */
    /* A new item must fit in the roster (max_roster_items). */
    uint8_t nsub;
    bool nask, npend;
    state_split(rule.next, &nsub, &nask, &npend);
    if (!ss.item.exists && (nsub != ROSTER_SUB_NONE || nask || set)) {
        bool room = true;
        if (im_roster_has_room(c, user, &room))
            return;
        if (!room) {
            im_out_error(c, st, "not-acceptable", "the roster is full", 0);
            return;
        }
    }
    /* The user's state is settled before the contact's server sees the stanza: both are
     * here, and the contact's answer may come back at once (pre-approval, §3.1.3 #2). */
    struct xml_node *n = NULL;
    if (rule.act == A_PASS && (n = sub_stanza(c, st->node, user, contact, type)) == NULL)
        return;
    /* §3.2.2: while still subscribed, the contact sees the user's resources leave. */
    if (n && type == IM_UNSUBSCRIBED && has_from(cur))
        im_pres_send_unavailable(c, user, contact);
    if (state_set(c, user, contact, &ss, rule.next, set, clear) || n == NULL)
        return;
    im_route(c, n); /* stamped with the user's bare JID (§3 implementation note) */
    /* §3.1.5: once approved, the contact gets the user's current presence. */
    if (type == IM_SUBSCRIBED)
        im_pres_send_current(c, user, contact);
}

/* ---- the contact's server (inbound, A.3) ---- */

static void deliver_interested(struct im_ctx *c, const char *owner, struct xml_node *n)
{
    /* §3.1.6 #1, §3.2.3 #1, §3.3.3 #1: before the push, to the interested resources. */
    if (xml_set_attr(c->a, n, "to", NULL) == HERALD_OK)
        im_out_node(c, IM_TO_INTERESTED, owner, (struct session_ref){0, 0}, n, IM_OUT_TO_JID);
}

/* §3.1.3 #3-4: keep the request (one per contact) and give it to the available
 * resources; later ones get it at their initial presence (presence.c). */
static void keep_request(struct im_ctx *c, const char *owner, const char *contact,
                         struct sub_state *ss, enum a_state next, struct xml_node *n)
{
    uint64_t count = 0;
    struct store_txn *t = im_ctx_read(c);
    enum herald_rc rc = t ? roster_pending_count(t, owner, &count) : HERALD_EIO;
    if (rc) {
        log_error("im: cannot count the pending requests of %s: %s", owner, herald_rc_str(rc));
        return;
    }
    if (count >= c->srv->cfg.max_pending_subscriptions) {
        /* RFC 6121 §3.1.3 security warning: a bound on stored requests. */
        struct xml_node *e = im_presence_new(c, owner, contact, "error");
        struct xmpp_error xe = xmpp_error_of("resource-constraint");
        xe.text = "too many subscription requests are waiting";
        struct xml_node *err = e ? stanza_error_elem(c->a, &xe) : NULL;
        if (err) {
            xml_append(e, err);
            im_route(c, e);
        }
        log_info("im: subscription request from %s to %s refused: %llu pending", contact, owner,
                 (unsigned long long)count);
        return;
    }
    struct buf b;
    buf_init(&b, c->srv->cfg.max_stanza_size * 2);
    if (xml_write(&b, n, XMPP_NS_CLIENT)) {
        log_error("im: cannot serialise a subscription request: %s", herald_rc_str(b.err));
        buf_cleanup(&b);
        return;
    }
    struct roster_pending p = {(uint64_t)time(NULL), b.data, b.len};
    t = im_ctx_write(c);
    rc = t ? roster_pending_put(t, owner, contact, &p) : HERALD_EIO;
    if (rc) {
        im_ctx_fail(c, "pending request write", rc);
        buf_cleanup(&b);
        return;
    }
    ss->pending = true;
    struct im_shared sh;
    if (state_set(c, owner, contact, ss, next, 0, 0) == HERALD_OK &&
        im_share_str(NULL, b.data, b.len, &sh) == HERALD_OK) {
        im_out(c, IM_TO_AVAILABLE, owner, strlen(owner), (struct session_ref){0, 0}, &sh, 0);
        im_shared_release(&sh);
    }
    buf_cleanup(&b);
}

void im_sub_inbound(struct im_ctx *c, enum im_sub_type type, const char *owner, const char *contact,
                    struct xml_node *n)
{
    /* §8.5.1: subscription stanzas for an account that does not exist are ignored. */
    if (!im_account_exists(c->srv, owner) || strcmp(owner, contact) == 0 ||
        !roster_key_fits(owner, contact))
        return;
    /* Whatever full JID it came from, it is the contact's bare JID that acts (§3). */
    if (xml_set_attr(c->a, n, "from", contact) || xml_set_attr(c->a, n, "to", owner))
        return;
    struct sub_state ss;
    if (state_load(c, owner, contact, &ss))
        return;
    enum a_state cur = state_of(&ss);
    switch (type) {
    case IM_SUBSCRIBE: {
        bool approved = ss.item.exists && (ss.item.r.flags & ROSTER_F_APPROVED);
        if (has_from(cur) || (approved && (cur == S_NONE || cur == S_NONE_OUT || cur == S_TO))) {
            /* §3.1.3 #2, A.3.1 [1][2], §3.4.2: answered for the owner, not delivered. */
            enum a_state next = cur == S_NONE       ? S_FROM
                                : cur == S_NONE_OUT ? S_FROM_OUT
                                : cur == S_TO       ? S_BOTH
                                                    : cur;
            route_new(c, owner, contact, IM_SUBSCRIBED);
            if (next != cur && state_set(c, owner, contact, &ss, next, 0, 0) == HERALD_OK)
                im_pres_send_current(c, owner, contact);
            return;
        }
        struct a_rule rule = in_subscribe[cur];
        if (rule.act == A_PASS)
            keep_request(c, owner, contact, &ss, rule.next, n);
        return; /* otherwise already pending: A.3.1 "S.N." */
    }
    case IM_UNSUBSCRIBE: {
        struct a_rule rule = in_unsubscribe[cur];
        if (rule.act != A_PASS)
            return;
        deliver_interested(c, owner, n);
        if (state_set(c, owner, contact, &ss, rule.next, 0, 0))
            return;
        /* §3.3.3 #3: the user no longer sees the contact's resources. */
        if (has_from(cur) && !has_from(rule.next))
            im_pres_send_unavailable(c, owner, contact);
        route_new(c, owner, contact, IM_UNSUBSCRIBED); /* A.3.2 [1] */
        return;
    }
    case IM_SUBSCRIBED:
    case IM_UNSUBSCRIBED: {
        struct a_rule rule = (type == IM_SUBSCRIBED ? in_subscribed : in_unsubscribed)[cur];
        if (rule.act != A_PASS)
            return; /* §3.1.6, §3.2.3: silently ignored */
        deliver_interested(c, owner, n);
        if (state_set(c, owner, contact, &ss, rule.next, 0, 0))
            return; /* recorded in c: nothing of it is sent */
        return;
    }
    }
}

/* ---- §2.5.2: removing an item ---- */

void im_sub_removed(struct im_ctx *c, const char *owner, const char *contact,
                    const struct im_item *old, bool pending_in)
{
    uint8_t sub = old->exists ? old->r.sub : ROSTER_SUB_NONE;
    bool ask = old->exists && (old->r.flags & ROSTER_F_ASK);
    if (pending_in) {
        struct store_txn *t = im_ctx_write(c);
        enum herald_rc rc = t ? roster_pending_del(t, owner, contact) : HERALD_EIO;
        if (rc && rc != HERALD_ENOTFOUND) {
            im_ctx_fail(c, "pending request delete", rc);
            return;
        }
    }
    /* #1 (and a request still pending: it is withdrawn too) */
    if ((sub & ROSTER_SUB_TO) || ask)
        route_new(c, owner, contact, IM_UNSUBSCRIBE);
    /* #2 (and a request never answered: it is denied) */
    if (sub & ROSTER_SUB_FROM)
        im_pres_send_unavailable(c, owner, contact);
    if ((sub & ROSTER_SUB_FROM) || pending_in)
        route_new(c, owner, contact, IM_UNSUBSCRIBED);
}

void im_sub_cancel_all(struct im_ctx *c, const char *owner)
{
    struct im_jid_list *items = NULL, *pending = NULL;
    struct roster_iter it;
    const char *k;
    size_t klen;
    const void *v;
    size_t vlen;
    struct store_txn *t = im_ctx_read(c);
    enum herald_rc rc = t ? HERALD_OK : HERALD_EIO;
    /* Collect first: nothing may write while a cursor is open. */
    for (int db = 0; rc == HERALD_OK && db < 2; db++) {
        struct im_jid_list **l = db ? &pending : &items;
        if ((rc = roster_iter_open(t, db ? STORE_DB_PENDING : STORE_DB_ROSTER, owner, &it)))
            break;
        while ((rc = roster_iter_next(&it, &k, &klen, &v, &vlen)) == HERALD_OK)
            if (!im_jid_list_push(c, l, k, klen)) {
                rc = HERALD_ENOMEM;
                break;
            }
        roster_iter_close(&it);
        if (rc == HERALD_ENOTFOUND)
            rc = HERALD_OK;
    }
    if (rc) {
        /* Telling only some contacts would leave the others' rosters wrong. */
        im_ctx_fail(c, "roster read", rc);
        return;
    }
    for (struct im_jid_list *e = items; e && rc == HERALD_OK; e = e->next) {
        struct im_item old;
        bool pend = false;
        if ((rc = im_item_load(c, owner, e->jid, &old)) == HERALD_OK &&
            (rc = im_pending_exists(c, owner, e->jid, &pend)) == HERALD_OK)
            im_sub_removed(c, owner, e->jid, &old, pend);
    }
    /* Requests from contacts not in the roster: each is denied. */
    for (struct im_jid_list *e = pending; e && rc == HERALD_OK; e = e->next) {
        bool pend = false;
        struct im_item none = {0};
        if ((rc = im_pending_exists(c, owner, e->jid, &pend)) == HERALD_OK && pend)
            im_sub_removed(c, owner, e->jid, &none, true);
    }
    if (rc)
        im_ctx_fail(c, "roster read", rc);
}
