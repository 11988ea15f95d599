/*
 * precis.c - PRECIS string classes and the UsernameCaseMapped and OpaqueString profiles
 * (RFC 8264, RFC 8265), with the contextual rules of RFC 5892 Appendix A and the Bidi Rule
 * of RFC 5893.
 *
 * The derived property of a code point is computed from libunistring's Unicode data with
 * the algorithm of RFC 8264 §8, rule for rule, rather than from the IANA PRECIS table. So the
 * answer follows the Unicode version libunistring was built with (Debian 12: Unicode 14),
 * not the Unicode 6.3 the IANA registry was last reviewed for. Known approximations:
 *   - BackwardCompatible (RFC 8264 §9.7) is empty today, so it is not consulted.
 *   - Width mapping uses the <wide> and <narrow> decomposition tags (UAX #11 says the
 *     fullwidth and halfwidth characters are exactly those); every such mapping in the UCD is
 *     one code point, so a longer one, should a future UCD add it, is left unmapped.
 *   - Case mapping is the full Unicode toLowerCase() of libunistring with no language
 *     tailoring; it includes the Final_Sigma context ("ΣΑΣ" lowers to "σας").
 *
 * Pure ASCII input never reaches libunistring: for ASCII the rules reduce to "0x21..0x7E
 * (UsernameCaseMapped, lowercased) or 0x20..0x7E (OpaqueString), unchanged", which the fast
 * paths below implement and the unit tests compare against the full algorithm.
 */
#include <stdlib.h>
#include <string.h>

#include <unicase.h>
#include <unictype.h>
#include <uninorm.h>
#include <unistr.h>

#include "herald/precis.h"

/* RFC 8264 §7: the first application plus at most three more to reach a stable output. */
#define PRECIS_MAX_PASSES 4

/* Derived property values (RFC 8264 §8), folded to what the two classes need. */
enum precis_prop {
    PROP_PVALID,
    PROP_FREE_PVAL, /* ID_DIS in IdentifierClass, FREE_PVAL in FreeformClass */
    PROP_CONTEXTJ,
    PROP_CONTEXTO,
    PROP_DISALLOWED, /* DISALLOWED and UNASSIGNED */
    PROP_ENOMEM,     /* not a property: the computation ran out of memory */
};

/* Exceptions (RFC 5892 §2.6), consulted first. Returns false if cp is not listed. */
static bool precis_exception(ucs4_t cp, enum precis_prop *prop)
{
    switch (cp) {
    case 0x00DF: /* LATIN SMALL LETTER SHARP S */
    case 0x03C2: /* GREEK SMALL LETTER FINAL SIGMA */
    case 0x06FD: /* ARABIC SIGN SINDHI AMPERSAND */
    case 0x06FE: /* ARABIC SIGN SINDHI POSTPOSITION MEN */
    case 0x0F0B: /* TIBETAN MARK INTERSYLLABIC TSHEG */
    case 0x3007: /* IDEOGRAPHIC NUMBER ZERO */
        *prop = PROP_PVALID;
        return true;
    case 0x00B7: /* MIDDLE DOT */
    case 0x0375: /* GREEK LOWER NUMERAL SIGN (KERAIA) */
    case 0x05F3: /* HEBREW PUNCTUATION GERESH */
    case 0x05F4: /* HEBREW PUNCTUATION GERSHAYIM */
    case 0x30FB: /* KATAKANA MIDDLE DOT */
        *prop = PROP_CONTEXTO;
        return true;
    case 0x0640: /* ARABIC TATWEEL */
    case 0x07FA: /* NKO LAJANYALAN */
    case 0x302E: /* HANGUL SINGLE DOT TONE MARK */
    case 0x302F: /* HANGUL DOUBLE DOT TONE MARK */
    case 0x303B: /* VERTICAL IDEOGRAPHIC ITERATION MARK */
        *prop = PROP_DISALLOWED;
        return true;
    default:
        break;
    }
    if ((cp >= 0x0660 && cp <= 0x0669) || (cp >= 0x06F0 && cp <= 0x06F9)) {
        *prop = PROP_CONTEXTO; /* ARABIC-INDIC and EXTENDED ARABIC-INDIC DIGITs */
        return true;
    }
    if (cp >= 0x3031 && cp <= 0x3035) {
        *prop = PROP_DISALLOWED; /* VERTICAL KANA REPEAT MARKs */
        return true;
    }
    return false;
}

/* OldHangulJamo (RFC 8264 §9.9): Hangul_Syllable_Type L, V or T. Unassigned code points in
 * these blocks were already caught by the Unassigned rule, so whole ranges suffice. */
static bool precis_old_hangul_jamo(ucs4_t cp)
{
    return (cp >= 0x1100 && cp <= 0x11FF) || (cp >= 0xA960 && cp <= 0xA97F) ||
           (cp >= 0xD7B0 && cp <= 0xD7FF);
}

/* HasCompat (RFC 8264 §9.17): toNFKC(cp) != cp. 1 yes, 0 no, -1 out of memory. */
static int precis_has_compat(ucs4_t cp)
{
    ucs4_t decomp[UC_DECOMPOSITION_MAX_LENGTH];
    int tag;
    if (uc_decomposition(cp, &tag, decomp) < 0)
        return 0; /* no decomposition: NFKC leaves a lone code point as it is */
    if (tag != UC_DECOMP_CANONICAL)
        return 1; /* canonical composition never rebuilds a compatibility character */
    /* A canonical decomposition may still hide a compatibility one (U+1E9B). */
    uint32_t buf[UC_DECOMPOSITION_MAX_LENGTH];
    size_t n = HERALD_ARRAY_LEN(buf);
    uint32_t *r = u32_normalize(UNINORM_NFKC, &cp, 1, buf, &n);
    if (r == NULL)
        return -1;
    int compat = !(n == 1 && r[0] == cp);
    if (r != buf)
        free(r);
    return compat;
}

#define MASK_LETTER_DIGITS                                                                         \
    (UC_CATEGORY_MASK_Ll | UC_CATEGORY_MASK_Lu | UC_CATEGORY_MASK_Lo | UC_CATEGORY_MASK_Nd |       \
     UC_CATEGORY_MASK_Lm | UC_CATEGORY_MASK_Mn | UC_CATEGORY_MASK_Mc)
#define MASK_OTHER_LETTER_DIGITS                                                                   \
    (UC_CATEGORY_MASK_Lt | UC_CATEGORY_MASK_Nl | UC_CATEGORY_MASK_No | UC_CATEGORY_MASK_Me)
#define MASK_SYMBOLS                                                                               \
    (UC_CATEGORY_MASK_Sm | UC_CATEGORY_MASK_Sc | UC_CATEGORY_MASK_Sk | UC_CATEGORY_MASK_So)
#define MASK_PUNCTUATION                                                                           \
    (UC_CATEGORY_MASK_Pc | UC_CATEGORY_MASK_Pd | UC_CATEGORY_MASK_Ps | UC_CATEGORY_MASK_Pe |       \
     UC_CATEGORY_MASK_Pi | UC_CATEGORY_MASK_Pf | UC_CATEGORY_MASK_Po)

/* The derived property of RFC 8264 §8, in its order. */
static enum precis_prop precis_prop_of(ucs4_t cp)
{
    enum precis_prop prop;
    if (cp >= 0x21 && cp <= 0x7E)
        return PROP_PVALID; /* ASCII7; no exception or unassigned code point is ASCII */
    if (precis_exception(cp, &prop))
        return prop;
    if (uc_is_general_category_withtable(cp, UC_CATEGORY_MASK_Cn) &&
        !uc_is_property_not_a_character(cp))
        return PROP_DISALLOWED; /* Unassigned */
    if (uc_is_property_join_control(cp))
        return PROP_CONTEXTJ;
    if (precis_old_hangul_jamo(cp))
        return PROP_DISALLOWED;
    if (uc_is_property_default_ignorable_code_point(cp) || uc_is_property_not_a_character(cp))
        return PROP_DISALLOWED; /* PrecisIgnorableProperties */
    if (uc_is_general_category_withtable(cp, UC_CATEGORY_MASK_Cc))
        return PROP_DISALLOWED; /* Controls */
    int compat = precis_has_compat(cp);
    if (compat < 0)
        return PROP_ENOMEM;
    if (compat)
        return PROP_FREE_PVAL;
    if (uc_is_general_category_withtable(cp, MASK_LETTER_DIGITS))
        return PROP_PVALID;
    if (uc_is_general_category_withtable(cp, MASK_OTHER_LETTER_DIGITS | UC_CATEGORY_MASK_Zs |
                                                 MASK_SYMBOLS | MASK_PUNCTUATION))
        return PROP_FREE_PVAL; /* OtherLetterDigits, Spaces, Symbols, Punctuation */
    return PROP_DISALLOWED;
}

static bool precis_script_is(ucs4_t cp, const char *name)
{
    const uc_script_t *sc = uc_script(cp);
    return sc != NULL && strcmp(sc->name, name) == 0;
}

/* RFC 5892 Appendix A: the rule for the CONTEXTJ or CONTEXTO code point cps[i]. */
static bool precis_context_ok(const ucs4_t *cps, size_t n, size_t i)
{
    ucs4_t cp = cps[i];
    switch (cp) {
    case 0x200C: /* ZERO WIDTH NON-JOINER (A.1) */
        if (i > 0 && uc_combining_class(cps[i - 1]) == UC_CCC_VR)
            return true;
        {
            /* (Joining_Type:{L,D})(Joining_Type:T)* ZWNJ (Joining_Type:T)*(Joining_Type:{R,D}) */
            size_t j = i;
            int jt = UC_JOINING_TYPE_U;
            while (j > 0) {
                jt = uc_joining_type(cps[--j]);
                if (jt != UC_JOINING_TYPE_T)
                    break;
            }
            if (jt != UC_JOINING_TYPE_L && jt != UC_JOINING_TYPE_D)
                return false;
            for (j = i + 1; j < n; j++) {
                jt = uc_joining_type(cps[j]);
                if (jt != UC_JOINING_TYPE_T)
                    return jt == UC_JOINING_TYPE_R || jt == UC_JOINING_TYPE_D;
            }
            return false;
        }
    case 0x200D: /* ZERO WIDTH JOINER (A.2) */
        return i > 0 && uc_combining_class(cps[i - 1]) == UC_CCC_VR;
    case 0x00B7: /* MIDDLE DOT (A.3): only in Catalan "l·l" */
        return i > 0 && i + 1 < n && cps[i - 1] == 0x6C && cps[i + 1] == 0x6C;
    case 0x0375: /* GREEK KERAIA (A.4) */
        return i + 1 < n && precis_script_is(cps[i + 1], "Greek");
    case 0x05F3: /* HEBREW GERESH, GERSHAYIM (A.5, A.6) */
    case 0x05F4:
        return i > 0 && precis_script_is(cps[i - 1], "Hebrew");
    case 0x30FB: /* KATAKANA MIDDLE DOT (A.7); its own script is Common */
        for (size_t j = 0; j < n; j++) {
            if (precis_script_is(cps[j], "Hiragana") || precis_script_is(cps[j], "Katakana") ||
                precis_script_is(cps[j], "Han"))
                return true;
        }
        return false;
    default:
        break;
    }
    if (cp >= 0x0660 && cp <= 0x0669) { /* A.8: no mixing with EXTENDED ARABIC-INDIC */
        for (size_t j = 0; j < n; j++) {
            if (cps[j] >= 0x06F0 && cps[j] <= 0x06F9)
                return false;
        }
        return true;
    }
    if (cp >= 0x06F0 && cp <= 0x06F9) { /* A.9: the converse */
        for (size_t j = 0; j < n; j++) {
            if (cps[j] >= 0x0660 && cps[j] <= 0x0669)
                return false;
        }
        return true;
    }
    return false; /* CONTEXTO/CONTEXTJ without a rule is not allowed */
}

static bool precis_needs_context(ucs4_t cp)
{
    enum precis_prop prop;
    return cp == 0x200C || cp == 0x200D || (precis_exception(cp, &prop) && prop == PROP_CONTEXTO);
}

enum herald_rc precis_check_context(const char *s, size_t len)
{
    const uint8_t *u = (const uint8_t *)s;
    bool needed = false;
    for (size_t i = 0; i < len && !needed;) {
        ucs4_t cp;
        int k = u8_mbtoucr(&cp, u + i, len - i);
        if (k <= 0)
            return HERALD_EINVAL;
        needed = precis_needs_context(cp);
        i += (size_t)k;
    }
    if (!needed)
        return HERALD_OK;
    size_t n;
    ucs4_t *cps = u8_to_u32(u, len, NULL, &n);
    if (cps == NULL)
        return HERALD_ENOMEM;
    enum herald_rc rc = HERALD_OK;
    for (size_t i = 0; i < n && rc == HERALD_OK; i++) {
        if (precis_needs_context(cps[i]) && !precis_context_ok(cps, n, i))
            rc = HERALD_EINVAL;
    }
    free(cps);
    return rc;
}

static bool precis_bidi_is_rtl(int bc)
{
    return bc == UC_BIDI_R || bc == UC_BIDI_AL || bc == UC_BIDI_AN;
}

bool precis_has_rtl(const char *s, size_t len)
{
    const uint8_t *u = (const uint8_t *)s;
    for (size_t i = 0; i < len;) {
        if (u[i] < 0x80) { /* ASCII holds no right-to-left code point */
            i++;
            continue;
        }
        ucs4_t cp;
        int k = u8_mbtoucr(&cp, u + i, len - i);
        if (k <= 0)
            return false;
        if (precis_bidi_is_rtl(uc_bidi_class(cp)))
            return true;
        i += (size_t)k;
    }
    return false;
}

bool precis_bidi_rule_ok(const char *s, size_t len)
{
    const uint8_t *u = (const uint8_t *)s;
    bool rtl = false, has_en = false, has_an = false;
    int last = -1; /* bidi class of the last code point that is not NSM */
    for (size_t i = 0; i < len;) {
        ucs4_t cp;
        int k = u8_mbtoucr(&cp, u + i, len - i);
        if (k <= 0)
            return false;
        int bc = uc_bidi_class(cp);
        if (i == 0) { /* condition 1 */
            if (bc == UC_BIDI_R || bc == UC_BIDI_AL)
                rtl = true;
            else if (bc != UC_BIDI_L)
                return false;
        }
        i += (size_t)k;
        switch (bc) { /* conditions 2 and 5 */
        case UC_BIDI_L:
            if (rtl)
                return false;
            break;
        case UC_BIDI_R:
        case UC_BIDI_AL:
        case UC_BIDI_AN:
            if (!rtl)
                return false;
            has_an |= bc == UC_BIDI_AN;
            break;
        case UC_BIDI_EN:
            has_en = true;
            break;
        case UC_BIDI_ES:
        case UC_BIDI_CS:
        case UC_BIDI_ET:
        case UC_BIDI_ON:
        case UC_BIDI_BN:
        case UC_BIDI_NSM:
            break;
        default:
            return false;
        }
        if (bc != UC_BIDI_NSM)
            last = bc;
    }
    if (rtl) /* conditions 3 and 4 */
        return (last == UC_BIDI_R || last == UC_BIDI_AL || last == UC_BIDI_EN ||
                last == UC_BIDI_AN) &&
               !(has_en && has_an);
    return last == UC_BIDI_L || last == UC_BIDI_EN; /* condition 6 */
}

/* Width Mapping Rule: fullwidth and halfwidth code points to their decomposition. */
static ucs4_t precis_width_map(ucs4_t cp)
{
    ucs4_t decomp[UC_DECOMPOSITION_MAX_LENGTH];
    int tag;
    if (cp < 0x3000)
        return cp; /* the first <wide> character is U+3000 */
    if (uc_decomposition(cp, &tag, decomp) == 1 &&
        (tag == UC_DECOMP_WIDE || tag == UC_DECOMP_NARROW))
        return decomp[0];
    return cp;
}

/* One application of the profile's rules; *out is malloc'ed UTF-8 (never empty). */
static enum herald_rc precis_apply(enum precis_profile profile, const uint8_t *s, size_t len,
                                   uint8_t **out, size_t *out_len)
{
    if (len == 0 || u8_check(s, len) != NULL)
        return HERALD_EINVAL;
    size_t n;
    ucs4_t *cps = u8_to_u32(s, len, NULL, &n);
    if (cps == NULL)
        return HERALD_ENOMEM;
    bool ident = profile == PRECIS_USERNAME_CASE_MAPPED;
    enum herald_rc rc = HERALD_OK;
    if (ident) { /* preparation step 1 (RFC 8265 §3.3.2) */
        for (size_t i = 0; i < n; i++)
            cps[i] = precis_width_map(cps[i]);
    }
    for (size_t i = 0; i < n && rc == HERALD_OK; i++) {
        switch (precis_prop_of(cps[i])) {
        case PROP_PVALID:
            break;
        case PROP_FREE_PVAL:
            if (ident)
                rc = HERALD_EINVAL;
            break;
        case PROP_CONTEXTJ:
        case PROP_CONTEXTO:
            break; /* the rule is evaluated on the mapped string, below */
        case PROP_DISALLOWED:
            rc = HERALD_EINVAL;
            break;
        case PROP_ENOMEM:
            rc = HERALD_ENOMEM;
            break;
        }
    }
    if (rc != HERALD_OK) {
        free(cps);
        return rc;
    }
    uint32_t *mapped;
    size_t mapped_n;
    if (ident) { /* Case Mapping Rule, then Normalization Rule */
        mapped = u32_tolower(cps, n, NULL, UNINORM_NFC, NULL, &mapped_n);
    } else { /* Additional Mapping Rule (non-ASCII spaces), then Normalization Rule */
        for (size_t i = 0; i < n; i++) {
            if (cps[i] >= 0x80 && uc_is_general_category_withtable(cps[i], UC_CATEGORY_MASK_Zs))
                cps[i] = 0x20;
        }
        mapped = u32_normalize(UNINORM_NFC, cps, n, NULL, &mapped_n);
    }
    free(cps);
    if (mapped == NULL)
        return HERALD_ENOMEM;
    /* Contextual rules apply to the output of the mappings (RFC 8264 §7, step 6), so that
     * "L·L" is judged as the "l·l" it becomes. The class of each output code point is
     * checked by the next application, which stability requires. */
    for (size_t i = 0; i < mapped_n; i++) {
        if (precis_needs_context(mapped[i]) && !precis_context_ok(mapped, mapped_n, i)) {
            free(mapped);
            return HERALD_EINVAL;
        }
    }
    size_t u8_n = 0;
    uint8_t *u8 = mapped_n ? u32_to_u8(mapped, mapped_n, NULL, &u8_n) : NULL;
    free(mapped);
    if (mapped_n == 0)
        return HERALD_EINVAL; /* the output must not be empty */
    if (u8 == NULL)
        return HERALD_ENOMEM;
    /* Directionality Rule (UsernameCaseMapped only). */
    if (ident && precis_has_rtl((const char *)u8, u8_n) &&
        !precis_bidi_rule_ok((const char *)u8, u8_n)) {
        free(u8);
        return HERALD_EINVAL;
    }
    *out = u8;
    *out_len = u8_n;
    return HERALD_OK;
}

static enum herald_rc precis_enforce_unicode(struct arena *a, enum precis_profile profile,
                                             const uint8_t *s, size_t len, const char **out,
                                             size_t *out_len)
{
    uint8_t *cur;
    size_t cur_n;
    enum herald_rc rc = precis_apply(profile, s, len, &cur, &cur_n);
    if (rc != HERALD_OK)
        return rc;
    for (int pass = 1; pass < PRECIS_MAX_PASSES; pass++) {
        uint8_t *next;
        size_t next_n;
        rc = precis_apply(profile, cur, cur_n, &next, &next_n);
        if (rc != HERALD_OK) {
            free(cur);
            return rc;
        }
        bool stable = next_n == cur_n && memcmp(next, cur, cur_n) == 0;
        free(cur);
        cur = next;
        cur_n = next_n;
        if (stable) {
            char *r = arena_strndup(a, (const char *)cur, cur_n);
            free(cur);
            if (r == NULL)
                return HERALD_ENOMEM;
            *out = r;
            if (out_len)
                *out_len = cur_n;
            return HERALD_OK;
        }
    }
    free(cur);
    return HERALD_EINVAL;
}

enum herald_rc precis_enforce(struct arena *a, enum precis_profile profile, const char *s,
                              size_t len, const char **out, size_t *out_len)
{
    if (s == NULL || len == 0)
        return HERALD_EINVAL;
    const unsigned char *u = (const unsigned char *)s;
    /* Lowest allowed ASCII octet: SPACE is ID_DIS for identifiers, FREE_PVAL for freeform. */
    unsigned char lo = profile == PRECIS_USERNAME_CASE_MAPPED ? 0x21 : 0x20;
    for (size_t i = 0; i < len; i++) {
        if (u[i] >= 0x80)
            return precis_enforce_unicode(a, profile, u, len, out, out_len);
        if (u[i] < lo || u[i] == 0x7F)
            return HERALD_EINVAL; /* controls (and SPACE in identifiers), whatever follows */
    }
    char *r = arena_alloc(a, len + 1);
    if (r == NULL)
        return HERALD_ENOMEM;
    if (profile == PRECIS_USERNAME_CASE_MAPPED) {
        for (size_t i = 0; i < len; i++)
            r[i] = (char)(u[i] >= 'A' && u[i] <= 'Z' ? u[i] + ('a' - 'A') : u[i]);
    } else {
        memcpy(r, s, len);
    }
    r[len] = '\0';
    *out = r;
    if (out_len)
        *out_len = len;
    return HERALD_OK;
}
