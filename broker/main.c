/*
 * main.c - the herald command: serve, user add|del|passwd, check-config, config-template.
 *
 * Passwords are read from the terminal (without echo, twice) or, when standard input is
 * not a terminal, as one line from standard input. Never from the command line, where
 * every local user could read them in the process list.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "herald/accounts.h"
#include "herald/config.h"
#include "herald/log.h"
#include "herald/server.h"
#include "herald/store.h"

#define MAX_OVERRIDES 256

static void usage(FILE *f)
{
    fprintf(f, "usage: herald serve [-c FILE] [-o name=value ...]\n"
               "       herald user add|del|passwd JID [-c FILE] [-o name=value ...]\n"
               "       herald check-config [-c FILE] [-o name=value ...]\n"
               "       herald config-template\n"
               "\n"
               "-c FILE        the configuration file (see conf/herald.conf)\n"
               "-o name=value  override one setting of the file (repeatable)\n"
               "Passwords are read from the terminal, or one line from standard input.\n");
}

struct opts {
    const char *config;
    const char *overrides[MAX_OVERRIDES];
    size_t noverrides;
    const char *args[4];
    size_t nargs;
};

static int parse_opts(int argc, char **argv, int first, struct opts *o)
{
    memset(o, 0, sizeof(*o));
    for (int i = first; i < argc; i++) {
        if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
            o->config = argv[++i];
        } else if (strcmp(argv[i], "-o") == 0 && i + 1 < argc) {
            if (o->noverrides == MAX_OVERRIDES) {
                fprintf(stderr, "herald: too many -o options\n");
                return -1;
            }
            o->overrides[o->noverrides++] = argv[++i];
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "herald: unknown option %s\n", argv[i]);
            return -1;
        } else if (o->nargs < HERALD_ARRAY_LEN(o->args)) {
            o->args[o->nargs++] = argv[i];
        } else {
            fprintf(stderr, "herald: too many arguments\n");
            return -1;
        }
    }
    return 0;
}

static int cmd_serve(struct opts *o)
{
    struct server srv;
    enum herald_rc rc = server_init(&srv, o->config, o->overrides, o->noverrides);
    if (rc) {
        fprintf(stderr, "herald: cannot start: %s\n", herald_rc_str(rc));
        log_error("cannot start: %s", herald_rc_str(rc));
        server_cleanup(&srv);
        return 1;
    }
    int status = server_run(&srv);
    server_cleanup(&srv);
    return status;
}

static int cmd_check_config(struct opts *o)
{
    struct herald_config cfg;
    if (config_load(&cfg, o->config, o->overrides, o->noverrides, stderr))
        return 1;
    printf("configuration OK%s%s\n", o->config ? ": " : " (defaults)", o->config ? o->config : "");
    config_free(&cfg);
    return 0;
}

/* Read a password: from the terminal without echo (asked twice), or one stdin line. */
static int read_password(char *buf, size_t len)
{
    bool tty = isatty(STDIN_FILENO);
    struct termios old, quiet;
    char again[1024] = "";
    int status = -1;
    for (int round = 0; round < (tty ? 2 : 1); round++) {
        char *dst = round ? again : buf;
        size_t dlen = round ? sizeof(again) : len;
        if (tty) {
            fprintf(stderr, round ? "Again: " : "Password: ");
            /* Never read a password with echo on, nor restore settings we did not read. */
            if (tcgetattr(STDIN_FILENO, &old) != 0) {
                fprintf(stderr, "\nherald: cannot turn off echo: %s\n", strerror(errno));
                goto out;
            }
            quiet = old;
            quiet.c_lflag &= ~(tcflag_t)ECHO;
            if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) != 0) {
                fprintf(stderr, "\nherald: cannot turn off echo: %s\n", strerror(errno));
                goto out;
            }
        }
        char *ok = fgets(dst, (int)dlen, stdin);
        if (tty) {
            (void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &old); /* best effort: nothing to undo */
            fprintf(stderr, "\n");
        }
        if (ok == NULL) {
            fprintf(stderr, "herald: no password given\n");
            goto out;
        }
        size_t n = strlen(dst);
        if (n && dst[n - 1] == '\n')
            dst[--n] = '\0';
        else if (n + 1 == dlen) {
            fprintf(stderr, "herald: password too long\n");
            goto out;
        }
        if (n && dst[n - 1] == '\r')
            dst[--n] = '\0';
    }
    if (tty && strcmp(buf, again) != 0) {
        fprintf(stderr, "herald: the passwords differ\n");
        goto out;
    }
    status = 0;
out:
    explicit_bzero(again, sizeof(again));
    return status;
}

static int cmd_user(struct opts *o)
{
    if (o->nargs != 3) {
        usage(stderr);
        return 2;
    }
    const char *verb = o->args[1], *jid = o->args[2];
    bool add = strcmp(verb, "add") == 0, del = strcmp(verb, "del") == 0,
         passwd = strcmp(verb, "passwd") == 0;
    if (!add && !del && !passwd) {
        usage(stderr);
        return 2;
    }
    struct herald_config cfg;
    if (config_load(&cfg, o->config, o->overrides, o->noverrides, stderr))
        return 1;
    if (log_open(NULL, LOG_WARN)) {
        config_free(&cfg);
        return 1;
    }
    int status = 1;
    struct arena *a = arena_new(0);
    struct store *st = NULL;
    struct store_txn *t = NULL;
    char password[1024] = "";
    const char *bare;
    /* Accept "name" or "name@domain" (the domain must be ours). */
    const char *at = strchr(jid, '@');
    char *local = a ? arena_strndup(a, jid, at ? (size_t)(at - jid) : strlen(jid)) : NULL;
    if (local == NULL)
        goto out;
    if (at && strcmp(at + 1, cfg.domain) != 0) {
        fprintf(stderr, "herald: %s is not in this server's domain %s\n", jid, cfg.domain);
        goto out;
    }
    if (accounts_bare_jid(a, cfg.domain, local, &bare)) {
        fprintf(stderr, "herald: '%s' is not a valid user name\n", local);
        goto out;
    }
    if (!del && read_password(password, sizeof(password)))
        goto out;
    char dbdir[4096];
    if (config_store_dir(&cfg, dbdir, sizeof(dbdir))) {
        fprintf(stderr, "herald: data_dir %s: the path is too long\n", cfg.data_dir);
        goto out;
    }
    struct store_options so = {cfg.store_map_size, true};
    /* The server may be running: LMDB lets this process write alongside it. */
    if (herald_mkdir_p(cfg.data_dir)) {
        fprintf(stderr, "herald: cannot create data_dir %s\n", cfg.data_dir);
        goto out;
    }
    if (store_open(dbdir, &so, &st) || store_begin(st, &t)) {
        fprintf(stderr, "herald: cannot open the store in %s\n", dbdir);
        goto out;
    }
    enum herald_rc rc;
    if (del)
        rc = accounts_delete(t, bare);
    else
        rc = accounts_set_password(t, bare, password, strlen(password),
                                   (uint32_t)cfg.scram_iterations,
                                   add ? ACCOUNTS_CREATE : ACCOUNTS_UPDATE);
    if (rc) {
        store_abort(&t);
        fprintf(stderr, "herald: %s %s: %s\n", verb, bare,
                rc == HERALD_ECONFLICT   ? "the account exists"
                : rc == HERALD_ENOTFOUND ? "no such account"
                : rc == HERALD_EINVAL    ? "that password is not allowed"
                                         : herald_rc_str(rc));
        goto out;
    }
    if (store_commit(&t))
        goto out;
    store_flush(st);
    printf("%s: %s\n", bare, add ? "created" : del ? "deleted" : "password changed");
    status = 0;
out:
    explicit_bzero(password, sizeof(password));
    store_abort(&t);
    store_close(&st);
    arena_free(&a);
    config_free(&cfg);
    log_close();
    return status;
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("herald 0.1.0\n");
        return 0;
    }
    struct opts o;
    if (parse_opts(argc, argv, 2, &o)) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "serve") == 0 && o.nargs == 0)
        return cmd_serve(&o);
    if (strcmp(argv[1], "check-config") == 0 && o.nargs == 0)
        return cmd_check_config(&o);
    if (strcmp(argv[1], "config-template") == 0 && o.nargs == 0) {
        config_write_template(stdout);
        return 0;
    }
    if (strcmp(argv[1], "user") == 0) {
        /* args[0] is unused: keep the positions of "user VERB JID" */
        memmove(o.args + 1, o.args, sizeof(o.args) - sizeof(o.args[0]));
        o.args[0] = "user";
        o.nargs++;
        return cmd_user(&o);
    }
    usage(stderr);
    return 2;
}
