/*
 * buf.h - a growable byte buffer with a hard size limit.
 *
 * Used by the XML writer and the record codecs. The buffer owns its bytes (heap); the
 * caller embeds struct buf (buf_init/buf_cleanup) or takes the bytes with buf_steal().
 * Every append fails with HERALD_ELIMIT past the limit or HERALD_ENOMEM, and once an append
 * has failed the buffer stays failed (buf.err) so a builder may append many pieces and
 * check once at the end: nothing is silently truncated. That is why the appenders are not
 * HERALD_MUST_CHECK: whoever finishes a buffer must look at b->err before using it.
 */
#ifndef HERALD_BUF_H
#define HERALD_BUF_H

#include <stdarg.h>
#include "herald/common.h"

struct buf {
    char *data; /* NUL-terminated when len > 0 or after any append */
    size_t len;
    size_t cap;
    size_t limit;       /* maximum len; 0 = no limit */
    enum herald_rc err; /* first failure, sticky */
};

void buf_init(struct buf *b, size_t limit);
void buf_cleanup(struct buf *b);
/* Forget the contents but keep the allocation and clear the error. */
void buf_reset(struct buf *b);

enum herald_rc buf_append(struct buf *b, const void *data, size_t len);
enum herald_rc buf_append_str(struct buf *b, const char *s);
enum herald_rc buf_append_byte(struct buf *b, uint8_t c);
enum herald_rc buf_printf(struct buf *b, const char *fmt, ...) HERALD_PRINTF(2, 3);
enum herald_rc buf_vprintf(struct buf *b, const char *fmt, va_list ap) HERALD_PRINTF(2, 0);
/* Big-endian fixed-width integers and a length-prefixed (u32) byte string. */
enum herald_rc buf_append_u16be(struct buf *b, uint16_t v);
enum herald_rc buf_append_u32be(struct buf *b, uint32_t v);
enum herald_rc buf_append_u64be(struct buf *b, uint64_t v);
enum herald_rc buf_append_lstr(struct buf *b, const void *s, size_t len);
/*
 * Append text escaped for XML. Character data escapes & < > ' " and CR (which the XML
 * parser would otherwise normalise away); attribute values also escape TAB and LF so they
 * survive attribute-value normalisation.
 */
enum herald_rc buf_append_xml_escaped(struct buf *b, const char *s, size_t len);
enum herald_rc buf_append_xml_attr_escaped(struct buf *b, const char *s, size_t len);

/* Take the heap block (caller frees with free()); the buffer becomes empty. */
char *buf_steal(struct buf *b, size_t *len);

/*
 * A bounds-checked reader over a byte string, the decoding twin of the appenders.
 * Every get fails (HERALD_EPROTO) rather than reading past the end.
 */
struct buf_reader {
    const uint8_t *p;
    size_t left;
};
void buf_reader_init(struct buf_reader *r, const void *data, size_t len);
HERALD_MUST_CHECK enum herald_rc buf_read_u8(struct buf_reader *r, uint8_t *v);
HERALD_MUST_CHECK enum herald_rc buf_read_u16be(struct buf_reader *r, uint16_t *v);
HERALD_MUST_CHECK enum herald_rc buf_read_u32be(struct buf_reader *r, uint32_t *v);
HERALD_MUST_CHECK enum herald_rc buf_read_u64be(struct buf_reader *r, uint64_t *v);
/* A u32 length then that many bytes; *s points into the reader's data (not copied). */
HERALD_MUST_CHECK enum herald_rc buf_read_lstr(struct buf_reader *r, const char **s, size_t *len);

#endif
