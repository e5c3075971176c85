/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The DPDK data plane's packet library: Ethernet, ARP, IPv4, IPv6, UDP, ICMP and ICMPv6 on plain
 * byte buffers. No rte_*.h here, so every function is unit-tested on malloc'd buffers (where
 * ASan sees overruns, which it cannot in mbufs).
 *
 * Parsers are bounds-checked, read fields with memcpy-free byte-order helpers (never an unaligned
 * cast) and return a pointer to the next layer, or NULL when the header is truncated or invalid.
 * Each takes the bytes available in *len and leaves there the length of the next layer, so a
 * chain of parsers never reads past what the one below it vouched for (Ethernet padding after a
 * short IPv4 packet is cut off by the IPv4 total length, for instance).
 *
 * tp_frame_parse() runs the chain and fills one normalised descriptor, struct tp_frame, that the
 * lcore loop classifies on.
 *
 * Checksums are ones' complement sums (RFC 1071) kept folded to 16 bits in a uint32_t; RFC 1624
 * updates (HC' = ~(~HC + ~m + m')) move a UDP checksum across header rewrites without reading
 * the payload.
 */
#ifndef TP_DPDK_PKT_H
#define TP_DPDK_PKT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <turnpike/addr.h>

#define TP_ETH_ALEN	    6
#define TP_ETH_HLEN	    14 /* destination, source, EtherType */
#define TP_VLAN_HLEN	    4  /* one 802.1Q tag */
#define TP_ETH_MIN_FRAME    60 /* shortest frame without FCS: shorter ones are padded */
#define TP_ETHERTYPE_IPV4   0x0800
#define TP_ETHERTYPE_ARP    0x0806
#define TP_ETHERTYPE_VLAN   0x8100
#define TP_ETHERTYPE_QINQ   0x88a8
#define TP_ETHERTYPE_IPV6   0x86dd
#define TP_ARP_LEN	    28 /* Ethernet/IPv4 ARP body */
#define TP_ARP_REQUEST	    1
#define TP_ARP_REPLY	    2
#define TP_IPV4_HLEN	    20 /* without options */
#define TP_IPV6_HLEN	    40
#define TP_UDP_HLEN	    8
#define TP_ICMP_HLEN	    8 /* type, code, checksum, identifier, sequence */
#define TP_IPPROTO_ICMP	    1
#define TP_IPPROTO_UDP	    17
#define TP_IPPROTO_FRAG	    44 /* IPv6 Fragment extension header */
#define TP_IPPROTO_ICMPV6   58
#define TP_ICMP_ECHO_REPLY  0
#define TP_ICMP_ECHO	    8
#define TP_ICMP6_ECHO	    128
#define TP_ICMP6_ECHO_REPLY 129
#define TP_ICMP6_NS	    135
#define TP_ICMP6_NA	    136
#define TP_NDP_HLEN	    24 /* ICMPv6 header, flags/reserved, target address */
#define TP_NDP_OPT_SLLA	    1  /* source link-layer address option */
#define TP_NDP_OPT_TLLA	    2  /* target link-layer address option */
#define TP_NDP_NA_ROUTER    0x80000000u
#define TP_NDP_NA_SOLICIT   0x40000000u
#define TP_NDP_NA_OVERRIDE  0x20000000u
#define TP_TTL		    64	/* TTL and hop limit of everything turnpike originates */
#define TP_NDP_HOP_LIMIT    255 /* RFC 4861 §7.1: neighbour discovery must arrive with 255 */

/** Longest header tp_udp_hdr_write() writes: tagged Ethernet + IPv6 + UDP. */
#define TP_UDP_HDR_MAX (TP_ETH_HLEN + TP_VLAN_HLEN + TP_IPV6_HLEN + TP_UDP_HLEN)

/* --- layer parsers --- */

/** An Ethernet header with at most one 802.1Q tag. */
struct tp_eth {
	uint8_t dst[TP_ETH_ALEN];
	uint8_t src[TP_ETH_ALEN];
	uint16_t type; /* EtherType after the tag, if any */
	uint16_t tci;  /* the tag's TCI (PCP, DEI, VLAN id) when tagged */
	bool tagged;   /* one 802.1Q tag was present */
	uint8_t hlen;  /* 14 or 18 */
};

/** Parse Ethernet. A second tag (QinQ) leaves its EtherType in @c type for the caller to drop. */
const uint8_t *tp_eth_parse(const uint8_t *p, size_t *len, struct tp_eth *eth);

/** An Ethernet/IPv4 ARP packet (RFC 826). */
struct tp_arp {
	uint16_t op; /* TP_ARP_REQUEST or TP_ARP_REPLY */
	uint8_t sha[TP_ETH_ALEN];
	uint8_t spa[4];
	uint8_t tha[TP_ETH_ALEN];
	uint8_t tpa[4];
};

/**
 * Parse ARP: hardware type 1, protocol IPv4, lengths 6 and 4, operation 1 or 2. Returns the end
 * of the ARP body (anything after it is padding); *len becomes the bytes after it.
 */
const uint8_t *tp_arp_parse(const uint8_t *p, size_t *len, struct tp_arp *arp);

/** An IPv4 or IPv6 header. */
struct tp_ip {
	uint8_t family;	 /* TP_AF_INET or TP_AF_INET6 */
	uint8_t proto;	 /* protocol / next header */
	uint8_t ttl;	 /* TTL / hop limit */
	bool frag;	 /* a fragment: IPv4 MF or offset != 0, IPv6 Fragment header */
	bool df;	 /* IPv4 Don't Fragment */
	uint16_t hlen;	 /* header bytes (IPv4 with options; IPv6: 40) */
	uint16_t id;	 /* IPv4 identification */
	uint8_t src[16]; /* IPv4 uses the first 4 bytes */
	uint8_t dst[16];
};

/**
 * Parse IPv4: version 4, IHL >= 5 and inside the buffer, total length between the header and the
 * buffer, header checksum valid. Options are skipped. *len becomes total length - header.
 */
const uint8_t *tp_ipv4_parse(const uint8_t *p, size_t *len, struct tp_ip *ip);

/**
 * Parse IPv6: version 6, payload length inside the buffer. No extension headers are walked: a
 * Fragment header (next header 44) only sets @c frag; any other leaves its number in @c proto.
 * *len becomes the payload length.
 */
const uint8_t *tp_ipv6_parse(const uint8_t *p, size_t *len, struct tp_ip *ip);

/** A UDP header. */
struct tp_udp {
	uint16_t sport, dport;
	uint16_t len;	/* UDP length field: header + payload */
	uint16_t cksum; /* as received; 0 means none (IPv4 only) */
};

/** Parse UDP: 8 <= length <= the IP payload. *len becomes the UDP payload length. */
const uint8_t *tp_udp_parse(const uint8_t *p, size_t *len, struct tp_udp *u);

/** An ICMP or ICMPv6 header. */
struct tp_icmp {
	uint8_t type, code;
	uint16_t id, seq; /* echo identifier and sequence */
};

/** Parse ICMPv4 (at least 8 bytes, checksum valid over @p *len). *len becomes the body length. */
const uint8_t *tp_icmp4_parse(const uint8_t *p, size_t *len, struct tp_icmp *ic);

/** Parse ICMPv6 from @p ip (at least 8 bytes, checksum valid over the pseudo-header). */
const uint8_t *tp_icmp6_parse(const uint8_t *p, size_t *len, const struct tp_ip *ip,
			      struct tp_icmp *ic);

/** A Neighbor Solicitation or Advertisement body (RFC 4861 §4.3, §4.4). */
struct tp_nd {
	uint32_t flags;		     /* NA: R, S, O bits (TP_NDP_NA_*) */
	uint8_t target[16];	     /* target address */
	uint8_t lladdr[TP_ETH_ALEN]; /* source (NS) or target (NA) link-layer address option */
	bool has_lladdr;
};

/**
 * Parse an NS or NA (ICMPv6 message of @p len bytes at @p p, already checksummed, from @p ip):
 * hop limit 255, code 0, at least 24 bytes, a unicast target, options of non-zero length inside
 * the message; an NS from the unspecified address (duplicate address detection) carries no
 * source link-layer address. Returns the end of the message, or NULL.
 */
const uint8_t *tp_nd_parse(const uint8_t *p, size_t len, const struct tp_ip *ip, uint8_t type,
			   struct tp_nd *nd);

/* --- the normalised descriptor --- */

/** What a frame is, as far as the data plane cares. */
enum tp_frame_kind {
	TP_FRAME_MALFORMED = 0,	  /* truncated or invalid header at some layer */
	TP_FRAME_OTHER_ETHERTYPE, /* neither ARP, IPv4 nor IPv6 (or a second VLAN tag) */
	TP_FRAME_FRAGMENT,	  /* an IPv4 or IPv6 fragment */
	TP_FRAME_OTHER_PROTO,	  /* IP protocol other than UDP/ICMP, or an IPv6 extension */
	TP_FRAME_OTHER_ICMP,	  /* ICMP(v6) that is not echo request or NS/NA */
	TP_FRAME_ARP,		  /* ARP request or reply: f->u.arp */
	TP_FRAME_ICMP_ECHO,	  /* ICMP or ICMPv6 echo request */
	TP_FRAME_NDP_NS,	  /* Neighbor Solicitation: f->u.nd */
	TP_FRAME_NDP_NA,	  /* Neighbor Advertisement: f->u.nd */
	TP_FRAME_UDP,		  /* UDP: src/dst carry the ports, payload at pay_off */
};

/** A parsed frame: offsets into the caller's buffer plus the fields worth copying. */
struct tp_frame {
	uint8_t kind;	/* enum tp_frame_kind */
	uint8_t family; /* TP_AF_INET / TP_AF_INET6 for IP frames, 0 for ARP */
	uint8_t proto;	/* IP protocol */
	uint8_t ttl;
	bool tagged; /* 802.1Q */
	bool df;     /* IPv4 DF */
	uint16_t tci;
	uint16_t ethertype;
	uint8_t dst_mac[TP_ETH_ALEN];
	uint8_t src_mac[TP_ETH_ALEN];
	uint16_t l3_off;  /* ARP or IP header */
	uint16_t l4_off;  /* UDP or ICMP header */
	uint16_t pay_off; /* UDP payload; ICMP: the byte after the 8-byte header */
	uint16_t pay_len;
	uint16_t l4_len;    /* UDP length; ICMP message length */
	uint16_t udp_cksum; /* as received */
	uint16_t ip_id;
	struct tp_addr src; /* IP source, UDP source port */
	struct tp_addr dst; /* IP destination, UDP destination port */
	union {
		struct tp_arp arp;
		struct tp_nd nd;
		struct tp_icmp icmp;
	} u;
};

/**
 * Parse @p len bytes of Ethernet frame at @p p into @p f.
 * @return f->kind; for TP_FRAME_MALFORMED the other fields are unspecified.
 */
enum tp_frame_kind tp_frame_parse(struct tp_frame *f, const uint8_t *p, size_t len);

/* --- checksums (RFC 1071, RFC 1624) --- */

/** Fold a ones' complement accumulator to 16 bits (end-around carry). */
static inline uint32_t tp_cksum_fold(uint64_t sum)
{
	sum = (sum & 0xffffffffu) + (sum >> 32);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint32_t)sum;
}

/** Ones' complement sum of two folded sums. */
static inline uint32_t tp_cksum_add(uint32_t a, uint32_t b)
{
	return tp_cksum_fold((uint64_t)a + b);
}

/** Ones' complement difference a - b of two folded sums. */
static inline uint32_t tp_cksum_sub(uint32_t a, uint32_t b)
{
	return tp_cksum_fold((uint64_t)a + (~b & 0xffff));
}

/**
 * The same bytes one position later: a sum taken at an even offset, moved to an odd one, is its
 * byte swap (RFC 1071 §2 (B)).
 */
static inline uint32_t tp_cksum_swab(uint32_t sum)
{
	return ((sum & 0xff) << 8) | ((sum >> 8) & 0xff);
}

/** Folded sum of @p len bytes as big-endian 16-bit words; an odd last byte is padded with 0. */
uint32_t tp_cksum_sum(const void *p, size_t len);

/** The checksum field for a folded sum: its complement. */
static inline uint16_t tp_cksum_finish(uint32_t sum)
{
	return (uint16_t)~tp_cksum_fold(sum);
}

/**
 * RFC 1624 eqn. 3 over many fields at once: the checksum @p hc of data whose fields summing to
 * @p old_sum now sum to @p new_sum: HC' = ~(~HC + ~m + m').
 */
static inline uint16_t tp_cksum_adjust(uint16_t hc, uint32_t old_sum, uint32_t new_sum)
{
	uint32_t s = tp_cksum_add((uint16_t)~hc, (~old_sum) & 0xffff);

	return (uint16_t)~tp_cksum_add(s, new_sum);
}

/** RFC 1624 for one 16-bit field changing from @p m to @p m2. */
static inline uint16_t tp_cksum_update16(uint16_t hc, uint16_t m, uint16_t m2)
{
	return tp_cksum_adjust(hc, m, m2);
}

/** IPv4 header checksum of @p hlen bytes at @p ip (whose checksum field the caller zeroed). */
uint16_t tp_ipv4_cksum(const uint8_t *ip, size_t hlen);

/** Folded sum of the UDP pseudo-header for @p src and @p dst (same family) and @p udp_len. */
uint32_t tp_cksum_pseudo(const struct tp_addr *src, const struct tp_addr *dst, uint8_t proto,
			 uint32_t l4_len);

/**
 * Full UDP checksum of the @p udp_len byte datagram at @p udp (its checksum field is ignored)
 * from @p src to @p dst. A result of 0 is returned as 0xffff (RFC 768: 0 means "none" in IPv4;
 * RFC 8200 §8.1: never 0 in IPv6).
 */
uint16_t tp_udp_cksum(const struct tp_addr *src, const struct tp_addr *dst, const uint8_t *udp,
		      size_t udp_len);

/**
 * Folded sum of everything of a UDP datagram outside its payload that its checksum covers: the
 * pseudo-header, both ports and the length field (the checksum field excluded). @p src and
 * @p dst carry the ports.
 */
uint32_t tp_udp_hdr_sum(const struct tp_addr *src, const struct tp_addr *dst, uint16_t udp_len);

/** A UDP datagram rewritten around a window of its payload, for tp_udp_cksum_rewrite(). */
struct tp_udp_rewrite {
	const struct tp_addr *osrc, *odst; /* old addresses and ports */
	const uint8_t *opay;		   /* old payload */
	uint32_t opay_len;		   /* its length */
	uint32_t off, len;		   /* the window of the old payload that is kept */
	const uint8_t *head;		   /* bytes written before the window */
	uint32_t head_len;
	const uint8_t *tail; /* bytes written after it */
	uint32_t tail_len;
	const struct tp_addr *nsrc, *ndst; /* new addresses and ports (either family) */
};

/**
 * The new datagram's UDP checksum from the old one (@p old_cksum) by RFC 1624, reading only the
 * headers, head, tail and the dropped parts of the old payload: the new payload is head +
 * opay[off, off+len) + tail. Call it before the old bytes are overwritten.
 *
 * @return 0 with @p out set (never 0: 0xffff instead), or -1 when an incremental update is not
 *         possible and the caller must compute the checksum in full: the old IPv4 checksum was 0
 *         (none), or the window moves by an odd number of bytes (its 16-bit words re-pair).
 */
int tp_udp_cksum_rewrite(uint16_t old_cksum, const struct tp_udp_rewrite *r, uint16_t *out);

/* --- builders --- */

/** Layer 2 of an outgoing frame. */
struct tp_l2 {
	uint8_t dst[TP_ETH_ALEN];
	uint8_t src[TP_ETH_ALEN];
	uint16_t tci;
	bool tagged;
};

/** Write an Ethernet header (tagged if l2->tagged); returns 14 or 18. */
size_t tp_eth_write(uint8_t *p, const struct tp_l2 *l2, uint16_t ethertype);

/** Header bytes tp_udp_hdr_write() writes for @p family. */
static inline size_t tp_udp_hdr_len(uint8_t family, bool tagged)
{
	return TP_ETH_HLEN + (tagged ? TP_VLAN_HLEN : 0) +
	       (family == TP_AF_INET6 ? TP_IPV6_HLEN : TP_IPV4_HLEN) + TP_UDP_HLEN;
}

/**
 * Write Ethernet + IPv4 or IPv6 (by @p src's family; @p dst has the same) + UDP headers for a
 * payload of @p pay_len bytes at @p p: TTL/hop limit 64, DF as asked (IPv4), IPv4 identification
 * @p id, IPv4 header checksum filled in, UDP checksum field 0 for the caller.
 * @return the header length (tp_udp_hdr_len()), or 0 when the datagram would exceed 65535 bytes.
 */
size_t tp_udp_hdr_write(uint8_t *p, const struct tp_l2 *l2, const struct tp_addr *src,
			const struct tp_addr *dst, size_t pay_len, bool df, uint16_t id);

/**
 * Turn the ARP request parsed into @p f (in @p frame) into the reply from @p mac in place:
 * Ethernet to the requester, operation 2, sender = (@p mac, the asked address), target = the
 * requester. The frame keeps its length and tag.
 */
void tp_arp_reply_inplace(uint8_t *frame, const struct tp_frame *f, const uint8_t mac[TP_ETH_ALEN]);

/**
 * Build a broadcast ARP request for @p tpa from (@p l2->src, @p spa), padded to 60 bytes.
 * l2->dst is ignored. @return the frame length, or 0 when @p cap is too small.
 */
size_t tp_arp_request(uint8_t *p, size_t cap, const struct tp_l2 *l2, const uint8_t spa[4],
		      const uint8_t tpa[4]);

/**
 * Turn the ICMP or ICMPv6 echo request parsed into @p f into its reply in place: Ethernet and IP
 * addresses swapped (the source MAC becomes @p mac), TTL/hop limit 64, type 0 / 129, checksums
 * updated. The frame keeps its length.
 */
void tp_icmp_echo_reply_inplace(uint8_t *frame, const struct tp_frame *f,
				const uint8_t mac[TP_ETH_ALEN]);

/**
 * Turn the Neighbor Solicitation parsed into @p f into the solicited Advertisement for its target
 * from @p mac, in place (RFC 4861 §7.2.4): to the solicitor's unicast address and link-layer
 * address, flags S and O, a target link-layer address option, hop limit 255.
 * @return the new frame length (the message may grow by 8 bytes), or 0 when @p cap is too small
 *         or the solicitation came from the unspecified address.
 */
size_t tp_ndp_na_from_ns(uint8_t *frame, size_t cap, const struct tp_frame *f,
			 const uint8_t mac[TP_ETH_ALEN]);

/**
 * Build a Neighbor Solicitation for @p target from (@p l2->src, @p src) to the target's
 * solicited-node multicast address, with a source link-layer address option. l2->dst is ignored.
 * @return the frame length, or 0 when @p cap is too small.
 */
size_t tp_ndp_ns(uint8_t *p, size_t cap, const struct tp_l2 *l2, const uint8_t src[16],
		 const uint8_t target[16]);

#endif /* TP_DPDK_PKT_H */
