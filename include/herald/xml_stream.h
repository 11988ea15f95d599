/*
 * xml_stream.h - incremental, namespace-aware parser for one XML stream (RFC 6120 §4, §11).
 *
 * The parser turns bytes into events: the stream header, one event per complete top-level
 * element ("stanza", which includes stream-level elements such as <starttls/> or <auth/>),
 * and the closing tag. It never calls back into the application: the caller pulls events.
 *
 *     ev = xml_stream_feed(s, data, len);
 *     while (ev != XML_STREAM_NONE && ev != XML_STREAM_ERROR) {
 *         ... handle ev (xml_stream_header / xml_stream_stanza) ...
 *         ev = xml_stream_next(s);
 *     }
 *
 * All fed bytes are copied; `data` may be released when feed returns. Between feed/next
 * calls the stanza tree of the last XML_STREAM_STANZA event is valid, in its own arena
 * (xml_stream_arena) that handlers may also use for replies; the next feed/next call
 * frees it. The stream layer is the only owner of stanza arenas.
 *
 * Restricted XML (RFC 6120 §11.1): a DTD, entity declaration, processing instruction or
 * comment ends the stream with XML_SE_RESTRICTED_XML. Limits (stanza bytes, depth,
 * attributes) end it with XML_SE_POLICY_VIOLATION. After XML_STREAM_ERROR the stream is
 * dead: only xml_stream_free is valid.
 *
 * Memory for idle sessions: xml_stream_park() releases the expat parser (about 10 kB)
 * when the stream sits between stanzas with nothing buffered; the next feed rebuilds it
 * from the remembered namespace declarations of the stream header, invisibly.
 */
#ifndef HERALD_XML_STREAM_H
#define HERALD_XML_STREAM_H

#include "herald/common.h"
#include "herald/xml.h"

struct xml_stream;

struct xml_stream_limits {
    size_t max_stanza_bytes; /* bytes of one top-level element, or of the header */
    unsigned max_depth;      /* element nesting inside a stanza (stanza element = 1) */
    unsigned max_attrs;      /* attributes of one element */
    size_t max_token_bytes;  /* one unfinished tag (bounds expat's re-scanning work) */
};

enum xml_stream_event {
    XML_STREAM_NONE = 0, /* all input consumed; feed more */
    XML_STREAM_OPEN,     /* a stream header was read: see xml_stream_header() */
    XML_STREAM_STANZA,   /* a complete top-level element: see xml_stream_stanza() */
    XML_STREAM_CLOSE,    /* the peer closed the stream (</stream:stream>) */
    XML_STREAM_ERROR,    /* see xml_stream_error(); the stream is unusable */
};

/* Stream-level problems, named after the RFC 6120 §4.9.3 conditions they map to. */
enum xml_stream_error {
    XML_SE_NONE = 0,
    XML_SE_NOT_WELL_FORMED,      /* not-well-formed */
    XML_SE_RESTRICTED_XML,       /* restricted-xml */
    XML_SE_POLICY_VIOLATION,     /* policy-violation (a limit) */
    XML_SE_UNSUPPORTED_ENCODING, /* unsupported-encoding */
    XML_SE_BAD_NAMESPACE_PREFIX, /* bad-namespace-prefix */
    XML_SE_BAD_FORMAT,           /* bad-format: e.g. text at stream level */
    XML_SE_INTERNAL,             /* internal-server-error (out of memory) */
};

/* NULL on ENOMEM. The limits are copied. */
HERALD_MUST_CHECK struct xml_stream *xml_stream_new(const struct xml_stream_limits *limits);
void xml_stream_free(struct xml_stream **s);

/* Parse `len` more bytes; returns the first event (see the loop above). */
enum xml_stream_event xml_stream_feed(struct xml_stream *s, const char *data, size_t len);
/* Continue after an event; XML_STREAM_NONE when the fed bytes are used up. */
enum xml_stream_event xml_stream_next(struct xml_stream *s);

/* The default namespace the stream header declared (e.g. "jabber:client"), or NULL. */
const char *xml_stream_default_ns(const struct xml_stream *s);
/* A prefixed namespace the stream header declared besides the one of its own element (the
 * stream namespace) and the xml prefix, or NULL: RFC 6120 §4.8.5 keeps stanza content
 * namespaces out of it. The string belongs to the stream: valid until restart/free. */
const char *xml_stream_other_ns_decl(const struct xml_stream *s);
/* The stream header element (attributes, namespace, name); valid until restart/free. */
const struct xml_node *xml_stream_header(const struct xml_stream *s);
/* The stanza of the last XML_STREAM_STANZA event and its arena. */
struct xml_node *xml_stream_stanza(const struct xml_stream *s);
struct arena *xml_stream_arena(const struct xml_stream *s);
/* Which error ended the stream, and a short human-readable reason (static or owned by s). */
enum xml_stream_error xml_stream_error(const struct xml_stream *s);
const char *xml_stream_error_text(const struct xml_stream *s);
/* RFC 6120 condition element name of an error, e.g. "restricted-xml". */
const char *xml_stream_error_condition(enum xml_stream_error e);

/*
 * Expect a new stream header next (after SASL success, RFC 6120 §6.4.6). Bytes already
 * fed after the current stanza are kept and parsed as the new stream. Call it while
 * handling the event that asks for the restart, then continue with xml_stream_next().
 */
HERALD_MUST_CHECK enum herald_rc xml_stream_restart(struct xml_stream *s);
/* Bytes fed but not yet turned into events (e.g. data a client sent after <starttls/>). */
size_t xml_stream_buffered(const struct xml_stream *s);
/* Release the expat parser if the stream is between stanzas with nothing buffered. */
void xml_stream_park(struct xml_stream *s);
/* Bytes of memory the stream holds now (parser, buffers), for accounting and tests. */
bool xml_stream_is_parked(const struct xml_stream *s);

#endif
