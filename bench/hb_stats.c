/* herald-bench: clocks, the latency histogram and /proc sampling of the server. */
#include "hb.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>

uint64_t hb_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static unsigned hist_index(uint64_t us)
{
    if (us < HB_HIST_LINEAR)
        return (unsigned)us;
    unsigned msb = 63u - (unsigned)__builtin_clzll(us); /* >= 10 */
    unsigned octave = msb - 10u;
    if (octave >= HB_HIST_OCTAVES)
        return HB_HIST_BUCKETS - 1;
    unsigned shift = msb - 9u; /* keeps the top 10 bits: [512, 1024) */
    return HB_HIST_LINEAR + octave * HB_HIST_SUB + (unsigned)((us >> shift) - HB_HIST_SUB);
}

/* Midpoint of a bucket, in us. */
static double hist_value(unsigned idx)
{
    if (idx < HB_HIST_LINEAR)
        return (double)idx;
    unsigned octave = (idx - HB_HIST_LINEAR) / HB_HIST_SUB;
    unsigned sub = (idx - HB_HIST_LINEAR) % HB_HIST_SUB;
    unsigned shift = octave + 1u;
    double lo = (double)((uint64_t)(sub + HB_HIST_SUB) << shift);
    return lo + (double)((uint64_t)1 << shift) / 2.0;
}

void hb_hist_add(struct hb_hist *h, uint64_t us)
{
    h->bucket[hist_index(us)]++;
    h->count++;
    h->sum_us += (double)us;
    if (us > h->max_us)
        h->max_us = us;
}

double hb_hist_quantile(const struct hb_hist *h, double q)
{
    if (h->count == 0)
        return 0.0;
    /* the smallest value with at least q*count samples at or below it */
    uint64_t rank = (uint64_t)(q * (double)h->count + 0.5);
    if (rank < 1)
        rank = 1;
    if (rank > h->count)
        rank = h->count;
    uint64_t seen = 0;
    for (unsigned i = 0; i < HB_HIST_BUCKETS; i++) {
        seen += h->bucket[i];
        if (seen >= rank) {
            double v = hist_value(i);
            return v > (double)h->max_us ? (double)h->max_us : v;
        }
    }
    return (double)h->max_us;
}

void hb_base64(const unsigned char *in, size_t n, char *out)
{
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < n)
            v |= in[i + 2];
        out[o++] = tbl[(v >> 18) & 63];
        out[o++] = tbl[(v >> 12) & 63];
        out[o++] = i + 1 < n ? tbl[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? tbl[v & 63] : '=';
    }
    out[o] = '\0';
}

static uint64_t status_kb(const char *text, const char *key)
{
    const char *p = strstr(text, key);
    if (!p)
        return 0;
    return strtoull(p + strlen(key), NULL, 10);
}

void hb_proc_sample(int pid, struct hb_proc_sample *s)
{
    char path[64], text[4096];
    memset(s, 0, sizeof *s);
    if (pid <= 0)
        return;
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    s->rss_kb = status_kb(text, "\nVmRSS:");
    s->hwm_kb = status_kb(text, "\nVmHWM:");

    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    f = fopen(path, "r");
    if (!f)
        return;
    n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    /* the command name may hold spaces and parentheses: fields start after the last ')' */
    const char *p = strrchr(text, ')');
    if (!p)
        return;
    unsigned long long utime = 0, stime = 0;
    if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) != 2)
        return;
    s->cpu_ticks = utime + stime;
    s->ok = true;
}

double hb_cpu_self_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}
