/* herald-bench: XMPP publish-subscribe fan-out and idle-session load generator.
 *
 * Fan-out mode: one publisher creates a node, N subscribers connect (paced), authenticate,
 * bind, send presence and subscribe; then the publisher publishes M items keeping W publishes
 * outstanding, and every subscriber records the end-to-end latency of each notification from
 * the send timestamp carried in the payload. Idle mode: N sessions log in and stay; the
 * server's RSS before and after gives bytes per session. See bench/README.md. */
#include "hb.h"

#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/random.h>
#include <sys/resource.h>

#define TICK_US       10000
#define RSS_EVERY_NS  250000000ull
#define CLOSE_GRACE_S 5.0

static double secs(uint64_t from, uint64_t to)
{
    return to > from ? (double)(to - from) / 1e9 : 0.0;
}

static void say(const struct hb_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void say(const struct hb_ctx *ctx, const char *fmt, ...)
{
    if (ctx->o.quiet)
        return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "herald-bench: [%7.2fs] ", secs(ctx->t_start, hb_now_ns()));
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

void hb_ctx_error(struct hb_ctx *ctx, struct hb_conn *c, enum hb_err kind, const char *what)
{
    /* the first few of each kind are printed; all are counted */
    if (ctx->errors[kind]++ < 5)
        fprintf(stderr, "herald-bench: %s %u: %s error: %s\n",
                c->role == HB_ROLE_PUB   ? "publisher"
                : c->role == HB_ROLE_SUB ? "subscriber"
                                         : "session",
                c->index, hb_err_name(kind), what);
}

static void run_finish(struct hb_ctx *ctx);

static void sample_server(struct hb_ctx *ctx)
{
    if (ctx->o.server_pid <= 0)
        return;
    struct hb_proc_sample s;
    hb_proc_sample(ctx->o.server_pid, &s);
    if (!s.ok)
        return;
    if (!ctx->rss_first.ok)
        ctx->rss_first = s;
    ctx->rss_last = s;
    if (s.rss_kb > ctx->rss_max_kb)
        ctx->rss_max_kb = s.rss_kb;
    ctx->last_rss_ns = hb_now_ns();
}

static void start_publish(struct hb_ctx *ctx)
{
    ctx->phase = HB_PH_PUBLISH;
    say(ctx, "publishing %u items, window %u, payload %u bytes", ctx->o.items, ctx->o.window,
        ctx->o.payload);
    sample_server(ctx);
    ctx->srv_ticks_pub_start = ctx->rss_last.cpu_ticks;
    ctx->self_cpu_pub_start = hb_cpu_self_s();
    ctx->t_first_pub = hb_now_ns();
    ctx->phase_ns = ctx->t_first_pub;
    if (ctx->o.items == 0) {
        run_finish(ctx);
        return;
    }
    for (unsigned i = 0; i < ctx->o.window && ctx->published < ctx->o.items; i++)
        hb_conn_publish_next(&ctx->pub);
}

static void check_setup_done(struct hb_ctx *ctx)
{
    if (ctx->resolved < ctx->nconns)
        return;
    uint64_t now = hb_now_ns();
    ctx->t_setup_done = now;
    ctx->phase_ns = now;
    if (ctx->phase == HB_PH_SUB_SETUP) {
        say(ctx, "%u of %u subscribers subscribed in %.2f s", ctx->ready, ctx->nconns,
            secs(ctx->t_sub_start, now));
        ctx->phase = HB_PH_SETTLE;
    } else if (ctx->phase == HB_PH_IDLE_SETUP) {
        say(ctx, "%u of %u sessions online in %.2f s; waiting %.1f s", ctx->ready, ctx->nconns,
            secs(ctx->t_sub_start, now), ctx->o.idle_wait_s);
        ctx->t_idle_ready = now;
        ctx->phase = HB_PH_IDLE_WAIT;
    }
}

static void check_complete(struct hb_ctx *ctx)
{
    if (ctx->phase == HB_PH_PUBLISH && ctx->acked + ctx->pub_failed == ctx->o.items &&
        ctx->subs_finished == ctx->nconns)
        run_finish(ctx);
}

void hb_ctx_conn_ready(struct hb_ctx *ctx, struct hb_conn *c)
{
    if (c->pending_cnt) {
        c->pending_cnt = false;
        ctx->pending--;
    }
    c->subscribed_cnt = true;
    ctx->ready++;
    ctx->resolved++;
    if (c->role == HB_ROLE_SUB && ctx->o.items == 0 && !c->done_cnt) {
        c->done_cnt = true;
        ctx->subs_finished++;
    }
    check_setup_done(ctx);
}

void hb_ctx_conn_failed(struct hb_ctx *ctx, struct hb_conn *c)
{
    if (c->role == HB_ROLE_PUB) {
        if (ctx->phase < HB_PH_CLOSE) {
            say(ctx, "the publisher failed: ending the run");
            run_finish(ctx);
        }
        return;
    }
    if (c->pending_cnt) {
        c->pending_cnt = false;
        ctx->pending--;
        ctx->resolved++;
    }
    if (c->role == HB_ROLE_SUB && !c->done_cnt) {
        c->done_cnt = true;
        ctx->subs_finished++;
    }
    check_setup_done(ctx);
    check_complete(ctx);
}

void hb_ctx_pub_ready(struct hb_ctx *ctx)
{
    uint64_t now = hb_now_ns();
    say(ctx, "node '%s' ready on %s; connecting %u subscribers", ctx->o.node, ctx->o.pubsub,
        ctx->nconns);
    ctx->phase = HB_PH_SUB_SETUP;
    ctx->t_sub_start = now;
    ctx->last_pace_ns = now;
    check_setup_done(ctx);
}

void hb_ctx_publish_done(struct hb_ctx *ctx, bool ok)
{
    ctx->outstanding--;
    if (ok)
        ctx->acked++;
    else
        ctx->pub_failed++;
    ctx->t_last_ack = ctx->now_ns;
    if (ctx->phase != HB_PH_PUBLISH)
        return;
    if (ctx->published < ctx->o.items)
        hb_conn_publish_next(&ctx->pub);
    check_complete(ctx);
}

void hb_ctx_sub_complete(struct hb_ctx *ctx, struct hb_conn *c)
{
    if (c->done_cnt)
        return;
    c->done_cnt = true;
    ctx->subs_finished++;
    check_complete(ctx);
}

void hb_ctx_conn_closed(struct hb_ctx *ctx, struct hb_conn *c)
{
    (void)c;
    if (ctx->phase == HB_PH_CLOSE && ctx->open == 0) {
        ctx->phase = HB_PH_DONE;
        event_base_loopbreak(ctx->base);
    }
}

static void close_all_now(struct hb_ctx *ctx)
{
    for (unsigned i = 0; i < ctx->nconns; i++)
        hb_conn_close(&ctx->conns[i]);
    hb_conn_close(&ctx->pub);
    ctx->phase = HB_PH_DONE;
    event_base_loopbreak(ctx->base);
}

static void run_finish(struct hb_ctx *ctx)
{
    if (ctx->phase >= HB_PH_CLOSE)
        return;
    uint64_t now = hb_now_ns();
    ctx->t_end = now;
    ctx->self_cpu_pub_end = hb_cpu_self_s();
    sample_server(ctx);
    ctx->srv_ticks_pub_end = ctx->rss_last.cpu_ticks;
    if (ctx->phase == HB_PH_IDLE_WAIT)
        ctx->idle_after = ctx->rss_last;
    /* connections never started or still negotiating count as setup failures */
    if (ctx->phase == HB_PH_SUB_SETUP || ctx->phase == HB_PH_IDLE_SETUP)
        ctx->errors[HB_ERR_SETUP_TIMEOUT] += ctx->pending + (ctx->nconns - ctx->started);
    ctx->phase = HB_PH_CLOSE;
    ctx->t_close_start = now;
    say(ctx, "%s; closing %u connections", ctx->timed_out ? "timed out" : "done", ctx->open);
    for (unsigned i = 0; i < ctx->nconns; i++)
        hb_conn_shutdown(&ctx->conns[i]);
    if (ctx->o.delete_after)
        hb_conn_delete_node(&ctx->pub);
    hb_conn_shutdown(&ctx->pub);
    if (ctx->open == 0) {
        ctx->phase = HB_PH_DONE;
        event_base_loopbreak(ctx->base);
    }
}

static void pace(struct hb_ctx *ctx, uint64_t now)
{
    if (ctx->phase != HB_PH_SUB_SETUP && ctx->phase != HB_PH_IDLE_SETUP)
        return;
    const struct hb_opts *o = &ctx->o;
    if (o->connect_rate) {
        ctx->connect_budget += (double)o->connect_rate * secs(ctx->last_pace_ns, now);
        double cap = (double)o->connect_rate / 20.0 + 1.0;
        if (ctx->connect_budget > cap)
            ctx->connect_budget = cap;
    } else {
        ctx->connect_budget = (double)ctx->nconns;
    }
    ctx->last_pace_ns = now;
    enum hb_role role = ctx->phase == HB_PH_IDLE_SETUP ? HB_ROLE_IDLE : HB_ROLE_SUB;
    while (ctx->connect_budget >= 1.0 && ctx->started < ctx->nconns &&
           ctx->pending < o->max_pending && ctx->phase < HB_PH_CLOSE) {
        struct hb_conn *c = &ctx->conns[ctx->started];
        c->index = ctx->started++;
        c->pending_cnt = true;
        ctx->pending++;
        ctx->connect_budget -= 1.0;
        hb_conn_start(ctx, c, role, c->index);
    }
}

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct hb_ctx *ctx = arg;
    uint64_t now = hb_now_ns();
    pace(ctx, now);
    if (now - ctx->last_rss_ns >= RSS_EVERY_NS && ctx->phase < HB_PH_CLOSE)
        sample_server(ctx);
    switch (ctx->phase) {
    case HB_PH_SETTLE:
        if (secs(ctx->phase_ns, now) >= ctx->o.settle_s)
            start_publish(ctx);
        break;
    case HB_PH_PUBLISH:
        /* all publishes answered: wait for stragglers until deliveries stop for drain_s */
        if (ctx->acked + ctx->pub_failed == ctx->o.items) {
            uint64_t last =
                ctx->t_last_delivery > ctx->t_last_ack ? ctx->t_last_delivery : ctx->t_last_ack;
            if (secs(last, now) >= ctx->o.drain_s) {
                say(ctx, "no deliveries for %.1f s after the last ack: stopping", ctx->o.drain_s);
                run_finish(ctx);
            }
        }
        break;
    case HB_PH_IDLE_WAIT:
        if (secs(ctx->phase_ns, now) >= ctx->o.idle_wait_s) {
            sample_server(ctx);
            ctx->idle_after = ctx->rss_last;
            run_finish(ctx);
        }
        break;
    case HB_PH_CLOSE:
        if (secs(ctx->t_close_start, now) >= CLOSE_GRACE_S) {
            say(ctx, "%u connections did not close in %.0f s: closing them", ctx->open,
                CLOSE_GRACE_S);
            close_all_now(ctx);
        }
        break;
    default:
        break;
    }
}

static void deadline_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct hb_ctx *ctx = arg;
    if (ctx->phase < HB_PH_CLOSE) {
        ctx->timed_out = true;
        run_finish(ctx);
    }
}

static void usage(FILE *f)
{
    fputs("usage: herald-bench [options]\n"
          "  --host H            server address (127.0.0.1)\n"
          "  --port P            c2s port (5222)\n"
          "  --domain D          subscribers' XMPP domain (localhost)\n"
          "  --pub-domain D      publisher's domain (= --domain)\n"
          "  --pubsub J          pubsub service JID (pubsub.localhost)\n"
          "  --node NAME         node to create and publish to (herald-bench)\n"
          "  --label L           server label in the output (server)\n"
          "  --subscribers N     subscribers (100)\n"
          "  --items M           items to publish (100)\n"
          "  --window W          publishes outstanding at a time (1)\n"
          "  --payload BYTES     size of the <bench/> payload element (500)\n"
          "  --sub-auth anonymous|plain, --pub-auth anonymous|plain (anonymous)\n"
          "  --pub-user U --pub-pass P      publisher's PLAIN credentials\n"
          "  --sub-user FMT --sub-pass P    subscribers' PLAIN credentials (FMT has one %u)\n"
          "  --sub-jid full|bare subscribe the full or the bare JID (full)\n"
          "  --fresh             delete and recreate the node first\n"
          "  --delete-after      delete the node at the end\n"
          "  --connect-rate R    new connections per second (1000; 0 = no limit)\n"
          "  --max-pending K     connections negotiating at once (200)\n"
          "  --timeout S         bound on the whole run in seconds (120)\n"
          "  --drain S           after the last ack, stop when nothing arrived for S s (5)\n"
          "  --settle S          pause between the last subscribe and the first publish (0.5)\n"
          "  --server-pid PID    sample the server's VmRSS/VmHWM and CPU from /proc\n"
          "  --idle-sessions N   idle-memory mode: N sessions log in and stay\n"
          "  --idle-wait S       idle mode: wait before the second RSS sample (5)\n"
          "  --json              one JSON line on stdout (else a readable summary)\n"
          "  --quiet             no progress on stderr\n",
          f);
}

static bool parse_uint(const char *s, unsigned *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || end == s || *end || v > 100000000ul)
        return false;
    *out = (unsigned)v;
    return true;
}

static bool parse_secs(const char *s, double *out)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || !(v >= 0.0) || v > 1e6)
        return false;
    *out = v;
    return true;
}

static bool parse_auth(const char *s, enum hb_auth *out)
{
    if (!strcmp(s, "anonymous"))
        *out = HB_AUTH_ANONYMOUS;
    else if (!strcmp(s, "plain"))
        *out = HB_AUTH_PLAIN;
    else
        return false;
    return true;
}

/* Values that go into stanzas verbatim must not need escaping. */
static bool xml_safe(const char *s)
{
    return s && !strpbrk(s, "<>&'\"\\") && strlen(s) < 200;
}

static bool sub_user_ok(const char *fmt)
{
    const char *p = strchr(fmt, '%');
    if (!p)
        return false;
    return p[1] == 'u' && !strchr(p + 2, '%');
}

static int parse_opts(struct hb_opts *o, int argc, char **argv)
{
    enum {
        O_HOST = 256,
        O_PORT,
        O_DOMAIN,
        O_PUBDOMAIN,
        O_PUBSUB,
        O_NODE,
        O_LABEL,
        O_SUBS,
        O_ITEMS,
        O_WINDOW,
        O_PAYLOAD,
        O_SUBAUTH,
        O_PUBAUTH,
        O_PUBUSER,
        O_PUBPASS,
        O_SUBUSER,
        O_SUBPASS,
        O_SUBJID,
        O_FRESH,
        O_DELAFTER,
        O_RATE,
        O_PENDING,
        O_TIMEOUT,
        O_DRAIN,
        O_SETTLE,
        O_PID,
        O_IDLE,
        O_IDLEWAIT,
        O_JSON,
        O_QUIET,
        O_HELP
    };
    static const struct option longopts[] = {
        {"host", 1, 0, O_HOST},          {"port", 1, 0, O_PORT},
        {"domain", 1, 0, O_DOMAIN},      {"pub-domain", 1, 0, O_PUBDOMAIN},
        {"pubsub", 1, 0, O_PUBSUB},      {"node", 1, 0, O_NODE},
        {"label", 1, 0, O_LABEL},        {"subscribers", 1, 0, O_SUBS},
        {"items", 1, 0, O_ITEMS},        {"window", 1, 0, O_WINDOW},
        {"payload", 1, 0, O_PAYLOAD},    {"sub-auth", 1, 0, O_SUBAUTH},
        {"pub-auth", 1, 0, O_PUBAUTH},   {"pub-user", 1, 0, O_PUBUSER},
        {"pub-pass", 1, 0, O_PUBPASS},   {"sub-user", 1, 0, O_SUBUSER},
        {"sub-pass", 1, 0, O_SUBPASS},   {"sub-jid", 1, 0, O_SUBJID},
        {"fresh", 0, 0, O_FRESH},        {"delete-after", 0, 0, O_DELAFTER},
        {"connect-rate", 1, 0, O_RATE},  {"max-pending", 1, 0, O_PENDING},
        {"timeout", 1, 0, O_TIMEOUT},    {"drain", 1, 0, O_DRAIN},
        {"settle", 1, 0, O_SETTLE},      {"server-pid", 1, 0, O_PID},
        {"idle-sessions", 1, 0, O_IDLE}, {"idle-wait", 1, 0, O_IDLEWAIT},
        {"json", 0, 0, O_JSON},          {"quiet", 0, 0, O_QUIET},
        {"help", 0, 0, O_HELP},          {0, 0, 0, 0},
    };
    unsigned pid = 0;
    int ch;
    bool ok = true;
    while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (ch) {
        case O_HOST:
            o->host = optarg;
            break;
        case O_PORT:
            o->port = optarg;
            break;
        case O_DOMAIN:
            o->domain = optarg;
            break;
        case O_PUBDOMAIN:
            o->pub_domain = optarg;
            break;
        case O_PUBSUB:
            o->pubsub = optarg;
            break;
        case O_NODE:
            o->node = optarg;
            break;
        case O_LABEL:
            o->label = optarg;
            break;
        case O_SUBS:
            ok = parse_uint(optarg, &o->subscribers);
            break;
        case O_ITEMS:
            ok = parse_uint(optarg, &o->items);
            break;
        case O_WINDOW:
            ok = parse_uint(optarg, &o->window) && o->window > 0;
            break;
        case O_PAYLOAD:
            ok = parse_uint(optarg, &o->payload) && o->payload <= 1000000;
            break;
        case O_SUBAUTH:
            ok = parse_auth(optarg, &o->sub_auth);
            break;
        case O_PUBAUTH:
            ok = parse_auth(optarg, &o->pub_auth);
            break;
        case O_PUBUSER:
            o->pub_user = optarg;
            break;
        case O_PUBPASS:
            o->pub_pass = optarg;
            break;
        case O_SUBUSER:
            o->sub_user = optarg;
            break;
        case O_SUBPASS:
            o->sub_pass = optarg;
            break;
        case O_SUBJID:
            ok = !strcmp(optarg, "full") || !strcmp(optarg, "bare");
            o->sub_full_jid = !strcmp(optarg, "full");
            break;
        case O_FRESH:
            o->fresh = true;
            break;
        case O_DELAFTER:
            o->delete_after = true;
            break;
        case O_RATE:
            ok = parse_uint(optarg, &o->connect_rate);
            break;
        case O_PENDING:
            ok = parse_uint(optarg, &o->max_pending) && o->max_pending > 0;
            break;
        case O_TIMEOUT:
            ok = parse_secs(optarg, &o->timeout_s) && o->timeout_s > 0;
            break;
        case O_DRAIN:
            ok = parse_secs(optarg, &o->drain_s);
            break;
        case O_SETTLE:
            ok = parse_secs(optarg, &o->settle_s);
            break;
        case O_PID:
            ok = parse_uint(optarg, &pid);
            o->server_pid = (int)pid;
            break;
        case O_IDLE:
            ok = parse_uint(optarg, &o->idle_sessions);
            o->idle_mode = true;
            break;
        case O_IDLEWAIT:
            ok = parse_secs(optarg, &o->idle_wait_s);
            break;
        case O_JSON:
            o->json = true;
            break;
        case O_QUIET:
            o->quiet = true;
            break;
        case O_HELP:
            usage(stdout);
            exit(0);
        default:
            usage(stderr);
            return -1;
        }
        if (!ok) {
            fprintf(stderr, "herald-bench: bad value for --%s: %s\n", longopts[ch - O_HOST].name,
                    optarg);
            return -1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "herald-bench: unexpected argument: %s\n", argv[optind]);
        return -1;
    }
    if (!o->pub_domain)
        o->pub_domain = o->domain;
    const char *must[] = {o->domain, o->pub_domain, o->pubsub, o->node, o->label};
    for (size_t i = 0; i < sizeof must / sizeof must[0]; i++) {
        if (!xml_safe(must[i]) || !must[i][0]) {
            fprintf(stderr, "herald-bench: '%s' must be non-empty, short and free of <>&'\"\\\n",
                    must[i] ? must[i] : "");
            return -1;
        }
    }
    if (o->pub_auth == HB_AUTH_PLAIN && !o->idle_mode && (!o->pub_user || !o->pub_pass)) {
        fprintf(stderr, "herald-bench: --pub-auth plain needs --pub-user and --pub-pass\n");
        return -1;
    }
    if (o->sub_auth == HB_AUTH_PLAIN &&
        (!o->sub_user || !o->sub_pass || !sub_user_ok(o->sub_user))) {
        fprintf(stderr, "herald-bench: --sub-auth plain needs --sub-user FMT (with exactly one "
                        "%%u, e.g. user%%u) and --sub-pass\n");
        return -1;
    }
    return 0;
}

static int raise_nofile(unsigned need)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return -1;
    if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need) {
        /* root may raise the hard limit itself */
        struct rlimit want = {need, need};
        if (setrlimit(RLIMIT_NOFILE, &want) == 0)
            return 0;
        fprintf(stderr,
                "herald-bench: %u connections need %u file descriptors but the hard limit is "
                "%llu; raise it (ulimit -Hn, limits.conf) or use fewer connections\n",
                need - 16, need, (unsigned long long)rl.rlim_max);
        return -1;
    }
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
        fprintf(stderr, "herald-bench: setrlimit(RLIMIT_NOFILE): %s\n", strerror(errno));
        return -1;
    }
    return 0;
}

static int resolve(struct hb_ctx *ctx)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res;
    int rc = getaddrinfo(ctx->o.host, ctx->o.port, &hints, &res);
    if (rc != 0) {
        fprintf(stderr, "herald-bench: %s:%s: %s\n", ctx->o.host, ctx->o.port, gai_strerror(rc));
        return -1;
    }
    memcpy(&ctx->addr, res->ai_addr, res->ai_addrlen);
    ctx->addrlen = res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

int main(int argc, char **argv)
{
    struct hb_ctx ctx_storage = {0};
    struct hb_ctx *ctx = &ctx_storage;
    struct hb_opts *o = &ctx->o;
    *o = (struct hb_opts){
        .host = "127.0.0.1",
        .port = "5222",
        .domain = "localhost",
        .pubsub = "pubsub.localhost",
        .node = "herald-bench",
        .label = "server",
        .subscribers = 100,
        .items = 100,
        .window = 1,
        .payload = 500,
        .connect_rate = 1000,
        .max_pending = 200,
        .timeout_s = 120,
        .drain_s = 5,
        .settle_s = 0.5,
        .idle_wait_s = 5,
        .sub_full_jid = true,
    };
    if (parse_opts(o, argc, argv) != 0)
        return 2;
    signal(SIGPIPE, SIG_IGN);
    ctx->nconns = o->idle_mode ? o->idle_sessions : o->subscribers;
    if (raise_nofile(ctx->nconns + 16) != 0)
        return 2;
    if (resolve(ctx) != 0)
        return 2;

    unsigned char rnd[HB_RUN_ID_LEN / 2];
    if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) {
        uint64_t t = hb_now_ns() ^ (uint64_t)getpid() << 32;
        memcpy(rnd, &t, sizeof rnd);
    }
    for (size_t i = 0; i < sizeof rnd; i++)
        snprintf(ctx->run_id + 2 * i, 3, "%02x", rnd[i]);

    ctx->rbuf = malloc(HB_RBUF_SIZE);
    ctx->hist = calloc(1, sizeof *ctx->hist);
    ctx->conns = calloc(ctx->nconns ? ctx->nconns : 1, sizeof *ctx->conns);
    ctx->pubbuf_size = (size_t)o->payload + 1024;
    ctx->pubbuf = malloc(ctx->pubbuf_size);
    ctx->base = event_base_new();
    if (!ctx->rbuf || !ctx->hist || !ctx->conns || !ctx->pubbuf || !ctx->base ||
        event_base_priority_init(ctx->base, 2) != 0) {
        fprintf(stderr, "herald-bench: out of memory\n");
        return 1;
    }
    for (unsigned i = 0; i < ctx->nconns; i++)
        ctx->conns[i].fd = -1;
    ctx->pub.fd = -1;

    ctx->tick = event_new(ctx->base, -1, EV_PERSIST, tick_cb, ctx);
    ctx->deadline = event_new(ctx->base, -1, 0, deadline_cb, ctx);
    if (!ctx->tick || !ctx->deadline) {
        fprintf(stderr, "herald-bench: out of memory\n");
        return 1;
    }
    event_priority_set(ctx->tick, 0);
    event_priority_set(ctx->deadline, 0);
    struct timeval tv_tick = {0, TICK_US};
    struct timeval tv_dead = {(time_t)o->timeout_s,
                              (suseconds_t)((o->timeout_s - (double)(time_t)o->timeout_s) * 1e6)};
    event_add(ctx->tick, &tv_tick);
    event_add(ctx->deadline, &tv_dead);

    ctx->t_start = hb_now_ns();
    sample_server(ctx);
    if (o->server_pid > 0 && !ctx->rss_first.ok)
        fprintf(stderr, "herald-bench: warning: cannot read /proc/%d: no server memory figures\n",
                o->server_pid);
    if (o->idle_mode) {
        ctx->idle_before = ctx->rss_last;
        ctx->phase = HB_PH_IDLE_SETUP;
        ctx->t_sub_start = ctx->t_start;
        ctx->last_pace_ns = ctx->t_start;
        say(ctx, "idle mode: %u sessions to %s:%s", ctx->nconns, o->host, o->port);
        check_setup_done(ctx);
    } else {
        ctx->phase = HB_PH_PUB_SETUP;
        say(ctx, "run %s: publisher connecting to %s:%s", ctx->run_id, o->host, o->port);
        hb_conn_start(ctx, &ctx->pub, HB_ROLE_PUB, 0);
    }
    if (ctx->phase < HB_PH_DONE)
        event_base_dispatch(ctx->base);

    hb_report_print(ctx);

    for (unsigned i = 0; i < ctx->nconns; i++)
        hb_conn_cleanup(&ctx->conns[i]);
    hb_conn_cleanup(&ctx->pub);
    event_free(ctx->tick);
    event_free(ctx->deadline);
    event_base_free(ctx->base);
    free(ctx->conns);
    free(ctx->hist);
    free(ctx->rbuf);
    free(ctx->pubbuf);
    uint64_t errs = 0;
    for (unsigned i = 0; i < HB_ERR_COUNT; i++)
        errs += ctx->errors[i];
    return ctx->timed_out || errs ? 3 : 0;
}
