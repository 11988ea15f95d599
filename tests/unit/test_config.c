/*
 * test_config.c - the settings: defaults, the file syntax and its errors (file:line),
 * -o overrides, unknown keys, ranges and suffixes, cross-setting checks, SIGHUP reload,
 * and the config-template round trip.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "herald/config.h"

/* A temporary file holding `text`; its path in path (freed by the caller with unlink). */
static void write_file(char *path, size_t len, const char *text)
{
    snprintf(path, len, "/tmp/herald-test-config-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

/* Load `text` (NULL: no file) with overrides; *errs gets what was reported (free it). */
static enum herald_rc load(struct herald_config *cfg, const char *text, const char *const *ov,
                           size_t nov, char **errs, char *path, size_t plen)
{
    char local[64];
    if (path == NULL) {
        path = local;
        plen = sizeof(local);
    }
    if (text)
        write_file(path, plen, text);
    size_t elen = 0;
    FILE *err = open_memstream(errs, &elen);
    assert_non_null(err);
    enum herald_rc rc = config_load(cfg, text ? path : NULL, ov, nov, err);
    fclose(err);
    if (text)
        unlink(path);
    return rc;
}

static void test_config__defaults_parse(void **state)
{
    (void)state;
    struct herald_config cfg;
    char *errs = NULL;
    assert_int_equal(load(&cfg, NULL, NULL, 0, &errs, NULL, 0), HERALD_OK);
    assert_string_equal(errs, "");
    assert_string_equal(cfg.domain, "localhost");
    assert_string_equal(cfg.data_dir, "var/herald");
    assert_false(cfg.registration);
    assert_false(cfg.anonymous);
    assert_true(cfg.store_sync);
    assert_true(cfg.store_map_size == 16ULL * 1024 * 1024 * 1024);
    assert_int_equal(cfg.max_stanza_size, 262144);
    assert_int_equal(cfg.scram_iterations, 4096);
    assert_int_equal(cfg.resource_conflict, CONFIG_CONFLICT_REPLACE);
    assert_int_equal(cfg.pubsub_create, CONFIG_CREATE_ANYONE);
    assert_int_equal(cfg.c2s_listen.n, 1);
    assert_string_equal(cfg.c2s_listen.items[0], "0.0.0.0:5222");
    assert_int_equal(cfg.c2s_insecure_listen.n, 0);
    assert_int_equal(cfg.admins.n, 0);
    assert_string_equal(cfg.log_file, "");
    config_free(&cfg);
    free(errs);
}

static void test_config__file_values_and_syntax(void **state)
{
    (void)state;
    struct herald_config cfg;
    char *errs = NULL;
    const char *text = "# a comment line\n"
                       "\n"
                       "   domain   =   example.org   \n"
                       "registration = ON\n"
                       "anonymous=yes\n"
                       "resource_conflict = Reject\n"
                       "admins = a@example.org , ,b@example.org,\n"
                       "max_stanza_size = 64k\n"
                       "output_buffer_limit = 1M\n"
                       "store_map_size = 1g\n"
                       "log_file = /tmp/x = y.log\n";
    assert_int_equal(load(&cfg, text, NULL, 0, &errs, NULL, 0), HERALD_OK);
    assert_string_equal(errs, "");
    assert_string_equal(cfg.domain, "example.org");
    assert_true(cfg.registration);
    assert_true(cfg.anonymous);
    assert_int_equal(cfg.resource_conflict, CONFIG_CONFLICT_REJECT);
    assert_int_equal(cfg.admins.n, 2); /* trimmed, empty entries dropped */
    assert_string_equal(cfg.admins.items[0], "a@example.org");
    assert_string_equal(cfg.admins.items[1], "b@example.org");
    assert_int_equal(cfg.max_stanza_size, 65536);
    assert_int_equal(cfg.output_buffer_limit, 1048576);
    assert_true(cfg.store_map_size == 1073741824ULL);
    assert_string_equal(cfg.log_file, "/tmp/x = y.log"); /* split at the first '=' */
    assert_true(config_is_admin(&cfg, "b@example.org"));
    assert_false(config_is_admin(&cfg, "c@example.org"));
    config_free(&cfg);
    free(errs);
}

static void test_config__errors_name_file_and_line(void **state)
{
    (void)state;
    struct herald_config cfg;
    char *errs = NULL;
    char path[64];
    const char *text = "domain = ok.example\n"
                       "this line has no equals sign\n"
                       "no_such_setting = 1\n"
                       "max_xml_depth = many\n"
                       "registration = maybe\n"
                       "resource_conflict = merge\n";
    assert_int_equal(load(&cfg, text, NULL, 0, &errs, path, sizeof(path)), HERALD_EINVAL);
    /* Every bad line is reported, each with file:line, not only the first. */
    char want[128];
    snprintf(want, sizeof(want), "%s:2: expected 'name = value'", path);
    assert_non_null(strstr(errs, want));
    snprintf(want, sizeof(want), "%s:3: unknown setting 'no_such_setting'", path);
    assert_non_null(strstr(errs, want));
    snprintf(want, sizeof(want), "%s:4: max_xml_depth: expected a number", path);
    assert_non_null(strstr(errs, want));
    snprintf(want, sizeof(want), "%s:5: registration:", path);
    assert_non_null(strstr(errs, want));
    snprintf(want, sizeof(want), "%s:6: resource_conflict:", path);
    assert_non_null(strstr(errs, want));
    assert_null(strstr(errs, ":1:"));
    free(errs);
}

static void test_config__missing_file_is_an_error(void **state)
{
    (void)state;
    struct herald_config cfg;
    char *errs = NULL;
    size_t elen = 0;
    FILE *err = open_memstream(&errs, &elen);
    assert_int_equal(config_load(&cfg, "/nonexistent/herald.conf", NULL, 0, err), HERALD_EIO);
    fclose(err);
    assert_non_null(strstr(errs, "/nonexistent/herald.conf: cannot open"));
    free(errs);
}

static void test_config__line_too_long(void **state)
{
    (void)state;
    struct herald_config cfg;
    char *errs = NULL;
    char *text = malloc(6000);
    assert_non_null(text);
    memset(text, 'x', 5000);
    memcpy(text + 5000, " = 1\n", sizeof(" = 1\n"));
    char path[64];
    assert_int_equal(load(&cfg, text, NULL, 0, &errs, path, sizeof(path)), HERALD_EINVAL);
    char want[96];
    snprintf(want, sizeof(want), "%s:1: line too long", path);
    assert_non_null(strstr(errs, want));
    free(text);
    free(errs);
}

static void test_config__overrides_win_and_are_checked(void **state)
{
    (void)state;
    struct herald_config cfg;
    char *errs = NULL;
    const char *ok[] = {"registration=false", "domain=override.example",
                        "c2s_listen=127.0.0.1:0,[::1]:0"};
    assert_int_equal(
        load(&cfg, "registration = true\ndomain = file.example\n", ok, 3, &errs, NULL, 0),
        HERALD_OK);
    assert_false(cfg.registration);
    assert_string_equal(cfg.domain, "override.example");
    assert_int_equal(cfg.c2s_listen.n, 2);
    assert_string_equal(cfg.c2s_listen.items[1], "[::1]:0");
    config_free(&cfg);
    free(errs);

    const char *bad[] = {"domain=fine", "nosuch=1", "no-equals", "max_xml_attrs=3"};
    assert_int_equal(load(&cfg, NULL, bad, 4, &errs, NULL, 0), HERALD_EINVAL);
    assert_non_null(strstr(errs, "-o:2: unknown setting 'nosuch'"));
    assert_non_null(strstr(errs, "-o no-equals: expected name=value"));
    assert_non_null(strstr(errs, "-o:4: max_xml_attrs: value outside the allowed range"));
    free(errs);
}

static void test_config__ranges_and_suffixes(void **state)
{
    (void)state;
    static const struct {
        const char *override;
        bool ok;
        const char *msg;
    } cases[] = {
        {"max_stanza_size=10000", true, NULL},
        {"max_stanza_size=9999", false, "outside the allowed range"},
        {"max_stanza_size=64m", true, NULL},
        {"max_stanza_size=65m", false, "outside the allowed range"},
        {"max_stanza_size=10x", false, "unknown size suffix"},
        {"max_stanza_size=10kb", false, "trailing characters"},
        {"max_stanza_size=-1", false, "expected a number"},
        {"max_stanza_size=", false, "expected a number"},
        {"store_map_size=99999999999999999999", false, "number out of range"},
        {"store_map_size=17179869184g", false, "number out of range"}, /* overflows u64 */
        {"scram_iterations=4k", false, "trailing characters"},         /* counts take no suffix */
        {"scram_iterations=4095", false, "outside the allowed range"},
        {"scram_iterations=10000000", true, NULL},
        {"max_connections_per_ip=0", true, NULL},
        {"auth_failure_delay=60001", false, "outside the allowed range"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct herald_config cfg;
        char *errs = NULL;
        /* A small max_xml_token keeps the smallest max_stanza_size consistent. */
        const char *ov[] = {"max_xml_token=1024", cases[i].override};
        enum herald_rc rc = load(&cfg, NULL, ov, 2, &errs, NULL, 0);
        if (cases[i].ok) {
            if (rc != HERALD_OK)
                fail_msg("%s: got '%s'", cases[i].override, errs);
            config_free(&cfg);
        } else {
            assert_int_equal(rc, HERALD_EINVAL);
            if (strstr(errs, cases[i].msg) == NULL)
                fail_msg("%s: got '%s'", cases[i].override, errs);
        }
        free(errs);
    }
}

static void test_config__cross_setting_checks(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"domain=", "domain must not be empty"},
        {"data_dir=", "data_dir must not be empty"},
        {"pubsub_max_items=200", "pubsub_max_items exceeds pubsub_max_items_limit"},
        {"max_xml_token=300000", "max_xml_token exceeds max_stanza_size"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct herald_config cfg;
        char *errs = NULL;
        const char *ov[] = {cases[i][0], "pubsub_max_items_limit=100"};
        /* The pubsub limit only matters for the third case: keep the others valid. */
        size_t nov = i == 2 ? 2 : 1;
        assert_int_equal(load(&cfg, NULL, ov, nov, &errs, NULL, 0), HERALD_EINVAL);
        if (strstr(errs, cases[i][1]) == NULL)
            fail_msg("%s: got '%s'", cases[i][0], errs);
        free(errs);
    }
}

static void test_config__reload_copies_only_reloadable(void **state)
{
    (void)state;
    struct herald_config run, fresh;
    char *errs = NULL;
    assert_int_equal(load(&run, NULL, NULL, 0, &errs, NULL, 0), HERALD_OK);
    free(errs);
    const char *ov[] = {"registration=true", "admins=root@localhost", "domain=other.example",
                        "store_sync=false", "max_roster_items=7"};
    assert_int_equal(load(&fresh, NULL, ov, 5, &errs, NULL, 0), HERALD_OK);
    free(errs);
    assert_int_equal(config_reload_into(&run, &fresh), HERALD_OK);
    assert_true(run.registration);             /* reloadable */
    assert_int_equal(run.max_roster_items, 7); /* reloadable */
    assert_int_equal(run.admins.n, 1);         /* reloadable list, copied */
    assert_ptr_not_equal(run.admins.items[0], fresh.admins.items[0]);
    assert_string_equal(run.domain, "localhost"); /* not reloadable */
    assert_true(run.store_sync);                  /* not reloadable */
    config_free(&fresh);
    assert_string_equal(run.admins.items[0], "root@localhost"); /* owns its copy */
    config_free(&run);
}

static void test_config__template_round_trip(void **state)
{
    (void)state;
    char path[64];
    snprintf(path, sizeof(path), "/tmp/herald-test-template-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    assert_non_null(f);
    config_write_template(f);
    assert_int_equal(fclose(f), 0);

    struct herald_config def, tpl;
    char *errs = NULL;
    size_t elen = 0;
    FILE *err = open_memstream(&errs, &elen);
    assert_int_equal(config_load(&def, NULL, NULL, 0, err), HERALD_OK);
    assert_int_equal(config_load(&tpl, path, NULL, 0, err), HERALD_OK);
    fclose(err);
    assert_string_equal(errs, "");
    free(errs);
    /* The template states every default: loading it changes nothing. */
    assert_string_equal(tpl.domain, def.domain);
    assert_string_equal(tpl.data_dir, def.data_dir);
    assert_string_equal(tpl.tls_cert, def.tls_cert);
    assert_int_equal(tpl.registration, def.registration);
    assert_int_equal(tpl.store_sync, def.store_sync);
    assert_true(tpl.store_map_size == def.store_map_size);
    assert_int_equal(tpl.max_stanza_size, def.max_stanza_size);
    assert_int_equal(tpl.auth_failure_delay_ms, def.auth_failure_delay_ms);
    assert_int_equal(tpl.resource_conflict, def.resource_conflict);
    assert_int_equal(tpl.log_level, def.log_level);
    assert_int_equal(tpl.c2s_listen.n, def.c2s_listen.n);
    assert_string_equal(tpl.c2s_listen.items[0], def.c2s_listen.items[0]);
    assert_int_equal(tpl.admins.n, def.admins.n);
    assert_int_equal(tpl.pubsub_services.n, def.pubsub_services.n);
    config_free(&def);
    config_free(&tpl);

    /* Every setting appears once as "name = value", each with its documentation. */
    f = fopen(path, "r");
    assert_non_null(f);
    char line[512];
    size_t settings = 0, docs = 0;
    bool domain_seen = false;
    while (fgets(line, sizeof(line), f)) {
        if (line[0] == '#')
            docs++;
        else if (strstr(line, " = ")) {
            settings++;
            if (strncmp(line, "domain = ", 9) == 0) {
                assert_false(domain_seen);
                domain_seen = true;
            }
        }
    }
    fclose(f);
    unlink(path);
    assert_true(domain_seen);
    assert_true(settings >= 30);
    assert_true(docs > settings);
}

static void test_config__store_dir(void **state)
{
    (void)state;
    struct herald_config cfg;
    char *errs = NULL;
    const char *ov[] = {"data_dir=/srv/herald"};
    assert_int_equal(load(&cfg, NULL, ov, 1, &errs, NULL, 0), HERALD_OK);
    free(errs);
    char dir[32];
    assert_int_equal(config_store_dir(&cfg, dir, sizeof(dir)), HERALD_OK);
    assert_string_equal(dir, "/srv/herald/db");
    char tiny[14]; /* "/srv/herald/db" needs 15 bytes */
    assert_int_equal(config_store_dir(&cfg, tiny, sizeof(tiny)), HERALD_ELIMIT);
    config_free(&cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config__defaults_parse),
        cmocka_unit_test(test_config__file_values_and_syntax),
        cmocka_unit_test(test_config__errors_name_file_and_line),
        cmocka_unit_test(test_config__missing_file_is_an_error),
        cmocka_unit_test(test_config__line_too_long),
        cmocka_unit_test(test_config__overrides_win_and_are_checked),
        cmocka_unit_test(test_config__ranges_and_suffixes),
        cmocka_unit_test(test_config__cross_setting_checks),
        cmocka_unit_test(test_config__reload_copies_only_reloadable),
        cmocka_unit_test(test_config__template_round_trip),
        cmocka_unit_test(test_config__store_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
