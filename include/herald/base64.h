/*
 * base64.h - RFC 4648 §4 base64 (standard alphabet, padded), strict.
 *
 * Used for SASL payloads (RFC 6120 §6.4 and §13.9.1) and inside SCRAM messages (salts,
 * proofs, channel-binding input). Decoding is strict because RFC 6120 §13.9.1 demands it:
 * any character outside the alphabet (whitespace included) is rejected, '=' may only be the
 * last one or two characters of a complete 4-character group, the length must be a multiple
 * of 4, and the unused bits of the last group must be zero (RFC 6120 §6.4 point 2, so every
 * byte string has exactly one accepted encoding).
 *
 * The single character "=" decodes to the empty string: RFC 6120 §6.4.2 uses it to send a
 * zero-length initial response. The empty input also decodes to the empty string; telling
 * "no data" from "empty data" (an element without character data versus "=") is the
 * caller's business, since only it sees the XML.
 *
 * Both functions append to a struct buf (buf.h), so the buffer's limit bounds the output and
 * its sticky error applies.
 */
#ifndef HERALD_BASE64_H
#define HERALD_BASE64_H

#include "herald/common.h"
#include "herald/buf.h"

/* Characters base64_encode() produces for `len` bytes (no NUL); SIZE_MAX on overflow. */
size_t base64_encoded_len(size_t len);

/* Most bytes base64_decode() can produce from `len` characters. */
size_t base64_decoded_max(size_t len);

/*
 * Append the padded encoding of data[0..len) to out (NUL-terminated, as buf always is).
 * HERALD_ELIMIT past out's limit, HERALD_ENOMEM, or out's earlier sticky error; on failure
 * out holds a prefix of the encoding and stays failed.
 */
HERALD_MUST_CHECK enum herald_rc base64_encode(struct buf *out, const void *data, size_t len);

/*
 * Decode in[0..len) (need not be NUL-terminated) and append the bytes to out.
 * HERALD_EPROTO if the input is not canonical padded base64 as described above: out is then
 * restored to its length before the call and is not marked failed, so the caller can answer
 * <incorrect-encoding/> and go on. HERALD_ELIMIT / HERALD_ENOMEM come from out (sticky).
 */
HERALD_MUST_CHECK enum herald_rc base64_decode(struct buf *out, const char *in, size_t len);

#endif
