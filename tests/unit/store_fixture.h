/*
 * store_fixture.h - a throwaway LMDB environment for the unit tests of modules that keep
 * records in the store (roster, pubsub, im). test_store.c makes its own: it tests opening.
 */
#ifndef HERALD_TEST_STORE_FIXTURE_H
#define HERALD_TEST_STORE_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "herald/store.h"

#define TEST_STORE_DIR_MAX 64

/* A fresh store in a new folder /tmp/<name>.XXXXXX (its path into dir). 0, or -1 with
 * nothing left behind: the shape of a cmocka setup's result. */
static inline int test_store_open(const char *name, char dir[TEST_STORE_DIR_MAX],
                                  struct store **out)
{
    static const struct store_options o = {64ULL << 20, false};
    if ((size_t)snprintf(dir, TEST_STORE_DIR_MAX, "/tmp/%s.XXXXXX", name) >= TEST_STORE_DIR_MAX ||
        mkdtemp(dir) == NULL)
        return -1;
    if (store_open(dir, &o, out) != HERALD_OK) {
        rmdir(dir);
        return -1;
    }
    return 0;
}

/* Close the store (*s becomes NULL) and remove its folder. */
static inline void test_store_remove(struct store **s, const char *dir)
{
    static const char *const files[] = {"data.mdb", "lock.mdb"};
    char path[TEST_STORE_DIR_MAX + 16];
    store_close(s);
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
        unlink(path);
    }
    rmdir(dir);
}

#endif
