/*
 * pubsub_retrieve.c - retrieving items (XEP-0060 §6.5: all, the most recent, particular
 * ones, with XEP-0059 paging) and the last published item (§6.1.7, §4.3), both blind to
 * items past their node's pubsub#item_expire even before the sweep removes them.
 *
 * Pages are in publication order (§13.1), oldest first, as in the §6.5.4 example. A page
 * holds at most ITEMS_DEFAULT_MAX items and about max_stanza_size bytes of them (what a peer
 * with our own stanza limit accepts; always at least one item): an answer cut short carries
 * an RSM notation (§6.5.4), with which the requester asks for the rest. RSM counts and
 * indexes are exact: they walk the node's live items (bounded by max_items).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "herald/log.h"
#include "herald/pubsub_store.h"
#include "herald/store.h"
#include "pubsub_int.h"

/* XEP-0082 DateTime, UTC with milliseconds. */
static void format_datetime(int64_t us, char out[32])
{
    time_t secs = (time_t)(us / 1000000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, 32 - n, ".%03dZ", (int)((us / 1000) % 1000));
}

/* ---- retrieve ---- */

#define ITEMS_DEFAULT_MAX 1000 /* a page when the requester sets no limit */

bool pubsub_item_expired(const struct pubsub_config *cfg, int64_t ts_us, int64_t now_us)
{
    /* item_expire is at most INT32_MAX seconds: the product fits an int64. */
    return cfg && cfg->item_expire != 0 && ts_us + (int64_t)cfg->item_expire * 1000000 <= now_us;
}

/* Collects a page of live items. Walking newest first (a page that ends somewhere), the
 * items are kept apart and written out oldest first at the end. */
struct collect_ctx {
    const struct pubsub_config *cfg;
    int64_t now;
    struct buf *b;
    uint64_t skip; /* live items to pass over first (XEP-0059 <index/>) */
    uint64_t want;
    uint64_t got;
    char first[PUBSUB_ITEMID_MAX + 1];
    char last[PUBSUB_ITEMID_MAX + 1];
    char **parts;
    size_t nparts;
    size_t budget; /* bytes of items the page may hold (past the first item) */
    size_t bytes;  /* held so far */
    bool backwards;
    bool truncated; /* stopped by the budget */
    bool failed;
};

static void copy_id(char *dst, const struct pubsub_store_item *it)
{
    size_t n = it->id_len < PUBSUB_ITEMID_MAX ? it->id_len : PUBSUB_ITEMID_MAX;
    memcpy(dst, it->id, n);
    dst[n] = '\0';
}

static bool collect_cb(void *arg, const struct pubsub_store_item *it)
{
    struct collect_ctx *x = arg;
    if (pubsub_item_expired(x->cfg, it->ts_us, x->now))
        return true;
    if (x->skip) {
        x->skip--;
        return true;
    }
    struct buf one;
    buf_init(&one, 0);
    pubsub_item_write(&one, it->id, it->id_len, it->payload, it->payload_len);
    if (one.err) {
        x->failed = true;
        buf_cleanup(&one);
        return false;
    }
    if (x->got > 0 && x->bytes + one.len > x->budget) {
        x->truncated = true;
        buf_cleanup(&one);
        return false;
    }
    x->bytes += one.len;
    if (x->backwards) {
        char **p = realloc(x->parts, (x->nparts + 1) * sizeof(*p));
        if (p == NULL) {
            x->failed = true;
            buf_cleanup(&one);
            return false;
        }
        x->parts = p;
        x->parts[x->nparts++] = buf_steal(&one, NULL);
        if (x->got == 0)
            copy_id(x->last, it);
        copy_id(x->first, it);
    } else {
        buf_append(x->b, one.data, one.len);
        if (x->got == 0)
            copy_id(x->first, it);
        copy_id(x->last, it);
        buf_cleanup(&one);
    }
    return ++x->got < x->want;
}

/* Live items with a sequence number above `above` (0: all of them). */
struct count_ctx {
    const struct pubsub_config *cfg;
    int64_t now;
    uint64_t above;
    uint64_t n;
};

static bool count_cb(void *arg, const struct pubsub_store_item *it)
{
    struct count_ctx *x = arg;
    if (it->seq <= x->above)
        return false;
    x->n += !pubsub_item_expired(x->cfg, it->ts_us, x->now);
    return true;
}

static enum herald_rc count_live(struct store_txn *t, struct pubsub_service *svc,
                                 const struct pubsub_node *n, int64_t now, uint64_t above,
                                 uint64_t *out)
{
    if (above == 0 && n->cfg.item_expire == 0) {
        *out = n->nitems;
        return HERALD_OK;
    }
    struct count_ctx x = {&n->cfg, now, above, 0};
    enum herald_rc rc = pubsub_store_items_each(t, svc->jid, n->name, true, 0, count_cb, &x);
    *out = x.n;
    return rc;
}

/* What a request for a page asks (§6.5.7 max_items, XEP-0059 <set/>). */
struct page_req {
    uint64_t max;
    bool rsm;           /* a <set/> was sent */
    bool backwards;     /* the page ends at `from` (or at the newest item) */
    const char *after;  /* UID the page follows */
    const char *before; /* UID the page precedes ("" = the last page) */
    bool has_index;
    uint64_t index;
};

/* Parse max_items and the <set/>; false after replying with the error. */
static bool page_parse(struct pubsub_req *r, struct page_req *p)
{
    const char *mi = xml_attr(r->op, "max_items");
    struct xml_node *set = xml_child(r->ps, NS_RSM, "set");
    memset(p, 0, sizeof(*p));
    p->max = ITEMS_DEFAULT_MAX;
    if (mi) {
        uint64_t m;
        if (!pubsub_parse_count(mi, &m) || m == 0) {
            struct xmpp_error e = xmpp_error_of("bad-request");
            e.text = "max_items is not a positive integer";
            pubsub_reply_xerr(r, &e);
            return false;
        }
        p->max = m < ITEMS_DEFAULT_MAX ? m : ITEMS_DEFAULT_MAX;
        p->backwards = true; /* the N most recent (§6.5.7) */
    }
    if (set == NULL)
        return true;
    p->rsm = true;
    const char *smax = xml_child_text(set, NS_RSM, "max");
    const char *sindex = xml_child_text(set, NS_RSM, "index");
    struct xml_node *after = xml_child(set, NS_RSM, "after");
    struct xml_node *before = xml_child(set, NS_RSM, "before");
    uint64_t m;
    if ((smax && !pubsub_parse_count(smax, &m)) ||
        (sindex && !pubsub_parse_count(sindex, &p->index))) {
        struct xmpp_error e = xmpp_error_of("bad-request");
        e.text = "<max/> and <index/> take non-negative integers (XEP-0059)";
        pubsub_reply_xerr(r, &e);
        return false;
    }
    if (smax)
        p->max = m < p->max ? m : p->max;
    if (after && *xml_text(after)) {
        p->after = xml_text(after);
        p->backwards = false;
    } else if (before) {
        p->before = xml_text(before);
        p->backwards = true;
    } else if (sindex) {
        p->has_index = true;
        p->backwards = false;
    }
    return true;
}

/* The UID of an <after/> or <before/>: XEP-0059 §2.6 wants item-not-found when it is
 * gone. */
static bool page_ref(struct pubsub_req *r, struct store_txn *t, const struct pubsub_node *n,
                     const char *id, uint64_t *seq)
{
    struct pubsub_store_item it;
    enum herald_rc rc = pubsub_store_item_get(t, r->svc->jid, n->name, id, &it);
    if (rc == HERALD_OK) {
        *seq = it.seq;
        return true;
    }
    if (rc == HERALD_ENOTFOUND)
        pubsub_reply_error(r, "item-not-found", NULL);
    else
        pubsub_reply_error(r, "internal-server-error", NULL);
    return false;
}

/* The items element's content for §6.5.2/§6.5.7/XEP-0059, and the <set/> answer. */
static bool items_page(struct pubsub_req *r, struct store_txn *t, struct pubsub_node *n,
                       struct buf *b, struct buf *set)
{
    struct pubsub_service *svc = r->svc;
    struct page_req p;
    if (!page_parse(r, &p))
        return false;
    int64_t now = herald_wall_us();
    uint64_t from = 0, total = 0, index = 0;
    struct collect_ctx x = {.cfg = &n->cfg,
                            .now = now,
                            .b = b,
                            .want = p.max,
                            .budget = r->srv->cfg.max_stanza_size,
                            .backwards = p.backwards};
    enum herald_rc rc = count_live(t, svc, n, now, 0, &total);
    if (rc == HERALD_OK && p.after) {
        uint64_t newer;
        if (!page_ref(r, t, n, p.after, &from))
            return false;
        rc = count_live(t, svc, n, now, from, &newer);
        index = total - (newer < total ? newer : total);
    } else if (rc == HERALD_OK && p.before && *p.before) {
        if (!page_ref(r, t, n, p.before, &from))
            return false;
    } else if (p.has_index) {
        x.skip = index = p.index;
    }
    if (rc == HERALD_OK && p.max > 0)
        rc = pubsub_store_items_each(t, svc->jid, n->name, p.backwards, from, collect_cb, &x);
    for (size_t i = x.nparts; i > 0; i--)
        buf_append_str(b, x.parts[i - 1]);
    for (size_t i = 0; i < x.nparts; i++)
        free(x.parts[i]);
    free(x.parts);
    if (rc || x.failed) {
        pubsub_reply_error(r, "internal-server-error", NULL);
        return false;
    }
    if (p.backwards && p.before && *p.before) {
        uint64_t from_on; /* live items at or after the <before/> item */
        if (count_live(t, svc, n, now, from - 1, &from_on)) {
            pubsub_reply_error(r, "internal-server-error", NULL);
            return false;
        }
        uint64_t preceding = total - (from_on < total ? from_on : total);
        index = preceding - (x.got < preceding ? x.got : preceding);
    } else if (p.backwards) {
        index = total - (x.got < total ? x.got : total);
    }
    /* §6.5.4: a truncated answer says so with an RSM notation; a <set/> always gets one. */
    if (!p.rsm && !x.truncated && (p.backwards || x.got >= total))
        return true;
    buf_append_str(set, "<set xmlns='" NS_RSM "'>");
    if (x.got) {
        buf_printf(set, "<first index='%llu'>", (unsigned long long)index);
        buf_append_xml_escaped(set, x.first, strlen(x.first));
        buf_append_str(set, "</first><last>");
        buf_append_xml_escaped(set, x.last, strlen(x.last));
        buf_append_str(set, "</last>");
    }
    buf_printf(set, "<count>%llu</count></set>", (unsigned long long)total);
    return true;
}

/* §6.5.8: particular items, in the order asked; unknown (or expired) ones are left out
 * (§6.5.9.12). False after replying with the error. */
static bool items_by_id(struct pubsub_req *r, struct store_txn *t, const struct pubsub_node *n,
                        struct buf *b)
{
    size_t count = 0, budget = r->srv->cfg.max_stanza_size, start = b->len;
    int64_t now = herald_wall_us();
    for (struct xml_node *want = xml_child(r->op, PUBSUB_NS, "item"); want;
         want = xml_next(want, PUBSUB_NS, "item")) {
        const char *id = xml_attr(want, "id");
        struct pubsub_store_item it;
        if (id == NULL) {
            pubsub_reply_error(r, "bad-request", "item-required");
            return false;
        }
        if (++count > PUBSUB_REQ_ENTRIES_MAX) {
            pubsub_reply_text(r, "policy-violation", "too many items asked for at once");
            return false;
        }
        if (pubsub_store_item_get(t, r->svc->jid, n->name, id, &it) == HERALD_OK &&
            !pubsub_item_expired(&n->cfg, it.ts_us, now))
            pubsub_item_write(b, it.id, it.id_len, it.payload, it.payload_len);
        if (b->len - start > budget) {
            pubsub_reply_text(r, "resource-constraint",
                              "these items are too large for one reply: ask for fewer");
            return false;
        }
    }
    return true;
}

/* §6.5.9.1-2: a requester with several subscriptions names one. False after replying. */
static bool items_subid_ok(struct pubsub_req *r, const struct pubsub_node *n)
{
    const char *subid = xml_attr(r->op, "subid");
    struct pubsub_subscriber *me = pubsub_node_subscriber(n, r->st->from_str);
    if (me == NULL)
        me = pubsub_node_subscriber(n, r->from_bare);
    if (subid && pubsub_sub_find(me, subid) == NULL) {
        pubsub_reply_error(r, "not-acceptable", "invalid-subid");
        return false;
    }
    if (subid == NULL && me && me->nsubs > 1) {
        pubsub_reply_error(r, "bad-request", "subid-required");
        return false;
    }
    return true;
}

void pubsub_handle_items(struct pubsub_req *r)
{
    struct pubsub_service *svc = r->svc;
    struct pubsub_node *n = pubsub_req_node(r, xml_attr(r->op, "node"));
    if (n == NULL)
        return;
    enum pubsub_access_verdict v = pubsub_access_check(svc, n, r->from_bare, PUBSUB_OP_RETRIEVE);
    if (v != PUBSUB_ALLOW) {
        pubsub_reply_access(r, v);
        return;
    }
    if (!items_subid_ok(r, n))
        return;
    if (!n->cfg.persist_items) {
        pubsub_reply_unsupported(r, "persistent-items");
        return;
    }
    struct store_txn *t;
    if (store_read(svc->srv->store, &t)) {
        pubsub_reply_error(r, "internal-server-error", NULL);
        return;
    }
    /* Built as text for speed, then parsed into the reply tree (it is our own XML). The hard
     * limit leaves room for the one item a page always holds, past the budget. */
    struct buf b, set;
    buf_init(&b, (size_t)r->srv->cfg.max_stanza_size + svc->reg->lim.max_payload + 4096);
    buf_init(&set, 0);
    buf_append_str(&b, "<pubsub xmlns='" PUBSUB_NS "'><items node='");
    buf_append_xml_attr_escaped(&b, n->name, strlen(n->name));
    buf_append_str(&b, "'>");
    bool ok = xml_child(r->op, PUBSUB_NS, "item") ? items_by_id(r, t, n, &b)
                                                  : items_page(r, t, n, &b, &set);
    buf_append_str(&b, "</items>");
    buf_append(&b, set.data, set.len);
    buf_append_str(&b, "</pubsub>");
    struct xml_node *ps = NULL;
    if (ok &&
        (b.err || set.err || xml_parse_fragment(r->a, b.data, b.len, 1000, &ps) != HERALD_OK)) {
        log_error("pubsub items of %s: %s", n->name,
                  herald_rc_str(b.err     ? b.err
                                : set.err ? set.err
                                          : HERALD_ENOMEM));
        pubsub_reply_error(r, "internal-server-error", NULL);
        ok = false;
    }
    buf_cleanup(&b);
    buf_cleanup(&set);
    if (ok)
        router_reply_result(r->srv, r->st, ps);
}

/* ---- the last published item (§6.1.7) ---- */

struct last_ctx {
    struct buf *b;
    const struct pubsub_config *cfg;
    int64_t now;
    int64_t ts;
    bool found;
};

static bool last_cb(void *arg, const struct pubsub_store_item *it)
{
    struct last_ctx *x = arg;
    if (pubsub_item_expired(x->cfg, it->ts_us, x->now))
        return false; /* the newest is expired: so are the others (or they soon will be) */
    /* A notification-only node sends the ItemID alone (§4.3). */
    bool payload = x->cfg->deliver_payloads;
    pubsub_item_write(x->b, it->id, it->id_len, payload ? it->payload : NULL,
                      payload ? it->payload_len : 0);
    x->ts = it->ts_us;
    x->found = true;
    return false;
}

void pubsub_send_last_item(struct pubsub_service *svc, struct pubsub_node *n, const char *jid,
                           const char *subid)
{
    struct store_txn *t;
    if (!n->cfg.persist_items || store_read(svc->srv->store, &t))
        return;
    struct buf b;
    buf_init(&b, 0);
    pubsub_items_event_open(&b, n->name);
    struct last_ctx x = {&b, &n->cfg, herald_wall_us(), 0, false};
    if (pubsub_store_items_each(t, svc->jid, n->name, true, 0, last_cb, &x) || !x.found) {
        buf_cleanup(&b);
        return;
    }
    char stamp[32];
    format_datetime(x.ts, stamp);
    pubsub_items_event_close(&b);
    buf_append_str(&b, "<delay xmlns='" NS_DELAY "' from='");
    buf_append_xml_attr_escaped(&b, svc->jid, strlen(svc->jid));
    buf_printf(&b, "' stamp='%s'/>", stamp);
    /* §13.16: a JID with several subscriptions learns which one this is for. */
    const char *headers = NULL;
    struct buf hb;
    buf_init(&hb, 0);
    struct pubsub_subscriber *s = subid ? pubsub_node_subscriber(n, jid) : NULL;
    if (s && s->nsubs > 1) {
        buf_printf(&hb, "<headers xmlns='" NS_SHIM "'><header name='SubID'>%s</header></headers>",
                   subid);
        headers = hb.err ? NULL : hb.data;
    }
    struct pubsub_event ev;
    if (!b.err && pubsub_event_build(svc, n, b.data, b.len, &ev) == HERALD_OK) {
        bool presence = n->cfg.send_last_published_item == PUBSUB_SEND_LAST_ON_SUB_AND_PRESENCE ||
                        n->cfg.presence_based_delivery;
        pubsub_notify_jid(svc, jid, strlen(jid), NULL, &ev, headers, presence, PUBSUB_SHOW_ALL);
        pubsub_event_release(&ev);
    }
    buf_cleanup(&hb);
    buf_cleanup(&b);
}
