/*
 * jid.c - XMPP address parsing and canonicalisation (RFC 7622).
 *
 * The string is split before any part is prepared (RFC 7622 §3.1): the resourcepart is
 * everything after the first '/', and the localpart everything before the first '@' that
 * precedes that '/'. Each part is then prepared on its own; pure ASCII parts never reach
 * libunistring or libidn2.
 *
 * Domainparts (RFC 7622 §3.2) are IP-literals (IPv6 only: an IPvFuture literal names no
 * address we could use), or DNS names whose canonical form is lowercase NFC with every
 * A-label turned into its U-label, so the two spellings of one domain compare equal. The
 * mapping before IDNA2008 validation is that of RFC 5895 (lowercase, width mapping, NFC, the
 * ideographic full stops as dots); validation is libidn2's IDNA2008 lookup (RFC 5891 §5),
 * plus, since libidn2 2.3 checks neither, the CONTEXTO rules of RFC 5892 Appendix A and the
 * Bidi Rule across all labels of a domain holding right-to-left text (RFC 5893 §2). ASCII
 * labels must be LDH (letters, digits, hyphens; no leading or trailing hyphen, no "--" in
 * the third and fourth positions unless a valid A-label). Label and name lengths are those
 * of DNS, measured on the A-label form: 63 and 253 octets.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include <idn2.h>
#include <unistr.h>
#include <unicase.h>
#include <uninorm.h>

#include "herald/jid.h"
#include "herald/precis.h"

/*
 * Preparation shrinks a string at most threefold (a three-octet fullwidth letter or KELVIN
 * SIGN becomes one ASCII octet), so a longer raw part cannot fit JID_PART_MAX afterwards.
 * Rejecting it early bounds the Unicode work a hostile peer can ask for.
 */
#define JID_RAW_PART_MAX  ((size_t)4 * JID_PART_MAX)
#define JID_DNS_LABEL_MAX 63
#define JID_DNS_NAME_MAX  253

static bool jid_is_ldh(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

static unsigned char jid_ascii_lower(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c + ('a' - 'A')) : c;
}

/* Strips one final label separator (RFC 7622 §3.2): only '.' is left after mapping. */
static size_t jid_strip_dot(const char *s, size_t len)
{
    return len > 0 && s[len - 1] == '.' ? len - 1 : len;
}

/* DNS lengths of an ASCII (A-label) domain name. */
static bool jid_dns_lengths_ok(const char *d, size_t len)
{
    if (len == 0 || len > JID_DNS_NAME_MAX)
        return false;
    size_t label = 0;
    for (size_t i = 0; i < len; i++) {
        if (d[i] == '.')
            label = 0;
        else if (++label > JID_DNS_LABEL_MAX)
            return false;
    }
    return true;
}

/*
 * Label syntax of a mapped domain (UTF-8, lowercase): no empty label, ASCII octets LDH, no
 * hyphen first or last, none in both the third and fourth code point (RFC 5891 §4.2.3.1).
 */
static bool jid_labels_ok(const char *d, size_t len)
{
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && d[i] != '.') {
            unsigned char c = (unsigned char)d[i];
            if (c < 0x80 && !jid_is_ldh(c))
                return false;
            continue;
        }
        const char *l = d + start;
        size_t n = i - start;
        if (n == 0 || l[0] == '-' || l[n - 1] == '-')
            return false;
        /* Find the third and fourth code points: UTF-8 lead octets are not 10xxxxxx. */
        size_t cp = 0, third = n;
        for (size_t k = 0; k < n && cp < 3; k++) {
            if (((unsigned char)l[k] & 0xC0) != 0x80 && ++cp == 3)
                third = k;
        }
        if (third + 1 < n && l[third] == '-' && l[third + 1] == '-')
            return false;
        start = i + 1;
    }
    return true;
}

static enum herald_rc jid_domain_ip_literal(struct arena *a, const char *s, size_t len,
                                            const char **out)
{
    char buf[INET6_ADDRSTRLEN];
    struct in6_addr addr;
    if (len < 3 || s[len - 1] != ']' || len - 2 >= sizeof(buf))
        return HERALD_EINVAL;
    memcpy(buf, s + 1, len - 2);
    buf[len - 2] = '\0';
    if (inet_pton(AF_INET6, buf, &addr) != 1)
        return HERALD_EINVAL;
    /* The RFC 5952 text form, so that equal addresses compare equal. */
    if (inet_ntop(AF_INET6, &addr, buf, sizeof(buf)) == NULL)
        return HERALD_EINVAL;
    char *r = arena_printf(a, "[%s]", buf);
    if (r == NULL)
        return HERALD_ENOMEM;
    *out = r;
    return HERALD_OK;
}

static enum herald_rc jid_idn2_rc(int rc)
{
    return rc == IDN2_MALLOC ? HERALD_ENOMEM : HERALD_EINVAL;
}

/* RFC 5895 mapping: width, ideographic full stops, lowercase, NFC. *out is malloc'ed and
 * NUL-terminated. */
static enum herald_rc jid_domain_map(const char *s, size_t len, char **out, size_t *out_len)
{
    if (u8_check((const uint8_t *)s, len) != NULL)
        return HERALD_EINVAL;
    size_t n;
    uint32_t *cps = u8_to_u32((const uint8_t *)s, len, NULL, &n);
    if (cps == NULL)
        return HERALD_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        ucs4_t decomp[UC_DECOMPOSITION_MAX_LENGTH];
        int tag;
        if (cps[i] >= 0x3000 && uc_decomposition(cps[i], &tag, decomp) == 1 &&
            (tag == UC_DECOMP_WIDE || tag == UC_DECOMP_NARROW))
            cps[i] = decomp[0];
        if (cps[i] == 0x3002) /* IDEOGRAPHIC FULL STOP; FF0E and FF61 map to it or to '.' */
            cps[i] = '.';
    }
    size_t ln;
    uint32_t *low = u32_tolower(cps, n, NULL, UNINORM_NFC, NULL, &ln);
    free(cps);
    if (low == NULL)
        return HERALD_ENOMEM;
    size_t u8n = 0;
    uint8_t *u8 = ln ? u32_to_u8(low, ln, NULL, &u8n) : NULL;
    free(low);
    if (ln == 0)
        return HERALD_EINVAL;
    if (u8 == NULL)
        return HERALD_ENOMEM;
    char *z = malloc(u8n + 1);
    if (z == NULL) {
        free(u8);
        return HERALD_ENOMEM;
    }
    memcpy(z, u8, u8n);
    z[u8n] = '\0';
    free(u8);
    *out = z;
    *out_len = u8n;
    return HERALD_OK;
}

/* Context and Bidi rules over the labels of a U-label domain. */
static enum herald_rc jid_domain_rules(const char *d, size_t len)
{
    bool rtl = precis_has_rtl(d, len);
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && d[i] != '.')
            continue;
        enum herald_rc rc = precis_check_context(d + start, i - start);
        if (rc != HERALD_OK)
            return rc;
        if (rtl && !precis_bidi_rule_ok(d + start, i - start))
            return HERALD_EINVAL;
        start = i + 1;
    }
    return HERALD_OK;
}

static enum herald_rc jid_domain_unicode(struct arena *a, const char *s, size_t len,
                                         const char **out)
{
    char *mapped, *uni = NULL;
    uint8_t *ascii = NULL;
    size_t mlen;
    enum herald_rc rc = jid_domain_map(s, len, &mapped, &mlen);
    if (rc != HERALD_OK)
        return rc;
    mapped[jid_strip_dot(mapped, mlen)] = '\0';
    if (mapped[0] == '\0') {
        free(mapped);
        return HERALD_EINVAL;
    }
    int irc = idn2_lookup_u8((const uint8_t *)mapped, &ascii, IDN2_NFC_INPUT | IDN2_NO_TR46);
    free(mapped);
    if (irc != IDN2_OK)
        return jid_idn2_rc(irc);
    if (!jid_dns_lengths_ok((const char *)ascii, strlen((const char *)ascii))) {
        idn2_free(ascii);
        return HERALD_EINVAL;
    }
    irc = idn2_to_unicode_8z8z((const char *)ascii, &uni, 0);
    idn2_free(ascii);
    if (irc != IDN2_OK)
        return jid_idn2_rc(irc);
    size_t ulen = strlen(uni);
    rc = jid_labels_ok(uni, ulen) ? jid_domain_rules(uni, ulen) : HERALD_EINVAL;
    if (rc == HERALD_OK) {
        /* The result must be its own mapping, or it would not parse back to itself: an
         * A-label may decode to a U-label IDNA2008 accepts but that is not lowercase
         * (Cherokee capitals, cased since Unicode 8, are PVALID in libidn2's tables). */
        char *again;
        size_t alen;
        rc = jid_domain_map(uni, ulen, &again, &alen);
        if (rc == HERALD_OK) {
            if (alen != ulen || memcmp(again, uni, ulen) != 0)
                rc = HERALD_EINVAL;
            free(again);
        }
    }
    if (rc == HERALD_OK) {
        char *r = arena_strndup(a, uni, ulen);
        if (r == NULL)
            rc = HERALD_ENOMEM;
        else
            *out = r;
    }
    idn2_free(uni);
    return rc;
}

/*
 * The ASCII fast path, in one pass: lowercase and check LDH labels. A non-ASCII octet or an
 * A-label sends the whole domain to jid_domain_unicode(), which gives the same answer for
 * ASCII input but costs microseconds instead of nanoseconds.
 */
static enum herald_rc jid_domain_ascii(struct arena *a, const char *s, size_t len, const char **out)
{
    char tmp[JID_DNS_NAME_MAX + 1];
    size_t n = jid_strip_dot(s, len);
    size_t label = 0; /* octets in the current label */
    bool ok = n > 0 && n <= JID_DNS_NAME_MAX;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x80)
            return jid_domain_unicode(a, s, len, out);
        if (!ok)
            continue; /* only looking for non-ASCII now */
        c = jid_ascii_lower(c);
        tmp[i] = (char)c;
        if (c == '.') {
            ok = label > 0 && tmp[i - 1] != '-';
            label = 0;
        } else if (!jid_is_ldh(c) || (c == '-' && label == 0) || ++label > JID_DNS_LABEL_MAX) {
            ok = false;
        } else if (label == 4 && c == '-' && tmp[i - 1] == '-') {
            if (tmp[i - 3] == 'x' && tmp[i - 2] == 'n')
                return jid_domain_unicode(a, s, len, out);
            ok = false; /* R-LDH label that is not an A-label */
        }
    }
    if (!ok || label == 0 || tmp[n - 1] == '-')
        return HERALD_EINVAL;
    char *d = arena_strndup(a, tmp, n);
    if (d == NULL)
        return HERALD_ENOMEM;
    *out = d;
    return HERALD_OK;
}

enum herald_rc jid_prep_domain(struct arena *a, const char *s, size_t len, const char **out)
{
    if (s == NULL || len == 0 || len > JID_RAW_PART_MAX || memchr(s, '\0', len) != NULL)
        return HERALD_EINVAL;
    if (s[0] == '[')
        return jid_domain_ip_literal(a, s, len, out);
    return jid_domain_ascii(a, s, len, out);
}

/* A localpart or resourcepart: the raw bound, the PRECIS profile, then JID_PART_MAX. */
static enum herald_rc jid_prep_part(struct arena *a, enum precis_profile profile, const char *s,
                                    size_t len, const char **out, size_t *outlen)
{
    if (s == NULL || len == 0 || len > JID_RAW_PART_MAX)
        return HERALD_EINVAL;
    enum herald_rc rc = precis_enforce(a, profile, s, len, out, outlen);
    if (rc == HERALD_OK && *outlen > JID_PART_MAX)
        return HERALD_EINVAL;
    return rc;
}

enum herald_rc jid_prep_local(struct arena *a, const char *s, size_t len, const char **out)
{
    const char *p;
    size_t n;
    enum herald_rc rc = jid_prep_part(a, PRECIS_USERNAME_CASE_MAPPED, s, len, &p, &n);
    if (rc != HERALD_OK)
        return rc;
    for (size_t i = 0; i < n; i++) {
        switch (p[i]) { /* RFC 7622 §3.3.1, checked after preparation (width mapping) */
        case '"':
        case '&':
        case '\'':
        case '/':
        case ':':
        case '<':
        case '>':
        case '@':
            return HERALD_EINVAL;
        default:
            break;
        }
    }
    *out = p;
    return HERALD_OK;
}

enum herald_rc jid_prep_resource(struct arena *a, const char *s, size_t len, const char **out)
{
    size_t n;
    return jid_prep_part(a, PRECIS_OPAQUE_STRING, s, len, out, &n);
}

enum herald_rc jid_parse_n(struct arena *a, const char *s, size_t len, struct jid *out)
{
    if (s == NULL || len == 0)
        return HERALD_EINVAL;
    const char *slash = memchr(s, '/', len);
    size_t head = slash ? (size_t)(slash - s) : len;
    const char *at = memchr(s, '@', head);
    const char *dom = at ? at + 1 : s;
    struct jid j = {NULL, NULL, NULL};
    enum herald_rc rc;
    if (at) {
        rc = jid_prep_local(a, s, (size_t)(at - s), &j.local);
        if (rc != HERALD_OK)
            return rc;
    }
    rc = jid_prep_domain(a, dom, (size_t)(s + head - dom), &j.domain);
    if (rc != HERALD_OK)
        return rc;
    if (slash) {
        rc = jid_prep_resource(a, slash + 1, len - head - 1, &j.resource);
        if (rc != HERALD_OK)
            return rc;
    }
    *out = j;
    return HERALD_OK;
}

enum herald_rc jid_parse(struct arena *a, const char *s, struct jid *out)
{
    if (s == NULL)
        return HERALD_EINVAL;
    return jid_parse_n(a, s, strlen(s), out);
}

static char *jid_join(struct arena *a, const struct jid *j, bool with_resource)
{
    size_t ll = j->local ? strlen(j->local) : 0;
    size_t dl = strlen(j->domain);
    size_t rl = with_resource && j->resource ? strlen(j->resource) : 0;
    char *r = arena_alloc(a, ll + dl + rl + 3);
    if (r == NULL)
        return NULL;
    char *p = r;
    if (j->local) {
        memcpy(p, j->local, ll);
        p += ll;
        *p++ = '@';
    }
    memcpy(p, j->domain, dl);
    p += dl;
    if (with_resource && j->resource) {
        *p++ = '/';
        memcpy(p, j->resource, rl);
        p += rl;
    }
    *p = '\0';
    return r;
}

char *jid_full_str(struct arena *a, const struct jid *j)
{
    return jid_join(a, j, true);
}

char *jid_bare_str(struct arena *a, const struct jid *j)
{
    return jid_join(a, j, false);
}

static bool jid_part_equal(const char *x, const char *y)
{
    if (x == NULL || y == NULL)
        return x == y;
    return strcmp(x, y) == 0;
}

bool jid_bare_equal(const struct jid *x, const struct jid *y)
{
    return jid_part_equal(x->local, y->local) && jid_part_equal(x->domain, y->domain);
}

bool jid_equal(const struct jid *x, const struct jid *y)
{
    return jid_bare_equal(x, y) && jid_part_equal(x->resource, y->resource);
}

enum herald_rc jid_heap_copy(struct jid_heap *dst, const struct jid *src)
{
    herald_assert(dst != NULL && src != NULL && src->domain != NULL);
    size_t ll = src->local ? strlen(src->local) + 1 : 0;
    size_t dl = strlen(src->domain) + 1;
    size_t rl = src->resource ? strlen(src->resource) + 1 : 0;
    char *block = herald_malloc(HERALD_MEM_MISC, ll + dl + rl);
    if (block == NULL) {
        memset(dst, 0, sizeof(*dst));
        return HERALD_ENOMEM;
    }
    char *p = block;
    dst->jid.local = NULL;
    dst->jid.resource = NULL;
    if (src->local) {
        memcpy(p, src->local, ll);
        dst->jid.local = p;
        p += ll;
    }
    memcpy(p, src->domain, dl);
    dst->jid.domain = p;
    p += dl;
    if (src->resource) {
        memcpy(p, src->resource, rl);
        dst->jid.resource = p;
    }
    dst->block = block;
    return HERALD_OK;
}

void jid_heap_free(struct jid_heap *j)
{
    if (j == NULL)
        return;
    herald_free(HERALD_MEM_MISC, j->block);
    memset(j, 0, sizeof(*j));
}
