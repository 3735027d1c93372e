/*
 * The compute-bound workload of bench-compute: a sieve and a hash over a
 * buffer, compiled with the guests' flags into both the guest
 * (compute-guest.c) and the native program (compute-native.c), so that
 * the two run the same instructions.
 */
#ifndef TRAPEZE_BENCH_COMPUTE_H
#define TRAPEZE_BENCH_COMPUTE_H

#include <stddef.h>
#include <stdint.h>

/* The buffer's size: a few MiB, past the caches. */
#define COMPUTE_BYTES (8u << 20)

/* rounds of (the primes below size, by a sieve in buf; then an FNV-1a
 * hash of buf), folded into one checksum. */
uint64_t compute(uint8_t *buf, size_t size, unsigned rounds);

#endif
