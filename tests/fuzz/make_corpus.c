/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Writes the fuzzers' seed corpora: the RFC 5769 vectors, messages from the builder for every
 * TURN method, ChannelData, and a TCP stream of mixed frames.
 * Usage: make_corpus DIR   (creates DIR/stun, DIR/channel, DIR/stream)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <turnpike/channel.h>
#include <turnpike/stun_build.h>

#include "../unit/wire_vectors.h"

static const char *root;

static void put(const char *sub, const char *name, const void *p, size_t n)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, sub);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/%s/%s", root, sub, name);
	f = fopen(path, "wb");
	if (!f || fwrite(p, 1, n, f) != n) {
		perror(path);
		exit(1);
	}
	fclose(f);
}

static int allocate_request(uint8_t *buf, size_t cap)
{
	static const uint8_t tid[12] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };
	static const uint16_t algs[2] = { TP_STUN_PWALG_MD5, TP_STUN_PWALG_SHA256 };
	struct tp_stun_builder b;
	struct tp_hmac_key k, k256;
	struct tp_addr peer;
	static const uint8_t ip6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };

	tp_hmac_key_init(&k, TP_DIGEST_SHA1, "key", 3);
	tp_hmac_key_init(&k256, TP_DIGEST_SHA256, "key", 3);
	tp_addr_set6(&peer, ip6, 5000);
	tp_stun_build_init(&b, buf, cap, TP_STUN_ALLOCATE, TP_STUN_REQUEST, tid);
	tp_stun_add_transport(&b, TP_STUN_TRANSPORT_UDP);
	tp_stun_add_u32(&b, TP_STUN_ATTR_LIFETIME, 600);
	tp_stun_add_family(&b, TP_STUN_ATTR_ADDITIONAL_ADDRESS_FAMILY, TP_AF_INET6);
	tp_stun_add_even_port(&b, true);
	tp_stun_add(&b, TP_STUN_ATTR_DONT_FRAGMENT, NULL, 0);
	tp_stun_add_string(&b, TP_STUN_ATTR_USERNAME, "demo", 4);
	tp_stun_add_string(&b, TP_STUN_ATTR_REALM, "turnpike", 8);
	tp_stun_add_string(&b, TP_STUN_ATTR_NONCE, "obMatJos2AAACf//499k954d6OL34oL9FSTvy64sA", 41);
	tp_stun_add_password_algorithms(&b, algs, 2);
	tp_stun_add_password_algorithm(&b, TP_STUN_PWALG_SHA256);
	tp_stun_add_addr(&b, TP_STUN_ATTR_XOR_PEER_ADDRESS, &peer);
	tp_stun_add_channel(&b, 0x4001);
	tp_stun_add_integrity(&b, &k);
	tp_stun_add_integrity_sha256(&b, &k256, 32);
	tp_stun_add_fingerprint(&b);
	return tp_stun_build_finish(&b);
}

int main(int argc, char **argv)
{
	uint8_t buf[1024], stream[2048];
	size_t s = 0;
	int n;

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	root = argv[1];
	mkdir(root, 0755);
	put("stun", "rfc5769-2.1", rfc5769_request, sizeof(rfc5769_request));
	put("stun", "rfc5769-2.2", rfc5769_ipv4_response, sizeof(rfc5769_ipv4_response));
	put("stun", "rfc5769-2.3", rfc5769_ipv6_response, sizeof(rfc5769_ipv6_response));
	put("stun", "rfc5769-2.4", rfc5769_long_term, sizeof(rfc5769_long_term));
	n = allocate_request(buf, sizeof(buf));
	if (n < 0)
		return 1;
	put("stun", "allocate", buf, (size_t)n);

	tp_chandata_put_hdr(buf, 0x4000, 5);
	memcpy(buf + 4, "hello\0\0\0", 8);
	put("channel", "chandata-udp", buf, 9);
	put("channel", "chandata-padded", buf, 12);

	/* A stream: ChannelData (padded), a STUN request, another ChannelData. */
	stream[s++] = 3; /* chunk-size selector for fuzz_stream */
	memcpy(stream + s, buf, 12);
	s += 12;
	memcpy(stream + s, rfc5769_long_term, sizeof(rfc5769_long_term));
	s += sizeof(rfc5769_long_term);
	n = allocate_request(stream + s, sizeof(stream) - s);
	if (n < 0)
		return 1;
	s += (size_t)n;
	put("stream", "mixed", stream, s);
	return 0;
}
