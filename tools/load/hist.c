/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The latency histogram: log-linear like HdrHistogram, 32 linear buckets per power of two, so a
 * recorded value costs one bit scan and one increment and no allocation, and any quantile is
 * read back within about 3%.
 */
#include "load.h"

void ld_hist_merge(struct ld_hist *dst, const struct ld_hist *src)
{
	unsigned i;

	for (i = 0; i < LD_HIST_BUCKETS; i++)
		dst->b[i] += src->b[i];
	dst->count += src->count;
	dst->sum += src->sum;
	if (src->max > dst->max)
		dst->max = src->max;
}

/* Lowest value that falls into bucket @p i, and the bucket's width. */
static void bucket_range(unsigned i, uint64_t *lo, uint64_t *width)
{
	unsigned e = i >> LD_HIST_SUB_BITS, sub = i & ((1u << LD_HIST_SUB_BITS) - 1);

	if (e == 0) {
		*lo = sub;
		*width = 1;
		return;
	}
	/* e = exponent - LD_HIST_SUB_BITS + 1, so the leading bit is bit (e + SUB_BITS - 1). */
	*width = 1ull << (e - 1);
	*lo = ((uint64_t)(1u << LD_HIST_SUB_BITS) + sub) << (e - 1);
}

uint64_t ld_hist_quantile(const struct ld_hist *h, double q)
{
	uint64_t rank, seen = 0, lo, width;
	unsigned i;

	if (h->count == 0)
		return 0;
	rank = (uint64_t)(q * (double)h->count);
	if (rank >= h->count)
		rank = h->count - 1;
	for (i = 0; i < LD_HIST_BUCKETS; i++) {
		seen += h->b[i];
		if (seen > rank) {
			bucket_range(i, &lo, &width);
			lo += width / 2;
			return lo > h->max ? h->max : lo;
		}
	}
	return h->max;
}
