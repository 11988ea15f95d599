/*
 * c2s_auth.c - STARTTLS (RFC 6120 §5) and SASL (RFC 6120 §6).
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

void c2s_handle_starttls(struct c2s *c, const struct xml_node *el)
{
    if (c->tls || c->state != C2S_NEGOTIATE || xml_stream_buffered(c->xs) > 0 ||
        conn_listener_kind(c->conn) == LISTENER_C2S_TLS || xml_first_elem(el) != NULL ||
        !xml_text_is_blank(el)) {
        /* RFC 6120 §5.4.2.2: failure, then close stream and connection: TLS is not offered
         * (any more) here, or the command is malformed (<starttls/> has no content). */
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
    c2s_send_buf(c, &b);
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

/*
 * RFC 6120 §6.4.6: a 'from' on a TLS-protected stream header names who the client says it
 * is; authenticating as another account SHOULD end the attempt. True when they agree (or
 * there is nothing to compare: no 'from', no TLS, an anonymous login).
 */
static bool header_from_matches(struct c2s *c, const char *authcid)
{
    const struct xml_node *h = xml_stream_header(c->xs);
    const char *from = h ? xml_attr(h, "from") : NULL;
    if (from == NULL || !c->tls || authcid == NULL)
        return true;
    struct arena *a = arena_new(1024);
    struct jid j;
    /* An unusable 'from', or one naming only a domain, says nothing to compare. */
    bool ok = a == NULL || jid_parse(a, from, &j) != HERALD_OK || j.local == NULL ||
              (strcmp(j.local, authcid) == 0 && strcmp(j.domain, c->srv->cfg.domain) == 0);
    arena_free(&a);
    return ok;
}

static void sasl_succeeded(struct c2s *c, const struct buf *out)
{
    const char *authcid = sasl_server_authcid(c->sasl);
    c->anonymous = sasl_server_is_anonymous(c->sasl);
    if (!c->anonymous && !header_from_matches(c, authcid)) {
        log_info("[%s] authenticated as %s, but the stream header says another 'from'",
                 conn_log_ctx(c->conn), authcid);
        /* RFC 6120 §4.9.3.9: <invalid-from/> is the error for exactly this; ending the
         * stream also keeps a client from retrying password checks for free. */
        sasl_server_free(&c->sasl);
        c2s_stream_error(c, "invalid-from", "the stream header's 'from' is another account");
        return;
    }
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
    c2s_send_buf(c, &b);
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
        c2s_send_buf(c, &b);
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
    if (xml_is(el, NS_SASL, "abort") && (c->state == C2S_SASL || c->state == C2S_NEGOTIATE)) {
        /* RFC 6120 §6.4.4: an abort is answered with <aborted/>, even with nothing to abort. */
        if (c->sasl)
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
