/*
 * pubsub_owner.c - owner management of subscriptions (§8.8) and affiliations (§8.9). The
 * notifications of the changes (§8.8.4, §8.9.4) are queued here and sent by
 * pubsub_approval.c (pubsub_changes_*).
 *
 * A modification carries several entries. A malformed request (an entry without a JID, an
 * unknown state or affiliation, the same entity twice) changes nothing: <bad-request/>.
 * Otherwise each entry is checked against memory; those that cannot be applied come back in
 * a <not-acceptable/> error with their current, unaltered value, and the others are applied
 * (§8.8.2.4 and §8.9.2.4: entries not returned MUST be treated as successful). All writes of
 * one request go into one nested transaction; memory follows after store_commit, and the
 * reply and notifications after the turn's durable commit (pubsub_int.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "herald/log.h"
#include "herald/pubsub_store.h"
#include "herald/store.h"
#include "pubsub_int.h"

static struct pubsub_sub *sub_find(struct pubsub_subscriber *s, const char *subid)
{
    for (uint32_t i = 0; s && i < s->nsubs; i++)
        if (strcmp(s->subs[i].subid, subid) == 0)
            return &s->subs[i];
    return NULL;
}

/* ---- shared request helpers ---- */

/* Does a store key with this JID (and a SubID) fit? Checked before writing, so that one
 * entry cannot fail the whole transaction (pubsub_store.h: HERALD_ELIMIT). */
static bool key_fits(const struct pubsub_service *svc, const struct pubsub_node *n, const char *jid)
{
    return strlen(svc->jid) + strlen(n->name) + strlen(jid) + PUBSUB_SUBID_LEN + 3 <= STORE_MAX_KEY;
}

/* Is `jid` the bare JID `bare` or one of its full JIDs? */
static bool jid_of_bare(const char *jid, size_t jid_len, const char *bare, size_t blen)
{
    return jid_len >= blen && memcmp(jid, bare, blen) == 0 &&
           (jid[blen] == '\0' || jid[blen] == '/');
}

static bool may_be_subscribed(const struct pubsub_node *n, struct arena *a, const char *jid)
{
    const char *slash = strchr(jid, '/');
    const char *bare = slash ? arena_strndup(a, jid, (size_t)(slash - jid)) : jid;
    if (bare == NULL)
        return false;
    enum pubsub_aff aff = pubsub_node_aff(n, bare);
    return aff != PUBSUB_AFF_OUTCAST && aff != PUBSUB_AFF_PUBLISH_ONLY;
}

/* Has this key been seen in the request? Adds it. -1 on ENOMEM. */
static int seen_before(struct hmap *seen, const char *key, size_t len)
{
    if (hmap_get(seen, key, len))
        return 1;
    return hmap_put(seen, key, len, (void *)key, NULL) ? -1 : 0;
}

struct partial_reply {
    struct arena *a;
    struct server *srv;
    struct pubsub_registry *reg;
    struct xml_node *reply; /* the error with the failed entries */
    struct xml_node *fail;  /* internal-server-error, if the commit fails */
    struct pubsub_changes *changes;
};

static void partial_reply_cb(void *arg, enum herald_rc rc)
{
    struct partial_reply *d = arg;
    if (rc != HERALD_OK)
        pubsub_registry_invalidate(d->reg);
    router_send(d->srv, rc == HERALD_OK ? d->reply : d->fail);
    pubsub_changes_run_cb(d->srv, d->changes, rc);
    arena_free(&d->a);
    free(d);
}

/*
 * §8.8.2.4 / §8.9.2.4: <not-acceptable/> carrying the entries that failed. When others were
 * applied (`wrote`), it waits for the commit like any reply; `c` is consumed.
 */
static void reply_partial(struct pubsub_req *r, struct xml_node *payload, bool wrote,
                          struct pubsub_changes *c)
{
    struct xmpp_error e = xmpp_error_of("not-acceptable");
    e.text = "the returned entries were not changed; the others were";
    struct xml_node *reply = stanza_error_reply(r->a, r->st, r->svc->jid, &e);
    struct xml_node *err = reply ? xml_first_elem(reply) : NULL;
    if (err == NULL) {
        pubsub_changes_run_cb(r->srv, c, HERALD_ENOMEM);
        pubsub_reply_error(r, "internal-server-error", NULL);
        return;
    }
    xml_remove(err);
    xml_append(reply, payload);
    xml_append(reply, err); /* the payload first, as in the examples */
    if (!wrote) {
        router_send(r->srv, reply);
        pubsub_changes_run_cb(r->srv, c, HERALD_OK);
        return;
    }
    struct xmpp_error ise = xmpp_error_of("internal-server-error");
    ise.text = "the change could not be stored";
    struct xml_node *fail = stanza_error_reply(r->a, r->st, r->svc->jid, &ise);
    struct partial_reply *d = calloc(1, sizeof(*d));
    if (d) {
        d->srv = r->srv;
        d->reg = r->svc->reg;
        d->changes = c;
    }
    if (d == NULL || fail == NULL || (d->a = arena_new(0)) == NULL ||
        (d->reply = xml_copy(d->a, reply)) == NULL || (d->fail = xml_copy(d->a, fail)) == NULL ||
        store_on_commit(r->srv->store, partial_reply_cb, d)) {
        if (d)
            arena_free(&d->a);
        free(d);
        pubsub_changes_run_cb(r->srv, c, HERALD_ENOMEM);
        pubsub_reply_error(r, "internal-server-error", NULL);
    }
}

/* Write ops (and affiliation changes) in one nested transaction. */
struct aff_change {
    const char *bare;
    enum pubsub_aff aff;
};

static enum herald_rc write_changes(struct pubsub_req *r, struct pubsub_node *n,
                                    const struct aff_change *affs, size_t naffs,
                                    const struct pubsub_subop *ops, size_t nops)
{
    struct store_txn *t;
    enum herald_rc rc = store_begin(r->srv->store, &t);
    if (rc)
        return rc;
    for (size_t i = 0; i < naffs && rc == HERALD_OK; i++)
        rc = pubsub_store_aff_put(t, r->svc->jid, n->name, affs[i].bare, (uint8_t)affs[i].aff);
    if (rc == HERALD_OK)
        rc = pubsub_subops_store(t, r->svc, n, ops, nops);
    if (rc) {
        store_abort(&t);
        return rc;
    }
    return store_commit(&t);
}

/* Memory after the commit; on failure the node is evicted and reloads from the store. */
static void apply_changes(struct pubsub_req *r, struct pubsub_node *n,
                          const struct aff_change *affs, size_t naffs,
                          const struct pubsub_subop *ops, size_t nops, struct pubsub_changes *c)
{
    bool ok = true;
    for (size_t i = 0; i < naffs; i++) {
        pubsub_changes_add_aff(c, affs[i].bare, affs[i].aff);
        if (ok && pubsub_node_set_aff(n, affs[i].bare, affs[i].aff))
            ok = false;
    }
    if (!pubsub_subops_apply(n, ops, nops, c) || !ok) {
        log_warn("pubsub %s: out of memory applying a change; the node reloads", n->name);
        pubsub_node_evict(r->svc, n);
    }
}

/* ---- §8.8 subscriptions ---- */

static struct xml_node *sub_elem(struct arena *a, struct xml_node *parent, const char *jid,
                                 const char *subid, enum pubsub_substate state)
{
    struct xml_node *s = xml_add_child(a, parent, PUBSUB_NS_OWNER, "subscription");
    if (s == NULL || xml_set_attr(a, s, "jid", jid) ||
        xml_set_attr(a, s, "subscription", pubsub_substate_name(state)) ||
        (subid && *subid && xml_set_attr(a, s, "subid", subid)))
        return NULL;
    return s;
}

static struct xml_node *owner_list(struct arena *a, const struct pubsub_node *n, const char *what,
                                   struct xml_node **list)
{
    struct xml_node *ps = xml_elem_new(a, PUBSUB_NS_OWNER, "pubsub");
    *list = ps ? xml_add_child(a, ps, PUBSUB_NS_OWNER, what) : NULL;
    return *list && xml_set_attr(a, *list, "node", n->name) == HERALD_OK ? ps : NULL;
}

/* §8.8.1: subscribed and unconfigured subscriptions (pending ones SHOULD NOT be listed: they
 * are the business of §8.6 and §8.7). */
static void subs_retrieve(struct pubsub_req *r, struct pubsub_node *n)
{
    struct xml_node *list;
    struct xml_node *ps = owner_list(r->a, n, "subscriptions", &list);
    for (size_t i = 0; ps && i < n->nsubscribers; i++) {
        const struct pubsub_subscriber *s = n->subscribers[i];
        for (uint32_t j = 0; ps && j < s->nsubs; j++) {
            const struct pubsub_sub *sub = &s->subs[j];
            if ((sub->state == PUBSUB_SUB_SUBSCRIBED || sub->state == PUBSUB_SUB_UNCONFIGURED) &&
                !sub_elem(r->a, list, s->jid, sub->subid, sub->state))
                ps = NULL;
        }
    }
    if (ps == NULL) {
        pubsub_reply_error(r, "internal-server-error", NULL);
        return;
    }
    router_reply_result(r->srv, r->st, ps);
}

static bool substate_parse(const char *s, enum pubsub_substate *out)
{
    static const enum pubsub_substate all[] = {PUBSUB_SUB_NONE, PUBSUB_SUB_PENDING,
                                               PUBSUB_SUB_UNCONFIGURED, PUBSUB_SUB_SUBSCRIBED};
    for (size_t i = 0; i < HERALD_ARRAY_LEN(all); i++) {
        if (strcmp(s, pubsub_substate_name(all[i])) == 0) {
            *out = all[i];
            return true;
        }
    }
    return false;
}

struct sub_entry {
    struct xml_node *el;
    const char *jid;   /* canonical; NULL when the attribute is not a JID */
    const char *subid; /* NULL: every subscription of the JID */
    enum pubsub_substate target;
    bool change; /* has a 'subscription' attribute (without one nothing changes) */
    bool failed;
};

/* The entries of a modification, or NULL after replying bad-request. */
static struct sub_entry *subs_parse(struct pubsub_req *r, size_t *count)
{
    struct arena *a = r->a;
    size_t n = 0;
    for (struct xml_node *e = xml_child(r->op, PUBSUB_NS_OWNER, "subscription"); e;
         e = xml_next(e, PUBSUB_NS_OWNER, "subscription"))
        n++;
    struct sub_entry *v = arena_calloc(a, n ? n : 1, sizeof(*v));
    struct hmap seen;
    hmap_init(&seen, HERALD_MEM_PUBSUB);
    const char *bad = NULL;
    size_t i = 0;
    if (v == NULL)
        bad = "";
    for (struct xml_node *e = xml_child(r->op, PUBSUB_NS_OWNER, "subscription"); e && !bad;
         e = xml_next(e, PUBSUB_NS_OWNER, "subscription"), i++) {
        struct sub_entry *se = &v[i];
        const char *raw = xml_attr(e, "jid");
        const char *state = xml_attr(e, "subscription");
        struct jid j;
        se->el = e;
        se->subid = xml_attr(e, "subid");
        if (raw == NULL) {
            bad = "a subscription without a 'jid'";
            break;
        }
        if (state) {
            if (!substate_parse(state, &se->target)) {
                bad = "an unknown subscription state";
                break;
            }
            se->change = true;
        }
        if (jid_parse(a, raw, &j) || (se->jid = jid_full_str(a, &j)) == NULL) {
            se->failed = true;
            continue;
        }
        /* §8.8.2.4: one JID may appear several times only with distinct SubIDs; an entry
         * without a SubID stands for all of them, so it must be alone. Keys: "a" + JID
         * (some entry), "w" + JID (an entry for all), "s" + JID NUL SubID. */
        size_t jlen = strlen(se->jid), slen = se->subid ? strlen(se->subid) : 0;
        char *any = arena_printf(a, "a%s", se->jid);
        char *all = arena_printf(a, "w%s", se->jid);
        char *key = se->subid ? arena_alloc(a, jlen + slen + 3) : all;
        size_t klen = se->subid ? jlen + slen + 2 : jlen + 1;
        if (any == NULL || all == NULL || key == NULL) {
            bad = "";
            break;
        }
        if (se->subid) {
            key[0] = 's';
            memcpy(key + 1, se->jid, jlen + 1);
            memcpy(key + jlen + 2, se->subid, slen + 1);
        }
        if (se->subid ? hmap_get(&seen, key, klen) || hmap_get(&seen, all, jlen + 1)
                      : hmap_get(&seen, any, jlen + 1) != NULL) {
            bad = "the same subscription twice";
            break;
        }
        if (seen_before(&seen, any, jlen + 1) < 0 || seen_before(&seen, key, klen) < 0)
            bad = "";
    }
    hmap_cleanup(&seen);
    if (bad) {
        if (*bad == '\0') {
            pubsub_reply_error(r, "internal-server-error", NULL);
        } else {
            struct xmpp_error e = xmpp_error_of("bad-request");
            e.text = bad;
            pubsub_reply_xerr(r, &e);
        }
        return NULL;
    }
    *count = n;
    return v;
}

/* The current value of a failed entry, for the error (§8.8.2.4). */
static bool subs_report(struct arena *a, struct xml_node *list, const struct pubsub_node *n,
                        const struct sub_entry *se)
{
    if (se->jid == NULL)
        return sub_elem(a, list, xml_attr(se->el, "jid"), se->subid, PUBSUB_SUB_NONE) != NULL;
    struct pubsub_subscriber *s = pubsub_node_subscriber(n, se->jid);
    if (se->subid) {
        const struct pubsub_sub *sub = sub_find(s, se->subid);
        return sub_elem(a, list, se->jid, se->subid, sub ? sub->state : PUBSUB_SUB_NONE) != NULL;
    }
    if (s == NULL || s->nsubs == 0)
        return sub_elem(a, list, se->jid, NULL, PUBSUB_SUB_NONE) != NULL;
    for (uint32_t i = 0; i < s->nsubs; i++)
        if (!sub_elem(a, list, se->jid, s->subs[i].subid, s->subs[i].state))
            return false;
    return true;
}

static void subs_modify(struct pubsub_req *r, struct pubsub_node *n)
{
    struct arena *a = r->a;
    size_t count, nops = 0, nfailed = 0, creates = 0;
    struct sub_entry *v = subs_parse(r, &count);
    if (v == NULL)
        return;
    /* Entries touch disjoint subscriptions, each at most once, plus one creation each. */
    struct pubsub_subop *ops = arena_calloc(a, count + n->nsubs + 1, sizeof(*ops));
    if (ops == NULL)
        goto fail;
    for (size_t i = 0; i < count; i++) {
        struct sub_entry *se = &v[i];
        if (se->failed || !se->change)
            continue;
        bool allowed = se->target == PUBSUB_SUB_NONE || may_be_subscribed(n, a, se->jid);
        struct pubsub_subscriber *s = pubsub_node_subscriber(n, se->jid);
        if (se->subid || (s && s->nsubs)) {
            struct pubsub_sub *one = se->subid ? sub_find(s, se->subid) : NULL;
            if ((se->subid && one == NULL) || !allowed) {
                se->failed = true;
                continue;
            }
            for (uint32_t j = 0; j < s->nsubs; j++) {
                struct pubsub_sub *sub = &s->subs[j];
                if ((one && sub != one) || sub->state == se->target)
                    continue;
                /* se->jid, not s->jid: removing the last subscription frees s. */
                ops[nops] = (struct pubsub_subop){
                    .jid = se->jid, .from = sub->state, .to = se->target, .opts = sub->opts};
                memcpy(ops[nops++].subid, sub->subid, sizeof(sub->subid));
            }
            continue;
        }
        if (se->target == PUBSUB_SUB_NONE)
            continue; /* nothing to remove */
        /* A new subscription made by the owner (the §8.8.2.1 example adds one). Pending
         * is the subscriber's own request and cannot be made up. */
        if (se->target == PUBSUB_SUB_PENDING || !allowed || !n->cfg.subscribe ||
            n->nsubs + creates >= r->srv->cfg.pubsub_max_subscriptions ||
            !key_fits(r->svc, n, se->jid)) {
            se->failed = true;
            continue;
        }
        struct pubsub_subop *op = &ops[nops++];
        *op = (struct pubsub_subop){.jid = se->jid, .from = PUBSUB_SUB_NONE, .to = se->target};
        pubsub_subopts_defaults(&op->opts);
        if (pubsub_random_hex(op->subid, PUBSUB_SUBID_LEN / 2))
            goto fail;
        creates++;
    }
    struct xml_node *list = NULL, *payload = NULL;
    for (size_t i = 0; i < count; i++) {
        if (!v[i].failed)
            continue;
        if (nfailed++ == 0 && (payload = owner_list(a, n, "subscriptions", &list)) == NULL)
            goto fail;
        if (!subs_report(a, list, n, &v[i]))
            goto fail;
    }
    struct pubsub_changes *c = pubsub_changes_new(r->svc, n->name);
    if (c == NULL)
        goto fail;
    enum herald_rc rc = nops ? write_changes(r, n, NULL, 0, ops, nops) : HERALD_OK;
    if (rc) {
        pubsub_changes_run_cb(r->srv, c, rc);
        log_error("pubsub %s: storing subscription changes: %s", n->name, herald_rc_str(rc));
        goto fail;
    }
    apply_changes(r, n, NULL, 0, ops, nops, c);
    if (nfailed) {
        reply_partial(r, payload, nops > 0, c);
        return;
    }
    if (pubsub_reply_after_commit(r, NULL, pubsub_changes_run_cb, c)) {
        pubsub_changes_run_cb(r->srv, c, HERALD_ENOMEM);
        goto fail;
    }
    return;
fail:
    pubsub_reply_error(r, "internal-server-error", NULL);
}

void pubsub_handle_owner_subscriptions(struct pubsub_req *r)
{
    struct pubsub_node *n = pubsub_owner_node(r);
    if (n == NULL)
        return;
    if (strcmp(r->st->type, "set") == 0)
        subs_modify(r, n);
    else
        subs_retrieve(r, n);
}

/* ---- §8.9 affiliations ---- */

static struct xml_node *aff_elem(struct arena *a, struct xml_node *parent, const char *jid,
                                 enum pubsub_aff aff)
{
    struct xml_node *e = xml_add_child(a, parent, PUBSUB_NS_OWNER, "affiliation");
    if (e == NULL || xml_set_attr(a, e, "jid", jid) ||
        xml_set_attr(a, e, "affiliation", pubsub_aff_name(aff)))
        return NULL;
    return e;
}

/* §8.9.1: every affiliation but "none" (which is not stored). */
static void affs_retrieve(struct pubsub_req *r, struct pubsub_node *n)
{
    struct xml_node *list;
    struct xml_node *ps = owner_list(r->a, n, "affiliations", &list);
    size_t pos = 0;
    void *val;
    while (ps && hmap_iter(&n->affs, &pos, NULL, NULL, &val)) {
        const struct pubsub_affentry *e = val;
        if (e->aff != PUBSUB_AFF_NONE && !aff_elem(r->a, list, e->jid, e->aff))
            ps = NULL;
    }
    if (ps == NULL) {
        pubsub_reply_error(r, "internal-server-error", NULL);
        return;
    }
    router_reply_result(r->srv, r->st, ps);
}

struct aff_entry {
    struct xml_node *el;
    const char *bare; /* NULL when the attribute is not a JID */
    enum pubsub_aff old, target;
    bool change, failed;
};

static struct aff_entry *affs_parse(struct pubsub_req *r, const struct pubsub_node *n,
                                    size_t *count)
{
    struct arena *a = r->a;
    size_t cnt = 0;
    for (struct xml_node *e = xml_child(r->op, PUBSUB_NS_OWNER, "affiliation"); e;
         e = xml_next(e, PUBSUB_NS_OWNER, "affiliation"))
        cnt++;
    struct aff_entry *v = arena_calloc(a, cnt ? cnt : 1, sizeof(*v));
    struct hmap seen;
    hmap_init(&seen, HERALD_MEM_PUBSUB);
    const char *bad = v ? NULL : "";
    size_t i = 0;
    for (struct xml_node *e = xml_child(r->op, PUBSUB_NS_OWNER, "affiliation"); e && !bad;
         e = xml_next(e, PUBSUB_NS_OWNER, "affiliation"), i++) {
        struct aff_entry *ae = &v[i];
        const char *raw = xml_attr(e, "jid");
        const char *aff = xml_attr(e, "affiliation");
        struct jid j;
        ae->el = e;
        if (raw == NULL) {
            bad = "an affiliation without a 'jid'";
            break;
        }
        if (aff) {
            bool ok;
            ae->target = pubsub_aff_parse(aff, &ok);
            if (!ok) {
                bad = "an unknown affiliation";
                break;
            }
            ae->change = true; /* without the attribute the value MUST NOT change */
        }
        /* §4.1: affiliations belong to bare JIDs; a full JID stands for its bare JID. */
        if (jid_parse(a, raw, &j) || (ae->bare = jid_bare_str(a, &j)) == NULL) {
            ae->bare = NULL;
            ae->failed = true;
            continue;
        }
        ae->old = pubsub_node_aff(n, ae->bare);
        int dup = seen_before(&seen, ae->bare, strlen(ae->bare));
        if (dup < 0)
            bad = "";
        else if (dup > 0)
            bad = "the same entity twice"; /* §8.9.2.4: MUST be bad-request */
    }
    hmap_cleanup(&seen);
    if (bad) {
        if (*bad == '\0') {
            pubsub_reply_error(r, "internal-server-error", NULL);
        } else {
            struct xmpp_error e = xmpp_error_of("bad-request");
            e.text = bad;
            pubsub_reply_xerr(r, &e);
        }
        return NULL;
    }
    *count = cnt;
    return v;
}

/* The §4.1 state chart (MUST-IMPLEMENT, §8.9.2.4): an owner can only resign (become
 * "none"), and a publisher cannot become a member. */
static bool aff_transition_ok(enum pubsub_aff from, enum pubsub_aff to)
{
    if (from == PUBSUB_AFF_OWNER)
        return to == PUBSUB_AFF_NONE;
    if (from == PUBSUB_AFF_PUBLISHER)
        return to != PUBSUB_AFF_MEMBER;
    return true;
}

/* The subscription writes that follow an affiliation change: outcasts and publish-only
 * entities may not be subscribed (§4.1), so theirs go (pending requests are rejected,
 * §8.7); a new owner, publisher or member has its pending requests approved (§8.7 note). */
static size_t aff_side_effects(struct arena *a, const struct pubsub_node *n,
                               const struct aff_entry *ae, struct pubsub_subop *ops)
{
    size_t nops = 0, blen = strlen(ae->bare);
    bool drop = ae->target == PUBSUB_AFF_OUTCAST || ae->target == PUBSUB_AFF_PUBLISH_ONLY;
    bool approve = ae->target >= PUBSUB_AFF_MEMBER && ae->target != PUBSUB_AFF_PUBLISH_ONLY;
    for (size_t i = 0; i < n->nsubscribers; i++) {
        const struct pubsub_subscriber *s = n->subscribers[i];
        if (!jid_of_bare(s->jid, s->jid_len, ae->bare, blen))
            continue;
        for (uint32_t j = 0; j < s->nsubs; j++) {
            const struct pubsub_sub *sub = &s->subs[j];
            enum pubsub_substate to = sub->state;
            if (drop)
                to = PUBSUB_SUB_NONE;
            else if (approve && sub->state == PUBSUB_SUB_PENDING)
                to = PUBSUB_SUB_SUBSCRIBED;
            if (to == sub->state)
                continue;
            /* A copy: removing the last subscription frees s. */
            const char *jid = arena_strdup(a, s->jid);
            if (jid == NULL)
                return SIZE_MAX;
            ops[nops] =
                (struct pubsub_subop){.jid = jid, .from = sub->state, .to = to, .opts = sub->opts};
            memcpy(ops[nops++].subid, sub->subid, sizeof(sub->subid));
        }
    }
    return nops;
}

static void affs_modify(struct pubsub_req *r, struct pubsub_node *n)
{
    struct arena *a = r->a;
    size_t count, nfailed = 0, naffs = 0, nops = 0;
    struct aff_entry *v = affs_parse(r, n, &count);
    if (v == NULL)
        return;
    long owners = 0;
    size_t pos = 0;
    void *val;
    while (hmap_iter(&n->affs, &pos, NULL, NULL, &val))
        owners += ((const struct pubsub_affentry *)val)->aff == PUBSUB_AFF_OWNER;
    for (size_t i = 0; i < count; i++) {
        struct aff_entry *ae = &v[i];
        if (ae->failed || !ae->change || ae->old == ae->target)
            continue;
        if (!aff_transition_ok(ae->old, ae->target) ||
            (ae->target != PUBSUB_AFF_NONE && !key_fits(r->svc, n, ae->bare))) {
            ae->failed = true;
            continue;
        }
        owners += (ae->target == PUBSUB_AFF_OWNER) - (ae->old == PUBSUB_AFF_OWNER);
    }
    /* §8.9.2.4: the last owner cannot go; the owners' entries fail, the others apply. */
    for (size_t i = 0; owners <= 0 && i < count; i++)
        if (!v[i].failed && v[i].change && v[i].old == PUBSUB_AFF_OWNER &&
            v[i].target != PUBSUB_AFF_OWNER)
            v[i].failed = true;
    struct aff_change *affs = arena_calloc(a, count + 1, sizeof(*affs));
    struct pubsub_subop *ops = arena_calloc(a, n->nsubs + 1, sizeof(*ops));
    struct xml_node *list = NULL, *payload = NULL;
    if (affs == NULL || ops == NULL)
        goto fail;
    for (size_t i = 0; i < count; i++) {
        struct aff_entry *ae = &v[i];
        if (ae->failed) {
            if (nfailed++ == 0 && (payload = owner_list(a, n, "affiliations", &list)) == NULL)
                goto fail;
            const char *jid = ae->bare ? ae->bare : xml_attr(ae->el, "jid");
            if (!aff_elem(a, list, jid, ae->bare ? ae->old : PUBSUB_AFF_NONE))
                goto fail;
            continue;
        }
        if (!ae->change || ae->old == ae->target)
            continue;
        affs[naffs++] = (struct aff_change){ae->bare, ae->target};
        size_t k = aff_side_effects(a, n, ae, ops + nops); /* distinct bare JIDs: disjoint */
        if (k == SIZE_MAX)
            goto fail;
        nops += k;
    }
    struct pubsub_changes *c = pubsub_changes_new(r->svc, n->name);
    if (c == NULL)
        goto fail;
    enum herald_rc rc = naffs ? write_changes(r, n, affs, naffs, ops, nops) : HERALD_OK;
    if (rc) {
        pubsub_changes_run_cb(r->srv, c, rc);
        log_error("pubsub %s: storing affiliation changes: %s", n->name, herald_rc_str(rc));
        goto fail;
    }
    apply_changes(r, n, affs, naffs, ops, nops, c);
    if (nfailed) {
        reply_partial(r, payload, naffs > 0, c);
        return;
    }
    if (pubsub_reply_after_commit(r, NULL, pubsub_changes_run_cb, c)) {
        pubsub_changes_run_cb(r->srv, c, HERALD_ENOMEM);
        goto fail;
    }
    return;
fail:
    pubsub_reply_error(r, "internal-server-error", NULL);
}

void pubsub_handle_owner_affiliations(struct pubsub_req *r)
{
    struct pubsub_node *n = pubsub_owner_node(r);
    if (n == NULL)
        return;
    if (strcmp(r->st->type, "set") == 0)
        affs_modify(r, n);
    else
        affs_retrieve(r, n);
}
