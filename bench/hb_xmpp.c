/* herald-bench: the XMPP side of a connection, driven by expat callbacks.
 *
 * Setup (stream, SASL, bind, session, presence, subscribe / create) runs once per connection
 * and may be slow; the hot path is a subscriber receiving notifications: a few string
 * compares per element and a histogram increment per delivery. Nothing is allocated per
 * message. */
#include "hb.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    FEAT_MECHS = 1 << 0,
    FEAT_ANON = 1 << 1,
    FEAT_PLAIN = 1 << 2,
    FEAT_BIND = 1 << 3,
    FEAT_SESSION = 1 << 4,
    FEAT_SESSION_OPT = 1 << 5,
    FEAT_TLS_REQ = 1 << 6,
};

static const char *conn_domain(const struct hb_conn *c)
{
    return c->role == HB_ROLE_PUB ? c->ctx->o.pub_domain : c->ctx->o.domain;
}

static enum hb_auth conn_auth(const struct hb_conn *c)
{
    return c->role == HB_ROLE_PUB ? c->ctx->o.pub_auth : c->ctx->o.sub_auth;
}

/* XML attribute escaping for values that come from the server (JIDs, ids); callers size out
 * at 6 bytes per input byte, so nothing is cut. */
static void xml_escape(char *out, size_t cap, const char *in)
{
    size_t o = 0;
    for (; *in && o + 7 < cap; in++) {
        const char *rep = NULL;
        switch (*in) {
        case '&':
            rep = "&amp;";
            break;
        case '<':
            rep = "&lt;";
            break;
        case '>':
            rep = "&gt;";
            break;
        case '\'':
            rep = "&apos;";
            break;
        case '"':
            rep = "&quot;";
            break;
        default:
            out[o++] = *in;
            continue;
        }
        size_t l = strlen(rep);
        memcpy(out + o, rep, l);
        o += l;
    }
    out[o] = '\0';
}

void hb_xmpp_stream_open(struct hb_conn *c)
{
    hb_conn_sendf(c,
                  "<?xml version='1.0'?><stream:stream xmlns='" HB_NS_CLIENT
                  "' xmlns:stream='" HB_NS_STREAM "' to='%s' version='1.0'>",
                  conn_domain(c));
}

static void conn_online(struct hb_conn *c)
{
    struct hb_ctx *ctx = c->ctx;
    const struct hb_opts *o = &ctx->o;
    if (c->role == HB_ROLE_PUB) {
        if (o->fresh) {
            c->state = HB_ST_DELETING;
            hb_conn_sendf(c,
                          "<iq type='set' id='d' to='%s'><pubsub xmlns='" HB_NS_PUBSUB
                          "#owner'><delete node='%s'/></pubsub></iq>",
                          o->pubsub, o->node);
        } else {
            c->state = HB_ST_CREATING;
            hb_conn_sendf(c,
                          "<iq type='set' id='c' to='%s'><pubsub xmlns='" HB_NS_PUBSUB
                          "'><create node='%s'/></pubsub></iq>",
                          o->pubsub, o->node);
        }
        return;
    }
    hb_conn_send(c, "<presence/>", 11);
    if (c->role == HB_ROLE_IDLE) {
        c->state = HB_ST_READY;
        hb_ctx_conn_ready(ctx, c);
        return;
    }
    char jid[HB_JID_MAX], esc[HB_JID_MAX * 6];
    snprintf(jid, sizeof jid, "%s", c->jid);
    if (!o->sub_full_jid) {
        char *slash = strchr(jid, '/');
        if (slash)
            *slash = '\0';
    }
    xml_escape(esc, sizeof esc, jid);
    c->state = HB_ST_SUBSCRIBING;
    hb_conn_sendf(c,
                  "<iq type='set' id='s' to='%s'><pubsub xmlns='" HB_NS_PUBSUB
                  "'><subscribe node='%s' jid='%s'/></pubsub></iq>",
                  o->pubsub, o->node, esc);
}

static void features_done(struct hb_conn *c)
{
    if (c->state == HB_ST_FEATURES1) {
        enum hb_auth auth = conn_auth(c);
        unsigned need = auth == HB_AUTH_ANONYMOUS ? FEAT_ANON : FEAT_PLAIN;
        if (!(c->feat & need)) {
            char msg[160];
            snprintf(msg, sizeof msg, "server does not offer SASL %s%s",
                     auth == HB_AUTH_ANONYMOUS ? "ANONYMOUS" : "PLAIN",
                     (c->feat & FEAT_TLS_REQ)
                         ? " (it requires STARTTLS, which the bench does not do)"
                         : "");
            hb_conn_fail(c, HB_ERR_AUTH, msg);
            return;
        }
        c->state = HB_ST_AUTH;
        if (auth == HB_AUTH_ANONYMOUS) {
            hb_conn_sendf(c, "<auth xmlns='" HB_NS_SASL "' mechanism='ANONYMOUS'/>");
            return;
        }
        const struct hb_opts *o = &c->ctx->o;
        char user[256], cred[600], b64[808];
        if (c->role == HB_ROLE_PUB) {
            snprintf(user, sizeof user, "%s", o->pub_user);
        } else {
            /* main checked that the pattern holds exactly one %u */
            const char *pct = strstr(o->sub_user, "%u");
            snprintf(user, sizeof user, "%.*s%u%s", (int)(pct - o->sub_user), o->sub_user, c->index,
                     pct + 2);
        }
        const char *pass = c->role == HB_ROLE_PUB ? o->pub_pass : o->sub_pass;
        size_t ul = strlen(user), pl = strlen(pass);
        if (ul + pl + 2 > sizeof cred) {
            hb_conn_fail(c, HB_ERR_AUTH, "user name or password too long");
            return;
        }
        cred[0] = '\0';
        memcpy(cred + 1, user, ul);
        cred[1 + ul] = '\0';
        memcpy(cred + 2 + ul, pass, pl);
        hb_base64((const unsigned char *)cred, ul + pl + 2, b64);
        hb_conn_sendf(c, "<auth xmlns='" HB_NS_SASL "' mechanism='PLAIN'>%s</auth>", b64);
    } else if (c->state == HB_ST_FEATURES2) {
        if (!(c->feat & FEAT_BIND)) {
            hb_conn_fail(c, HB_ERR_BIND, "server offers no resource binding");
            return;
        }
        c->state = HB_ST_BIND;
        hb_conn_sendf(c,
                      "<iq type='set' id='b'><bind xmlns='" HB_NS_BIND
                      "'><resource>hb%u</resource></bind></iq>",
                      c->index);
    }
}

static void iq_reply(struct hb_conn *c)
{
    char id[HB_ID_MAX * 6], to[HB_JID_MAX * 6];
    xml_escape(id, sizeof id, c->iq_id);
    xml_escape(to, sizeof to, c->iq_from);
    if (c->ping)
        hb_conn_sendf(c, "<iq type='result' id='%s' to='%s'/>", id, to);
    else
        hb_conn_sendf(c,
                      "<iq type='error' id='%s' to='%s'><error type='cancel'><service-unavailable "
                      "xmlns='" HB_NS_STANZAS "'/></error></iq>",
                      id, to);
}

static void iq_done(struct hb_conn *c)
{
    if (c->iq_type == 'g' || c->iq_type == 's') {
        iq_reply(c);
        return;
    }
    if (c->iq_type != 'r' && c->iq_type != 'e')
        return;
    bool ok = c->iq_type == 'r';
    const char *cond = c->err_cond[0] ? c->err_cond : "error";
    char msg[HB_ID_MAX + 128];
    switch (c->state) {
    case HB_ST_BIND:
        if (strcmp(c->iq_id, "b") != 0)
            return;
        if (!ok || !c->jid[0]) {
            hb_conn_fail(c, HB_ERR_BIND, ok ? "bind result without a JID" : cond);
            return;
        }
        if ((c->feat & FEAT_SESSION) && !(c->feat & FEAT_SESSION_OPT)) {
            c->state = HB_ST_SESSION;
            hb_conn_sendf(c, "<iq type='set' id='se'><session xmlns='" HB_NS_SESSION "'/></iq>");
            return;
        }
        conn_online(c);
        return;
    case HB_ST_SESSION:
        if (strcmp(c->iq_id, "se") != 0)
            return;
        if (!ok)
            hb_conn_fail(c, HB_ERR_SESSION, cond);
        else
            conn_online(c);
        return;
    case HB_ST_DELETING:
        if (strcmp(c->iq_id, "d") != 0)
            return;
        if (!ok && strcmp(cond, "item-not-found") != 0) {
            snprintf(msg, sizeof msg, "delete node: %s%s", cond,
                     strcmp(cond, "forbidden") ? ""
                                               : " (another account owns it: pick a new --node, "
                                                 "or publish with the owner's account)");
            hb_conn_fail(c, HB_ERR_CREATE, msg);
            return;
        }
        c->state = HB_ST_CREATING;
        hb_conn_sendf(c,
                      "<iq type='set' id='c' to='%s'><pubsub xmlns='" HB_NS_PUBSUB
                      "'><create node='%s'/></pubsub></iq>",
                      c->ctx->o.pubsub, c->ctx->o.node);
        return;
    case HB_ST_CREATING:
        if (strcmp(c->iq_id, "c") != 0)
            return;
        if (!ok && strcmp(cond, "conflict") != 0) {
            snprintf(msg, sizeof msg, "create node: %s", cond);
            hb_conn_fail(c, HB_ERR_CREATE, msg);
            return;
        }
        c->state = HB_ST_READY;
        hb_ctx_pub_ready(c->ctx);
        return;
    case HB_ST_SUBSCRIBING:
        if (strcmp(c->iq_id, "s") != 0)
            return;
        if (!ok || c->sub_pending) {
            hb_conn_fail(c, HB_ERR_SUBSCRIBE, ok ? "subscription not active (pending)" : cond);
            return;
        }
        c->state = HB_ST_READY;
        hb_ctx_conn_ready(c->ctx, c);
        return;
    case HB_ST_READY:
        if (c->role == HB_ROLE_PUB && c->iq_id[0] == 'p') {
            if (!ok)
                hb_ctx_error(c->ctx, c, HB_ERR_PUBLISH, cond);
            hb_ctx_publish_done(c->ctx, ok);
        }
        return;
    default:
        return;
    }
}

static void text_cb(void *ud, const XML_Char *s, int len)
{
    struct hb_conn *c = ud;
    if (c->text_len + (unsigned)len >= HB_TEXT_MAX) {
        c->text_overflow = true;
        return;
    }
    memcpy(c->text + c->text_len, s, (size_t)len);
    c->text_len += (unsigned)len;
}

static void text_begin(struct hb_conn *c, enum hb_text kind)
{
    c->text_kind = kind;
    c->text_len = 0;
    c->text_overflow = false;
    XML_SetCharacterDataHandler(c->parser, text_cb);
}

static void text_end(struct hb_conn *c)
{
    XML_SetCharacterDataHandler(c->parser, NULL);
    enum hb_text kind = c->text_kind;
    c->text_kind = HB_TEXT_NONE;
    c->text[c->text_len] = '\0';
    if (kind == HB_TEXT_MECH) {
        if (!strcmp(c->text, "ANONYMOUS"))
            c->feat |= FEAT_ANON;
        else if (!strcmp(c->text, "PLAIN"))
            c->feat |= FEAT_PLAIN;
    } else if (kind == HB_TEXT_JID) {
        if (c->text_overflow)
            hb_conn_fail(c, HB_ERR_BIND, "bound JID too long");
        else
            memcpy(c->jid, c->text, c->text_len + 1);
    }
}

static const char *attr(const XML_Char **atts, const char *name)
{
    for (unsigned i = 0; atts[i]; i += 2)
        if (!strcmp(atts[i], name))
            return atts[i + 1];
    return NULL;
}

static uint64_t parse_u64(const char *s)
{
    uint64_t v = 0;
    if (!s)
        return 0;
    while (*s >= '0' && *s <= '9')
        v = v * 10u + (uint64_t)(*s++ - '0');
    return v;
}

/* The hot path: one <bench/> payload inside a pubsub notification. */
static void on_bench(struct hb_conn *c, const XML_Char **atts)
{
    struct hb_ctx *ctx = c->ctx;
    const char *run = NULL, *seq = NULL, *ts = NULL;
    for (unsigned i = 0; atts[i]; i += 2) {
        const char *n = atts[i];
        if (n[0] == 'r' && !strcmp(n, "run"))
            run = atts[i + 1];
        else if (n[0] == 's' && !strcmp(n, "seq"))
            seq = atts[i + 1];
        else if (n[0] == 't' && !strcmp(n, "ts"))
            ts = atts[i + 1];
    }
    if (c->role != HB_ROLE_SUB || !run || strcmp(run, ctx->run_id) != 0 || !ts) {
        ctx->stale++; /* e.g. a last published item from an earlier run */
        return;
    }
    if (ctx->phase != HB_PH_PUBLISH)
        return;
    uint64_t t = parse_u64(ts);
    uint32_t s = (uint32_t)parse_u64(seq);
    hb_hist_add(ctx->hist, ctx->now_ns > t ? (ctx->now_ns - t) / 1000u : 0);
    ctx->received++;
    ctx->t_last_delivery = ctx->now_ns;
    if (s <= c->last_seq)
        ctx->reordered++;
    c->last_seq = s;
    if (++c->received == ctx->o.items)
        hb_ctx_sub_complete(ctx, c);
}

static void stanza_start(struct hb_conn *c, const XML_Char *name, const XML_Char **atts)
{
    c->kind = HB_K_OTHER;
    if (!strcmp(name, HB_NS_CLIENT " message")) {
        c->kind = HB_K_MESSAGE;
        const char *type = attr(atts, "type");
        if (type && !strcmp(type, "error"))
            c->ctx->delivery_errors++;
        return;
    }
    if (!strcmp(name, HB_NS_CLIENT " iq")) {
        c->kind = HB_K_IQ;
        const char *type = attr(atts, "type"), *id = attr(atts, "id"), *from = attr(atts, "from");
        c->iq_type = type ? (type[0] == 'r'   ? 'r'
                             : type[0] == 'e' ? 'e'
                             : type[0] == 'g' ? 'g'
                                              : 's')
                          : 0;
        snprintf(c->iq_id, sizeof c->iq_id, "%s", id ? id : "");
        snprintf(c->iq_from, sizeof c->iq_from, "%s", from ? from : conn_domain(c));
        c->err_cond[0] = '\0';
        c->in_error = false;
        c->sub_pending = false;
        c->ping = false;
        return;
    }
    if (!strcmp(name, HB_NS_STREAM " features")) {
        c->kind = HB_K_FEATURES;
        c->feat = 0;
    } else if (!strcmp(name, HB_NS_SASL " success")) {
        c->kind = HB_K_SUCCESS;
    } else if (!strcmp(name, HB_NS_SASL " failure")) {
        c->kind = HB_K_FAILURE;
        c->err_cond[0] = '\0';
    } else if (!strcmp(name, HB_NS_SASL " challenge")) {
        c->kind = HB_K_CHALLENGE;
    } else if (!strcmp(name, HB_NS_STREAM " error")) {
        c->kind = HB_K_STREAM_ERROR;
        c->err_cond[0] = '\0';
    }
}

/* "ns local" -> local, if ns matches */
static const char *local_in(const XML_Char *name, const char *ns)
{
    size_t l = strlen(ns);
    if (strncmp(name, ns, l) != 0 || name[l] != ' ')
        return NULL;
    return name + l + 1;
}

static void child_start(struct hb_conn *c, unsigned d, const XML_Char *name, const XML_Char **atts)
{
    const char *local;
    switch (c->kind) {
    case HB_K_FEATURES:
        if (d == 2) {
            if (!strcmp(name, HB_NS_SASL " mechanisms"))
                c->feat |= FEAT_MECHS;
            else if (!strcmp(name, HB_NS_BIND " bind"))
                c->feat |= FEAT_BIND;
            else if (!strcmp(name, HB_NS_SESSION " session"))
                c->feat |= FEAT_SESSION;
        } else if (d == 3) {
            if (!strcmp(name, HB_NS_SASL " mechanism"))
                text_begin(c, HB_TEXT_MECH);
            else if (!strcmp(name, HB_NS_SESSION " optional"))
                c->feat |= FEAT_SESSION_OPT;
            else if (!strcmp(name, HB_NS_TLS " required"))
                c->feat |= FEAT_TLS_REQ;
        }
        return;
    case HB_K_IQ:
        if (d == 2) {
            if (!strcmp(name, HB_NS_CLIENT " error"))
                c->in_error = true;
            else if (!strcmp(name, HB_NS_PING " ping"))
                c->ping = true;
        } else if (d == 3) {
            if (c->in_error && (local = local_in(name, HB_NS_STANZAS)) && strcmp(local, "text") &&
                !c->err_cond[0])
                snprintf(c->err_cond, sizeof c->err_cond, "%s", local);
            else if (c->state == HB_ST_BIND && !strcmp(name, HB_NS_BIND " jid"))
                text_begin(c, HB_TEXT_JID);
            else if (!strcmp(name, HB_NS_PUBSUB " subscription")) {
                const char *s = attr(atts, "subscription");
                if (s && strcmp(s, "subscribed") != 0)
                    c->sub_pending = true;
            }
        }
        return;
    case HB_K_FAILURE:
    case HB_K_STREAM_ERROR:
        if (d == 2 && !c->err_cond[0]) {
            local = strchr(name, ' ');
            local = local ? local + 1 : name;
            if (strcmp(local, "text") != 0)
                snprintf(c->err_cond, sizeof c->err_cond, "%s", local);
        }
        return;
    default:
        return;
    }
}

static void start_cb(void *ud, const XML_Char *name, const XML_Char **atts)
{
    struct hb_conn *c = ud;
    unsigned d = c->depth++;
    if (d == 1) {
        stanza_start(c, name, atts);
    } else if (c->kind == HB_K_MESSAGE) {
        if (name[0] == 'u' && !strcmp(name, HB_BENCH_ELEM))
            on_bench(c, atts);
    } else if (d == 0) {
        if (strcmp(name, HB_NS_STREAM " stream") != 0)
            hb_conn_fail(c, HB_ERR_STREAM, "the server did not open an XMPP stream");
    } else {
        child_start(c, d, name, atts);
    }
}

static void end_cb(void *ud, const XML_Char *name)
{
    (void)name;
    struct hb_conn *c = ud;
    unsigned d = --c->depth;
    if (c->text_kind != HB_TEXT_NONE)
        text_end(c);
    if (d > 1)
        return;
    if (d == 0) {
        if (c->state == HB_ST_CLOSING) {
            c->state = HB_ST_CLOSED;
            XML_StopParser(c->parser, XML_FALSE);
        } else {
            hb_conn_fail(c, HB_ERR_STREAM, "the server closed the stream");
        }
        return;
    }
    char msg[HB_ID_MAX + 32];
    enum hb_kind kind = c->kind;
    c->kind = HB_K_OTHER;
    switch (kind) {
    case HB_K_IQ:
        iq_done(c);
        break;
    case HB_K_FEATURES:
        features_done(c);
        break;
    case HB_K_SUCCESS:
        if (c->state != HB_ST_AUTH) {
            hb_conn_fail(c, HB_ERR_AUTH, "unexpected SASL success");
            break;
        }
        /* the stream restarts right after </success>: stop here, reset the parser, and feed
         * it whatever followed */
        c->restart = true;
        c->restart_at =
            (uint64_t)(XML_GetCurrentByteIndex(c->parser) + XML_GetCurrentByteCount(c->parser));
        XML_StopParser(c->parser, XML_FALSE);
        break;
    case HB_K_FAILURE:
        snprintf(msg, sizeof msg, "SASL failure: %s", c->err_cond[0] ? c->err_cond : "?");
        hb_conn_fail(c, HB_ERR_AUTH, msg);
        break;
    case HB_K_CHALLENGE:
        hb_conn_sendf(c, "<response xmlns='" HB_NS_SASL "'>=</response>");
        break;
    case HB_K_STREAM_ERROR:
        snprintf(msg, sizeof msg, "stream error: %s", c->err_cond[0] ? c->err_cond : "?");
        hb_conn_fail(c, HB_ERR_STREAM, msg);
        break;
    default:
        break;
    }
}

void hb_xmpp_parser_setup(struct hb_conn *c)
{
    XML_SetUserData(c->parser, c);
    XML_SetElementHandler(c->parser, start_cb, end_cb);
    c->depth = 0;
    c->kind = HB_K_OTHER;
    c->text_kind = HB_TEXT_NONE;
    c->fed = 0;
    c->restart = false;
}
