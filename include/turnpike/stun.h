/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * STUN (RFC 8489) and TURN (RFC 8656) messages: constants, the zero-copy parser and the typed
 * attribute accessors.
 *
 * tp_stun_parse() validates the header and indexes the attributes in one pass, without copying
 * and without allocating. The accessors read values out of the caller's buffer on demand and
 * enforce each attribute's RFC length rules, so a message with a malformed value still parses
 * (and can be answered with 400) while the bad value itself is never used.
 *
 * The builder and the integrity functions are in stun_build.h.
 */
#ifndef TURNPIKE_STUN_H
#define TURNPIKE_STUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <turnpike/addr.h>
#include <turnpike/wire.h>

#define TP_STUN_HDR_LEN	     20		 /**< bytes in the STUN header */
#define TP_STUN_TID_LEN	     12		 /**< bytes in a transaction ID */
#define TP_STUN_MAGIC_COOKIE 0x2112A442u /**< RFC 8489 §5 */
#define TP_STUN_FP_XOR	     0x5354554eu /**< RFC 8489 §14.7: "STUN" XORed into the CRC */
/** Largest message turnpike handles, header included: 16-bit offsets index it, so 0xfffc. */
#define TP_STUN_MAX_LEN 0xfffc

/* RFC 8489 §14.3, §14.9, §14.10, §14.14, §14.8; RFC 8489 §14.16. Lengths in bytes. */
#define TP_STUN_USERNAME_MAX 508 /**< USERNAME: fewer than 509 bytes */
#define TP_STUN_REALM_MAX    763 /**< REALM: fewer than 128 characters, at most 763 bytes */
#define TP_STUN_NONCE_MAX    763 /**< NONCE: likewise */
#define TP_STUN_SOFTWARE_MAX 763 /**< SOFTWARE: likewise */
#define TP_STUN_REASON_MAX   763 /**< ERROR-CODE reason phrase: likewise */
#define TP_STUN_DOMAIN_MAX   255 /**< ALTERNATE-DOMAIN */
#define TP_STUN_USERHASH_LEN 32	 /**< USERHASH: a SHA-256 */
#define TP_STUN_MI_LEN	     20	 /**< MESSAGE-INTEGRITY: HMAC-SHA1 */
#define TP_STUN_MI256_MIN    16	 /**< MESSAGE-INTEGRITY-SHA256: 16..32 bytes, multiple of 4 */
#define TP_STUN_MI256_MAX    32
#define TP_STUN_MAX_UNKNOWN  16 /**< unknown attributes recorded (and reported in a 420) */

/** Message classes (RFC 8489 §5), already shifted into their bits of the message type. */
enum tp_stun_class {
	TP_STUN_REQUEST = 0x0000,
	TP_STUN_INDICATION = 0x0010,
	TP_STUN_SUCCESS = 0x0100,
	TP_STUN_ERROR = 0x0110,
};

/** Methods (RFC 8489 §18.2, RFC 8656 §17). */
enum tp_stun_method {
	TP_STUN_BINDING = 0x001,
	TP_STUN_ALLOCATE = 0x003,
	TP_STUN_REFRESH = 0x004,
	TP_STUN_SEND = 0x006,
	TP_STUN_DATA = 0x007,
	TP_STUN_CREATE_PERMISSION = 0x008,
	TP_STUN_CHANNEL_BIND = 0x009,
};

/** Password algorithms (RFC 8489 §18.5). */
enum tp_stun_pwalg {
	TP_STUN_PWALG_MD5 = 0x0001,
	TP_STUN_PWALG_SHA256 = 0x0002,
};

/** Transport protocol numbers for REQUESTED-TRANSPORT (RFC 8656 §18.7). */
#define TP_STUN_TRANSPORT_UDP 17

/**
 * X(NAME, type, "SPELLING") for every attribute turnpike understands: RFC 8489, RFC 8656, and the
 * ICE and NAT-behaviour attributes (RFC 8445, RFC 5780) that clients put in Binding requests, which
 * are understood in the sense of being safe to ignore.
 */
#define TP_STUN_ATTRS(X)                                                  \
	X(MAPPED_ADDRESS, 0x0001, "MAPPED-ADDRESS")                       \
	X(USERNAME, 0x0006, "USERNAME")                                   \
	X(MESSAGE_INTEGRITY, 0x0008, "MESSAGE-INTEGRITY")                 \
	X(ERROR_CODE, 0x0009, "ERROR-CODE")                               \
	X(UNKNOWN_ATTRIBUTES, 0x000A, "UNKNOWN-ATTRIBUTES")               \
	X(CHANNEL_NUMBER, 0x000C, "CHANNEL-NUMBER")                       \
	X(LIFETIME, 0x000D, "LIFETIME")                                   \
	X(XOR_PEER_ADDRESS, 0x0012, "XOR-PEER-ADDRESS")                   \
	X(DATA, 0x0013, "DATA")                                           \
	X(REALM, 0x0014, "REALM")                                         \
	X(NONCE, 0x0015, "NONCE")                                         \
	X(XOR_RELAYED_ADDRESS, 0x0016, "XOR-RELAYED-ADDRESS")             \
	X(REQUESTED_ADDRESS_FAMILY, 0x0017, "REQUESTED-ADDRESS-FAMILY")   \
	X(EVEN_PORT, 0x0018, "EVEN-PORT")                                 \
	X(REQUESTED_TRANSPORT, 0x0019, "REQUESTED-TRANSPORT")             \
	X(DONT_FRAGMENT, 0x001A, "DONT-FRAGMENT")                         \
	X(MESSAGE_INTEGRITY_SHA256, 0x001C, "MESSAGE-INTEGRITY-SHA256")   \
	X(PASSWORD_ALGORITHM, 0x001D, "PASSWORD-ALGORITHM")               \
	X(USERHASH, 0x001E, "USERHASH")                                   \
	X(XOR_MAPPED_ADDRESS, 0x0020, "XOR-MAPPED-ADDRESS")               \
	X(RESERVATION_TOKEN, 0x0022, "RESERVATION-TOKEN")                 \
	X(PRIORITY, 0x0024, "PRIORITY")                                   \
	X(USE_CANDIDATE, 0x0025, "USE-CANDIDATE")                         \
	X(ADDITIONAL_ADDRESS_FAMILY, 0x8000, "ADDITIONAL-ADDRESS-FAMILY") \
	X(ADDRESS_ERROR_CODE, 0x8001, "ADDRESS-ERROR-CODE")               \
	X(PASSWORD_ALGORITHMS, 0x8002, "PASSWORD-ALGORITHMS")             \
	X(ALTERNATE_DOMAIN, 0x8003, "ALTERNATE-DOMAIN")                   \
	X(ICMP, 0x8004, "ICMP")                                           \
	X(SOFTWARE, 0x8022, "SOFTWARE")                                   \
	X(ALTERNATE_SERVER, 0x8023, "ALTERNATE-SERVER")                   \
	X(FINGERPRINT, 0x8028, "FINGERPRINT")                             \
	X(ICE_CONTROLLED, 0x8029, "ICE-CONTROLLED")                       \
	X(ICE_CONTROLLING, 0x802A, "ICE-CONTROLLING")                     \
	X(RESPONSE_ORIGIN, 0x802B, "RESPONSE-ORIGIN")                     \
	X(OTHER_ADDRESS, 0x802C, "OTHER-ADDRESS")

/** Attribute types. */
enum tp_stun_attr {
#define TP_STUN_X(name, type, spelling) TP_STUN_ATTR_##name = type,
	TP_STUN_ATTRS(TP_STUN_X)
#undef TP_STUN_X
};

/** Index of each known attribute in struct tp_stun_msg's attr array. */
enum tp_stun_slot {
#define TP_STUN_X(name, type, spelling) TP_STUN_SLOT_##name,
	TP_STUN_ATTRS(TP_STUN_X)
#undef TP_STUN_X
	TP_STUN_SLOT_COUNT
};

/** Where an attribute's value lies: @c off bytes from the message start; off 0 = absent. */
struct tp_stun_span {
	uint16_t off; /**< offset of the value (never 0 for a present attribute) */
	uint16_t len; /**< value length without padding */
};

/**
 * A parsed message: pointers into the caller's buffer plus an index of its attributes.
 * Valid as long as that buffer is.
 */
struct tp_stun_msg {
	const uint8_t *buf; /**< first byte of the message */
	uint16_t len;	    /**< header + attributes, in bytes */
	uint16_t type;	    /**< message type */
	uint16_t method;    /**< enum tp_stun_method value */
	uint16_t cls;	    /**< enum tp_stun_class value */
	uint16_t mi_off;    /**< offset of the MESSAGE-INTEGRITY attribute header, 0 if none */
	uint16_t mi256_off; /**< offset of the MESSAGE-INTEGRITY-SHA256 header, 0 if none */
	uint16_t fp_off;    /**< offset of the FINGERPRINT attribute header, 0 if none */
	uint16_t scan_end;  /**< end of the attributes that count (before any integrity) */
	uint16_t n_attrs;   /**< attributes in the message, counted or not */
	uint16_t n_unknown; /**< unknown comprehension-required attributes seen */
	uint16_t unknown[TP_STUN_MAX_UNKNOWN];	      /**< the first of them */
	struct tp_stun_span attr[TP_STUN_SLOT_COUNT]; /**< first instance of each known attribute */
};

/** Message type from method and class (RFC 8489 §5: method bits interleaved with class). */
static inline uint16_t tp_stun_type(uint16_t method, uint16_t cls)
{
	return (uint16_t)((method & 0x000f) | (method & 0x0070) << 1 | (method & 0x0f80) << 2 |
			  (cls & 0x0110));
}

/** Method of a message type. */
static inline uint16_t tp_stun_type_method(uint16_t type)
{
	return (uint16_t)((type & 0x000f) | (type & 0x00e0) >> 1 | (type & 0x3e00) >> 2);
}

/** Class of a message type. */
static inline uint16_t tp_stun_type_class(uint16_t type)
{
	return type & 0x0110;
}

/** Slot of attribute @p type in struct tp_stun_msg, or -1 when turnpike does not know it. */
int tp_stun_attr_slot(uint16_t type);

/** Name of attribute @p type, e.g. "XOR-PEER-ADDRESS", or NULL when unknown. */
const char *tp_stun_attr_name(uint16_t type);

/**
 * Parse and validate the STUN message that fills exactly @p len bytes at @p buf.
 *
 * Checks the two zero bits, the magic cookie, that the length is a multiple of 4 and equals
 * @p len - 20, and that every attribute fits. Records the first instance of each known attribute,
 * ignores those after MESSAGE-INTEGRITY (except MESSAGE-INTEGRITY-SHA256 and FINGERPRINT) and
 * after MESSAGE-INTEGRITY-SHA256 (except FINGERPRINT), rejects anything after FINGERPRINT and
 * integrity attributes of the wrong length, and records unknown comprehension-required types.
 *
 * @return 0, or a negative enum tp_wire_err; on failure @p m holds no usable index.
 */
int tp_stun_parse(struct tp_stun_msg *m, const uint8_t *buf, size_t len);

/** Transaction ID of @p m (12 bytes). */
static inline const uint8_t *tp_stun_tid(const struct tp_stun_msg *m)
{
	return m->buf + 8;
}

/** True when attribute @p type was found (and counts). */
bool tp_stun_has(const struct tp_stun_msg *m, uint16_t type);

/** Span of attribute @p type; its off is 0 when absent. */
struct tp_stun_span tp_stun_find(const struct tp_stun_msg *m, uint16_t type);

/**
 * Iterate over every counted instance of @p type (CreatePermission may carry several
 * XOR-PEER-ADDRESS). Start with @p it zeroed; each call moves it to the next instance.
 * @return true while an instance was found.
 */
bool tp_stun_next(const struct tp_stun_msg *m, uint16_t type, struct tp_stun_span *it);

/** Value bytes of a span. */
static inline const uint8_t *tp_stun_value(const struct tp_stun_msg *m, struct tp_stun_span s)
{
	return m->buf + s.off;
}

/*
 * Typed accessors. Each returns 0, -TP_WIRE_EABSENT when the attribute is missing,
 * -TP_WIRE_EATTR_VALUE when its value is malformed, or -TP_WIRE_ETOO_LONG past an RFC limit.
 */

/**
 * Decode an address attribute: XOR-MAPPED-, XOR-PEER- and XOR-RELAYED-ADDRESS are un-XORed,
 * MAPPED-ADDRESS, ALTERNATE-SERVER, RESPONSE-ORIGIN and OTHER-ADDRESS are read as is. Port 0
 * and families other than IPv4/IPv6 are malformed.
 */
int tp_stun_get_addr(const struct tp_stun_msg *m, uint16_t type, struct tp_addr *out);

/** As tp_stun_get_addr() for one instance found by tp_stun_next(). */
int tp_stun_decode_addr(const struct tp_stun_msg *m, uint16_t type, struct tp_stun_span s,
			struct tp_addr *out);

/**
 * A string attribute: USERNAME, REALM, NONCE, SOFTWARE or ALTERNATE-DOMAIN, with its RFC length
 * limit. USERNAME, REALM and NONCE may not be empty. Not NUL-terminated.
 */
int tp_stun_get_string(const struct tp_stun_msg *m, uint16_t type, const uint8_t **s, size_t *len);

/** A 32-bit attribute value, e.g. LIFETIME or PRIORITY (exactly 4 bytes). */
int tp_stun_get_u32(const struct tp_stun_msg *m, uint16_t type, uint32_t *v);

/** ERROR-CODE: @p code is 300..699; @p reason may be NULL. */
int tp_stun_get_error(const struct tp_stun_msg *m, int *code, const uint8_t **reason,
		      size_t *reason_len);

/** UNKNOWN-ATTRIBUTES: copies up to @p cap types into @p types, sets @p n to the total. */
int tp_stun_get_unknown(const struct tp_stun_msg *m, uint16_t *types, size_t cap, size_t *n);

/** CHANNEL-NUMBER: the number (range not checked here: the engine answers 400 for that). */
int tp_stun_get_channel(const struct tp_stun_msg *m, uint16_t *channel);

/** REQUESTED-TRANSPORT: the IP protocol number. */
int tp_stun_get_transport(const struct tp_stun_msg *m, uint8_t *proto);

/**
 * REQUESTED-ADDRESS-FAMILY or ADDITIONAL-ADDRESS-FAMILY: @p family is the family byte as sent
 * (0x01 IPv4, 0x02 IPv6; other values are returned for the engine to answer 440).
 */
int tp_stun_get_family(const struct tp_stun_msg *m, uint16_t type, uint8_t *family);

/** ADDRESS-ERROR-CODE (RFC 8656 §18.12). @p reason may be NULL. */
int tp_stun_get_address_error(const struct tp_stun_msg *m, uint8_t *family, int *code,
			      const uint8_t **reason, size_t *reason_len);

/** EVEN-PORT: @p reserve is the R bit. */
int tp_stun_get_even_port(const struct tp_stun_msg *m, bool *reserve);

/** RESERVATION-TOKEN: 8 opaque bytes, as a big-endian integer. */
int tp_stun_get_reservation_token(const struct tp_stun_msg *m, uint64_t *token);

/** DATA: the payload bytes (may be empty). */
int tp_stun_get_data(const struct tp_stun_msg *m, const uint8_t **data, size_t *len);

/** ICMP (RFC 8656 §18.13). */
int tp_stun_get_icmp(const struct tp_stun_msg *m, uint8_t *icmp_type, uint8_t *icmp_code,
		     uint32_t *error_data);

/** USERHASH: exactly 32 bytes. */
int tp_stun_get_userhash(const struct tp_stun_msg *m, const uint8_t **hash);

/** PASSWORD-ALGORITHM: the algorithm number; its parameters must fit. */
int tp_stun_get_password_algorithm(const struct tp_stun_msg *m, uint16_t *alg);

/**
 * PASSWORD-ALGORITHMS: copies up to @p cap algorithm numbers in order, sets @p n to the total.
 * Malformed when empty or when a parameter block overruns.
 */
int tp_stun_get_password_algorithms(const struct tp_stun_msg *m, uint16_t *algs, size_t cap,
				    size_t *n);

#endif /* TURNPIKE_STUN_H */
