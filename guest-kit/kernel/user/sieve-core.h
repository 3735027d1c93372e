/*
 * The sieve's inner work, shared by the toy kernel's sieve program and
 * make bench's native build of it (tests/bench/bench-kernel.c), so that
 * "as fast as the host" compares the same code: the primes below n by
 * Eratosthenes over the odd numbers, one bit each in composite (zeroed,
 * n / 16 bytes), their count returned and their sum mod 2^32 in *sum.
 */
#ifndef TOY_SIEVE_CORE_H
#define TOY_SIEVE_CORE_H

#include <stdint.h>

static inline uint32_t sieve_odd(uint64_t *composite, uint32_t n,
				 uint32_t *sum)
{
	uint32_t i, j, count = 1, s = 2;               /* 2, the even one */

	for (i = 1; i < n / 2; i++) {
		uint32_t p = 2 * i + 1;

		if (composite[i / 64] >> (i % 64) & 1)
			continue;
		count++;
		s += p;
		if ((uint64_t)p * p < n)
			for (j = p * p / 2; j < n / 2; j += p)
				composite[j / 64] |= 1ull << (j % 64);
	}
	*sum = s;
	return count;
}

#endif
