/*
 * register.c - in-band registration (XEP-0077): account creation before authentication
 * (§3.1), and for authenticated sessions the registration query (§3.1), password change
 * (§3.3) and cancellation (§3.2).
 *
 * Both paths share the forms, the password write and the answer held back until the
 * turn's commit. They differ in how answers travel: before authentication there is no
 * session and no address, so the stream layer hands in a send callback; afterwards the
 * answer is a stanza like any other, from the address the request was sent to, routed.
 *
 * Policy, where the XEP leaves a choice:
 *   - everything is service-unavailable while `registration` is off, as before
 *     authentication and as disco#info says (the feature is not offered);
 *   - anonymous sessions have no account: no password to change (forbidden), nothing to
 *     cancel (registration-required);
 *   - a new password crosses only an encrypted stream (§3.3 not-authorized otherwise),
 *     even on the plaintext listener for local tools;
 *   - the <username/> of a password change must name the session's own account.
 */
#include <stdlib.h>
#include <string.h>

#include "herald/accounts.h"
#include "herald/im.h"
#include "herald/log.h"
#include "herald/pubsub.h"
#include "herald/register.h"
#include "herald/router.h"
#include "herald/server.h"
#include "herald/store.h"

/* ---- answers ---- */

/* Where answers go: through `send` (no session yet) or routed (send NULL). */
struct reg_req {
    struct server *srv;
    const struct stanza *st;
    const char *from; /* the address answering; NULL before authentication */
    register_send_cb send;
    void *arg;
};

static void reg_deliver(struct server *srv, register_send_cb send, void *arg,
                        struct xml_node *reply)
{
    if (send)
        send(arg, reply);
    else
        router_send(srv, reply);
}

static struct xml_node *reg_reply_build(struct arena *a, const struct reg_req *r, const char *cond,
                                        const char *text, struct xml_node *payload)
{
    if (cond == NULL)
        return stanza_iq_result(a, r->st, r->from, payload);
    struct xmpp_error e = xmpp_error_of(cond);
    e.text = text;
    return stanza_error_reply(a, r->st, r->from, &e);
}

/* Answer now: a result with `payload` (cond NULL) or an error. */
static void reg_reply(const struct reg_req *r, const char *cond, const char *text,
                      struct xml_node *payload)
{
    struct xml_node *reply = reg_reply_build(r->st->arena, r, cond, text, payload);
    if (reply == NULL) {
        log_error("register: out of memory building a reply");
        return;
    }
    reg_deliver(r->srv, r->send, r->arg, reply);
}

/*
 * An answer held back until the turn's commit. It is queued before the write, so that a
 * write is never made that nobody will answer: `result` goes out if the write was merged
 * (wrote) and the commit succeeded, `failure` otherwise (internal-server-error, or the
 * write's own error once known).
 */
struct reg_pending {
    struct server *srv;
    struct arena *a;
    struct xml_node *result;
    struct xml_node *failure;
    bool wrote;
    register_send_cb send;
    void *arg;
    const char *ended; /* a cancelled account, whose streams end after the result */
};

/*
 * XEP-0077 §3.2: from the removal on, the account's sessions are `ending` (what they send
 * is dropped, so nothing writes for the account again); once it is committed, every
 * stream the account had ends with <not-authorized/>. Should the commit fail, the
 * account and its sessions go on.
 */
static void reg_sessions_mark(struct server *srv, const char *bare, bool ending)
{
    for (struct session *s = router_sessions_of(srv->router, bare, strlen(bare)); s;
         s = s->next_res)
        s->ending = ending;
}

static void reg_sessions_end(struct server *srv, const char *bare)
{
    struct session *s = router_sessions_of(srv->router, bare, strlen(bare));
    while (s) {
        struct session *next = s->next_res; /* closing never unlinks at once, but be safe */
        s->ops->close(s, "not-authorized", "the account was removed");
        s = next;
    }
}

static void reg_committed_cb(void *arg, enum herald_rc rc)
{
    struct reg_pending *p = arg;
    bool ok = p->wrote && rc == HERALD_OK;
    reg_deliver(p->srv, p->send, p->arg, ok ? p->result : p->failure);
    if (ok && p->ended)
        reg_sessions_end(p->srv, p->ended);
    else if (p->ended)
        reg_sessions_mark(p->srv, p->ended, false);
    arena_free(&p->a);
    free(p);
}

/* Queue the answer to `r` for the commit; NULL (the client told why) on failure. */
static struct reg_pending *reg_pending_queue(const struct reg_req *r)
{
    struct reg_pending *p = calloc(1, sizeof(*p));
    struct arena *a = p ? arena_new(0) : NULL;
    if (a) {
        *p = (struct reg_pending){r->srv, a, NULL, NULL, false, r->send, r->arg, NULL};
        p->result = reg_reply_build(a, r, NULL, NULL, NULL);
        p->failure = reg_reply_build(a, r, "internal-server-error", NULL, NULL);
        if (p->result && p->failure &&
            store_on_commit(r->srv->store, reg_committed_cb, p) == HERALD_OK)
            return p;
    }
    arena_free(&a);
    free(p);
    reg_reply(r, "resource-constraint", "try again later", NULL);
    return NULL;
}

/* The write failed: the held-back answer becomes this error. */
static void reg_pending_fail(struct reg_pending *p, const struct reg_req *r, const char *cond,
                             const char *text)
{
    struct xml_node *e = reg_reply_build(p->a, r, cond, text, NULL);
    if (e)
        p->failure = e; /* else the internal-server-error built in advance goes out */
}

/* ---- the password write, shared by registration and password change ---- */

/*
 * Store the credentials of `bare` in its own request transaction; the answer waits for
 * the commit. create: a new account (§3.1), else a new password (§3.3).
 */
static void reg_password_write(const struct reg_req *r, const char *bare, const char *pw,
                               bool create)
{
    const struct herald_config *cfg = &r->srv->cfg;
    struct reg_pending *p = reg_pending_queue(r);
    if (p == NULL)
        return;
    struct store_txn *t;
    enum herald_rc rc = store_begin(r->srv->store, &t);
    if (rc == HERALD_OK) {
        rc = accounts_set_password(t, bare, pw, strlen(pw), (uint32_t)cfg->scram_iterations,
                                   create ? ACCOUNTS_CREATE : ACCOUNTS_UPDATE);
        if (rc)
            store_abort(&t);
        else
            rc = store_commit(&t);
    }
    switch (rc) {
    case HERALD_OK:
        p->wrote = true;
        log_notice("register: %s %s", create ? "registered account" : "new password for", bare);
        return;
    case HERALD_ECONFLICT:
        reg_pending_fail(p, r, "conflict", "that user name is taken");
        return;
    case HERALD_ENOTFOUND:
        reg_pending_fail(p, r, "registration-required", "the account does not exist");
        return;
    case HERALD_EINVAL:
        reg_pending_fail(p, r, "not-acceptable", "that password is not allowed");
        return;
    default:
        log_error("register: cannot store the credentials of %s: %s", bare, herald_rc_str(rc));
        return;
    }
}

/*
 * The registration form (§3.1): the fields to fill in, or with <registered/> the values
 * an account has (never its password, which is not kept). NULL on arena exhaustion.
 */
static struct xml_node *reg_form(struct arena *a, const char *registered_as)
{
    static const char instr[] = "Choose a user name and password for this server.";
    struct xml_node *q = xml_elem_new(a, NS_REGISTER, "query");
    if (q == NULL)
        return NULL;
    if (registered_as == NULL) {
        struct xml_node *ins = xml_add_child(a, q, NS_REGISTER, "instructions");
        if (ins == NULL || xml_add_text(a, ins, instr, sizeof(instr) - 1))
            return NULL;
    } else if (xml_add_child(a, q, NS_REGISTER, "registered") == NULL) {
        return NULL;
    }
    struct xml_node *u = xml_add_child(a, q, NS_REGISTER, "username");
    if (u == NULL || xml_add_child(a, q, NS_REGISTER, "password") == NULL ||
        (registered_as && xml_add_text(a, u, registered_as, strlen(registered_as))))
        return NULL;
    return q;
}

static bool is_type(const struct stanza *st, const char *type)
{
    return st->type && strcmp(st->type, type) == 0;
}

/* ---- before authentication (§3.1) ---- */

void register_handle_unauthenticated(struct server *srv, struct xml_node *iq, struct arena *a,
                                     register_send_cb send, void *arg)
{
    const struct herald_config *cfg = &srv->cfg;
    struct stanza st = {.node = iq,
                        .arena = a,
                        .kind = STANZA_IQ,
                        .id = xml_attr(iq, "id"),
                        .type = xml_attr(iq, "type")};
    struct reg_req r = {srv, &st, NULL, send, arg};
    struct xml_node *q = xml_child(iq, NS_REGISTER, "query");
    if (st.id == NULL || st.type == NULL || q == NULL) {
        reg_reply(&r, "bad-request", NULL, NULL);
        return;
    }
    if (!cfg->registration) {
        reg_reply(&r, "service-unavailable", NULL, NULL);
        return;
    }
    if (is_type(&st, "get")) {
        struct xml_node *form = reg_form(a, NULL);
        reg_reply(&r, form ? NULL : "internal-server-error", NULL, form);
        return;
    }
    if (!is_type(&st, "set")) {
        reg_reply(&r, "bad-request", NULL, NULL);
        return;
    }
    if (xml_child(q, NS_REGISTER, "remove")) {
        /* Cancellation needs an authenticated stream: before it, nobody is registered
         * (§3.2 error table: <unexpected-request/>, no 'from'). */
        reg_reply(&r, "unexpected-request", NULL, NULL);
        return;
    }
    const char *user = xml_child_text(q, NS_REGISTER, "username");
    const char *pw = xml_child_text(q, NS_REGISTER, "password");
    if (user == NULL || pw == NULL || !*user || !*pw) {
        reg_reply(&r, "not-acceptable", "username and password are required", NULL);
        return;
    }
    const char *bare;
    if (accounts_bare_jid(a, cfg->domain, user, &bare)) {
        reg_reply(&r, "jid-malformed", "not a valid user name", NULL);
        return;
    }
    reg_password_write(&r, bare, pw, true);
}

/* ---- authenticated sessions (§3.1 query, §3.2, §3.3) ---- */

/* §3.2: <remove/> alone; the account, its roster and its subscriptions go. */
static void reg_cancel(const struct reg_req *r, const struct session *s, const char *bare,
                       struct xml_node *q)
{
    struct xml_node *rm = xml_child(q, NS_REGISTER, "remove");
    if (rm == NULL || xml_count_elems(q) != 1) {
        reg_reply(r, "bad-request", "<remove/> must be the only child of <query/>", NULL);
        return;
    }
    if (s->anonymous) {
        reg_reply(r, "registration-required", "an anonymous session has no account", NULL);
        return;
    }
    struct reg_pending *p = reg_pending_queue(r);
    if (p == NULL)
        return;
    if ((p->ended = arena_strdup(p->a, bare)) == NULL)
        return; /* the internal-server-error built in advance goes out */
    enum herald_rc rc = im_account_delete(r->srv, bare);
    if (rc == HERALD_OK) {
        p->wrote = true;
        pubsub_account_deleted(r->srv, bare);
        reg_sessions_mark(r->srv, bare, true);
        log_notice("register: account %s cancelled by %s", bare, s->full);
    } else if (rc == HERALD_ENOTFOUND) {
        reg_pending_fail(p, r, "registration-required", "the account does not exist");
    } else {
        log_error("register: cannot delete the account %s: %s", bare, herald_rc_str(rc));
    }
}

/* §3.3: <username/> (the account's own) and a non-empty <password/>. */
static void reg_change_password(const struct reg_req *r, const struct session *s, const char *bare,
                                struct xml_node *q)
{
    const struct herald_config *cfg = &r->srv->cfg;
    struct arena *a = r->st->arena;
    if (s->anonymous) {
        reg_reply(r, "forbidden", "an anonymous session has no password", NULL);
        return;
    }
    if (!s->encrypted) {
        reg_reply(r, "not-authorized", "change passwords over an encrypted stream only", NULL);
        return;
    }
    const char *user = xml_child_text(q, NS_REGISTER, "username");
    const char *pw = xml_child_text(q, NS_REGISTER, "password");
    if (user == NULL || *user == '\0' || pw == NULL) {
        reg_reply(r, "bad-request", "a password change needs <username/> and <password/>", NULL);
        return;
    }
    const char *named;
    if (accounts_bare_jid(a, cfg->domain, user, &named)) {
        reg_reply(r, "bad-request", "not a valid user name", NULL);
        return;
    }
    if (strcmp(named, bare) != 0) {
        reg_reply(r, "forbidden", "only the account's own password can be changed", NULL);
        return;
    }
    if (*pw == '\0') {
        /* §3.3: an empty password never replaces the existing one. */
        reg_reply(r, "not-acceptable", "the password may not be empty", NULL);
        return;
    }
    reg_password_write(r, bare, pw, false);
}

static void register_iq_cb(struct server *srv, struct stanza *st, struct xml_node *payload,
                           void *arg)
{
    (void)arg;
    struct reg_req r = {srv, st, stanza_reply_from(st), NULL, NULL};
    if (r.from == NULL) {
        log_error("register: out of memory answering %s", st->from_str ? st->from_str : "-");
        return;
    }
    if (!srv->cfg.registration) {
        reg_reply(&r, "service-unavailable", NULL, NULL);
        return;
    }
    /* Only a client session manages its own account (the iq went to the server or to
     * the account's bare JID; another account's is not its business). */
    const char *bare = st->from.local ? jid_bare_str(st->arena, &st->from) : NULL;
    const char *target = st->has_to && st->to.local ? jid_bare_str(st->arena, &st->to) : bare;
    struct session *s =
        st->from_str ? router_session_by_full(srv->router, st->from_str, strlen(st->from_str))
                     : NULL;
    if (bare == NULL || target == NULL || s == NULL || strcmp(bare, target) != 0) {
        reg_reply(&r, "forbidden", NULL, NULL);
        return;
    }
    if (is_type(st, "get")) {
        if (s->anonymous) {
            reg_reply(&r, "forbidden", "an anonymous session has no account", NULL);
            return;
        }
        struct xml_node *form = reg_form(st->arena, s->jid.local);
        reg_reply(&r, form ? NULL : "internal-server-error", NULL, form);
        return;
    }
    if (xml_child(payload, NS_REGISTER, "remove"))
        reg_cancel(&r, s, bare, payload);
    else
        reg_change_password(&r, s, bare, payload);
}

enum herald_rc register_init(struct server *srv)
{
    enum herald_rc rc =
        router_add_iq(srv->router, ROUTER_IQ_SERVER, NS_REGISTER, "query", register_iq_cb, NULL);
    if (rc == HERALD_OK)
        rc = router_add_iq(srv->router, ROUTER_IQ_ACCOUNT, NS_REGISTER, "query", register_iq_cb,
                           NULL);
    return rc;
}
