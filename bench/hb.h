/* herald-bench internals shared by the files in bench/ (not part of Herald's API).
 *
 * One process, one thread, one libevent loop. A `struct hb_ctx` owns everything: options,
 * the connections, the counters and the latency histogram; every callback reaches it through
 * its connection. Nothing here is used by the broker. */
#ifndef HB_H
#define HB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <event2/event.h>
#include <event2/event_struct.h>
#include <event2/buffer.h>
#include <expat.h>

#define HB_NS_BENCH   "urn:herald:bench"
#define HB_NS_CLIENT  "jabber:client"
#define HB_NS_STREAM  "http://etherx.jabber.org/streams"
#define HB_NS_SASL    "urn:ietf:params:xml:ns:xmpp-sasl"
#define HB_NS_BIND    "urn:ietf:params:xml:ns:xmpp-bind"
#define HB_NS_SESSION "urn:ietf:params:xml:ns:xmpp-session"
#define HB_NS_TLS     "urn:ietf:params:xml:ns:xmpp-tls"
#define HB_NS_STANZAS "urn:ietf:params:xml:ns:xmpp-stanzas"
#define HB_NS_STREAMS "urn:ietf:params:xml:ns:xmpp-streams"
#define HB_NS_PUBSUB  "http://jabber.org/protocol/pubsub"
#define HB_NS_PING    "urn:xmpp:ping"
#define HB_BENCH_ELEM HB_NS_BENCH " bench"
#define HB_MAX_SETUP  4096

/* recv() size: with expat's 1 kB context and a partial token this keeps each parser's buffer
 * at 8 kB (see conn_read_cb) */
#define HB_READ_CHUNK (6 * 1024)
#define HB_RBUF_SIZE  (64 * 1024) /* scratch, >= HB_READ_CHUNK */
#define HB_JID_MAX    256
#define HB_TEXT_MAX   256
#define HB_ID_MAX     32
#define HB_RUN_ID_LEN 16

/* Latency histogram: exact below 1024 us, then 512 sub-buckets per power of two (~0.2%),
 * up to 2^40 us. Fixed size so that recording is an increment, never an allocation. */
#define HB_HIST_SUB     512
#define HB_HIST_LINEAR  1024
#define HB_HIST_OCTAVES 31
#define HB_HIST_BUCKETS (HB_HIST_LINEAR + HB_HIST_OCTAVES * HB_HIST_SUB)

struct hb_hist {
    uint64_t count;
    uint64_t max_us;
    double sum_us;
    uint64_t bucket[HB_HIST_BUCKETS];
};

void hb_hist_add(struct hb_hist *h, uint64_t us);
/* The value (in us) at quantile q in [0,1]; 0 when empty. */
double hb_hist_quantile(const struct hb_hist *h, double q);

uint64_t hb_now_ns(void);
/* Writes base64 of in[0..n) into out (NUL-terminated); out must hold 4*((n+2)/3)+1 bytes. */
void hb_base64(const unsigned char *in, size_t n, char *out);

struct hb_proc_sample {
    bool ok;
    uint64_t rss_kb;    /* VmRSS */
    uint64_t hwm_kb;    /* VmHWM: the peak since the process started */
    uint64_t cpu_ticks; /* utime + stime from /proc/PID/stat */
};
/* Reads /proc/PID/status and /proc/PID/stat; sample->ok is false if the process is gone. */
void hb_proc_sample(int pid, struct hb_proc_sample *sample);
double hb_cpu_self_s(void);

enum hb_auth { HB_AUTH_ANONYMOUS, HB_AUTH_PLAIN };

struct hb_opts {
    const char *host;
    const char *port;
    const char *domain;
    const char *pub_domain;
    const char *pubsub;
    const char *node;
    const char *label;
    const char *pub_user;
    const char *pub_pass;
    const char *sub_user; /* printf-style with one %u (the subscriber index), PLAIN only */
    const char *sub_pass;
    enum hb_auth sub_auth;
    enum hb_auth pub_auth;
    unsigned subscribers;
    unsigned items;
    unsigned window;
    unsigned payload;
    unsigned connect_rate;
    unsigned max_pending;
    unsigned idle_sessions;
    double timeout_s;
    double drain_s;
    double settle_s;
    double idle_wait_s;
    int server_pid;
    bool idle_mode;
    bool json;
    bool fresh;
    bool delete_after;
    bool sub_full_jid;
    bool quiet;
};

enum hb_role { HB_ROLE_SUB, HB_ROLE_PUB, HB_ROLE_IDLE };

enum hb_state {
    HB_ST_NEW,
    HB_ST_CONNECTING,
    HB_ST_FEATURES1, /* stream open sent, waiting for pre-auth features */
    HB_ST_AUTH,      /* <auth/> sent */
    HB_ST_FEATURES2, /* restarted stream after SASL success */
    HB_ST_BIND,
    HB_ST_SESSION,
    HB_ST_DELETING, /* publisher: --fresh delete */
    HB_ST_CREATING, /* publisher: create node */
    HB_ST_SUBSCRIBING,
    HB_ST_READY, /* subscriber subscribed / publisher has the node / idle session online */
    HB_ST_CLOSING,
    HB_ST_CLOSED,
    HB_ST_FAILED,
};

enum hb_err {
    HB_ERR_CONNECT,
    HB_ERR_STREAM, /* stream error, XML error, unexpected close, write failure */
    HB_ERR_AUTH,
    HB_ERR_BIND,
    HB_ERR_SESSION,
    HB_ERR_CREATE,
    HB_ERR_SUBSCRIBE,
    HB_ERR_PUBLISH,
    HB_ERR_DISCONNECT, /* a ready connection lost before the run ended */
    HB_ERR_SETUP_TIMEOUT,
    HB_ERR_COUNT,
};

/* Stanza being parsed at depth 1 (only what the bench needs from it). */
enum hb_kind {
    HB_K_OTHER,
    HB_K_MESSAGE,
    HB_K_IQ,
    HB_K_FEATURES,
    HB_K_SUCCESS,
    HB_K_FAILURE,
    HB_K_CHALLENGE,
    HB_K_STREAM_ERROR
};

enum hb_text { HB_TEXT_NONE, HB_TEXT_MECH, HB_TEXT_JID };

struct hb_ctx;

struct hb_conn {
    struct event rev;
    struct event wev;
    struct evbuffer *out; /* only allocated when a write was partial */
    XML_Parser parser;
    struct hb_ctx *ctx;
    int fd;
    unsigned index;
    enum hb_role role;
    enum hb_state state;
    /* parser position */
    unsigned depth;
    enum hb_kind kind;
    bool restart;        /* SASL success seen: reset the parser at restart_at */
    bool subscribed_cnt; /* counted in ctx->subs_ready */
    bool done_cnt;       /* counted in ctx->subs_finished */
    bool pending_cnt;    /* counted in ctx->pending */
    uint64_t fed;        /* bytes given to the current parser before this XML_Parse call */
    uint64_t restart_at; /* parser byte offset just after </success> */
    /* features */
    unsigned feat;
    /* current iq */
    char iq_type;
    bool in_error;
    bool sub_pending; /* <subscription subscription='pending|none|unconfigured'/> */
    char iq_id[HB_ID_MAX];
    char err_cond[HB_ID_MAX];
    char iq_from[HB_JID_MAX];
    bool ping;
    /* character data capture (setup only) */
    enum hb_text text_kind;
    bool text_overflow;
    unsigned text_len;
    char text[HB_TEXT_MAX];
    char jid[HB_JID_MAX];
    /* delivery accounting */
    uint32_t received;
    uint32_t last_seq;
};

enum hb_phase {
    HB_PH_PUB_SETUP,
    HB_PH_SUB_SETUP,
    HB_PH_SETTLE,
    HB_PH_PUBLISH,
    HB_PH_IDLE_SETUP,
    HB_PH_IDLE_WAIT,
    HB_PH_CLOSE,
    HB_PH_DONE,
};

struct hb_ctx {
    struct hb_opts o;
    struct event_base *base;
    struct sockaddr_storage addr;
    socklen_t addrlen;
    char run_id[HB_RUN_ID_LEN + 1];
    enum hb_phase phase;
    bool timed_out;
    unsigned char *rbuf;     /* HB_RBUF_SIZE, shared by every read: single-threaded */
    uint64_t now_ns;         /* time of the current read: the receive timestamp */
    struct hb_conn *parsing; /* the connection inside XML_Parse (its parser must live on) */

    struct hb_conn *conns; /* subscribers or idle sessions */
    unsigned nconns;
    struct hb_conn pub;
    unsigned started;       /* connections started (pacing) */
    unsigned pending;       /* started, not yet ready or failed */
    unsigned open;          /* fds open */
    unsigned ready;         /* subscribers subscribed / idle sessions online */
    unsigned resolved;      /* ready + failed during setup */
    unsigned subs_finished; /* subscribers that got all items or died after setup */
    double connect_budget;
    uint64_t last_pace_ns;

    /* publishing */
    char *pubbuf;
    size_t pubbuf_size;
    unsigned published;
    unsigned acked;
    unsigned pub_failed;
    unsigned outstanding;

    /* deliveries */
    uint64_t received;
    uint64_t stale;
    uint64_t reordered;
    uint64_t delivery_errors;
    struct hb_hist *hist;

    /* times (CLOCK_MONOTONIC ns) */
    uint64_t t_start;
    uint64_t t_sub_start;
    uint64_t t_setup_done;
    uint64_t t_first_pub;
    uint64_t t_last_ack;
    uint64_t t_last_delivery;
    uint64_t t_end;
    uint64_t t_close_start;
    uint64_t t_idle_ready;

    /* CPU of this process and of the server over the publish phase */
    double self_cpu_pub_start;
    double self_cpu_pub_end;
    uint64_t srv_ticks_pub_start;
    uint64_t srv_ticks_pub_end;

    /* server memory */
    struct hb_proc_sample rss_first;
    struct hb_proc_sample rss_last;
    uint64_t rss_max_kb;
    struct hb_proc_sample idle_before;
    struct hb_proc_sample idle_after;

    uint64_t errors[HB_ERR_COUNT];

    struct event *tick;
    struct event *deadline;
    uint64_t last_rss_ns;
    uint64_t phase_ns;
};

/* hb_conn.c */
void hb_conn_start(struct hb_ctx *ctx, struct hb_conn *c, enum hb_role role, unsigned index);
/* Frees what hb_conn_start allocated (closes the socket if still open). */
void hb_conn_cleanup(struct hb_conn *c);
/* Sends </stream:stream>; the connection closes when the server answers or on hb_conn_close. */
void hb_conn_shutdown(struct hb_conn *c);
void hb_conn_close(struct hb_conn *c);
void hb_conn_publish_next(struct hb_conn *c);
void hb_conn_delete_node(struct hb_conn *c);

/* hb_conn.c, used by hb_xmpp.c */
void hb_conn_send(struct hb_conn *c, const char *data, size_t len);
__attribute__((format(printf, 2, 3))) void hb_conn_sendf(struct hb_conn *c, const char *fmt, ...);
/* Marks the connection failed and reports it; safe inside parser callbacks. */
void hb_conn_fail(struct hb_conn *c, enum hb_err kind, const char *what);

/* hb_xmpp.c */
void hb_xmpp_parser_setup(struct hb_conn *c);
void hb_xmpp_stream_open(struct hb_conn *c);

/* hb_report.c */
const char *hb_err_name(enum hb_err kind);
/* Prints the run's results: one JSON line with --json, else a readable summary (stdout). */
void hb_report_print(const struct hb_ctx *ctx);

/* herald-bench.c: the run's phase machine, called by connections. */
void hb_ctx_error(struct hb_ctx *ctx, struct hb_conn *c, enum hb_err kind, const char *what);
void hb_ctx_conn_ready(struct hb_ctx *ctx, struct hb_conn *c);
void hb_ctx_conn_failed(struct hb_ctx *ctx, struct hb_conn *c);
void hb_ctx_pub_ready(struct hb_ctx *ctx);
void hb_ctx_publish_done(struct hb_ctx *ctx, bool ok);
void hb_ctx_sub_complete(struct hb_ctx *ctx, struct hb_conn *c);
void hb_ctx_conn_closed(struct hb_ctx *ctx, struct hb_conn *c);

#endif
