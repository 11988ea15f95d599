/*
 * stanza.h - a parsed view of a stanza and the XMPP stanza-error vocabulary.
 *
 * struct stanza borrows the tree and arena of the stream event it came from: valid until
 * the handler returns. `from` is always the authenticated sender (stamped by the stream
 * layer or set by the internal service that made the stanza); `to` is absent (has_to
 * false) when the sender addressed its own account.
 *
 * Errors (RFC 6120 §8.3) are a value, struct xmpp_error; handlers fill one and call
 * stanza_reply_error(). They are never mixed with enum herald_rc.
 */
#ifndef HERALD_STANZA_H
#define HERALD_STANZA_H

#include "herald/arena.h"
#include "herald/jid.h"
#include "herald/xml.h"

#define XMPP_NS_CLIENT  "jabber:client"
#define XMPP_NS_STREAMS "http://etherx.jabber.org/streams"
#define XMPP_NS_STANZAS "urn:ietf:params:xml:ns:xmpp-stanzas"

enum stanza_kind { STANZA_MESSAGE, STANZA_PRESENCE, STANZA_IQ };

struct stanza {
    struct xml_node *node;
    struct arena *arena;
    enum stanza_kind kind;
    const char *type; /* NULL when absent */
    const char *id;   /* NULL when absent */
    struct jid from;
    struct jid to;
    bool has_to;
    const char *from_str; /* canonical full form of from */
};

enum xmpp_error_type {
    XMPP_ERROR_AUTH,
    XMPP_ERROR_CANCEL,
    XMPP_ERROR_CONTINUE,
    XMPP_ERROR_MODIFY,
    XMPP_ERROR_WAIT
};

struct xmpp_error {
    const char *condition; /* RFC 6120 §8.3.3 element name, e.g. "item-not-found" */
    enum xmpp_error_type type;
    const char *text;   /* optional human-readable text */
    const char *app_ns; /* optional application condition, e.g. pubsub#errors */
    const char *app_name;
    const char *app_attr; /* optional attribute on it, e.g. "feature" */
    const char *app_attr_value;
    const char *redirect; /* text of <gone/> or <redirect/>: the new address */
};

/* An error with the RFC's usual type for that condition. */
struct xmpp_error xmpp_error_of(const char *condition);
/* With an application-specific condition (XEP-0060 §7 etc.). */
struct xmpp_error xmpp_error_app(const char *condition, const char *app_ns, const char *app_name);
const char *xmpp_error_type_name(enum xmpp_error_type t);

/*
 * Fill a stanza view from a parsed element in namespace jabber:client. Returns
 * HERALD_EINVAL with *err set (jid-malformed / bad-request) when the addresses or the
 * iq shape are invalid (RFC 6120 §8.1, §8.2.3). Does not set `from`.
 */
HERALD_MUST_CHECK enum herald_rc stanza_parse(struct arena *a, struct xml_node *n,
                                              struct stanza *out, struct xmpp_error *err);

/*
 * Build the error reply to `st` (RFC 6120 §8.3.1): same kind and id, type='error',
 * from and to swapped (`from` given explicitly: the address that answers), with the
 * <error/> child. NULL on arena exhaustion.
 */
HERALD_MUST_CHECK struct xml_node *stanza_error_reply(struct arena *a, const struct stanza *st,
                                                      const char *from, const struct xmpp_error *e);
/* The <error/> element alone (for use inside other replies). */
HERALD_MUST_CHECK struct xml_node *stanza_error_elem(struct arena *a, const struct xmpp_error *e);

/* Is the stanza's type attribute `type`? False when it has none. */
bool stanza_is_type(const struct stanza *st, const char *type);
/*
 * The address that answers `st`: its 'to', or the sender's bare JID when it had none (the
 * sender's own account, RFC 6120 §10.3). In st->arena; NULL on arena exhaustion.
 */
const char *stanza_reply_from(const struct stanza *st);

/* An iq result to `st` from `from`, with optional payload (linked, not copied). */
HERALD_MUST_CHECK struct xml_node *stanza_iq_result(struct arena *a, const struct stanza *st,
                                                    const char *from, struct xml_node *payload);

#endif
