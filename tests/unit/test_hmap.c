/*
 * test_hmap.c - the string-keyed hash map: put/get/del, replacing, iteration, growth,
 * tombstones and many keys.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "herald/hmap.h"

#define MANY 20000

static int setup(void **state)
{
    struct hmap *m = calloc(1, sizeof(*m));
    if (m == NULL)
        return -1;
    hmap_init(m, HERALD_MEM_MISC);
    *state = m;
    return 0;
}

static int teardown(void **state)
{
    struct hmap *m = *state;
    hmap_cleanup(m);
    free(m);
    return 0;
}

/* Room for "key-" and any size_t, so snprintf can never truncate. */
#define KEY_MAX 32

/* Keys for the many-keys tests: "key-<n>", kept alive for the map's lifetime. */
static char (*make_keys(size_t n))[KEY_MAX]
{
    char(*keys)[KEY_MAX] = calloc(n, sizeof(*keys));
    assert_non_null(keys);
    for (size_t i = 0; i < n; i++)
        snprintf(keys[i], sizeof(keys[i]), "key-%zu", i);
    return keys;
}

static void test_hmap__empty_map(void **state)
{
    struct hmap *m = *state;
    assert_int_equal(hmap_len(m), 0);
    assert_null(hmap_get(m, "a", 1));
    assert_null(hmap_del(m, "a", 1));
    size_t pos = 0;
    assert_false(hmap_iter(m, &pos, NULL, NULL, NULL));
}

static void test_hmap__put_get_del(void **state)
{
    struct hmap *m = *state;
    int one = 1, two = 2;
    void *old = &one;
    assert_int_equal(hmap_put(m, "alice", 5, &one, &old), HERALD_OK);
    assert_null(old); /* a new key replaces nothing */
    assert_int_equal(hmap_put(m, "bob", 3, &two, NULL), HERALD_OK);
    assert_int_equal(hmap_len(m), 2);
    assert_ptr_equal(hmap_get(m, "alice", 5), &one);
    assert_ptr_equal(hmap_get(m, "bob", 3), &two);
    assert_null(hmap_get(m, "carol", 5));
    assert_ptr_equal(hmap_del(m, "alice", 5), &one);
    assert_null(hmap_get(m, "alice", 5));
    assert_null(hmap_del(m, "alice", 5));
    assert_int_equal(hmap_len(m), 1);
    assert_ptr_equal(hmap_get(m, "bob", 3), &two);
}

static void test_hmap__keys_are_bytes_with_length(void **state)
{
    struct hmap *m = *state;
    int a = 1, b = 2, c = 3;
    /* A prefix, the same bytes with a NUL inside, and the empty key are all distinct. */
    assert_int_equal(hmap_put(m, "ab", 2, &a, NULL), HERALD_OK);
    assert_int_equal(hmap_put(m, "a\0b", 3, &b, NULL), HERALD_OK);
    assert_int_equal(hmap_put(m, "", 0, &c, NULL), HERALD_OK);
    assert_ptr_equal(hmap_get(m, "ab", 2), &a);
    assert_ptr_equal(hmap_get(m, "a\0b", 3), &b);
    assert_ptr_equal(hmap_get(m, "", 0), &c);
    assert_null(hmap_get(m, "a", 1));
    assert_null(hmap_get(m, "AB", 2)); /* case matters: callers canonicalise */
}

static void test_hmap__replace_returns_old_and_takes_new_key(void **state)
{
    struct hmap *m = *state;
    int one = 1, two = 2;
    char k1[] = "same", k2[] = "same";
    void *old = NULL;
    assert_int_equal(hmap_put(m, k1, 4, &one, NULL), HERALD_OK);
    assert_int_equal(hmap_put(m, k2, 4, &two, &old), HERALD_OK);
    assert_ptr_equal(old, &one);
    assert_int_equal(hmap_len(m), 1);
    /* The entry now points at the new key's bytes: the old ones may go. */
    memset(k1, 'x', 4);
    assert_ptr_equal(hmap_get(m, "same", 4), &two);
    size_t pos = 0, klen = 0;
    const char *key = NULL;
    assert_true(hmap_iter(m, &pos, &key, &klen, NULL));
    assert_ptr_equal(key, k2);
    assert_int_equal(klen, 4);
}

static void test_hmap__iterates_every_live_entry_once(void **state)
{
    struct hmap *m = *state;
    char(*keys)[KEY_MAX] = make_keys(100);
    int seen[100] = {0};
    for (size_t i = 0; i < 100; i++)
        assert_int_equal(hmap_put(m, keys[i], strlen(keys[i]), keys[i], NULL), HERALD_OK);
    for (size_t i = 0; i < 100; i += 3)
        assert_ptr_equal(hmap_del(m, keys[i], strlen(keys[i])), keys[i]);
    const char *k;
    size_t kl, n = 0;
    void *v;
    for (size_t pos = 0; hmap_iter(m, &pos, &k, &kl, &v);) {
        size_t i = (size_t)((char(*)[KEY_MAX])v - keys);
        assert_true(i < 100);
        assert_ptr_equal(k, keys[i]);
        assert_int_equal(kl, strlen(keys[i]));
        seen[i]++;
        n++;
    }
    assert_int_equal(n, hmap_len(m));
    for (size_t i = 0; i < 100; i++)
        assert_int_equal(seen[i], i % 3 == 0 ? 0 : 1);
    free(keys);
}

static void test_hmap__delete_current_while_iterating(void **state)
{
    struct hmap *m = *state;
    char(*keys)[KEY_MAX] = make_keys(50);
    for (size_t i = 0; i < 50; i++)
        assert_int_equal(hmap_put(m, keys[i], strlen(keys[i]), keys[i], NULL), HERALD_OK);
    const char *k;
    size_t kl, n = 0;
    /* hmap.h allows deleting the current key; pos already points past it. */
    for (size_t pos = 0; hmap_iter(m, &pos, &k, &kl, NULL);) {
        assert_non_null(hmap_del(m, k, kl));
        n++;
    }
    assert_int_equal(n, 50);
    assert_int_equal(hmap_len(m), 0);
    free(keys);
}

static void test_hmap__grows_and_keeps_everything(void **state)
{
    struct hmap *m = *state;
    char(*keys)[KEY_MAX] = make_keys(MANY);
    size_t cap0 = 0;
    for (size_t i = 0; i < MANY; i++) {
        assert_int_equal(hmap_put(m, keys[i], strlen(keys[i]), keys[i], NULL), HERALD_OK);
        if (i == 0)
            cap0 = m->cap;
        /* The load factor stays at or below 3/4, so probes always end. */
        assert_true(m->used * 4 <= m->cap * 3);
    }
    assert_true(m->cap > cap0);
    assert_true((m->cap & (m->cap - 1)) == 0); /* a power of two */
    assert_int_equal(hmap_len(m), MANY);
    for (size_t i = 0; i < MANY; i++)
        assert_ptr_equal(hmap_get(m, keys[i], strlen(keys[i])), keys[i]);
    assert_null(hmap_get(m, "key-20000", 9));
    free(keys);
}

static void test_hmap__tombstones_do_not_break_probing(void **state)
{
    struct hmap *m = *state;
    char(*keys)[KEY_MAX] = make_keys(MANY);
    for (size_t i = 0; i < MANY; i++)
        assert_int_equal(hmap_put(m, keys[i], strlen(keys[i]), keys[i], NULL), HERALD_OK);
    /* Delete every other key: the survivors behind a tombstone are still found. */
    for (size_t i = 0; i < MANY; i += 2)
        assert_ptr_equal(hmap_del(m, keys[i], strlen(keys[i])), keys[i]);
    assert_int_equal(hmap_len(m), MANY / 2);
    assert_true(m->used > m->len); /* the deletions left tombstones */
    for (size_t i = 0; i < MANY; i++) {
        void *v = hmap_get(m, keys[i], strlen(keys[i]));
        if (i % 2)
            assert_ptr_equal(v, keys[i]);
        else
            assert_null(v);
    }
    /* Re-inserting reuses slots; nothing is found twice. */
    for (size_t i = 0; i < MANY; i += 2)
        assert_int_equal(hmap_put(m, keys[i], strlen(keys[i]), keys[i], NULL), HERALD_OK);
    assert_int_equal(hmap_len(m), MANY);
    size_t n = 0;
    for (size_t pos = 0; hmap_iter(m, &pos, NULL, NULL, NULL);)
        n++;
    assert_int_equal(n, MANY);
    free(keys);
}

static void test_hmap__churn_does_not_grow_without_bound(void **state)
{
    struct hmap *m = *state;
    char(*keys)[KEY_MAX] = make_keys(MANY);
    /* A sliding window of 64 live keys over many inserts and deletes: tombstones are
     * reclaimed by resizing, so the table stays small. */
    for (size_t i = 0; i < MANY; i++) {
        assert_int_equal(hmap_put(m, keys[i], strlen(keys[i]), keys[i], NULL), HERALD_OK);
        if (i >= 64)
            assert_ptr_equal(hmap_del(m, keys[i - 64], strlen(keys[i - 64])), keys[i - 64]);
    }
    assert_int_equal(hmap_len(m), 64);
    assert_true(m->cap <= 1024);
    for (size_t i = MANY - 64; i < MANY; i++)
        assert_ptr_equal(hmap_get(m, keys[i], strlen(keys[i])), keys[i]);
    free(keys);
}

static void test_hmap__emptied_map_forgets_tombstones(void **state)
{
    struct hmap *m = *state;
    int v = 1;
    assert_int_equal(hmap_put(m, "a", 1, &v, NULL), HERALD_OK);
    assert_int_equal(hmap_put(m, "b", 1, &v, NULL), HERALD_OK);
    assert_non_null(hmap_del(m, "a", 1));
    assert_int_equal(m->used, 2);
    assert_non_null(hmap_del(m, "b", 1));
    assert_int_equal(m->used, 0);
    assert_int_equal(hmap_len(m), 0);
    assert_int_equal(hmap_put(m, "a", 1, &v, NULL), HERALD_OK);
    assert_ptr_equal(hmap_get(m, "a", 1), &v);
}

static void test_hmap__hash_is_keyed_and_stable(void **state)
{
    struct hmap *m = *state;
    struct hmap other;
    hmap_init(&other, HERALD_MEM_MISC);
    other.k0 = m->k0 ^ 1; /* a different key, whatever getrandom gave */
    other.k1 = m->k1;
    uint64_t h = hmap_hash(m, "alice@example.com", 17);
    assert_int_equal(hmap_hash(m, "alice@example.com", 17), h);
    assert_int_not_equal(hmap_hash(&other, "alice@example.com", 17), h);
    assert_int_not_equal(hmap_hash(m, "alice@example.con", 17), h);
    /* Every tail length of the final word takes part in the hash. */
    const char s[] = "0123456789abcdef";
    for (size_t n = 8; n < 16; n++)
        assert_int_not_equal(hmap_hash(m, s, n), hmap_hash(m, s, n + 1));
    hmap_cleanup(&other);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_hmap__empty_map, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hmap__put_get_del, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hmap__keys_are_bytes_with_length, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hmap__replace_returns_old_and_takes_new_key, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_hmap__iterates_every_live_entry_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hmap__delete_current_while_iterating, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hmap__grows_and_keeps_everything, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hmap__tombstones_do_not_break_probing, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_hmap__churn_does_not_grow_without_bound, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_hmap__emptied_map_forgets_tombstones, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hmap__hash_is_keyed_and_stable, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
