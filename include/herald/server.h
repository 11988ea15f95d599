/*
 * server.h - the broker's context: everything a module may need, passed down explicitly
 * (there are no process-wide singletons). server.c owns and writes these fields; other
 * modules only read them, except through the functions below.
 */
#ifndef HERALD_SERVER_H
#define HERALD_SERVER_H

#include "herald/common.h"
#include "herald/config.h"

struct event_base;
struct store;
struct router;
struct net;
struct pubsub_registry;
struct im;

struct server {
    struct event_base *base;
    struct herald_config cfg; /* replaced field by field on SIGHUP (reloadable ones) */
    const char *config_path;  /* NULL when started without -c */
    char **overrides;         /* -o name=value, re-applied on SIGHUP (borrowed from argv) */
    size_t noverrides;
    void *priv; /* server.c's own state */
    struct store *store;
    struct router *router;
    struct net *net;
    struct im *im;
    struct pubsub_registry *pubsub;
    bool stopping;
    uint8_t secret[32]; /* random, kept in the store: keys derived values (SASL fake salts) */
};

/* Build everything from the configuration and bind the listeners. */
HERALD_MUST_CHECK enum herald_rc server_init(struct server *srv, const char *config_path,
                                             const char *const *overrides, size_t noverrides);
/* Run the loop until SIGTERM/SIGINT (or server_stop). Returns 0 on a clean stop. */
int server_run(struct server *srv);
/* Ask the loop to stop after this turn (streams are closed, storage synced). */
void server_stop(struct server *srv);
void server_cleanup(struct server *srv);

/*
 * Register work to run at the end of the current loop turn, after the store commit:
 * used to resume long fan-outs across turns. While any is pending, the loop does not
 * block waiting for I/O.
 */
typedef void (*server_turn_cb)(struct server *srv, void *arg);
HERALD_MUST_CHECK enum herald_rc server_defer(struct server *srv, server_turn_cb fn, void *arg);

#endif
