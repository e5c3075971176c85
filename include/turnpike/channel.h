/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * ChannelData messages (RFC 8656 §12.4) and the stream framer that splits a TCP or TLS byte
 * stream into STUN messages and ChannelData messages (RFC 8656 §12.5).
 */
#ifndef TURNPIKE_CHANNEL_H
#define TURNPIKE_CHANNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <turnpike/byteorder.h>
#include <turnpike/wire.h>

/**
 * Channel numbers turnpike accepts. RFC 8656 §12 narrowed the range to 0x4000-0x4FFF, but RFC
 * 5766 allowed 0x4000-0x7FFE and deployed clients (libwebrtc, coturn's) still pick numbers up to
 * 0x7FFF; refusing those would break their channels at random, so the old range is kept.
 */
#define TP_CHANNEL_MIN	    0x4000
#define TP_CHANNEL_MAX	    0x7FFF
#define TP_CHANDATA_HDR_LEN 4 /**< channel number + length */

/** A parsed ChannelData message, pointing into the caller's buffer. */
struct tp_chandata {
	uint16_t channel;    /**< TP_CHANNEL_MIN..TP_CHANNEL_MAX */
	uint16_t len;	     /**< application data length */
	const uint8_t *data; /**< application data */
};

/** True when @p ch is a valid channel number. */
static inline bool tp_channel_valid(uint16_t ch)
{
	return ch >= TP_CHANNEL_MIN && ch <= TP_CHANNEL_MAX;
}

/**
 * Parse a ChannelData message at the start of @p len bytes (a datagram or a stream frame).
 * Bytes past the claimed length (padding) are ignored.
 * @return 0, -TP_WIRE_ECHAN_SHORT, -TP_WIRE_ECHAN_NUMBER or -TP_WIRE_ECHAN_LEN.
 */
int tp_chandata_parse(struct tp_chandata *cd, const uint8_t *p, size_t len);

/** Write a ChannelData header for @p len bytes on @p channel at @p hdr (4 bytes). */
static inline void tp_chandata_put_hdr(uint8_t *hdr, uint16_t channel, uint16_t len)
{
	tp_put_be16(hdr, channel);
	tp_put_be16(hdr + 2, len);
}

/** Padding after @p len bytes of data: none over UDP, up to a multiple of 4 over a stream. */
static inline size_t tp_chandata_pad(size_t len, bool stream)
{
	return stream ? (4 - (len & 3)) & 3 : 0;
}

/**
 * Length of the frame that starts a stream, given the first @p avail bytes of it.
 * @return the whole frame's length (STUN: 20 + length; ChannelData: 4 + length + padding),
 *         0 when more bytes are needed to tell, or -TP_WIRE_EFRAME_KIND / -TP_WIRE_EFRAME_LEN
 *         when the stream cannot be a TURN stream or the frame is longer than @p max.
 */
long tp_stream_frame_len(const uint8_t *p, size_t avail, size_t max);

/**
 * A stream framer over a caller-provided buffer. Read into tp_framer_space(), tell it how much
 * came with tp_framer_commit(), then take frames with tp_framer_next() until it returns 0.
 */
struct tp_framer {
	uint8_t *buf; /**< storage */
	size_t cap;   /**< its size: also the largest frame accepted */
	size_t head;  /**< first byte not yet handed out */
	size_t tail;  /**< end of received bytes */
};

/** Set up @p f over @p cap bytes at @p buf. */
void tp_framer_init(struct tp_framer *f, uint8_t *buf, size_t cap);

/**
 * Where to receive more bytes; sets @p avail to the room there (0 only when a partial frame
 * fills the whole buffer, which tp_framer_next() reports as an error first). Frames handed out
 * earlier become invalid.
 */
uint8_t *tp_framer_space(struct tp_framer *f, size_t *avail);

/** Record that @p n bytes were written at tp_framer_space(). */
void tp_framer_commit(struct tp_framer *f, size_t n);

/**
 * Take the next complete frame.
 * @return 1 with @p frame and @p len set, 0 when more bytes are needed, or a negative
 *         enum tp_wire_err after which the stream must be closed.
 */
int tp_framer_next(struct tp_framer *f, const uint8_t **frame, size_t *len);

#endif /* TURNPIKE_CHANNEL_H */
