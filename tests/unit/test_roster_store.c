/*
 * test_roster_store.c - the roster item, pending request and roster version records
 * (schemas/store.md; RFC 6121 §2.1.2 items, §2.6 versions, §3.1.3 kept requests).
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

#include "herald/roster_store.h"

static struct roster_str str(const char *s)
{
    return (struct roster_str){s, strlen(s)};
}

static void sample_item(struct roster_item *it)
{
    memset(it, 0, sizeof(*it));
    it->sub = ROSTER_SUB_FROM;
    it->flags = ROSTER_F_ASK;
    it->ver = 0x0102030405060708ULL;
    it->name = str("Romeo");
    it->ngroups = 2;
    it->groups[0] = str("Friends");
    it->groups[1] = str("Lovers");
}

static void encode(const struct roster_item *it, struct buf *b)
{
    buf_init(b, 0);
    assert_int_equal(roster_item_encode(it, b), HERALD_OK);
}

static void assert_str(struct roster_str s, const char *want)
{
    assert_int_equal(s.len, strlen(want));
    assert_memory_equal(s.s, want, s.len);
}

/* ---- roster item codec ---- */

static void test_roster_store__item_round_trip(void **state)
{
    (void)state;
    struct roster_item in, out;
    struct buf b;
    sample_item(&in);
    encode(&in, &b);
    assert_int_equal(roster_item_decode(b.data, b.len, &out), HERALD_OK);
    assert_int_equal(out.sub, ROSTER_SUB_FROM);
    assert_int_equal(out.flags, ROSTER_F_ASK);
    assert_true(out.ver == 0x0102030405060708ULL);
    assert_str(out.name, "Romeo");
    assert_int_equal(out.ngroups, 2);
    assert_str(out.groups[0], "Friends");
    assert_str(out.groups[1], "Lovers");
    buf_cleanup(&b);
}

static void test_roster_store__item_layout_is_versioned_big_endian(void **state)
{
    (void)state;
    struct roster_item in;
    struct buf b;
    memset(&in, 0, sizeof(in));
    in.sub = ROSTER_SUB_BOTH;
    in.flags = ROSTER_F_APPROVED;
    in.ver = 258;
    in.name = str("N");
    in.ngroups = 1;
    in.groups[0] = str("G");
    encode(&in, &b);
    /* u8 version | u8 sub | u8 flags | u64 ver | lstr name | u16 ngroups | lstr group */
    static const unsigned char want[] = {1, 3, 2, 0,   0, 0, 0, 0, 0, 1, 2,  0,
                                         0, 0, 1, 'N', 0, 1, 0, 0, 0, 1, 'G'};
    assert_int_equal(b.len, sizeof(want));
    assert_memory_equal(b.data, want, sizeof(want));
    buf_cleanup(&b);
}

static void test_roster_store__item_without_name_or_groups(void **state)
{
    (void)state;
    struct roster_item in, out;
    struct buf b;
    memset(&in, 0, sizeof(in));
    encode(&in, &b);
    assert_int_equal(roster_item_decode(b.data, b.len, &out), HERALD_OK);
    assert_int_equal(out.sub, ROSTER_SUB_NONE);
    assert_int_equal(out.flags, 0);
    assert_int_equal(out.name.len, 0);
    assert_int_equal(out.ngroups, 0);
    buf_cleanup(&b);
}

static void test_roster_store__item_limits_round_trip(void **state)
{
    (void)state;
    static char name[ROSTER_NAME_MAX], groups[ROSTER_GROUPS_MAX][ROSTER_GROUP_MAX];
    struct roster_item in, out;
    struct buf b;
    memset(&in, 0, sizeof(in));
    memset(name, 'n', sizeof(name));
    in.name = (struct roster_str){name, sizeof(name)};
    in.ngroups = ROSTER_GROUPS_MAX;
    for (size_t i = 0; i < ROSTER_GROUPS_MAX; i++) {
        memset(groups[i], 'a' + (int)(i % 26), ROSTER_GROUP_MAX);
        in.groups[i] = (struct roster_str){groups[i], ROSTER_GROUP_MAX};
    }
    encode(&in, &b);
    assert_int_equal(roster_item_decode(b.data, b.len, &out), HERALD_OK);
    assert_int_equal(out.name.len, ROSTER_NAME_MAX);
    assert_int_equal(out.ngroups, ROSTER_GROUPS_MAX);
    assert_memory_equal(out.groups[63].s, groups[63], ROSTER_GROUP_MAX);
    buf_cleanup(&b);
}

static void test_roster_store__item_rejects_unknown_versions(void **state)
{
    (void)state;
    struct roster_item in, out;
    struct buf b;
    sample_item(&in);
    encode(&in, &b);
    static const unsigned char versions[] = {0, 2, 0x7f, 0xff};
    for (size_t i = 0; i < sizeof(versions); i++) {
        b.data[0] = (char)versions[i];
        assert_int_equal(roster_item_decode(b.data, b.len, &out), HERALD_EPROTO);
    }
    buf_cleanup(&b);
}

static void test_roster_store__item_rejects_truncation_and_trailing_bytes(void **state)
{
    (void)state;
    struct roster_item in, out;
    struct buf b;
    sample_item(&in);
    encode(&in, &b);
    for (size_t len = 0; len < b.len; len++)
        assert_int_equal(roster_item_decode(b.data, len, &out), HERALD_EPROTO);
    buf_append_byte(&b, 0);
    assert_int_equal(roster_item_decode(b.data, b.len, &out), HERALD_EPROTO);
    buf_cleanup(&b);
}

static void test_roster_store__item_rejects_values_out_of_range(void **state)
{
    (void)state;
    struct roster_item in, out;
    struct buf b;
    sample_item(&in);
    encode(&in, &b);
    b.data[1] = 4; /* subscription past "both" */
    assert_int_equal(roster_item_decode(b.data, b.len, &out), HERALD_EPROTO);
    b.data[1] = ROSTER_SUB_FROM;
    b.data[2] = 0x04; /* an unknown flag */
    assert_int_equal(roster_item_decode(b.data, b.len, &out), HERALD_EPROTO);
    buf_cleanup(&b);

    /* A group count over the limit, an empty group, an over-long name: each record is
     * otherwise complete, so only the value can be what is refused. */
    const unsigned char head[] = {ROSTER_RECORD_V1, ROSTER_SUB_NONE, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    buf_init(&b, 0);
    buf_append(&b, head, sizeof(head));
    buf_append_lstr(&b, "", 0);
    buf_append_u16be(&b, ROSTER_GROUPS_MAX + 1);
    for (int i = 0; i <= ROSTER_GROUPS_MAX; i++)
        buf_append_lstr(&b, "g", 1);
    assert_int_equal(b.err, HERALD_OK);
    assert_int_equal(roster_item_decode(b.data, b.len, &out), HERALD_EPROTO);
    buf_reset(&b);
    buf_append(&b, head, sizeof(head));
    buf_append_lstr(&b, "", 0);
    buf_append_u16be(&b, 1);
    buf_append_lstr(&b, "", 0);
    assert_int_equal(roster_item_decode(b.data, b.len, &out), HERALD_EPROTO);
    buf_reset(&b);
    buf_append(&b, head, sizeof(head));
    buf_append_u32be(&b, ROSTER_NAME_MAX + 1);
    for (int i = 0; i <= ROSTER_NAME_MAX; i++)
        buf_append_byte(&b, 'x');
    buf_append_u16be(&b, 0);
    assert_int_equal(b.err, HERALD_OK);
    assert_int_equal(roster_item_decode(b.data, b.len, &out), HERALD_EPROTO);
    /* The same record with a name at the limit is fine. */
    buf_reset(&b);
    buf_append(&b, head, sizeof(head));
    buf_append_u32be(&b, ROSTER_NAME_MAX);
    for (int i = 0; i < ROSTER_NAME_MAX; i++)
        buf_append_byte(&b, 'x');
    buf_append_u16be(&b, 0);
    assert_int_equal(roster_item_decode(b.data, b.len, &out), HERALD_OK);
    buf_cleanup(&b);
}

static void test_roster_store__encode_rejects_out_of_range(void **state)
{
    (void)state;
    struct roster_item it;
    struct buf b;
    buf_init(&b, 0);
    sample_item(&it);
    it.sub = 7;
    assert_int_equal(roster_item_encode(&it, &b), HERALD_EINVAL);
    sample_item(&it);
    it.flags = 0x80;
    assert_int_equal(roster_item_encode(&it, &b), HERALD_EINVAL);
    sample_item(&it);
    it.groups[1] = str("");
    buf_reset(&b);
    assert_int_equal(roster_item_encode(&it, &b), HERALD_EINVAL);
    sample_item(&it);
    it.ngroups = ROSTER_GROUPS_MAX + 1;
    assert_int_equal(roster_item_encode(&it, &b), HERALD_EINVAL);
    buf_cleanup(&b);
}

/* ---- pending request codec ---- */

static void test_roster_store__pending_round_trip_and_rejects(void **state)
{
    (void)state;
    const char *st = "<presence from='a@x' to='b@x' type='subscribe'/>";
    struct roster_pending in = {1700000000, st, strlen(st)}, out;
    struct buf b;
    buf_init(&b, 0);
    assert_int_equal(roster_pending_encode(&in, &b), HERALD_OK);
    assert_int_equal(roster_pending_decode(b.data, b.len, &out), HERALD_OK);
    assert_true(out.stamp == 1700000000);
    assert_int_equal(out.len, strlen(st));
    assert_memory_equal(out.stanza, st, out.len);
    for (size_t len = 0; len < b.len; len++)
        assert_int_equal(roster_pending_decode(b.data, len, &out), HERALD_EPROTO);
    b.data[0] = 2;
    assert_int_equal(roster_pending_decode(b.data, b.len, &out), HERALD_EPROTO);
    b.data[0] = ROSTER_PENDING_RECORD_V1;
    buf_append_byte(&b, 'x');
    assert_int_equal(roster_pending_decode(b.data, b.len, &out), HERALD_EPROTO);
    struct roster_pending none = {0, "", 0};
    buf_reset(&b);
    assert_int_equal(roster_pending_encode(&none, &b), HERALD_EINVAL);
    buf_cleanup(&b);
}

/* ---- through the store: keys, versions, iteration ---- */

struct fixture {
    char dir[TEST_STORE_DIR_MAX];
    struct store *s;
};

static int store_setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return -1;
    if (test_store_open("test_roster_store", f->dir, &f->s)) {
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

static void test_roster_store__keys_versions_and_iteration(void **state)
{
    struct fixture *f = *state;
    struct store_txn *t;
    struct roster_item it, got;
    sample_item(&it);
    assert_int_equal(store_begin(f->s, &t), HERALD_OK);
    assert_int_equal(roster_item_put(t, "juliet@example.com", "romeo@example.net", &it), HERALD_OK);
    assert_int_equal(roster_item_put(t, "juliet@example.com", "nurse@example.com", &it), HERALD_OK);
    /* A key that is a prefix of the owner must not leak into its range. */
    assert_int_equal(roster_item_put(t, "juliet@example.co", "x@y", &it), HERALD_OK);
    assert_int_equal(roster_version_put(t, "juliet@example.com", 42), HERALD_OK);
    struct roster_pending p = {1, "<presence/>", 11};
    assert_int_equal(roster_pending_put(t, "juliet@example.com", "tybalt@example.org", &p),
                     HERALD_OK);
    assert_int_equal(store_commit(&t), HERALD_OK);
    store_flush(f->s);

    assert_int_equal(store_read(f->s, &t), HERALD_OK);
    /* The documented key: owner NUL contact. */
    const void *v;
    size_t vlen;
    assert_int_equal(store_get(t, STORE_DB_ROSTER, "juliet@example.com\0romeo@example.net",
                               sizeof("juliet@example.com\0romeo@example.net") - 1, &v, &vlen),
                     HERALD_OK);
    assert_int_equal(store_get(t, STORE_DB_ROSTER_VER, "juliet@example.com", 18, &v, &vlen),
                     HERALD_OK);
    assert_int_equal(vlen, 8);
    assert_memory_equal(v, "\0\0\0\0\0\0\0\x2a", 8);
    uint64_t ver = 0;
    assert_int_equal(roster_version_get(t, "juliet@example.com", &ver), HERALD_OK);
    assert_true(ver == 42);
    assert_int_equal(roster_version_get(t, "nobody@example.com", &ver), HERALD_OK);
    assert_true(ver == 0);
    assert_int_equal(roster_item_get(t, "juliet@example.com", "romeo@example.net", &got),
                     HERALD_OK);
    assert_str(got.name, "Romeo");
    assert_int_equal(roster_item_get(t, "juliet@example.com", "tybalt@example.org", &got),
                     HERALD_ENOTFOUND);
    uint64_t n = 0;
    assert_int_equal(roster_count(t, "juliet@example.com", &n), HERALD_OK);
    assert_true(n == 2);
    assert_int_equal(roster_pending_count(t, "juliet@example.com", &n), HERALD_OK);
    assert_true(n == 1);

    struct roster_iter ri;
    const char *contact;
    size_t clen;
    assert_int_equal(roster_iter_open(t, STORE_DB_ROSTER, "juliet@example.com", &ri), HERALD_OK);
    assert_int_equal(roster_iter_next(&ri, &contact, &clen, &v, &vlen), HERALD_OK);
    assert_int_equal(clen, strlen("nurse@example.com"));
    assert_memory_equal(contact, "nurse@example.com", clen);
    assert_int_equal(roster_iter_next(&ri, &contact, &clen, &v, &vlen), HERALD_OK);
    assert_memory_equal(contact, "romeo@example.net", clen);
    assert_int_equal(roster_iter_next(&ri, &contact, &clen, &v, &vlen), HERALD_ENOTFOUND);
    roster_iter_close(&ri);

    assert_int_equal(store_begin(f->s, &t), HERALD_OK);
    assert_int_equal(roster_forget(t, "juliet@example.com"), HERALD_OK);
    assert_int_equal(roster_count(t, "juliet@example.com", &n), HERALD_OK);
    assert_true(n == 0);
    assert_int_equal(roster_pending_count(t, "juliet@example.com", &n), HERALD_OK);
    assert_true(n == 0);
    assert_int_equal(roster_version_get(t, "juliet@example.com", &ver), HERALD_OK);
    assert_true(ver == 0);
    assert_int_equal(roster_item_get(t, "juliet@example.co", "x@y", &got), HERALD_OK);
    store_abort(&t);
}

static void test_roster_store__rejects_keys_too_long(void **state)
{
    struct fixture *f = *state;
    char owner[300], contact[300];
    memset(owner, 'o', sizeof(owner) - 1);
    owner[sizeof(owner) - 1] = '\0';
    memset(contact, 'c', sizeof(contact) - 1);
    contact[sizeof(contact) - 1] = '\0';
    assert_false(roster_key_fits(owner, contact));
    assert_true(roster_key_fits(owner, "c@d"));
    struct store_txn *t;
    struct roster_item it;
    sample_item(&it);
    assert_int_equal(store_begin(f->s, &t), HERALD_OK);
    assert_int_equal(roster_item_put(t, owner, contact, &it), HERALD_ELIMIT);
    assert_int_equal(roster_item_get(t, owner, contact, &it), HERALD_ENOTFOUND);
    store_abort(&t);
}

static void test_roster_store__version_record_must_be_eight_bytes(void **state)
{
    struct fixture *f = *state;
    struct store_txn *t;
    uint64_t ver = 7;
    assert_int_equal(store_begin(f->s, &t), HERALD_OK);
    assert_int_equal(store_put(t, STORE_DB_ROSTER_VER, "a@b", 3, "\0\0\0\x01", 4), HERALD_OK);
    assert_int_equal(roster_version_get(t, "a@b", &ver), HERALD_EPROTO);
    assert_true(ver == 0);
    store_abort(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roster_store__item_round_trip),
        cmocka_unit_test(test_roster_store__item_layout_is_versioned_big_endian),
        cmocka_unit_test(test_roster_store__item_without_name_or_groups),
        cmocka_unit_test(test_roster_store__item_limits_round_trip),
        cmocka_unit_test(test_roster_store__item_rejects_unknown_versions),
        cmocka_unit_test(test_roster_store__item_rejects_truncation_and_trailing_bytes),
        cmocka_unit_test(test_roster_store__item_rejects_values_out_of_range),
        cmocka_unit_test(test_roster_store__encode_rejects_out_of_range),
        cmocka_unit_test(test_roster_store__pending_round_trip_and_rejects),
        cmocka_unit_test_setup_teardown(test_roster_store__keys_versions_and_iteration, store_setup,
                                        store_teardown),
        cmocka_unit_test_setup_teardown(test_roster_store__rejects_keys_too_long, store_setup,
                                        store_teardown),
        cmocka_unit_test_setup_teardown(test_roster_store__version_record_must_be_eight_bytes,
                                        store_setup, store_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
