/* The workload (compute.h): nothing but loads, stores and arithmetic. */
#include "compute.h"

static uint64_t sieve(uint8_t *composite, size_t n)
{
	uint64_t primes = 0;
	size_t i, j;

	for (i = 0; i < n; i++)
		composite[i] = 0;
	for (i = 2; i < n; i++) {
		if (composite[i])
			continue;
		primes++;
		for (j = i * i; j < n; j += i)
			composite[j] = 1;
	}
	return primes;
}

static uint64_t fnv1a(const uint8_t *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

uint64_t compute(uint8_t *buf, size_t size, unsigned rounds)
{
	uint64_t sum = 0;
	unsigned r;

	for (r = 0; r < rounds; r++) {
		sum += sieve(buf, size - r);
		sum = (sum << 7 | sum >> 57) ^ fnv1a(buf, size);
	}
	return sum;
}
