/*
 * test_store.c - the LMDB store in a temporary folder: group commit, nested request
 * transactions, commit callbacks, prefix cursors, prefix deletes and key limits.
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

#include "herald/store.h"

struct fixture {
    char root[64];
    char dir[96];
    struct store *s;
};

static const struct store_options opts = {.map_size = 16ULL * 1024 * 1024, .sync = false};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return -1;
    snprintf(f->root, sizeof(f->root), "/tmp/herald-test-store-XXXXXX");
    if (mkdtemp(f->root) == NULL) {
        free(f);
        return -1;
    }
    snprintf(f->dir, sizeof(f->dir), "%s/db", f->root);
    if (store_open(f->dir, &opts, &f->s) != HERALD_OK) {
        rmdir(f->root);
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    char path[128];
    store_close(&f->s);
    static const char *const files[] = {"data.mdb", "lock.mdb"};
    for (size_t i = 0; i < 2; i++) {
        snprintf(path, sizeof(path), "%s/%s", f->dir, files[i]);
        unlink(path);
    }
    rmdir(f->dir);
    rmdir(f->root);
    free(f);
    return 0;
}

static void reopen(struct fixture *f)
{
    store_close(&f->s);
    assert_null(f->s);
    assert_int_equal(store_open(f->dir, &opts, &f->s), HERALD_OK);
}

/* Put one key with a string value in its own request transaction. */
static void put(struct store *s, enum store_db db, const char *k, size_t klen, const char *v)
{
    struct store_txn *t;
    assert_int_equal(store_begin(s, &t), HERALD_OK);
    assert_int_equal(store_put(t, db, k, klen, v, strlen(v)), HERALD_OK);
    assert_int_equal(store_commit(&t), HERALD_OK);
    assert_null(t);
}

static bool has(struct store *s, enum store_db db, const char *k, size_t klen, const char *want)
{
    struct store_txn *t;
    const void *v;
    size_t vlen;
    assert_int_equal(store_read(s, &t), HERALD_OK);
    enum herald_rc rc = store_get(t, db, k, klen, &v, &vlen);
    if (rc == HERALD_ENOTFOUND)
        return false;
    assert_int_equal(rc, HERALD_OK);
    if (want) {
        assert_int_equal(vlen, strlen(want));
        assert_memory_equal(v, want, vlen);
    }
    return true;
}

static void test_store__writes_of_a_turn_are_one_commit(void **state)
{
    struct fixture *f = *state;
    uint64_t commits = store_commit_count(f->s);
    assert_false(store_dirty(f->s));
    put(f->s, STORE_DB_META, "k1", 2, "one");
    put(f->s, STORE_DB_META, "k2", 2, "two");
    assert_true(store_dirty(f->s));
    /* A later request of the same turn reads what earlier ones wrote. */
    assert_true(has(f->s, STORE_DB_META, "k1", 2, "one"));
    store_flush(f->s);
    assert_int_equal(store_commit_count(f->s), commits + 1);
    assert_false(store_dirty(f->s));
    store_flush(f->s); /* nothing to commit: no commit */
    assert_int_equal(store_commit_count(f->s), commits + 1);
    reopen(f);
    assert_true(has(f->s, STORE_DB_META, "k1", 2, "one"));
    assert_true(has(f->s, STORE_DB_META, "k2", 2, "two"));
}

static void test_store__aborted_request_leaves_no_trace(void **state)
{
    struct fixture *f = *state;
    put(f->s, STORE_DB_USERS, "kept", 4, "old");
    store_flush(f->s);
    put(f->s, STORE_DB_USERS, "before", 6, "x");
    struct store_txn *t;
    assert_int_equal(store_begin(f->s, &t), HERALD_OK);
    assert_int_equal(store_put(t, STORE_DB_USERS, "gone", 4, "y", 1), HERALD_OK);
    assert_int_equal(store_put(t, STORE_DB_USERS, "kept", 4, "new", 3), HERALD_OK);
    assert_int_equal(store_del(t, STORE_DB_USERS, "before", 6), HERALD_OK);
    assert_true(has(f->s, STORE_DB_USERS, "gone", 4, "y")); /* visible inside */
    store_abort(&t);
    assert_null(t);
    store_abort(&t); /* NULL-safe */
    put(f->s, STORE_DB_USERS, "after", 5, "z");
    assert_false(has(f->s, STORE_DB_USERS, "gone", 4, NULL));
    assert_true(has(f->s, STORE_DB_USERS, "kept", 4, "old"));
    assert_true(has(f->s, STORE_DB_USERS, "before", 6, "x"));
    store_flush(f->s);
    reopen(f);
    assert_false(has(f->s, STORE_DB_USERS, "gone", 4, NULL));
    assert_true(has(f->s, STORE_DB_USERS, "kept", 4, "old"));
    assert_true(has(f->s, STORE_DB_USERS, "before", 6, "x"));
    assert_true(has(f->s, STORE_DB_USERS, "after", 5, "z"));
}

static void test_store__unflushed_turn_is_committed_on_close(void **state)
{
    struct fixture *f = *state;
    put(f->s, STORE_DB_META, "late", 4, "v");
    reopen(f); /* store_close flushes */
    assert_true(has(f->s, STORE_DB_META, "late", 4, "v"));
}

struct cb_log {
    int order[8];
    enum herald_rc rc[8];
    size_t n;
    struct store *s;
};

static struct cb_log *cb_log_of;

static void record_cb(void *arg, enum herald_rc rc)
{
    struct cb_log *l = cb_log_of;
    l->order[l->n] = (int)(intptr_t)arg;
    l->rc[l->n] = rc;
    l->n++;
}

static void reregister_cb(void *arg, enum herald_rc rc)
{
    record_cb(arg, rc);
    /* Registered during a flush: runs at the next one, not this one. */
    assert_int_equal(store_on_commit(cb_log_of->s, record_cb, (void *)(intptr_t)9), HERALD_OK);
}

static void test_store__commit_callbacks_run_after_the_commit_in_order(void **state)
{
    struct fixture *f = *state;
    struct cb_log l = {.s = f->s};
    cb_log_of = &l;
    put(f->s, STORE_DB_META, "a", 1, "1");
    assert_int_equal(store_on_commit(f->s, record_cb, (void *)(intptr_t)1), HERALD_OK);
    assert_int_equal(store_on_commit(f->s, reregister_cb, (void *)(intptr_t)2), HERALD_OK);
    put(f->s, STORE_DB_META, "b", 1, "2");
    assert_int_equal(store_on_commit(f->s, record_cb, (void *)(intptr_t)3), HERALD_OK);
    assert_int_equal(l.n, 0); /* nothing runs before the flush */
    store_flush(f->s);
    assert_int_equal(l.n, 3);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(l.order[i], i + 1);
        assert_int_equal(l.rc[i], HERALD_OK);
    }
    assert_true(store_dirty(f->s)); /* the callback registered during the flush waits */
    store_flush(f->s);
    assert_int_equal(l.n, 4);
    assert_int_equal(l.order[3], 9);
    assert_false(store_dirty(f->s));
    cb_log_of = NULL;
}

static void test_store__callbacks_without_writes_still_run(void **state)
{
    struct fixture *f = *state;
    struct cb_log l = {.s = f->s};
    cb_log_of = &l;
    uint64_t commits = store_commit_count(f->s);
    assert_int_equal(store_on_commit(f->s, record_cb, (void *)(intptr_t)5), HERALD_OK);
    assert_true(store_dirty(f->s));
    store_flush(f->s);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.rc[0], HERALD_OK);
    assert_int_equal(store_commit_count(f->s), commits);
    cb_log_of = NULL;
}

static void test_store__key_limits(void **state)
{
    struct fixture *f = *state;
    char big[STORE_MAX_KEY + 1];
    memset(big, 'k', sizeof(big));
    struct store_txn *t;
    assert_int_equal(store_begin(f->s, &t), HERALD_OK);
    assert_int_equal(store_put(t, STORE_DB_META, big, STORE_MAX_KEY, "v", 1), HERALD_OK);
    assert_int_equal(store_put(t, STORE_DB_META, big, STORE_MAX_KEY + 1, "v", 1), HERALD_ELIMIT);
    assert_int_equal(store_put(t, STORE_DB_META, big, 0, "v", 1), HERALD_ELIMIT);
    const void *v;
    size_t vlen;
    assert_int_equal(store_get(t, STORE_DB_META, big, STORE_MAX_KEY + 1, &v, &vlen),
                     HERALD_ENOTFOUND);
    assert_int_equal(store_get(t, STORE_DB_META, big, 0, &v, &vlen), HERALD_ENOTFOUND);
    assert_int_equal(store_del(t, STORE_DB_META, "absent", 6), HERALD_ENOTFOUND);
    assert_int_equal(store_commit(&t), HERALD_OK);
    assert_true(has(f->s, STORE_DB_META, big, STORE_MAX_KEY, "v"));
    store_flush(f->s);
}

/* Keys around the prefix "p\0": the range must exclude its neighbours on both sides. */
static const struct {
    const char *k;
    size_t len;
} prefix_keys[] = {
    {"p", 1}, {"p\0a", 3}, {"p\0b", 3}, {"p\0b\0x", 5}, {"p\0c", 3}, {"p\x01", 2}, {"q", 1},
};

static void fill_prefix_keys(struct store *s, enum store_db db)
{
    for (size_t i = 0; i < HERALD_ARRAY_LEN(prefix_keys); i++)
        put(s, db, prefix_keys[i].k, prefix_keys[i].len, "v");
}

/* The current key of c, after the prefix "p\0". */
static void assert_at(struct store_cursor *c, const char *suffix, size_t slen)
{
    const void *k, *v;
    size_t klen, vlen;
    assert_int_equal(store_cursor_get(c, &k, &klen, &v, &vlen), HERALD_OK);
    assert_int_equal(klen, 2 + slen);
    assert_memory_equal((const char *)k + 2, suffix, slen);
    assert_int_equal(vlen, 1);
}

static void test_store__cursor_walks_one_prefix_both_ways(void **state)
{
    struct fixture *f = *state;
    fill_prefix_keys(f->s, STORE_DB_ITEMS);
    struct store_txn *t;
    struct store_cursor *c;
    assert_int_equal(store_read(f->s, &t), HERALD_OK);
    assert_int_equal(store_cursor_open(t, STORE_DB_ITEMS, "p\0", 2, &c), HERALD_OK);
    assert_int_equal(store_cursor_first(c, NULL, 0), HERALD_OK);
    assert_at(c, "a", 1);
    assert_int_equal(store_cursor_next(c), HERALD_OK);
    assert_at(c, "b", 1);
    assert_int_equal(store_cursor_next(c), HERALD_OK);
    assert_at(c, "b\0x", 3);
    assert_int_equal(store_cursor_next(c), HERALD_OK);
    assert_at(c, "c", 1);
    assert_int_equal(store_cursor_next(c), HERALD_ENOTFOUND); /* "p\x01" is outside */
    assert_int_equal(store_cursor_get(c, NULL, NULL, NULL, NULL), HERALD_ENOTFOUND);
    assert_int_equal(store_cursor_next(c), HERALD_ENOTFOUND); /* stays past the end */

    assert_int_equal(store_cursor_last(c, NULL, 0), HERALD_OK);
    assert_at(c, "c", 1);
    assert_int_equal(store_cursor_prev(c), HERALD_OK);
    assert_at(c, "b\0x", 3);
    assert_int_equal(store_cursor_prev(c), HERALD_OK);
    assert_int_equal(store_cursor_prev(c), HERALD_OK);
    assert_at(c, "a", 1);
    assert_int_equal(store_cursor_prev(c), HERALD_ENOTFOUND); /* "p" is outside */
    store_cursor_close(&c);
    assert_null(c);
    store_cursor_close(&c); /* NULL-safe */
}

static void test_store__cursor_seeks_within_the_prefix(void **state)
{
    struct fixture *f = *state;
    fill_prefix_keys(f->s, STORE_DB_ITEMS);
    struct store_txn *t;
    struct store_cursor *c;
    assert_int_equal(store_read(f->s, &t), HERALD_OK);
    assert_int_equal(store_cursor_open(t, STORE_DB_ITEMS, "p\0", 2, &c), HERALD_OK);
    /* first(from): the first key >= prefix+from. */
    assert_int_equal(store_cursor_first(c, "b", 1), HERALD_OK);
    assert_at(c, "b", 1);
    assert_int_equal(store_cursor_first(c, "bb", 2), HERALD_OK);
    assert_at(c, "c", 1);
    assert_int_equal(store_cursor_first(c, "d", 1), HERALD_ENOTFOUND);
    /* last(before): the last key < prefix+before. */
    assert_int_equal(store_cursor_last(c, "c", 1), HERALD_OK);
    assert_at(c, "b\0x", 3);
    assert_int_equal(store_cursor_last(c, "b", 1), HERALD_OK);
    assert_at(c, "a", 1);
    assert_int_equal(store_cursor_last(c, "a", 1), HERALD_ENOTFOUND);
    assert_int_equal(store_cursor_last(c, "zzz", 3), HERALD_OK);
    assert_at(c, "c", 1);
    store_cursor_close(&c);
}

static void test_store__cursor_on_empty_and_last_prefixes(void **state)
{
    struct fixture *f = *state;
    fill_prefix_keys(f->s, STORE_DB_ITEMS);
    put(f->s, STORE_DB_ITEMS, "\xff\xff", 2, "v");
    put(f->s, STORE_DB_ITEMS, "\xff\xff\x01", 3, "v");
    struct store_txn *t;
    struct store_cursor *c;
    assert_int_equal(store_read(f->s, &t), HERALD_OK);
    /* No key has this prefix. */
    assert_int_equal(store_cursor_open(t, STORE_DB_ITEMS, "o", 1, &c), HERALD_OK);
    assert_int_equal(store_cursor_first(c, NULL, 0), HERALD_ENOTFOUND);
    assert_int_equal(store_cursor_last(c, NULL, 0), HERALD_ENOTFOUND);
    store_cursor_close(&c);
    /* An all-0xff prefix has no successor key: last() goes to the end of the database. */
    assert_int_equal(store_cursor_open(t, STORE_DB_ITEMS, "\xff\xff", 2, &c), HERALD_OK);
    assert_int_equal(store_cursor_last(c, NULL, 0), HERALD_OK);
    const void *k;
    size_t klen;
    assert_int_equal(store_cursor_get(c, &k, &klen, NULL, NULL), HERALD_OK);
    assert_int_equal(klen, 3);
    store_cursor_close(&c);
    /* The empty prefix is the whole database. */
    assert_int_equal(store_cursor_open(t, STORE_DB_ITEMS, NULL, 0, &c), HERALD_OK);
    assert_int_equal(store_cursor_first(c, NULL, 0), HERALD_OK);
    assert_int_equal(store_cursor_get(c, &k, &klen, NULL, NULL), HERALD_OK);
    assert_int_equal(klen, 1);
    assert_memory_equal(k, "p", 1);
    store_cursor_close(&c);
    char big[STORE_MAX_KEY + 1] = {0};
    assert_int_equal(store_cursor_open(t, STORE_DB_ITEMS, big, sizeof(big), &c), HERALD_ELIMIT);
}

static void test_store__delete_and_count_a_prefix(void **state)
{
    struct fixture *f = *state;
    fill_prefix_keys(f->s, STORE_DB_ROSTER);
    store_flush(f->s);
    struct store_txn *t;
    uint64_t n = 0;
    assert_int_equal(store_read(f->s, &t), HERALD_OK);
    assert_int_equal(store_count_prefix(t, STORE_DB_ROSTER, "p\0", 2, &n), HERALD_OK);
    assert_int_equal(n, 4);
    assert_int_equal(store_begin(f->s, &t), HERALD_OK);
    assert_int_equal(store_del_prefix(t, STORE_DB_ROSTER, "p\0", 2, &n), HERALD_OK);
    assert_int_equal(n, 4);
    assert_int_equal(store_del_prefix(t, STORE_DB_ROSTER, "p\0", 2, &n), HERALD_OK);
    assert_int_equal(n, 0);
    assert_int_equal(store_del_prefix(t, STORE_DB_ROSTER, "none", 4, NULL), HERALD_OK);
    assert_int_equal(store_commit(&t), HERALD_OK);
    store_flush(f->s);
    reopen(f);
    for (size_t i = 0; i < HERALD_ARRAY_LEN(prefix_keys); i++) {
        bool inside = prefix_keys[i].len > 2 && memcmp(prefix_keys[i].k, "p\0", 2) == 0;
        assert_true(has(f->s, STORE_DB_ROSTER, prefix_keys[i].k, prefix_keys[i].len, NULL) ==
                    !inside);
    }
    assert_int_equal(store_read(f->s, &t), HERALD_OK);
    assert_int_equal(store_count_prefix(t, STORE_DB_ROSTER, "", 0, &n), HERALD_OK);
    assert_int_equal(n, 3);
}

static void test_store__cursor_delete_moves_to_the_next(void **state)
{
    struct fixture *f = *state;
    fill_prefix_keys(f->s, STORE_DB_SUBS);
    struct store_txn *t;
    struct store_cursor *c;
    assert_int_equal(store_begin(f->s, &t), HERALD_OK);
    assert_int_equal(store_cursor_open(t, STORE_DB_SUBS, "p\0", 2, &c), HERALD_OK);
    assert_int_equal(store_cursor_first(c, "b", 1), HERALD_OK);
    assert_int_equal(store_cursor_del(c), HERALD_OK);
    assert_at(c, "b\0x", 3);
    assert_int_equal(store_cursor_last(c, NULL, 0), HERALD_OK);
    assert_int_equal(store_cursor_del(c), HERALD_OK); /* the last: now past the end */
    assert_int_equal(store_cursor_get(c, NULL, NULL, NULL, NULL), HERALD_ENOTFOUND);
    assert_int_equal(store_cursor_del(c), HERALD_ENOTFOUND);
    store_cursor_close(&c);
    uint64_t n = 0;
    assert_int_equal(store_count_prefix(t, STORE_DB_SUBS, "p\0", 2, &n), HERALD_OK);
    assert_int_equal(n, 2);
    store_abort(&t);
    assert_int_equal(store_read(f->s, &t), HERALD_OK);
    assert_int_equal(store_count_prefix(t, STORE_DB_SUBS, "p\0", 2, &n), HERALD_OK);
    assert_int_equal(n, 4); /* the aborted request deleted nothing */
}

static void test_store__databases_are_separate(void **state)
{
    struct fixture *f = *state;
    put(f->s, STORE_DB_NODES, "same", 4, "nodes");
    put(f->s, STORE_DB_ITEMS, "same", 4, "items");
    assert_true(has(f->s, STORE_DB_NODES, "same", 4, "nodes"));
    assert_true(has(f->s, STORE_DB_ITEMS, "same", 4, "items"));
    assert_false(has(f->s, STORE_DB_AFFS, "same", 4, NULL));
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_store__writes_of_a_turn_are_one_commit),
        T(test_store__aborted_request_leaves_no_trace),
        T(test_store__unflushed_turn_is_committed_on_close),
        T(test_store__commit_callbacks_run_after_the_commit_in_order),
        T(test_store__callbacks_without_writes_still_run),
        T(test_store__key_limits),
        T(test_store__cursor_walks_one_prefix_both_ways),
        T(test_store__cursor_seeks_within_the_prefix),
        T(test_store__cursor_on_empty_and_last_prefixes),
        T(test_store__delete_and_count_a_prefix),
        T(test_store__cursor_delete_moves_to_the_next),
        T(test_store__databases_are_separate),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
