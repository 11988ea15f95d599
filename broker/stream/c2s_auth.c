/*
 * c2s_auth.c - STARTTLS (RFC 6120 §5), SASL (RFC 6120 §6) and in-band registration before
 * authentication (XEP-0077 §3.1).
 *
 * Failed authentications are answered late: the delay doubles with each recent failure
 * from the same address (net_auth_failure), and the connection reads nothing meanwhile,
 * so guessing passwords costs an attacker time, not us CPU. After auth_max_failures on
 * one stream, it ends with <policy-violation/> (RFC 6120 §6.4.5).
 */
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "herald/accounts.h"
#include "herald/base64.h"
#include "herald/jid.h"
#include "herald/log.h"
#include "herald/precis.h"
#include "herald/store.h"
#include "herald/users.h"
#include "stream_int.h"

/* ---- STARTTLS ---- */

void c2s_handle_starttls(struct c2s *c)
{
    if (c->tls || c->state != C2S_NEGOTIATE || xml_stream_buffered(c->xs) > 0 ||
        conn_listener_kind(c->conn) == LISTENER_C2S_TLS) {
        /* RFC 6120 §5.4.2.2: failure, then close stream and connection. */
        c2s_send_str(c, "<failure xmlns='" NS_TLS "'/></stream:stream>");
        c->state = C2S_CLOSED;
        conn_close(c->conn);
        return;
    }
    c2s_send_str(c, "<proceed xmlns='" NS_TLS "'/>");
    if (conn_starttls(c->conn) || xml_stream_restart(c->xs)) {
        c->state = C2S_CLOSED;
        conn_close(c->conn);
        return;
    }
    c->tls = true;
    c->header_sent = false;
    c->state = C2S_WAIT_HEADER;
    c->restart = true;
}

/* ---- SASL callbacks ---- */

static enum herald_rc cb_lookup(void *arg, const char *authcid, enum scram_hash hash,
                                struct scram_creds *out)
{
    struct c2s *c = arg;
    struct store_txn *t;
    char bare[JID_PART_MAX * 2 + 2];
    if ((size_t)snprintf(bare, sizeof(bare), "%s@%s", authcid, c->srv->cfg.domain) >= sizeof(bare))
        return HERALD_ENOTFOUND;
    enum herald_rc rc = store_read(c->srv->store, &t);
    return rc ? rc : users_get_creds(t, bare, hash, out);
}

static enum herald_rc cb_prep_username(void *arg, const char *raw, size_t len, struct buf *out)
{
    (void)arg;
    struct arena *a = arena_new(0);
    const char *p;
    if (a == NULL)
        return HERALD_ENOMEM;
    enum herald_rc rc = jid_prep_local(a, raw, len, &p);
    if (rc == HERALD_OK)
        rc = buf_append_str(out, p);
    arena_free(&a);
    return rc;
}

static enum herald_rc cb_prep_password(void *arg, const char *raw, size_t len, struct buf *out)
{
    (void)arg;
    struct arena *a = arena_new(0);
    const char *p;
    size_t plen = 0;
    if (a == NULL)
        return HERALD_ENOMEM;
    enum herald_rc rc = accounts_prep_password(a, raw, len, &p, &plen);
    if (rc == HERALD_OK)
        rc = buf_append(out, p, plen);
    if (plen)
        explicit_bzero((void *)p, plen);
    arena_free(&a);
    return rc;
}

static enum herald_rc cb_channel_binding(void *arg, enum sasl_cb_type type, struct buf *out)
{
    struct c2s *c = arg;
    const char *name = sasl_cb_type_name(type);
    return name ? conn_channel_binding(c->conn, name, out) : HERALD_ENOTFOUND;
}

/* RFC 6120 §6.3.8: an authzid may only name the authenticated account itself. */
static enum sasl_condition cb_authorize(void *arg, const char *authcid, const char *authzid)
{
    struct c2s *c = arg;
    if (authzid == NULL || *authzid == '\0')
        return SASL_COND_NONE;
    struct arena *a = arena_new(0);
    struct jid j;
    enum sasl_condition cond = SASL_COND_INVALID_AUTHZID;
    if (a && jid_parse(a, authzid, &j) == HERALD_OK && j.resource == NULL && j.local &&
        strcmp(j.local, authcid) == 0 && strcmp(j.domain, c->srv->cfg.domain) == 0)
        cond = SASL_COND_NONE;
    arena_free(&a);
    return cond;
}

static const struct sasl_server_cbs c2s_sasl_cbs = {
    .lookup_creds_cb = cb_lookup,
    .prep_username_cb = cb_prep_username,
    .prep_password_cb = cb_prep_password,
    .channel_binding_cb = cb_channel_binding,
    .authorize_cb = cb_authorize,
};

/* ---- SASL exchange ---- */

void c2s_auth_cleanup(struct c2s *c)
{
    sasl_server_free(&c->sasl);
    if (c->delay) {
        event_free(c->delay);
        c->delay = NULL;
    }
}

static void sasl_send_failure(struct c2s *c, const char *cond, const char *text)
{
    struct buf b;
    buf_init(&b, 0);
    buf_printf(&b, "<failure xmlns='" NS_SASL "'><%s/>", cond);
    if (text && *text) {
        buf_append_str(&b, "<text xml:lang='en'>");
        buf_append_xml_escaped(&b, text, strlen(text));
        buf_append_str(&b, "</text>");
    }
    buf_append_str(&b, "</failure>");
    if (!b.err)
        c2s_send_str(c, b.data);
    buf_cleanup(&b);
}

/* Answer a failed exchange, and maybe end the stream. */
static void sasl_send_auth_failure(struct c2s *c)
{
    const char *cond = sasl_condition_name(sasl_server_condition(c->sasl));
    sasl_send_failure(c, cond ? cond : "not-authorized", NULL);
    sasl_server_free(&c->sasl);
    c->state = C2S_NEGOTIATE;
    if (c->auth_failures >= c->srv->cfg.auth_max_failures)
        c2s_stream_error(c, "policy-violation", "too many failed authentication attempts");
}

/* The held-back failure is due (a timer: not inside the input callback). */
static void sasl_delay_cb(evutil_socket_t fd, short what, void *arg)
{
    struct c2s *c = arg;
    (void)fd, (void)what;
    if (c->state != C2S_SASL_DELAY)
        return; /* the stream ended meanwhile (timeout, shutdown): nothing more to say */
    sasl_send_auth_failure(c);
    c2s_resume(c);
}

static void sasl_failed(struct c2s *c)
{
    enum sasl_condition cond = sasl_server_condition(c->sasl);
    const char *name = sasl_condition_name(cond);
    log_info("[%s] authentication failed: %s (%s)", conn_log_ctx(c->conn), name ? name : "?",
             sasl_server_text(c->sasl));
    const char *text = sasl_server_text(c->sasl);
    if (cond == SASL_COND_NOT_AUTHORIZED && !c->cb_type_refused && text &&
        strcmp(text, "unsupported-channel-binding-type") == 0) {
        /* Not a guess at a password: no delay, not counted, and once per stream. */
        c->cb_type_refused = true;
        sasl_send_failure(c, "not-authorized", text);
        sasl_server_free(&c->sasl);
        c->state = C2S_NEGOTIATE;
        return;
    }
    if (cond == SASL_COND_NOT_AUTHORIZED) {
        c->auth_failures++;
        uint64_t ms = net_auth_failure(c->conn);
        if (ms > 0) {
            c->delay = c->delay ? c->delay : evtimer_new(c->srv->base, sasl_delay_cb, c);
            struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
            if (c->delay && evtimer_add(c->delay, &tv) == 0) {
                /* Read nothing meanwhile; c2s_process stops at this state. */
                c->state = C2S_SASL_DELAY;
                conn_pause_input(c->conn, true);
                return;
            }
        }
        sasl_send_auth_failure(c);
        return;
    }
    sasl_send_failure(c, name ? name : "not-authorized", NULL);
    sasl_server_free(&c->sasl);
    c->state = C2S_NEGOTIATE;
}

static void sasl_succeeded(struct c2s *c, const struct buf *out)
{
    const char *authcid = sasl_server_authcid(c->sasl);
    c->anonymous = sasl_server_is_anonymous(c->sasl);
    if (c->anonymous) {
        /* RFC 4505: a fresh, unguessable, temporary localpart. */
        unsigned char r[10];
        char local[21];
        if (RAND_bytes(r, sizeof(r)) != 1) {
            c2s_stream_error(c, "internal-server-error", NULL);
            return;
        }
        for (size_t i = 0; i < sizeof(r); i++)
            snprintf(local + 2 * i, 3, "%02x", r[i]);
        c->user = strdup(local);
    } else {
        c->user = authcid ? strdup(authcid) : NULL;
    }
    if (c->user == NULL) {
        c2s_stream_error(c, "internal-server-error", NULL);
        return;
    }
    struct buf b;
    buf_init(&b, 0);
    if (out->len) {
        buf_append_str(&b, "<success xmlns='" NS_SASL "'>");
        if (base64_encode(&b, out->data, out->len) == HERALD_OK)
            buf_append_str(&b, "</success>");
    } else {
        buf_append_str(&b, "<success xmlns='" NS_SASL "'/>");
    }
    if (!b.err)
        c2s_send_str(c, b.data);
    buf_cleanup(&b);
    sasl_server_free(&c->sasl);
    char label[JID_PART_MAX * 2 + 2];
    snprintf(label, sizeof(label), "%s@%s", c->user, c->srv->cfg.domain);
    conn_set_label(c->conn, label);
    conn_set_action(c->conn, "binding a resource");
    log_info("[%s] authenticated%s", conn_log_ctx(c->conn), c->anonymous ? " (anonymous)" : "");
    /* RFC 6120 §6.4.6: the client restarts the stream; bytes it pipelined are kept. */
    if (xml_stream_restart(c->xs)) {
        c2s_stream_error(c, "internal-server-error", NULL);
        return;
    }
    c->header_sent = false;
    c->state = C2S_WAIT_HEADER;
}

static void sasl_step(struct c2s *c, const struct xml_node *el)
{
    const char *text = xml_text(el);
    struct buf in, out;
    buf_init(&in, 16384);
    buf_init(&out, 16384);
    const void *data = NULL;
    size_t len = 0;
    /* RFC 6120 §6.4.2: no character data = no initial response; "=" = empty response. */
    if (*text) {
        if (strcmp(text, "=") != 0) {
            if (base64_decode(&in, text, strlen(text))) {
                buf_cleanup(&in);
                buf_cleanup(&out);
                sasl_server_free(&c->sasl);
                sasl_send_failure(c, "incorrect-encoding", NULL);
                c->state = C2S_NEGOTIATE;
                return;
            }
        }
        data = in.data ? in.data : "";
        len = in.len;
    } else if (xml_is(el, NS_SASL, "response")) {
        data = ""; /* an empty <response/> carries empty data */
    }
    enum sasl_result r = sasl_server_step(c->sasl, data, len, &out);
    if (in.data)
        explicit_bzero(in.data, in.len);
    buf_cleanup(&in);
    switch (r) {
    case SASL_CONTINUE: {
        struct buf b;
        buf_init(&b, 0);
        buf_append_str(&b, "<challenge xmlns='" NS_SASL "'>");
        if (base64_encode(&b, out.data ? out.data : "", out.len) == HERALD_OK)
            buf_append_str(&b, "</challenge>");
        if (!b.err)
            c2s_send_str(c, b.data);
        buf_cleanup(&b);
        c->state = C2S_SASL;
        break;
    }
    case SASL_SUCCESS:
        sasl_succeeded(c, &out);
        break;
    case SASL_FAILURE:
        sasl_failed(c);
        break;
    }
    buf_cleanup(&out);
}

void c2s_handle_sasl(struct c2s *c, struct xml_node *el)
{
    if (c->state == C2S_SASL_DELAY)
        return; /* input is paused; nothing should arrive, and nothing is answered */
    if (xml_is(el, NS_SASL, "auth")) {
        /* RFC 6120 §6.4.2: a new <auth/> discards an exchange in progress. */
        sasl_server_free(&c->sasl);
        c->state = C2S_NEGOTIATE;
        if (!c->tls && conn_listener_kind(c->conn) == LISTENER_C2S) {
            /* TLS is mandatory-to-negotiate here (RFC 6120 §5.3.1, §6.5.4). */
            sasl_send_failure(c, "encryption-required", "negotiate TLS first");
            return;
        }
        struct sasl_server_opts o;
        c2s_sasl_opts(c, &o);
        c->sasl = sasl_server_new(xml_attr(el, "mechanism"), &c2s_sasl_cbs, c, &o);
        if (c->sasl == NULL) {
            c2s_stream_error(c, "internal-server-error", NULL);
            return;
        }
        conn_set_action(c->conn, "authenticating");
        sasl_step(c, el);
        return;
    }
    if (xml_is(el, NS_SASL, "response") && c->state == C2S_SASL) {
        sasl_step(c, el);
        return;
    }
    if (xml_is(el, NS_SASL, "abort") && c->state == C2S_SASL) {
        sasl_server_abort(c->sasl);
        sasl_send_failure(c, "aborted", NULL);
        sasl_server_free(&c->sasl);
        c->state = C2S_NEGOTIATE;
        return;
    }
    sasl_send_failure(c, "malformed-request", "unexpected SASL element");
    sasl_server_free(&c->sasl);
    c->state = C2S_NEGOTIATE;
}

/* ---- XEP-0077 before authentication ---- */

struct register_pending {
    struct c2s *c;
    struct arena *a;
    struct xml_node *reply;
    struct xml_node *iq;
};

static void register_reply(struct c2s *c, struct arena *a, struct xml_node *iq, const char *cond,
                           const char *text, struct xml_node *payload)
{
    struct stanza st = {.node = iq, .arena = a, .kind = STANZA_IQ, .id = xml_attr(iq, "id")};
    struct xml_node *r;
    if (cond) {
        struct xmpp_error e = xmpp_error_of(cond);
        e.text = text;
        r = stanza_error_reply(a, &st, NULL, &e);
    } else {
        r = stanza_iq_result(a, &st, NULL, payload);
    }
    if (r)
        c2s_send_node(c, r);
}

/* Called after the turn's commit: only now may the client hear the account exists. */
static void register_committed_cb(void *arg, enum herald_rc rc)
{
    struct register_pending *p = arg;
    register_reply(p->c, p->a, p->iq, rc ? "internal-server-error" : NULL, NULL, NULL);
    arena_free(&p->a);
    free(p);
}

void c2s_handle_register_iq(struct c2s *c, struct xml_node *iq, struct arena *a)
{
    const struct herald_config *cfg = &c->srv->cfg;
    const char *type = xml_attr(iq, "type");
    struct xml_node *q = xml_child(iq, NS_REGISTER, "query");
    if (xml_attr(iq, "id") == NULL || type == NULL || q == NULL) {
        register_reply(c, a, iq, "bad-request", NULL, NULL);
        return;
    }
    if (!cfg->registration) {
        register_reply(c, a, iq, "service-unavailable", NULL, NULL);
        return;
    }
    if (strcmp(type, "get") == 0) {
        /* XEP-0077 §3.1: the fields we need. */
        struct xml_node *rq = xml_elem_new(a, NS_REGISTER, "query");
        struct xml_node *ins = rq ? xml_add_child(a, rq, NS_REGISTER, "instructions") : NULL;
        static const char instr[] = "Choose a user name and password for this server.";
        if (ins == NULL || xml_add_text(a, ins, instr, sizeof(instr) - 1) ||
            !xml_add_child(a, rq, NS_REGISTER, "username") ||
            !xml_add_child(a, rq, NS_REGISTER, "password")) {
            register_reply(c, a, iq, "internal-server-error", NULL, NULL);
            return;
        }
        register_reply(c, a, iq, NULL, NULL, rq);
        return;
    }
    if (strcmp(type, "set") != 0) {
        register_reply(c, a, iq, "bad-request", NULL, NULL);
        return;
    }
    const char *user = xml_child_text(q, NS_REGISTER, "username");
    const char *pw = xml_child_text(q, NS_REGISTER, "password");
    if (xml_child(q, NS_REGISTER, "remove")) {
        /* Cancellation needs an authenticated stream (XEP-0077 §3.2). */
        register_reply(c, a, iq, "not-authorized", NULL, NULL);
        return;
    }
    if (user == NULL || pw == NULL || !*user || !*pw) {
        register_reply(c, a, iq, "not-acceptable", "username and password are required", NULL);
        return;
    }
    const char *bare;
    if (accounts_bare_jid(a, cfg->domain, user, &bare)) {
        register_reply(c, a, iq, "jid-malformed", "not a valid user name", NULL);
        return;
    }
    struct store_txn *t;
    enum herald_rc rc = store_begin(c->srv->store, &t);
    if (rc == HERALD_OK) {
        rc = accounts_set_password(t, bare, pw, strlen(pw), (uint32_t)cfg->scram_iterations,
                                   ACCOUNTS_CREATE);
        if (rc)
            store_abort(&t);
        else
            rc = store_commit(&t);
    }
    if (rc == HERALD_ECONFLICT) {
        register_reply(c, a, iq, "conflict", "that user name is taken", NULL);
        return;
    }
    if (rc == HERALD_EINVAL) {
        register_reply(c, a, iq, "not-acceptable", "that password is not allowed", NULL);
        return;
    }
    struct register_pending *p = calloc(1, sizeof(*p));
    struct arena *pa = p ? arena_new(0) : NULL;
    if (rc == HERALD_OK && pa) {
        p->c = c;
        p->a = pa;
        p->iq = xml_copy(pa, iq);
        if (p->iq && store_on_commit(c->srv->store, register_committed_cb, p) == HERALD_OK) {
            log_notice("[%s] registered account %s", conn_log_ctx(c->conn), bare);
            return;
        }
    }
    /* The account is written but we cannot promise when; tell the client to retry. */
    arena_free(&pa);
    free(p);
    register_reply(c, a, iq, rc ? "internal-server-error" : "resource-constraint", NULL, NULL);
}
