/*
 * test_xml.c - the stream parser, the tree helpers and the writer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "herald/xml.h"
#include "herald/xml_stream.h"

#define HDR                                                                                        \
    "<?xml version='1.0'?><stream:stream to='example.com' xmlns='jabber:client' "                  \
    "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>"

static const struct xml_stream_limits limits = {4096, 16, 16, 2048};

/* Feed `in` in pieces of `chunk` bytes; collect stanza serialisations into out. */
struct run {
    int opens, stanzas, closes;
    enum xml_stream_error err;
    char first[512];
    char last[512];
};

static void run_stream(const char *in, size_t chunk, struct run *r)
{
    memset(r, 0, sizeof(*r));
    struct xml_stream *s = xml_stream_new(&limits);
    assert_non_null(s);
    size_t len = strlen(in);
    for (size_t off = 0; off < len && !r->err; off += chunk) {
        size_t n = len - off < chunk ? len - off : chunk;
        enum xml_stream_event ev = xml_stream_feed(s, in + off, n);
        while (ev != XML_STREAM_NONE) {
            if (ev == XML_STREAM_ERROR) {
                r->err = xml_stream_error(s);
                break;
            }
            if (ev == XML_STREAM_OPEN)
                r->opens++;
            if (ev == XML_STREAM_CLOSE)
                r->closes++;
            if (ev == XML_STREAM_STANZA) {
                struct buf b;
                buf_init(&b, 0);
                assert_int_equal(xml_write(&b, xml_stream_stanza(s), "jabber:client"), 0);
                snprintf(r->stanzas ? r->last : r->first, sizeof(r->first), "%s", b.data);
                r->stanzas++;
                buf_cleanup(&b);
            }
            ev = xml_stream_next(s);
        }
        xml_stream_park(s);
    }
    xml_stream_free(&s);
}

static void test_xml__stanzas_any_chunking(void **state)
{
    (void)state;
    const char *in =
        HDR "<message to='a@b' type='chat'><body>hi &amp; &lt;there&gt;</body></message>"
            "  <presence/>\n<iq type='get' id='1'><query xmlns='jabber:iq:roster'/></iq>"
            "</stream:stream>";
    for (size_t chunk = 1; chunk < 40; chunk++) {
        struct run r;
        run_stream(in, chunk, &r);
        assert_int_equal(r.err, XML_SE_NONE);
        assert_int_equal(r.opens, 1);
        assert_int_equal(r.stanzas, 3);
        assert_int_equal(r.closes, 1);
        assert_string_equal(
            r.first, "<message to='a@b' type='chat'><body>hi &amp; &lt;there&gt;</body></message>");
        assert_string_equal(r.last, "<iq type='get' id='1'><query xmlns='jabber:iq:roster'/></iq>");
    }
}

static void test_xml__restricted_xml(void **state)
{
    (void)state;
    const char *cases[] = {
        HDR "<!-- a comment --><presence/>",
        HDR "<?foo bar?>",
        "<?xml version='1.0'?><!DOCTYPE stream [<!ENTITY x 'y'>]>" HDR,
        HDR "<message><body>&foo;</body></message>",
    };
    for (size_t i = 0; i < HERALD_ARRAY_LEN(cases); i++) {
        struct run r;
        run_stream(cases[i], 7, &r);
        assert_int_equal(r.err, XML_SE_RESTRICTED_XML);
    }
}

static void test_xml__not_well_formed_and_prefix(void **state)
{
    (void)state;
    struct run r;
    run_stream(HDR "<message><body></message>", 100, &r);
    assert_int_equal(r.err, XML_SE_NOT_WELL_FORMED);
    run_stream(HDR "<foo:message/>", 100, &r);
    assert_int_equal(r.err, XML_SE_BAD_NAMESPACE_PREFIX);
    run_stream(HDR "hello", 100, &r);
    assert_int_equal(r.err, XML_SE_BAD_FORMAT);
    run_stream("<?xml version='1.0' encoding='ISO-8859-1'?>" HDR, 100, &r);
    assert_int_equal(r.err, XML_SE_UNSUPPORTED_ENCODING);
}

static void test_xml__limits(void **state)
{
    (void)state;
    struct run r;
    char big[8000];
    snprintf(big, sizeof(big), HDR "<message><body>%*s</body></message>", 5000, "x");
    run_stream(big, 512, &r);
    assert_int_equal(r.err, XML_SE_POLICY_VIOLATION);
    /* an unfinished start tag that never ends must also be caught */
    snprintf(big, sizeof(big), HDR "<message a='%*s", 5000, "x");
    run_stream(big, 512, &r);
    assert_int_equal(r.err, XML_SE_POLICY_VIOLATION);
    char deep[1024] = HDR;
    for (int i = 0; i < 20; i++)
        strcat(deep, "<a>");
    run_stream(deep, 50, &r);
    assert_int_equal(r.err, XML_SE_POLICY_VIOLATION);
    char attrs[1024] = HDR "<message";
    for (int i = 0; i < 20; i++)
        sprintf(attrs + strlen(attrs), " a%d='1'", i);
    strcat(attrs, "/>");
    run_stream(attrs, 50, &r);
    assert_int_equal(r.err, XML_SE_POLICY_VIOLATION);
    /* keepalive white space between stanzas does not accumulate towards the limit */
    char ws[16000] = HDR;
    for (int i = 0; i < 10; i++) {
        memset(ws + strlen(ws), ' ', 1000);
        ws[strlen(HDR) + (size_t)(i + 1) * 1000] = '\0';
    }
    strcat(ws, "<presence/>");
    run_stream(ws, 300, &r);
    assert_int_equal(r.err, XML_SE_NONE);
    assert_int_equal(r.stanzas, 1);
}

static void test_xml__restart_carries_rest(void **state)
{
    (void)state;
    struct xml_stream *s = xml_stream_new(&limits);
    assert_non_null(s);
    const char *in =
        HDR "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>AA==</auth>"
            "<stream:stream xmlns='jabber:client' "
            "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'><presence/>";
    assert_int_equal(xml_stream_feed(s, in, strlen(in)), XML_STREAM_OPEN);
    assert_int_equal(xml_stream_next(s), XML_STREAM_STANZA);
    assert_true(xml_is(xml_stream_stanza(s), "urn:ietf:params:xml:ns:xmpp-sasl", "auth"));
    assert_string_equal(xml_text(xml_stream_stanza(s)), "AA==");
    assert_int_equal(xml_stream_restart(s), HERALD_OK);
    assert_int_equal(xml_stream_next(s), XML_STREAM_OPEN);
    assert_string_equal(xml_attr(xml_stream_header(s), "version"), "1.0");
    assert_int_equal(xml_stream_next(s), XML_STREAM_STANZA);
    assert_true(xml_is(xml_stream_stanza(s), "jabber:client", "presence"));
    assert_int_equal(xml_stream_next(s), XML_STREAM_NONE);
    xml_stream_free(&s);
}

static void test_xml__park_and_resume(void **state)
{
    (void)state;
    struct xml_stream *s = xml_stream_new(&limits);
    assert_non_null(s);
    const char *in = "<s:stream xmlns='jabber:client' xmlns:s='http://etherx.jabber.org/streams' "
                     "xmlns:x='urn:x'><presence/>";
    assert_int_equal(xml_stream_feed(s, in, strlen(in)), XML_STREAM_OPEN);
    assert_int_equal(xml_stream_next(s), XML_STREAM_STANZA);
    assert_int_equal(xml_stream_next(s), XML_STREAM_NONE);
    xml_stream_park(s);
    assert_true(xml_stream_is_parked(s));
    /* the prefix x declared on the header is still bound after re-priming */
    const char *more = "<message><x:thing/></message></s:stream>";
    assert_int_equal(xml_stream_feed(s, more, strlen(more)), XML_STREAM_STANZA);
    struct xml_node *st = xml_stream_stanza(s);
    assert_true(xml_is(xml_first_elem(st), "urn:x", "thing"));
    assert_int_equal(xml_stream_next(s), XML_STREAM_CLOSE);
    xml_stream_free(&s);
    /* a partial stanza must not be parked away */
    s = xml_stream_new(&limits);
    assert_non_null(s);
    assert_int_equal(xml_stream_feed(s, HDR "<pres", strlen(HDR) + 5), XML_STREAM_OPEN);
    assert_int_equal(xml_stream_next(s), XML_STREAM_NONE);
    xml_stream_park(s);
    assert_false(xml_stream_is_parked(s));
    assert_int_equal(xml_stream_feed(s, "ence/>", 6), XML_STREAM_STANZA);
    xml_stream_free(&s);
}

static void test_xml__writer_namespaces(void **state)
{
    (void)state;
    struct arena *a = arena_new(0);
    const char *doc =
        "<e:entry xmlns:e='http://www.w3.org/2005/Atom' xmlns:g='urn:geo' xml:lang='en' "
        "g:lat='1&quot;'><e:title type='text'>a&#13;&lt;b</e:title><p xmlns='urn:p'>t</p>"
        "</e:entry>";
    struct xml_node *root;
    assert_int_equal(xml_parse_fragment(a, doc, strlen(doc), 8, &root), HERALD_OK);
    assert_true(xml_is(root, "http://www.w3.org/2005/Atom", "entry"));
    assert_string_equal(xml_attr_ns(root, XML_NS_XML, "lang"), "en");
    assert_string_equal(xml_attr_ns(root, "urn:geo", "lat"), "1\"");
    struct buf b;
    buf_init(&b, 0);
    assert_int_equal(xml_write(&b, root, "jabber:client"), HERALD_OK);
    /* re-parse what we wrote: same tree */
    struct xml_node *again;
    assert_int_equal(xml_parse_fragment(a, b.data, b.len, 8, &again), HERALD_OK);
    assert_string_equal(xml_attr_ns(again, "urn:geo", "lat"), "1\"");
    assert_string_equal(xml_child_text(again, "http://www.w3.org/2005/Atom", "title"), "a\r<b");
    assert_string_equal(xml_child_text(again, "urn:p", "p"), "t");
    /* built trees get their namespace declared once */
    struct xml_node *iq = xml_elem_new(a, "jabber:client", "iq");
    struct xml_node *q = xml_add_child(a, iq, "jabber:iq:roster", "query");
    assert_non_null(xml_add_child(a, q, "jabber:iq:roster", "item"));
    buf_reset(&b);
    assert_int_equal(xml_write(&b, iq, "jabber:client"), HERALD_OK);
    assert_string_equal(b.data, "<iq><query xmlns='jabber:iq:roster'><item/></query></iq>");
    buf_reset(&b);
    assert_int_equal(xml_write(&b, iq, NULL), HERALD_OK);
    assert_string_equal(
        b.data, "<iq xmlns='jabber:client'><query xmlns='jabber:iq:roster'><item/></query></iq>");
    /* RFC 6120 §4.8.5: a prefixed content namespace leaves corrected, other prefixes stay */
    const char *pfx = "<foo:message xmlns:foo='jabber:client'><foo:body>x</foo:body>"
                      "<x:y xmlns:x='urn:x'/></foo:message>";
    assert_int_equal(xml_parse_fragment(a, pfx, strlen(pfx), 8, &root), HERALD_OK);
    buf_reset(&b);
    assert_int_equal(xml_write(&b, root, "jabber:client"), HERALD_OK);
    assert_string_equal(b.data, "<message><body>x</body><x:y xmlns:x='urn:x'/></message>");
    buf_cleanup(&b);
    assert_int_not_equal(xml_parse_fragment(a, "<a><!-- c --></a>", 17, 8, &root), HERALD_OK);
    assert_int_not_equal(xml_parse_fragment(a, "<a>", 3, 8, &root), HERALD_OK);
    assert_int_not_equal(xml_parse_fragment(a, "<a/><b/>", 8, 8, &root), HERALD_OK);
    assert_int_not_equal(xml_parse_fragment(a, "<a><b><c/></b></a>", 18, 2, &root), HERALD_OK);
    arena_free(&a);
}

static void test_xml__arena_limit(void **state)
{
    (void)state;
    struct arena *a = arena_new(1000);
    assert_non_null(arena_alloc(a, 500));
    assert_null(arena_alloc(a, 600));
    assert_non_null(arena_alloc(a, 400));
    arena_free(&a);
    assert_null(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_xml__stanzas_any_chunking),
        cmocka_unit_test(test_xml__restricted_xml),
        cmocka_unit_test(test_xml__not_well_formed_and_prefix),
        cmocka_unit_test(test_xml__limits),
        cmocka_unit_test(test_xml__restart_carries_rest),
        cmocka_unit_test(test_xml__park_and_resume),
        cmocka_unit_test(test_xml__writer_namespaces),
        cmocka_unit_test(test_xml__arena_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
