/*
 * core_int.h - shared inside broker/core only.
 */
#ifndef HERALD_CORE_INT_H
#define HERALD_CORE_INT_H

#include "herald/config.h"

enum config_type { CONFIG_STR, CONFIG_BOOL, CONFIG_UINT, CONFIG_SIZE, CONFIG_LIST, CONFIG_ENUM };

struct config_def {
    const char *name;
    enum config_type type;
    size_t offset;
    const char *def;
    uint64_t min, max;        /* CONFIG_UINT, CONFIG_SIZE */
    const char *const *names; /* CONFIG_ENUM: NULL-terminated */
    const char *unit;         /* CONFIG_UINT, CONFIG_SIZE */
    bool reloadable;
    const char *doc;
};

extern const struct config_def config_table[];

#endif
