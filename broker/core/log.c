/*
 * log.c - the log sink. One FILE*, line-buffered, written from the loop thread.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>

#include "herald/log.h"

static FILE *log_sink;
static enum log_level log_threshold = LOG_INFO;

static const char *const level_names[] = {"error", "warn", "notice", "info", "debug"};

enum herald_rc log_open(const char *path, enum log_level threshold)
{
    FILE *f = stderr;
    if (path && *path) {
        f = fopen(path, "a");
        if (f == NULL)
            return HERALD_EIO;
        setvbuf(f, NULL, _IOLBF, 0);
    }
    log_close();
    log_sink = f;
    log_threshold = threshold;
    return HERALD_OK;
}

void log_close(void)
{
    if (log_sink && log_sink != stderr)
        fclose(log_sink);
    log_sink = NULL;
}

bool log_enabled(enum log_level level)
{
    return level <= log_threshold;
}

enum herald_rc log_level_parse(const char *s, enum log_level *out)
{
    for (size_t i = 0; i < HERALD_ARRAY_LEN(level_names); i++) {
        if (strcasecmp(s, level_names[i]) == 0) {
            *out = (enum log_level)i;
            return HERALD_OK;
        }
    }
    return HERALD_EINVAL;
}

const char *log_level_name(enum log_level level)
{
    return (size_t)level < HERALD_ARRAY_LEN(level_names) ? level_names[level] : "?";
}

void log_write(enum log_level level, const char *ctx, const char *action, const char *fmt, ...)
{
    FILE *f = log_sink ? log_sink : stderr;
    struct timeval tv;
    struct tm tm;
    char ts[32];
    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
    /* One fprintf per line piece would interleave with nothing (single thread), but a
     * single buffered line keeps partial lines out of the file if we crash mid-way. */
    char line[2048];
    int n = snprintf(line, sizeof(line), "%s.%03ldZ %s ", ts, (long)(tv.tv_usec / 1000),
                     log_level_name(level));
    if (ctx && n >= 0 && (size_t)n < sizeof(line))
        n += snprintf(line + n, sizeof(line) - (size_t)n, "[%s] ", ctx);
    if (n >= 0 && (size_t)n < sizeof(line)) {
        va_list ap;
        va_start(ap, fmt);
        n += vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
        va_end(ap);
    }
    if (action && n >= 0 && (size_t)n < sizeof(line))
        n += snprintf(line + n, sizeof(line) - (size_t)n, " (while %s)", action);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof(line)) /* long lines are cut, and say so */
        memcpy(line + sizeof(line) - 5, "...]", 5);
    /* Control characters from peer input must not forge log lines. */
    for (char *p = line; *p; p++)
        if ((unsigned char)*p < 0x20)
            *p = ' ';
    fprintf(f, "%s\n", line);
}
