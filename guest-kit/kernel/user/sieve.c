/*
 * sieve: CPU-bound work for the preemptive scheduler (several time slices
 * natively, many more under emulation), the primes below SIEVE_N by
 * Eratosthenes over the odd numbers, one bit each (sieve-core.h).  The
 * bitmap is heap, so it is also a few hundred demand-zero faults.  It
 * prints nothing (other programs run at the same time): the count of
 * primes is its exit status and their sum mod 2^32 its report, for init to
 * print.
 */
#include "sieve-core.h"
#include "ulib.h"

#define SIEVE_N 32000000u

int sieve_main(void)
{
	uint32_t sum, count = sieve_odd((uint64_t *)USER_HEAP, SIEVE_N, &sum);

	report(sum);
	return (int)count;
}
