/*
 * config_table.c - every setting, once. Order here is the order of conf/herald.conf.
 */
#include <stddef.h>

#include "core_int.h"

#define F(field) offsetof(struct herald_config, field)
#define STR(n, f, d, r, doc)                                                                       \
    {                                                                                              \
        n, CONFIG_STR, F(f), d, 0, 0, NULL, NULL, r, doc                                           \
    }
#define BOOL(n, f, d, r, doc)                                                                      \
    {                                                                                              \
        n, CONFIG_BOOL, F(f), d, 0, 0, NULL, NULL, r, doc                                          \
    }
#define LIST(n, f, d, r, doc)                                                                      \
    {                                                                                              \
        n, CONFIG_LIST, F(f), d, 0, 0, NULL, NULL, r, doc                                          \
    }
#define UINT(n, f, d, lo, hi, unit, r, doc)                                                        \
    {                                                                                              \
        n, CONFIG_UINT, F(f), d, lo, hi, NULL, unit, r, doc                                        \
    }
#define SIZE(n, f, d, lo, hi, unit, r, doc)                                                        \
    {                                                                                              \
        n, CONFIG_SIZE, F(f), d, lo, hi, NULL, unit, r, doc                                        \
    }
#define ENUM(n, f, d, names, r, doc)                                                               \
    {                                                                                              \
        n, CONFIG_ENUM, F(f), d, 0, 0, names, NULL, r, doc                                         \
    }

static const char *const conflict_names[] = {"replace", "reject", "rename", NULL};
static const char *const create_names[] = {"anyone", "admins", "list", NULL};
static const char *const level_names[] = {"error", "warn", "notice", "info", "debug", NULL};

const struct config_def config_table[] = {
    STR("domain", domain, "localhost", false,
        "The XMPP domain this broker serves (the domainpart of its users' JIDs)."),
    LIST("admins", admins, "", true, "Bare JIDs of administrators, comma-separated."),
    STR("data_dir", data_dir, "var/herald", false,
        "Folder holding the LMDB environment and the generated TLS certificate."),
    STR("log_file", log_file, "", true,
        "Log file; empty logs to standard error. Reopened on SIGHUP."),
    ENUM("log_level", log_level, "info", level_names, true,
         "One of error, warn, notice, info, debug."),
    STR("ready_file", ready_file, "", false,
        "If set, written (atomically) once every listener is bound: one line per listener, "
        "'<kind> <address> <port>', then 'pid <pid>'."),
    LIST("c2s_listen", c2s_listen, "0.0.0.0:5222", false,
         "Client listeners with STARTTLS (RFC 6120 §5), address:port, comma-separated; "
         "port 0 picks a free port."),
    LIST("c2s_tls_listen", c2s_tls_listen, "0.0.0.0:5223", false,
         "Client listeners with direct TLS (XEP-0368)."),
    LIST("c2s_insecure_listen", c2s_insecure_listen, "", false,
         "Client listeners that allow authentication without TLS, for loopback tests and "
         "benchmarks only. Empty by default."),
    STR("tls_cert", tls_cert, "", true,
        "PEM certificate chain; empty uses <data_dir>/tls/cert.pem, made self-signed on first "
        "start. Reloaded on SIGHUP."),
    STR("tls_key", tls_key, "", true, "PEM private key; empty uses <data_dir>/tls/key.pem."),
    BOOL("registration", registration, "false", true,
         "Allow in-band registration of new accounts (XEP-0077)."),
    BOOL("anonymous", anonymous, "false", true,
         "Offer SASL ANONYMOUS (RFC 4505): sessions with a random, temporary JID."),
    UINT("scram_iterations", scram_iterations, "4096", 4096, 10000000, "count", true,
         "PBKDF2 iteration count for newly stored SCRAM credentials."),
    ENUM("resource_conflict", resource_conflict, "replace", conflict_names, true,
         "When a client binds a resource already in use (RFC 6120 §7.7.2.2): replace (the old "
         "session gets a <conflict/> stream error), reject (the new bind gets <conflict/>), "
         "or rename (the new session gets a server-made resource)."),
    UINT("max_sessions_per_user", max_sessions_per_user, "64", 1, 100000, "count", true,
         "Concurrent resources of one account; the next bind gets <resource-constraint/>."),
    SIZE("max_stanza_size", max_stanza_size, "262144", 10000, 67108864, "bytes", true,
         "Largest stanza accepted (RFC 6120 §13.12); larger ends the stream with "
         "<policy-violation/>."),
    UINT("max_xml_depth", max_xml_depth, "32", 4, 1000, "elements", true,
         "Deepest element nesting inside one stanza."),
    UINT("max_xml_attrs", max_xml_attrs, "64", 4, 10000, "count", true,
         "Most attributes on one element."),
    SIZE("max_xml_token", max_xml_token, "16384", 1024, 67108864, "bytes", true,
         "Largest single tag (with its attributes) accepted."),
    UINT("max_connections", max_connections, "100000", 1, 10000000, "count", false,
         "Most client connections at once (the file-descriptor limit is raised to fit)."),
    UINT("max_connections_per_ip", max_connections_per_ip, "100", 0, 10000000, "count", true,
         "Most connections from one non-loopback address (0 = no limit). Loopback addresses "
         "are not limited."),
    UINT("max_registrations_per_ip", max_registrations_per_ip, "10", 1, 1000000, "per hour", true,
         "In-band registrations (XEP-0077) one address may attempt in an hour; more get "
         "<resource-constraint/>."),
    UINT("auth_max_failures", auth_max_failures, "3", 1, 1000, "count", true,
         "Failed SASL attempts on one connection before it is closed."),
    UINT("auth_failure_delay", auth_failure_delay_ms, "250", 0, 60000, "ms", true,
         "Base delay before answering a failed authentication; it doubles with each recent "
         "failure from the same address (capped at 30 s)."),
    UINT("handshake_timeout", handshake_timeout, "60", 1, 3600, "seconds", true,
         "Time a new connection has to authenticate and bind a resource."),
    SIZE("output_buffer_limit", output_buffer_limit, "4194304", 65536, 1073741824, "bytes", true,
         "Output a connection may have queued. A reader slower than its notifications is "
         "disconnected with a <policy-violation/> stream error when it passes this, so it "
         "never slows anyone else (it catches up from the node's items when it returns)."),
    UINT("max_roster_items", max_roster_items, "2000", 1, 1000000, "count", true,
         "Most contacts in one roster; more gets <not-acceptable/> (RFC 6121 §2.5.4)."),
    UINT("max_pending_subscriptions", max_pending_subscriptions, "1000", 1, 1000000, "count", true,
         "Most presence subscription requests kept for one offline user."),
    BOOL("store_sync", store_sync, "true", false,
         "Sync every commit to disk before acknowledging it. Turning it off trades durability "
         "on power loss for speed; a process crash still loses nothing acknowledged."),
    SIZE("store_map_size", store_map_size, "16g", 16777216, 1099511627776ULL, "bytes", false,
         "Largest size of the LMDB environment (address space reserved, not disk used)."),
    LIST("pubsub_services", pubsub_services, "pubsub", false,
         "Publish-subscribe services: a label becomes <label>.<domain>; a name with a dot is "
         "used as is."),
    ENUM("pubsub_create", pubsub_create, "anyone", create_names, true,
         "Who may create nodes: anyone (any local account), admins, or list (pubsub_creators)."),
    LIST("pubsub_creators", pubsub_creators, "", true,
         "Bare JIDs allowed to create nodes when pubsub_create = list."),
    UINT("pubsub_max_items", pubsub_max_items, "1000", 1, 100000000, "items", true,
         "Default pubsub#max_items of a new persistent node."),
    UINT("pubsub_max_items_limit", pubsub_max_items_limit, "100000", 1, 100000000, "items", true,
         "Largest pubsub#max_items a node may be configured with; 'max' means this."),
    SIZE("pubsub_max_payload", pubsub_max_payload, "65536", 1024, 67108864, "bytes", true,
         "Default and largest pubsub#max_payload_size of an item."),
    UINT("pubsub_max_nodes", pubsub_max_nodes, "100000", 1, 100000000, "count", true,
         "Most nodes in one service."),
    UINT("pubsub_max_subscriptions", pubsub_max_subscriptions, "1000000", 1, 100000000, "count",
         true, "Most subscriptions on one node."),
    STR("pubsub_demo_node", pubsub_demo_node, "", false,
        "If set, a node of that name (open access) is created on the first service at start "
        "when it does not exist."),
    {NULL, 0, 0, NULL, 0, 0, NULL, NULL, false, NULL},
};
