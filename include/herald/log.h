/*
 * log.h - leveled logging.
 *
 * Lines look like:
 *   2026-11-23T11:00:00.123Z error [conn 12 127.0.0.1:5555 user@host/res] text (while action)
 * The second word is the level, so tests can assert that a run logged no error they did
 * not expect. Formatting is skipped below the threshold (log_enabled is checked first).
 *
 * The sink and threshold are the one piece of process-wide logging state; log_open() is
 * called by main before anything else runs and on SIGHUP (to reopen a rotated file).
 */
#ifndef HERALD_LOG_H
#define HERALD_LOG_H

#include "herald/common.h"

enum log_level { LOG_ERROR = 0, LOG_WARN, LOG_NOTICE, LOG_INFO, LOG_DEBUG };

/* path NULL or "" logs to stderr. Returns HERALD_EIO if the file cannot be opened. */
HERALD_MUST_CHECK enum herald_rc log_open(const char *path, enum log_level threshold);
void log_close(void);
bool log_enabled(enum log_level level);
/* Parse "error", "warn", "notice", "info", "debug". */
HERALD_MUST_CHECK enum herald_rc log_level_parse(const char *s, enum log_level *out);
const char *log_level_name(enum log_level level);

/* ctx: the bracketed context ("conn 12 ..."), or NULL; action: appended as "(while ...)". */
void log_write(enum log_level level, const char *ctx, const char *action, const char *fmt, ...)
    HERALD_PRINTF(4, 5);

#define log_at(lvl, ...)                                                                           \
    do {                                                                                           \
        if (log_enabled(lvl))                                                                      \
            log_write(lvl, NULL, NULL, __VA_ARGS__);                                               \
    } while (0)
#define log_error(...)  log_at(LOG_ERROR, __VA_ARGS__)
#define log_warn(...)   log_at(LOG_WARN, __VA_ARGS__)
#define log_notice(...) log_at(LOG_NOTICE, __VA_ARGS__)
#define log_info(...)   log_at(LOG_INFO, __VA_ARGS__)
#define log_debug(...)  log_at(LOG_DEBUG, __VA_ARGS__)

#endif
