/* Does a rule's destination match a connect()'s?  Shared by rules.c and
 * the BPF program (shim/bpf/), which matches the same table in the kernel:
 * no includes, the families by their Linux numbers, and no early exits
 * (the kernel's verifier walks every path of a loop that has them). */
#ifndef PORTSHIM_RULEMATCH_H
#define PORTSHIM_RULEMATCH_H

#define RULE_FAMILY_ANY 0  /* AF_UNSPEC: "*" */
#define RULE_FAMILY_V4 2   /* AF_INET */
#define RULE_FAMILY_V6 10  /* AF_INET6 */

/* The bits of byte `byte` of an address that a prefix covers. */
static inline unsigned rule_byte_mask(unsigned prefix, unsigned byte)
{
	if (prefix >= 8 * byte + 8)
		return 0xff;
	if (prefix <= 8 * byte)
		return 0;
	return (0xff00u >> (prefix - 8 * byte)) & 0xff;
}

/* Do the first `len` bytes of addr lie in net/prefix? */
static inline _Bool rule_prefix_matches(const unsigned char *net, const unsigned char *addr,
					unsigned prefix, unsigned len)
{
	unsigned diff = 0;

	for (unsigned i = 0; i < 16; i++)
		if (i < len)
			diff |= (unsigned)(net[i] ^ addr[i]) & rule_byte_mask(prefix, i);
	return diff == 0;
}

/* v4: the IPv4 address (also of an IPv4-mapped IPv6 one) if has_v4; v6:
 * the IPv6 address if has_v6; port in host order. */
static inline _Bool rule_dest_matches(int family, const unsigned char *net, unsigned prefix,
				      unsigned rule_port, const unsigned char *v4, _Bool has_v4,
				      const unsigned char *v6, _Bool has_v6, unsigned port)
{
	if (rule_port && rule_port != port)
		return 0;
	if (family == RULE_FAMILY_V4)
		return has_v4 && rule_prefix_matches(net, v4, prefix, 4);
	if (family == RULE_FAMILY_V6)
		return has_v6 && rule_prefix_matches(net, v6, prefix, 16);
	return family == RULE_FAMILY_ANY;
}

#endif
