/*
 * test_im.c - the roster queries other modules make (pubsub's presence and roster access
 * models, XEP-0060 §4.5): the subscription state (RFC 6121 §2.1.2.5) and group membership
 * (§2.1.2.6) of a contact in an owner's roster.
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

#include "herald/im.h"
#include "herald/roster_store.h"
#include "herald/server.h"

struct fixture {
    char dir[TEST_STORE_DIR_MAX];
    struct server srv;
};

static void put(struct store *s, const char *owner, const char *contact, uint8_t sub,
                const char *const *groups, size_t ngroups)
{
    struct roster_item it;
    memset(&it, 0, sizeof(it));
    it.sub = sub;
    it.ngroups = ngroups;
    for (size_t i = 0; i < ngroups; i++)
        it.groups[i] = (struct roster_str){groups[i], strlen(groups[i])};
    struct store_txn *t;
    assert_int_equal(store_begin(s, &t), HERALD_OK);
    assert_int_equal(roster_item_put(t, owner, contact, &it), HERALD_OK);
    assert_int_equal(store_commit(&t), HERALD_OK);
    store_flush(s);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return -1;
    if (test_store_open("test_im", f->dir, &f->srv.store)) {
        free(f);
        return -1;
    }
    static const char *const friends[] = {"Friends", "Work"};
    put(f->srv.store, "juliet@example.com", "romeo@example.net", ROSTER_SUB_BOTH, friends, 2);
    put(f->srv.store, "juliet@example.com", "nurse@example.com", ROSTER_SUB_TO, NULL, 0);
    put(f->srv.store, "juliet@example.com", "benvolio@example.net", ROSTER_SUB_FROM, friends + 1,
        1);
    put(f->srv.store, "juliet@example.com", "tybalt@example.org", ROSTER_SUB_NONE, NULL, 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    test_store_remove(&f->srv.store, f->dir);
    free(f);
    return 0;
}

static void test_im__roster_relation(void **state)
{
    struct fixture *f = *state;
    static const struct {
        const char *contact;
        enum im_subscription sub;
        bool in_roster;
    } cases[] = {
        {"romeo@example.net", IM_SUB_BOTH, true},    {"nurse@example.com", IM_SUB_TO, true},
        {"benvolio@example.net", IM_SUB_FROM, true}, {"tybalt@example.org", IM_SUB_NONE, true},
        {"paris@example.org", IM_SUB_NONE, false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        enum im_subscription sub = IM_SUB_BOTH;
        bool in = !cases[i].in_roster;
        assert_int_equal(
            im_roster_relation(&f->srv, "juliet@example.com", cases[i].contact, &sub, &in),
            HERALD_OK);
        assert_int_equal(sub, cases[i].sub);
        assert_int_equal(in, cases[i].in_roster);
    }
    /* Relations are directed: Romeo's roster is empty. */
    enum im_subscription sub;
    bool in;
    assert_int_equal(
        im_roster_relation(&f->srv, "romeo@example.net", "juliet@example.com", &sub, &in),
        HERALD_OK);
    assert_int_equal(sub, IM_SUB_NONE);
    assert_false(in);
}

static void test_im__roster_in_groups(void **state)
{
    struct fixture *f = *state;
    const char *const work[] = {"Work"};
    const char *const family[] = {"Family", "Lovers"};
    const char *const several[] = {"Family", "Friends"};
    const char *const terminated[] = {"Family", NULL, "Friends"};
    struct server *s = &f->srv;
    assert_true(im_roster_in_groups(s, "juliet@example.com", "romeo@example.net", work, 1));
    assert_true(im_roster_in_groups(s, "juliet@example.com", "benvolio@example.net", work, 1));
    assert_false(im_roster_in_groups(s, "juliet@example.com", "romeo@example.net", family, 2));
    assert_true(im_roster_in_groups(s, "juliet@example.com", "romeo@example.net", several, 2));
    /* Group names compare exactly, and the list stops at a NULL. */
    const char *const lower[] = {"work"};
    assert_false(im_roster_in_groups(s, "juliet@example.com", "romeo@example.net", lower, 1));
    assert_false(im_roster_in_groups(s, "juliet@example.com", "romeo@example.net", terminated, 3));
    assert_false(im_roster_in_groups(s, "juliet@example.com", "nurse@example.com", work, 1));
    assert_false(im_roster_in_groups(s, "juliet@example.com", "paris@example.org", work, 1));
    assert_false(im_roster_in_groups(s, "juliet@example.com", "romeo@example.net", work, 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_im__roster_relation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_im__roster_in_groups, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
