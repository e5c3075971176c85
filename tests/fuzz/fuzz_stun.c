/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target: the STUN parser, every typed accessor, attribute iteration and the three
 * integrity checks, on arbitrary datagrams.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <turnpike/stun.h>
#include <turnpike/stun_build.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void touch(const uint8_t *p, size_t n)
{
	volatile uint8_t sink = 0;

	for (size_t i = 0; i < n; i++)
		sink ^= p[i];
	(void)sink;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint16_t addr_types[] = {
		TP_STUN_ATTR_XOR_MAPPED_ADDRESS,  TP_STUN_ATTR_XOR_PEER_ADDRESS,
		TP_STUN_ATTR_XOR_RELAYED_ADDRESS, TP_STUN_ATTR_MAPPED_ADDRESS,
		TP_STUN_ATTR_ALTERNATE_SERVER,
	};
	static const uint16_t str_types[] = {
		TP_STUN_ATTR_USERNAME,
		TP_STUN_ATTR_REALM,
		TP_STUN_ATTR_NONCE,
		TP_STUN_ATTR_SOFTWARE,
		TP_STUN_ATTR_ALTERNATE_DOMAIN,
	};
	static struct tp_hmac_key k1, k256;
	static int keyed;
	struct tp_stun_msg m;
	struct tp_stun_span it = { 0, 0 };
	struct tp_addr a;
	const uint8_t *p;
	uint16_t u16[8];
	uint64_t u64;
	uint32_t u32;
	uint8_t u8, t8, c8;
	size_t n;
	bool flag;
	int code;

	if (!keyed) {
		tp_hmac_key_init(&k1, TP_DIGEST_SHA1, "key", 3);
		tp_hmac_key_init(&k256, TP_DIGEST_SHA256, "key", 3);
		keyed = 1;
	}
	if (tp_stun_parse(&m, data, size) < 0)
		return 0;

	for (size_t i = 0; i < sizeof(addr_types) / sizeof(addr_types[0]); i++)
		tp_stun_get_addr(&m, addr_types[i], &a);
	for (size_t i = 0; i < sizeof(str_types) / sizeof(str_types[0]); i++)
		if (tp_stun_get_string(&m, str_types[i], &p, &n) == 0)
			touch(p, n);
	while (tp_stun_next(&m, TP_STUN_ATTR_XOR_PEER_ADDRESS, &it))
		tp_stun_decode_addr(&m, TP_STUN_ATTR_XOR_PEER_ADDRESS, it, &a);
	tp_stun_get_u32(&m, TP_STUN_ATTR_LIFETIME, &u32);
	if (tp_stun_get_error(&m, &code, &p, &n) == 0)
		touch(p, n);
	tp_stun_get_unknown(&m, u16, 8, &n);
	tp_stun_get_channel(&m, u16);
	tp_stun_get_transport(&m, &u8);
	tp_stun_get_family(&m, TP_STUN_ATTR_REQUESTED_ADDRESS_FAMILY, &u8);
	tp_stun_get_family(&m, TP_STUN_ATTR_ADDITIONAL_ADDRESS_FAMILY, &u8);
	if (tp_stun_get_address_error(&m, &u8, &code, &p, &n) == 0)
		touch(p, n);
	tp_stun_get_even_port(&m, &flag);
	tp_stun_get_reservation_token(&m, &u64);
	if (tp_stun_get_data(&m, &p, &n) == 0)
		touch(p, n);
	tp_stun_get_icmp(&m, &t8, &c8, &u32);
	if (tp_stun_get_userhash(&m, &p) == 0)
		touch(p, TP_STUN_USERHASH_LEN);
	tp_stun_get_password_algorithm(&m, u16);
	tp_stun_get_password_algorithms(&m, u16, 8, &n);
	tp_stun_check_integrity(&m, &k1);
	tp_stun_check_integrity_sha256(&m, &k256);
	tp_stun_check_fingerprint(&m);
	return 0;
}
