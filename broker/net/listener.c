/*
 * listener.c - bind listeners, accept connections under the configured caps, track
 * per-address connection counts and authentication failures, write the ready file,
 * and reap closed connections at the end of each loop turn.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "herald/log.h"
#include "herald/server.h"
#include "net_int.h"

#define AUTH_FAILURE_MEMORY_MS (10ULL * 60 * 1000)
#define AUTH_DELAY_CAP_MS      30000

static const char *kind_name(enum listener_kind k)
{
    switch (k) {
    case LISTENER_C2S:
        return "c2s";
    case LISTENER_C2S_TLS:
        return "c2s_tls";
    case LISTENER_C2S_INSECURE:
        return "c2s_insecure";
    }
    return "?";
}

static bool addr_is_loopback(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
    if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
        if (IN6_IS_ADDR_LOOPBACK(a))
            return true;
        return IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127;
    }
    return false;
}

static void addr_string(const struct sockaddr *sa, char *out, size_t outlen)
{
    const void *src = sa->sa_family == AF_INET6
                          ? (const void *)&((const struct sockaddr_in6 *)sa)->sin6_addr
                          : (const void *)&((const struct sockaddr_in *)sa)->sin_addr;
    if (inet_ntop(sa->sa_family, src, out, (socklen_t)outlen) == NULL)
        snprintf(out, outlen, "?");
}

static struct ip_entry *ip_get(struct net *n, const char *addr)
{
    struct ip_entry *e = hmap_get(&n->ips, addr, strlen(addr));
    if (e)
        return e;
    e = herald_calloc(HERALD_MEM_CONN, 1, sizeof(*e));
    if (e == NULL)
        return NULL;
    snprintf(e->addr, sizeof(e->addr), "%s", addr);
    if (hmap_put(&n->ips, e->addr, strlen(e->addr), e, NULL)) {
        herald_free(HERALD_MEM_CONN, e);
        return NULL;
    }
    return e;
}

static void ip_maybe_forget(struct net *n, struct ip_entry *e, uint64_t now)
{
    /* Kept while it has connections, recent failures, or registrations to count. */
    if (e->conns == 0 && (e->failures == 0 || now - e->last_failure_ms > AUTH_FAILURE_MEMORY_MS) &&
        (e->registrations == 0 || now - e->reg_window_ms > 3600 * 1000)) {
        hmap_del(&n->ips, e->addr, strlen(e->addr));
        herald_free(HERALD_MEM_CONN, e);
    }
}

void net_ip_release(struct net *n, struct ip_entry *ip)
{
    if (ip == NULL)
        return;
    herald_assert(ip->conns > 0);
    ip->conns--;
    ip_maybe_forget(n, ip, herald_now_ms());
}

bool net_registration_allowed(struct conn *c)
{
    struct ip_entry *e = c->ip;
    if (e == NULL)
        return true;
    uint64_t now = herald_now_ms();
    if (now - e->reg_window_ms > 3600 * 1000) {
        e->reg_window_ms = now;
        e->registrations = 0;
    }
    if (e->registrations >= c->net->srv->cfg.max_registrations_per_ip)
        return false;
    e->registrations++;
    return true;
}

uint64_t net_auth_failure(struct conn *c)
{
    struct ip_entry *e = c->ip;
    const struct herald_config *cfg = &c->net->srv->cfg;
    if (e == NULL)
        return cfg->auth_failure_delay_ms;
    uint64_t now = herald_now_ms();
    if (now - e->last_failure_ms > AUTH_FAILURE_MEMORY_MS)
        e->failures = 0;
    e->failures++;
    e->last_failure_ms = now;
    unsigned shift = e->failures - 1 > 7 ? 7 : e->failures - 1;
    uint64_t d = cfg->auth_failure_delay_ms << shift;
    return d > AUTH_DELAY_CAP_MS ? AUTH_DELAY_CAP_MS : d;
}

/* Periodically forget addresses with no connections and no recent failures. */
static void sweep_cb(evutil_socket_t fd, short what, void *arg)
{
    struct net *n = arg;
    (void)fd, (void)what;
    uint64_t now = herald_now_ms();
    size_t pos = 0;
    void *v;
    while (hmap_iter(&n->ips, &pos, NULL, NULL, &v))
        ip_maybe_forget(n, v, now);
}

static void accept_cb(struct evconnlistener *lev, evutil_socket_t fd, struct sockaddr *sa,
                      int salen, void *arg)
{
    struct listener *l = arg;
    struct net *n = l->net;
    const struct herald_config *cfg = &n->srv->cfg;
    char addr[48];
    (void)lev;
    addr_string(sa, addr, sizeof(addr));
    if (n->srv->stopping || n->nconns >= cfg->max_connections) {
        log_warn("refusing connection from %s: %s", addr,
                 n->srv->stopping ? "shutting down" : "max_connections reached");
        evutil_closesocket(fd);
        return;
    }
    /* Every address is tracked, loopback too: authentication failures slow down the
     * next attempts from the same address (net_auth_failure). Only the per-address
     * connection cap spares loopback. */
    struct ip_entry *ip = ip_get(n, addr);
    if (ip == NULL) {
        evutil_closesocket(fd);
        return;
    }
    if (!addr_is_loopback(sa) && cfg->max_connections_per_ip &&
        ip->conns >= cfg->max_connections_per_ip) {
        log_warn("refusing connection from %s: max_connections_per_ip reached", addr);
        ip_maybe_forget(n, ip, herald_now_ms());
        evutil_closesocket(fd);
        return;
    }
    ip->conns++;
    int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (conn_accept(n, fd, sa, salen, l->kind, ip)) {
        net_ip_release(n, ip);
        evutil_closesocket(fd);
    }
}

static void listener_error_cb(struct evconnlistener *lev, void *arg)
{
    struct listener *l = arg;
    int err = EVUTIL_SOCKET_ERROR();
    (void)lev;
    /* EMFILE and friends: keep listening; connections will be accepted when fds free. */
    log_error("accept() failed on %s %s:%u (errno: %d %s)", kind_name(l->kind), l->addr, l->port,
              err, evutil_socket_error_to_string(err));
}

/* Parse "host:port" or "[v6]:port". */
static enum herald_rc parse_endpoint(const char *s, struct sockaddr_storage *ss, int *len)
{
    char host[64];
    const char *colon;
    if (s[0] == '[') {
        const char *end = strchr(s, ']');
        if (end == NULL || end[1] != ':' || (size_t)(end - s - 1) >= sizeof(host))
            return HERALD_EINVAL;
        memcpy(host, s + 1, (size_t)(end - s - 1));
        host[end - s - 1] = '\0';
        colon = end + 1;
    } else {
        colon = strrchr(s, ':');
        if (colon == NULL || (size_t)(colon - s) >= sizeof(host))
            return HERALD_EINVAL;
        memcpy(host, s, (size_t)(colon - s));
        host[colon - s] = '\0';
    }
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || port < 0 || port > 65535)
        return HERALD_EINVAL;
    memset(ss, 0, sizeof(*ss));
    struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        in4->sin_port = htons((uint16_t)port);
        *len = sizeof(*in4);
        return HERALD_OK;
    }
    if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)port);
        *len = sizeof(*in6);
        return HERALD_OK;
    }
    return HERALD_EINVAL;
}

static enum herald_rc listen_one(struct net *n, const char *endpoint, enum listener_kind kind)
{
    struct sockaddr_storage ss;
    int len;
    if (parse_endpoint(endpoint, &ss, &len)) {
        log_error("invalid listener address '%s' (expected address:port)", endpoint);
        return HERALD_EINVAL;
    }
    struct listener *ls = realloc(n->listeners, (n->nlisteners + 1) * sizeof(*ls));
    if (ls == NULL)
        return HERALD_ENOMEM;
    n->listeners = ls;
    struct listener *l = &ls[n->nlisteners];
    memset(l, 0, sizeof(*l));
    l->net = n;
    l->kind = kind;
    l->lev = evconnlistener_new_bind(n->srv->base, accept_cb, NULL,
                                     LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE |
                                         LEV_OPT_CLOSE_ON_EXEC | LEV_OPT_DISABLED,
                                     4096, (struct sockaddr *)&ss, len);
    if (l->lev == NULL) {
        int err = EVUTIL_SOCKET_ERROR();
        log_error("cannot listen on %s (%s): %s", endpoint, kind_name(kind),
                  evutil_socket_error_to_string(err));
        return HERALD_EIO;
    }
    n->nlisteners++;
    /* The listener array may move on realloc: point callbacks at the final slots later. */
    struct sockaddr_storage bound;
    memset(&bound, 0, sizeof(bound)); /* the analyzer cannot see getsockname() fill it */
    socklen_t blen = sizeof(bound);
    if (getsockname(evconnlistener_get_fd(l->lev), (struct sockaddr *)&bound, &blen) != 0) {
        /* Without the bound port the ready file could not say where we listen. */
        log_error("getsockname() failed on %s (%s): %s", endpoint, kind_name(kind),
                  strerror(errno));
        return HERALD_EIO;
    }
    addr_string((struct sockaddr *)&bound, l->addr, sizeof(l->addr));
    l->port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                                : ((struct sockaddr_in *)&bound)->sin_port);
    log_notice("listening on %s port %u (%s)", l->addr, l->port, kind_name(kind));
    return HERALD_OK;
}

static enum herald_rc write_ready_file(struct net *n)
{
    const char *path = n->srv->cfg.ready_file;
    if (path == NULL || *path == '\0')
        return HERALD_OK;
    char tmp[4096];
    if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
        return HERALD_EINVAL;
    FILE *f = fopen(tmp, "w");
    if (f == NULL) {
        log_error("cannot write ready file %s: %s", tmp, strerror(errno));
        return HERALD_EIO;
    }
    for (size_t i = 0; i < n->nlisteners; i++)
        fprintf(f, "%s %s %u\n", kind_name(n->listeners[i].kind), n->listeners[i].addr,
                n->listeners[i].port);
    fprintf(f, "pid %ld\n", (long)getpid());
    bool ok = fflush(f) == 0 && fsync(fileno(f)) == 0;
    ok = fclose(f) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        log_error("cannot write ready file %s: %s", path, strerror(errno));
        return HERALD_EIO;
    }
    return HERALD_OK;
}

enum herald_rc net_new(struct server *srv, net_accept_fn on_accept, struct net **out)
{
    struct net *n = calloc(1, sizeof(*n));
    if (n == NULL)
        return HERALD_ENOMEM;
    n->srv = srv;
    n->on_accept = on_accept;
    hmap_init(&n->ips, HERALD_MEM_CONN);
    enum herald_rc rc = tls_ctx_load(n, &n->tls);
    if (rc) {
        hmap_cleanup(&n->ips);
        free(n);
        return rc;
    }
    n->sweep = event_new(srv->base, -1, EV_PERSIST, sweep_cb, n);
    if (n->sweep == NULL || event_add(n->sweep, &(struct timeval){60, 0})) {
        net_free(&n);
        return HERALD_ENOMEM;
    }
    *out = n;
    return HERALD_OK;
}

enum herald_rc net_listen(struct net *n)
{
    const struct herald_config *cfg = &n->srv->cfg;
    const struct {
        const struct config_list *list;
        enum listener_kind kind;
    } groups[] = {{&cfg->c2s_listen, LISTENER_C2S},
                  {&cfg->c2s_tls_listen, LISTENER_C2S_TLS},
                  {&cfg->c2s_insecure_listen, LISTENER_C2S_INSECURE}};
    for (size_t g = 0; g < HERALD_ARRAY_LEN(groups); g++) {
        for (size_t i = 0; i < groups[g].list->n; i++) {
            enum herald_rc rc = listen_one(n, groups[g].list->items[i], groups[g].kind);
            if (rc)
                return rc;
        }
    }
    for (size_t i = 0; i < n->nlisteners; i++) {
        evconnlistener_set_cb(n->listeners[i].lev, accept_cb, &n->listeners[i]);
        evconnlistener_set_error_cb(n->listeners[i].lev, listener_error_cb);
        if (evconnlistener_enable(n->listeners[i].lev))
            return HERALD_EIO;
    }
    return write_ready_file(n);
}

enum herald_rc net_reload_tls(struct net *n)
{
    SSL_CTX *ctx;
    enum herald_rc rc = tls_ctx_load(n, &ctx);
    if (rc)
        return rc;
    SSL_CTX_free(n->tls); /* live SSL objects keep their own reference */
    n->tls = ctx;
    return HERALD_OK;
}

void net_stop_listening(struct net *n)
{
    for (size_t i = 0; i < n->nlisteners; i++)
        evconnlistener_free(n->listeners[i].lev);
    free(n->listeners);
    n->listeners = NULL;
    n->nlisteners = 0;
}

void net_reap(struct net *n)
{
    /* Dead connections leave the flush list before they are freed. */
    if (n->reap) {
        struct conn **pp = &n->flush;
        while (*pp) {
            if ((*pp)->dead) {
                (*pp)->in_flush = false;
                *pp = (*pp)->flush_next;
            } else {
                pp = &(*pp)->flush_next;
            }
        }
    }
    /* on_closed may close further connections: take the list until it stays empty. */
    while (n->reap) {
        struct conn *c = n->reap;
        n->reap = c->reap_next;
        conn_destroy(c);
    }
}

void net_close_all(struct net *n)
{
    for (struct conn *c = n->all; c; c = c->next) {
        if (c->ops && c->ops->on_shutdown && !c->closing && !c->dead)
            c->ops->on_shutdown(c->owner, c);
        conn_close(c);
    }
}

bool net_reap_pending(const struct net *n)
{
    return n->reap != NULL;
}

size_t net_conn_count(const struct net *n)
{
    return n->nconns;
}

void net_free(struct net **np)
{
    struct net *n = np ? *np : NULL;
    if (n == NULL)
        return;
    net_stop_listening(n);
    net_reap(n);
    if (n->sweep)
        event_free(n->sweep);
    size_t pos = 0;
    void *v;
    while (hmap_iter(&n->ips, &pos, NULL, NULL, &v))
        herald_free(HERALD_MEM_CONN, v);
    hmap_cleanup(&n->ips);
    SSL_CTX_free(n->tls);
    free(n);
    *np = NULL;
}
