/*
 * im.h - instant messaging and presence (RFC 6121): rosters, subscriptions, presence
 * broadcast and probes. The router hands presence stanzas here; the stream layer tells
 * it when sessions start and end.
 *
 * Rosters, roster versions and pending subscription requests live in LMDB (roster_store.h).
 * Whatever a change makes known (iq results, roster pushes, subscription stanzas) is sent
 * after the turn's commit; what im sends keeps its order. A session's presence state is
 * in struct session (available, interested, priority, presence); session->im is broker/im's
 * own (directed presence), freed by im_session_ending() or im_free().
 */
#ifndef HERALD_IM_H
#define HERALD_IM_H

#include "herald/common.h"
#include "herald/stanza.h"

struct server;
struct session;
struct im;

/* Registers the roster iq handler and the server features it provides. */
HERALD_MUST_CHECK enum herald_rc im_new(struct server *srv, struct im **out);
void im_free(struct im **im);

/* Presence sent by a local session (RFC 6121 §3, §4): broadcast, directed, subscriptions. */
void im_presence_outbound(struct server *srv, struct session *from, struct stanza *st);
/* Presence addressed to a local account or resource (from anyone, including services). */
void im_presence_inbound(struct server *srv, struct stanza *st);
/* A resource was bound; a session is ending (sends unavailable presence as needed: to
 * the subscribers and to whoever had directed presence). The session may be ending while
 * closed connections are reaped: what this sends goes out with the next loop turn. */
void im_session_bound(struct server *srv, struct session *s);
void im_session_ending(struct server *srv, struct session *s);
/*
 * Delete the registered account `bare` as RFC 6121 wants it gone (XEP-0077 §3.2): each
 * contact hears what removing it from the account's roster would tell it (§2.5.2: the
 * contacts' rosters change and are pushed), and the account's records go
 * (accounts_delete), all in one request transaction: on failure nothing is written and
 * nobody is told. What it sends goes out after the turn's commit. The account's
 * sessions are left to the caller. HERALD_ENOTFOUND when there is no such account.
 */
HERALD_MUST_CHECK enum herald_rc im_account_delete(struct server *srv, const char *bare);
/* Does a registered or connected account exist for this bare JID? */
bool im_account_exists(struct server *srv, const char *bare);
/* The subscription state between an account and a contact (for access decisions:
 * pubsub presence and roster access models). Both bare JIDs. */
enum im_subscription { IM_SUB_NONE, IM_SUB_TO, IM_SUB_FROM, IM_SUB_BOTH };
HERALD_MUST_CHECK enum herald_rc im_roster_relation(struct server *srv, const char *owner,
                                                    const char *contact, enum im_subscription *sub,
                                                    bool *in_roster);
/* Is `contact` in one of `groups` (NULL-terminated) of owner's roster? */
bool im_roster_in_groups(struct server *srv, const char *owner, const char *contact,
                         const char *const *groups, size_t ngroups);

#endif
