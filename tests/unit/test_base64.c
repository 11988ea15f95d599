/*
 * test_base64.c - RFC 4648 vectors and the strictness RFC 6120 §13.9.1 requires.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "herald/base64.h"

static const struct {
    const char *plain;
    const char *encoded;
} rfc4648_vectors[] = {
    {"", ""},
    {"f", "Zg=="},
    {"fo", "Zm8="},
    {"foo", "Zm9v"},
    {"foob", "Zm9vYg=="},
    {"fooba", "Zm9vYmE="},
    {"foobar", "Zm9vYmFy"},
};

static void test_base64__encodes_rfc4648_vectors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(rfc4648_vectors) / sizeof(rfc4648_vectors[0]); i++) {
        struct buf b;
        buf_init(&b, 0);
        const char *p = rfc4648_vectors[i].plain;
        assert_int_equal(base64_encode(&b, p, strlen(p)), HERALD_OK);
        assert_non_null(b.data);
        assert_string_equal(b.data, rfc4648_vectors[i].encoded);
        assert_int_equal(b.len, base64_encoded_len(strlen(p)));
        buf_cleanup(&b);
    }
}

static void test_base64__decodes_rfc4648_vectors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(rfc4648_vectors) / sizeof(rfc4648_vectors[0]); i++) {
        struct buf b;
        buf_init(&b, 0);
        const char *e = rfc4648_vectors[i].encoded;
        assert_int_equal(base64_decode(&b, e, strlen(e)), HERALD_OK);
        assert_int_equal(b.len, strlen(rfc4648_vectors[i].plain));
        assert_memory_equal(b.data, rfc4648_vectors[i].plain, b.len + 1); /* and the NUL */
        assert_true(b.len <= base64_decoded_max(strlen(e)));
        buf_cleanup(&b);
    }
}

static void test_base64__lone_equals_is_empty(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 0);
    assert_int_equal(base64_decode(&b, "=", 1), HERALD_OK);
    assert_int_equal(b.len, 0);
    assert_non_null(b.data);
    assert_string_equal(b.data, "");
    buf_cleanup(&b);
}

static void test_base64__rejects_non_canonical_input(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "Zg",        /* missing padding */
        "Zg=",       /* short padding */
        "Zg===",     /* too much padding */
        "Z===",      /* three pad characters */
        "====",      /* only padding */
        "==",        /* only padding */
        "=AAA",      /* RFC 6120 §13.9.1 example */
        "BBBB=CCC",  /* RFC 6120 §13.9.1 example */
        "Zm9v=",     /* pad after a full group */
        "Zh==",      /* non-zero padding bits */
        "Zm9=",      /* non-zero padding bits */
        "Zm9v\n",    /* line break */
        " Zm9v",     /* leading space */
        "Zm 9v",     /* inner space */
        "Zm9v-_8=",  /* base64url alphabet */
        "Zm9vYmFy!", /* junk */
        "Zm9\0",     /* NUL inside */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct buf b;
        buf_init(&b, 0);
        size_t len = strlen(bad[i]);
        if (i == sizeof(bad) / sizeof(bad[0]) - 1)
            len = 4;
        assert_int_equal(base64_decode(&b, bad[i], len), HERALD_EPROTO);
        assert_int_equal(b.len, 0);
        assert_int_equal(b.err, HERALD_OK);
        buf_cleanup(&b);
    }
}

static void test_base64__failed_decode_keeps_earlier_content(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 0);
    assert_int_equal(buf_append_str(&b, "abc"), HERALD_OK);
    assert_int_equal(base64_decode(&b, "Zm9vYm=y", 8), HERALD_EPROTO);
    assert_int_equal(b.len, 3);
    assert_string_equal(b.data, "abc");
    assert_int_equal(base64_decode(&b, "Zm9v", 4), HERALD_OK);
    assert_string_equal(b.data, "abcfoo");
    buf_cleanup(&b);
}

static void test_base64__respects_buffer_limit(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 4);
    assert_int_equal(base64_decode(&b, "Zm9vYmFy", 8), HERALD_ELIMIT);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.err, HERALD_ELIMIT);
    /* Sticky: a later call reports the same error. */
    assert_int_equal(base64_decode(&b, "Zg==", 4), HERALD_ELIMIT);
    buf_cleanup(&b);

    buf_init(&b, 7);
    assert_int_equal(base64_encode(&b, "foobar", 6), HERALD_ELIMIT);
    assert_int_equal(base64_encode(&b, "f", 1), HERALD_ELIMIT);
    buf_cleanup(&b);
}

static void test_base64__round_trips_all_byte_values(void **state)
{
    (void)state;
    uint8_t data[300];
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i * 7 + 3);
    for (size_t len = 0; len <= sizeof(data); len += 1 + len / 8) {
        struct buf enc, dec;
        buf_init(&enc, 0);
        buf_init(&dec, 0);
        assert_int_equal(base64_encode(&enc, data, len), HERALD_OK);
        assert_int_equal(enc.len % 4, 0);
        assert_int_equal(base64_decode(&dec, enc.data, enc.len), HERALD_OK);
        assert_int_equal(dec.len, len);
        if (len)
            assert_memory_equal(dec.data, data, len);
        buf_cleanup(&enc);
        buf_cleanup(&dec);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_base64__encodes_rfc4648_vectors),
        cmocka_unit_test(test_base64__decodes_rfc4648_vectors),
        cmocka_unit_test(test_base64__lone_equals_is_empty),
        cmocka_unit_test(test_base64__rejects_non_canonical_input),
        cmocka_unit_test(test_base64__failed_decode_keeps_earlier_content),
        cmocka_unit_test(test_base64__respects_buffer_limit),
        cmocka_unit_test(test_base64__round_trips_all_byte_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
