/*
 * stanza.c - stanza views and stanza errors (RFC 6120 §8).
 */
#include <string.h>

#include "herald/stanza.h"

struct error_def {
    const char *condition;
    enum xmpp_error_type type;
    const char *legacy_code; /* XEP-0086 §3 (XEP-0077 §9 asks for both styles); NULL: none */
};

static const struct error_def error_types[] = {
    /* RFC 6120 §8.3.3, with the type each section's example uses. */
    {"bad-request", XMPP_ERROR_MODIFY, "400"},
    {"conflict", XMPP_ERROR_CANCEL, "409"},
    {"feature-not-implemented", XMPP_ERROR_CANCEL, "501"},
    {"forbidden", XMPP_ERROR_AUTH, "403"},
    {"gone", XMPP_ERROR_CANCEL, "302"},
    {"internal-server-error", XMPP_ERROR_WAIT, "500"},
    {"item-not-found", XMPP_ERROR_CANCEL, "404"},
    {"jid-malformed", XMPP_ERROR_MODIFY, "400"},
    {"not-acceptable", XMPP_ERROR_MODIFY, "406"},
    {"not-allowed", XMPP_ERROR_CANCEL, "405"},
    {"not-authorized", XMPP_ERROR_AUTH, "401"},
    {"payment-required", XMPP_ERROR_AUTH, "402"},
    {"policy-violation", XMPP_ERROR_MODIFY, NULL},
    {"recipient-unavailable", XMPP_ERROR_WAIT, "404"},
    {"redirect", XMPP_ERROR_MODIFY, "302"},
    {"registration-required", XMPP_ERROR_AUTH, "407"},
    {"remote-server-not-found", XMPP_ERROR_CANCEL, "404"},
    {"remote-server-timeout", XMPP_ERROR_WAIT, "504"},
    {"resource-constraint", XMPP_ERROR_WAIT, "500"},
    {"service-unavailable", XMPP_ERROR_CANCEL, "503"},
    {"subscription-required", XMPP_ERROR_AUTH, "407"},
    {"undefined-condition", XMPP_ERROR_CANCEL, "500"},
    {"unexpected-request", XMPP_ERROR_WAIT, "400"},
};

static const struct error_def *error_def_of(const char *condition)
{
    for (size_t i = 0; i < HERALD_ARRAY_LEN(error_types); i++)
        if (strcmp(error_types[i].condition, condition) == 0)
            return &error_types[i];
    return NULL;
}

struct xmpp_error xmpp_error_of(const char *condition)
{
    const struct error_def *d = error_def_of(condition);
    struct xmpp_error e = {.condition = condition, .type = d ? d->type : XMPP_ERROR_CANCEL};
    return e;
}

struct xmpp_error xmpp_error_app(const char *condition, const char *app_ns, const char *app_name)
{
    struct xmpp_error e = xmpp_error_of(condition);
    e.app_ns = app_ns;
    e.app_name = app_name;
    return e;
}

const char *xmpp_error_type_name(enum xmpp_error_type t)
{
    switch (t) {
    case XMPP_ERROR_AUTH:
        return "auth";
    case XMPP_ERROR_CANCEL:
        return "cancel";
    case XMPP_ERROR_CONTINUE:
        return "continue";
    case XMPP_ERROR_MODIFY:
        return "modify";
    case XMPP_ERROR_WAIT:
        return "wait";
    }
    return "cancel";
}

enum herald_rc stanza_parse(struct arena *a, struct xml_node *n, struct stanza *out,
                            struct xmpp_error *err)
{
    memset(out, 0, sizeof(*out));
    out->node = n;
    out->arena = a;
    if (xml_is(n, XMPP_NS_CLIENT, "message"))
        out->kind = STANZA_MESSAGE;
    else if (xml_is(n, XMPP_NS_CLIENT, "presence"))
        out->kind = STANZA_PRESENCE;
    else if (xml_is(n, XMPP_NS_CLIENT, "iq"))
        out->kind = STANZA_IQ;
    else
        return HERALD_EPROTO;
    out->type = xml_attr(n, "type");
    out->id = xml_attr(n, "id");
    const char *to = xml_attr(n, "to");
    if (to) {
        if (jid_parse(a, to, &out->to)) {
            *err = xmpp_error_of("jid-malformed");
            return HERALD_EINVAL;
        }
        out->has_to = true;
    }
    if (out->kind == STANZA_IQ) {
        /* RFC 6120 §8.2.3: an id, a known type, and exactly one child for get/set. */
        const char *t = out->type;
        bool request = t && (strcmp(t, "get") == 0 || strcmp(t, "set") == 0);
        bool response = t && (strcmp(t, "result") == 0 || strcmp(t, "error") == 0);
        if (out->id == NULL || (!request && !response) || (request && xml_count_elems(n) != 1) ||
            (t && strcmp(t, "result") == 0 && xml_count_elems(n) > 1)) {
            *err = xmpp_error_of("bad-request");
            return HERALD_EINVAL;
        }
    } else if (out->type) {
        static const char *const msg_types[] = {"chat", "error", "groupchat", "headline", "normal"};
        static const char *const pres_types[] = {"error",       "probe",       "subscribe",
                                                 "subscribed",  "unavailable", "unsubscribe",
                                                 "unsubscribed"};
        const char *const *types = out->kind == STANZA_MESSAGE ? msg_types : pres_types;
        size_t nt = out->kind == STANZA_MESSAGE ? HERALD_ARRAY_LEN(msg_types)
                                                : HERALD_ARRAY_LEN(pres_types);
        bool ok = false;
        for (size_t i = 0; i < nt && !ok; i++)
            ok = strcmp(types[i], out->type) == 0;
        if (!ok) {
            *err = xmpp_error_of("bad-request");
            return HERALD_EINVAL;
        }
    }
    return HERALD_OK;
}

struct xml_node *stanza_error_elem(struct arena *a, const struct xmpp_error *e)
{
    struct xml_node *err = xml_elem_new(a, XMPP_NS_CLIENT, "error");
    const struct error_def *d = error_def_of(e->condition);
    const char *code = d ? d->legacy_code : NULL;
    if (err == NULL || xml_set_attr(a, err, "type", xmpp_error_type_name(e->type)) ||
        (code && xml_set_attr(a, err, "code", code)))
        return NULL;
    struct xml_node *cond = xml_add_child(a, err, XMPP_NS_STANZAS, e->condition);
    if (cond == NULL)
        return NULL;
    if (e->redirect && xml_add_text(a, cond, e->redirect, strlen(e->redirect)))
        return NULL;
    if (e->text) {
        /* Our texts are English (RFC 6120 §8.3.2: <text/> SHOULD carry xml:lang). */
        struct xml_node *t = xml_add_child(a, err, XMPP_NS_STANZAS, "text");
        if (t == NULL || xml_set_attr_ns(a, t, XML_NS_XML, "xml", "lang", "en") ||
            xml_add_text(a, t, e->text, strlen(e->text)))
            return NULL;
    }
    if (e->app_ns) {
        struct xml_node *app = xml_add_child(a, err, e->app_ns, e->app_name);
        if (app == NULL || (e->app_attr && xml_set_attr(a, app, e->app_attr, e->app_attr_value)))
            return NULL;
    }
    return err;
}

bool stanza_is_type(const struct stanza *st, const char *type)
{
    return st->type && strcmp(st->type, type) == 0;
}

const char *stanza_reply_from(const struct stanza *st)
{
    if (st->has_to)
        return xml_attr(st->node, "to");
    return jid_bare_str(st->arena, &st->from);
}

static const char *const kind_names[] = {"message", "presence", "iq"};

struct xml_node *stanza_error_reply(struct arena *a, const struct stanza *st, const char *from,
                                    const struct xmpp_error *e)
{
    struct xml_node *r = xml_elem_new(a, XMPP_NS_CLIENT, kind_names[st->kind]);
    if (r == NULL || xml_set_attr(a, r, "type", "error") ||
        (st->id && xml_set_attr(a, r, "id", st->id)) ||
        (from && xml_set_attr(a, r, "from", from)) ||
        (st->from_str && xml_set_attr(a, r, "to", st->from_str)))
        return NULL;
    struct xml_node *err = stanza_error_elem(a, e);
    if (err == NULL)
        return NULL;
    xml_append(r, err);
    return r;
}

struct xml_node *stanza_iq_result(struct arena *a, const struct stanza *st, const char *from,
                                  struct xml_node *payload)
{
    struct xml_node *r = xml_elem_new(a, XMPP_NS_CLIENT, "iq");
    if (r == NULL || xml_set_attr(a, r, "type", "result") ||
        (st->id && xml_set_attr(a, r, "id", st->id)) ||
        (from && xml_set_attr(a, r, "from", from)) ||
        (st->from_str && xml_set_attr(a, r, "to", st->from_str)))
        return NULL;
    if (payload)
        xml_append(r, payload);
    return r;
}
