/*
 * The compute workload run natively, for bench-compute to time beside
 * the same code in a guest: "compute-native ROUNDS".
 */
#include <stdio.h>
#include <stdlib.h>

#include "compute.h"

static uint8_t buf[COMPUTE_BYTES];

int main(int argc, char **argv)
{
	unsigned rounds = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 0) : 1;

	printf("native: checksum 0x%llx\n",
	       (unsigned long long)compute(buf, sizeof(buf), rounds));
	return 0;
}
