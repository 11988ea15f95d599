/*
 * roster.c - roster management (RFC 6121 §2): roster get with versioning (§2.1.3, §2.6),
 * roster set to add, update and remove items (§2.3-§2.5) with every error case of §2.3.3
 * and §2.5.3, and roster pushes to the interested resources (§2.1.6).
 *
 * Versions. Each account has a counter (STORE_DB_ROSTER_VER) raised by every change of
 * its roster; the 'ver' string is its decimal value. A roster get naming the current
 * version gets an empty result (§2.6.3); any other gets the whole roster with its
 * version. Removed items leave no record behind, so a client whose version is not the
 * current one cannot be brought up to date by interim pushes alone (a removal would be
 * missing): it gets the complete roster, as §2.6.3 allows when "the server cannot
 * associate the version ID with any previous version it has on file".
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "herald/log.h"
#include "im_int.h"

static const char *const sub_names[] = {"none", "to", "from", "both"};

/* ---- items ---- */

static const char *arena_str(struct im_ctx *c, const struct roster_str *s)
{
    return arena_strndup(c->a, s->len ? s->s : "", s->len);
}

enum herald_rc im_item_load(struct im_ctx *c, const char *owner, const char *contact,
                            struct im_item *out)
{
    memset(out, 0, sizeof(*out));
    struct store_txn *t = im_ctx_read(c);
    if (t == NULL)
        return HERALD_EIO;
    enum herald_rc rc = roster_item_get(t, owner, contact, &out->r);
    if (rc == HERALD_ENOTFOUND) {
        memset(out, 0, sizeof(*out));
        return HERALD_OK;
    }
    if (rc) {
        log_error("im: cannot read the roster item %s of %s: %s", contact, owner,
                  herald_rc_str(rc));
        return rc;
    }
    /* The record's bytes belong to the map: keep copies that survive our writes. */
    out->exists = true;
    out->r.name.s = arena_str(c, &out->r.name);
    bool ok = out->r.name.s != NULL;
    for (size_t i = 0; ok && i < out->r.ngroups; i++)
        ok = (out->r.groups[i].s = arena_str(c, &out->r.groups[i])) != NULL;
    return ok ? HERALD_OK : HERALD_ENOMEM;
}

static struct xml_node *item_elem(struct im_ctx *c, const char *contact,
                                  const struct roster_item *r)
{
    struct arena *a = c->a;
    struct xml_node *item = xml_elem_new(a, NS_ROSTER, "item");
    if (item == NULL || xml_set_attr(a, item, "jid", contact))
        return NULL;
    if (r == NULL) /* a removal */
        return xml_set_attr(a, item, "subscription", "remove") ? NULL : item;
    if ((r->name.len && xml_set_attr(a, item, "name", arena_str(c, &r->name))) ||
        xml_set_attr(a, item, "subscription", sub_names[r->sub]) ||
        ((r->flags & ROSTER_F_ASK) && xml_set_attr(a, item, "ask", "subscribe")) ||
        ((r->flags & ROSTER_F_APPROVED) && xml_set_attr(a, item, "approved", "true")))
        return NULL;
    for (size_t i = 0; i < r->ngroups; i++) {
        struct xml_node *g = xml_add_child(a, item, NS_ROSTER, "group");
        if (g == NULL || xml_add_text(a, g, r->groups[i].s, r->groups[i].len))
            return NULL;
    }
    return item;
}

static struct xml_node *query_elem(struct im_ctx *c, uint64_t ver)
{
    struct xml_node *q = xml_elem_new(c->a, NS_ROSTER, "query");
    char v[24];
    snprintf(v, sizeof(v), "%" PRIu64, ver);
    return q && xml_set_attr(c->a, q, "ver", v) == HERALD_OK ? q : NULL;
}

/* §2.1.6: a push of one item (r NULL: removed) to every interested resource, carrying
 * the new version (§2.6.3). 'to' and 'id' are stamped per resource. */
static void push(struct im_ctx *c, const char *owner, const char *contact,
                 const struct roster_item *r, uint64_t ver)
{
    struct xml_node *iq = xml_elem_new(c->a, XMPP_NS_CLIENT, "iq");
    struct xml_node *q = query_elem(c, ver);
    struct xml_node *item = q ? item_elem(c, contact, r) : NULL;
    if (iq == NULL || item == NULL || xml_set_attr(c->a, iq, "type", "set")) {
        log_error("im: out of memory building a roster push");
        return;
    }
    xml_append(q, item);
    xml_append(iq, q);
    im_out_node(c, IM_TO_INTERESTED, owner, (struct session_ref){0, 0}, iq,
                IM_OUT_TO_SESSION | IM_OUT_PUSH_ID);
}

static enum herald_rc next_version(struct im_ctx *c, struct store_txn *t, const char *owner,
                                   uint64_t *ver)
{
    enum herald_rc rc = roster_version_get(t, owner, ver);
    if (rc == HERALD_OK && *ver == UINT64_MAX)
        rc = HERALD_ELIMIT;
    if (rc == HERALD_OK)
        rc = roster_version_put(t, owner, ++*ver);
    if (rc)
        im_ctx_fail(c, "roster version update", rc);
    return rc;
}

enum herald_rc im_item_save(struct im_ctx *c, const char *owner, const char *contact,
                            struct im_item *it)
{
    struct store_txn *t = im_ctx_write(c);
    if (t == NULL)
        return HERALD_EIO;
    enum herald_rc rc = next_version(c, t, owner, &it->r.ver);
    if (rc)
        return rc;
    if ((rc = roster_item_put(t, owner, contact, &it->r)) != HERALD_OK) {
        im_ctx_fail(c, "roster item write", rc);
        return rc;
    }
    it->exists = true;
    push(c, owner, contact, &it->r, it->r.ver);
    return HERALD_OK;
}

enum herald_rc im_item_remove(struct im_ctx *c, const char *owner, const char *contact)
{
    struct store_txn *t = im_ctx_write(c);
    if (t == NULL)
        return HERALD_EIO;
    uint64_t ver;
    enum herald_rc rc = next_version(c, t, owner, &ver);
    if (rc)
        return rc;
    if ((rc = roster_item_del(t, owner, contact)) != HERALD_OK) {
        im_ctx_fail(c, "roster item delete", rc);
        return rc;
    }
    push(c, owner, contact, NULL, ver);
    return HERALD_OK;
}

enum herald_rc im_roster_has_room(struct im_ctx *c, const char *owner, bool *room)
{
    uint64_t n = 0;
    struct store_txn *t = im_ctx_read(c);
    enum herald_rc rc = t ? roster_count(t, owner, &n) : HERALD_EIO;
    if (rc)
        log_error("im: cannot count the roster of %s: %s", owner, herald_rc_str(rc));
    *room = n < c->srv->cfg.max_roster_items;
    return rc;
}

/* ---- roster get (§2.1.3, §2.1.4, §2.6) ---- */

static void roster_get(struct im_ctx *c, const struct stanza *st, struct xml_node *q,
                       const char *owner)
{
    if (xml_child(q, NULL, NULL)) {
        im_out_error(c, st, "bad-request", "a roster get carries no items", 0);
        return;
    }
    struct session *s = router_session_by_full(c->srv->router, st->from_str, strlen(st->from_str));
    if (s)
        s->interested = true; /* §2.2: it gets roster pushes from now on */
    struct store_txn *t = im_ctx_read(c);
    uint64_t ver = 0;
    enum herald_rc rc = t ? roster_version_get(t, owner, &ver) : HERALD_EIO;
    if (rc) {
        im_out_error(c, st, "internal-server-error", NULL, 0);
        return;
    }
    const char *cver = xml_attr(q, "ver");
    char cur[24];
    snprintf(cur, sizeof(cur), "%" PRIu64, ver);
    if (cver && strcmp(cver, cur) == 0) {
        im_out_result(c, st, NULL); /* §2.6.3: unchanged, nothing to send */
        return;
    }
    struct xml_node *res = query_elem(c, ver);
    struct roster_iter it;
    if (res == NULL || roster_iter_open(t, STORE_DB_ROSTER, owner, &it) != HERALD_OK) {
        im_out_error(c, st, "internal-server-error", NULL, 0);
        return;
    }
    const char *contact;
    size_t clen;
    const void *v;
    size_t vlen;
    while ((rc = roster_iter_next(&it, &contact, &clen, &v, &vlen)) == HERALD_OK) {
        struct roster_item r;
        if (roster_item_decode(v, vlen, &r)) {
            log_error("im: unreadable roster item %.*s of %s skipped", (int)clen, contact, owner);
            continue;
        }
        const char *cj = arena_strndup(c->a, contact, clen);
        struct xml_node *item = cj ? item_elem(c, cj, &r) : NULL;
        if (item == NULL) {
            rc = HERALD_ENOMEM;
            break;
        }
        xml_append(res, item);
    }
    roster_iter_close(&it);
    if (rc != HERALD_ENOTFOUND) {
        log_error("im: cannot read the roster of %s: %s", owner, herald_rc_str(rc));
        im_out_error(c, st, "internal-server-error", NULL, 0);
        return;
    }
    im_out_result(c, st, res);
}

/* ---- roster set (§2.1.5, §2.3-§2.5) ---- */

struct set_request {
    const char *contact; /* canonical JID */
    bool remove;
    struct roster_str name;
    size_t ngroups;
    struct roster_str groups[ROSTER_GROUPS_MAX];
};

/* Check the set against §2.1.5 and §2.3.3; on failure *cond (and *text) say why. */
static bool set_parse(struct im_ctx *c, struct xml_node *q, const char *owner,
                      struct set_request *req, const char **cond, const char **text)
{
    memset(req, 0, sizeof(*req));
    struct xml_node *item = xml_child(q, NULL, NULL);
    if (item == NULL || xml_next(item, NULL, NULL) || !xml_is(item, NS_ROSTER, "item")) {
        *cond = "bad-request";
        *text = "a roster set carries exactly one item";
        return false;
    }
    const char *jid = xml_attr(item, "jid");
    struct jid j;
    if (jid == NULL) {
        *cond = "bad-request";
        *text = "the item has no jid";
        return false;
    }
    if (jid_parse(c->a, jid, &j) || (req->contact = jid_full_str(c->a, &j)) == NULL) {
        *cond = "jid-malformed";
        *text = NULL;
        return false;
    }
    if (strcmp(req->contact, owner) == 0) {
        *cond = "not-allowed"; /* §2.3.3 interoperability note */
        *text = "your own address is not a contact";
        return false;
    }
    if (!roster_key_fits(owner, req->contact)) {
        *cond = "not-acceptable";
        *text = "the address is too long to store";
        return false;
    }
    /* §2.1.2.5: in a set, every subscription value but "remove" is ignored. */
    const char *sub = xml_attr(item, "subscription");
    req->remove = sub && strcmp(sub, "remove") == 0;
    if (req->remove)
        return true;
    const char *name = xml_attr(item, "name");
    req->name = (struct roster_str){name ? name : "", name ? strlen(name) : 0};
    *cond = "not-acceptable";
    if (req->name.len > ROSTER_NAME_MAX) {
        *text = "the name is too long";
        return false;
    }
    for (struct xml_node *g = xml_child(item, NS_ROSTER, "group"); g;
         g = xml_next(g, NS_ROSTER, "group")) {
        const char *gt = xml_text(g);
        size_t gl = strlen(gt);
        if (gl == 0) {
            *text = "a group name is empty";
            return false;
        }
        if (gl > ROSTER_GROUP_MAX) {
            *text = "a group name is too long";
            return false;
        }
        if (req->ngroups == ROSTER_GROUPS_MAX) {
            *text = "too many groups";
            return false;
        }
        req->groups[req->ngroups++] = (struct roster_str){gt, gl};
    }
    /* §2.3.3: duplicate groups, compared as resourceparts are (OpaqueString). */
    const char *prepped[ROSTER_GROUPS_MAX];
    for (size_t i = 0; i < req->ngroups; i++) {
        if (jid_prep_resource(c->a, req->groups[i].s, req->groups[i].len, &prepped[i]))
            prepped[i] = req->groups[i].s; /* not preparable: compare as given */
        for (size_t k = 0; k < i; k++) {
            if (strcmp(prepped[i], prepped[k]) == 0) {
                *cond = "bad-request";
                *text = "duplicate group";
                return false;
            }
        }
    }
    return true;
}

static void roster_set(struct im_ctx *c, const struct stanza *st, struct xml_node *q,
                       const char *owner)
{
    struct set_request req;
    const char *cond = NULL, *text = NULL;
    if (!set_parse(c, q, owner, &req, &cond, &text)) {
        im_out_error(c, st, cond, text, 0);
        return;
    }
    struct im_item it;
    bool pending = false, room = true;
    if (im_item_load(c, owner, req.contact, &it) ||
        im_pending_exists(c, owner, req.contact, &pending) ||
        (!it.exists && !req.remove && im_roster_has_room(c, owner, &room))) {
        im_out_error(c, st, "internal-server-error", NULL, 0);
        return;
    }
    if (req.remove && !it.exists) {
        im_out_error(c, st, "item-not-found", NULL, 0); /* §2.5.3 */
        return;
    }
    if (!room) {
        im_out_error(c, st, "not-acceptable", "the roster is full", 0);
        return;
    }
    /* Should the writes not commit, the client hears so instead of the result. */
    im_out_error(c, st, "internal-server-error", NULL, IM_OUT_FAIL_ONLY);
    if (req.remove) {
        /* §2.5.2: result, push, then tell the contact what the removal ends. */
        struct im_item old = it;
        im_out_result(c, st, NULL);
        if (im_item_remove(c, owner, req.contact) == HERALD_OK)
            im_sub_removed(c, owner, req.contact, &old, pending);
        return;
    }
    /* §2.4.1: the item is replaced as given; the subscription state stays the server's. */
    it.r.name = req.name;
    it.r.ngroups = req.ngroups;
    memcpy(it.r.groups, req.groups, req.ngroups * sizeof(req.groups[0]));
    im_out_result(c, st, NULL);
    if (im_item_save(c, owner, req.contact, &it))
        return; /* recorded in c: the client gets the error queued above */
}

void im_roster_iq_cb(struct server *srv, struct stanza *st, struct xml_node *payload, void *arg)
{
    (void)arg;
    struct im_ctx c;
    if (im_ctx_begin(&c, srv)) {
        struct xmpp_error e = xmpp_error_of("internal-server-error");
        router_reply_error(srv, st, &e);
        return;
    }
    const char *owner = jid_bare_str(c.a, &st->from);
    const char *target = st->has_to ? jid_bare_str(c.a, &st->to) : owner;
    if (owner == NULL || target == NULL) {
        im_out_error(&c, st, "internal-server-error", NULL, 0);
    } else if (st->from.local == NULL || strcmp(owner, target) != 0) {
        /* §2.1.5 security warning: only the account itself manages its roster. */
        im_out_error(&c, st, "forbidden", NULL, 0);
    } else if (st->type && strcmp(st->type, "get") == 0) {
        roster_get(&c, st, payload, owner);
    } else if (st->type && strcmp(st->type, "set") == 0) {
        roster_set(&c, st, payload, owner);
    }
    im_ctx_end(&c);
}
