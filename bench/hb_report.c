/* herald-bench: the results, as one JSON line or as a readable summary. Field meanings are
 * documented in bench/README.md; keep the two in step. */
#include "hb.h"

#include <stdio.h>
#include <time.h>
#include <unistd.h>

static const char *const err_names[HB_ERR_COUNT] = {
    [HB_ERR_CONNECT] = "connect",
    [HB_ERR_STREAM] = "stream",
    [HB_ERR_AUTH] = "auth",
    [HB_ERR_BIND] = "bind",
    [HB_ERR_SESSION] = "session",
    [HB_ERR_CREATE] = "create",
    [HB_ERR_SUBSCRIBE] = "subscribe",
    [HB_ERR_PUBLISH] = "publish",
    [HB_ERR_DISCONNECT] = "disconnect",
    [HB_ERR_SETUP_TIMEOUT] = "setup_timeout",
};

const char *hb_err_name(enum hb_err kind)
{
    return kind < HB_ERR_COUNT ? err_names[kind] : "?";
}

static double span(uint64_t from, uint64_t to)
{
    return from && to > from ? (double)(to - from) / 1e9 : 0.0;
}

static double rate(uint64_t n, double s)
{
    return s > 0.0 ? (double)n / s : 0.0;
}

struct report {
    uint64_t errors;
    uint64_t expected;
    double completeness;
    double pub_s, deliv_s, run_s, setup_s, duration_s;
    double pub_rate, deliv_rate;
    double p50, p90, p99, max, mean; /* ms */
    double srv_cpu_pct, self_cpu_pct;
    bool have_srv;
};

static void compute(const struct hb_ctx *ctx, struct report *r)
{
    const struct hb_opts *o = &ctx->o;
    for (unsigned i = 0; i < HB_ERR_COUNT; i++)
        r->errors += ctx->errors[i];
    r->expected = (uint64_t)o->subscribers * o->items;
    r->completeness = r->expected ? (double)ctx->received / (double)r->expected : 1.0;
    r->pub_s = span(ctx->t_first_pub, ctx->t_last_ack);
    r->deliv_s = span(ctx->t_first_pub, ctx->t_last_delivery);
    r->run_s = span(ctx->t_first_pub, ctx->t_end);
    r->setup_s = span(ctx->t_sub_start, ctx->t_setup_done ? ctx->t_setup_done : ctx->t_end);
    r->duration_s = span(ctx->t_start, ctx->t_end);
    r->pub_rate = rate(ctx->acked, r->pub_s);
    r->deliv_rate = rate(ctx->received, r->deliv_s);
    const struct hb_hist *h = ctx->hist;
    r->p50 = hb_hist_quantile(h, 0.50) / 1000.0;
    r->p90 = hb_hist_quantile(h, 0.90) / 1000.0;
    r->p99 = hb_hist_quantile(h, 0.99) / 1000.0;
    r->max = (double)h->max_us / 1000.0;
    r->mean = h->count ? h->sum_us / (double)h->count / 1000.0 : 0.0;
    r->have_srv = o->server_pid > 0 && ctx->rss_last.ok;
    double tck = (double)sysconf(_SC_CLK_TCK);
    if (r->have_srv && r->run_s > 0 && ctx->srv_ticks_pub_end >= ctx->srv_ticks_pub_start)
        r->srv_cpu_pct =
            100.0 * (double)(ctx->srv_ticks_pub_end - ctx->srv_ticks_pub_start) / tck / r->run_s;
    if (r->run_s > 0)
        r->self_cpu_pct = 100.0 * (ctx->self_cpu_pub_end - ctx->self_cpu_pub_start) / r->run_s;
}

static void kb_or_null(const char *key, bool have, uint64_t kb)
{
    if (have)
        printf(",\"%s\":%llu", key, (unsigned long long)kb);
    else
        printf(",\"%s\":null", key);
}

static void print_errors_json(const struct hb_ctx *ctx)
{
    printf(",\"error_kinds\":{");
    bool first = true;
    for (unsigned i = 0; i < HB_ERR_COUNT; i++) {
        if (!ctx->errors[i])
            continue;
        printf("%s\"%s\":%llu", first ? "" : ",", err_names[i], (unsigned long long)ctx->errors[i]);
        first = false;
    }
    printf("}");
}

static void print_json(const struct hb_ctx *ctx, const struct report *r)
{
    const struct hb_opts *o = &ctx->o;
    if (o->idle_mode) {
        bool have = ctx->idle_before.ok && ctx->idle_after.ok;
        double per = 0.0;
        if (have && ctx->ready)
            per = ((double)ctx->idle_after.rss_kb - (double)ctx->idle_before.rss_kb) * 1024.0 /
                  (double)ctx->ready;
        printf("{\"mode\":\"idle\",\"label\":\"%s\",\"unix_time\":%lld,\"sessions\":%u,"
               "\"established\":%u,\"setup_s\":%.3f,\"sessions_per_s\":%.1f",
               o->label, (long long)time(NULL), o->idle_sessions, ctx->ready, r->setup_s,
               rate(ctx->ready, r->setup_s));
        kb_or_null("server_rss_before_kb", have, ctx->idle_before.rss_kb);
        kb_or_null("server_rss_after_kb", have, ctx->idle_after.rss_kb);
        if (have && ctx->ready)
            printf(",\"bytes_per_session\":%.0f", per);
        else
            printf(",\"bytes_per_session\":null");
        kb_or_null("server_rss_peak_kb", r->have_srv, ctx->rss_last.hwm_kb);
        printf(",\"errors\":%llu", (unsigned long long)r->errors);
        print_errors_json(ctx);
        printf(",\"timed_out\":%s,\"duration_s\":%.3f}\n", ctx->timed_out ? "true" : "false",
               r->duration_s);
        return;
    }
    printf("{\"mode\":\"fanout\",\"label\":\"%s\",\"unix_time\":%lld,\"run_id\":\"%s\","
           "\"subscribers\":%u,\"subscribed\":%u,\"items\":%u,\"window\":%u,\"payload\":%u,"
           "\"sub_jid\":\"%s\",",
           o->label, (long long)time(NULL), ctx->run_id, o->subscribers, ctx->ready, o->items,
           o->window, o->payload, o->sub_full_jid ? "full" : "bare");
    printf("\"published\":%u,\"acked\":%u,\"publishes_per_s\":%.1f,\"deliveries_per_s\":%.1f,",
           ctx->published, ctx->acked, r->pub_rate, r->deliv_rate);
    printf("\"latency_ms\":{\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,\"max\":%.3f,\"mean\":%.3f},",
           r->p50, r->p90, r->p99, r->max, r->mean);
    printf("\"expected\":%llu,\"received\":%llu,\"completeness\":%.6f,\"stale\":%llu,"
           "\"reordered\":%llu,\"message_errors\":%llu,\"errors\":%llu",
           (unsigned long long)r->expected, (unsigned long long)ctx->received, r->completeness,
           (unsigned long long)ctx->stale, (unsigned long long)ctx->reordered,
           (unsigned long long)ctx->delivery_errors, (unsigned long long)r->errors);
    print_errors_json(ctx);
    kb_or_null("server_rss_peak_kb", r->have_srv, ctx->rss_last.hwm_kb);
    kb_or_null("server_rss_start_kb", r->have_srv, ctx->rss_first.rss_kb);
    kb_or_null("server_rss_end_kb", r->have_srv, ctx->rss_last.rss_kb);
    kb_or_null("server_rss_max_kb", r->have_srv, ctx->rss_max_kb);
    if (r->have_srv)
        printf(",\"server_cpu_pct\":%.1f", r->srv_cpu_pct);
    else
        printf(",\"server_cpu_pct\":null");
    printf(",\"bench_cpu_pct\":%.1f,\"setup_s\":%.3f,\"publish_s\":%.3f,\"delivery_s\":%.3f,"
           "\"timed_out\":%s,\"duration_s\":%.3f}\n",
           r->self_cpu_pct, r->setup_s, r->pub_s, r->deliv_s, ctx->timed_out ? "true" : "false",
           r->duration_s);
}

static void print_text(const struct hb_ctx *ctx, const struct report *r)
{
    const struct hb_opts *o = &ctx->o;
    printf("%s: ", o->label);
    if (o->idle_mode) {
        printf("%u/%u idle sessions in %.2f s", ctx->ready, o->idle_sessions, r->setup_s);
        if (ctx->idle_before.ok && ctx->idle_after.ok && ctx->ready)
            printf("; server RSS %llu -> %llu kB = %.0f bytes/session",
                   (unsigned long long)ctx->idle_before.rss_kb,
                   (unsigned long long)ctx->idle_after.rss_kb,
                   ((double)ctx->idle_after.rss_kb - (double)ctx->idle_before.rss_kb) * 1024.0 /
                       (double)ctx->ready);
        printf("; errors %llu%s\n", (unsigned long long)r->errors,
               ctx->timed_out ? " (timed out)" : "");
        return;
    }
    printf("N=%u (subscribed %u) M=%u W=%u payload=%u\n", o->subscribers, ctx->ready, o->items,
           o->window, o->payload);
    printf("  publishes/s %.1f   deliveries/s %.1f   received %llu/%llu (%.4f)\n", r->pub_rate,
           r->deliv_rate, (unsigned long long)ctx->received, (unsigned long long)r->expected,
           r->completeness);
    printf("  latency ms p50 %.2f  p90 %.2f  p99 %.2f  max %.2f  mean %.2f\n", r->p50, r->p90,
           r->p99, r->max, r->mean);
    printf("  setup %.2f s  publish %.2f s  delivery %.2f s  total %.2f s  bench CPU %.0f%%",
           r->setup_s, r->pub_s, r->deliv_s, r->duration_s, r->self_cpu_pct);
    if (r->have_srv)
        printf("  server CPU %.0f%%  server peak RSS %llu kB", r->srv_cpu_pct,
               (unsigned long long)ctx->rss_last.hwm_kb);
    printf("\n  errors %llu", (unsigned long long)r->errors);
    for (unsigned i = 0; i < HB_ERR_COUNT; i++)
        if (ctx->errors[i])
            printf(" %s=%llu", err_names[i], (unsigned long long)ctx->errors[i]);
    printf("  stale %llu  reordered %llu%s\n", (unsigned long long)ctx->stale,
           (unsigned long long)ctx->reordered, ctx->timed_out ? "  (timed out)" : "");
}

void hb_report_print(const struct hb_ctx *ctx)
{
    struct report r = {0};
    compute(ctx, &r);
    if (ctx->o.json)
        print_json(ctx, &r);
    else
        print_text(ctx, &r);
    fflush(stdout);
}
