/*
 * fuzz_xml_stream.c - the c2s stream parser on arbitrary bytes, split at fuzzer-chosen
 * points (stream parsers break on chunk boundaries), with parking between chunks and
 * restarts after stanzas, as the stream layer does. Every stanza is written back and
 * must parse again as a fragment.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "herald/xml_stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    /* First byte: chunk size seed; second: restart/park behaviour. */
    size_t chunk = (size_t)(data[0] % 64) + 1;
    uint8_t mode = data[1];
    data += 2;
    size -= 2;
    struct xml_stream_limits lim = {4096, 16, 16, 1024};
    struct xml_stream *s = xml_stream_new(&lim);
    if (s == NULL)
        return 0;
    unsigned stanzas = 0;
    for (size_t off = 0; off < size;) {
        size_t n = size - off < chunk ? size - off : chunk;
        enum xml_stream_event ev = xml_stream_feed(s, (const char *)data + off, n);
        off += n;
        while (ev != XML_STREAM_NONE && ev != XML_STREAM_ERROR) {
            if (ev == XML_STREAM_STANZA) {
                struct xml_node *st = xml_stream_stanza(s);
                struct buf b;
                buf_init(&b, 0);
                if (xml_write(&b, st, "jabber:client") == HERALD_OK) {
                    struct arena *a = arena_new(0);
                    struct xml_node *again;
                    if (a && xml_parse_fragment(a, b.data, b.len, 64, &again) != HERALD_OK)
                        __builtin_trap(); /* what the writer makes of a stanza must parse */
                    arena_free(&a);
                }
                buf_cleanup(&b);
                if ((mode & 1) && ++stanzas % 2 == 0 && xml_stream_restart(s) != HERALD_OK)
                    break;
            }
            if (ev == XML_STREAM_CLOSE)
                break;
            ev = xml_stream_next(s);
        }
        if (ev == XML_STREAM_ERROR || ev == XML_STREAM_CLOSE)
            break;
        if (mode & 2)
            xml_stream_park(s);
        chunk = (chunk * 7 + 3) % 64 + 1;
    }
    xml_stream_free(&s);
    return 0;
}
