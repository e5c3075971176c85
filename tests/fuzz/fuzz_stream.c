/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target: the TCP/TLS stream framer. The first input byte picks a chunk size; the rest
 * is the byte stream, fed in chunks as a socket would deliver it. Every frame handed out must be
 * a whole STUN message or ChannelData message, inside the buffer.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <turnpike/channel.h>
#include <turnpike/stun.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t storage[4096];
	struct tp_framer f;
	size_t chunk, off = 1;

	if (size < 1)
		return 0;
	chunk = (size_t)data[0] % 97 + 1;
	tp_framer_init(&f, storage, sizeof(storage));
	while (off < size) {
		const uint8_t *frame;
		size_t avail, n, flen;
		uint8_t *dst = tp_framer_space(&f, &avail);
		int rc;

		n = size - off < chunk ? size - off : chunk;
		if (n > avail)
			n = avail;
		if (n == 0)
			__builtin_trap(); /* the framer must report a full buffer as an error first
					   */
		memcpy(dst, data + off, n);
		tp_framer_commit(&f, n);
		off += n;
		while ((rc = tp_framer_next(&f, &frame, &flen)) == 1) {
			struct tp_stun_msg m;
			struct tp_chandata cd;

			if (frame < storage || frame + flen > storage + sizeof(storage))
				__builtin_trap();
			if (tp_wire_classify(frame, flen) == TP_WIRE_KIND_STUN)
				(void)tp_stun_parse(&m, frame, flen);
			else if (tp_chandata_parse(&cd, frame, flen) < 0)
				__builtin_trap(); /* a framed ChannelData is always parseable */
		}
		if (rc < 0)
			return 0; /* the connection would be closed */
	}
	return 0;
}
