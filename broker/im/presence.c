/*
 * presence.c - exchanging presence (RFC 6121 §4): initial and subsequent broadcast,
 * presence probes, unavailable presence (sent or on a session's end), directed presence,
 * and the delivery of inbound presence to local resources (§8.5.2.1.2, §8.5.3).
 *
 * A session keeps its last broadcast presence in session->presence (serialised, 'from'
 * its full JID, no 'to'): that is what probes are answered with (§4.3.2). Broadcast
 * walks the owner's roster in LMDB with a prefix cursor and serialises the stanza once;
 * each recipient gets only its "<presence to='...'" envelope. Contacts on this server
 * with no available resource are skipped: they would drop it anyway (§8.5.2.2.2).
 */
#include <stdlib.h>
#include <string.h>

#include "herald/log.h"
#include "im_int.h"

static bool is(const char *type, const char *want)
{
    return type && strcmp(type, want) == 0;
}

/* ---- per-session directed presence (§4.6) ---- */

static bool directed_has(const struct session *s, const char *jid)
{
    const struct im_session *is = s->im;
    for (size_t i = 0; is && i < is->ndirected; i++)
        if (strcmp(is->directed[i], jid) == 0)
            return true;
    return false;
}

static enum herald_rc directed_add(struct session *s, const char *jid)
{
    struct im_session *is = s->im;
    if (is == NULL) {
        if ((is = herald_calloc(HERALD_MEM_CONN, 1, sizeof(*is))) == NULL)
            return HERALD_ENOMEM;
        s->im = is;
    }
    if (is->ndirected == IM_DIRECTED_MAX)
        return HERALD_ELIMIT;
    if (is->ndirected == is->cap) {
        size_t cap = is->cap ? is->cap * 2 : 4;
        char **d = herald_realloc(HERALD_MEM_CONN, is->directed, cap * sizeof(*d));
        if (d == NULL)
            return HERALD_ENOMEM;
        is->directed = d;
        is->cap = cap;
    }
    if ((is->directed[is->ndirected] = herald_strdup(HERALD_MEM_CONN, jid)) == NULL)
        return HERALD_ENOMEM;
    is->ndirected++;
    return HERALD_OK;
}

static void directed_del(struct session *s, const char *jid)
{
    struct im_session *is = s->im;
    for (size_t i = 0; is && i < is->ndirected; i++) {
        if (strcmp(is->directed[i], jid) == 0) {
            herald_free(HERALD_MEM_CONN, is->directed[i]);
            is->directed[i] = is->directed[--is->ndirected];
            return;
        }
    }
}

void im_session_state_free(struct session *s)
{
    struct im_session *is = s->im;
    if (is == NULL)
        return;
    for (size_t i = 0; i < is->ndirected; i++)
        herald_free(HERALD_MEM_CONN, is->directed[i]);
    herald_free(HERALD_MEM_CONN, is->directed);
    herald_free(HERALD_MEM_CONN, is);
    s->im = NULL;
}

/* ---- syntax (§4.7.2) ---- */

static bool xml_space(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

/* An xs:byte, as §4.7.2.3 wants: an integer from -128 to +127. */
static bool parse_priority(const char *s, int *out)
{
    while (xml_space(*s))
        s++;
    bool neg = *s == '-';
    if (*s == '-' || *s == '+')
        s++;
    int v = 0;
    const char *digits = s;
    for (; *s >= '0' && *s <= '9'; s++) {
        v = v * 10 + (*s - '0');
        if (v > 128)
            return false;
    }
    while (xml_space(*s))
        s++;
    if (s == digits || *s != '\0' || (!neg && v > 127))
        return false;
    *out = neg ? -v : v;
    return true;
}

/* At most one <show/> with a defined value and one valid <priority/> (§4.7.2.1, 4.7.2.3). */
static bool presence_valid(const struct xml_node *n, int *prio, const char **why)
{
    static const char *const shows[] = {"away", "chat", "dnd", "xa"};
    size_t nshow = 0, nprio = 0;
    *prio = 0;
    for (const struct xml_node *ch = xml_child(n, XMPP_NS_CLIENT, NULL); ch;
         ch = xml_next(ch, XMPP_NS_CLIENT, NULL)) {
        if (strcmp(ch->name, "show") == 0) {
            bool ok = false;
            for (size_t i = 0; i < HERALD_ARRAY_LEN(shows) && !ok; i++)
                ok = strcmp(xml_text(ch), shows[i]) == 0;
            if (++nshow > 1 || !ok) {
                *why = nshow > 1 ? "more than one <show/>" : "<show/> is away, chat, dnd or xa";
                return false;
            }
        } else if (strcmp(ch->name, "priority") == 0) {
            if (++nprio > 1 || !parse_priority(xml_text(ch), prio)) {
                *why = nprio > 1 ? "more than one <priority/>"
                                 : "<priority/> is an integer from -128 to 127";
                return false;
            }
        }
    }
    return true;
}

/* ---- sending presence somewhere ---- */

/*
 * Presence from a local resource `from` to `to` (a JID string): a local account gets it
 * through the contact's-server rules (im_pres_deliver); a service gets `full` (a
 * complete stanza without 'to') or, when there is none, a presence with no payload.
 */
static void send_to(struct im_ctx *c, const char *to, const char *from, const char *type,
                    const struct im_shared *sh, const struct xml_node *full)
{
    struct jid j;
    if (jid_parse(c->a, to, &j))
        return;
    if (im_is_local_account(c->srv, &j)) {
        im_pres_deliver(c, &j, from, type, sh);
        return;
    }
    if (!router_is_local_domain(c->srv->router, j.domain))
        return; /* no server-to-server connections yet */
    struct xml_node *n =
        full ? im_presence_copy(c, full, from, to, type) : im_presence_new(c, from, to, type);
    if (n)
        router_send(c->srv, n);
}

/* A presence with no payload, shared, from `from`. */
static bool mere(struct im_ctx *c, const char *from, const char *type, const char *id,
                 struct im_shared *sh)
{
    struct xml_node *n = im_presence_new(c, from, NULL, type);
    if (n == NULL || (id && xml_set_attr(c->a, n, "id", id)) || im_share_node(n, sh)) {
        log_error("im: out of memory building a presence");
        return false;
    }
    return true;
}

static void send_mere(struct im_ctx *c, const char *to, const char *from, const char *type,
                      const char *id)
{
    struct im_shared sh;
    if (mere(c, from, type, id, &sh)) {
        send_to(c, to, from, type, &sh, NULL);
        im_shared_release(&sh);
    }
}

bool im_pres_send_current(struct im_ctx *c, const char *owner, const char *to)
{
    bool any = false;
    for (struct session *r = router_sessions_of(c->srv->router, owner, strlen(owner)); r;
         r = r->next_res) {
        struct im_shared sh;
        if (!r->available || r->presence == NULL ||
            im_share_str("presence", r->presence, strlen(r->presence), &sh))
            continue;
        send_to(c, to, r->full, NULL, &sh, NULL);
        im_shared_release(&sh);
        any = true;
    }
    return any;
}

void im_pres_send_unavailable(struct im_ctx *c, const char *owner, const char *to)
{
    for (struct session *r = router_sessions_of(c->srv->router, owner, strlen(owner)); r;
         r = r->next_res)
        if (r->available)
            send_mere(c, to, r->full, "unavailable", NULL);
}

/* ---- the contact's server: inbound presence and probes ---- */

void im_pres_deliver(struct im_ctx *c, const struct jid *to, const char *from, const char *type,
                     const struct im_shared *sh)
{
    const char *bare = jid_bare_str(c->a, to);
    const char *target = to->resource ? jid_full_str(c->a, to) : bare;
    if (bare == NULL || target == NULL)
        return;
    /* §8.5.2.1.2: a bare JID reaches every available resource; §8.5.3.1: a full JID its
     * resource if connected, and §8.5.3.2.2: nothing else. 'to' is left as addressed. */
    im_out(c, to->resource ? IM_TO_FULL : IM_TO_AVAILABLE, target, strlen(target),
           (struct session_ref){0, 0}, sh, IM_OUT_TO_JID);
    if (is(type, "unavailable") && from) {
        /* §4.6.1: who goes offline no longer needs our directed presence. */
        for (struct session *r = router_sessions_of(c->srv->router, bare, strlen(bare)); r;
             r = r->next_res)
            if (to->resource == NULL || strcmp(r->full, target) == 0)
                directed_del(r, from);
    }
}

static void reply_unsubscribed(struct im_ctx *c, const char *owner, const char *prober_bare,
                               const char *id)
{
    struct xml_node *n = im_presence_new(c, owner, prober_bare, "unsubscribed");
    if (n && (id == NULL || xml_set_attr(c->a, n, "id", id) == HERALD_OK))
        im_route(c, n);
}

void im_pres_probe_inbound(struct im_ctx *c, const char *prober, const struct jid *target,
                           const char *id, bool internal)
{
    struct router *rt = c->srv->router;
    struct jid pj;
    const char *owner = jid_bare_str(c->a, target);
    const char *pbare = jid_parse(c->a, prober, &pj) == HERALD_OK ? jid_bare_str(c->a, &pj) : NULL;
    if (owner == NULL || pbare == NULL)
        return;
    /* §4.3.2 #1: no such account. */
    if (!im_account_exists(c->srv, owner)) {
        reply_unsubscribed(c, owner, pbare, id);
        return;
    }
    struct im_item it;
    if (im_item_load(c, owner, pbare, &it))
        return;
    const char *full = target->resource ? jid_full_str(c->a, target) : NULL;
    if (!it.exists || !(it.r.sub & ROSTER_SUB_FROM)) {
        /* §4.6.6: no subscription, but maybe directed presence from this session. */
        bool any = false;
        for (struct session *r = router_sessions_of(rt, owner, strlen(owner)); r; r = r->next_res) {
            if ((full && strcmp(full, r->full) != 0) ||
                !(directed_has(r, prober) || directed_has(r, pbare)))
                continue;
            send_mere(c, prober, r->full, r->available ? NULL : "unavailable", NULL);
            any = true;
        }
        if (!any)
            reply_unsubscribed(c, owner, pbare, id); /* §4.3.2 #1 */
        return;
    }
    if (full) {
        /* §4.3.2: a probe of one resource learns only whether it is available. */
        struct session *r = router_session_by_full(rt, full, strlen(full));
        if (r && r->available)
            send_mere(c, prober, r->full, NULL, NULL);
        else
            send_mere(c, prober, full, "unavailable", id);
        return;
    }
    /* §4.3.2 #4: the last presence of each available resource, its own id kept. */
    bool any = im_pres_send_current(c, owner, prober);
    /* §4.3.2 #3 (id mirrored, §4.3.2.1). Our own probes at initial presence skip
     * contacts with no available resource: unavailable is what a client assumes. */
    if (!any && !internal)
        send_mere(c, prober, owner, "unavailable", id);
}

/* ---- the user's server: broadcast ---- */

/*
 * To every contact with a subscription to the owner's presence ('from' or 'both',
 * §4.2.2, §4.4.2, §4.5.2); with `probe`, probe every contact the owner is subscribed
 * to ('to' or 'both', §4.2.2, §4.3.1) on behalf of session s.
 */
static void broadcast_contacts(struct im_ctx *c, struct session *s, const char *owner,
                               const struct xml_node *n, const struct im_shared *sh,
                               const char *type, bool probe)
{
    struct server *srv = c->srv;
    struct store_txn *t = im_ctx_read(c);
    struct roster_iter it;
    if (t == NULL || roster_iter_open(t, STORE_DB_ROSTER, owner, &it)) {
        log_error("im: cannot read the roster of %s for a presence broadcast", owner);
        return;
    }
    /* Nothing may write while the cursor is open: probes and services wait for after. */
    struct im_jid_list *probes = NULL, *services = NULL;
    const char *contact;
    size_t clen;
    const void *v;
    size_t vlen;
    bool ok = true;
    while (ok && roster_iter_next(&it, &contact, &clen, &v, &vlen) == HERALD_OK) {
        struct roster_item r;
        if (roster_item_decode(v, vlen, &r))
            continue;
        bool account = im_str_is_local_account(srv, contact, clen);
        bool online = account && im_has_available(srv, contact, clen);
        if ((r.sub & ROSTER_SUB_FROM) && online)
            im_out(c, IM_TO_AVAILABLE, contact, clen, (struct session_ref){0, 0}, sh,
                   IM_OUT_TO_JID);
        else if ((r.sub & ROSTER_SUB_FROM) && !account)
            ok = im_jid_list_push(c, &services, contact, clen);
        if (ok && probe && (r.sub & ROSTER_SUB_TO) && online)
            ok = im_jid_list_push(c, &probes, contact, clen);
    }
    roster_iter_close(&it);
    if (!ok)
        log_error("im: out of memory broadcasting presence of %s", owner);
    for (struct im_jid_list *e = services; e; e = e->next)
        send_to(c, e->jid, s->full, type, sh, n);
    for (struct im_jid_list *e = probes; e; e = e->next) {
        struct jid j;
        if (jid_parse(c->a, e->jid, &j) == HERALD_OK)
            im_pres_probe_inbound(c, s->full, &j, NULL, true);
    }
}

/* The owner's available resources, each addressed by its full JID (§4.2.2, §4.4.2). */
static void to_own_resources(struct im_ctx *c, const char *owner, const struct session *skip,
                             const struct im_shared *sh)
{
    for (struct session *r = router_sessions_of(c->srv->router, owner, strlen(owner)); r;
         r = r->next_res)
        /* r is never NULL here; comparing it with a NULL `skip` is not a NULL check. */
        // cppcheck-suppress nullPointerRedundantCheck
        if (r->available && r != skip)
            im_out(c, IM_TO_SESSION, NULL, 0, r->ref, sh, IM_OUT_TO_SESSION);
}

/* §3.1.3 #4: every request still unanswered, again, to a newly available resource. */
static void redeliver_requests(struct im_ctx *c, struct session *s, const char *owner)
{
    struct store_txn *t = im_ctx_read(c);
    struct roster_iter it;
    if (t == NULL || roster_iter_open(t, STORE_DB_PENDING, owner, &it)) {
        log_error("im: cannot read the pending requests of %s", owner);
        return;
    }
    const char *from;
    size_t flen;
    const void *v;
    size_t vlen;
    while (roster_iter_next(&it, &from, &flen, &v, &vlen) == HERALD_OK) {
        struct roster_pending p;
        struct im_shared sh;
        if (roster_pending_decode(v, vlen, &p) || im_share_str(NULL, p.stanza, p.len, &sh)) {
            log_warn("im: unreadable pending request %.*s for %s skipped", (int)flen, from, owner);
            continue;
        }
        im_out(c, IM_TO_SESSION, NULL, 0, s->ref, &sh, 0);
        im_shared_release(&sh);
    }
    roster_iter_close(&it);
}

void im_pres_broadcast(struct im_ctx *c, struct session *s, const struct stanza *st)
{
    int prio;
    const char *why = NULL;
    if (!presence_valid(st->node, &prio, &why)) {
        im_out_error(c, st, "bad-request", why, 0);
        return;
    }
    const char *owner = im_bare_of(c, s);
    struct xml_node *n = owner ? im_presence_copy(c, st->node, s->full, NULL, NULL) : NULL;
    struct buf b;
    buf_init(&b, 0);
    struct im_shared sh;
    char *kept;
    if (n == NULL || xml_write(&b, n, XMPP_NS_CLIENT) || (kept = strdup(b.data)) == NULL) {
        log_error("im: out of memory handling presence from %s", s->full);
        buf_cleanup(&b);
        return;
    }
    buf_cleanup(&b);
    if (im_share_str("presence", kept, strlen(kept), &sh)) {
        log_error("im: cannot share presence from %s", s->full);
        free(kept);
        return;
    }
    bool initial = !s->available;
    free(s->presence);
    s->presence = kept; /* freed by the router with the session (free()) */
    s->available = true;
    s->priority = prio;
    /* The account's own resources first, this one included (implicit self-subscription). */
    to_own_resources(c, owner, NULL, &sh);
    broadcast_contacts(c, s, owner, n, &sh, NULL, initial);
    im_shared_release(&sh);
    if (!initial)
        return;
    /* A new presence session also learns of the account's other resources... */
    for (struct session *r = router_sessions_of(c->srv->router, owner, strlen(owner)); r;
         r = r->next_res) {
        struct im_shared rs;
        if (r == s || !r->available || r->presence == NULL ||
            im_share_str("presence", r->presence, strlen(r->presence), &rs))
            continue;
        im_out(c, IM_TO_SESSION, NULL, 0, s->ref, &rs, IM_OUT_TO_SESSION);
        im_shared_release(&rs);
    }
    /* ...and of the subscription requests still waiting for an answer. */
    redeliver_requests(c, s, owner);
}

/* §4.6.3 #2-3: unavailable to whoever got directed presence; the list is then empty. */
static void directed_unavailable(struct im_ctx *c, struct session *s, const char *owner,
                                 const struct xml_node *n, const struct im_shared *sh,
                                 bool was_available)
{
    /* Detached first: delivering may edit directed lists (im_pres_deliver). */
    struct im_session *is = s->im;
    s->im = NULL;
    for (size_t i = 0; is && i < is->ndirected; i++) {
        const char *e = is->directed[i];
        struct jid j;
        if (jid_parse(c->a, e, &j))
            continue;
        if (was_available) {
            /* A subscriber has just had the broadcast (§4.6.1: subscriptions first). */
            const char *eb = jid_bare_str(c->a, &j);
            struct im_item it;
            if (eb && im_item_load(c, owner, eb, &it) == HERALD_OK && it.exists &&
                (it.r.sub & ROSTER_SUB_FROM))
                continue;
        }
        send_to(c, e, s->full, "unavailable", sh, n);
    }
    s->im = is;
    im_session_state_free(s);
}

static void go_unavailable(struct im_ctx *c, struct session *s, const char *owner,
                           const struct xml_node *n, bool echo)
{
    struct im_shared sh;
    if (im_share_node(n, &sh)) {
        log_error("im: cannot serialise unavailable presence of %s", s->full);
        return;
    }
    bool was = s->available;
    if (was) {
        /* §4.5.2: to the account's resources (the sender too when it asked) and the
         * subscribers, then (§4.6.3) to the entities that had directed presence. */
        if (echo)
            im_out(c, IM_TO_SESSION, NULL, 0, s->ref, &sh, IM_OUT_TO_SESSION);
        to_own_resources(c, owner, s, &sh);
        broadcast_contacts(c, s, owner, n, &sh, "unavailable", false);
    }
    directed_unavailable(c, s, owner, n, &sh, was);
    im_shared_release(&sh);
    s->available = false;
    s->priority = 0;
    free(s->presence);
    s->presence = NULL;
}

void im_pres_unavailable(struct im_ctx *c, struct session *s, const struct stanza *st)
{
    const char *owner = im_bare_of(c, s);
    struct xml_node *n = owner ? im_presence_copy(c, st->node, s->full, NULL, "unavailable") : NULL;
    if (n == NULL) {
        log_error("im: out of memory handling presence from %s", s->full);
        return;
    }
    go_unavailable(c, s, owner, n, true);
}

void im_pres_session_end(struct im_ctx *c, struct session *s)
{
    const char *owner = im_bare_of(c, s);
    /* §4.5.2: gone without a word, it is unavailable all the same. */
    struct xml_node *n = owner ? im_presence_new(c, s->full, NULL, "unavailable") : NULL;
    if (n == NULL) {
        log_error("im: out of memory ending the session %s", s->full);
        im_session_state_free(s);
        return;
    }
    go_unavailable(c, s, owner, n, false);
    struct session *head = router_sessions_of(c->srv->router, owner, strlen(owner));
    if (s->anonymous && head == s && s->next_res == NULL) {
        /* An anonymous account lives as long as its last session: its roster goes with
         * it, and its contacts hear what removing each item would tell them (§2.5.2). */
        im_sub_cancel_all(c, owner);
        struct store_txn *t = im_ctx_write(c);
        enum herald_rc rc = t ? roster_forget(t, owner) : HERALD_EIO;
        if (rc)
            im_ctx_fail(c, "anonymous roster delete", rc);
    }
}

/* ---- the user's server: directed presence and probes ---- */

void im_pres_directed(struct im_ctx *c, struct session *s, struct stanza *st)
{
    const char *to = jid_full_str(c->a, &st->to);
    const char *owner = im_bare_of(c, s);
    if (to == NULL || owner == NULL)
        return;
    if (is(st->type, "unavailable")) {
        directed_del(s, to); /* §4.6.1 */
    } else if (!is(st->type, "error") && !directed_has(s, to)) {
        /* §4.6.3 #1: a subscriber is in the broadcast already while we are available, and
         * so are the account's own resources (§4.5.2). */
        const char *tb = jid_bare_str(c->a, &st->to);
        bool subscriber = false;
        if (s->available && tb) {
            struct im_item it;
            subscriber = strcmp(tb, owner) == 0 || (im_item_load(c, owner, tb, &it) == HERALD_OK &&
                                                    it.exists && (it.r.sub & ROSTER_SUB_FROM));
        }
        enum herald_rc rc = subscriber ? HERALD_OK : directed_add(s, to);
        if (rc == HERALD_ELIMIT) {
            im_out_error(c, st, "policy-violation", "too many directed presences", 0);
            return;
        }
        if (rc)
            log_error("im: out of memory noting directed presence from %s", s->full);
    }
    if (!im_is_local_account(c->srv, &st->to)) {
        router_route(c->srv, st); /* services, the server, other domains */
        return;
    }
    struct xml_node *n = im_presence_copy(c, st->node, s->full, NULL, st->type);
    struct im_shared sh;
    if (n == NULL || im_share_node(n, &sh)) {
        log_error("im: out of memory handling presence from %s", s->full);
        return;
    }
    im_pres_deliver(c, &st->to, s->full, st->type, &sh);
    im_shared_release(&sh);
}

void im_pres_probe_outbound(struct im_ctx *c, struct session *s, struct stanza *st)
{
    /* §4.3: a client's probe is processed, never an error by itself. */
    if (im_is_local_account(c->srv, &st->to))
        im_pres_probe_inbound(c, s->full, &st->to, st->id, false);
    else
        router_route(c->srv, st);
}
