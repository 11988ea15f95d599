/*
 * test_jid.c - JID parsing and canonicalisation (RFC 7622) and the PRECIS profiles under it
 * (RFC 8264, RFC 8265), IDNA2008 domainparts (RFC 5890-5893).
 *
 * Non-ASCII text is written literally where it is visible and as \u escapes (UTF-8 in the
 * execution character set) where it is not: combining marks, joiners, spaces. \x escapes are
 * kept for C1 controls and for deliberately malformed UTF-8.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "herald/jid.h"
#include "herald/precis.h"

static int setup(void **state)
{
    struct arena *a = arena_new(0);
    if (a == NULL)
        return -1;
    *state = a;
    return 0;
}

static int teardown(void **state)
{
    struct arena *a = *state;
    arena_free(&a);
    return 0;
}

static void check_part(const char *in, const char *what, const char *got, const char *want)
{
    if (got == NULL && want == NULL)
        return;
    if (got == NULL || want == NULL || strcmp(got, want) != 0)
        fail_msg("\"%s\": %s is \"%s\", want \"%s\"", in, what, got ? got : "(none)",
                 want ? want : "(none)");
}

/* `in` parses and its canonical parts are local, domain, resource (NULL: absent). */
static void expect_jid(struct arena *a, const char *in, const char *local, const char *domain,
                       const char *resource)
{
    struct jid j;
    enum herald_rc rc = jid_parse(a, in, &j);
    if (rc != HERALD_OK)
        fail_msg("\"%s\" rejected: %s", in, herald_rc_str(rc));
    check_part(in, "localpart", j.local, local);
    check_part(in, "domainpart", j.domain, domain);
    check_part(in, "resourcepart", j.resource, resource);
}

static void expect_bad_n(struct arena *a, const char *in, size_t len)
{
    struct jid j = {"untouched", "untouched", "untouched"};
    enum herald_rc rc = jid_parse_n(a, in, len, &j);
    if (rc != HERALD_EINVAL)
        fail_msg("\"%.*s\" (%zu octets) gave %s, want EINVAL", (int)(len > 200 ? 200 : len), in,
                 len, herald_rc_str(rc));
    assert_string_equal(j.local, "untouched"); /* *out is left alone on failure */
}

static void expect_bad(struct arena *a, const char *in)
{
    expect_bad_n(a, in, strlen(in));
}

/* A string of `n` copies of `unit` followed by `tail`, in buf. */
static char *repeat(char *buf, size_t size, const char *unit, size_t n, const char *tail)
{
    size_t ul = strlen(unit), tl = strlen(tail);
    assert_true(ul * n + tl < size);
    for (size_t i = 0; i < n; i++)
        memcpy(buf + i * ul, unit, ul);
    memcpy(buf + n * ul, tail, tl + 1);
    return buf;
}

/* RFC 7622 §3.5, Table 1: the valid JIDs, with their canonical parts. */
static void test_jid__rfc7622_valid_examples(void **state)
{
    struct arena *a = *state;
    expect_jid(a, "juliet@example.com", "juliet", "example.com", NULL);
    expect_jid(a, "juliet@example.com/foo", "juliet", "example.com", "foo");
    expect_jid(a, "juliet@example.com/foo bar", "juliet", "example.com", "foo bar");
    expect_jid(a, "juliet@example.com/foo@bar", "juliet", "example.com", "foo@bar");
    expect_jid(a, "foo\\20bar@example.com", "foo\\20bar", "example.com", NULL);
    expect_jid(a, "fussball@example.com", "fussball", "example.com", NULL);
    expect_jid(a, "fußball@example.com", "fußball", "example.com", NULL);
    expect_jid(a, "π@example.com", "π", "example.com", NULL);
    expect_jid(a, "Σ@example.com/foo", "σ", "example.com", "foo");
    expect_jid(a, "σ@example.com/foo", "σ", "example.com", "foo");
    expect_jid(a, "ς@example.com/foo", "ς", "example.com", "foo");
    expect_jid(a, "king@example.com/♚", "king", "example.com", "♚");
    expect_jid(a, "example.com", NULL, "example.com", NULL);
    expect_jid(a, "example.com/foobar", NULL, "example.com", "foobar");
    expect_jid(a, "a.example.com/b@example.net", NULL, "a.example.com", "b@example.net");
}

/* RFC 7622 §3.5, Table 2: the invalid JIDs (one exception, see the next test). */
static void test_jid__rfc7622_invalid_examples(void **state)
{
    struct arena *a = *state;
    expect_bad(a, "\"juliet\"@example.com"); /* U+0022 in the localpart */
    expect_bad(a, "foo bar@example.com");    /* SPACE in the localpart */
    expect_bad(a, "@example.com/");          /* empty localpart and resourcepart */
    expect_bad(a, "henryⅣ@example.com");     /* ROMAN NUMERAL FOUR: HasCompat */
    expect_bad(a, "♚@example.com");          /* BLACK CHESS KING: a symbol */
    expect_bad(a, "juliet@");                /* empty domainpart */
    expect_bad(a, "/foobar");                /* empty domainpart */
}

/*
 * Table 2 also lists "juliet@example.com/ foo" (leading space in the resourcepart), but no
 * rule of RFC 7622 or of the OpaqueString profile (RFC 8265 §4.2) forbids it: SPACE is
 * FREE_PVAL in the FreeformClass and nothing trims. We follow the rules, as other servers
 * do; refusing an address peers consider valid would lose stanzas.
 */
static void test_jid__leading_space_resource_follows_opaquestring(void **state)
{
    struct arena *a = *state;
    expect_jid(a, "juliet@example.com/ foo", "juliet", "example.com", " foo");
    expect_jid(a, "juliet@example.com/ ", "juliet", "example.com", " ");
}

static void test_jid__split_at_first_slash_then_first_at(void **state)
{
    struct arena *a = *state;
    expect_jid(a, "a@b/c@d/e", "a", "b", "c@d/e");
    expect_jid(a, "b/c@d", NULL, "b", "c@d");
    expect_jid(a, "example.com//@", NULL, "example.com", "/@");
    expect_jid(a, "a/b@example.com", NULL, "a", "b@example.com");
    expect_bad(a, "a@b@example.com"); /* domainpart "b@example.com" */
    expect_bad(a, "a@@example.com");  /* domainpart "@example.com" */
}

static void test_jid__localpart_and_domain_case_folded_resource_kept(void **state)
{
    struct arena *a = *state;
    expect_jid(a, "JuLiEt@Example.COM/Balcony", "juliet", "example.com", "Balcony");
    expect_jid(a, "ÉLODIE@BÜCHER.example/RÉS", "élodie", "bücher.example", "RÉS");
    expect_jid(a, "ΣΑΣ@example.com", "σας", "example.com", NULL); /* toLowerCase, Final_Sigma */
    /* KELVIN SIGN is HasCompat (NFKC gives 'K'): not in identifiers; NFC'd in resources. */
    expect_bad(a, "\u212aelvin@example.com");
    expect_jid(a, "kelvin@example.com/\u212a", "kelvin", "example.com", "K");

    struct jid x, y;
    assert_int_equal(jid_parse(a, "Juliet@EXAMPLE.com/r", &x), HERALD_OK);
    assert_int_equal(jid_parse(a, "juliet@example.COM/r", &y), HERALD_OK);
    assert_true(jid_equal(&x, &y));
    assert_int_equal(jid_parse(a, "juliet@example.com/R", &y), HERALD_OK);
    assert_false(jid_equal(&x, &y));
    assert_true(jid_bare_equal(&x, &y));
}

static void test_jid__empty_parts(void **state)
{
    struct arena *a = *state;
    expect_bad(a, "");
    expect_bad(a, "@");
    expect_bad(a, "/");
    expect_bad(a, "@/");
    expect_bad(a, "@example.com");
    expect_bad(a, "juliet@");
    expect_bad(a, "juliet@/r");
    expect_bad(a, "example.com/");
    expect_bad(a, "juliet@example.com/");
    expect_bad(a, ".");
    expect_bad(a, "juliet@./r");
    expect_bad_n(a, NULL, 0);
    struct jid j;
    assert_int_equal(jid_parse(a, NULL, &j), HERALD_EINVAL);
}

static void test_jid__overlong_parts(void **state)
{
    struct arena *a = *state;
    static char buf[8192];
    struct jid j;

    assert_int_equal(jid_parse(a, repeat(buf, sizeof(buf), "a", 1023, "@example.com"), &j),
                     HERALD_OK);
    assert_int_equal(strlen(j.local), 1023);
    expect_bad(a, repeat(buf, sizeof(buf), "a", 1024, "@example.com"));
    assert_int_equal(jid_parse(a, repeat(buf, sizeof(buf), "b", 1023, ""), &j), HERALD_EINVAL);

    /* The limit counts octets after preparation, not before. */
    expect_bad(a, repeat(buf, sizeof(buf), "é", 512, "@example.com"));
    assert_int_equal(jid_parse(a, repeat(buf, sizeof(buf), "é", 511, "a@example.com"), &j),
                     HERALD_OK);
    assert_int_equal(strlen(j.local), 1023);
    /* 1534 raw octets compose to 1023 (e + COMBINING ACUTE -> é). */
    assert_int_equal(jid_parse(a, repeat(buf, sizeof(buf), "e\u0301", 511, "a@example.com"), &j),
                     HERALD_OK);
    assert_int_equal(strlen(j.local), 1023);
    /* 3069 raw octets of FULLWIDTH A width-map to 1023 'a'. */
    assert_int_equal(jid_parse(a, repeat(buf, sizeof(buf), "Ａ", 1023, "@example.com"), &j),
                     HERALD_OK);
    assert_int_equal(strlen(j.local), 1023);
    assert_int_equal(j.local[0], 'a');
    expect_bad(a, repeat(buf, sizeof(buf), "Ａ", 1024, "@example.com"));

    char *p = repeat(buf, sizeof(buf), "r", 1023, "");
    memmove(buf + 12, p, 1024);
    memcpy(buf, "example.com/", 12);
    assert_int_equal(jid_parse(a, buf, &j), HERALD_OK);
    assert_int_equal(strlen(j.resource), 1023);
    strcat(buf, "r");
    expect_bad(a, buf);
    memcpy(buf, "example.com/", 12);
    repeat(buf + 12, sizeof(buf) - 12, "😀", 256, "");
    expect_bad(a, buf); /* 1024 octets */
    repeat(buf + 12, sizeof(buf) - 12, "😀", 255, "abc");
    assert_int_equal(jid_parse(a, buf, &j), HERALD_OK);
    assert_int_equal(strlen(j.resource), 1023);
}

static void test_jid__domain_dns_lengths(void **state)
{
    struct arena *a = *state;
    static char buf[1024];
    struct jid j;
    assert_int_equal(jid_parse(a, repeat(buf, sizeof(buf), "a", 63, ".example"), &j), HERALD_OK);
    expect_bad(a, repeat(buf, sizeof(buf), "a", 64, ".example"));
    /* 25 labels of 9 octets and their dots, then the last label. */
    expect_bad(a, repeat(buf, sizeof(buf), "abcdefghi.", 25, "abcd")); /* 254 */
    assert_int_equal(jid_parse(a, repeat(buf, sizeof(buf), "abcdefghi.", 25, "abc"), &j),
                     HERALD_OK); /* 253 */
    assert_int_equal(strlen(j.domain), 253);
    assert_int_equal(jid_parse(a, repeat(buf, sizeof(buf), "abcdefghi.", 25, "abc."), &j),
                     HERALD_OK); /* 253 and the trailing dot */
    /* U-labels are measured in their A-label form. */
    assert_int_equal(jid_parse(a, repeat(buf, sizeof(buf), "é", 57, ".example"), &j), HERALD_OK);
    expect_bad(a, repeat(buf, sizeof(buf), "é", 58, ".example"));
}

static void test_jid__bad_utf8(void **state)
{
    struct arena *a = *state;
    static const char *const bad[] = {
        "\x80",             /* lone continuation */
        "\xc3",             /* truncated */
        "\xe2\x82",         /* truncated */
        "\xc0\xaf",         /* overlong '/' */
        "\xe0\x80\xaf",     /* overlong '/' */
        "\xed\xa0\x80",     /* surrogate D800 */
        "\xf4\x90\x80\x80", /* above U+10FFFF */
        "\xfe",
        "\xff",
    };
    char buf[128];
    for (size_t i = 0; i < HERALD_ARRAY_LEN(bad); i++) {
        snprintf(buf, sizeof(buf), "a%s@example.com", bad[i]);
        expect_bad(a, buf);
        snprintf(buf, sizeof(buf), "juliet@a%s.example", bad[i]);
        expect_bad(a, buf);
        snprintf(buf, sizeof(buf), "juliet@example.com/a%sb", bad[i]);
        expect_bad(a, buf);
        snprintf(buf, sizeof(buf), "é%s@example.com", bad[i]); /* on the Unicode path too */
        expect_bad(a, buf);
    }
}

static void test_jid__embedded_nul_and_unterminated_input(void **state)
{
    struct arena *a = *state;
    expect_bad_n(a, "a\0b@example.com", 15);
    expect_bad_n(a, "juliet@exam\0ple.com", 19);
    expect_bad_n(a, "juliet@\u00fc\0.example", 18);
    expect_bad_n(a, "juliet@[::1\0garbage]", 20);
    expect_bad_n(a, "juliet@example.com/a\0b", 22);

    /* jid_parse_n reads exactly len octets. */
    const char buf[] = {'j', 'u', 'l', 'i', 'e', 't', '@', 'e', 'x', '.', 'c',
                        'o', 'm', '/', 'r', 'X', 'Y', '@', '!', '!', '!'};
    struct jid j;
    assert_int_equal(jid_parse_n(a, buf, 15, &j), HERALD_OK);
    assert_string_equal(j.local, "juliet");
    assert_string_equal(j.domain, "ex.com");
    assert_string_equal(j.resource, "r");
    assert_int_equal(jid_parse_n(a, buf, 13, &j), HERALD_OK);
    assert_null(j.resource);
    assert_string_equal(j.domain, "ex.com");
}

static void test_jid__localpart_forbidden_code_points(void **state)
{
    struct arena *a = *state;
    static const char *const bad[] = {
        "a\"b@example.com",   "a&b@example.com",  "a'b@example.com",  "a:b@example.com",
        "a<b@example.com",    "a>b@example.com",  "a b@example.com",  "a\tb@example.com",
        "a\177b@example.com", "a＠b@example.com", /* FULLWIDTH COMMERCIAL AT width-maps to '@' */
        "a／b@example.com",                       /* FULLWIDTH SOLIDUS to '/' */
        "a＂b@example.com",   "a：b@example.com", "a＜b@example.com",
    };
    for (size_t i = 0; i < HERALD_ARRAY_LEN(bad); i++)
        expect_bad(a, bad[i]);
    /* Other ASCII punctuation is fine (ASCII7 is PVALID). */
    expect_jid(a, "a!#$%()*+,-.;=?[]^_`{|}~\\@example.com", "a!#$%()*+,-.;=?[]^_`{|}~\\",
               "example.com", NULL);
}

/* UsernameCaseMapped: width mapping, case mapping, NFC, IdentifierClass, context, Bidi. */
static void test_jid__localpart_precis_username(void **state)
{
    struct arena *a = *state;
    static const char *const good[][2] = {
        {"ＦＯＯ", "foo"},        /* width mapping */
        {"ｶﾞ", "ガ"},             /* halfwidth katakana + voiced mark, then NFC */
        {"\u0130", "i\u0307"},    /* İ: full toLowerCase */
        {"e\u0301", "é"},         /* NFC */
        {"Å", "å"},               /* U+00C5 */
        {"l·l", "l·l"},           /* MIDDLE DOT between two l */
        {"L·L", "l·l"},           /* ... after case mapping */
        {"\u0375α", "\u0375α"},   /* KERAIA before Greek */
        {"א׳", "א׳"},             /* GERESH after Hebrew */
        {"カ・a", "カ・a"},       /* KATAKANA MIDDLE DOT with Katakana */
        {"क्\u200dष", "क्\u200dष"}, /* ZWJ after virama */
        {"क्\u200cष", "क्\u200cष"}, /* ZWNJ after virama */
        {"ب\u200cب", "ب\u200cب"}, /* ZWNJ between dual-joining */
        {"אב1", "אב1"},           /* RTL ending in EN */
        {"\u0301a", "\u0301a"},   /* a leading mark is no PRECIS rule */
    };
    for (size_t i = 0; i < HERALD_ARRAY_LEN(good); i++) {
        char in[64];
        snprintf(in, sizeof(in), "%s@example.com", good[i][0]);
        expect_jid(a, in, good[i][1], "example.com", NULL);
        snprintf(in, sizeof(in), "%s@example.com", good[i][1]);
        expect_jid(a, in, good[i][1], "example.com", NULL); /* stable */
    }
    static const char *const bad[] = {
        "∞",        /* RFC 8265 Table 2 #11: a symbol */
        "ﬀ",        /* ligature: HasCompat */
        "😀",        /* So */
        "\u00ad",   /* SOFT HYPHEN: default ignorable */
        "\u034f",   /* COMBINING GRAPHEME JOINER: default ignorable */
        "\u200b",   /* ZERO WIDTH SPACE */
        "\u202e",   /* RIGHT-TO-LEFT OVERRIDE (Cf) */
        "\ue000",   /* private use */
        "\ufdd0",   /* noncharacter U+FDD0 */
        "\u0378",   /* unassigned U+0378 */
        "\u1100",   /* old Hangul jamo */
        "\u0640",   /* ARABIC TATWEEL: exception, disallowed */
        "\u00a0",   /* NO-BREAK SPACE (Zs, and HasCompat) */
        "\xc2\x85", /* NEXT LINE (Cc) */
        "a·b",      /* MIDDLE DOT not between l */
        "\u0375a",  /* KERAIA before Latin */
        "׳א",       /* GERESH not after Hebrew */
        "a・b",     /* KATAKANA MIDDLE DOT without kana or Han */
        "a\u200cb", /* ZWNJ without context */
        "a\u200db", /* ZWJ without virama */
        "١۲",       /* both Arabic-Indic digit styles */
        "אבa",      /* Bidi: L in an RTL string */
        "aאב",      /* Bidi: R in an LTR string */
        "אב-",      /* Bidi: RTL string ending in ES */
        "אב1١",     /* Bidi: EN and AN together */
        "١אב",      /* Bidi: starts with AN */
        "١٢",       /* Bidi: AN first, though one digit style */
        "Ⅳ",        /* Nl with compat */
        "ǅ",        /* Lt, and HasCompat */
        "ǆ",        /* Ll, but HasCompat (<compat> d ž) */
        "\u212b",   /* ANGSTROM SIGN: canonical singleton, so HasCompat */
        "\u1e9b",   /* LONG S WITH DOT ABOVE: canonical, hiding a compat (U+017F) */
    };
    for (size_t i = 0; i < HERALD_ARRAY_LEN(bad); i++) {
        char in[64];
        snprintf(in, sizeof(in), "%s@example.com", bad[i]);
        expect_bad(a, in);
    }
}

/* OpaqueString: FreeformClass, non-ASCII spaces to SPACE, NFC, no case mapping. */
static void test_jid__resource_precis_opaquestring(void **state)
{
    struct arena *a = *state;
    static const char *const good[][2] = {
        {"Ｒ", "Ｒ"}, /* no width mapping */
        {"Ⅳ", "Ⅳ"},   /* compat is FREE_PVAL */
        {"ﬀ", "ﬀ"},
        {"😀", "😀"},
        {"∞", "∞"},
        {"A\u00a0B", "A B"},      /* NO-BREAK SPACE */
        {"\u2003x\u3000", " x "}, /* EM SPACE, IDEOGRAPHIC SPACE */
        {"Re\u0301s", "Rés"},     /* NFC, case kept */
        {"aאב", "aאב"},           /* no Bidi rule */
        {"a@b/c", "a@b/c"},
        {"\u212b", "Å"}, /* ANGSTROM SIGN is FREE_PVAL; NFC */
        {"  ", "  "},
    };
    for (size_t i = 0; i < HERALD_ARRAY_LEN(good); i++) {
        char in[64];
        snprintf(in, sizeof(in), "example.com/%s", good[i][0]);
        expect_jid(a, in, NULL, "example.com", good[i][1]);
        snprintf(in, sizeof(in), "example.com/%s", good[i][1]);
        expect_jid(a, in, NULL, "example.com", good[i][1]);
    }
    static const char *const bad[] = {
        "\t",     "a\nb",     "\177", "\xc2\x85", "\u00ad", "\ue000",
        "\u0378", "a\u200db", "a·b",  "\ufffe",   "\u2028", /* LINE SEPARATOR */
    };
    for (size_t i = 0; i < HERALD_ARRAY_LEN(bad); i++) {
        char in[64];
        snprintf(in, sizeof(in), "example.com/%s", bad[i]);
        expect_bad(a, in);
    }
}

/* RFC 8265 §3.6 and §4.3 tables through precis_enforce directly. */
static void test_jid__precis_rfc8265_examples(void **state)
{
    struct arena *a = *state;
    const char *out;
    size_t n;
    static const char *const users[] = {"juliet@example.com", "fussball", "fußball", "π", "σ", "ς"};
    for (size_t i = 0; i < HERALD_ARRAY_LEN(users); i++) {
        assert_int_equal(
            precis_enforce(a, PRECIS_USERNAME_CASE_MAPPED, users[i], strlen(users[i]), &out, &n),
            HERALD_OK);
        assert_string_equal(out, users[i]);
        assert_int_equal(n, strlen(users[i]));
    }
    assert_int_equal(precis_enforce(a, PRECIS_USERNAME_CASE_MAPPED, "Σ", 2, &out, NULL), HERALD_OK);
    assert_string_equal(out, "σ");
    static const char *const bad_users[] = {"foo bar", "", "henryⅣ", "∞"};
    for (size_t i = 0; i < HERALD_ARRAY_LEN(bad_users); i++)
        assert_int_equal(precis_enforce(a, PRECIS_USERNAME_CASE_MAPPED, bad_users[i],
                                        strlen(bad_users[i]), &out, &n),
                         HERALD_EINVAL);

    static const char *const pw[][2] = {
        {"correct horse battery staple", "correct horse battery staple"},
        {"Correct Horse Battery Staple", "Correct Horse Battery Staple"},
        {"πßå", "πßå"},
        {"Jack of ♦s", "Jack of ♦s"},
        {"foo\u1680bar", "foo bar"}, /* OGHAM SPACE MARK */
    };
    for (size_t i = 0; i < HERALD_ARRAY_LEN(pw); i++) {
        assert_int_equal(
            precis_enforce(a, PRECIS_OPAQUE_STRING, pw[i][0], strlen(pw[i][0]), &out, &n),
            HERALD_OK);
        assert_string_equal(out, pw[i][1]);
    }
    assert_int_equal(precis_enforce(a, PRECIS_OPAQUE_STRING, "", 0, &out, &n), HERALD_EINVAL);
    assert_int_equal(precis_enforce(a, PRECIS_OPAQUE_STRING, "my cat is a \tby", 15, &out, &n),
                     HERALD_EINVAL);
}

static enum herald_rc ctx(const char *s)
{
    return precis_check_context(s, strlen(s));
}

/* RFC 5893 §2 and RFC 5892 Appendix A through the shared helpers. */
static void test_jid__bidi_and_context_rules(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        bool ok;
    } bidi[] = {
        {"abc", true},     {"a1", true},  {"a\u0301", true}, /* L + NSM */
        {"a-", false},                                       /* 6: LTR ends in ES */
        {"1a", false},                                       /* 1: starts with EN */
        {"aא", false},                                       /* 5: R in LTR */
        {"אב", true},      {"אב1", true}, {"ب١", true},
        {"ب\u064e", true}, {"א-", false}, /* 3: RTL ends in ES */
        {"אa", false},                    /* 2: L in RTL */
        {"א1١", false},                   /* 4: EN with AN */
        {"١", false},                     /* 1: AN first */
        {"", false},
    };
    for (size_t i = 0; i < HERALD_ARRAY_LEN(bidi); i++) {
        if (precis_bidi_rule_ok(bidi[i].s, strlen(bidi[i].s)) != bidi[i].ok)
            fail_msg("Bidi Rule on \"%s\": want %s", bidi[i].s, bidi[i].ok ? "ok" : "fail");
    }
    assert_false(precis_has_rtl("abc-1", 5));
    assert_true(precis_has_rtl("aא", 3));
    assert_true(precis_has_rtl("a١", 3)); /* AN counts as right-to-left */

    assert_int_equal(ctx("plain"), HERALD_OK);
    assert_int_equal(ctx("l·l"), HERALD_OK);
    assert_int_equal(ctx("l·"), HERALD_EINVAL);
    assert_int_equal(ctx("·l"), HERALD_EINVAL);
    assert_int_equal(ctx("ب\u064e\u200c\u064eب"), HERALD_OK);
    assert_int_equal(ctx("\u200cب"), HERALD_EINVAL);
    assert_int_equal(ctx("١٢"), HERALD_OK);
    assert_int_equal(ctx("١۲"), HERALD_EINVAL);
    assert_int_equal(ctx("\xc2"), HERALD_EINVAL); /* bad UTF-8 */

    /* In a domain with right-to-left text every label obeys the rule, LTR ones too:
     * KATAKANA MIDDLE DOT is ON, so a label ending in it fails condition 6 there. */
    struct arena *a = arena_new(0);
    assert_non_null(a);
    expect_jid(a, "カ・.example", NULL, "カ・.example", NULL);
    expect_bad(a, "カ・.אב.example");
    expect_jid(a, "カ・a.אב.example", NULL, "カ・a.אב.example", NULL);
    arena_free(&a);
}

/* The ASCII fast paths give what the full Unicode algorithm gives for the same octets. */
static void test_jid__ascii_fast_path_matches_unicode_path(void **state)
{
    struct arena *a = *state;
    for (int c = 1; c < 0x80; c++) {
        const char *fa, *fu;
        enum herald_rc ra, ru;
        char ascii[32], uni[32];

        /* "e<c>" is all ASCII; "é<c>" takes the Unicode path. */
        snprintf(ascii, sizeof(ascii), "e%c", c);
        snprintf(uni, sizeof(uni), "é%c", c);
        ra = jid_prep_local(a, ascii, 2, &fa);
        ru = jid_prep_local(a, uni, 3, &fu);
        assert_int_equal(ra, ru);
        if (ra == HERALD_OK)
            assert_string_equal(fa + 1, fu + 2);

        ra = jid_prep_resource(a, ascii, 2, &fa);
        ru = jid_prep_resource(a, uni, 3, &fu);
        assert_int_equal(ra, ru);
        if (ra == HERALD_OK)
            assert_string_equal(fa + 1, fu + 2);

        snprintf(ascii, sizeof(ascii), "u%c.example", c);
        snprintf(uni, sizeof(uni), "ü%c.example", c);
        ra = jid_prep_domain(a, ascii, strlen(ascii), &fa);
        ru = jid_prep_domain(a, uni, strlen(uni), &fu);
        if (ra != ru)
            fail_msg("domain octet 0x%02x: ASCII %s, Unicode %s", c, herald_rc_str(ra),
                     herald_rc_str(ru));
        if (ra == HERALD_OK)
            assert_string_equal(fa + 1, fu + 2);
    }
}

static void test_jid__domain_idna(void **state)
{
    struct arena *a = *state;
    static const char *const good[][2] = {
        {"xn--bcher-kva.example", "bücher.example"}, /* A-label to U-label */
        {"XN--BCHER-KVA.EXAMPLE", "bücher.example"},
        {"BU\u0308CHER.example", "bücher.example"}, /* lowercase + NFC */
        {"ｅｘａｍｐｌｅ。com", "example.com"},     /* width mapping, ideographic stop */
        {"example．com｡", "example.com"},           /* fullwidth stop; halfwidth final stop */
        {"faß.de", "faß.de"},
        {"xn--fa-hia.de", "faß.de"},
        {"l·l.cat", "l·l.cat"},
        {"カ・a.example", "カ・a.example"},
        {"a123.אב.example", "a123.אב.example"},
        {"localhost", "localhost"},
        {"a-b.c-d.example", "a-b.c-d.example"},
        {"EXAMPLE.COM.", "example.com"},
    };
    for (size_t i = 0; i < HERALD_ARRAY_LEN(good); i++)
        expect_jid(a, good[i][0], NULL, good[i][1], NULL);

    struct jid x, y;
    assert_int_equal(jid_parse(a, "juliet@xn--bcher-kva.example", &x), HERALD_OK);
    assert_int_equal(jid_parse(a, "juliet@BÜCHER.example.", &y), HERALD_OK);
    assert_true(jid_equal(&x, &y));

    static const char *const bad[] = {
        "a..b",
        ".example",
        "example..",
        "-a.example",
        "a-.example",
        "ab--cd.example",
        "_xmpp.example",
        "a%20b.example",
        "a b.example",
        "example.com:80",
        "https://example.com",
        "xn--.example",
        "xn--abc-.example",
        "xn--a.example",    /* bad A-labels */
        "xn--ls8h.example", /* A-label of an emoji */
        "😀.example",
        "a·b.example",
        "\u0301a.example",
        "a\u200db.example",
        "Ⅳ.example",
        "-ü.example",
        "ü-.example",
        "ab--ü.example",
        "123.אב.example", /* Bidi across labels */
        "אבa.example",
        "١۲.example",
        "\u00ad.example",
        "a\tb",
        "example.com..",
        "。",
        "ü..example",
        "::1",
        "\u202emoc.example",
        "xn--bce.example", /* decodes to CHEROKEE LETTER WO, a capital: not canonical */
        "example-",
        "example.co-",
        "bücher.example-",
        "ab--cd.bücher.example",
        "_x.bücher.example",
        "a..bücher.example",
    };
    for (size_t i = 0; i < HERALD_ARRAY_LEN(bad); i++)
        expect_bad(a, bad[i]);
}

static void test_jid__domain_trailing_dot_removed(void **state)
{
    struct arena *a = *state;
    expect_jid(a, "example.com.", NULL, "example.com", NULL);
    expect_jid(a, "juliet@example.com./r", "juliet", "example.com", "r");
    expect_jid(a, "juliet@bücher.example./r", "juliet", "bücher.example", "r");
    expect_jid(a, "juliet@bücher.example。", "juliet", "bücher.example", NULL);
    expect_jid(a, "127.0.0.1.", NULL, "127.0.0.1", NULL);
    expect_bad(a, "example.com..");
    expect_bad(a, "bücher.example..");
}

static void test_jid__ip_literals(void **state)
{
    struct arena *a = *state;
    expect_jid(a, "[::1]", NULL, "[::1]", NULL);
    expect_jid(a, "juliet@[2001:DB8::1]/r", "juliet", "[2001:db8::1]", "r");
    expect_jid(a, "[2001:0db8:0:0:0:0:0:1]", NULL, "[2001:db8::1]", NULL);
    expect_jid(a, "[::ffff:192.0.2.1]", NULL, "[::ffff:192.0.2.1]", NULL);
    expect_jid(a, "127.0.0.1", NULL, "127.0.0.1", NULL);
    expect_jid(a, "juliet@192.168.0.1/r", "juliet", "192.168.0.1", "r");

    struct jid x, y;
    assert_int_equal(jid_parse(a, "a@[2001:db8:0::1]", &x), HERALD_OK);
    assert_int_equal(jid_parse(a, "a@[2001:DB8::0:1]", &y), HERALD_OK);
    assert_true(jid_equal(&x, &y));

    static const char *const bad[] = {
        "[]",
        "[::gg]",
        "[::1",
        "::1]",
        "[::1]x",
        "[::1].",
        "[::1]:80",
        "[::1%25eth0]",
        "[::1%eth0]",
        "[1.2.3.4]",
        "[v1.a:b]",
        "[[::1]]",
        "[1:2:3:4:5:6:7:8:9]",
        "a[::1]",
    };
    for (size_t i = 0; i < HERALD_ARRAY_LEN(bad); i++)
        expect_bad(a, bad[i]);
}

static void test_jid__full_and_bare_strings(void **state)
{
    struct arena *a = *state;
    struct jid j, k;
    assert_int_equal(jid_parse(a, "Juliet@Example.com/Balcony", &j), HERALD_OK);
    assert_string_equal(jid_full_str(a, &j), "juliet@example.com/Balcony");
    assert_string_equal(jid_bare_str(a, &j), "juliet@example.com");

    assert_int_equal(jid_parse(a, "Example.com", &j), HERALD_OK);
    assert_string_equal(jid_full_str(a, &j), "example.com");
    assert_string_equal(jid_bare_str(a, &j), "example.com");

    assert_int_equal(jid_parse(a, "example.com/a@b/c", &j), HERALD_OK);
    assert_string_equal(jid_full_str(a, &j), "example.com/a@b/c");
    assert_string_equal(jid_bare_str(a, &j), "example.com");

    /* The canonical string parses back to the same JID. */
    assert_int_equal(jid_parse(a, "ＦＯＯ@XN--BCHER-KVA.example./Re\u0301s", &j), HERALD_OK);
    char *full = jid_full_str(a, &j);
    assert_string_equal(full, "foo@bücher.example/Rés");
    assert_int_equal(jid_parse(a, full, &k), HERALD_OK);
    assert_true(jid_equal(&j, &k));

    /* A full arena: NULL, not a truncated string. */
    struct arena *tiny = arena_new(16);
    assert_non_null(tiny);
    assert_null(jid_full_str(tiny, &j));
    arena_free(&tiny);
}

static void test_jid__equal_and_bare_equal(void **state)
{
    struct arena *a = *state;
    struct jid j1, j2, j3, j4, j5;
    assert_int_equal(jid_parse(a, "a@example.com/r", &j1), HERALD_OK);
    assert_int_equal(jid_parse(a, "A@EXAMPLE.COM/r", &j2), HERALD_OK);
    assert_int_equal(jid_parse(a, "a@example.com", &j3), HERALD_OK);
    assert_int_equal(jid_parse(a, "example.com/r", &j4), HERALD_OK);
    assert_int_equal(jid_parse(a, "b@example.com/r", &j5), HERALD_OK);
    assert_true(jid_equal(&j1, &j2));
    assert_false(jid_equal(&j1, &j3));
    assert_true(jid_bare_equal(&j1, &j3));
    assert_false(jid_bare_equal(&j1, &j4)); /* absent localpart differs from any localpart */
    assert_false(jid_equal(&j1, &j4));
    assert_false(jid_bare_equal(&j1, &j5));
    /* ß and ss, ς and σ stay distinct (RFC 8265 §3.6). */
    assert_int_equal(jid_parse(a, "fußball@example.com", &j1), HERALD_OK);
    assert_int_equal(jid_parse(a, "fussball@example.com", &j2), HERALD_OK);
    assert_false(jid_equal(&j1, &j2));
    assert_int_equal(jid_parse(a, "ς@example.com", &j1), HERALD_OK);
    assert_int_equal(jid_parse(a, "Σ@example.com", &j2), HERALD_OK);
    assert_false(jid_equal(&j1, &j2));
}

static void test_jid__heap_copy(void **state)
{
    (void)state;
    struct arena *tmp = arena_new(0);
    assert_non_null(tmp);
    struct jid j;
    struct jid_heap h, hd;
    assert_int_equal(jid_parse(tmp, "Juliet@Example.com/Balcony", &j), HERALD_OK);
    assert_int_equal(jid_heap_copy(&h, &j), HERALD_OK);
    assert_int_equal(jid_parse(tmp, "example.net", &j), HERALD_OK);
    assert_int_equal(jid_heap_copy(&hd, &j), HERALD_OK);
    arena_free(&tmp); /* the copies must not point into the arena */

    assert_string_equal(h.jid.local, "juliet");
    assert_string_equal(h.jid.domain, "example.com");
    assert_string_equal(h.jid.resource, "Balcony");
    /* One NUL-separated block, in order (jid.h). */
    assert_ptr_equal(h.jid.local, h.block);
    assert_ptr_equal(h.jid.domain, h.block + 7);
    assert_ptr_equal(h.jid.resource, h.block + 7 + 12);
    assert_null(hd.jid.local);
    assert_null(hd.jid.resource);
    assert_string_equal(hd.jid.domain, "example.net");

    struct jid_heap h2;
    assert_int_equal(jid_heap_copy(&h2, &h.jid), HERALD_OK);
    assert_true(jid_equal(&h.jid, &h2.jid));

    jid_heap_free(&h);
    assert_null(h.block);
    assert_null(h.jid.domain);
    jid_heap_free(&h); /* freeing twice is harmless once cleared */
    jid_heap_free(&hd);
    jid_heap_free(&h2);
    jid_heap_free(NULL);
}

static void test_jid__prep_single_parts(void **state)
{
    struct arena *a = *state;
    const char *out;
    assert_int_equal(jid_prep_local(a, "JULIET", 6, &out), HERALD_OK);
    assert_string_equal(out, "juliet");
    assert_int_equal(jid_prep_local(a, "juliet@x", 8, &out), HERALD_EINVAL);
    assert_int_equal(jid_prep_local(a, "", 0, &out), HERALD_EINVAL);
    assert_int_equal(jid_prep_local(a, "ÉLODIE", 7, &out), HERALD_OK);
    assert_string_equal(out, "élodie");

    assert_int_equal(jid_prep_domain(a, "Example.COM.", 12, &out), HERALD_OK);
    assert_string_equal(out, "example.com");
    assert_int_equal(jid_prep_domain(a, "example.com/r", 13, &out), HERALD_EINVAL);
    assert_int_equal(jid_prep_domain(a, "a@b", 3, &out), HERALD_EINVAL);

    assert_int_equal(jid_prep_resource(a, "Home Laptop", 11, &out), HERALD_OK);
    assert_string_equal(out, "Home Laptop");
    assert_int_equal(jid_prep_resource(a, "x/y@z", 5, &out), HERALD_OK);
    assert_string_equal(out, "x/y@z");
    assert_int_equal(jid_prep_resource(a, "\t", 1, &out), HERALD_EINVAL);

    /* Lengths: not NUL-terminated input is read to len only. */
    assert_int_equal(jid_prep_local(a, "abcdef", 3, &out), HERALD_OK);
    assert_string_equal(out, "abc");
}

static void test_jid__arena_limit_is_enomem(void **state)
{
    (void)state;
    static char buf[2048];
    struct arena *tiny = arena_new(64);
    assert_non_null(tiny);
    struct jid j;
    assert_int_equal(jid_parse(tiny, repeat(buf, sizeof(buf), "a", 500, "@example.com"), &j),
                     HERALD_ENOMEM);
    assert_int_equal(jid_parse(tiny, repeat(buf, sizeof(buf), "é", 100, "@example.com"), &j),
                     HERALD_ENOMEM);
    arena_free(&tiny);
}

/* Enforcement is idempotent: the canonical form of any accepted JID is a fixed point. */
static void test_jid__canonical_form_is_stable(void **state)
{
    struct arena *a = *state;
    static const char *const in[] = {
        "ΣΑΣ@example.com/ΣΑΣ",
        "\u0130@example.com",
        "ｶﾞ@ＥＸＡＭＰＬＥ。com/ｶﾞ",
        "L·L@example.com/\u1e9b",
        "x@[2001:DB8:0:0:0:0:0:1]/\u00a0",
    };
    for (size_t i = 0; i < HERALD_ARRAY_LEN(in); i++) {
        struct jid j, k;
        assert_int_equal(jid_parse(a, in[i], &j), HERALD_OK);
        char *full = jid_full_str(a, &j);
        assert_non_null(full);
        assert_int_equal(jid_parse(a, full, &k), HERALD_OK);
        assert_true(jid_equal(&j, &k));
        assert_string_equal(jid_full_str(a, &k), full);
    }
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_jid__rfc7622_valid_examples),
        T(test_jid__rfc7622_invalid_examples),
        T(test_jid__leading_space_resource_follows_opaquestring),
        T(test_jid__split_at_first_slash_then_first_at),
        T(test_jid__localpart_and_domain_case_folded_resource_kept),
        T(test_jid__empty_parts),
        T(test_jid__overlong_parts),
        T(test_jid__domain_dns_lengths),
        T(test_jid__bad_utf8),
        T(test_jid__embedded_nul_and_unterminated_input),
        T(test_jid__localpart_forbidden_code_points),
        T(test_jid__localpart_precis_username),
        T(test_jid__resource_precis_opaquestring),
        T(test_jid__precis_rfc8265_examples),
        T(test_jid__bidi_and_context_rules),
        T(test_jid__ascii_fast_path_matches_unicode_path),
        T(test_jid__domain_idna),
        T(test_jid__domain_trailing_dot_removed),
        T(test_jid__ip_literals),
        T(test_jid__full_and_bare_strings),
        T(test_jid__equal_and_bare_equal),
        T(test_jid__heap_copy),
        T(test_jid__prep_single_parts),
        T(test_jid__arena_limit_is_enomem),
        T(test_jid__canonical_form_is_stable),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
