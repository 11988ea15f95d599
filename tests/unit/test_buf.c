/*
 * test_buf.c - the byte buffer (limits, sticky errors, escaping, integer and string
 * encodings) and its bounds-checked reader.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "herald/buf.h"

static void test_buf__appends_and_terminates(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 0);
    assert_int_equal(b.len, 0);
    assert_int_equal(buf_append_str(&b, "abc"), HERALD_OK);
    assert_int_equal(buf_append_byte(&b, 'd'), HERALD_OK);
    assert_int_equal(buf_append(&b, "e\0f", 3), HERALD_OK);
    assert_int_equal(buf_printf(&b, "-%d-%s", 42, "x"), HERALD_OK);
    assert_int_equal(b.len, 12);
    assert_memory_equal(b.data, "abcde\0f-42-x", 13); /* and the NUL after */
    assert_int_equal(buf_append(&b, NULL, 0), HERALD_OK);
    assert_int_equal(b.len, 12);
    buf_cleanup(&b);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
}

static void test_buf__grows_past_the_first_block(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 0);
    char chunk[1000];
    memset(chunk, 'q', sizeof(chunk));
    for (int i = 0; i < 100; i++)
        assert_int_equal(buf_append(&b, chunk, sizeof(chunk)), HERALD_OK);
    assert_int_equal(b.len, 100000);
    assert_true(b.cap > b.len);
    assert_int_equal(b.data[b.len], '\0');
    assert_int_equal(b.data[99999], 'q');
    buf_cleanup(&b);
}

static void test_buf__limit_is_exact_and_error_sticky(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 8);
    assert_int_equal(buf_append_str(&b, "12345678"), HERALD_OK); /* exactly the limit */
    assert_int_equal(b.err, HERALD_OK);
    assert_int_equal(buf_append_byte(&b, '9'), HERALD_ELIMIT);
    assert_int_equal(b.err, HERALD_ELIMIT);
    assert_int_equal(b.len, 8); /* nothing partial was written */
    assert_string_equal(b.data, "12345678");
    /* Sticky: even an append that would fit now fails, so builders check once. */
    assert_int_equal(buf_append(&b, "", 0), HERALD_ELIMIT);
    assert_int_equal(buf_printf(&b, "%s", ""), HERALD_ELIMIT);
    assert_int_equal(buf_append_u16be(&b, 1), HERALD_ELIMIT);
    assert_int_equal(b.len, 8);
    /* buf_reset clears the error and the contents, keeping the limit. */
    buf_reset(&b);
    assert_int_equal(b.err, HERALD_OK);
    assert_int_equal(b.len, 0);
    assert_string_equal(b.data, "");
    assert_int_equal(buf_printf(&b, "%s", "123456789"), HERALD_ELIMIT);
    assert_int_equal(b.len, 0);
    buf_cleanup(&b);
}

static void test_buf__printf_over_the_limit_fails_whole(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 10);
    assert_int_equal(buf_printf(&b, "%05d", 7), HERALD_OK);
    assert_int_equal(buf_printf(&b, "%d", 123456), HERALD_ELIMIT);
    assert_string_equal(b.data, "00007");
    buf_cleanup(&b);
}

static void test_buf__steal_hands_over_the_bytes(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 0);
    assert_int_equal(buf_append_str(&b, "mine"), HERALD_OK);
    size_t len = 0;
    char *p = buf_steal(&b, &len);
    assert_non_null(p);
    assert_int_equal(len, 4);
    assert_string_equal(p, "mine");
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    free(p);
    assert_int_equal(buf_append_str(&b, "again"), HERALD_OK); /* still usable */
    assert_string_equal(b.data, "again");
    buf_cleanup(&b);
}

static void test_buf__escapes_text(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 0);
    const char in[] = "a&b<c>d'e\"f\rg\th\ni";
    assert_int_equal(buf_append_xml_escaped(&b, in, sizeof(in) - 1), HERALD_OK);
    /* Character data keeps TAB and LF as they are; CR is escaped (XML would drop it). */
    assert_string_equal(b.data, "a&amp;b&lt;c&gt;d&apos;e&quot;f&#13;g\th\ni");
    buf_cleanup(&b);
}

static void test_buf__escapes_attributes(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 0);
    const char in[] = "<'\t\n\r&>";
    assert_int_equal(buf_append_xml_attr_escaped(&b, in, sizeof(in) - 1), HERALD_OK);
    /* Attribute values also escape TAB and LF (attribute-value normalisation). */
    assert_string_equal(b.data, "&lt;&apos;&#9;&#10;&#13;&amp;&gt;");
    buf_reset(&b);
    assert_int_equal(buf_append_xml_attr_escaped(&b, "plain", 5), HERALD_OK);
    assert_string_equal(b.data, "plain");
    buf_reset(&b);
    assert_int_equal(buf_append_xml_attr_escaped(&b, "", 0), HERALD_OK);
    assert_int_equal(b.len, 0);
    buf_cleanup(&b);
}

static void test_buf__escaping_respects_the_limit(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 6);
    /* "&amp;" alone fits (5 bytes), "&amp;&amp;" does not. */
    assert_int_equal(buf_append_xml_escaped(&b, "&", 1), HERALD_OK);
    assert_int_equal(buf_append_xml_escaped(&b, "&", 1), HERALD_ELIMIT);
    assert_int_equal(b.err, HERALD_ELIMIT);
    assert_string_equal(b.data, "&amp;");
    buf_cleanup(&b);
}

static void test_buf__big_endian_round_trip(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 0);
    assert_int_equal(buf_append_u16be(&b, 0x0102), HERALD_OK);
    assert_int_equal(buf_append_u32be(&b, 0x03040506), HERALD_OK);
    assert_int_equal(buf_append_u64be(&b, 0x0708090a0b0c0d0eULL), HERALD_OK);
    assert_int_equal(buf_append_lstr(&b, "hi", 2), HERALD_OK);
    assert_int_equal(buf_append_lstr(&b, NULL, 0), HERALD_OK);
    static const unsigned char want[] = {1,  2,  3, 4, 5, 6, 7,   8,   9, 10, 11, 12,
                                         13, 14, 0, 0, 0, 2, 'h', 'i', 0, 0,  0,  0};
    assert_int_equal(b.len, sizeof(want));
    assert_memory_equal(b.data, want, sizeof(want));

    struct buf_reader r;
    uint16_t v16;
    uint32_t v32;
    uint64_t v64;
    const char *s;
    size_t slen;
    buf_reader_init(&r, b.data, b.len);
    assert_int_equal(buf_read_u16be(&r, &v16), HERALD_OK);
    assert_int_equal(v16, 0x0102);
    assert_int_equal(buf_read_u32be(&r, &v32), HERALD_OK);
    assert_int_equal(v32, 0x03040506);
    assert_int_equal(buf_read_u64be(&r, &v64), HERALD_OK);
    assert_true(v64 == 0x0708090a0b0c0d0eULL);
    assert_int_equal(buf_read_lstr(&r, &s, &slen), HERALD_OK);
    assert_int_equal(slen, 2);
    assert_memory_equal(s, "hi", 2);
    assert_ptr_equal(s, b.data + 18); /* points into the data, not copied */
    assert_int_equal(buf_read_lstr(&r, &s, &slen), HERALD_OK);
    assert_int_equal(slen, 0);
    assert_int_equal(r.left, 0);
    uint8_t v8;
    assert_int_equal(buf_read_u8(&r, &v8), HERALD_EPROTO);
    buf_cleanup(&b);
}

static void test_buf__extremes_of_each_width(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 0);
    assert_int_equal(buf_append_u16be(&b, UINT16_MAX), HERALD_OK);
    assert_int_equal(buf_append_u32be(&b, UINT32_MAX), HERALD_OK);
    assert_int_equal(buf_append_u64be(&b, UINT64_MAX), HERALD_OK);
    assert_int_equal(buf_append_u64be(&b, 0), HERALD_OK);
    struct buf_reader r;
    uint16_t v16 = 0;
    uint32_t v32 = 0;
    uint64_t v64 = 0, z = 1;
    buf_reader_init(&r, b.data, b.len);
    assert_int_equal(buf_read_u16be(&r, &v16), HERALD_OK);
    assert_int_equal(buf_read_u32be(&r, &v32), HERALD_OK);
    assert_int_equal(buf_read_u64be(&r, &v64), HERALD_OK);
    assert_int_equal(buf_read_u64be(&r, &z), HERALD_OK);
    assert_int_equal(v16, UINT16_MAX);
    assert_int_equal(v32, UINT32_MAX);
    assert_true(v64 == UINT64_MAX);
    assert_true(z == 0);
    buf_cleanup(&b);
}

static void test_buf__reader_never_reads_past_the_end(void **state)
{
    (void)state;
    static const unsigned char data[] = {0, 0, 0, 9, 'a', 'b', 'c'};
    struct buf_reader r;
    uint16_t v16 = 7;
    uint32_t v32 = 7;
    uint64_t v64 = 7;
    const char *s = NULL;
    size_t slen = 7;
    /* Each width fails on one byte too few and consumes nothing. */
    buf_reader_init(&r, data, 1);
    assert_int_equal(buf_read_u16be(&r, &v16), HERALD_EPROTO);
    assert_int_equal(v16, 7);
    assert_int_equal(r.left, 1);
    buf_reader_init(&r, data, 3);
    assert_int_equal(buf_read_u32be(&r, &v32), HERALD_EPROTO);
    assert_int_equal(r.left, 3);
    buf_reader_init(&r, data, 7);
    assert_int_equal(buf_read_u64be(&r, &v64), HERALD_EPROTO);
    assert_int_equal(v64, 7);
    /* A string whose length says more than is there. */
    buf_reader_init(&r, data, sizeof(data));
    assert_int_equal(buf_read_lstr(&r, &s, &slen), HERALD_EPROTO);
    assert_null(s);
    /* An empty reader. */
    uint8_t v8;
    buf_reader_init(&r, NULL, 0);
    assert_int_equal(buf_read_u8(&r, &v8), HERALD_EPROTO);
    assert_int_equal(buf_read_lstr(&r, &s, &slen), HERALD_EPROTO);
}

static void test_buf__lstr_length_must_fit_u32(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 0);
    /* The length is checked before any byte is read: no huge buffer is needed. */
    assert_int_equal(buf_append_lstr(&b, "", (size_t)UINT32_MAX + 1), HERALD_ELIMIT);
    assert_int_equal(b.err, HERALD_ELIMIT);
    assert_int_equal(b.len, 0);
    buf_cleanup(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf__appends_and_terminates),
        cmocka_unit_test(test_buf__grows_past_the_first_block),
        cmocka_unit_test(test_buf__limit_is_exact_and_error_sticky),
        cmocka_unit_test(test_buf__printf_over_the_limit_fails_whole),
        cmocka_unit_test(test_buf__steal_hands_over_the_bytes),
        cmocka_unit_test(test_buf__escapes_text),
        cmocka_unit_test(test_buf__escapes_attributes),
        cmocka_unit_test(test_buf__escaping_respects_the_limit),
        cmocka_unit_test(test_buf__big_endian_round_trip),
        cmocka_unit_test(test_buf__extremes_of_each_width),
        cmocka_unit_test(test_buf__reader_never_reads_past_the_end),
        cmocka_unit_test(test_buf__lstr_length_must_fit_u32),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
