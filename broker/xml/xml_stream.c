/*
 * xml_stream.c - expat wrapper: one XML stream in, header/stanza/close events out.
 *
 * Model. Expat is a push parser; we make it a pull parser with resumable suspension: the
 * handler that completes a top-level event records it and calls XML_StopParser(resumable),
 * so XML_Parse/XML_ResumeParser return XML_STATUS_SUSPENDED with the rest of the input
 * still in expat's buffer. The caller handles the event with the parser at rest and asks
 * for the next one. Nothing in the application ever runs inside an expat callback.
 *
 * Positions. `fed` counts bytes given to the current parser; `boundary` is expat's byte
 * index just after the last complete top-level event (header, stanza, or whitespace
 * between stanzas). fed - boundary is what a peer has sent towards an unfinished stanza,
 * which is what the stanza size limit bounds, and what a restart must carry over.
 *
 * Parking. An expat parser costs about 10 kB; most sessions are idle. When the stream is
 * between stanzas with nothing buffered, xml_stream_park() frees it. Before the next
 * bytes a new parser is primed with a synthetic copy of the stream header (same qualified
 * name, same namespace declarations), so stanzas resolve their prefixes exactly as before
 * and the closing tag still matches.
 */
#include <expat.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "herald/xml_stream.h"

#define NS_SEP '\x01' /* cannot occur in a namespace name or local name */

struct nsdecl {
    struct nsdecl *next;
    const char *prefix; /* NULL = default namespace */
    const char *uri;
};

/* Builds one tree: a stanza of a stream, or a standalone fragment. */
struct tree_builder {
    struct arena *arena;
    struct xml_node *root;
    struct xml_node *cur;
    struct buf text;
    unsigned depth; /* open elements of this tree */
    unsigned max_depth;
    unsigned max_attrs;
};

struct xml_stream {
    XML_Parser p;
    struct xml_stream_limits lim;
    struct tree_builder tb;
    struct arena *stanza_arena; /* arena of the last stanza handed out; freed on next call */
    struct arena *header_arena;
    struct xml_node *header;
    struct nsdecl *decls; /* declared on the header, for re-priming after park */
    unsigned depth;       /* 0 before the header, 1 inside the stream */
    uint64_t fed;
    uint64_t boundary;
    uint64_t last_event; /* expat byte index after the last callback of any kind */
    const char *rest;    /* in expat's buffer: bytes after the last stanza, while suspended */
    size_t rest_len;
    enum xml_stream_event queue[2];
    unsigned nqueue;
    bool suspended;
    bool priming;
    char *restart_data; /* carried over into a restarted stream */
    size_t restart_len;
    enum xml_stream_error err;
    const char *err_text;
    char err_buf[96];
};

/* ---- accounted allocation for expat ---- */

static void *mm_malloc(size_t n)
{
    return herald_malloc(HERALD_MEM_XML, n);
}
static void *mm_realloc(void *p, size_t n)
{
    return herald_realloc(HERALD_MEM_XML, p, n);
}
static void mm_free(void *p)
{
    herald_free(HERALD_MEM_XML, p);
}
static const XML_Memory_Handling_Suite mm_suite = {mm_malloc, mm_realloc, mm_free};

/* ---- tree building, shared by streams and fragments ---- */

static bool is_xml_space(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
            return false;
    return true;
}

/* Split an expat triplet "uri\1local\1prefix" (or "local") into arena strings. */
static enum herald_rc split_name(struct arena *a, const char *qn, const char *same_ns,
                                 const char **ns, const char **local, const char **prefix)
{
    const char *s1 = strchr(qn, NS_SEP);
    *ns = *prefix = NULL;
    if (s1 == NULL) {
        *local = arena_strdup(a, qn);
        return *local ? HERALD_OK : HERALD_ENOMEM;
    }
    size_t nslen = (size_t)(s1 - qn);
    if (same_ns && strlen(same_ns) == nslen && memcmp(same_ns, qn, nslen) == 0)
        *ns = same_ns; /* share the parent's namespace string: the common case */
    else if ((*ns = arena_strndup(a, qn, nslen)) == NULL)
        return HERALD_ENOMEM;
    const char *s2 = strchr(s1 + 1, NS_SEP);
    if (s2 == NULL) {
        *local = arena_strdup(a, s1 + 1);
    } else {
        *local = arena_strndup(a, s1 + 1, (size_t)(s2 - s1 - 1));
        if (strcmp(s2 + 1, "xml") == 0)
            *prefix = "xml";
        else if ((*prefix = arena_strdup(a, s2 + 1)) == NULL)
            return HERALD_ENOMEM;
    }
    return *local ? HERALD_OK : HERALD_ENOMEM;
}

static enum herald_rc tb_flush_text(struct tree_builder *tb)
{
    if (tb->text.len == 0)
        return tb->text.err;
    if (tb->text.err)
        return tb->text.err;
    enum herald_rc rc = HERALD_OK;
    if (tb->cur)
        rc = xml_add_text(tb->arena, tb->cur, tb->text.data, tb->text.len);
    buf_reset(&tb->text);
    return rc;
}

/* Returns the stream error to raise, or XML_SE_NONE. */
static enum xml_stream_error tb_start(struct tree_builder *tb, const char *name, const char **atts,
                                      const char **why)
{
    if (tb_flush_text(tb)) {
        *why = "out of memory";
        return XML_SE_POLICY_VIOLATION;
    }
    if (tb->depth + 1 > tb->max_depth) {
        *why = "element nesting too deep";
        return XML_SE_POLICY_VIOLATION;
    }
    unsigned nattr = 0;
    for (const char **a = atts; *a; a += 2)
        nattr++;
    if (nattr > tb->max_attrs) {
        *why = "too many attributes";
        return XML_SE_POLICY_VIOLATION;
    }
    struct xml_node *n = arena_calloc(tb->arena, 1, sizeof(*n));
    if (n == NULL)
        goto oom;
    n->kind = XML_ELEMENT;
    if (split_name(tb->arena, name, tb->cur ? tb->cur->ns : NULL, &n->ns, &n->name, &n->prefix))
        goto oom;
    struct xml_attr **tail = &n->attrs;
    for (const char **a = atts; *a; a += 2) {
        struct xml_attr *at = arena_calloc(tb->arena, 1, sizeof(*at));
        if (at == NULL || split_name(tb->arena, a[0], NULL, &at->ns, &at->name, &at->prefix) ||
            (at->value = arena_strdup(tb->arena, a[1])) == NULL)
            goto oom;
        *tail = at;
        tail = &at->next;
    }
    if (tb->cur)
        xml_append(tb->cur, n);
    else
        tb->root = n;
    tb->cur = n;
    tb->depth++;
    return XML_SE_NONE;
oom:
    *why = "stanza too large to hold";
    return XML_SE_POLICY_VIOLATION;
}

static enum xml_stream_error tb_end(struct tree_builder *tb, const char **why)
{
    if (tb_flush_text(tb)) {
        *why = "stanza too large to hold";
        return XML_SE_POLICY_VIOLATION;
    }
    tb->cur = tb->cur ? tb->cur->parent : NULL;
    tb->depth--;
    return XML_SE_NONE;
}

static enum xml_stream_error tb_text(struct tree_builder *tb, const char *s, int len,
                                     const char **why)
{
    if (buf_append(&tb->text, s, (size_t)len)) {
        *why = "text too large";
        return XML_SE_POLICY_VIOLATION;
    }
    return XML_SE_NONE;
}

/* ---- stream events ---- */

static void stream_fail(struct xml_stream *s, enum xml_stream_error e, const char *why)
{
    if (s->err)
        return;
    s->err = e;
    s->err_text = why;
    if (s->p)
        XML_StopParser(s->p, XML_FALSE);
}

static void stream_emit(struct xml_stream *s, enum xml_stream_event ev)
{
    herald_assert(s->nqueue < HERALD_ARRAY_LEN(s->queue));
    s->queue[s->nqueue++] = ev;
    /* Expat may still deliver a trailing callback after a stop (an empty element's end). */
    XML_ParsingStatus st;
    XML_GetParsingStatus(s->p, &st);
    if (st.parsing == XML_PARSING)
        XML_StopParser(s->p, XML_TRUE);
}

static uint64_t event_end(const struct xml_stream *s)
{
    return (uint64_t)XML_GetCurrentByteIndex(s->p) + (uint64_t)XML_GetCurrentByteCount(s->p);
}

static void mark_boundary(struct xml_stream *s)
{
    s->boundary = s->last_event = event_end(s);
}

static enum herald_rc header_begin(struct xml_stream *s)
{
    if (s->header_arena == NULL) {
        s->header_arena = arena_new(s->lim.max_stanza_bytes * 2 + 4096);
        if (s->header_arena == NULL)
            return HERALD_ENOMEM;
    }
    return HERALD_OK;
}

static void XMLCALL on_ns_decl(void *ud, const XML_Char *prefix, const XML_Char *uri)
{
    struct xml_stream *s = ud;
    if (s->depth != 0 || s->priming || s->err)
        return;
    if (header_begin(s))
        goto oom;
    struct nsdecl *d = arena_calloc(s->header_arena, 1, sizeof(*d));
    if (d == NULL)
        goto oom;
    d->prefix = prefix ? arena_strdup(s->header_arena, prefix) : NULL;
    d->uri = arena_strdup(s->header_arena, uri ? uri : "");
    if ((prefix && !d->prefix) || !d->uri)
        goto oom;
    d->next = s->decls;
    s->decls = d;
    return;
oom:
    stream_fail(s, XML_SE_POLICY_VIOLATION, "stream header too large");
}

static void XMLCALL on_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
    struct xml_stream *s = ud;
    const char *why = NULL;
    enum xml_stream_error e;
    if (s->err)
        return;
    /* A tag that arrived whole is held to the same bound as one still arriving (see
     * after_parse), so TCP segmentation never decides what is accepted. */
    if ((uint64_t)XML_GetCurrentByteCount(s->p) > s->lim.max_token_bytes) {
        stream_fail(s, XML_SE_POLICY_VIOLATION, "tag too large");
        return;
    }
    if (s->depth == 0) {
        s->depth = 1;
        if (s->priming)
            return;
        /* The stream header: kept in its own arena until the stream restarts. */
        if (header_begin(s)) {
            stream_fail(s, XML_SE_INTERNAL, "out of memory");
            return;
        }
        struct tree_builder hb = {
            .arena = s->header_arena, .max_depth = 1, .max_attrs = s->lim.max_attrs};
        buf_init(&hb.text, 1);
        e = tb_start(&hb, name, atts, &why);
        buf_cleanup(&hb.text);
        if (e) {
            stream_fail(s, e, why);
            return;
        }
        s->header = hb.root;
        mark_boundary(s);
        stream_emit(s, XML_STREAM_OPEN);
        return;
    }
    if (s->depth == 1) {
        s->tb.arena = arena_new(s->lim.max_stanza_bytes * 8 + 65536);
        if (s->tb.arena == NULL) {
            stream_fail(s, XML_SE_INTERNAL, "out of memory");
            return;
        }
        s->tb.root = s->tb.cur = NULL;
        s->tb.depth = 0;
        buf_reset(&s->tb.text);
    }
    s->depth++;
    s->last_event = event_end(s);
    e = tb_start(&s->tb, name, atts, &why);
    if (e)
        stream_fail(s, e, why);
}

static void XMLCALL on_end(void *ud, const XML_Char *name)
{
    struct xml_stream *s = ud;
    const char *why = NULL;
    (void)name;
    if (s->err)
        return;
    if (s->depth == 1) {
        s->depth = 0;
        mark_boundary(s);
        stream_emit(s, XML_STREAM_CLOSE);
        return;
    }
    enum xml_stream_error e = tb_end(&s->tb, &why);
    if (e) {
        stream_fail(s, e, why);
        return;
    }
    s->last_event = event_end(s);
    if (--s->depth == 1) {
        int off = 0, size = 0;
        const char *ctx = XML_GetInputContext(s->p, &off, &size);
        int cnt = XML_GetCurrentByteCount(s->p);
        mark_boundary(s);
        s->rest = ctx ? ctx + off + cnt : NULL;
        s->rest_len = ctx ? (size_t)(size - off - cnt) : 0;
        herald_assert(s->stanza_arena == NULL);
        s->stanza_arena = s->tb.arena;
        s->tb.arena = NULL;
        stream_emit(s, XML_STREAM_STANZA);
    }
}

static void XMLCALL on_text(void *ud, const XML_Char *text, int len)
{
    struct xml_stream *s = ud;
    const char *why = NULL;
    if (s->err)
        return;
    if (s->depth <= 1) {
        /* Between stanzas only white space (keepalives, RFC 6120 §4.6.1) is allowed. */
        if (!is_xml_space(text, (size_t)len))
            stream_fail(s, XML_SE_BAD_FORMAT, "text at stream level");
        else
            mark_boundary(s);
        return;
    }
    s->last_event = event_end(s);
    enum xml_stream_error e = tb_text(&s->tb, text, len, &why);
    if (e)
        stream_fail(s, e, why);
}

static void XMLCALL on_restricted_doctype(void *ud, const XML_Char *n, const XML_Char *sys,
                                          const XML_Char *pub, int internal)
{
    (void)n, (void)sys, (void)pub, (void)internal;
    stream_fail(ud, XML_SE_RESTRICTED_XML, "document type declarations are not allowed");
}

static void XMLCALL on_restricted_pi(void *ud, const XML_Char *target, const XML_Char *data)
{
    (void)target, (void)data;
    stream_fail(ud, XML_SE_RESTRICTED_XML, "processing instructions are not allowed");
}

static void XMLCALL on_restricted_comment(void *ud, const XML_Char *data)
{
    (void)data;
    stream_fail(ud, XML_SE_RESTRICTED_XML, "comments are not allowed");
}

static void XMLCALL on_restricted_entity(void *ud, const XML_Char *n, int pe, const XML_Char *v,
                                         int vlen, const XML_Char *base, const XML_Char *sys,
                                         const XML_Char *pub, const XML_Char *notation)
{
    (void)n, (void)pe, (void)v, (void)vlen, (void)base, (void)sys, (void)pub, (void)notation;
    stream_fail(ud, XML_SE_RESTRICTED_XML, "entity declarations are not allowed");
}

static void XMLCALL on_xmldecl(void *ud, const XML_Char *version, const XML_Char *encoding,
                               int standalone)
{
    (void)version, (void)standalone;
    if (encoding && strcasecmp(encoding, "UTF-8") != 0)
        stream_fail(ud, XML_SE_UNSUPPORTED_ENCODING, "only UTF-8 is supported");
}

static void install_restrictions(XML_Parser p)
{
    XML_SetStartDoctypeDeclHandler(p, on_restricted_doctype);
    XML_SetProcessingInstructionHandler(p, on_restricted_pi);
    XML_SetCommentHandler(p, on_restricted_comment);
    XML_SetEntityDeclHandler(p, on_restricted_entity);
    XML_SetXmlDeclHandler(p, on_xmldecl);
}

static enum xml_stream_error map_expat_error(enum XML_Error e)
{
    switch (e) {
    case XML_ERROR_NO_MEMORY:
        return XML_SE_INTERNAL;
    case XML_ERROR_UNBOUND_PREFIX:
        return XML_SE_BAD_NAMESPACE_PREFIX;
    case XML_ERROR_UNKNOWN_ENCODING:
    case XML_ERROR_INCORRECT_ENCODING:
        return XML_SE_UNSUPPORTED_ENCODING;
    case XML_ERROR_UNDEFINED_ENTITY: /* only the predefined entities exist (RFC 6120 §11.1) */
    case XML_ERROR_MISPLACED_XML_PI:
    case XML_ERROR_EXTERNAL_ENTITY_HANDLING:
    case XML_ERROR_AMPLIFICATION_LIMIT_BREACH:
        return XML_SE_RESTRICTED_XML;
    default:
        return XML_SE_NOT_WELL_FORMED;
    }
}

static enum herald_rc parser_create(struct xml_stream *s)
{
    s->p = XML_ParserCreate_MM("UTF-8", &mm_suite, (XML_Char[]){NS_SEP, 0});
    if (s->p == NULL)
        return HERALD_ENOMEM;
    XML_SetReturnNSTriplet(s->p, 1);
    XML_SetUserData(s->p, s);
    XML_SetElementHandler(s->p, on_start, on_end);
    XML_SetCharacterDataHandler(s->p, on_text);
    XML_SetStartNamespaceDeclHandler(s->p, on_ns_decl);
    install_restrictions(s->p);
    /*
     * Expat's reparse deferral (CVE-2023-52425) waits for the buffer to double before
     * retrying an unfinished token, which would stall an interactive stream forever.
     * We turn it off and bound the cost it guards against with max_token_bytes instead:
     * re-scanning an unfinished tag costs at most that much per byte received.
     */
    XML_SetReparseDeferralEnabled(s->p, XML_FALSE);
    s->fed = s->boundary = s->last_event = 0;
    s->depth = 0;
    s->suspended = false;
    return HERALD_OK;
}

static void parser_destroy(struct xml_stream *s)
{
    if (s->p)
        XML_ParserFree(s->p);
    s->p = NULL;
    s->rest = NULL;
    s->rest_len = 0;
}

struct xml_stream *xml_stream_new(const struct xml_stream_limits *limits)
{
    struct xml_stream *s = herald_calloc(HERALD_MEM_XML, 1, sizeof(*s));
    if (s == NULL)
        return NULL;
    s->lim = *limits;
    s->tb.max_depth = limits->max_depth;
    s->tb.max_attrs = limits->max_attrs;
    buf_init(&s->tb.text, limits->max_stanza_bytes);
    if (parser_create(s)) {
        herald_free(HERALD_MEM_XML, s);
        return NULL;
    }
    return s;
}

void xml_stream_free(struct xml_stream **sp)
{
    struct xml_stream *s = sp ? *sp : NULL;
    if (s == NULL)
        return;
    parser_destroy(s);
    arena_free(&s->tb.arena);
    arena_free(&s->stanza_arena);
    arena_free(&s->header_arena);
    buf_cleanup(&s->tb.text);
    herald_free(HERALD_MEM_XML, s->restart_data);
    herald_free(HERALD_MEM_XML, s);
    *sp = NULL;
}

static enum xml_stream_event pop_event(struct xml_stream *s)
{
    if (s->nqueue == 0)
        return XML_STREAM_NONE;
    enum xml_stream_event ev = s->queue[0];
    s->queue[0] = s->queue[1];
    s->nqueue--;
    return ev;
}

static enum xml_stream_event after_parse(struct xml_stream *s, enum XML_Status st)
{
    if (st == XML_STATUS_ERROR) {
        if (!s->err) {
            enum XML_Error e = XML_GetErrorCode(s->p);
            s->err = map_expat_error(e);
            snprintf(s->err_buf, sizeof(s->err_buf), "%s", XML_ErrorString(e));
            s->err_text = s->err_buf;
        }
        s->nqueue = 0;
        return XML_STREAM_ERROR;
    }
    s->suspended = st == XML_STATUS_SUSPENDED;
    if (!s->suspended && s->fed - s->boundary > s->lim.max_stanza_bytes) {
        s->err = XML_SE_POLICY_VIOLATION;
        s->err_text = "stanza too large";
        return XML_STREAM_ERROR;
    }
    if (!s->suspended && s->fed - s->last_event > s->lim.max_token_bytes) {
        s->err = XML_SE_POLICY_VIOLATION;
        s->err_text = "tag too large";
        return XML_STREAM_ERROR;
    }
    return pop_event(s);
}

/* Feed bytes to the current parser (which must not be suspended). */
static enum xml_stream_event parse_bytes(struct xml_stream *s, const char *data, size_t len)
{
    if (len > INT32_MAX) {
        stream_fail(s, XML_SE_POLICY_VIOLATION, "input chunk too large");
        return XML_STREAM_ERROR;
    }
    s->fed += len;
    return after_parse(s, XML_Parse(s->p, data, (int)len, XML_FALSE));
}

/* Rebuild a parked parser: replay the header's qualified name and declarations. */
static enum herald_rc parser_prime(struct xml_stream *s)
{
    if (parser_create(s))
        return HERALD_ENOMEM;
    struct buf b;
    buf_init(&b, 0);
    buf_append_byte(&b, '<');
    if (s->header->prefix) {
        buf_append_str(&b, s->header->prefix);
        buf_append_byte(&b, ':');
    }
    buf_append_str(&b, s->header->name);
    for (const struct nsdecl *d = s->decls; d; d = d->next) {
        buf_append_str(&b, d->prefix ? " xmlns:" : " xmlns");
        if (d->prefix)
            buf_append_str(&b, d->prefix);
        buf_append_str(&b, "='");
        buf_append_xml_attr_escaped(&b, d->uri, strlen(d->uri));
        buf_append_byte(&b, '\'');
    }
    buf_append_byte(&b, '>');
    if (b.err) {
        buf_cleanup(&b);
        return HERALD_ENOMEM;
    }
    s->priming = true;
    s->fed = b.len;
    enum XML_Status st = XML_Parse(s->p, b.data, (int)b.len, XML_FALSE);
    s->priming = false;
    s->boundary = s->last_event = s->fed;
    buf_cleanup(&b);
    return st == XML_STATUS_OK && s->depth == 1 ? HERALD_OK : HERALD_EPROTO;
}

enum xml_stream_event xml_stream_feed(struct xml_stream *s, const char *data, size_t len)
{
    arena_free(&s->stanza_arena);
    if (s->err)
        return XML_STREAM_ERROR;
    herald_assert(!s->suspended && s->restart_data == NULL && s->nqueue == 0);
    if (s->p == NULL && parser_prime(s)) {
        stream_fail(s, XML_SE_INTERNAL, "cannot rebuild parser");
        return XML_STREAM_ERROR;
    }
    return parse_bytes(s, data, len);
}

enum xml_stream_event xml_stream_next(struct xml_stream *s)
{
    arena_free(&s->stanza_arena);
    if (s->err)
        return XML_STREAM_ERROR;
    if (s->nqueue)
        return pop_event(s);
    if (s->restart_data) {
        char *d = s->restart_data;
        size_t n = s->restart_len;
        s->restart_data = NULL;
        enum xml_stream_event ev = parse_bytes(s, d, n);
        herald_free(HERALD_MEM_XML, d);
        return ev;
    }
    if (!s->suspended)
        return XML_STREAM_NONE;
    s->suspended = false;
    return after_parse(s, XML_ResumeParser(s->p));
}

enum herald_rc xml_stream_restart(struct xml_stream *s)
{
    char *carry = NULL;
    size_t n = s->suspended && s->rest ? s->rest_len : 0;
    if (n) {
        carry = herald_malloc(HERALD_MEM_XML, n);
        if (carry == NULL)
            return HERALD_ENOMEM;
        memcpy(carry, s->rest, n);
    }
    parser_destroy(s);
    arena_free(&s->header_arena);
    s->header = NULL;
    s->decls = NULL;
    s->nqueue = 0;
    if (parser_create(s)) {
        herald_free(HERALD_MEM_XML, carry);
        stream_fail(s, XML_SE_INTERNAL, "out of memory");
        return HERALD_ENOMEM;
    }
    herald_free(HERALD_MEM_XML, s->restart_data);
    s->restart_data = carry;
    s->restart_len = n;
    return HERALD_OK;
}

size_t xml_stream_buffered(const struct xml_stream *s)
{
    if (s->p == NULL)
        return 0;
    return (size_t)(s->fed - s->boundary) + s->restart_len * (s->restart_data != NULL);
}

void xml_stream_park(struct xml_stream *s)
{
    if (s->p == NULL || s->err || s->suspended || s->nqueue || s->restart_data || s->depth != 1 ||
        s->fed != s->boundary || s->header == NULL)
        return;
    parser_destroy(s);
    arena_free(&s->tb.arena);
    buf_cleanup(&s->tb.text);
    buf_init(&s->tb.text, s->lim.max_stanza_bytes);
}

bool xml_stream_is_parked(const struct xml_stream *s)
{
    return s->p == NULL;
}

const char *xml_stream_default_ns(const struct xml_stream *s)
{
    for (const struct nsdecl *d = s->decls; d; d = d->next)
        if (d->prefix == NULL)
            return d->uri;
    return NULL;
}

const char *xml_stream_other_ns_decl(const struct xml_stream *s)
{
    const char *header_ns = s->header && s->header->ns ? s->header->ns : "";
    for (const struct nsdecl *d = s->decls; d; d = d->next)
        if (d->prefix != NULL && strcmp(d->prefix, "xml") != 0 && strcmp(d->uri, header_ns) != 0)
            return d->uri;
    return NULL;
}

const struct xml_node *xml_stream_header(const struct xml_stream *s)
{
    return s->header;
}

struct xml_node *xml_stream_stanza(const struct xml_stream *s)
{
    return s->stanza_arena ? s->tb.root : NULL;
}

struct arena *xml_stream_arena(const struct xml_stream *s)
{
    return s->stanza_arena;
}

enum xml_stream_error xml_stream_error(const struct xml_stream *s)
{
    return s->err;
}

const char *xml_stream_error_text(const struct xml_stream *s)
{
    return s->err_text ? s->err_text : "";
}

const char *xml_stream_error_condition(enum xml_stream_error e)
{
    switch (e) {
    case XML_SE_NONE:
        return "";
    case XML_SE_NOT_WELL_FORMED:
        return "not-well-formed";
    case XML_SE_RESTRICTED_XML:
        return "restricted-xml";
    case XML_SE_POLICY_VIOLATION:
        return "policy-violation";
    case XML_SE_UNSUPPORTED_ENCODING:
        return "unsupported-encoding";
    case XML_SE_BAD_NAMESPACE_PREFIX:
        return "bad-namespace-prefix";
    case XML_SE_BAD_FORMAT:
        return "bad-format";
    case XML_SE_INTERNAL:
        return "internal-server-error";
    }
    return "undefined-condition";
}

/* ---- standalone fragments ---- */

struct frag_ctx {
    struct tree_builder tb;
    XML_Parser p;
    bool failed;
};

static void frag_fail(struct frag_ctx *f)
{
    if (!f->failed)
        XML_StopParser(f->p, XML_FALSE);
    f->failed = true;
}

static void XMLCALL frag_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
    struct frag_ctx *f = ud;
    const char *why;
    if (f->failed || tb_start(&f->tb, name, atts, &why))
        frag_fail(f);
}

static void XMLCALL frag_end(void *ud, const XML_Char *name)
{
    struct frag_ctx *f = ud;
    const char *why;
    (void)name;
    if (f->failed || tb_end(&f->tb, &why))
        frag_fail(f);
}

static void XMLCALL frag_text(void *ud, const XML_Char *s, int len)
{
    struct frag_ctx *f = ud;
    const char *why;
    if (f->failed)
        return;
    if (f->tb.depth == 0) {
        if (!is_xml_space(s, (size_t)len))
            frag_fail(f);
        return;
    }
    if (tb_text(&f->tb, s, len, &why))
        frag_fail(f);
}

static void XMLCALL frag_restricted_doctype(void *ud, const XML_Char *n, const XML_Char *sys,
                                            const XML_Char *pub, int internal)
{
    (void)n, (void)sys, (void)pub, (void)internal;
    frag_fail(ud);
}
static void XMLCALL frag_restricted_pi(void *ud, const XML_Char *t, const XML_Char *d)
{
    (void)t, (void)d;
    frag_fail(ud);
}
static void XMLCALL frag_restricted_comment(void *ud, const XML_Char *d)
{
    (void)d;
    frag_fail(ud);
}

enum herald_rc xml_parse_fragment(struct arena *a, const char *data, size_t len, unsigned max_depth,
                                  struct xml_node **root)
{
    if (len > INT32_MAX)
        return HERALD_ELIMIT;
    struct frag_ctx f = {.tb = {.arena = a, .max_depth = max_depth, .max_attrs = 1u << 16}};
    buf_init(&f.tb.text, len + 1);
    f.p = XML_ParserCreate_MM("UTF-8", &mm_suite, (XML_Char[]){NS_SEP, 0});
    if (f.p == NULL)
        return HERALD_ENOMEM;
    XML_SetReturnNSTriplet(f.p, 1);
    XML_SetUserData(f.p, &f);
    XML_SetElementHandler(f.p, frag_start, frag_end);
    XML_SetCharacterDataHandler(f.p, frag_text);
    XML_SetStartDoctypeDeclHandler(f.p, frag_restricted_doctype);
    XML_SetProcessingInstructionHandler(f.p, frag_restricted_pi);
    XML_SetCommentHandler(f.p, frag_restricted_comment);
    enum XML_Status st = XML_Parse(f.p, data, (int)len, XML_TRUE);
    enum XML_Error code = XML_GetErrorCode(f.p);
    XML_ParserFree(f.p);
    buf_cleanup(&f.tb.text);
    if (st != XML_STATUS_OK || f.failed || f.tb.root == NULL)
        return code == XML_ERROR_NO_MEMORY ? HERALD_ENOMEM : HERALD_EPROTO;
    *root = f.tb.root;
    return HERALD_OK;
}
