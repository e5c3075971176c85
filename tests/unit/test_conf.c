/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The config loader: every key's type and range, unknown and duplicate keys at every level,
 * the cross-key rules, syntax errors with line numbers, files, and the two shipped configs.
 * Error messages are asserted word for word: they are part of the interface.
 *
 * JSON in this file is written with single quotes, which q() turns into double quotes.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <turnpike/conf.h>
#include <turnpike/stun.h>

#ifndef TP_SOURCE_DIR
#define TP_SOURCE_DIR "."
#endif

static char err[1024];

/* @p s with every ' replaced by ". */
static char *q(const char *s)
{
	char *c = malloc(strlen(s) + 1);

	ck_assert_ptr_nonnull(c);
	memcpy(c, s, strlen(s) + 1);
	for (char *p = c; *p; p++)
		if (*p == '\'')
			*p = '"';
	return c;
}

static struct tp_config *load(const char *sq)
{
	char *json = q(sq);
	struct tp_config *cfg = tp_config_load_string(json, "t.json", err, sizeof(err));

	free(json);
	return cfg;
}

static void expect_error(const char *sq, const char *msg)
{
	struct tp_config *cfg = load(sq);
	char want[1024];

	snprintf(want, sizeof(want), "t.json: %s", msg);
	if (cfg)
		tp_config_destroy(cfg);
	ck_assert_msg(cfg == NULL, "accepted: %s", sq);
	ck_assert_str_eq(err, want);
}

static struct tp_config *expect_ok(const char *sq)
{
	struct tp_config *cfg = load(sq);

	ck_assert_msg(cfg != NULL, "refused: %s\n  with: %s", sq, err);
	ck_assert_str_eq(err, "");
	return cfg;
}

/* The smallest valid document, in parts, so a test can replace one of them. */
#define L0	    "'listen':[{'transport':'udp','address':'127.0.0.1'}]"
#define R0	    "'relay':{'address':'127.0.0.1'}"
#define A0	    "'auth':{'users':[{'name':'a','password':'b'}]}"
#define DOC(extra)  "{" L0 "," R0 "," A0 extra "}"
#define NO_L(extra) "{" R0 "," A0 extra "}"
#define NO_R(extra) "{" L0 "," A0 extra "}"
#define NO_A(extra) "{" L0 "," R0 extra "}"
/* A DPDK port that owns 127.0.0.1, so the base document is valid with kind "dpdk". */
#define PORT0 "{'device':'net_ring0','addresses':['127.0.0.1/8']}"
#define DPDK(port_extra)                                                                      \
	DOC(",'dataplane':{'kind':'dpdk','dpdk':{'ports':[{'device':'net_ring0','addresses':" \
	    "['127.0.0.1/8']" port_extra "}]}}")

struct bad_case {
	const char *json;
	const char *msg;
};

static const struct bad_case bad[] = {
	/* ---- syntax and the document ---- */
	{ "", "line 1: JSON syntax error" },
	{ "{", "line 1: JSON syntax error" },
	{ "{} x", "line 1: JSON syntax error" },
	{ "{\n'realm': 'x',\n\n'listen': [ }\n}", "line 4: JSON syntax error" },
	{ "{\n  'realm': 'x'\n  'listen': []\n}", "line 3: JSON syntax error" },
	{ "{'realm': 'x',}", "line 1: JSON syntax error" },
	{ "[]", ".: must be an object, got an array" },
	{ "42", ".: must be an object, got a number" },
	{ "null", ".: must be an object, got null" },
	{ DOC(",'relam':'x'"), ".: unknown key \"relam\"" },
	{ DOC(",'Realm':'x'"), ".: unknown key \"Realm\"" },
	{ DOC(",'realm':'a','realm':'b'"), ".: duplicate key \"realm\"" },
	{ DOC(",'a\\nb':1"), ".: unknown key \"a\\u000ab\"" },
	{ DOC(",'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx':1"),
	  ".: unknown key \"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...\"" },

	/* ---- realm, software ---- */
	{ DOC(",'realm':42"), ".realm: must be a string, got 42" },
	{ DOC(",'realm':''"), ".realm: must be 1..763 bytes long, got 0" },
	{ DOC(",'realm':null"), ".realm: must be a string, got null" },
	{ DOC(",'realm':['a']"), ".realm: must be a string, got an array" },
	{ DOC(",'realm':'\xff'"), ".realm: must be valid UTF-8" },
	{ DOC(",'realm':'\xc0\xaf'"), ".realm: must be valid UTF-8" },	   /* overlong '/' */
	{ DOC(",'realm':'\xed\xa0\x80'"), ".realm: must be valid UTF-8" }, /* a surrogate */
	{ DOC(",'software':''"), ".software: must be 1..763 bytes long, got 0" },
	{ DOC(",'software':true"), ".software: must be a string, got true" },

	/* ---- listen ---- */
	{ NO_L(""), ".listen: must have at least one listener" },
	{ NO_L(",'listen':[]"), ".listen: must have at least one listener" },
	{ NO_L(",'listen':{}"), ".listen: must be an array, got an object" },
	{ NO_L(",'listen':[42]"), ".listen[0]: must be an object, got 42" },
	{ NO_L(",'listen':[{'address':'127.0.0.1'}]"), ".listen[0]: missing key \"transport\"" },
	{ NO_L(",'listen':[{'transport':'udp'}]"), ".listen[0]: missing key \"address\"" },
	{ NO_L(",'listen':[{'transport':'udp','address':'127.0.0.1'},"
	       "{'transport':'sctp','address':'127.0.0.1'}]"),
	  ".listen[1].transport: must be one of \"udp\", \"tcp\", \"tls\", got \"sctp\"" },
	{ NO_L(",'listen':[{'transport':'UDP','address':'127.0.0.1'}]"),
	  ".listen[0].transport: must be one of \"udp\", \"tcp\", \"tls\", got \"UDP\"" },
	{ NO_L(",'listen':[{'transport':17,'address':'127.0.0.1'}]"),
	  ".listen[0].transport: must be one of \"udp\", \"tcp\", \"tls\", got 17" },
	{ NO_L(",'listen':[{'transport':'udp','address':'1.2.3'}]"),
	  ".listen[0].address: must be an IP address, got \"1.2.3\"" },
	{ NO_L(",'listen':[{'transport':'udp','address':'127.0.0.1:3478'}]"),
	  ".listen[0].address: must be an IP address, got \"127.0.0.1:3478\"" },
	{ NO_L(",'listen':[{'transport':'udp','address':'[::1]'}]"),
	  ".listen[0].address: must be an IP address, got \"[::1]\"" },
	{ NO_L(",'listen':[{'transport':'udp','address':'localhost'}]"),
	  ".listen[0].address: must be an IP address, got \"localhost\"" },
	{ NO_L(",'listen':[{'transport':'udp','address':2130706433}]"),
	  ".listen[0].address: must be an IP address, got 2130706433" },
	{ NO_L(",'listen':[{'transport':'udp','address':'127.0.0.1','port':0}]"),
	  ".listen[0].port: must be 1..65535, got 0" },
	{ NO_L(",'listen':[{'transport':'udp','address':'127.0.0.1','port':70000}]"),
	  ".listen[0].port: must be 1..65535, got 70000" },
	{ NO_L(",'listen':[{'transport':'udp','address':'127.0.0.1','port':-1}]"),
	  ".listen[0].port: must be 1..65535, got -1" },
	{ NO_L(",'listen':[{'transport':'udp','address':'127.0.0.1','port':'3478'}]"),
	  ".listen[0].port: must be an integer, got \"3478\"" },
	{ NO_L(",'listen':[{'transport':'udp','address':'127.0.0.1','port':3478.5}]"),
	  ".listen[0].port: must be an integer, got 3478.5" },
	{ NO_L(",'listen':[{'transport':'udp','address':'127.0.0.1','port':1e20}]"),
	  ".listen[0].port: must be 1..65535, got 1e+20" },
	{ NO_L(",'listen':[{'transport':'udp','address':'127.0.0.1','port':null}]"),
	  ".listen[0].port: must be an integer, got null" },
	{ NO_L(",'listen':[{'transport':'udp','address':'127.0.0.1','proto':'x'}]"),
	  ".listen[0]: unknown key \"proto\"" },
	{ NO_L(",'listen':[{'transport':'tls','address':'127.0.0.1','key':'k.pem'}]"),
	  ".listen[0]: missing key \"cert\" (required with transport \"tls\")" },
	{ NO_L(",'listen':[{'transport':'tls','address':'127.0.0.1','cert':'c.pem'}]"),
	  ".listen[0]: missing key \"key\" (required with transport \"tls\")" },
	{ NO_L(",'listen':[{'transport':'udp','address':'127.0.0.1','cert':'c.pem'}]"),
	  ".listen[0].cert: only allowed with transport \"tls\", got transport \"udp\"" },
	{ NO_L(",'listen':[{'transport':'tcp','address':'127.0.0.1','key':'k.pem'}]"),
	  ".listen[0].key: only allowed with transport \"tls\", got transport \"tcp\"" },
	{ NO_L(",'listen':[{'transport':'tls','address':'127.0.0.1','cert':'','key':'k'}]"),
	  ".listen[0].cert: must be 1..4096 bytes long, got 0" },
	{ NO_L(",'listen':[{'transport':'udp','address':'127.0.0.1'},"
	       "{'transport':'udp','address':'127.0.0.1'}]"),
	  ".listen[1]: must not use the same UDP address and port as .listen[0], "
	  "got \"127.0.0.1\" port 3478" },
	{ NO_L(",'listen':[{'transport':'tcp','address':'::1','port':5349},"
	       "{'transport':'tls','address':'::1','cert':'c','key':'k'}]"),
	  ".listen[1]: must not use the same TCP address and port as .listen[0], "
	  "got \"::1\" port 5349" },
	{ NO_L(",'listen':[{'transport':'udp','address':'127.0.0.1'},"
	       "{'transport':'udp','address':'0.0.0.0'}]"),
	  ".listen[1]: must not use the same UDP address and port as .listen[0], "
	  "got \"0.0.0.0\" port 3478" },
	{ NO_L(",'listen':[{'transport':'udp','address':'127.0.0.1','port':50000}]"),
	  ".listen[0].port: must be outside the relay port range 49152..65535 on the relay "
	  "address, got 50000" },
	{ NO_L(",'listen':[{'transport':'udp','address':'0.0.0.0','port':49152}]"),
	  ".listen[0].port: must be outside the relay port range 49152..65535 on the relay "
	  "address, got 49152" },

	/* ---- relay ---- */
	{ NO_R(""), ".relay: must have \"address\" or \"address6\"" },
	{ NO_R(",'relay':{}"), ".relay: must have \"address\" or \"address6\"" },
	{ NO_R(",'relay':'127.0.0.1'"), ".relay: must be an object, got \"127.0.0.1\"" },
	{ NO_R(",'relay':{'address':'::1'}"),
	  ".relay.address: must be an IPv4 address, got \"::1\"" },
	{ NO_R(",'relay':{'address':'::ffff:127.0.0.1'}"),
	  ".relay.address: must be an IPv4 address, got \"::ffff:127.0.0.1\"" },
	{ NO_R(",'relay':{'address6':'127.0.0.1'}"),
	  ".relay.address6: must be an IPv6 address, got \"127.0.0.1\"" },
	{ NO_R(",'relay':{'address':'0.0.0.0'}"),
	  ".relay.address: must be a specific address, got \"0.0.0.0\"" },
	{ NO_R(",'relay':{'address6':'::'}"),
	  ".relay.address6: must be a specific address, got \"::\"" },
	{ NO_R(",'relay':{'address':'127.0.0.1','port_min':70000}"),
	  ".relay.port_min: must be 1024..65535, got 70000" },
	{ NO_R(",'relay':{'address':'127.0.0.1','port_min':1023}"),
	  ".relay.port_min: must be 1024..65535, got 1023" },
	{ NO_R(",'relay':{'address':'127.0.0.1','port_max':65536}"),
	  ".relay.port_max: must be 1024..65535, got 65536" },
	{ NO_R(",'relay':{'address':'127.0.0.1','port_min':50000,'port_max':40000}"),
	  ".relay.port_max: must be >= port_min (50000), got 40000" },
	{ NO_R(",'relay':{'address':'127.0.0.1','port_min':50000}"), NULL }, /* fine: max 65535 */
	{ NO_R(",'relay':{'address':'127.0.0.1','ports':[1,2]}"), ".relay: unknown key \"ports\"" },

	/* ---- auth ---- */
	{ NO_A(""), ".auth: must have \"users\" or \"secret\" when \"required\" is true" },
	{ NO_A(",'auth':{}"),
	  ".auth: must have \"users\" or \"secret\" when \"required\" is true" },
	{ NO_A(",'auth':{'users':[]}"),
	  ".auth: must have \"users\" or \"secret\" when \"required\" is true" },
	{ NO_A(",'auth':{'users':[{'name':'a','passwd':'b'}]}"),
	  ".auth.users[0]: unknown key \"passwd\"" },
	{ NO_A(",'auth':{'users':[{'name':'a'}]}"), ".auth.users[0]: missing key \"password\"" },
	{ NO_A(",'auth':{'users':[{'password':'b'}]}"), ".auth.users[0]: missing key \"name\"" },
	{ NO_A(",'auth':{'users':[{'name':'','password':'b'}]}"),
	  ".auth.users[0].name: must be 1..508 bytes long, got 0" },
	{ NO_A(",'auth':{'users':[{'name':'a','password':''}]}"),
	  ".auth.users[0].password: must be 1..1024 bytes long, got 0" },
	{ NO_A(",'auth':{'users':[{'name':'a','password':1234}]}"),
	  ".auth.users[0].password: must be a string, got 1234" },
	{ NO_A(",'auth':{'users':[{'name':'a','password':'x'},{'name':'b','password':'x'},"
	       "{'name':'a','password':'y'}]}"),
	  ".auth.users[2].name: duplicate user \"a\"" },
	{ NO_A(",'auth':{'users':{'name':'a','password':'b'}}"),
	  ".auth.users: must be an array, got an object" },
	{ NO_A(",'auth':{'users':['a:b']}"), ".auth.users[0]: must be an object, got \"a:b\"" },
	{ NO_A(",'auth':{'secret':5}"), ".auth.secret: must be a string, got 5" },
	{ NO_A(",'auth':{'secret':''}"), ".auth.secret: must be 1..1024 bytes long, got 0" },
	{ DOC(",'auth':{'secret':'s'}"), ".: duplicate key \"auth\"" },
	{ NO_A(",'auth':{'secret':'s','nonce_lifetime':9}"),
	  ".auth.nonce_lifetime: must be 10..86400, got 9" },
	{ NO_A(",'auth':{'secret':'s','nonce_lifetime':86401}"),
	  ".auth.nonce_lifetime: must be 10..86400, got 86401" },
	{ NO_A(",'auth':{'secret':'s','password_algorithms':['sha1']}"),
	  ".auth.password_algorithms[0]: must be one of \"md5\", \"sha256\", got \"sha1\"" },
	{ NO_A(",'auth':{'secret':'s','password_algorithms':[]}"),
	  ".auth.password_algorithms: must have at least 1 entry, got 0" },
	{ NO_A(",'auth':{'secret':'s','password_algorithms':['md5','md5']}"),
	  ".auth.password_algorithms[1]: duplicate \"md5\"" },
	{ NO_A(",'auth':{'secret':'s','password_algorithms':['sha256','md5','sha256']}"),
	  ".auth.password_algorithms: must have at most 2 entries, got 3" },
	{ NO_A(",'auth':{'secret':'s','password_algorithms':'md5'}"),
	  ".auth.password_algorithms: must be an array, got \"md5\"" },
	{ NO_A(",'auth':{'secret':'s','required':'no'}"),
	  ".auth.required: must be true or false, got \"no\"" },
	{ NO_A(",'auth':{'secret':'s','required':0}"),
	  ".auth.required: must be true or false, got 0" },
	{ NO_A(",'auth':{'secret':'s','realm':'x'}"), ".auth: unknown key \"realm\"" },

	/* ---- limits ---- */
	{ DOC(",'limits':{'allocations_per_user':0}"),
	  ".limits.allocations_per_user: must be 1..1000000, got 0" },
	{ DOC(",'limits':{'allocations_total':0}"),
	  ".limits.allocations_total: must be 1..16777216, got 0" },
	{ DOC(",'limits':{'allocations_total':16777217}"),
	  ".limits.allocations_total: must be 1..16777216, got 16777217" },
	{ DOC(",'limits':{'permissions_per_allocation':65536}"),
	  ".limits.permissions_per_allocation: must be 1..65535, got 65536" },
	{ DOC(",'limits':{'channels_per_allocation':4097}"),
	  ".limits.channels_per_allocation: must be 1..4096, got 4097" },
	{ DOC(",'limits':{'max_lifetime':59}"), ".limits.max_lifetime: must be 60..86400, got 59" },
	{ DOC(",'limits':{'default_lifetime':86401}"),
	  ".limits.default_lifetime: must be 60..86400, got 86401" },
	{ DOC(",'limits':{'max_lifetime':300}"),
	  ".limits.max_lifetime: must be >= default_lifetime (600), got 300" },
	{ DOC(",'limits':{'bandwidth_bps':-1}"),
	  ".limits.bandwidth_bps: must be 0..1000000000000, got -1" },
	{ DOC(",'limits':{'bandwidth_bps':1.5e12}"),
	  ".limits.bandwidth_bps: must be 0..1000000000000, got 1500000000000" },
	{ DOC(",'limits':{'bandwidth_bps':'1M'}"),
	  ".limits.bandwidth_bps: must be an integer, got \"1M\"" },
	{ DOC(",'limits':{'unauth_rate':0}"), ".limits.unauth_rate: must be 1..1000000, got 0" },
	{ DOC(",'limits':{'lifetime':600}"), ".limits: unknown key \"lifetime\"" },
	{ DOC(",'limits':[]"), ".limits: must be an object, got an array" },

	/* ---- peers ---- */
	{ DOC(",'peers':{'allow':['10.0.0.0/33']}"),
	  ".peers.allow[0]: must be a CIDR prefix like \"10.0.0.0/8\" or \"fc00::/7\", "
	  "got \"10.0.0.0/33\"" },
	{ DOC(",'peers':{'deny':['10.0.0.0/8',1]}"),
	  ".peers.deny[1]: must be a CIDR prefix like \"10.0.0.0/8\" or \"fc00::/7\", got 1" },
	{ DOC(",'peers':{'deny':['fc00::/129']}"),
	  ".peers.deny[0]: must be a CIDR prefix like \"10.0.0.0/8\" or \"fc00::/7\", "
	  "got \"fc00::/129\"" },
	{ DOC(",'peers':{'deny':'10.0.0.0/8'}"),
	  ".peers.deny: must be an array, got \"10.0.0.0/8\"" },
	{ DOC(",'peers':{'allow_loopback':1}"),
	  ".peers.allow_loopback: must be true or false, got 1" },
	{ DOC(",'peers':{'allow_private':true}"), ".peers: unknown key \"allow_private\"" },

	/* ---- dataplane ---- */
	{ DOC(",'dataplane':{'kind':'xdp'}"),
	  ".dataplane.kind: must be one of \"sockets\", \"dpdk\", got \"xdp\"" },
	{ DOC(",'dataplane':{'workers':0}"), ".dataplane.workers: must be 1..128, got 0" },
	{ DOC(",'dataplane':{'workers':129}"), ".dataplane.workers: must be 1..128, got 129" },
	{ NO_R(",'relay':{'address':'127.0.0.1','port_min':60000,'port_max':60001},"
	       "'dataplane':{'workers':3}"),
	  ".dataplane.workers: must be at most the number of relay ports (2), got 3" },
	{ DOC(",'dataplane':{'threads':2}"), ".dataplane: unknown key \"threads\"" },
	{ DOC(",'dataplane':{'dpdk':{'lcores':'0-3'}}"),
	  ".dataplane.dpdk: unknown key \"lcores\"" },
	{ DOC(",'dataplane':{'dpdk':{'eal':['']}}"),
	  ".dataplane.dpdk.eal[0]: must be 1..4096 bytes long, got 0" },
	{ DOC(",'dataplane':{'dpdk':{'eal':['-l',1]}}"),
	  ".dataplane.dpdk.eal[1]: must be a string, got 1" },
	{ DOC(",'dataplane':{'dpdk':{'eal':'-l 0-3'}}"),
	  ".dataplane.dpdk.eal: must be an array, got \"-l 0-3\"" },
	{ DOC(",'dataplane':{'dpdk':{'mbufs':1023}}"),
	  ".dataplane.dpdk.mbufs: must be 1024..16777216, got 1023" },
	{ DOC(",'dataplane':{'dpdk':{'burst':0}}"),
	  ".dataplane.dpdk.burst: must be 1..256, got 0" },
	{ DOC(",'dataplane':{'dpdk':{'burst':257}}"),
	  ".dataplane.dpdk.burst: must be 1..256, got 257" },
	{ DOC(",'dataplane':{'dpdk':{'ports':[{'addresses':['10.0.0.2/24']}]}}"),
	  ".dataplane.dpdk.ports[0]: missing key \"device\"" },
	{ DOC(",'dataplane':{'dpdk':{'ports':[{'device':'net_tap0'}]}}"),
	  ".dataplane.dpdk.ports[0]: missing key \"addresses\"" },
	{ DOC(",'dataplane':{'dpdk':{'ports':[{'device':'','addresses':['10.0.0.2/24']}]}}"),
	  ".dataplane.dpdk.ports[0].device: must be 1..255 bytes long, got 0" },
	{ DOC(",'dataplane':{'dpdk':{'ports':[{'device':'p','addresses':[]}]}}"),
	  ".dataplane.dpdk.ports[0].addresses: must have at least 1 entry, got 0" },
	{ DOC(",'dataplane':{'dpdk':{'ports':[{'device':'p','addresses':['10.0.0.2/33']}]}}"),
	  ".dataplane.dpdk.ports[0].addresses[0]: must be an address with a prefix length like "
	  "\"192.0.2.10/24\", got \"10.0.0.2/33\"" },
	{ DOC(",'dataplane':{'dpdk':{'ports':[{'device':'p','addresses':['0.0.0.0/0']}]}}"),
	  ".dataplane.dpdk.ports[0].addresses[0]: must be a specific address, got \"0.0.0.0/0\"" },
	{ DOC(",'dataplane':{'dpdk':{'ports':[" PORT0 "," PORT0 "]}}"),
	  ".dataplane.dpdk.ports[1].device: must differ from ports[0], got \"net_ring0\"" },
	{ DOC(",'dataplane':{'dpdk':{'ports':[{'device':'p','addresses':['10.0.0.2/24'],"
	      "'speed':100}]}}"),
	  ".dataplane.dpdk.ports[0]: unknown key \"speed\"" },
	{ DPDK(",'gateway':'10.0.0.300'"),
	  ".dataplane.dpdk.ports[0].gateway: must be one IPv4 and/or one IPv6 address, "
	  "got \"10.0.0.300\"" },
	{ DPDK(",'gateway':['127.0.0.2','127.0.0.3']"),
	  ".dataplane.dpdk.ports[0].gateway[1]: must be one IPv4 and/or one IPv6 address, "
	  "got \"127.0.0.3\"" },
	{ DPDK(",'gateway':[]"),
	  ".dataplane.dpdk.ports[0].gateway: must be one IPv4 and/or one IPv6 address, got []" },
	{ DPDK(",'gateway':[1]"),
	  ".dataplane.dpdk.ports[0].gateway[0]: must be one IPv4 and/or one IPv6 address, "
	  "got a number" },
	{ DPDK(",'gateway':'0.0.0.0'"),
	  ".dataplane.dpdk.ports[0].gateway: must be one IPv4 and/or one IPv6 address, "
	  "got \"0.0.0.0\"" },
	{ DPDK(",'gateway':'10.0.0.1'"), ".dataplane.dpdk.ports[0].gateway: must be inside one of "
					 "\"addresses\", got \"10.0.0.1\"" },
	{ DPDK(",'gateway':'fe80::1'"),
	  ".dataplane.dpdk.ports[0].gateway: must be inside one of \"addresses\" (or link-local, "
	  "with an IPv6 address on the port), got \"fe80::1\"" },
	{ DPDK(",'mtu':575"), ".dataplane.dpdk.ports[0].mtu: must be 576..9000, got 575" },
	{ DPDK(",'mtu':9001"), ".dataplane.dpdk.ports[0].mtu: must be 576..9000, got 9001" },
	{ DOC(",'dataplane':{'dpdk':{'ports':[{'device':'p','addresses':['2001:db8::2/64'],"
	      "'mtu':1000}]}}"),
	  ".dataplane.dpdk.ports[0].mtu: must be >= 1280 with an IPv6 address, got 1000" },
	{ DPDK(",'queues':0"), ".dataplane.dpdk.ports[0].queues: must be 1..64, got 0" },
	{ DPDK(",'queues':65"), ".dataplane.dpdk.ports[0].queues: must be 1..64, got 65" },
	{ DPDK(",'rx_desc':1000"),
	  ".dataplane.dpdk.ports[0].rx_desc: must be a power of two in 64..32768, got 1000" },
	{ DPDK(",'rx_desc':32"),
	  ".dataplane.dpdk.ports[0].rx_desc: must be a power of two in 64..32768, got 32" },
	{ DPDK(",'tx_desc':65536"),
	  ".dataplane.dpdk.ports[0].tx_desc: must be a power of two in 64..32768, got 65536" },
	{ DPDK(",'tx_desc':0"),
	  ".dataplane.dpdk.ports[0].tx_desc: must be a power of two in 64..32768, got 0" },
	{ DOC(",'dataplane':{'kind':'dpdk'}"),
	  ".dataplane.dpdk.ports: must have at least one port when kind is \"dpdk\"" },
	{ DOC(",'dataplane':{'kind':'dpdk','dpdk':{'ports':[{'device':'p',"
	      "'addresses':['10.0.0.2/24']}]}}"),
	  ".relay.address: must be an address of a dataplane.dpdk port when kind is \"dpdk\", "
	  "got \"127.0.0.1\"" },
	{ NO_R(",'relay':{'address':'127.0.0.1','address6':'::1'},"
	       "'dataplane':{'kind':'dpdk','dpdk':{'ports':[" PORT0 "]}}"),
	  ".relay.address6: must be an address of a dataplane.dpdk port when kind is \"dpdk\", "
	  "got \"::1\"" },
	{ NO_L(",'listen':[{'transport':'udp','address':'127.0.0.2'}],"
	       "'dataplane':{'kind':'dpdk','dpdk':{'ports':[" PORT0 "]}}"),
	  ".listen[0].address: must be an address of a dataplane.dpdk port when kind is \"dpdk\", "
	  "got \"127.0.0.2\"" },
	/* TCP and TLS clients are served on kernel interfaces, which never see DPDK addresses. */
	{ NO_L(",'listen':[{'transport':'udp','address':'127.0.0.1'},"
	       "{'transport':'tcp','address':'127.0.0.1'}],"
	       "'dataplane':{'kind':'dpdk','dpdk':{'ports':[" PORT0 "]}}"),
	  ".listen[1].address: must not be an address of a dataplane.dpdk port (TCP, TLS and "
	  "their relayed UDP use kernel interfaces), got \"127.0.0.1\"" },
	{ NO_L(",'listen':[{'transport':'udp','address':'127.0.0.1'},"
	       "{'transport':'tls','address':'127.0.0.1','port':5349,'cert':'c','key':'k'}],"
	       "'dataplane':{'kind':'dpdk','dpdk':{'ports':[" PORT0 "],"
	       "'kernel_relay':{'address':'10.1.1.1'}}}"),
	  ".listen[1].address: must not be an address of a dataplane.dpdk port (TCP, TLS and "
	  "their relayed UDP use kernel interfaces), got \"127.0.0.1\"" },
	{ DOC(",'dataplane':{'kind':'dpdk','dpdk':{'ports':[" PORT0 "],"
	      "'kernel_relay':{'address':'127.0.0.1'}}}"),
	  ".dataplane.dpdk.kernel_relay.address: must not be an address of a dataplane.dpdk port "
	  "(TCP, TLS and their relayed UDP use kernel interfaces), got \"127.0.0.1\"" },
	{ DOC(",'dataplane':{'kind':'dpdk','dpdk':{'ports':[{'device':'p','addresses':"
	      "['127.0.0.1/8','2001:db8::2/64']}],'kernel_relay':{'address':'10.1.1.1',"
	      "'address6':'2001:DB8::2'}}}"),
	  ".dataplane.dpdk.kernel_relay.address6: must not be an address of a dataplane.dpdk port "
	  "(TCP, TLS and their relayed UDP use kernel interfaces), got \"2001:db8::2\"" },
	{ NO_L(",'listen':[{'transport':'udp','address':'127.0.0.1'},"
	       "{'transport':'tcp','address':'0.0.0.0'},{'transport':'tcp','address':'::'}],"
	       "'dataplane':{'kind':'dpdk','dpdk':{'ports':[" PORT0 "]}}"),
	  ".dataplane.dpdk: missing key \"kernel_relay\" (required with kind \"dpdk\" when no "
	  "TCP or TLS listener has a specific address to take it from)" },
	{ DOC(",'dataplane':{'dpdk':{'kernel_relay':{}}}"),
	  ".dataplane.dpdk.kernel_relay: must have \"address\" or \"address6\"" },
	{ DOC(",'dataplane':{'dpdk':{'kernel_relay':{'address':'::1'}}}"),
	  ".dataplane.dpdk.kernel_relay.address: must be an IPv4 address, got \"::1\"" },
	{ DOC(",'dataplane':{'dpdk':{'kernel_relay':{'address6':'10.1.1.1'}}}"),
	  ".dataplane.dpdk.kernel_relay.address6: must be an IPv6 address, got \"10.1.1.1\"" },
	{ DOC(",'dataplane':{'dpdk':{'kernel_relay':{'address':'0.0.0.0'}}}"),
	  ".dataplane.dpdk.kernel_relay.address: must be a specific address, got \"0.0.0.0\"" },
	{ DOC(",'dataplane':{'dpdk':{'kernel_relay':{'address':'10.1.1.1','port':3478}}}"),
	  ".dataplane.dpdk.kernel_relay: unknown key \"port\"" },
	{ DOC(",'dataplane':{'dpdk':{'kernel_relay':'10.1.1.1'}}"),
	  ".dataplane.dpdk.kernel_relay: must be an object, got \"10.1.1.1\"" },
	/* The dpdk section is checked even when it is not used. */
	{ DOC(",'dataplane':{'kind':'sockets','dpdk':{'ports':[{'device':'p'}]}}"),
	  ".dataplane.dpdk.ports[0]: missing key \"addresses\"" },

	/* ---- log ---- */
	{ DOC(",'log':{'level':'trace'}"),
	  ".log.level: must be one of \"error\", \"warn\", \"info\", \"debug\", got \"trace\"" },
	{ DOC(",'log':{'level':3}"),
	  ".log.level: must be one of \"error\", \"warn\", \"info\", \"debug\", got 3" },
	{ DOC(",'log':{'file':'/var/log/t'}"), ".log: unknown key \"file\"" },
	{ DOC(",'log':'debug'"), ".log: must be an object, got \"debug\"" },

	/* ---- metrics ---- */
	{ DOC(",'metrics':{'listen':'x'}"),
	  ".metrics.listen: must be an address with a port, got \"x\"" },
	{ DOC(",'metrics':{'listen':'127.0.0.1'}"),
	  ".metrics.listen: must be an address with a port, got \"127.0.0.1\"" },
	{ DOC(",'metrics':{'listen':'[::1]'}"),
	  ".metrics.listen: must be an address with a port, got \"[::1]\"" },
	{ DOC(",'metrics':{'listen':'::1:9641'}"),
	  ".metrics.listen: must be an address with a port, got \"::1:9641\"" },
	{ DOC(",'metrics':{'listen':'127.0.0.1:0'}"),
	  ".metrics.listen: must be an address with a port, got \"127.0.0.1:0\"" },
	{ DOC(",'metrics':{'listen':'127.0.0.1:65536'}"),
	  ".metrics.listen: must be an address with a port, got \"127.0.0.1:65536\"" },
	{ DOC(",'metrics':{'listen':'localhost:9641'}"),
	  ".metrics.listen: must be an address with a port, got \"localhost:9641\"" },
	{ DOC(",'metrics':{'listen':9641}"),
	  ".metrics.listen: must be an address with a port, got 9641" },
	{ DOC(",'metrics':{'listen':null}"),
	  ".metrics.listen: must be an address with a port, got null" },
	{ DOC(",'metrics':{'listen':['127.0.0.1:9641']}"),
	  ".metrics.listen: must be an address with a port, got an array" },
	{ DOC(",'metrics':{}"), ".metrics: missing key \"listen\"" },
	{ DOC(",'metrics':{'listen':'127.0.0.1:9641','path':'/m'}"),
	  ".metrics: unknown key \"path\"" },
	{ DOC(",'metrics':{'listen':'127.0.0.1:9641','listen':'127.0.0.1:9642'}"),
	  ".metrics: duplicate key \"listen\"" },
	{ DOC(",'metrics':'127.0.0.1:9641'"),
	  ".metrics: must be an object, got \"127.0.0.1:9641\"" },
	{ DOC(",'metrics':true"), ".metrics: must be an object, got true" },
	{ DOC(",'metrics':null"), ".metrics: must be an object, got null" },
	{ NO_L(",'listen':[{'transport':'tcp','address':'127.0.0.1','port':9641}],"
	       "'metrics':{'listen':'127.0.0.1:9641'}"),
	  ".metrics.listen: must not use the same TCP address and port as .listen[0], "
	  "got \"127.0.0.1\" port 9641" },
	{ NO_L(",'listen':[{'transport':'udp','address':'::1'},"
	       "{'transport':'tls','address':'::','port':443,'cert':'c','key':'k'}],"
	       "'metrics':{'listen':'[::1]:443'}"),
	  ".metrics.listen: must not use the same TCP address and port as .listen[1], "
	  "got \"::1\" port 443" },
	/* a UDP listener on the same port is another socket */
	{ NO_L(",'listen':[{'transport':'udp','address':'127.0.0.1','port':9641}],"
	       "'metrics':{'listen':'127.0.0.1:9641'}"),
	  NULL },
};

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

START_TEST(every_rule_has_its_message)
{
	const struct bad_case *c = &bad[_i];

	if (c->msg)
		expect_error(c->json, c->msg);
	else
		tp_config_destroy(expect_ok(c->json));
}
END_TEST

START_TEST(defaults_applied)
{
	struct tp_config *c = expect_ok(DOC(""));
	const struct tp_conf_listener *l = &c->listen[0];

	ck_assert_str_eq(c->name, "t.json");
	ck_assert_str_eq(c->realm, "turnpike");
	ck_assert_ptr_null(c->software); /* DESIGN.md §7: no SOFTWARE by default */
	ck_assert_uint_eq(c->n_listen, 1);
	ck_assert_int_eq(l->transport, TP_CONF_UDP);
	ck_assert_int_eq(l->addr.family, TP_AF_INET);
	ck_assert_mem_eq(l->addr.ip, "\x7f\0\0\x01", 4);
	ck_assert_uint_eq(l->addr.port, 3478);
	ck_assert_ptr_null(l->cert);
	ck_assert_ptr_null(l->key);

	ck_assert_int_eq(c->relay.address.family, TP_AF_INET);
	ck_assert_uint_eq(c->relay.address.port, 0);
	ck_assert_int_eq(c->relay.address6.family, 0);
	ck_assert_uint_eq(c->relay.port_min, 49152);
	ck_assert_uint_eq(c->relay.port_max, 65535);

	ck_assert(c->auth.required);
	ck_assert_uint_eq(c->auth.n_users, 1);
	ck_assert_str_eq(c->auth.users[0].name, "a");
	ck_assert_str_eq(c->auth.users[0].password, "b");
	ck_assert_ptr_null(c->auth.secret);
	ck_assert_uint_eq(c->auth.nonce_lifetime, 600);
	ck_assert_uint_eq(c->auth.n_password_algorithms, 2);
	ck_assert_uint_eq(c->auth.password_algorithms[0], TP_STUN_PWALG_SHA256);
	ck_assert_uint_eq(c->auth.password_algorithms[1], TP_STUN_PWALG_MD5);

	ck_assert_uint_eq(c->limits.allocations_per_user, 10);
	ck_assert_uint_eq(c->limits.allocations_total, 100000);
	ck_assert_uint_eq(c->limits.permissions_per_allocation, 1024);
	ck_assert_uint_eq(c->limits.channels_per_allocation, 1024);
	ck_assert_uint_eq(c->limits.max_lifetime, 3600);
	ck_assert_uint_eq(c->limits.default_lifetime, 600);
	ck_assert_uint_eq(c->limits.bandwidth_bps, 0);
	ck_assert_uint_eq(c->limits.unauth_rate, 10);

	ck_assert_uint_eq(c->peers.n_allow, 0);
	ck_assert_ptr_null(c->peers.allow);
	ck_assert_uint_eq(c->peers.n_deny, 0);
	ck_assert(!c->peers.allow_loopback);

	ck_assert_int_eq(c->dataplane.kind, TP_CONF_SOCKETS);
	ck_assert_uint_eq(c->dataplane.workers, 1);
	ck_assert_uint_eq(c->dataplane.dpdk.n_eal, 0);
	ck_assert_uint_eq(c->dataplane.dpdk.n_ports, 0);
	ck_assert_uint_eq(c->dataplane.dpdk.mbufs, 16384);
	ck_assert_uint_eq(c->dataplane.dpdk.burst, 32);

	ck_assert_int_eq(c->log.level, TP_CONF_LOG_INFO);
	ck_assert(!c->metrics.enabled); /* no "metrics" object: no endpoint */
	ck_assert_int_eq(c->metrics.listen.family, 0);
	tp_config_destroy(c);
}
END_TEST

START_TEST(full_config_read_back)
{
	struct tp_config *c = expect_ok(
		"{'realm':'example.org','software':'turnpike',"
		"'listen':[{'transport':'udp','address':'192.0.2.1','port':3479},"
		"{'transport':'tcp','address':'2001:DB8:1::1'},"
		"{'transport':'tls','address':'::','cert':'/c.pem','key':'/k.pem'}],"
		"'relay':{'address':'192.0.2.1','address6':'2001:db8::1','port_min':1024,"
		"'port_max':2047},"
		"'auth':{'required':true,'users':[{'name':'alice','password':'pw1'},"
		"{'name':'b\\u00e9a','password':'pw2'}],'secret':'s3cret','nonce_lifetime':10,"
		"'password_algorithms':['md5']},"
		"'limits':{'allocations_per_user':1,'allocations_total':2,"
		"'permissions_per_allocation':3,'channels_per_allocation':4096,'max_lifetime':"
		"86400,"
		"'default_lifetime':60,'bandwidth_bps':1e12,'unauth_rate':1000000},"
		"'peers':{'allow':['10.1.2.3/16','fc00::/7'],'deny':['203.0.113.0/24'],"
		"'allow_loopback':true},"
		"'dataplane':{'kind':'dpdk','workers':128,'dpdk':{"
		"'eal':['-l','0-3','--no-huge'],'mbufs':1024,'burst':256,"
		"'ports':[{'device':'0000:3b:00.0','addresses':['192.0.2.1/24','2001:db8::1/64'],"
		"'gateway':['192.0.2.254','fe80::1'],'mtu':9000,'queues':64,'rx_desc':64,"
		"'tx_desc':32768},"
		"{'device':'net_tap0','addresses':['198.51.100.7/32'],'gateway':'198.51.100.7'}],"
		"'kernel_relay':{'address':'198.51.100.20','address6':'2001:db8:1::20'}}},"
		"'log':{'level':'debug'}}");
	const struct tp_conf_dpdk *d = &c->dataplane.dpdk;
	char buf[TP_ADDR_STRLEN];

	ck_assert_str_eq(c->realm, "example.org");
	ck_assert_str_eq(c->software, "turnpike");
	ck_assert_uint_eq(c->n_listen, 3);
	ck_assert_uint_eq(c->listen[0].addr.port, 3479);
	ck_assert_int_eq(c->listen[1].transport, TP_CONF_TCP);
	ck_assert_int_eq(c->listen[1].addr.family, TP_AF_INET6);
	ck_assert_uint_eq(c->listen[1].addr.port, 3478);
	ck_assert_int_eq(c->listen[2].transport, TP_CONF_TLS);
	ck_assert_uint_eq(c->listen[2].addr.port, 5349); /* RFC 8656 §4 */
	ck_assert_str_eq(c->listen[2].cert, "/c.pem");
	ck_assert_str_eq(c->listen[2].key, "/k.pem");
	tp_addr_format(&c->listen[1].addr, buf, sizeof(buf), true);
	ck_assert_str_eq(buf, "[2001:db8:1::1]:3478");

	ck_assert_int_eq(c->relay.address6.family, TP_AF_INET6);
	ck_assert_uint_eq(c->relay.port_min, 1024);
	ck_assert_uint_eq(c->relay.port_max, 2047);

	ck_assert_uint_eq(c->auth.n_users, 2);
	ck_assert_str_eq(c->auth.users[1].name, "b\xc3\xa9"
						"a");
	ck_assert_str_eq(c->auth.secret, "s3cret");
	ck_assert_uint_eq(c->auth.nonce_lifetime, 10);
	ck_assert_uint_eq(c->auth.n_password_algorithms, 1);
	ck_assert_uint_eq(c->auth.password_algorithms[0], TP_STUN_PWALG_MD5);

	ck_assert_uint_eq(c->limits.allocations_per_user, 1);
	ck_assert_uint_eq(c->limits.allocations_total, 2);
	ck_assert_uint_eq(c->limits.permissions_per_allocation, 3);
	ck_assert_uint_eq(c->limits.channels_per_allocation, 4096);
	ck_assert_uint_eq(c->limits.max_lifetime, 86400);
	ck_assert_uint_eq(c->limits.default_lifetime, 60);
	ck_assert_uint_eq(c->limits.bandwidth_bps, 1000000000000ull);
	ck_assert_uint_eq(c->limits.unauth_rate, 1000000);

	ck_assert_uint_eq(c->peers.n_allow, 2);
	tp_addr_format(&c->peers.allow[0].addr, buf, sizeof(buf), false);
	ck_assert_str_eq(buf, "10.1.0.0"); /* host bits of a peer prefix are cleared */
	ck_assert_uint_eq(c->peers.allow[0].prefix, 16);
	ck_assert_uint_eq(c->peers.allow[1].prefix, 7);
	ck_assert_uint_eq(c->peers.n_deny, 1);
	ck_assert(c->peers.allow_loopback);

	ck_assert_int_eq(c->dataplane.kind, TP_CONF_DPDK);
	ck_assert_uint_eq(c->dataplane.workers, 128);
	ck_assert_uint_eq(d->n_eal, 3);
	ck_assert_str_eq(d->eal[0], "-l");
	ck_assert_str_eq(d->eal[2], "--no-huge");
	ck_assert_uint_eq(d->mbufs, 1024);
	ck_assert_uint_eq(d->burst, 256);
	ck_assert_uint_eq(d->n_ports, 2);
	ck_assert_str_eq(d->ports[0].device, "0000:3b:00.0");
	ck_assert_uint_eq(d->ports[0].n_addresses, 2);
	tp_addr_format(&d->ports[0].addresses[0].addr, buf, sizeof(buf), false);
	ck_assert_str_eq(buf, "192.0.2.1"); /* an interface address keeps its host bits */
	ck_assert_uint_eq(d->ports[0].addresses[0].prefix, 24);
	tp_addr_format(&d->ports[0].addresses[1].addr, buf, sizeof(buf), false);
	ck_assert_str_eq(buf, "2001:db8::1");
	tp_addr_format(&d->ports[0].gateway4, buf, sizeof(buf), false);
	ck_assert_str_eq(buf, "192.0.2.254");
	ck_assert(d->kernel_relay.configured);
	ck_assert(!d->kernel_relay.derived);
	tp_addr_format(&d->kernel_relay.address, buf, sizeof(buf), false);
	ck_assert_str_eq(buf, "198.51.100.20");
	tp_addr_format(&d->kernel_relay.address6, buf, sizeof(buf), false);
	ck_assert_str_eq(buf, "2001:db8:1::20");
	tp_addr_format(&d->ports[0].gateway6, buf, sizeof(buf), false);
	ck_assert_str_eq(buf, "fe80::1");
	ck_assert_uint_eq(d->ports[0].mtu, 9000);
	ck_assert_uint_eq(d->ports[0].queues, 64);
	ck_assert_uint_eq(d->ports[0].rx_desc, 64);
	ck_assert_uint_eq(d->ports[0].tx_desc, 32768);
	ck_assert_uint_eq(d->ports[1].mtu, 1500);
	ck_assert_uint_eq(d->ports[1].queues, 1);
	ck_assert_uint_eq(d->ports[1].rx_desc, 1024);
	ck_assert_uint_eq(d->ports[1].tx_desc, 1024);
	ck_assert_int_eq(d->ports[1].gateway4.family, TP_AF_INET);
	ck_assert_int_eq(d->ports[1].gateway6.family, 0);

	ck_assert_int_eq(c->log.level, TP_CONF_LOG_DEBUG);
	tp_config_destroy(c);
}
END_TEST

START_TEST(small_accepted_variants)
{
	struct tp_config *c;

	/* auth.required false needs no credentials */
	c = expect_ok(NO_A(",'auth':{'required':false}"));
	ck_assert(!c->auth.required);
	ck_assert_uint_eq(c->auth.n_users, 0);
	tp_config_destroy(c);

	/* a REST secret alone is enough */
	c = expect_ok(NO_A(",'auth':{'secret':'x'}"));
	ck_assert_str_eq(c->auth.secret, "x");
	tp_config_destroy(c);

	/* an IPv6-only relay; numbers in exponent form are integers */
	c = expect_ok(NO_R(",'relay':{'address6':'::1','port_min':5e4}"));
	ck_assert_int_eq(c->relay.address.family, 0);
	ck_assert_uint_eq(c->relay.port_min, 50000);
	tp_config_destroy(c);

	/* a UDP listener in the relay range is fine on another address */
	c = expect_ok(NO_L(",'listen':[{'transport':'udp','address':'127.0.0.2','port':50000},"
			   "{'transport':'tcp','address':'127.0.0.1','port':50000}]"));
	tp_config_destroy(c);

	/* UDP and TCP may share a port; different addresses may too */
	c = expect_ok(NO_L(",'listen':[{'transport':'udp','address':'127.0.0.1'},"
			   "{'transport':'tcp','address':'127.0.0.1'},"
			   "{'transport':'udp','address':'::1'},"
			   "{'transport':'udp','address':'::','port':3479}"
			   ",{'transport':'tcp','address':'127.0.0.2'}]"));
	tp_config_destroy(c);

	/* "password_algorithms" keeps the operator's order */
	c = expect_ok(NO_A(",'auth':{'secret':'x','password_algorithms':['md5','sha256']}"));
	ck_assert_uint_eq(c->auth.password_algorithms[0], TP_STUN_PWALG_MD5);
	ck_assert_uint_eq(c->auth.password_algorithms[1], TP_STUN_PWALG_SHA256);
	tp_config_destroy(c);

	/* workers equal to the number of relay ports */
	c = expect_ok(NO_R(",'relay':{'address':'127.0.0.1','port_min':60000,'port_max':60003},"
			   "'dataplane':{'workers':4}"));
	tp_config_destroy(c);

	/* a dpdk port with an on-link IPv6 gateway, as a single string */
	c = expect_ok(
		DOC(",'dataplane':{'kind':'dpdk','dpdk':{'ports':[{'device':'p',"
		    "'addresses':['127.0.0.1/8','2001:db8::2/64'],'gateway':'2001:db8::1'}]}}"));
	ck_assert_int_eq(c->dataplane.dpdk.ports[0].gateway6.family, TP_AF_INET6);
	tp_config_destroy(c);

	/* a leading UTF-8 byte order mark is skipped */
	c = expect_ok("\xef\xbb\xbf" DOC(""));
	tp_config_destroy(c);

	/* empty arrays where entries are optional */
	c = expect_ok(DOC(",'peers':{'allow':[],'deny':[]},'dataplane':{'dpdk':{'eal':[]}}"));
	ck_assert_uint_eq(c->peers.n_deny, 0);
	tp_config_destroy(c);
}
END_TEST

/* dataplane.dpdk.kernel_relay: given, taken from the TCP/TLS listeners, or not needed. */
START_TEST(kernel_relay)
{
	struct tp_config *c;
	const struct tp_conf_kernel_relay *k;
	char buf[TP_ADDR_STRLEN];

	/* absent with kind "dpdk": the first specific IPv4 and IPv6 TCP/TLS listener addresses */
	c = expect_ok(NO_L(",'listen':[{'transport':'udp','address':'127.0.0.1'},"
			   "{'transport':'tcp','address':'0.0.0.0'},"
			   "{'transport':'tls','address':'2001:db8:1::1','cert':'c','key':'k'},"
			   "{'transport':'tcp','address':'10.1.1.1','port':3479},"
			   "{'transport':'tcp','address':'10.1.1.2','port':3480}],"
			   "'dataplane':{'kind':'dpdk','dpdk':{'ports':[" PORT0 "]}}"));
	k = &c->dataplane.dpdk.kernel_relay;
	ck_assert(k->derived);
	ck_assert(!k->configured);
	tp_addr_format(&k->address, buf, sizeof(buf), true);
	ck_assert_str_eq(buf, "10.1.1.1:0");
	tp_addr_format(&k->address6, buf, sizeof(buf), true);
	ck_assert_str_eq(buf, "[2001:db8:1::1]:0");
	tp_config_destroy(c);

	/* given: used as is, even with one family only and wildcard listeners */
	c = expect_ok(
		NO_L(",'listen':[{'transport':'udp','address':'127.0.0.1'},"
		     "{'transport':'tcp','address':'::'},{'transport':'tcp','address':'10.1.1.1'}],"
		     "'dataplane':{'kind':'dpdk','dpdk':{'ports':[" PORT0 "],"
		     "'kernel_relay':{'address6':'2001:db8:1::5'}}}"));
	k = &c->dataplane.dpdk.kernel_relay;
	ck_assert(k->configured);
	ck_assert(!k->derived);
	ck_assert_int_eq(k->address.family, 0);
	tp_addr_format(&k->address6, buf, sizeof(buf), false);
	ck_assert_str_eq(buf, "2001:db8:1::5");
	tp_config_destroy(c);

	/* kind "dpdk" with UDP listeners only: nothing to fill in */
	c = expect_ok(DPDK(""));
	k = &c->dataplane.dpdk.kernel_relay;
	ck_assert(!k->configured && !k->derived);
	ck_assert_int_eq(k->address.family, 0);
	ck_assert_int_eq(k->address6.family, 0);
	tp_config_destroy(c);

	/* kind "sockets": checked, kept, and TCP listeners may use any address */
	c = expect_ok(NO_L(",'listen':[{'transport':'udp','address':'127.0.0.1'},"
			   "{'transport':'tcp','address':'127.0.0.1'}],"
			   "'dataplane':{'dpdk':{'ports':[" PORT0 "],"
			   "'kernel_relay':{'address':'127.0.0.1'}}}"));
	ck_assert(c->dataplane.dpdk.kernel_relay.configured);
	ck_assert(!c->dataplane.dpdk.kernel_relay.derived);
	tp_config_destroy(c);
}
END_TEST

START_TEST(metrics_endpoint)
{
	struct tp_config *c;
	char buf[TP_ADDR_STRLEN];

	c = expect_ok(DOC(",'metrics':{'listen':'127.0.0.1:9641'}"));
	ck_assert(c->metrics.enabled);
	tp_addr_format(&c->metrics.listen, buf, sizeof(buf), true);
	ck_assert_str_eq(buf, "127.0.0.1:9641");
	tp_config_destroy(c);

	c = expect_ok(DOC(",'metrics':{'listen':'[2001:DB8::1]:80'}"));
	ck_assert(c->metrics.enabled);
	ck_assert_int_eq(c->metrics.listen.family, TP_AF_INET6);
	tp_addr_format(&c->metrics.listen, buf, sizeof(buf), true);
	ck_assert_str_eq(buf, "[2001:db8::1]:80");
	tp_config_destroy(c);

	/* a wildcard is allowed, and a TCP listener on another port does not clash */
	c = expect_ok(NO_L(",'listen':[{'transport':'tcp','address':'0.0.0.0'}],"
			   "'metrics':{'listen':'0.0.0.0:9641'}"));
	ck_assert(c->metrics.enabled);
	ck_assert_uint_eq(c->metrics.listen.port, 9641);
	tp_config_destroy(c);
}
END_TEST

START_TEST(string_length_limits)
{
	/* RFC 8489 §14.9: REALM at most 763 bytes; §14.3: USERNAME fewer than 509. */
	static const struct {
		const char *pre, *post;
		size_t ok, bad;
		const char *msg;
	} cases[] = {
		{ DOC(",'realm':'"), "'}", 763, 764, ".realm: must be 1..763 bytes long, got 764" },
		{ DOC(",'software':'"), "'}", 763, 764,
		  ".software: must be 1..763 bytes long, got 764" },
		{ NO_A(",'auth':{'users':[{'password':'p','name':'"), "'}]}}", 508, 509,
		  ".auth.users[0].name: must be 1..508 bytes long, got 509" },
	};
	char s[800], doc[2048];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t pre = strlen(cases[i].pre) - 1; /* without the closing brace */

		for (int too_long = 0; too_long < 2; too_long++) {
			size_t n = too_long ? cases[i].bad : cases[i].ok;

			memset(s, 'r', n);
			s[n] = '\0';
			snprintf(doc, sizeof(doc), "%.*s%s%s", (int)pre, cases[i].pre, s,
				 cases[i].post);
			if (too_long)
				expect_error(doc, cases[i].msg);
			else
				tp_config_destroy(expect_ok(doc));
		}
	}
}
END_TEST

START_TEST(many_users)
{
	size_t n = 5000, cap = n * 48 + 256, len = 0;
	char *doc = malloc(cap);
	struct tp_config *c;

	ck_assert_ptr_nonnull(doc);
	len += (size_t)snprintf(doc + len, cap - len, "{%s,%s,'auth':{'users':[", L0, R0);
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(doc + len, cap - len, "%s{'name':'u%lu','password':'p'}",
					i ? "," : "", (unsigned long)i);
	snprintf(doc + len, cap - len, "]}}");
	c = expect_ok(doc);
	ck_assert_uint_eq(c->auth.n_users, n);
	ck_assert_str_eq(c->auth.users[n - 1].name, "u4999");
	tp_config_destroy(c);

	/* The same list with the first name repeated at the end. */
	snprintf(doc + len, cap - len, ",{'name':'u0','password':'p'}]}}");
	expect_error(doc, ".auth.users[5000].name: duplicate user \"u0\"");
	free(doc);
}
END_TEST

START_TEST(error_buffer_handling)
{
	char small[16];
	struct tp_config *c;
	char *json;

	/* Cut to fit, always terminated. */
	c = tp_config_load_string("[]", "t.json", small, sizeof(small));
	ck_assert_ptr_null(c);
	ck_assert_str_eq(small, "t.json: .: must");
	/* No buffer at all is fine. */
	ck_assert_ptr_null(tp_config_load_string("[]", "t.json", NULL, 0));
	ck_assert_ptr_null(tp_config_load_string("[]", "t.json", small, 0));
	/* A name shorter than the buffer but no room for the message. */
	c = tp_config_load_string("[]", "a-very-long-file-name.json", small, sizeof(small));
	ck_assert_ptr_null(c);
	ck_assert_uint_lt(strlen(small), sizeof(small));
	/* Without a name, "config". */
	ck_assert_ptr_null(tp_config_load_string("[]", NULL, err, sizeof(err)));
	ck_assert_str_eq(err, "config: .: must be an object, got an array");
	ck_assert_ptr_null(tp_config_load_string(NULL, "x", err, sizeof(err)));
	ck_assert_str_eq(err, "x: no JSON text");
	ck_assert_ptr_null(tp_config_load_file(NULL, err, sizeof(err)));
	ck_assert_str_eq(err, "(null): no file name");
	/* Success clears the buffer. */
	strcpy(err, "stale");
	json = q("{" L0 "," R0 ",'auth':{'required':false}}");
	c = tp_config_load_string(json, "t", err, sizeof(err));
	free(json);
	ck_assert_ptr_nonnull(c);
	ck_assert_str_eq(err, "");
	tp_config_destroy(c);
	tp_config_destroy(NULL);
}
END_TEST

static const char tmpname[] = "test_conf.tmp.json";

static void write_file(const char *text, size_t len)
{
	FILE *f = fopen(tmpname, "wb");

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(text, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
}

START_TEST(files)
{
	static const char good[] = "{\n  \"listen\": [{\"transport\": \"udp\", \"address\": "
				   "\"::1\"}],\n  \"relay\": {\"address6\": \"::1\"},\n"
				   "  \"auth\": {\"required\": false}\n}\n";
	static const char broken[] =
		"{\r\n  \"realm\": \"x\",\r\n  \"listen\": [\r\n    "
		"{\"transport\": \"udp\" \"address\": \"::1\"}\r\n  ]\r\n}\r\n";
	static const char nul[] = "{\n\"realm\": \"x\"\n}\n\0garbage";
	char want[256];
	struct tp_config *c;

	ck_assert_ptr_null(tp_config_load_file("/nonexistent/dir/t.json", err, sizeof(err)));
	ck_assert_str_eq(err, "/nonexistent/dir/t.json: cannot open: No such file or directory");

	write_file(good, sizeof(good) - 1);
	c = tp_config_load_file(tmpname, err, sizeof(err));
	ck_assert_msg(c != NULL, "%s", err);
	ck_assert_str_eq(c->name, tmpname);
	tp_config_destroy(c);

	write_file(broken, sizeof(broken) - 1); /* CRLF line ends count as lines too */
	ck_assert_ptr_null(tp_config_load_file(tmpname, err, sizeof(err)));
	snprintf(want, sizeof(want), "%s: line 4: JSON syntax error", tmpname);
	ck_assert_str_eq(err, want);

	write_file(nul, sizeof(nul) - 1); /* a NUL would make cJSON ignore the rest */
	ck_assert_ptr_null(tp_config_load_file(tmpname, err, sizeof(err)));
	snprintf(want, sizeof(want), "%s: line 4: JSON syntax error", tmpname);
	ck_assert_str_eq(err, want);

	write_file("", 0);
	ck_assert_ptr_null(tp_config_load_file(tmpname, err, sizeof(err)));
	snprintf(want, sizeof(want), "%s: line 1: JSON syntax error", tmpname);
	ck_assert_str_eq(err, want);

	write_file("{\"realm\": 1}", 12);
	ck_assert_ptr_null(tp_config_load_file(tmpname, err, sizeof(err)));
	snprintf(want, sizeof(want), "%s: .realm: must be a string, got 1", tmpname);
	ck_assert_str_eq(err, want);
	remove(tmpname);

	/* A directory opens on some systems and then fails to read, or fails to open. */
	ck_assert_ptr_null(tp_config_load_file(TP_SOURCE_DIR "/config", err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, TP_SOURCE_DIR "/config: cannot "));
}
END_TEST

START_TEST(shipped_dev_config)
{
	struct tp_config *c =
		tp_config_load_file(TP_SOURCE_DIR "/config/dev.json", err, sizeof(err));
	char buf[TP_ADDR_STRLEN];

	ck_assert_msg(c != NULL, "%s", err);
	ck_assert_str_eq(c->realm, "turnpike.dev");
	ck_assert_uint_eq(c->n_listen, 4);
	for (size_t i = 0; i < c->n_listen; i++) {
		ck_assert_uint_eq(c->listen[i].addr.port, 3478);
		tp_addr_format(&c->listen[i].addr, buf, sizeof(buf), false);
		ck_assert(strcmp(buf, "127.0.0.1") == 0 || strcmp(buf, "::1") == 0);
		ck_assert_int_ne(c->listen[i].transport, TP_CONF_TLS);
	}
	tp_addr_format(&c->relay.address, buf, sizeof(buf), false);
	ck_assert_str_eq(buf, "127.0.0.1");
	tp_addr_format(&c->relay.address6, buf, sizeof(buf), false);
	ck_assert_str_eq(buf, "::1");
	ck_assert_uint_eq(c->auth.n_users, 1);
	ck_assert_str_eq(c->auth.users[0].name, "demo");
	ck_assert_str_eq(c->auth.users[0].password, "demo");
	ck_assert(c->peers.allow_loopback);
	ck_assert_int_eq(c->dataplane.kind, TP_CONF_SOCKETS);
	ck_assert_uint_eq(c->dataplane.workers, 1);
	tp_config_destroy(c);
}
END_TEST

START_TEST(shipped_production_config)
{
	struct tp_config *c =
		tp_config_load_file(TP_SOURCE_DIR "/config/turnpike.json", err, sizeof(err));
	const struct tp_conf_dpdk *d;
	bool tls = false;

	ck_assert_msg(c != NULL, "%s", err);
	d = &c->dataplane.dpdk;
	for (size_t i = 0; i < c->n_listen; i++) {
		if (c->listen[i].transport == TP_CONF_TLS) {
			tls = true;
			ck_assert_uint_eq(c->listen[i].addr.port, 5349);
			ck_assert_ptr_nonnull(strstr(c->listen[i].cert, "/etc/turnpike/"));
			ck_assert_ptr_nonnull(strstr(c->listen[i].key, "/etc/turnpike/"));
		}
	}
	ck_assert(tls);
	ck_assert_ptr_nonnull(c->auth.secret);
	ck_assert(!c->peers.allow_loopback);
	ck_assert_int_eq(c->dataplane.kind, TP_CONF_DPDK);
	ck_assert_uint_ge(d->n_eal, 1);
	ck_assert_uint_eq(d->n_ports, 1);
	ck_assert_str_eq(d->ports[0].device, "0000:3b:00.0");
	tp_config_destroy(c);
}
END_TEST

static Suite *conf_suite(void)
{
	Suite *s = suite_create("conf");
	TCase *tc = tcase_create("rules");

	tcase_add_loop_test(tc, every_rule_has_its_message, 0, N(bad));
	tcase_add_test(tc, string_length_limits);
	suite_add_tcase(s, tc);

	tc = tcase_create("values");
	tcase_add_test(tc, defaults_applied);
	tcase_add_test(tc, full_config_read_back);
	tcase_add_test(tc, small_accepted_variants);
	tcase_add_test(tc, kernel_relay);
	tcase_add_test(tc, metrics_endpoint);
	tcase_add_test(tc, many_users);
	tcase_add_test(tc, error_buffer_handling);
	suite_add_tcase(s, tc);

	tc = tcase_create("files");
	tcase_add_test(tc, files);
	tcase_add_test(tc, shipped_dev_config);
	tcase_add_test(tc, shipped_production_config);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(conf_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
