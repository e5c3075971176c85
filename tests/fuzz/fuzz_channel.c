/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target: ChannelData parsing and the demultiplexer on arbitrary datagrams, plus the
 * Data-indication head writer with a peer address taken from the input.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <turnpike/channel.h>
#include <turnpike/stun_build.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tp_chandata cd;
	uint8_t head[64];
	struct tp_addr peer;
	volatile uint8_t sink = 0;

	(void)tp_wire_classify(data, size);
	if (tp_chandata_parse(&cd, data, size) == 0) {
		/* Every byte the parser hands out must lie inside the datagram. */
		for (size_t i = 0; i < cd.len; i++)
			sink ^= cd.data[i];
		if (cd.data + cd.len > data + size)
			__builtin_trap();
	}
	if (size >= 19) {
		memset(&peer, 0, sizeof(peer));
		peer.family = (data[0] & 1) ? TP_AF_INET6 : TP_AF_INET;
		peer.port = (uint16_t)(data[1] << 8 | data[2]);
		memcpy(peer.ip, data + 3, 16);
		if (peer.family == TP_AF_INET)
			memset(peer.ip + 4, 0, 12);
		(void)tp_stun_data_head(head, sizeof(head), data + 3, &peer, size);
	}
	(void)sink;
	return 0;
}
