/*
 * test_outq.c - the connection output queue: references and copies in order, partial
 * writes, peeking for TLS records, reference counts released.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../broker/net/net_int.h"

static void test_outq__order_of_refs_and_copies(void **state)
{
    (void)state;
    struct outq q = {0};
    struct refbuf *body = refbuf_new("<body/>", 7);
    assert_non_null(body);
    assert_int_equal(outq_push_copy(&q, "<a>", 3), HERALD_OK);
    assert_int_equal(outq_push_copy(&q, "<b>", 3), HERALD_OK); /* extends the same chunk */
    assert_int_equal(q.count, 1);
    assert_int_equal(outq_push_ref(&q, body), HERALD_OK);
    assert_int_equal(body->refs, 2);
    assert_int_equal(outq_push_copy(&q, "</c>", 4), HERALD_OK); /* a new chunk after a ref */
    assert_int_equal(q.count, 3);
    assert_int_equal(q.bytes, 17);
    char out[64] = {0};
    assert_int_equal(outq_peek(&q, out, sizeof(out)), 17);
    assert_string_equal(out, "<a><b><body/></c>");
    /* consuming across segments releases the reference */
    outq_consume(&q, 10);
    assert_int_equal(q.bytes, 7);
    memset(out, 0, sizeof(out));
    assert_int_equal(outq_peek(&q, out, 3), 3);
    assert_string_equal(out, "y/>");
    outq_consume(&q, 3);
    assert_int_equal(body->refs, 1);
    outq_clear(&q);
    assert_int_equal(q.bytes, 0);
    assert_null(q.seg);
    refbuf_unref(&body);
}

static void test_outq__ring_grows_and_wraps(void **state)
{
    (void)state;
    struct outq q = {0};
    struct refbuf *r = refbuf_new("x", 1);
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 1000; i++)
            assert_int_equal(outq_push_ref(&q, r), HERALD_OK);
        assert_int_equal(q.bytes, 1000);
        assert_int_equal(r->refs, 1001);
        outq_consume(&q, 999);
        assert_int_equal(q.bytes, 1);
        outq_consume(&q, 1);
    }
    assert_int_equal(r->refs, 1);
    assert_null(q.seg); /* a drained big ring is released */
    outq_clear(&q);
    refbuf_unref(&r);
}

static void test_outq__writev_partial(void **state)
{
    (void)state;
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    struct outq q = {0};
    struct refbuf *r = refbuf_new("0123456789", 10);
    for (int i = 0; i < 10; i++)
        assert_int_equal(outq_push_ref(&q, r), HERALD_OK);
    /* a budget cuts a segment in the middle; the rest stays queued */
    assert_int_equal(outq_writev(&q, sv[0], 15), 15);
    assert_int_equal(q.bytes, 85);
    assert_int_equal(outq_writev(&q, sv[0], 1000), 85);
    assert_int_equal(q.bytes, 0);
    char in[128];
    ssize_t n = read(sv[1], in, sizeof(in));
    assert_int_equal(n, 100);
    for (int i = 0; i < 100; i++)
        assert_int_equal(in[i], '0' + i % 10);
    assert_int_equal(r->refs, 1);
    outq_clear(&q);
    refbuf_unref(&r);
    close(sv[0]);
    close(sv[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_outq__order_of_refs_and_copies),
        cmocka_unit_test(test_outq__ring_grows_and_wraps),
        cmocka_unit_test(test_outq__writev_partial),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
