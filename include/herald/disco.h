/*
 * disco.h - XEP-0030 service discovery for the server and accounts, XEP-0199 ping and
 * XEP-0092 software version of the server.
 */
#ifndef HERALD_DISCO_H
#define HERALD_DISCO_H

#include "herald/common.h"

#define NS_DISCO_INFO  "http://jabber.org/protocol/disco#info"
#define NS_DISCO_ITEMS "http://jabber.org/protocol/disco#items"
#define NS_PING        "urn:xmpp:ping"

struct server;

/* Register the handlers; call after the other modules added their server features. */
HERALD_MUST_CHECK enum herald_rc disco_init(struct server *srv);

#endif
