/*
 * pubsub_approval.c - subscription approval (§8.6 Manage Subscription Requests) and the
 * XEP-0050 command that lists and re-sends pending requests (§8.7 Process Pending
 * Subscription Requests).
 *
 * The approval form goes to every owner's bare JID (§12 "Authorizing Subscription Requests":
 * send to all owners, first answer wins). An answer is a message to the service carrying the
 * submitted form; it is trusted only from an owner of the node and only for a subscription
 * that is still pending. Anything else is ignored (and logged at info): a message cannot be
 * answered with an error that would help a forger.
 *
 * An answer's changes are stored, applied and notified by pubsub_changes.c.
 *
 * The command keeps no session state: its sessionid is handed out and echoed, and the second
 * stage (the submitted form naming a node) is checked on its own.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "herald/disco.h"
#include "herald/log.h"
#include "herald/pubsub_store.h"
#include "herald/store.h"
#include "pubsub_int.h"

#define NS_SUB_AUTH      PUBSUB_NS "#subscribe_authorization"
#define GET_PENDING_NAME "Get pending subscription requests"
#define SESSION_PREFIX   "pubsub-get-pending:"
#define MAX_OWNED_SCAN   1024 /* nodes of one owner the first stage looks at */
#define MAX_FORMS_RESENT 256  /* approval forms one second stage sends */

/* ---- §8.6 the approval request ---- */

static struct xml_node *approval_form(struct arena *a, const char *node, const char *jid,
                                      const char *subid)
{
    struct forms_form *f = forms_form_new(a, FORMS_TYPE_FORM);
    struct forms_field *fl;
    struct xml_node *x;
    if (f == NULL || forms_form_set_title(a, f, "PubSub subscriber request") ||
        forms_form_add_instructions(a, f,
                                    "To approve this entity's subscription request, set "
                                    "pubsub#allow to true and submit the form. To deny it, "
                                    "submit with false. Cancel leaves the request pending.") ||
        forms_form_add_form_type(a, f, NS_SUB_AUTH) ||
        forms_form_add_field(a, f, "pubsub#subid", FORMS_FIELD_HIDDEN, NULL, &fl) ||
        forms_field_add_value(a, fl, subid) ||
        forms_form_add_field(a, f, "pubsub#node", FORMS_FIELD_TEXT_SINGLE, "Node ID", &fl) ||
        forms_field_add_value(a, fl, node) ||
        forms_form_add_field(a, f, "pubsub#subscriber_jid", FORMS_FIELD_JID_SINGLE,
                             "Subscriber Address", &fl) ||
        forms_field_add_value(a, fl, jid) ||
        forms_form_add_field(a, f, "pubsub#allow", FORMS_FIELD_BOOLEAN,
                             "Allow this JID to subscribe to this pubsub node?", &fl) ||
        forms_field_add_value(a, fl, "false") || forms_form_to_xml(a, f, &x))
        return NULL;
    return x;
}

/* A normal message (not headline: it asks for an answer) with the form. */
static void send_approval_form(struct pubsub_service *svc, const struct pubsub_node *n,
                               const char *to, const char *jid, const char *subid)
{
    char id[40];
    pubsub_next_msgid(svc, NULL, id);
    struct arena *a = arena_new(0);
    struct xml_node *m = a ? xml_elem_new(a, XMPP_NS_CLIENT, "message") : NULL;
    struct xml_node *x = m ? approval_form(a, n->name, jid, subid) : NULL;
    if (x && xml_set_attr(a, m, "from", svc->jid) == HERALD_OK &&
        xml_set_attr(a, m, "to", to) == HERALD_OK && xml_set_attr(a, m, "id", id) == HERALD_OK) {
        xml_append(m, x);
        pubsub_send_message(svc, m);
    } else {
        log_warn("pubsub %s: out of memory, no approval request to %s", n->name, to);
    }
    arena_free(&a);
}

void pubsub_request_approval(struct pubsub_service *svc, struct pubsub_node *n, const char *jid,
                             const char *subid)
{
    size_t pos = 0;
    for (const struct pubsub_affentry *e; (e = pubsub_node_next_owner(n, &pos));)
        send_approval_form(svc, n, e->jid, jid, subid);
}

/* ---- §8.6 the owner's answer ---- */

static const char *field_value(const struct forms_form *f, const char *var)
{
    return forms_field_first_value(forms_form_find_field(f, var));
}

void pubsub_handle_owner_message(struct pubsub_service *svc, struct stanza *st)
{
    struct arena *a = st->arena;
    const char *from = st->from_str ? st->from_str : "?";
    if (st->type && strcmp(st->type, "error") == 0) {
        pubsub_handle_bounce(svc, st); /* of a notification, or of an approval request */
        return;
    }
    struct xml_node *x = xml_child(st->node, NS_XDATA, "x");
    struct forms_form *f;
    const char *why = NULL, *ftype = NULL;
    if (x == NULL) {
        /* Not an answer at all (a chat message to the service): not worth an info line. */
        log_debug("pubsub %s: ignored a message from %s (no approval form)", svc->jid, from);
        return;
    }
    if (forms_form_parse(a, x, NULL, &f, &why) || forms_form_get_form_type(f, &ftype) ||
        strcmp(ftype, NS_SUB_AUTH) != 0) {
        log_info("pubsub %s: ignored a form from %s (%s)", svc->jid, from,
                 why ? why : "not a subscribe_authorization form");
        return;
    }
    if (f->type == FORMS_TYPE_CANCEL)
        return; /* §8.6: the request stays pending */
    const char *node = field_value(f, "pubsub#node");
    const char *raw = field_value(f, "pubsub#subscriber_jid");
    const char *allow_s = field_value(f, "pubsub#allow");
    const char *subid = field_value(f, "pubsub#subid");
    const char *bare = jid_bare_str(a, &st->from);
    struct jid j;
    const char *jid;
    bool allow;
    struct pubsub_node *n;
    if (f->type != FORMS_TYPE_SUBMIT || node == NULL || raw == NULL || allow_s == NULL ||
        forms_value_bool(allow_s, &allow) || jid_parse(a, raw, &j) ||
        (jid = jid_full_str(a, &j)) == NULL || bare == NULL) {
        log_info("pubsub %s: ignored a malformed approval answer from %s", svc->jid, from);
        return;
    }
    if (pubsub_node_get(svc, node, &n) != HERALD_OK ||
        pubsub_node_aff(n, bare) != PUBSUB_AFF_OWNER) {
        log_info("pubsub %s: ignored an approval answer from %s: not an owner of node '%s'",
                 svc->jid, from, node);
        return;
    }
    /* Without a SubID (the field is hidden; a client may drop it) every pending request of
     * the JID is meant. */
    struct pubsub_subscriber *s = pubsub_node_subscriber(n, jid);
    struct pubsub_subop *ops = arena_calloc(a, s ? s->nsubs + 1 : 1, sizeof(*ops));
    size_t nops = 0;
    if (ops == NULL)
        return;
    for (uint32_t i = 0; s && i < s->nsubs; i++) {
        const struct pubsub_sub *sub = &s->subs[i];
        if (sub->state != PUBSUB_SUB_PENDING || (subid && strcmp(subid, sub->subid) != 0))
            continue;
        ops[nops] = (struct pubsub_subop){.jid = jid,
                                          .from = sub->state,
                                          .to = allow ? PUBSUB_SUB_SUBSCRIBED : PUBSUB_SUB_NONE,
                                          .opts = sub->opts};
        memcpy(ops[nops++].subid, sub->subid, sizeof(sub->subid));
    }
    if (nops == 0) {
        /* Answered already (by another owner), withdrawn, or never there. */
        log_info("pubsub %s: approval answer from %s: no pending request of %s on '%s'", svc->jid,
                 from, jid, node);
        return;
    }
    struct pubsub_changes *c = pubsub_changes_new(svc, n->name);
    if (c == NULL || pubsub_changes_commit(svc, &n, NULL, 0, ops, nops, c)) {
        log_error("pubsub %s: cannot store an approval answer from %s", node, from);
        pubsub_changes_run_cb(svc->srv, c, HERALD_ENOMEM);
        return;
    }
    log_info("pubsub %s: %s %s the subscription of %s to '%s'", svc->jid, from,
             allow ? "approved" : "denied", jid, node);
    if (store_on_commit(svc->srv->store, pubsub_changes_commit_cb, c))
        pubsub_changes_run_cb(svc->srv, c, HERALD_ENOMEM); /* stored; only the notices go */
}

/* ---- §8.7 get-pending (XEP-0050) ---- */

static void command_error(struct pubsub_req *r, const char *cond, const char *app)
{
    struct xmpp_error e = app ? xmpp_error_app(cond, NS_COMMANDS, app) : xmpp_error_of(cond);
    if (strcmp(cond, "forbidden") == 0)
        e.type = XMPP_ERROR_CANCEL; /* XEP-0050 §4.4 and the §8.7.3.3 example */
    pubsub_reply_xerr(r, &e);
}

static struct xml_node *command_reply(struct pubsub_req *r, const char *sessionid,
                                      const char *status)
{
    struct xml_node *c = xml_elem_new(r->a, NS_COMMANDS, "command");
    if (c == NULL || xml_set_attr(r->a, c, "node", NODE_GET_PENDING) ||
        xml_set_attr(r->a, c, "sessionid", sessionid) || xml_set_attr(r->a, c, "status", status))
        return NULL;
    return c;
}

static bool add_note(struct arena *a, struct xml_node *c, const char *type, const char *text)
{
    struct xml_node *note = xml_add_child(a, c, NS_COMMANDS, "note");
    return note && xml_set_attr(a, note, "type", type) == HERALD_OK &&
           xml_add_text(a, note, text, strlen(text)) == HERALD_OK;
}

struct owned_ctx {
    struct arena *a;
    const char **names;
    size_t n;
    bool oom;
};

static bool owned_cb(void *arg, const char *node, uint8_t aff)
{
    struct owned_ctx *x = arg;
    if (aff != PUBSUB_AFF_OWNER)
        return true;
    if ((x->names[x->n] = arena_strdup(x->a, node)) == NULL) {
        x->oom = true;
        return false;
    }
    return ++x->n < MAX_OWNED_SCAN;
}

/* First stage: the nodes with pending requests, as the options of pubsub#node. */
static void get_pending_nodes(struct pubsub_req *r, const char *sessionid)
{
    struct arena *a = r->a;
    struct owned_ctx x = {a, arena_calloc(a, MAX_OWNED_SCAN, sizeof(char *)), 0, false};
    struct store_txn *t;
    enum herald_rc rc = x.names ? store_read(r->srv->store, &t) : HERALD_ENOMEM;
    if (rc == HERALD_OK)
        rc = pubsub_store_affs_of_jid(t, r->svc->jid, r->from_bare, owned_cb, &x);
    if (rc == HERALD_OK && x.oom)
        rc = HERALD_ENOMEM;
    if (rc)
        goto fail;
    if (x.n == 0) {
        /* §8.7.3.3: no node whose requests this entity may approve. */
        command_error(r, "forbidden", NULL);
        return;
    }
    struct forms_form *f = forms_form_new(a, FORMS_TYPE_FORM);
    struct forms_field *fl;
    size_t options = 0;
    if (f == NULL || forms_form_add_form_type(a, f, NS_SUB_AUTH) ||
        forms_form_add_field(a, f, "pubsub#node", FORMS_FIELD_LIST_SINGLE,
                             "Node with pending subscription requests", &fl))
        goto oom;
    fl->required = true;
    for (size_t i = 0; i < x.n; i++) {
        struct pubsub_node *n;
        rc = pubsub_node_get(r->svc, x.names[i], &n);
        if (rc == HERALD_ENOTFOUND)
            continue;
        if (rc)
            goto fail;
        /* The XEP allows listing only nodes that have requests pending. */
        if (n->npending) {
            if (forms_field_add_option(a, fl, NULL, n->name))
                goto oom;
            options++;
        }
    }
    struct xml_node *c, *xf;
    if (options == 0) {
        c = command_reply(r, sessionid, "completed");
        if (c == NULL || !add_note(a, c, "info", "There are no pending subscription requests."))
            goto oom;
    } else {
        c = command_reply(r, sessionid, "executing");
        struct xml_node *acts = c ? xml_add_child(a, c, NS_COMMANDS, "actions") : NULL;
        if (acts == NULL || xml_set_attr(a, acts, "execute", "complete") ||
            !xml_add_child(a, acts, NS_COMMANDS, "complete") || forms_form_to_xml(a, f, &xf))
            goto oom;
        xml_append(c, xf);
    }
    router_reply_result(r->srv, r->st, c);
    return;
oom:
    rc = HERALD_ENOMEM;
fail:
    log_error("pubsub get-pending: %s", herald_rc_str(rc));
    command_error(r, "internal-server-error", NULL);
}

/* Second stage (§8.7.4): the owner picked a node; every pending request of it is sent again
 * as an approval form, to the requesting resource. */
static void get_pending_send(struct pubsub_req *r, const char *sessionid, struct xml_node *x)
{
    struct arena *a = r->a;
    struct forms_form *f;
    const char *why = NULL;
    enum herald_rc rc = forms_form_parse(a, x, NULL, &f, &why);
    if (rc == HERALD_ENOMEM) {
        command_error(r, "internal-server-error", NULL);
        return;
    }
    const char *name = rc ? NULL : field_value(f, "pubsub#node");
    if (name == NULL || *name == '\0') {
        command_error(r, "bad-request", "bad-payload");
        return;
    }
    struct pubsub_node *n;
    rc = pubsub_node_get(r->svc, name, &n);
    if (rc == HERALD_ENOTFOUND) {
        command_error(r, "item-not-found", NULL);
        return;
    }
    if (rc) {
        command_error(r, "internal-server-error", NULL);
        return;
    }
    if (pubsub_node_aff(n, r->from_bare) != PUBSUB_AFF_OWNER) {
        command_error(r, "forbidden", NULL);
        return;
    }
    size_t sent = 0;
    struct xml_node *c = command_reply(r, sessionid, "completed");
    if (c == NULL || (n->npending > MAX_FORMS_RESENT &&
                      !add_note(a, c, "warn",
                                "Only the first 256 pending requests were sent; answer them "
                                "and run the command again for the others."))) {
        command_error(r, "internal-server-error", NULL);
        return;
    }
    router_reply_result(r->srv, r->st, c);
    for (size_t i = 0; i < n->nsubscribers && sent < MAX_FORMS_RESENT && sent < n->npending; i++) {
        const struct pubsub_subscriber *s = n->subscribers[i];
        for (uint32_t j = 0; j < s->nsubs && sent < MAX_FORMS_RESENT; j++) {
            if (s->subs[j].state != PUBSUB_SUB_PENDING)
                continue;
            send_approval_form(r->svc, n, r->st->from_str, s->jid, s->subs[j].subid);
            sent++;
        }
    }
}

void pubsub_handle_command(struct pubsub_req *r, struct xml_node *cmd)
{
    static const char *const actions[] = {"execute", "cancel", "prev", "next", "complete"};
    const char *node = xml_attr(cmd, "node");
    const char *action = xml_attr(cmd, "action");
    const char *sessionid = xml_attr(cmd, "sessionid");
    bool known = action == NULL;
    if (strcmp(r->st->type, "set") != 0 || node == NULL) {
        command_error(r, "bad-request", NULL);
        return;
    }
    if (strcmp(node, NODE_GET_PENDING) != 0) {
        command_error(r, "item-not-found", NULL); /* XEP-0050 §4.4: no such command */
        return;
    }
    for (size_t i = 0; action && i < HERALD_ARRAY_LEN(actions); i++)
        known |= strcmp(action, actions[i]) == 0;
    if (!known) {
        command_error(r, "bad-request", "malformed-action");
        return;
    }
    if (sessionid && *sessionid == '\0') {
        command_error(r, "bad-request", "bad-sessionid");
        return;
    }
    char fresh[sizeof(SESSION_PREFIX) + 16];
    if (sessionid == NULL) {
        memcpy(fresh, SESSION_PREFIX, sizeof(SESSION_PREFIX) - 1);
        if (pubsub_random_hex(fresh + sizeof(SESSION_PREFIX) - 1, 8)) {
            command_error(r, "internal-server-error", NULL);
            return;
        }
        sessionid = fresh;
    }
    if (action && strcmp(action, "cancel") == 0) {
        struct xml_node *c = command_reply(r, sessionid, "canceled");
        if (c)
            router_reply_result(r->srv, r->st, c);
        else
            command_error(r, "internal-server-error", NULL);
        return;
    }
    if (action && strcmp(action, "prev") == 0) {
        command_error(r, "bad-request", "bad-action"); /* the first stage has no previous */
        return;
    }
    /* XEP-0050 §3.5.1: a cancel form counts as submitted. */
    struct xml_node *x = xml_child(cmd, NS_XDATA, "x");
    if (x)
        get_pending_send(r, sessionid, x);
    else
        get_pending_nodes(r, sessionid);
}

/* ---- XEP-0050 §2.2 discovery ---- */

static struct xml_node *disco_identity(struct arena *a, struct xml_node *q, const char *type,
                                       const char *name)
{
    struct xml_node *id = xml_add_child(a, q, NS_DISCO_INFO, "identity");
    if (id == NULL || xml_set_attr(a, id, "category", "automation") ||
        xml_set_attr(a, id, "type", type) || xml_set_attr(a, id, "name", name))
        return NULL;
    return id;
}

bool pubsub_commands_disco(struct pubsub_req *r, const char *nodename, bool items)
{
    struct arena *a = r->a;
    bool list = nodename && strcmp(nodename, NS_COMMANDS) == 0;
    bool command = nodename && strcmp(nodename, NODE_GET_PENDING) == 0;
    if (!list && !(command && !items))
        return false;
    struct xml_node *q = xml_elem_new(a, items ? NS_DISCO_ITEMS : NS_DISCO_INFO, "query");
    bool ok = q && xml_set_attr(a, q, "node", nodename) == HERALD_OK;
    if (ok && items) {
        /* §2.2: each command is an item of the fixed node. */
        struct xml_node *it = xml_add_child(a, q, NS_DISCO_ITEMS, "item");
        ok = it && xml_set_attr(a, it, "jid", r->svc->jid) == HERALD_OK &&
             xml_set_attr(a, it, "node", NODE_GET_PENDING) == HERALD_OK &&
             xml_set_attr(a, it, "name", GET_PENDING_NAME) == HERALD_OK;
    } else if (ok && list) {
        ok = disco_identity(a, q, "command-list", "Commands") != NULL;
    } else if (ok) {
        ok = disco_identity(a, q, "command-node", GET_PENDING_NAME) &&
             pubsub_disco_feature(a, q, NS_COMMANDS) && pubsub_disco_feature(a, q, NS_XDATA);
    }
    if (ok)
        router_reply_result(r->srv, r->st, q);
    else
        pubsub_reply_error(r, "internal-server-error", NULL);
    return true;
}
