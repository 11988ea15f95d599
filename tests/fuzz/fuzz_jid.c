/*
 * fuzz_jid.c - libFuzzer target for jid_parse_n().
 *
 * Besides memory errors it checks the canonical form: an accepted JID's full string must
 * parse again to an equal JID and print identically (enforcement is idempotent), and its
 * bare string must give the same bare JID.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "herald/jid.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct arena *a = arena_new(0);
    if (a == NULL)
        return 0;
    struct jid j, k;
    if (jid_parse_n(a, (const char *)data, size, &j) == HERALD_OK) {
        char *full = jid_full_str(a, &j);
        char *bare = jid_bare_str(a, &j);
        if (full == NULL || bare == NULL)
            abort();
        if (jid_parse(a, full, &k) != HERALD_OK || !jid_equal(&j, &k))
            abort();
        char *again = jid_full_str(a, &k);
        if (again == NULL || strcmp(again, full) != 0)
            abort();
        if (jid_parse(a, bare, &k) != HERALD_OK || !jid_bare_equal(&j, &k) || k.resource)
            abort();
        struct jid_heap h;
        if (jid_heap_copy(&h, &j) != HERALD_OK || !jid_equal(&h.jid, &j))
            abort();
        jid_heap_free(&h);
    }
    arena_free(&a);
    return 0;
}
