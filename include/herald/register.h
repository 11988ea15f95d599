/*
 * register.h - in-band registration (XEP-0077), offered while the `registration` setting
 * is on: creating an account on a stream that is not authenticated yet (§3.1), and for an
 * authenticated session asking for its registration (§3.1), changing its password (§3.3)
 * or cancelling it (§3.2).
 *
 * An answer that depends on a write (the account exists, its password changed, it is
 * gone) is sent only after the turn's commit (store_on_commit): nobody hears of a change
 * a crash could take back. A cancellation then ends every stream of the account with the
 * stream error <not-authorized/> (§3.2) and tells its contacts what removing it from the
 * roster would (im_account_delete).
 */
#ifndef HERALD_REGISTER_H
#define HERALD_REGISTER_H

#include "herald/arena.h"
#include "herald/common.h"
#include "herald/xml.h"

#define NS_REGISTER "jabber:iq:register"

struct server;

/* Registers the iq handlers for authenticated sessions (to the server or the account). */
HERALD_MUST_CHECK enum herald_rc register_init(struct server *srv);

/*
 * Puts a reply on a stream that has no session yet. `reply` is borrowed for the call
 * only; it has no 'from' or 'to' (the stream is the address).
 */
typedef void (*register_send_cb)(void *arg, const struct xml_node *reply);

/*
 * An iq whose child is in jabber:iq:register, on a stream that is not authenticated
 * (§3.1). iq and a are the stanza's, borrowed for the call. Every reply goes through
 * send(arg, reply), the one to a registration after the turn's commit: arg must stay
 * valid until the turn's commit callbacks have run (the stream layer's connections are
 * freed only after them, see server.c).
 */
void register_handle_unauthenticated(struct server *srv, struct xml_node *iq, struct arena *a,
                                     register_send_cb send, void *arg);

#endif
