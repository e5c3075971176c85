/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ChannelData parsing and the TCP/TLS stream framer (RFC 8656 §12.4, §12.5).
 */
#include <string.h>

#include <turnpike/byteorder.h>
#include <turnpike/channel.h>
#include <turnpike/stun.h>

int tp_chandata_parse(struct tp_chandata *cd, const uint8_t *p, size_t len)
{
	uint16_t ch, dlen;

	if (len < TP_CHANDATA_HDR_LEN)
		return -TP_WIRE_ECHAN_SHORT;
	ch = tp_get_be16(p);
	dlen = tp_get_be16(p + 2);
	if (!tp_channel_valid(ch))
		return -TP_WIRE_ECHAN_NUMBER;
	/* RFC 8656 §12.5: too short for the claimed length -> discard. Longer is padding. */
	if ((size_t)dlen > len - TP_CHANDATA_HDR_LEN)
		return -TP_WIRE_ECHAN_LEN;
	cd->channel = ch;
	cd->len = dlen;
	cd->data = p + TP_CHANDATA_HDR_LEN;
	return 0;
}

long tp_stream_frame_len(const uint8_t *p, size_t avail, size_t max)
{
	size_t total;

	if (avail == 0)
		return 0;
	switch (tp_wire_classify(p, avail)) {
	case TP_WIRE_KIND_STUN:
		if (avail < 8)
			return 0;
		if (tp_get_be32(p + 4) != TP_STUN_MAGIC_COOKIE)
			return -TP_WIRE_EFRAME_KIND;
		if (tp_get_be16(p + 2) & 3)
			return -TP_WIRE_EFRAME_LEN;
		total = TP_STUN_HDR_LEN + (size_t)tp_get_be16(p + 2);
		break;
	case TP_WIRE_KIND_CHANNEL:
		if (avail < TP_CHANDATA_HDR_LEN)
			return 0;
		if (!tp_channel_valid(tp_get_be16(p)))
			return -TP_WIRE_EFRAME_KIND;
		/* Over a stream, ChannelData is padded to a multiple of 4 (RFC 8656 §12.5). */
		total = TP_CHANDATA_HDR_LEN + ((size_t)tp_get_be16(p + 2) + 3) / 4 * 4;
		break;
	default:
		return -TP_WIRE_EFRAME_KIND;
	}
	if (total > max)
		return -TP_WIRE_EFRAME_LEN;
	return (long)total;
}

void tp_framer_init(struct tp_framer *f, uint8_t *buf, size_t cap)
{
	f->buf = buf;
	f->cap = cap;
	f->head = 0;
	f->tail = 0;
}

uint8_t *tp_framer_space(struct tp_framer *f, size_t *avail)
{
	/* Move a partial frame to the front so the largest frame always fits. */
	if (f->head > 0) {
		memmove(f->buf, f->buf + f->head, f->tail - f->head);
		f->tail -= f->head;
		f->head = 0;
	}
	*avail = f->cap - f->tail;
	return f->buf + f->tail;
}

void tp_framer_commit(struct tp_framer *f, size_t n)
{
	if (n > f->cap - f->tail)
		n = f->cap - f->tail;
	f->tail += n;
}

int tp_framer_next(struct tp_framer *f, const uint8_t **frame, size_t *len)
{
	size_t have = f->tail - f->head;
	long flen = tp_stream_frame_len(f->buf + f->head, have, f->cap);

	if (flen < 0)
		return (int)flen;
	if (flen == 0 || (size_t)flen > have)
		return 0;
	*frame = f->buf + f->head;
	*len = (size_t)flen;
	f->head += (size_t)flen;
	return 1;
}
