/*
 * pubsub_expire.c - pubsub#item_expire (XEP-0060 §17.4.4): a periodic sweep deletes items
 * older than their node's item_expire, and tells subscribers with a retraction when the
 * node has notify_retract (after the commit, as every notification).
 *
 * Retrieval already hides expired items (pubsub_item_expired), so the sweep only has to be
 * eventually complete, not prompt: each tick visits a bounded number of node records
 * (resuming where the last tick stopped, service after service) and deletes a bounded
 * number of items, so a large store costs a little per tick instead of a pause. Within a
 * node items are in publication order and their stamps grow with it, so the walk stops at
 * the first live item.
 *
 * Node records are walked by name (pubsub_store_nodes_each from the last name looked at):
 * only names are read, the configuration comes from the node cache or pubsub_store_node_get,
 * so the sweep does not load every node into memory.
 */
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>

#include "herald/log.h"
#include "herald/pubsub_store.h"
#include "herald/store.h"
#include "pubsub_int.h"

#define EXPIRE_TICK_S     2    /* seconds between sweeps */
#define EXPIRE_NODES_TICK 1024 /* node records looked at per tick */
#define EXPIRE_ITEMS_TICK 1024 /* items deleted per tick */

struct pubsub_expiry {
    struct pubsub_registry *reg;
    struct event *timer;
    size_t svc;   /* the service being walked */
    char *cursor; /* the last node name looked at in it (heap), NULL: from the start */
};

/* ---- the node names of one tick ---- */

struct names_ctx {
    struct pubsub_names *out;
    size_t max;
    bool oom;
};

static bool names_cb(void *arg, const char *name, size_t len)
{
    struct names_ctx *x = arg;
    x->oom = !pubsub_names_add(x->out, name, len);
    return !x->oom && x->out->n < x->max;
}

/* Up to max node names of svc after `after` (NULL: from the first), in key order. */
static enum herald_rc names_after(struct store *st, const char *svc, const char *after, size_t max,
                                  struct pubsub_names *out)
{
    struct store_txn *t;
    struct names_ctx x = {out, max, false};
    enum herald_rc rc = store_read(st, &t);
    if (rc == HERALD_OK)
        rc = pubsub_store_nodes_each(t, svc, after, names_cb, &x);
    if (rc == HERALD_OK && x.oom)
        rc = HERALD_ENOMEM;
    if (rc)
        pubsub_names_free(out);
    return rc;
}

/* ---- one node ---- */

struct expired {
    const struct pubsub_config *cfg;
    int64_t now;
    size_t max;
    struct pubsub_names ids;
    bool oom;
};

static bool expired_cb(void *arg, const struct pubsub_store_item *it)
{
    struct expired *x = arg;
    if (!pubsub_item_expired(x->cfg, it->ts_us, x->now) || x->ids.n >= x->max)
        return false;
    x->oom = !pubsub_names_add(&x->ids, it->id, it->id_len);
    return !x->oom;
}

/* Does node `name` expire items? From the cache when it is loaded, else from its record
 * alone (the sweep must not load every node into memory). */
static bool node_expires(struct pubsub_service *svc, const char *name)
{
    struct pubsub_node *n = hmap_get(&svc->nodes, name, strlen(name));
    if (n)
        return n->cfg.item_expire != 0 && n->cfg.persist_items;
    struct store_txn *t;
    struct pubsub_config cfg;
    int64_t created;
    char *creator = NULL;
    if (store_read(svc->srv->store, &t) ||
        pubsub_store_node_get(t, svc->jid, name, &cfg, &created, &creator))
        return false;
    bool yes = cfg.item_expire != 0 && cfg.persist_items;
    pubsub_config_cleanup(&cfg);
    free(creator);
    return yes;
}

/* Delete up to *budget expired items of node `name`; *budget goes down by the count. */
static void expire_node(struct pubsub_registry *reg, struct pubsub_service *svc, const char *name,
                        int64_t now, size_t *budget)
{
    struct store *st = reg->srv->store;
    struct pubsub_node *n;
    struct store_txn *t;
    if (!node_expires(svc, name) || pubsub_node_get(svc, name, &n) != HERALD_OK ||
        store_read(st, &t) != HERALD_OK)
        return;
    struct expired x = {.cfg = &n->cfg, .now = now, .max = *budget};
    enum herald_rc rc = pubsub_store_items_each(t, svc->jid, name, false, 0, expired_cb, &x);
    if (rc == HERALD_OK && x.oom)
        rc = HERALD_ENOMEM;
    size_t deleted = 0;
    if (rc == HERALD_OK && x.ids.n > 0) {
        /* The ids were copied: the read snapshot may end with this write. */
        if ((rc = pubsub_txn_begin(svc, &t)) == HERALD_OK) {
            for (size_t i = 0; rc == HERALD_OK && i < x.ids.n; i++) {
                rc = pubsub_store_item_del(t, svc->jid, name, x.ids.v[i]);
                deleted += rc == HERALD_OK;
                if (rc == HERALD_ENOTFOUND)
                    rc = HERALD_OK;
            }
            rc = pubsub_txn_end(&t, rc);
        }
    }
    if (rc)
        log_error("pubsub: cannot expire items of %s/%s: %s", svc->jid, name, herald_rc_str(rc));
    if (rc == HERALD_OK && x.ids.n > 0) {
        *budget -= x.ids.n;
        n->nitems = n->nitems > deleted ? n->nitems - deleted : 0;
        log_debug("pubsub: %zu item(s) of %s/%s expired", x.ids.n, svc->jid, name);
        /* §7.2.2.1 as for a retraction: subscribers hear of it when the node says so. */
        pubsub_retractions_queue(svc, n, &x.ids);
    }
    pubsub_names_free(&x.ids);
}

/* ---- the tick ---- */

static void expire_tick_cb(evutil_socket_t fd, short what, void *arg)
{
    struct pubsub_expiry *e = arg;
    struct pubsub_registry *reg = e->reg;
    (void)fd, (void)what;
    int64_t now = herald_wall_us();
    size_t nodes = EXPIRE_NODES_TICK, items = EXPIRE_ITEMS_TICK;
    /* At most one pass over every service per tick (the first resumes mid-service). */
    for (size_t pass = 0; pass <= reg->nsvcs && nodes > 0 && items > 0; pass++) {
        struct pubsub_service *svc = reg->svcs[e->svc % reg->nsvcs];
        struct pubsub_names l = {0};
        size_t asked = nodes;
        enum herald_rc rc = names_after(reg->srv->store, svc->jid, e->cursor, asked, &l);
        if (rc) {
            log_error("pubsub: cannot walk the nodes of %s: %s", svc->jid, herald_rc_str(rc));
            return;
        }
        size_t i;
        for (i = 0; i < l.n && items > 0; i++) {
            expire_node(reg, svc, l.v[i], now, &items);
            nodes--;
            if (items == 0)
                break; /* maybe more to delete there: the next tick starts with it again */
            free(e->cursor);
            e->cursor = l.v[i];
            l.v[i] = NULL;
        }
        bool finished = i == l.n && l.n < asked; /* the service's last node was looked at */
        pubsub_names_free(&l);
        if (!finished)
            break;
        free(e->cursor);
        e->cursor = NULL;
        e->svc = (e->svc + 1) % reg->nsvcs;
    }
}

enum herald_rc pubsub_expire_start(struct pubsub_registry *reg)
{
    struct pubsub_expiry *e = calloc(1, sizeof(*e));
    if (e == NULL)
        return HERALD_ENOMEM;
    e->reg = reg;
    if (reg->nsvcs == 0) {
        reg->expiry = e; /* nothing to sweep */
        return HERALD_OK;
    }
    e->timer = event_new(reg->srv->base, -1, EV_PERSIST, expire_tick_cb, e);
    struct timeval tv = {EXPIRE_TICK_S, 0};
    if (e->timer == NULL || event_add(e->timer, &tv)) {
        if (e->timer)
            event_free(e->timer);
        free(e);
        return HERALD_ENOMEM;
    }
    reg->expiry = e;
    return HERALD_OK;
}

void pubsub_expire_stop(struct pubsub_registry *reg)
{
    struct pubsub_expiry *e = reg ? reg->expiry : NULL;
    if (e == NULL)
        return;
    if (e->timer)
        event_free(e->timer);
    free(e->cursor);
    free(e);
    reg->expiry = NULL;
}
