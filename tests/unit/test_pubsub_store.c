/*
 * test_pubsub_store.c - the pubsub records and their walks (include/herald/pubsub_store.h,
 * schemas/store.md "pubsub"): node listing in order and after a NodeID (the XEP-0059 paging
 * of XEP-0060 §5.2), subscriptions and affiliations per node and per JID through the reverse
 * indexes (bare and full JIDs, other services and look-alike JIDs left out), node deletion
 * taking every record with it, items in publication order, and keys past LMDB's 511 bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "store_fixture.h"

#include "herald/pubsub_store.h"
#include "herald/store.h"

#define SVC   "pubsub.example.org"
#define OTHER "other.example.org"

struct fixture {
    char dir[TEST_STORE_DIR_MAX];
    struct store *s;
};

static int store_setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return -1;
    if (test_store_open("test_pubsub_store", f->dir, &f->s)) {
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int store_teardown(void **state)
{
    struct fixture *f = *state;
    test_store_remove(&f->s, f->dir);
    free(f);
    return 0;
}

static struct store_txn *begin(struct fixture *f)
{
    struct store_txn *t;
    assert_int_equal(store_begin(f->s, &t), HERALD_OK);
    return t;
}

static void node(struct store_txn *t, const char *svc, const char *name)
{
    struct pubsub_config cfg;
    struct pubsub_limits lim = {10, 100, 65536};
    pubsub_config_defaults(&lim, false, &cfg);
    assert_int_equal(pubsub_store_node_put(t, svc, name, &cfg, 1, "owner@example.org"), HERALD_OK);
    pubsub_config_cleanup(&cfg);
}

/* Collects what a walk hands out, joined with ',' (each entry's parts with ' '). */
struct seen {
    char text[512];
    size_t limit; /* stop after this many entries (0: never) */
    size_t n;
};

static bool seen_add(struct seen *x, const char *a, const char *b, const char *c)
{
    size_t len = strlen(x->text);
    snprintf(x->text + len, sizeof(x->text) - len, "%s%s%s%s%s%s", len ? "," : "", a, b ? " " : "",
             b ? b : "", c ? " " : "", c ? c : "");
    return x->limit == 0 || ++x->n < x->limit;
}

static bool name_cb(void *arg, const char *name, size_t len)
{
    char copy[300];
    assert_true(len < sizeof(copy));
    memcpy(copy, name, len);
    copy[len] = '\0';
    return seen_add(arg, copy, NULL, NULL);
}

static bool sub_cb(void *arg, const char *jid, const char *subid, uint8_t state,
                   const struct pubsub_subopts *opts)
{
    (void)opts;
    return seen_add(arg, jid, subid, state == 3 ? "subscribed" : "other");
}

static bool sub_of_cb(void *arg, const char *node, const char *jid, const char *subid)
{
    return seen_add(arg, node, jid, subid);
}

static bool aff_cb(void *arg, const char *jid, uint8_t aff)
{
    return seen_add(arg, jid, aff == 5 ? "owner" : "other", NULL);
}

static bool aff_of_cb(void *arg, const char *node, uint8_t aff)
{
    return seen_add(arg, node, aff == 5 ? "owner" : "other", NULL);
}

static bool item_cb(void *arg, const struct pubsub_store_item *it)
{
    char id[64];
    snprintf(id, sizeof(id), "%.*s", (int)it->id_len, it->id);
    return seen_add(arg, id, NULL, NULL);
}

/* XEP-0060 §5.2 with XEP-0059 §2.2: NodeIDs in key order, from the one after a given NodeID
 * ("a" is followed by "a0", not skipped as a prefix of it), of one service only. */
static void test_pubsub_store__nodes_in_order_and_after(void **state)
{
    struct fixture *f = *state;
    struct store_txn *t = begin(f);
    node(t, SVC, "b");
    node(t, SVC, "a0");
    node(t, SVC, "a");
    node(t, SVC, "c");
    node(t, OTHER, "zz");
    assert_int_equal(store_commit(&t), HERALD_OK);
    assert_int_equal(store_read(f->s, &t), HERALD_OK);
    struct seen x = {0};
    assert_int_equal(pubsub_store_nodes_each(t, SVC, NULL, name_cb, &x), HERALD_OK);
    assert_string_equal(x.text, "a,a0,b,c");
    x = (struct seen){.limit = 2};
    assert_int_equal(pubsub_store_nodes_each(t, SVC, "a", name_cb, &x), HERALD_OK);
    assert_string_equal(x.text, "a0,b");
    x = (struct seen){0};
    assert_int_equal(pubsub_store_nodes_each(t, SVC, "bb", name_cb, &x), HERALD_OK);
    assert_string_equal(x.text, "c");
    x = (struct seen){0};
    assert_int_equal(pubsub_store_nodes_each(t, SVC, "c", name_cb, &x), HERALD_OK);
    assert_string_equal(x.text, "");
}

/* §5.6, §8.8.1: a node's subscriptions, and a JID's through the reverse index: its bare JID
 * and its full JIDs, on this service only, not those of a JID that merely starts alike. */
static void test_pubsub_store__subscriptions_per_node_and_per_jid(void **state)
{
    struct fixture *f = *state;
    struct pubsub_subopts o;
    pubsub_subopts_defaults(&o);
    struct store_txn *t = begin(f);
    node(t, SVC, "n1");
    node(t, SVC, "n2");
    assert_int_equal(pubsub_store_sub_put(t, SVC, "n1", "bob@example.org", "s1", 3, &o), HERALD_OK);
    assert_int_equal(pubsub_store_sub_put(t, SVC, "n1", "bob@example.org/phone", "s2", 1, &o),
                     HERALD_OK);
    assert_int_equal(pubsub_store_sub_put(t, SVC, "n2", "bob@example.org", "s3", 3, &o), HERALD_OK);
    assert_int_equal(pubsub_store_sub_put(t, SVC, "n1", "bob@example.orga", "s4", 3, &o),
                     HERALD_OK);
    assert_int_equal(pubsub_store_sub_put(t, OTHER, "n1", "bob@example.org", "s5", 3, &o),
                     HERALD_OK);
    assert_int_equal(store_commit(&t), HERALD_OK);
    assert_int_equal(store_read(f->s, &t), HERALD_OK);
    struct seen x = {0};
    assert_int_equal(pubsub_store_subs_each(t, SVC, "n1", sub_cb, &x), HERALD_OK);
    assert_string_equal(x.text, "bob@example.org s1 subscribed,bob@example.org/phone s2 other,"
                                "bob@example.orga s4 subscribed");
    x = (struct seen){0};
    assert_int_equal(pubsub_store_subs_of_jid(t, SVC, "bob@example.org", sub_of_cb, &x), HERALD_OK);
    assert_string_equal(x.text,
                        "n1 bob@example.org s1,n2 bob@example.org s3,n1 bob@example.org/phone s2");
    /* A walk the callback stops. */
    x = (struct seen){.limit = 1};
    assert_int_equal(pubsub_store_subs_of_jid(t, SVC, "bob@example.org", sub_of_cb, &x), HERALD_OK);
    assert_string_equal(x.text, "n1 bob@example.org s1");
}

/* §8.4: deleting a node deletes its items, subscriptions and affiliations, with their
 * reverse-index entries; another node keeps its own. */
static void test_pubsub_store__delete_takes_everything(void **state)
{
    struct fixture *f = *state;
    struct pubsub_subopts o;
    pubsub_subopts_defaults(&o);
    struct store_txn *t = begin(f);
    node(t, SVC, "gone");
    node(t, SVC, "kept");
    for (const char *const *n = (const char *const[]){"gone", "kept", NULL}; *n; n++) {
        assert_int_equal(pubsub_store_sub_put(t, SVC, *n, "bob@example.org/r", "s", 3, &o),
                         HERALD_OK);
        assert_int_equal(pubsub_store_aff_put(t, SVC, *n, "bob@example.org", 5), HERALD_OK);
        assert_int_equal(
            pubsub_store_item_put(t, SVC, *n, 1, "i1", "bob@example.org", 7, "<x/>", 4), HERALD_OK);
    }
    assert_int_equal(pubsub_store_node_delete(t, SVC, "gone"), HERALD_OK);
    assert_int_equal(store_commit(&t), HERALD_OK);
    assert_int_equal(store_read(f->s, &t), HERALD_OK);
    struct seen x = {0};
    assert_int_equal(pubsub_store_subs_of_jid(t, SVC, "bob@example.org", sub_of_cb, &x), HERALD_OK);
    assert_string_equal(x.text, "kept bob@example.org/r s");
    x = (struct seen){0};
    assert_int_equal(pubsub_store_affs_of_jid(t, SVC, "bob@example.org", aff_of_cb, &x), HERALD_OK);
    assert_string_equal(x.text, "kept owner");
    x = (struct seen){0};
    assert_int_equal(pubsub_store_affs_each(t, SVC, "gone", aff_cb, &x), HERALD_OK);
    assert_int_equal(pubsub_store_items_each(t, SVC, "gone", true, 0, item_cb, &x), HERALD_OK);
    assert_int_equal(pubsub_store_subs_each(t, SVC, "gone", sub_cb, &x), HERALD_OK);
    assert_string_equal(x.text, "");
    struct pubsub_store_item it;
    assert_int_equal(pubsub_store_item_get(t, SVC, "gone", "i1", &it), HERALD_ENOTFOUND);
    assert_int_equal(pubsub_store_item_get(t, SVC, "kept", "i1", &it), HERALD_OK);
}

/* §13.1: items walk in publication order either way, and from a sequence number on. */
static void test_pubsub_store__items_in_publication_order(void **state)
{
    struct fixture *f = *state;
    struct store_txn *t = begin(f);
    node(t, SVC, "n");
    const char *ids[] = {"c", "a", "b"};
    for (uint64_t i = 0; i < 3; i++)
        assert_int_equal(pubsub_store_item_put(t, SVC, "n", 255 + i, ids[i], NULL, 1, NULL, 0),
                         HERALD_OK);
    assert_int_equal(store_commit(&t), HERALD_OK);
    assert_int_equal(store_read(f->s, &t), HERALD_OK);
    struct seen x = {0};
    assert_int_equal(pubsub_store_items_each(t, SVC, "n", false, 0, item_cb, &x), HERALD_OK);
    assert_string_equal(x.text, "c,a,b");
    x = (struct seen){0};
    assert_int_equal(pubsub_store_items_each(t, SVC, "n", true, 0, item_cb, &x), HERALD_OK);
    assert_string_equal(x.text, "b,a,c");
    x = (struct seen){0};
    assert_int_equal(pubsub_store_items_each(t, SVC, "n", false, 255, item_cb, &x), HERALD_OK);
    assert_string_equal(x.text, "a,b");
    x = (struct seen){0};
    assert_int_equal(pubsub_store_items_each(t, SVC, "n", true, 257, item_cb, &x), HERALD_OK);
    assert_string_equal(x.text, "a,c");
    uint64_t count, last;
    assert_int_equal(pubsub_store_items_stats(t, SVC, "n", &count, &last), HERALD_OK);
    assert_true(count == 3 && last == 257);
}

/* LMDB keys hold 511 bytes: a subscription of a JID that does not fit with the service and
 * the NodeID is refused with HERALD_ELIMIT and leaves nothing; lookups of such keys find
 * nothing rather than fail. */
static void test_pubsub_store__keys_too_long(void **state)
{
    struct fixture *f = *state;
    struct pubsub_subopts o;
    pubsub_subopts_defaults(&o);
    char jid[501];
    memset(jid, 'j', 490);
    strcpy(jid + 490, "@x.org");
    struct store_txn *t = begin(f);
    node(t, SVC, "n");
    assert_int_equal(pubsub_store_sub_put(t, SVC, "n", jid, "s", 3, &o), HERALD_ELIMIT);
    assert_int_equal(pubsub_store_aff_put(t, SVC, "n", jid, 5), HERALD_ELIMIT);
    assert_int_equal(store_commit(&t), HERALD_OK);
    assert_int_equal(store_read(f->s, &t), HERALD_OK);
    struct seen x = {0};
    assert_int_equal(pubsub_store_subs_each(t, SVC, "n", sub_cb, &x), HERALD_OK);
    assert_int_equal(pubsub_store_affs_each(t, SVC, "n", aff_cb, &x), HERALD_OK);
    assert_string_equal(x.text, "");
    struct pubsub_store_item it;
    assert_int_equal(pubsub_store_item_get(t, SVC, "n", jid, &it), HERALD_ENOTFOUND);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_pubsub_store__nodes_in_order_and_after, store_setup,
                                        store_teardown),
        cmocka_unit_test_setup_teardown(test_pubsub_store__subscriptions_per_node_and_per_jid,
                                        store_setup, store_teardown),
        cmocka_unit_test_setup_teardown(test_pubsub_store__delete_takes_everything, store_setup,
                                        store_teardown),
        cmocka_unit_test_setup_teardown(test_pubsub_store__items_in_publication_order, store_setup,
                                        store_teardown),
        cmocka_unit_test_setup_teardown(test_pubsub_store__keys_too_long, store_setup,
                                        store_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
