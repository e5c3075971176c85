/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The STUN message parser: one pass over the header and the attributes, no copies.
 */
#include <string.h>

#include <turnpike/byteorder.h>
#include <turnpike/stun.h>

int tp_stun_attr_slot(uint16_t type)
{
	switch (type) {
#define TP_STUN_X(name, code, spelling) \
	case code:                      \
		return TP_STUN_SLOT_##name;
		TP_STUN_ATTRS(TP_STUN_X)
#undef TP_STUN_X
	}
	return -1;
}

const char *tp_stun_attr_name(uint16_t type)
{
	static const char *const names[TP_STUN_SLOT_COUNT] = {
#define TP_STUN_X(name, code, spelling) [TP_STUN_SLOT_##name] = spelling,
		TP_STUN_ATTRS(TP_STUN_X)
#undef TP_STUN_X
	};
	int slot = tp_stun_attr_slot(type);

	return slot < 0 ? NULL : names[slot];
}

int tp_stun_parse(struct tp_stun_msg *m, const uint8_t *buf, size_t len)
{
	bool after_mi = false;
	size_t off, end;
	uint16_t mlen;

	memset(m, 0, sizeof(*m));
	if (len < TP_STUN_HDR_LEN)
		return -TP_WIRE_ESHORT;
	/* RFC 8489 §5: the most significant two bits of every STUN message are zero. */
	if (buf[0] & 0xc0)
		return -TP_WIRE_ENOT_STUN;
	if (tp_get_be32(buf + 4) != TP_STUN_MAGIC_COOKIE)
		return -TP_WIRE_ECOOKIE;
	mlen = tp_get_be16(buf + 2);
	if (mlen & 3)
		return -TP_WIRE_ELEN_ALIGN;
	if ((size_t)mlen + TP_STUN_HDR_LEN != len)
		return -TP_WIRE_ELEN_MISMATCH;
	/*
	 * struct tp_stun_msg holds 16-bit offsets. A stream can carry up to 20 + 0xfffc bytes;
	 * past TP_STUN_MAX_LEN, len, scan_end and attribute offsets would wrap onto the header.
	 */
	if (len > TP_STUN_MAX_LEN)
		return -TP_WIRE_ELEN_MISMATCH;

	m->buf = buf;
	m->len = (uint16_t)len;
	m->type = tp_get_be16(buf);
	m->method = tp_stun_type_method(m->type);
	m->cls = tp_stun_type_class(m->type);

	end = len;
	for (off = TP_STUN_HDR_LEN; off < end;) {
		/* off and end are multiples of 4, so a whole attribute header is there. */
		uint16_t type = tp_get_be16(buf + off);
		uint16_t alen = tp_get_be16(buf + off + 2);
		size_t next = off + 4 + ((size_t)alen + 3 - ((size_t)alen + 3) % 4);

		if (next > end)
			return -TP_WIRE_EATTR_OVERRUN;
		/* RFC 8489 §14.7: FINGERPRINT is the last attribute. */
		if (m->fp_off)
			return -TP_WIRE_EFP_NOT_LAST;
		m->n_attrs++;

		if (type == TP_STUN_ATTR_FINGERPRINT) {
			if (alen != 4)
				return -TP_WIRE_EFP_LEN;
			m->fp_off = (uint16_t)off;
		} else if (type == TP_STUN_ATTR_MESSAGE_INTEGRITY_SHA256) {
			/* RFC 8489 §14.6: only FINGERPRINT counts after it. */
			if (!m->mi256_off) {
				if (alen < TP_STUN_MI256_MIN || alen > TP_STUN_MI256_MAX ||
				    (alen & 3))
					return -TP_WIRE_EMI256_LEN;
				m->mi256_off = (uint16_t)off;
				if (!after_mi)
					m->scan_end = (uint16_t)off;
				after_mi = true;
			}
		} else if (type == TP_STUN_ATTR_MESSAGE_INTEGRITY) {
			/* RFC 8489 §14.5: attributes after it are ignored but for the two above. */
			if (!after_mi) {
				if (alen != TP_STUN_MI_LEN)
					return -TP_WIRE_EMI_LEN;
				m->mi_off = (uint16_t)off;
				m->scan_end = (uint16_t)off;
				after_mi = true;
			}
		} else if (!after_mi) {
			int slot = tp_stun_attr_slot(type);

			if (slot >= 0) {
				/* Duplicates: the first instance wins. */
				if (!m->attr[slot].off) {
					m->attr[slot].off = (uint16_t)(off + 4);
					m->attr[slot].len = alen;
				}
			} else if (type < 0x8000) {
				/* RFC 8489 §15: comprehension-required, and not understood. */
				if (m->n_unknown < TP_STUN_MAX_UNKNOWN)
					m->unknown[m->n_unknown] = type;
				if (m->n_unknown < UINT16_MAX)
					m->n_unknown++;
			}
		}
		off = next;
	}
	if (!after_mi)
		m->scan_end = (uint16_t)(m->fp_off ? m->fp_off : end);
	/* The slot array records FINGERPRINT and the integrity attributes too, for tp_stun_has().
	 */
	if (m->mi_off) {
		m->attr[TP_STUN_SLOT_MESSAGE_INTEGRITY].off = (uint16_t)(m->mi_off + 4);
		m->attr[TP_STUN_SLOT_MESSAGE_INTEGRITY].len = TP_STUN_MI_LEN;
	}
	if (m->mi256_off) {
		m->attr[TP_STUN_SLOT_MESSAGE_INTEGRITY_SHA256].off = (uint16_t)(m->mi256_off + 4);
		m->attr[TP_STUN_SLOT_MESSAGE_INTEGRITY_SHA256].len =
			tp_get_be16(buf + m->mi256_off + 2);
	}
	if (m->fp_off) {
		m->attr[TP_STUN_SLOT_FINGERPRINT].off = (uint16_t)(m->fp_off + 4);
		m->attr[TP_STUN_SLOT_FINGERPRINT].len = 4;
	}
	return 0;
}

bool tp_stun_has(const struct tp_stun_msg *m, uint16_t type)
{
	return tp_stun_find(m, type).off != 0;
}

struct tp_stun_span tp_stun_find(const struct tp_stun_msg *m, uint16_t type)
{
	struct tp_stun_span none = { 0, 0 };
	int slot = tp_stun_attr_slot(type);

	return slot < 0 ? none : m->attr[slot];
}

bool tp_stun_next(const struct tp_stun_msg *m, uint16_t type, struct tp_stun_span *it)
{
	size_t off;

	/* The parser validated the layout up to scan_end, so this walk needs no bounds checks
	 * beyond the loop condition. */
	if (it->off == 0) {
		off = TP_STUN_HDR_LEN;
	} else {
		off = (size_t)it->off + it->len;
		off += (4 - off % 4) % 4;
	}
	while (off + 4 <= m->scan_end) {
		uint16_t t = tp_get_be16(m->buf + off);
		uint16_t alen = tp_get_be16(m->buf + off + 2);

		if (t == type) {
			it->off = (uint16_t)(off + 4);
			it->len = alen;
			return true;
		}
		off += 4 + ((size_t)alen + 3) / 4 * 4;
	}
	it->off = 0;
	it->len = 0;
	return false;
}
