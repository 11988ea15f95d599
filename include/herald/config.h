/*
 * config.h - the broker's settings.
 *
 * Every setting is declared once, in broker/core/config_table.c: name, type, default,
 * bounds, unit and documentation. The file parser, `-o name=value` overrides,
 * `herald check-config`, `herald config-template` (which conf/herald.conf is checked
 * against by a test) all come from that table.
 *
 * File syntax: one `name = value` per line; `#` starts a comment line; lists are
 * comma-separated; booleans are true/false/on/off/yes/no/1/0; sizes accept k/m/g suffixes
 * (powers of 1024).
 *
 * A loaded struct herald_config is read-only; config_free releases its strings.
 */
#ifndef HERALD_CONFIG_H
#define HERALD_CONFIG_H

#include <stdio.h>

#include "herald/common.h"

struct config_list {
    char **items;
    size_t n;
};

enum config_conflict { CONFIG_CONFLICT_REPLACE, CONFIG_CONFLICT_REJECT, CONFIG_CONFLICT_RENAME };
enum config_create { CONFIG_CREATE_ANYONE, CONFIG_CREATE_ADMINS, CONFIG_CREATE_LIST };

struct herald_config {
    /* identity */
    char *domain;
    struct config_list admins;
    /* files */
    char *data_dir;
    char *log_file;
    int log_level; /* enum log_level */
    char *ready_file;
    /* listeners */
    struct config_list c2s_listen;
    struct config_list c2s_tls_listen;
    struct config_list c2s_insecure_listen;
    char *tls_cert;
    char *tls_key;
    /* authentication and sessions */
    bool registration;
    bool anonymous;
    uint64_t scram_iterations;
    int resource_conflict; /* enum config_conflict */
    uint64_t max_sessions_per_user;
    /* limits */
    uint64_t max_stanza_size;
    uint64_t max_xml_depth;
    uint64_t max_xml_attrs;
    uint64_t max_xml_token;
    uint64_t max_connections;
    uint64_t max_connections_per_ip;
    uint64_t auth_max_failures;
    uint64_t max_registrations_per_ip;
    uint64_t auth_failure_delay_ms;
    uint64_t handshake_timeout;
    uint64_t output_buffer_limit;
    uint64_t max_roster_items;
    uint64_t max_pending_subscriptions;
    /* storage */
    bool store_sync;
    uint64_t store_map_size;
    /* pubsub */
    struct config_list pubsub_services;
    int pubsub_create; /* enum config_create */
    struct config_list pubsub_creators;
    uint64_t pubsub_max_items;
    uint64_t pubsub_max_items_limit;
    uint64_t pubsub_max_payload;
    uint64_t pubsub_max_nodes;
    uint64_t pubsub_max_subscriptions;
    char *pubsub_demo_node;
};

/*
 * Load defaults, then the file (if path is not NULL), then each "name=value" override.
 * On failure returns HERALD_EINVAL/HERALD_EIO and writes "file:line: message" lines to err.
 */
HERALD_MUST_CHECK enum herald_rc config_load(struct herald_config *cfg, const char *path,
                                             const char *const *overrides, size_t noverrides,
                                             FILE *err);
void config_free(struct herald_config *cfg);

/* Copy the settings that may change at run time (SIGHUP) from src into dst. */
HERALD_MUST_CHECK enum herald_rc config_reload_into(struct herald_config *dst,
                                                    const struct herald_config *src);

/* Write every setting with its documentation and default, in herald.conf syntax. */
void config_write_template(FILE *out);

/*
 * The store's folder, "<data_dir>/db", into out: the server and `herald user` must open
 * the same one. HERALD_ELIMIT when it does not fit in len bytes.
 */
HERALD_MUST_CHECK enum herald_rc config_store_dir(const struct herald_config *cfg, char *out,
                                                  size_t len);

/* True if bare JID `jid` is listed in cfg->admins. */
bool config_is_admin(const struct herald_config *cfg, const char *bare_jid);

#endif
