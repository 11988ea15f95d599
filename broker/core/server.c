/*
 * server.c - build the broker from its configuration, run the loop, stop cleanly.
 *
 * The loop turn. Each turn runs the ready I/O callbacks (requests are handled there and
 * their writes collected in the store's turn transaction), then ends with, in order:
 *   1. store_flush(): one commit and one sync for the whole turn (group commit), then the
 *      commit callbacks (iq results, notifications: only committed data is announced);
 *   2. deferred work (fan-outs continued across turns);
 *   3. net_reap(): connections that closed are freed, after 1 and 2, so a callback of
 *      this turn never sees a freed connection (what their owners write on the way out
 *      is committed too);
 *   4. net_flush(): every connection's queued output is written (coalesced: one write
 *      for all the notifications of the turn).
 * When work is pending the next turn does not block waiting for I/O.
 */
#include <errno.h>
#include <event2/event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/random.h>
#include <sys/stat.h>

#include "herald/c2s.h"
#include "herald/disco.h"
#include "herald/im.h"
#include "herald/log.h"
#include "herald/net.h"
#include "herald/pubsub.h"
#include "herald/register.h"
#include "herald/router.h"
#include "herald/server.h"
#include "herald/store.h"

#define SHUTDOWN_GRACE_S 5

struct deferred {
    server_turn_cb fn;
    void *arg;
};

/* Deferred work and signal events live here rather than in struct server: only this file
 * touches them. */
struct server_private {
    struct deferred *work;
    size_t nwork, capwork;
    struct event *sig_term, *sig_int, *sig_hup;
};

static struct server_private *priv_of(struct server *srv)
{
    return (struct server_private *)srv->priv;
}

enum herald_rc server_defer(struct server *srv, server_turn_cb fn, void *arg)
{
    struct server_private *p = priv_of(srv);
    if (p->nwork == p->capwork) {
        size_t cap = p->capwork ? p->capwork * 2 : 16;
        struct deferred *w = realloc(p->work, cap * sizeof(*w));
        if (w == NULL)
            return HERALD_ENOMEM;
        p->work = w;
        p->capwork = cap;
    }
    p->work[p->nwork++] = (struct deferred){fn, arg};
    return HERALD_OK;
}

static void server_turn_end(struct server *srv)
{
    struct server_private *p = priv_of(srv);
    store_flush(srv->store);
    size_t n = p->nwork;
    for (size_t i = 0; i < n; i++)
        p->work[i].fn(srv, p->work[i].arg);
    if (n) {
        memmove(p->work, p->work + n, (p->nwork - n) * sizeof(*p->work));
        p->nwork -= n;
    }
    /* Work done in the callbacks above may have written: commit it in this turn too. */
    if (store_dirty(srv->store))
        store_flush(srv->store);
    /* Connections that closed are freed; their owners' goodbyes (unavailable presence)
     * may write and queue output, which goes out with the rest. Writing may in turn
     * finish closes (output drained): reap those too, until nothing is left. */
    do {
        net_reap(srv->net);
        if (store_dirty(srv->store))
            store_flush(srv->store);
        /* Everything queued for the network in this turn goes out now, one write per
         * connection, however many stanzas it holds. */
        net_flush(srv->net);
    } while (net_reap_pending(srv->net));
}

static void on_stop_signal(evutil_socket_t sig, short what, void *arg)
{
    struct server *srv = arg;
    (void)what;
    log_notice("received signal %d: shutting down", (int)sig);
    server_stop(srv);
}

static void on_reload_signal(evutil_socket_t sig, short what, void *arg)
{
    struct server *srv = arg;
    (void)sig, (void)what;
    struct herald_config fresh;
    if (config_load(&fresh, srv->config_path, (const char *const *)srv->overrides, srv->noverrides,
                    stderr)) {
        log_error("SIGHUP: the configuration has errors; keeping the running one");
        return;
    }
    if (config_reload_into(&srv->cfg, &fresh)) {
        log_error("SIGHUP: out of memory while reloading");
        config_free(&fresh);
        return;
    }
    config_free(&fresh);
    if (log_open(srv->cfg.log_file, (enum log_level)srv->cfg.log_level))
        log_error("SIGHUP: cannot reopen log file %s", srv->cfg.log_file);
    if (net_reload_tls(srv->net))
        log_error("SIGHUP: keeping the previous TLS certificate");
    log_notice("configuration reloaded");
}

/* The server secret survives restarts: values derived from it must stay stable. */
static enum herald_rc server_load_secret(struct server *srv)
{
    static const char key[] = "server_secret";
    struct store_txn *t;
    const void *v;
    size_t vlen;
    enum herald_rc rc = store_read(srv->store, &t);
    if (rc)
        return rc;
    rc = store_get(t, STORE_DB_META, key, sizeof(key) - 1, &v, &vlen);
    if (rc == HERALD_OK && vlen == sizeof(srv->secret)) {
        memcpy(srv->secret, v, vlen);
        return HERALD_OK;
    }
    if (getrandom(srv->secret, sizeof(srv->secret), 0) != (ssize_t)sizeof(srv->secret))
        return HERALD_EIO;
    if ((rc = store_begin(srv->store, &t)))
        return rc;
    if ((rc =
             store_put(t, STORE_DB_META, key, sizeof(key) - 1, srv->secret, sizeof(srv->secret)))) {
        store_abort(&t);
        return rc;
    }
    if ((rc = store_commit(&t)))
        return rc;
    store_flush(srv->store);
    return HERALD_OK;
}

/* Room for every connection we may accept, plus files and listeners. */
static void raise_fd_limit(uint64_t want)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return;
    rlim_t target = (rlim_t)want + 256;
    if (rl.rlim_cur >= target)
        return;
    rl.rlim_cur = target < rl.rlim_max ? target : rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur < target)
        log_warn("file descriptor limit is %llu, below max_connections %llu",
                 (unsigned long long)rl.rlim_cur, (unsigned long long)want);
}

enum herald_rc server_init(struct server *srv, const char *config_path,
                           const char *const *overrides, size_t noverrides)
{
    memset(srv, 0, sizeof(*srv));
    srv->config_path = config_path;
    srv->overrides = (char **)overrides;
    srv->noverrides = noverrides;
    srv->priv = calloc(1, sizeof(struct server_private));
    if (srv->priv == NULL)
        return HERALD_ENOMEM;
    enum herald_rc rc = config_load(&srv->cfg, config_path, overrides, noverrides, stderr);
    if (rc)
        return rc;
    if (log_open(srv->cfg.log_file, (enum log_level)srv->cfg.log_level)) {
        fprintf(stderr, "herald: cannot open log file %s\n", srv->cfg.log_file);
        return HERALD_EIO;
    }
    signal(SIGPIPE, SIG_IGN);
    raise_fd_limit(srv->cfg.max_connections);
    struct event_config *ec = event_config_new();
    if (ec == NULL)
        return HERALD_ENOMEM;
    event_config_set_flag(ec, EVENT_BASE_FLAG_NOLOCK); /* one thread owns the loop */
    srv->base = event_base_new_with_config(ec);
    event_config_free(ec);
    if (srv->base == NULL)
        return HERALD_ENOMEM;
    if (herald_mkdir_p(srv->cfg.data_dir)) {
        log_error("cannot create data_dir %s: %s", srv->cfg.data_dir, strerror(errno));
        return HERALD_EIO;
    }
    char dbdir[4096];
    if (config_store_dir(&srv->cfg, dbdir, sizeof(dbdir))) {
        log_error("data_dir %s: the path is too long", srv->cfg.data_dir);
        return HERALD_EINVAL;
    }
    struct store_options so = {srv->cfg.store_map_size, srv->cfg.store_sync};
    if ((rc = store_open(dbdir, &so, &srv->store)))
        return rc;
    if ((rc = server_load_secret(srv)))
        return rc;
    if ((srv->router = router_new(srv)) == NULL)
        return HERALD_ENOMEM;
    if ((rc = im_new(srv, &srv->im)) || (rc = c2s_init(srv)) ||
        (rc = pubsub_init(srv, &srv->pubsub)) || (rc = register_init(srv)) ||
        (rc = disco_init(srv)))
        return rc;
    if ((rc = net_new(srv, c2s_accept, &srv->net)) || (rc = net_listen(srv->net)))
        return rc;
    struct server_private *p = priv_of(srv);
    p->sig_term = evsignal_new(srv->base, SIGTERM, on_stop_signal, srv);
    p->sig_int = evsignal_new(srv->base, SIGINT, on_stop_signal, srv);
    p->sig_hup = evsignal_new(srv->base, SIGHUP, on_reload_signal, srv);
    if (!p->sig_term || !p->sig_int || !p->sig_hup || event_add(p->sig_term, NULL) ||
        event_add(p->sig_int, NULL) || event_add(p->sig_hup, NULL))
        return HERALD_ENOMEM;
    log_notice("herald serving %s (data in %s, %s commits)", srv->cfg.domain, srv->cfg.data_dir,
               srv->cfg.store_sync ? "durable" : "unsynced");
    return HERALD_OK;
}

void server_stop(struct server *srv)
{
    srv->stopping = true;
    event_base_loopbreak(srv->base);
}

static void close_session_cb(struct session *s, void *arg)
{
    (void)arg;
    s->ops->close(s, "system-shutdown", "the server is shutting down");
}

int server_run(struct server *srv)
{
    struct server_private *p = priv_of(srv);
    while (!srv->stopping) {
        bool busy = store_dirty(srv->store) || p->nwork > 0;
        if (event_base_loop(srv->base, busy ? EVLOOP_NONBLOCK : EVLOOP_ONCE) < 0) {
            log_error("event loop failed");
            break;
        }
        server_turn_end(srv);
    }
    /* Graceful stop: no new connections, every stream closed (RFC 6120 §4.9.3.20
     * system-shutdown), storage committed, then wait briefly for output to drain. */
    net_stop_listening(srv->net);
    router_foreach_session(srv->router, close_session_cb, NULL);
    net_close_all(srv->net);
    server_turn_end(srv);
    uint64_t deadline = herald_now_ms() + (uint64_t)SHUTDOWN_GRACE_S * 1000;
    while (net_conn_count(srv->net) > 0 && herald_now_ms() < deadline) {
        event_base_loopexit(srv->base, &(struct timeval){0, 100000});
        event_base_loop(srv->base, EVLOOP_ONCE);
        server_turn_end(srv);
    }
    log_notice("stopped");
    return 0;
}

void server_cleanup(struct server *srv)
{
    struct server_private *p = srv->priv ? priv_of(srv) : NULL;
    net_free(&srv->net);
    pubsub_free(&srv->pubsub);
    im_free(&srv->im);
    router_free(&srv->router);
    store_close(&srv->store);
    if (p) {
        if (p->sig_term)
            event_free(p->sig_term);
        if (p->sig_int)
            event_free(p->sig_int);
        if (p->sig_hup)
            event_free(p->sig_hup);
        free(p->work);
        free(p);
        srv->priv = NULL;
    }
    if (srv->base)
        event_base_free(srv->base);
    srv->base = NULL;
    config_free(&srv->cfg);
    log_close();
}
