/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The wire codec's shared vocabulary: error codes and the first-byte demultiplexer.
 *
 * Codec functions return 0 (or a length) on success and a negative enum tp_wire_err on
 * failure. The engine turns these codes into named drop counters, so the list is an X-macro
 * that yields both the enum and the names.
 */
#ifndef TURNPIKE_WIRE_H
#define TURNPIKE_WIRE_H

#include <stddef.h>
#include <stdint.h>

/** X(name, description) for every codec error. */
#define TP_WIRE_ERRORS(X)                                             \
	X(SHORT, "shorter than a STUN header")                        \
	X(NOT_STUN, "first two bits are not zero")                    \
	X(COOKIE, "wrong magic cookie")                               \
	X(LEN_ALIGN, "message length is not a multiple of 4")         \
	X(LEN_MISMATCH, "message length disagrees with the datagram") \
	X(ATTR_OVERRUN, "attribute runs past the end of the message") \
	X(FP_NOT_LAST, "attribute after FINGERPRINT")                 \
	X(MI_LEN, "MESSAGE-INTEGRITY of the wrong length")            \
	X(MI256_LEN, "MESSAGE-INTEGRITY-SHA256 of the wrong length")  \
	X(FP_LEN, "FINGERPRINT of the wrong length")                  \
	X(ABSENT, "attribute absent")                                 \
	X(ATTR_VALUE, "attribute value malformed")                    \
	X(TOO_LONG, "value longer than its RFC limit")                \
	X(INTEGRITY, "integrity check failed")                        \
	X(FINGERPRINT, "fingerprint check failed")                    \
	X(NOSPACE, "output buffer too small")                         \
	X(ARG, "invalid argument")                                    \
	X(CHAN_SHORT, "ChannelData shorter than its header")          \
	X(CHAN_NUMBER, "channel number outside 0x4000-0x7FFF")        \
	X(CHAN_LEN, "ChannelData length runs past the datagram")      \
	X(FRAME_KIND, "stream frame is neither STUN nor ChannelData") \
	X(FRAME_LEN, "stream frame length impossible or over the limit")

/** Codec error codes; functions return them negated. */
enum tp_wire_err {
	TP_WIRE_OK = 0,
#define TP_WIRE_X(name, desc) TP_WIRE_E##name,
	TP_WIRE_ERRORS(TP_WIRE_X)
#undef TP_WIRE_X
	TP_WIRE_ERR_COUNT
};

/** Description of a codec error (positive or negative code); never NULL. */
const char *tp_wire_strerror(int err);

/** Short identifier of a codec error, e.g. "cookie", for counter names; never NULL. */
const char *tp_wire_errname(int err);

/** What the first byte of a datagram or stream frame says it is (RFC 7983, RFC 8656 §12). */
enum tp_wire_kind {
	TP_WIRE_KIND_OTHER = 0, /**< not for a TURN server's listening port */
	TP_WIRE_KIND_STUN,	/**< first byte 0-3: a STUN message */
	TP_WIRE_KIND_CHANNEL,	/**< first byte 64-79: ChannelData */
};

/** Classify @p len bytes at @p p by their first byte. */
static inline enum tp_wire_kind tp_wire_classify(const uint8_t *p, size_t len)
{
	if (len == 0)
		return TP_WIRE_KIND_OTHER;
	if (p[0] <= 3)
		return TP_WIRE_KIND_STUN;
	/* RFC 7983 gives 64-79 to TURN channels; 80-127 are unassigned there and carry the
	 * channel numbers that RFC 5766 clients still use. */
	if (p[0] >= 64 && p[0] <= 127)
		return TP_WIRE_KIND_CHANNEL;
	return TP_WIRE_KIND_OTHER;
}

#endif /* TURNPIKE_WIRE_H */
