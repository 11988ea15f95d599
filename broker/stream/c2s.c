/*
 * c2s.c - the client-to-server stream (RFC 6120 §4-§7): stream headers and features,
 * the negotiation state machine, stream errors and closing, and the hand-off of stanzas
 * to the router once a resource is bound.
 *
 * Every element the parser completes comes through c2s_handle_element(), which decides
 * by state what it may be: <starttls/>, SASL elements, a registration iq before
 * authentication, a bind iq after it, and stanzas only once bound. Anything else is the
 * stream error RFC 6120 names for it.
 */
#include <openssl/rand.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "herald/base64.h"
#include "herald/c2s.h"
#include "herald/im.h"
#include "herald/log.h"
#include "herald/register.h"
#include "stream_int.h"

static const char stream_header_fmt[] =
    "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
    "xmlns:stream='http://etherx.jabber.org/streams' id='%s' from='%s'%s%s%s version='1.0' "
    "xml:lang='en'>";

static bool c2s_input_cb(void *owner, struct conn *conn, const char *data, size_t len);
static void c2s_closed_cb(void *owner, struct conn *conn);
static void c2s_deadline_cb(void *owner, struct conn *conn);
static void c2s_shutdown_cb(void *owner, struct conn *conn);

static const struct conn_owner_ops c2s_conn_ops = {c2s_input_cb, c2s_closed_cb, c2s_deadline_cb,
                                                   c2s_shutdown_cb};

/*
 * Slow-consumer policy: a stream whose queued output passes output_buffer_limit is
 * disconnected at once (no stream error can get through a full pipe). Nobody else waits
 * for it, and its unsent notifications are not lost: the items are in the node and the
 * client fetches them when it reconnects.
 */
void c2s_overflow(struct c2s *c)
{
    if (c->state == C2S_CLOSED)
        return;
    log_warn("[%s] disconnecting a slow reader: %zu bytes queued (output_buffer_limit %llu)",
             conn_log_ctx(c->conn), conn_output_pending(c->conn),
             (unsigned long long)c->srv->cfg.output_buffer_limit);
    c->state = C2S_CLOSED;
    conn_abort(c->conn);
}

enum herald_rc c2s_send(struct c2s *c, const char *data, size_t len)
{
    if (c->conn == NULL)
        return HERALD_EIO;
    enum herald_rc rc = conn_send(c->conn, data, len);
    if (rc == HERALD_ELIMIT)
        c2s_overflow(c);
    else if (rc && c->state != C2S_CLOSED) {
        c->state = C2S_CLOSED;
        conn_abort(c->conn);
    }
    return rc;
}

void c2s_send_str(struct c2s *c, const char *s)
{
    if (c2s_send(c, s, strlen(s)) != HERALD_OK)
        return; /* a failed send has already ended the stream */
}

void c2s_send_buf(struct c2s *c, struct buf *b)
{
    if (b->err)
        log_error("[%s] cannot build output: %s", conn_log_ctx(c->conn), herald_rc_str(b->err));
    else if (c2s_send(c, b->data, b->len) != HERALD_OK)
        log_debug("c2s: output dropped: the stream is ending");
    buf_cleanup(b);
}

void c2s_send_node(struct c2s *c, const struct xml_node *n)
{
    struct buf b;
    buf_init(&b, 0);
    if (xml_write(&b, n, XMPP_NS_CLIENT) != HERALD_OK && b.err == HERALD_OK)
        b.err = HERALD_EINVAL; /* xml.h keeps errors in b.err: never let one pass unseen */
    c2s_send_buf(c, &b);
}

static void c2s_new_stream_id(struct c2s *c)
{
    unsigned char r[12];
    struct buf b;
    if (RAND_bytes(r, sizeof(r)) != 1)
        memset(r, 0, sizeof(r)); /* the id need not be secret, only unique-ish */
    buf_init(&b, sizeof(c->stream_id) - 1);
    if (base64_encode(&b, r, sizeof(r)) == HERALD_OK) {
        for (char *p = b.data; *p; p++)
            if (*p == '+' || *p == '/')
                *p = 'x';
        memcpy(c->stream_id, b.data, b.len + 1);
    } else {
        strcpy(c->stream_id, "herald");
    }
    buf_cleanup(&b);
}

/* Our response header; `to` is the bare JID of the client's 'from' if it gave one. */
static void c2s_send_header(struct c2s *c, const char *to)
{
    struct buf b, esc;
    buf_init(&b, 0);
    buf_init(&esc, 4096);
    if (to)
        buf_append_xml_attr_escaped(&esc, to, strlen(to));
    c2s_new_stream_id(c);
    buf_printf(&b, stream_header_fmt, c->stream_id, c->srv->cfg.domain, to ? " to='" : "",
               to && !esc.err ? esc.data : "", to ? "'" : "");
    c2s_send_buf(c, &b);
    buf_cleanup(&esc);
    c->header_sent = true;
}

void c2s_stream_error(struct c2s *c, const char *condition, const char *text)
{
    if (c->state == C2S_CLOSED)
        return;
    if (!c->header_sent)
        c2s_send_header(c, NULL); /* RFC 6120 §4.9.1.2: open before erroring */
    struct buf b;
    buf_init(&b, 0);
    buf_printf(&b, "<stream:error><%s xmlns='" NS_STREAMS "'/>", condition);
    if (text) {
        buf_append_str(&b, "<text xmlns='" NS_STREAMS "' xml:lang='en'>");
        buf_append_xml_escaped(&b, text, strlen(text));
        buf_append_str(&b, "</text>");
    }
    buf_append_str(&b, "</stream:error></stream:stream>");
    c2s_send_buf(c, &b);
    log_info("[%s] stream error <%s/>%s%s", conn_log_ctx(c->conn), condition, text ? ": " : "",
             text ? text : "");
    c->state = C2S_CLOSED;
    conn_close(c->conn);
}

void c2s_sasl_opts(struct c2s *c, struct sasl_server_opts *o)
{
    const struct herald_config *cfg = &c->srv->cfg;
    sasl_server_opts_init(o);
    o->fake_iterations = (uint32_t)cfg->scram_iterations;
    /* Unknown users get a stable fake salt, so retries cannot tell them from real ones. */
    o->fake_secret = c->srv->secret;
    o->fake_secret_len = sizeof(c->srv->secret);
    if (c->tls)
        o->flags |= SASL_F_TLS;
    if (conn_listener_kind(c->conn) == LISTENER_C2S_INSECURE)
        o->flags |= SASL_F_PLAIN_INSECURE;
    if (cfg->anonymous)
        o->flags |= SASL_F_ANONYMOUS;
    /* After the client's -PLUS attempt named a channel-binding type we lack, it knows we
     * cannot bind with it: its retry with the 'y' flag is then no downgrade (RFC 5802 §6
     * guards against a mechanism list stripped of -PLUS, and this client saw it). This
     * is what slixmpp does on TLS 1.3 (tls-unique, undefined there by RFC 9266). */
    if (c->tls && !c->cb_type_refused) {
        if (conn_has_channel_binding(c->conn, "tls-exporter"))
            o->cb_types |= SASL_CB_TLS_EXPORTER;
        if (conn_has_channel_binding(c->conn, "tls-server-end-point"))
            o->cb_types |= SASL_CB_TLS_SERVER_END_POINT;
    }
}

/* Is TLS negotiation still owed on this stream (RFC 6120 §5.3.1)? */
static bool c2s_tls_required(const struct c2s *c)
{
    return !c->tls && conn_listener_kind(c->conn) == LISTENER_C2S;
}

void c2s_send_features(struct c2s *c)
{
    struct buf b;
    buf_init(&b, 0);
    buf_append_str(&b, "<stream:features>");
    if (c->state == C2S_AUTHED) {
        buf_append_str(&b, "<bind xmlns='" NS_BIND "'/>"
                           "<session xmlns='" NS_SESSION "'><optional/></session>"
                           "<ver xmlns='urn:xmpp:features:rosterver'/>"
                           "<sub xmlns='urn:xmpp:features:pre-approval'/>");
    } else if (c2s_tls_required(c)) {
        buf_append_str(&b, "<starttls xmlns='" NS_TLS "'><required/></starttls>");
    } else {
        if (!c->tls && conn_listener_kind(c->conn) == LISTENER_C2S_INSECURE)
            buf_append_str(&b, "<starttls xmlns='" NS_TLS "'/>");
        struct sasl_server_opts o;
        const char *names[SASL_MECH_COUNT];
        c2s_sasl_opts(c, &o);
        size_t n = sasl_mechanism_list(&o, names, SASL_MECH_COUNT);
        buf_append_str(&b, "<mechanisms xmlns='" NS_SASL "'>");
        for (size_t i = 0; i < n && i < SASL_MECH_COUNT; i++)
            buf_printf(&b, "<mechanism>%s</mechanism>", names[i]);
        buf_append_str(&b, "</mechanisms>");
        if (o.cb_types) {
            /* XEP-0440: which channel-binding types the -PLUS mechanisms can use here. */
            buf_append_str(&b, "<sasl-channel-binding xmlns='" NS_SASL_CB "'>");
            for (unsigned bit = 1; bit < (1u << SASL_CB_TYPE_COUNT); bit <<= 1)
                if (o.cb_types & bit)
                    buf_printf(&b, "<channel-binding type='%s'/>",
                               sasl_cb_type_name((enum sasl_cb_type)bit));
            buf_append_str(&b, "</sasl-channel-binding>");
        }
        if (c->srv->cfg.registration)
            buf_append_str(&b, "<register xmlns='http://jabber.org/features/iq-register'/>");
    }
    buf_append_str(&b, "</stream:features>");
    c2s_send_buf(c, &b);
}

/* RFC 6120 §4.7-4.8: check the initiating stream header and answer it. */
static void c2s_handle_header(struct c2s *c)
{
    const struct xml_node *h = xml_stream_header(c->xs);
    const char *from = xml_attr(h, "from");
    const char *to = xml_attr(h, "to");
    const char *version = xml_attr(h, "version");
    const char *dns = xml_stream_default_ns(c->xs);
    /* RFC 6120 §4.7.2: 'to' is the bare JID of the client's 'from' (prepared, so in its
     * canonical case). */
    struct jid fj;
    struct arena *a = arena_new(4096);
    const char *bare =
        from && a && jid_parse(a, from, &fj) == HERALD_OK ? jid_bare_str(a, &fj) : NULL;
    c2s_send_header(c, bare);
    arena_free(&a);
    if (!xml_is(h, XMPP_NS_STREAMS, "stream")) {
        c2s_stream_error(c, "invalid-namespace",
                         "the stream element must be "
                         "{http://etherx.jabber.org/streams}stream");
        return;
    }
    if (dns == NULL || strcmp(dns, XMPP_NS_CLIENT) != 0) {
        c2s_stream_error(c, "invalid-namespace", "the content namespace must be jabber:client");
        return;
    }
    if (xml_stream_other_ns_decl(c->xs)) {
        /* RFC 6120 §4.8.5: stanzas routed elsewhere lose the header's declarations, so
         * namespaces for their content must not be declared there. */
        c2s_stream_error(c, "invalid-namespace",
                         "declare namespaces in the stanzas, not in the stream header");
        return;
    }
    if (version == NULL || strtol(version, NULL, 10) < 1) {
        c2s_stream_error(c, "unsupported-version", "XMPP 1.0 streams only");
        return;
    }
    /* A missing 'to' is taken as the server's domain; another one is not hosted here. */
    if (to && strcmp(to, c->srv->cfg.domain) != 0) {
        struct arena *b = arena_new(4096);
        const char *prepped = NULL;
        bool same = b && jid_prep_domain(b, to, strlen(to), &prepped) == HERALD_OK &&
                    strcmp(prepped, c->srv->cfg.domain) == 0;
        arena_free(&b);
        if (!same) {
            c2s_stream_error(c, "host-unknown", NULL);
            return;
        }
    }
    if (c->state == C2S_WAIT_HEADER)
        c->state = c->user ? C2S_AUTHED : C2S_NEGOTIATE;
    c2s_send_features(c);
}

/* The xml:lang of the client's stream header when it is a plausible language tag (RFC 5646:
 * letters, digits and hyphens, at most 64 characters), else NULL. */
static const char *c2s_stream_lang(struct c2s *c)
{
    const struct xml_node *h = xml_stream_header(c->xs);
    const char *lang = h ? xml_attr_ns(h, XML_NS_XML, "lang") : NULL;
    size_t len = lang ? strlen(lang) : 0;
    if (len == 0 || len > 64)
        return NULL;
    for (size_t i = 0; i < len; i++)
        if (!(isalnum((unsigned char)lang[i]) || lang[i] == '-'))
            return NULL;
    return lang;
}

/* Stamp and validate 'from' (RFC 6120 §8.1.2.1), add the stream's xml:lang to a stanza
 * without one (§8.1.5), then route. */
static void c2s_handle_stanza(struct c2s *c, struct xml_node *n, struct arena *a)
{
    struct stanza st;
    struct xmpp_error err;
    struct session *s = c->session;
    if (s->ending)
        return; /* the account is going (XEP-0077 §3.2): nothing more may write for it */
    const char *from = xml_attr(n, "from");
    if (from) {
        struct jid fj;
        if (jid_parse(a, from, &fj) != HERALD_OK ||
            !(strcmp(fj.local ? fj.local : "", s->jid.local ? s->jid.local : "") == 0 &&
              strcmp(fj.domain, s->jid.domain) == 0 &&
              (fj.resource == NULL || strcmp(fj.resource, s->jid.resource) == 0))) {
            c2s_stream_error(c, "invalid-from", "'from' is not this session's address");
            return;
        }
    }
    const char *lang = c2s_stream_lang(c);
    if (xml_set_attr(a, n, "from", s->full) ||
        (lang && !xml_attr_ns(n, XML_NS_XML, "lang") &&
         xml_set_attr_ns(a, n, XML_NS_XML, "xml", "lang", lang))) {
        c2s_stream_error(c, "internal-server-error", NULL);
        return;
    }
    enum herald_rc rc = stanza_parse(a, n, &st, &err);
    st.from = s->jid;
    st.from_str = s->full;
    if (rc == HERALD_EINVAL && st.kind == STANZA_IQ && st.id == NULL) {
        /* RFC 6120 §8.2.3: an iq needs an id. The router only carries valid stanzas, so
         * answer a get/set here: <bad-request/> without id, which the client can at least
         * see. Results and errors are never answered (§8.3.1). */
        const char *t = st.type ? st.type : "";
        if (strcmp(t, "result") != 0 && strcmp(t, "error") != 0) {
            err.text = "an iq needs an 'id'";
            struct xml_node *r = stanza_error_reply(a, &st, c->srv->cfg.domain, &err);
            if (r)
                c2s_send_node(c, r);
        }
        return;
    }
    if (rc == HERALD_EINVAL) {
        router_reply_error(c->srv, &st, &err);
        return;
    }
    if (rc) {
        c2s_stream_error(c, "unsupported-stanza-type", NULL);
        return;
    }
    if (st.kind == STANZA_PRESENCE) {
        /* Broadcast, directed presence and subscriptions are the sender's server's job
         * (RFC 6121 §3, §4): broker/im decides. */
        im_presence_outbound(c->srv, s, &st);
        return;
    }
    router_route(c->srv, &st);
}

/* XEP-0077 §3.1: replies to a registration before authentication go on this stream. */
static void c2s_register_send_cb(void *arg, const struct xml_node *reply)
{
    c2s_send_node(arg, reply);
}

/* An error answer to an iq before authentication (there is no session to route it). */
static void c2s_preauth_refuse(struct c2s *c, struct xml_node *iq, struct arena *a,
                               const char *condition, const char *text)
{
    struct stanza st = {.node = iq, .arena = a, .kind = STANZA_IQ, .id = xml_attr(iq, "id")};
    struct xmpp_error e = xmpp_error_of(condition);
    e.text = text;
    struct xml_node *r = st.id ? stanza_error_reply(a, &st, xml_attr(iq, "to"), &e) : NULL;
    if (r)
        c2s_send_node(c, r);
}

/* An in-band registration over this address's hourly allowance: <resource-constraint/>. */
static void c2s_register_refuse(struct c2s *c, struct xml_node *iq, struct arena *a)
{
    log_info("[%s] registration refused: max_registrations_per_ip", conn_log_ctx(c->conn));
    c2s_preauth_refuse(c, iq, a, "resource-constraint",
                       "too many registrations from this address: try again later");
}

/* Is the stanza for the server itself: no 'to', or the served domain (RFC 6120 §10.3)? */
static bool c2s_to_server(const struct c2s *c, const struct xml_node *n, struct arena *a)
{
    const char *to = xml_attr(n, "to");
    struct jid j;
    return to == NULL || (jid_parse(a, to, &j) == HERALD_OK && j.local == NULL &&
                          j.resource == NULL && strcmp(j.domain, c->srv->cfg.domain) == 0);
}

static bool is_iq_with(const struct xml_node *n, const char *ns)
{
    return xml_is(n, XMPP_NS_CLIENT, "iq") && xml_child(n, ns, NULL) != NULL;
}

/* RFC 6120 §4.4: our closing tag, then the connection closes once it is written. */
static void c2s_close_stream(struct c2s *c)
{
    if (c->state == C2S_CLOSED)
        return;
    c2s_send_str(c, "</stream:stream>");
    c->state = C2S_CLOSED;
    conn_close(c->conn);
}

static void c2s_handle_element(struct c2s *c, struct xml_node *n, struct arena *a)
{
    if (xml_is(n, XMPP_NS_STREAMS, "error")) {
        /* RFC 6120 §4.9.1.1: whoever receives a stream error closes the stream; it is not
         * an unknown element to answer with an error of our own. */
        log_info("[%s] the client ended the stream with a stream error", conn_log_ctx(c->conn));
        c2s_close_stream(c);
        return;
    }
    if (xml_is(n, NS_TLS, "starttls") && (c->state == C2S_AUTHED || c->state == C2S_BOUND)) {
        c2s_handle_starttls(c, n); /* not offered after authentication: <failure/> */
        return;
    }
    switch (c->state) {
    case C2S_BOUND:
        if (n->ns && strcmp(n->ns, XMPP_NS_CLIENT) == 0) {
            c2s_handle_stanza(c, n, a);
            return;
        }
        break;
    case C2S_NEGOTIATE:
    case C2S_SASL:
    case C2S_SASL_DELAY:
        if (xml_is(n, NS_TLS, "starttls")) {
            c2s_handle_starttls(c, n);
            return;
        }
        if (n->ns && strcmp(n->ns, NS_SASL) == 0) {
            c2s_handle_sasl(c, n);
            return;
        }
        if (c->state == C2S_NEGOTIATE && is_iq_with(n, NS_REGISTER) && !c2s_tls_required(c)) {
            const char *t = xml_attr(n, "type");
            if (!c2s_to_server(c, n, a)) {
                /* XEP-0077 §3.1: the host addressed registers, and before authentication
                 * only the server itself is reachable. */
                c2s_preauth_refuse(c, n, a, "service-unavailable", NULL);
                return;
            }
            if (c->srv->cfg.registration && t && strcmp(t, "set") == 0 &&
                !net_registration_allowed(c->conn)) {
                /* Account creation is rationed per address (max_registrations_per_ip). */
                c2s_register_refuse(c, n, a);
                return;
            }
            register_handle_unauthenticated(c->srv, n, a, c2s_register_send_cb, c);
            return;
        }
        if (n->ns && strcmp(n->ns, XMPP_NS_CLIENT) == 0) {
            /* RFC 6120 §4.9.3.12: stanzas before authentication. */
            c2s_stream_error(c, "not-authorized", NULL);
            return;
        }
        break;
    case C2S_AUTHED:
        if (xml_is(n, XMPP_NS_CLIENT, "iq") && xml_child(n, NS_BIND, "bind")) {
            c2s_handle_bind_iq(c, n, a);
            return;
        }
        if (n->ns && strcmp(n->ns, XMPP_NS_CLIENT) == 0) {
            c2s_stream_error(c, "not-authorized", "bind a resource first");
            return;
        }
        break;
    case C2S_WAIT_HEADER:
    case C2S_CLOSED:
        return;
    }
    c2s_stream_error(c, "unsupported-stanza-type", NULL);
}

/* Handle parser events from `ev` on until the fed bytes are used up (true: keep reading)
 * or the stream must stop for now (false): closed, restarting for TLS, or a failed
 * authentication being held back. In the last case the events not handled yet stay in
 * the parser until c2s_resume(). */
static bool c2s_process(struct c2s *c, enum xml_stream_event ev)
{
    while (ev != XML_STREAM_NONE) {
        switch (ev) {
        case XML_STREAM_OPEN:
            c2s_handle_header(c);
            break;
        case XML_STREAM_STANZA:
            c2s_handle_element(c, xml_stream_stanza(c->xs), xml_stream_arena(c->xs));
            break;
        case XML_STREAM_CLOSE:
            /* RFC 6120 §4.4: answer the closing tag with ours, then close. */
            c2s_close_stream(c);
            break;
        case XML_STREAM_ERROR: {
            enum xml_stream_error e = xml_stream_error(c->xs);
            c2s_stream_error(c, xml_stream_error_condition(e), xml_stream_error_text(c->xs));
            return false;
        }
        case XML_STREAM_NONE:
            break;
        }
        if (c->state == C2S_CLOSED)
            return false;
        if (c->restart) {
            c->restart = false;
            return false; /* STARTTLS: the socket now belongs to TLS */
        }
        if (c->state == C2S_SASL_DELAY)
            return false; /* input is paused; c2s_resume() goes on */
        ev = xml_stream_next(c->xs);
    }
    if (c->state == C2S_BOUND)
        xml_stream_park(c->xs); /* idle sessions keep no parser (see xml_stream.h) */
    return true;
}

static bool c2s_input_cb(void *owner, struct conn *conn, const char *data, size_t len)
{
    struct c2s *c = owner;
    (void)conn;
    if (c->state == C2S_CLOSED)
        return false;
    return c2s_process(c, xml_stream_feed(c->xs, data, len));
}

void c2s_resume(struct c2s *c)
{
    if (c->state == C2S_CLOSED || c->state == C2S_SASL_DELAY)
        return;
    /* Events parsed before the pause first, then new input. Not called from inside
     * c2s_input_cb, so resuming the connection (which may deliver buffered input at
     * once) cannot re-enter the parser. */
    if (c2s_process(c, xml_stream_next(c->xs)))
        conn_pause_input(c->conn, false);
}

static void c2s_free(struct c2s *c)
{
    c2s_auth_cleanup(c);
    xml_stream_free(&c->xs);
    free(c->user);
    herald_free(HERALD_MEM_CONN, c);
}

static void c2s_closed_cb(void *owner, struct conn *conn)
{
    struct c2s *c = owner;
    (void)conn;
    if (c->session) {
        im_session_ending(c->srv, c->session);
        router_session_remove(c->srv->router, c->session);
        c->session = NULL;
    }
    c->conn = NULL;
    c2s_free(c);
}

/* handshake_timeout passed before a resource was bound (RFC 6120 §4.9.3.4). */
static void c2s_deadline_cb(void *owner, struct conn *conn)
{
    struct c2s *c = owner;
    (void)conn;
    c2s_stream_error(c, "connection-timeout", "authenticate and bind a resource sooner");
}

/* RFC 6120 §4.9.3.20: every stream, bound or still negotiating, hears why it ends. */
static void c2s_shutdown_cb(void *owner, struct conn *conn)
{
    struct c2s *c = owner;
    (void)conn;
    c2s_stream_error(c, "system-shutdown", "the server is shutting down");
}

enum herald_rc c2s_accept(struct server *srv, struct conn *conn)
{
    const struct herald_config *cfg = &srv->cfg;
    struct c2s *c = herald_calloc(HERALD_MEM_CONN, 1, sizeof(*c));
    if (c == NULL)
        return HERALD_ENOMEM;
    struct xml_stream_limits lim = {
        .max_stanza_bytes = cfg->max_stanza_size,
        .max_depth = (unsigned)cfg->max_xml_depth,
        .max_attrs = (unsigned)cfg->max_xml_attrs,
        .max_token_bytes = cfg->max_xml_token,
    };
    c->xs = xml_stream_new(&lim);
    if (c->xs == NULL || conn_set_deadline(conn, cfg->handshake_timeout)) {
        xml_stream_free(&c->xs);
        herald_free(HERALD_MEM_CONN, c);
        return HERALD_ENOMEM;
    }
    c->srv = srv;
    c->conn = conn;
    c->tls = conn_listener_kind(conn) == LISTENER_C2S_TLS;
    c->state = C2S_WAIT_HEADER;
    conn_set_owner(conn, &c2s_conn_ops, c);
    return HERALD_OK;
}
