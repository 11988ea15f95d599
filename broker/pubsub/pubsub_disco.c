/*
 * pubsub_disco.c - service discovery (XEP-0030) on a pubsub service: its identity and
 * features (XEP-0060 §5.1), its nodes (§5.2), a node's identity and meta-data (§5.3, §5.4),
 * a node's items (§5.5), and the SHIM headers it uses (XEP-0131 §3.2). The commands'
 * discovery (XEP-0050 §2.2) is in pubsub_approval.c.
 */
#include <string.h>

#include "herald/disco.h"
#include "herald/log.h"
#include "herald/pubsub_store.h"
#include "herald/store.h"
#include "pubsub_int.h"

/*
 * Every feature listed here works (§11 Feature Summary). Two more depend on the default
 * node configuration (§8.3) and are added from it, so that they cannot disagree with it:
 * the one "access-*" feature naming the default access model (§11: "The default access
 * model is ..."), and "last-published" when the default send_last_published_item is
 * on_sub_and_presence (§6.1.7). Not listed, because they are not implemented: auto-subscribe,
 * collections, filtered-notifications, leased-subscription (a pubsub#expire date-time only
 * stops notifications), presence-subscribe.
 */
static const char *const service_features[] = {
    "http://jabber.org/protocol/pubsub",
    "http://jabber.org/protocol/pubsub#auto-create",
    "http://jabber.org/protocol/pubsub#config-node",
    "http://jabber.org/protocol/pubsub#create-and-configure",
    "http://jabber.org/protocol/pubsub#create-nodes",
    "http://jabber.org/protocol/pubsub#delete-items",
    "http://jabber.org/protocol/pubsub#delete-nodes",
    "http://jabber.org/protocol/pubsub#get-pending",
    "http://jabber.org/protocol/pubsub#instant-nodes",
    "http://jabber.org/protocol/pubsub#item-ids",
    "http://jabber.org/protocol/pubsub#manage-subscriptions",
    "http://jabber.org/protocol/pubsub#member-affiliation",
    "http://jabber.org/protocol/pubsub#meta-data",
    "http://jabber.org/protocol/pubsub#modify-affiliations",
    "http://jabber.org/protocol/pubsub#multi-items",
    "http://jabber.org/protocol/pubsub#multi-subscribe",
    "http://jabber.org/protocol/pubsub#outcast-affiliation",
    "http://jabber.org/protocol/pubsub#persistent-items",
    "http://jabber.org/protocol/pubsub#presence-notifications",
    "http://jabber.org/protocol/pubsub#publish",
    "http://jabber.org/protocol/pubsub#publish-node-full",
    "http://jabber.org/protocol/pubsub#publish-only-affiliation",
    "http://jabber.org/protocol/pubsub#publish-options",
    "http://jabber.org/protocol/pubsub#publisher-affiliation",
    "http://jabber.org/protocol/pubsub#purge-nodes",
    "http://jabber.org/protocol/pubsub#retract-items",
    "http://jabber.org/protocol/pubsub#retrieve-affiliations",
    "http://jabber.org/protocol/pubsub#retrieve-default",
    "http://jabber.org/protocol/pubsub#retrieve-default-sub",
    "http://jabber.org/protocol/pubsub#retrieve-items",
    "http://jabber.org/protocol/pubsub#retrieve-subscriptions",
    "http://jabber.org/protocol/pubsub#rsm",
    "http://jabber.org/protocol/pubsub#subscribe",
    "http://jabber.org/protocol/pubsub#subscription-notifications",
    "http://jabber.org/protocol/pubsub#subscription-options",
    NS_COMMANDS, /* XEP-0050 §2.1, for §8.7 get-pending */
    NS_SHIM,     /* XEP-0131: SubID headers on notifications (§13.16) */
    NS_DISCO_INFO,
    NS_DISCO_ITEMS,
};

/* XEP-0131 §3.2: the headers we use, at the well-known node NS_SHIM. */
static const char *const shim_features[] = {NS_SHIM "#SubID"};

/* Most entries of one disco#items answer (nodes, or a node's items). */
#define DISCO_ITEMS_MAX 10000
/* Above this many nodes, the RSM count of a node list is of all nodes, not only the listed. */
#define DISCO_EXACT_COUNT_MAX 10000

struct xml_node *pubsub_disco_feature(struct arena *a, struct xml_node *q, const char *var)
{
    struct xml_node *f = xml_add_child(a, q, NS_DISCO_INFO, "feature");
    return f && xml_set_attr(a, f, "var", var) == HERALD_OK ? f : NULL;
}

/* §5.1: the features of the service, with those its defaults decide. */
static bool service_info(struct pubsub_req *r, struct xml_node *q)
{
    struct pubsub_config def;
    pubsub_config_defaults(&r->svc->reg->lim, r->svc->pep, &def);
    const char *access =
        arena_printf(r->a, PUBSUB_NS "#access-%s", pubsub_access_model_name(def.access_model));
    bool last = def.send_last_published_item == PUBSUB_SEND_LAST_ON_SUB_AND_PRESENCE;
    pubsub_config_cleanup(&def);
    if (access == NULL || !pubsub_disco_feature(r->a, q, access) ||
        (last && !pubsub_disco_feature(r->a, q, PUBSUB_NS "#last-published")))
        return false;
    for (size_t i = 0; i < HERALD_ARRAY_LEN(service_features); i++)
        if (!pubsub_disco_feature(r->a, q, service_features[i]))
            return false;
    return true;
}

/* §5.4: the meta-data form of n. */
static enum herald_rc node_meta(struct arena *a, const struct pubsub_node *n, struct xml_node *q)
{
    size_t naffs = hmap_len(&n->affs);
    const char **owners = arena_calloc(a, naffs + 1, sizeof(*owners));
    const char **publishers = arena_calloc(a, naffs + 1, sizeof(*publishers));
    if (owners == NULL || publishers == NULL)
        return HERALD_ENOMEM;
    struct pubsub_meta meta = {.creation_us = n->created_us,
                               .creator = n->creator,
                               .owners = owners,
                               .publishers = publishers};
    size_t pos = 0;
    void *v;
    while (hmap_iter(&n->affs, &pos, NULL, NULL, &v)) {
        const struct pubsub_affentry *e = v;
        if (e->aff == PUBSUB_AFF_OWNER)
            owners[meta.nowners++] = e->jid;
        else if (e->aff == PUBSUB_AFF_PUBLISHER)
            publishers[meta.npublishers++] = e->jid;
    }
    for (size_t i = 0; i < n->nsubscribers; i++)
        for (uint32_t j = 0; j < n->subscribers[i]->nsubs; j++)
            meta.num_subscribers += n->subscribers[i]->subs[j].state == PUBSUB_SUB_SUBSCRIBED;
    struct xml_node *x;
    enum herald_rc rc = pubsub_config_meta_form(a, &n->cfg, &meta, &x);
    if (rc == HERALD_OK)
        xml_append(q, x);
    return rc;
}

void pubsub_handle_disco_info(struct pubsub_req *r, struct xml_node *query)
{
    struct arena *a = r->a;
    const char *nodename = xml_attr(query, "node");
    if (pubsub_commands_disco(r, nodename, false))
        return;
    struct xml_node *q = xml_elem_new(a, NS_DISCO_INFO, "query");
    struct xml_node *id = q ? xml_add_child(a, q, NS_DISCO_INFO, "identity") : NULL;
    enum herald_rc rc = HERALD_ENOMEM;
    if (id == NULL || xml_set_attr(a, id, "category", "pubsub"))
        goto fail;
    if (nodename == NULL) {
        if (xml_set_attr(a, id, "type", r->svc->pep ? "pep" : "service") || !service_info(r, q))
            goto fail;
        router_reply_result(r->srv, r->st, q);
        return;
    }
    /* §5.3-5.4: a node, with its meta-data. */
    if (xml_set_attr(a, q, "node", nodename))
        goto fail;
    if (strcmp(nodename, NS_SHIM) == 0) {
        /* XEP-0131 §3.2 (a well-known node, not a pubsub node: no node takes its name). */
        xml_remove(id);
        for (size_t i = 0; i < HERALD_ARRAY_LEN(shim_features); i++)
            if (!pubsub_disco_feature(a, q, shim_features[i]))
                goto fail;
        router_reply_result(r->srv, r->st, q);
        return;
    }
    struct pubsub_node *n = pubsub_req_node(r, nodename);
    if (n == NULL)
        return;
    if (xml_set_attr(a, id, "type", "leaf") || !pubsub_disco_feature(a, q, PUBSUB_NS) ||
        (rc = node_meta(a, n, q)))
        goto fail;
    router_reply_result(r->srv, r->st, q);
    return;
fail:
    log_error("pubsub disco#info: %s", herald_rc_str(rc));
    pubsub_reply_error(r, "internal-server-error", NULL);
}

struct list_ctx {
    struct arena *a;
    struct xml_node *q;
    const char *svc;
    size_t n, max;
    bool more; /* an entry past max exists */
    bool oom;
    const char *first, *last;        /* the page's first and last NodeIDs */
    const struct pubsub_config *cfg; /* items of a node: its item_expire */
    int64_t now;
    struct pubsub_service *service; /* the node list: whose nodes, and for whom */
    const char *requester;
    struct store_txn *t;
};

/* §5.2: only the nodes "accessible to the requesting entity" are listed
 * (pubsub_access_listed). A node whose records cannot be read is left out, with a log line,
 * rather than failing the whole list. */
static bool node_listed(struct list_ctx *x, const char *name, size_t len)
{
    char buf[PUBSUB_NODE_MAX + 1];
    bool listed;
    if (len > PUBSUB_NODE_MAX)
        return false; /* not a NodeID this service made */
    memcpy(buf, name, len);
    buf[len] = '\0';
    enum herald_rc rc = pubsub_access_listed(x->service, x->t, buf, x->requester, &listed);
    if (rc) {
        log_warn("pubsub disco#items: node %s/%s left out: %s", x->svc, buf, herald_rc_str(rc));
        return false;
    }
    return listed;
}

static bool list_add(struct list_ctx *x, const char *attr, const char *value, size_t len)
{
    if (x->n == x->max) {
        x->more = true;
        return false;
    }
    struct xml_node *it = xml_add_child(x->a, x->q, NS_DISCO_ITEMS, "item");
    char *v = arena_strndup(x->a, value, len);
    if (!it || !v || xml_set_attr(x->a, it, "jid", x->svc) || xml_set_attr(x->a, it, attr, v)) {
        x->oom = true;
        return false;
    }
    if (x->n++ == 0)
        x->first = v;
    x->last = v;
    return true;
}

static bool list_node_cb(void *arg, const char *name, size_t len)
{
    return !node_listed(arg, name, len) || list_add(arg, "node", name, len);
}

static bool list_item_cb(void *arg, const struct pubsub_store_item *item)
{
    struct list_ctx *x = arg;
    if (pubsub_item_expired(x->cfg, item->ts_us, x->now))
        return true;
    /* §5.5: the ItemID is the 'name'; there is no 'node' (it is an item, not a node). */
    return list_add(x, "name", item->id, item->id_len);
}

struct position_ctx {
    struct list_ctx *list; /* NULL: count every node (the approximate count) */
    const char *until;     /* NULL: no <after/> */
    uint64_t count;        /* listed nodes */
    uint64_t index;        /* listed nodes up to and including `until` */
};

/* Counts the listed NodeIDs, and those up to and including `until`. */
static bool position_cb(void *arg, const char *name, size_t len)
{
    struct position_ctx *x = arg;
    if (x->list && !node_listed(x->list, name, len))
        return true;
    x->count++;
    if (x->until) {
        size_t ulen = strlen(x->until);
        int c = memcmp(name, x->until, len < ulen ? len : ulen);
        if (c < 0 || (c == 0 && len <= ulen))
            x->index++;
    }
    return true;
}

/*
 * §5.2: the nodes of the service, in NodeID order, a page at a time with XEP-0059 (XEP-0030
 * leaves large result sets to it): <max/> and <after/>; a list cut short, or asked for with
 * a <set/>, carries <first index=''/>, <last/> and <count/>. False after replying.
 */
static bool list_nodes(struct pubsub_req *r, struct store_txn *t, const struct xml_node *query,
                       struct list_ctx *x)
{
    const struct xml_node *set = xml_child(query, NS_RSM, "set");
    const char *smax = set ? xml_child_text(set, NS_RSM, "max") : NULL;
    const char *after = set ? xml_child_text(set, NS_RSM, "after") : NULL;
    uint64_t max = DISCO_ITEMS_MAX;
    if (set && (xml_child(set, NS_RSM, "before") || xml_child(set, NS_RSM, "index"))) {
        pubsub_reply_error(r, "feature-not-implemented", NULL); /* XEP-0059 §2.5 */
        return false;
    }
    if (smax && !pubsub_parse_count(smax, &max)) {
        pubsub_reply_text(r, "bad-request", "<max/> takes a non-negative integer (XEP-0059)");
        return false;
    }
    if (after && *after == '\0')
        after = NULL;
    x->max = max < DISCO_ITEMS_MAX ? max : DISCO_ITEMS_MAX;
    x->t = t;
    struct position_ctx pos = {x, after, 0, 0};
    uint64_t all = 0;
    enum herald_rc rc = pubsub_store_nodes_each(t, r->svc->jid, after, list_node_cb, x);
    if (rc == HERALD_OK && !x->oom && (set || x->more)) {
        /* <count/> and the index of <first/> are of the listed nodes; on a service too large
         * to check every node per request they count every node, which XEP-0059 §2.1 allows
         * ("MAY be approximate"). */
        rc = pubsub_node_count(r->svc, &all);
        if (rc == HERALD_OK && all > DISCO_EXACT_COUNT_MAX) {
            pos.list = NULL;
            pos.count = all;
        }
        if (rc == HERALD_OK && (pos.list || after)) {
            pos.count = 0;
            rc = pubsub_store_nodes_each(t, r->svc->jid, NULL, position_cb, &pos);
        }
    }
    if (rc == HERALD_OK && x->oom)
        rc = HERALD_ENOMEM;
    if (rc == HERALD_OK && (set || x->more)) {
        struct xml_node *s = xml_add_child(r->a, x->q, NS_RSM, "set");
        struct xml_node *f = s && x->n ? xml_add_child(r->a, s, NS_RSM, "first") : NULL;
        struct xml_node *l = f ? xml_add_child(r->a, s, NS_RSM, "last") : NULL;
        struct xml_node *c = s ? xml_add_child(r->a, s, NS_RSM, "count") : NULL;
        const char *idx = arena_printf(r->a, "%llu", (unsigned long long)pos.index);
        const char *cnt = arena_printf(r->a, "%llu", (unsigned long long)pos.count);
        if (c == NULL || idx == NULL || cnt == NULL || (x->n && l == NULL) ||
            xml_add_text(r->a, c, cnt, strlen(cnt)) ||
            (f && (xml_set_attr(r->a, f, "index", idx) ||
                   xml_add_text(r->a, f, x->first, strlen(x->first)) ||
                   xml_add_text(r->a, l, x->last, strlen(x->last)))))
            rc = HERALD_ENOMEM;
    }
    if (rc) {
        log_error("pubsub disco#items: %s", herald_rc_str(rc));
        pubsub_reply_error(r, "internal-server-error", NULL);
        return false;
    }
    return true;
}

void pubsub_handle_disco_items(struct pubsub_req *r, struct xml_node *query)
{
    struct arena *a = r->a;
    const char *nodename = xml_attr(query, "node");
    if (pubsub_commands_disco(r, nodename, true))
        return;
    struct pubsub_node *n = NULL;
    if (nodename) {
        /* §5.5: the items of a node, as far as the requester may retrieve them. */
        if ((n = pubsub_req_node(r, nodename)) == NULL)
            return;
        enum pubsub_access_verdict v =
            pubsub_access_check(r->svc, n, r->from_bare, PUBSUB_OP_RETRIEVE);
        if (v != PUBSUB_ALLOW) {
            pubsub_reply_access(r, v);
            return;
        }
    }
    struct xml_node *q = xml_elem_new(a, NS_DISCO_ITEMS, "query");
    struct store_txn *t;
    struct list_ctx x = {
        .a = a,
        .q = q,
        .svc = r->svc->jid,
        .max = DISCO_ITEMS_MAX,
        .now = herald_wall_us(),
        .service = r->svc,
        .requester = r->from_bare,
    };
    enum herald_rc rc = q ? store_read(r->srv->store, &t) : HERALD_ENOMEM;
    if (rc == HERALD_OK && n == NULL) {
        if (!list_nodes(r, t, query, &x))
            return;
    } else if (rc == HERALD_OK) {
        /* The newest first, the most recent DISCO_ITEMS_MAX: §6.5 retrieval pages through
         * all of them. */
        x.cfg = &n->cfg;
        rc = xml_set_attr(a, q, "node", nodename);
        if (rc == HERALD_OK)
            rc = pubsub_store_items_each(t, r->svc->jid, n->name, true, 0, list_item_cb, &x);
        if (rc == HERALD_OK && x.oom)
            rc = HERALD_ENOMEM;
    }
    if (rc) {
        log_error("pubsub disco#items: %s", herald_rc_str(rc));
        pubsub_reply_error(r, "internal-server-error", NULL);
        return;
    }
    router_reply_result(r->srv, r->st, q);
}
