/*
 * pubsub_presence.c - what a subscriber's presence changes (XEP-0060 §4.3 and §13.5):
 *
 *  - send_last_published_item = on_sub_and_presence: a resource that becomes available
 *    (a new presence session) gets the last item of every node its bare JID or its full
 *    JID is subscribed to with that setting, once, sent to that resource only (the
 *    account's other resources had theirs already);
 *  - temporary subscriptions (pubsub#expire = presence, or every subscription of a node
 *    with pubsub#tempsub) end when the subscribed JID's presence session does: a full JID
 *    when that resource goes unavailable, a bare JID when no resource of the account is
 *    available any more. Owners of nodes with notify_sub are told after the commit;
 *  - nodes with pubsub#purge_offline lose their items when their publisher's account has
 *    no available resource left.
 *
 * Presence-based delivery itself needs nothing here: pubsub_notify_jid looks at the
 * sessions' presence when it delivers.
 *
 * A JID's subscriptions are found with the reverse index (pubsub_store_subs_of_jid), so
 * the work is proportional to that account's subscriptions, not to the nodes.
 */
#include <stdlib.h>
#include <string.h>

#include "herald/log.h"
#include "herald/pubsub_store.h"
#include "herald/store.h"
#include "pubsub_int.h"

/* One subscription of the account that concerns this session. */
struct found {
    char *node;
    char *jid;
    char subid[PUBSUB_SUBID_LEN + 1];
    bool ends; /* a temporary subscription this session's end ends */
};

struct found_list {
    const char *bare;
    const char *full;
    struct found *v;
    size_t n, cap;
    bool oom;
};

static bool found_cb(void *arg, const char *node, const char *jid, const char *subid)
{
    struct found_list *l = arg;
    /* The bare JID's subscriptions and this session's, not the other resources'. */
    if (strcmp(jid, l->bare) != 0 && strcmp(jid, l->full) != 0)
        return true;
    if (strlen(subid) > PUBSUB_SUBID_LEN)
        return true;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        struct found *v = realloc(l->v, cap * sizeof(*v));
        if (v == NULL) {
            l->oom = true;
            return false;
        }
        l->v = v;
        l->cap = cap;
    }
    struct found *f = &l->v[l->n];
    f->node = strdup(node);
    f->jid = strdup(jid);
    if (f->node == NULL || f->jid == NULL) {
        free(f->node);
        free(f->jid);
        l->oom = true;
        return false;
    }
    strcpy(f->subid, subid);
    f->ends = false;
    l->n++;
    return true;
}

static void found_free(struct found_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].node);
        free(l->v[i].jid);
    }
    free(l->v);
}

static int found_cmp(const void *a, const void *b)
{
    const struct found *x = a, *y = b;
    int c = strcmp(x->node, y->node);
    return c ? c : strcmp(x->jid, y->jid);
}

/* The subscription in memory (state and options are kept there, not in the index). */
static const struct pubsub_sub *find_sub(const struct pubsub_node *n, const struct found *f)
{
    return pubsub_sub_find(pubsub_node_subscriber(n, f->jid), f->subid);
}

/* ---- a new presence session: the last items ---- */

static void send_last_items(struct pubsub_service *svc, struct session *s, const char *bare,
                            struct found_list *l)
{
    const char *done = NULL; /* one item per node, even with several subscriptions */
    for (size_t i = 0; i < l->n; i++) {
        const struct found *f = &l->v[i];
        struct pubsub_node *n;
        if ((done && strcmp(done, f->node) == 0) || pubsub_node_get(svc, f->node, &n))
            continue;
        if (n->cfg.send_last_published_item != PUBSUB_SEND_LAST_ON_SUB_AND_PRESENCE)
            continue;
        const struct pubsub_sub *sub = find_sub(n, f);
        if (sub == NULL || sub->state != PUBSUB_SUB_SUBSCRIBED || !sub->opts.deliver)
            continue;
        /* The same decision as notifications (the relationship may have changed). */
        if (n->cfg.access_model != PUBSUB_ACCESS_OPEN &&
            pubsub_access_check(svc, n, bare, PUBSUB_OP_NOTIFY) != PUBSUB_ALLOW)
            continue;
        pubsub_send_last_item(svc, n, s->full, NULL);
        done = f->node;
    }
}

/* ---- the end of a presence session: temporary subscriptions ---- */

bool pubsub_available_elsewhere(struct server *srv, const char *bare, const char *full)
{
    for (struct session *r = router_sessions_of(srv->router, bare, strlen(bare)); r;
         r = r->next_res)
        if (r->available && strcmp(r->full, full) != 0)
            return true;
    return false;
}

/* Owners told after the commit (notify_sub). */
struct ended {
    struct pubsub_service *svc;
    struct found_list l; /* the subscriptions that ended */
};

static void ended_cb(void *arg, enum herald_rc rc)
{
    struct ended *e = arg;
    for (size_t i = 0; rc == HERALD_OK && i < e->l.n; i++) {
        struct pubsub_node *n;
        if (pubsub_node_get(e->svc, e->l.v[i].node, &n) == HERALD_OK)
            pubsub_notify_owners_sub(e->svc, n, e->l.v[i].jid, e->l.v[i].subid, PUBSUB_SUB_NONE);
    }
    found_free(&e->l);
    free(e);
}

/* Does subscription f end with this presence session? */
static bool ends_now(struct pubsub_service *svc, const struct session *s, bool bare_ends,
                     const struct found *f)
{
    struct pubsub_node *n;
    if ((strcmp(f->jid, s->full) != 0 && !bare_ends) || pubsub_node_get(svc, f->node, &n))
        return false;
    const struct pubsub_sub *sub = find_sub(n, f);
    return sub && (sub->opts.expire_presence || n->cfg.tempsub);
}

/* Delete the subscriptions of l marked `ends`, all in one nested transaction. */
static enum herald_rc store_ended(struct pubsub_service *svc, const struct found_list *l)
{
    struct store_txn *t;
    enum herald_rc rc = pubsub_txn_begin(svc, &t);
    if (rc)
        return rc;
    for (size_t i = 0; rc == HERALD_OK && i < l->n; i++)
        if (l->v[i].ends)
            rc = pubsub_store_sub_del(t, svc->jid, l->v[i].node, l->v[i].jid, l->v[i].subid);
    return pubsub_txn_end(&t, rc);
}

static void end_temporary(struct pubsub_service *svc, struct session *s, const char *bare,
                          struct found_list *l)
{
    bool bare_ends = !pubsub_available_elsewhere(svc->srv, bare, s->full);
    size_t nends = 0;
    for (size_t i = 0; i < l->n; i++) {
        l->v[i].ends = ends_now(svc, s, bare_ends, &l->v[i]);
        nends += l->v[i].ends;
    }
    if (nends == 0)
        return;
    enum herald_rc rc = store_ended(svc, l);
    if (rc) {
        log_error("pubsub: cannot end the temporary subscriptions of %s: %s", s->full,
                  herald_rc_str(rc));
        return;
    }
    /* Memory follows; the ended subscriptions move to the owners' notice (their slots in l
     * are left empty). */
    struct ended *e = calloc(1, sizeof(*e));
    struct found *v = e ? calloc(nends, sizeof(*v)) : NULL;
    for (size_t i = 0; i < l->n; i++) {
        struct found *f = &l->v[i];
        struct pubsub_node *n;
        if (!f->ends)
            continue;
        if (pubsub_node_get(svc, f->node, &n) == HERALD_OK)
            pubsub_node_remove_sub(n, f->jid, f->subid);
        log_debug("pubsub: temporary subscription of %s to %s/%s ended", f->jid, svc->jid, f->node);
        if (v) {
            v[e->l.n++] = *f;
            f->node = f->jid = NULL;
        }
    }
    if (v == NULL) {
        log_warn("pubsub: out of memory, the owners do not hear of the end of temporary "
                 "subscriptions of %s",
                 s->full);
        free(e);
        return;
    }
    e->svc = svc;
    e->l.v = v;
    e->l.cap = nends;
    if (store_on_commit(svc->srv->store, ended_cb, e)) {
        found_free(&e->l);
        free(e);
    }
}

/* ---- the end of a publisher's presence: pubsub#purge_offline ---- */

struct published_ctx {
    struct pubsub_names nodes;
    bool oom;
};

static bool published_cb(void *arg, const char *node, uint8_t aff)
{
    struct published_ctx *x = arg;
    if (aff != PUBSUB_AFF_OWNER && aff != PUBSUB_AFF_PUBLISHER && aff != PUBSUB_AFF_PUBLISH_ONLY)
        return true;
    if (!pubsub_names_add(&x->nodes, node, strlen(node))) {
        x->oom = true;
        return false;
    }
    return true;
}

/*
 * §16.4.4 pubsub#purge_offline ("purge all items when the relevant publisher goes
 * offline"): the nodes this account may publish to (owner, publisher, publish-only) that
 * ask for it lose their items, as by an owner's purge (§8.5, notice included), when the
 * account's last available resource goes offline.
 */
static void purge_offline(struct pubsub_service *svc, const char *bare)
{
    struct published_ctx x = {{NULL, 0, 0}, false};
    struct store_txn *t;
    enum herald_rc rc = store_read(svc->srv->store, &t);
    if (rc == HERALD_OK)
        rc = pubsub_store_affs_of_jid(t, svc->jid, bare, published_cb, &x);
    if (rc == HERALD_OK && x.oom)
        rc = HERALD_ENOMEM;
    if (rc)
        log_error("pubsub: cannot find the nodes %s publishes to: %s", bare, herald_rc_str(rc));
    for (size_t i = 0; rc == HERALD_OK && i < x.nodes.n; i++) {
        struct pubsub_node *n;
        struct pubsub_deferred_event *e;
        if (pubsub_node_get(svc, x.nodes.v[i], &n) != HERALD_OK || !n->cfg.purge_offline ||
            !n->cfg.persist_items || n->nitems == 0)
            continue;
        if (pubsub_node_purge(svc, n, &e) != HERALD_OK)
            continue;
        log_info("pubsub: %s/%s purged, its publisher %s went offline", svc->jid, n->name, bare);
        if (e && !pubsub_deferred_event_queue(e))
            log_warn("pubsub: the subscribers of %s/%s are not told of its purge", svc->jid,
                     n->name);
    }
    pubsub_names_free(&x.nodes);
}

/* ---- the entry point ---- */

void pubsub_presence_changed(struct server *srv, struct session *s, bool available_now,
                             bool was_available)
{
    struct pubsub_registry *reg = srv->pubsub;
    if (reg == NULL || s == NULL || s->full == NULL || (available_now && was_available))
        return;
    char bare[PUBSUB_BARE_MAX];
    if (s->bare_len >= sizeof(bare))
        return;
    memcpy(bare, s->full, s->bare_len);
    bare[s->bare_len] = '\0';
    for (size_t i = 0; i < reg->nsvcs; i++) {
        struct pubsub_service *svc = reg->svcs[i];
        struct found_list l = {.bare = bare, .full = s->full};
        struct store_txn *t;
        enum herald_rc rc = store_read(srv->store, &t);
        if (rc == HERALD_OK)
            rc = pubsub_store_subs_of_jid(t, svc->jid, bare, found_cb, &l);
        if (rc == HERALD_OK && l.oom)
            rc = HERALD_ENOMEM;
        if (rc) {
            log_error("pubsub: cannot find the subscriptions of %s: %s", s->full,
                      herald_rc_str(rc));
            found_free(&l);
            continue;
        }
        if (l.n > 1)
            qsort(l.v, l.n, sizeof(*l.v), found_cmp);
        if (available_now) {
            send_last_items(svc, s, bare, &l);
        } else {
            end_temporary(svc, s, bare, &l);
            /* Only a resource that was online can take its account offline. */
            if (was_available && !pubsub_available_elsewhere(srv, bare, s->full))
                purge_offline(svc, bare);
        }
        found_free(&l);
    }
}
