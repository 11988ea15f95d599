/*
 * c2s.h - client-to-server streams (RFC 6120): the stream layer's entry point.
 */
#ifndef HERALD_C2S_H
#define HERALD_C2S_H

#include "herald/common.h"

struct server;
struct conn;

/* Register the stream layer's iq handlers (the legacy session request). */
HERALD_MUST_CHECK enum herald_rc c2s_init(struct server *srv);
/* net_accept_fn for client listeners: takes ownership of the connection's input. */
HERALD_MUST_CHECK enum herald_rc c2s_accept(struct server *srv, struct conn *conn);

#endif
