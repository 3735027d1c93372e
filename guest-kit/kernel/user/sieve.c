/*
 * sieve: CPU-bound work for the preemptive scheduler (several time slices
 * natively, many more under emulation), the primes below SIEVE_N by
 * Eratosthenes over the odd numbers, one bit each.  The bitmap is heap,
 * so it is also a few hundred demand-zero faults.  It prints nothing
 * (other programs run at the same time): the count of primes is its exit
 * status and their sum mod 2^32 its report, for init to print.
 */
#include "ulib.h"

#define SIEVE_N 32000000u

int sieve_main(void)
{
	uint64_t *composite = (uint64_t *)USER_HEAP;  /* bit i: is 2i+1? */
	uint32_t i, j, count = 1, sum = 2;             /* 2, the even one */

	for (i = 1; i < SIEVE_N / 2; i++) {
		uint32_t p = 2 * i + 1;

		if (composite[i / 64] >> (i % 64) & 1)
			continue;
		count++;
		sum += p;
		if ((uint64_t)p * p < SIEVE_N)
			for (j = p * p / 2; j < SIEVE_N / 2; j += p)
				composite[j / 64] |= 1ull << (j % 64);
	}
	report(sum);
	return (int)count;
}
