/*
 * c2s_bind.c - resource binding (RFC 6120 §7), the legacy session request (RFC 6121
 * §1.4 / RFC 3921 §3), and the session's transport operations.
 *
 * Conflict policy (RFC 6120 §7.7.2.2) is the resource_conflict setting: replace the
 * existing session (it gets a <conflict/> stream error), reject the new bind with
 * <conflict/>, or rename (the new session gets a server-made resource).
 */
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>

#include "herald/c2s.h"
#include "herald/im.h"
#include "herald/log.h"
#include "herald/store.h"
#include "herald/users.h"
#include "stream_int.h"

/* ---- the session's transport ---- */

static enum herald_rc c2s_session_send(struct session *s, const char *data, size_t len)
{
    struct c2s *c = s->owner;
    if (c->state == C2S_CLOSED)
        return HERALD_EIO;
    return c2s_send(c, data, len);
}

static enum herald_rc c2s_session_send_shared(struct session *s, struct refbuf *prefix,
                                              struct refbuf *body)
{
    struct c2s *c = s->owner;
    if (c->state == C2S_CLOSED || c->conn == NULL)
        return HERALD_EIO;
    enum herald_rc rc = conn_send_ref(c->conn, prefix, body);
    if (rc == HERALD_ELIMIT)
        c2s_overflow(c);
    return rc;
}

static void c2s_session_close(struct session *s, const char *condition, const char *text)
{
    struct c2s *c = s->owner;
    if (condition) {
        c2s_stream_error(c, condition, text);
    } else if (c->state != C2S_CLOSED) {
        c2s_send_str(c, "</stream:stream>");
        c->state = C2S_CLOSED;
        conn_close(c->conn);
    }
}

const struct session_ops c2s_session_ops = {c2s_session_send, c2s_session_send_shared,
                                            c2s_session_close};

/* ---- binding ---- */

static void bind_reply_error(struct c2s *c, struct xml_node *iq, struct arena *a, const char *cond,
                             const char *text)
{
    struct stanza st = {.node = iq, .arena = a, .kind = STANZA_IQ, .id = xml_attr(iq, "id")};
    struct xmpp_error e = xmpp_error_of(cond);
    e.text = text;
    struct xml_node *r = stanza_error_reply(a, &st, NULL, &e);
    if (r)
        c2s_send_node(c, r);
}

static enum herald_rc random_resource(struct arena *a, const char **out)
{
    unsigned char r[8];
    if (RAND_bytes(r, sizeof(r)) != 1)
        return HERALD_EIO;
    *out = arena_printf(a, "herald-%02x%02x%02x%02x%02x%02x%02x%02x", r[0], r[1], r[2], r[3], r[4],
                        r[5], r[6], r[7]);
    return *out ? HERALD_OK : HERALD_ENOMEM;
}

static size_t resources_of(struct server *srv, const char *bare)
{
    size_t n = 0;
    for (struct session *s = router_sessions_of(srv->router, bare, strlen(bare)); s;
         s = s->next_res)
        n++;
    return n;
}

void c2s_handle_bind_iq(struct c2s *c, struct xml_node *iq, struct arena *a)
{
    struct server *srv = c->srv;
    const struct herald_config *cfg = &srv->cfg;
    const char *type = xml_attr(iq, "type");
    struct xml_node *b = xml_child(iq, NS_BIND, "bind");
    if (xml_attr(iq, "id") == NULL || type == NULL || strcmp(type, "set") != 0 ||
        xml_count_elems(iq) != 1 || xml_count_elems(b) > 1) {
        /* The <bind/> schema (RFC 6120 Appendix A.5) holds at most one <resource/>. */
        bind_reply_error(c, iq, a, "bad-request", NULL);
        return;
    }
    const char *res = xml_child_text(b, NS_BIND, "resource");
    const char *prepped = NULL;
    if (res && *res) {
        if (jid_prep_resource(a, res, strlen(res), &prepped)) {
            bind_reply_error(c, iq, a, "bad-request", "not a valid resource");
            return;
        }
    } else if (random_resource(a, &prepped)) {
        bind_reply_error(c, iq, a, "internal-server-error", NULL);
        return;
    }
    struct jid j = {c->user, cfg->domain, prepped};
    char *bare = jid_bare_str(a, &j);
    char *full = jid_full_str(a, &j);
    if (bare == NULL || full == NULL) {
        bind_reply_error(c, iq, a, "internal-server-error", NULL);
        return;
    }
    struct store_txn *t;
    enum herald_rc rc = c->anonymous ? HERALD_OK : store_read(srv->store, &t);
    if (rc == HERALD_OK && !c->anonymous)
        rc = users_exists(t, bare);
    if (rc == HERALD_ENOTFOUND) {
        /* Removed since it authenticated (XEP-0077 §3.2, `herald user del`). */
        c2s_stream_error(c, "not-authorized", "the account was removed");
        return;
    }
    if (rc) {
        bind_reply_error(c, iq, a, "internal-server-error", NULL);
        return;
    }
    struct session *old = router_session_by_full(srv->router, full, strlen(full));
    if (old) {
        switch ((enum config_conflict)cfg->resource_conflict) {
        case CONFIG_CONFLICT_REJECT:
            bind_reply_error(c, iq, a, "conflict", "that resource is in use");
            return;
        case CONFIG_CONFLICT_RENAME:
            if (random_resource(a, &j.resource)) {
                bind_reply_error(c, iq, a, "internal-server-error", NULL);
                return;
            }
            break;
        case CONFIG_CONFLICT_REPLACE: {
            struct c2s *oc = old->owner;
            im_session_ending(srv, old);
            router_session_remove(srv->router, old);
            oc->session = NULL;
            c2s_stream_error(oc, "conflict", "replaced by a new session");
            break;
        }
        }
    }
    if (resources_of(srv, bare) >= cfg->max_sessions_per_user) {
        bind_reply_error(c, iq, a, "resource-constraint", "too many sessions");
        return;
    }
    struct session *s;
    rc = router_session_add(srv->router, &j, &c2s_session_ops, c, c->anonymous, &s);
    if (rc) {
        bind_reply_error(c, iq, a, rc == HERALD_ECONFLICT ? "conflict" : "internal-server-error",
                         NULL);
        return;
    }
    s->encrypted = c->tls;
    c->session = s;
    c->state = C2S_BOUND;
    if (conn_set_deadline(c->conn, 0) != HERALD_OK) /* disarming cannot fail */
        herald_assert(!"disarming a deadline failed");
    conn_set_label(c->conn, s->full);
    conn_set_action(c->conn, "serving the session");
    struct xml_node *rb = xml_elem_new(a, NS_BIND, "bind");
    struct xml_node *jid = rb ? xml_add_child(a, rb, NS_BIND, "jid") : NULL;
    struct stanza st = {.node = iq, .arena = a, .kind = STANZA_IQ, .id = xml_attr(iq, "id")};
    struct xml_node *r = jid && xml_add_text(a, jid, s->full, strlen(s->full)) == HERALD_OK
                             ? stanza_iq_result(a, &st, NULL, rb)
                             : NULL;
    if (r)
        c2s_send_node(c, r);
    log_info("[%s] bound", conn_log_ctx(c->conn));
    im_session_bound(srv, s);
}

/* RFC 6121 §1.4 (the legacy session establishment of RFC 3921): nothing left to do. */
static void session_iq_cb(struct server *srv, struct stanza *st, struct xml_node *payload,
                          void *arg)
{
    (void)payload, (void)arg;
    if (stanza_is_type(st, "set"))
        router_reply_result(srv, st, NULL);
    else
        router_reply_cond(srv, st, "bad-request");
}

enum herald_rc c2s_init(struct server *srv)
{
    enum herald_rc rc =
        router_add_iq(srv->router, ROUTER_IQ_ACCOUNT, NS_SESSION, "session", session_iq_cb, NULL);
    if (rc == HERALD_OK)
        rc = router_add_iq(srv->router, ROUTER_IQ_SERVER, NS_SESSION, "session", session_iq_cb,
                           NULL);
    return rc;
}
