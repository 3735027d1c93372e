/*
 * Instruction decoding: Capstone, with a cache keyed by guest RIP.
 *
 * A cache entry keeps the instruction bytes it was decoded from; a hit
 * requires the bytes now in guest memory to be the same, so a guest that
 * rewrites its code can never run a stale decode, and the trap path needs
 * no invalidation protocol.  After the first trap at a RIP, decoding costs
 * a 16-byte compare.  Nothing here allocates after decoder_create().
 */
#ifndef TRAPEZE_DECODE_H
#define TRAPEZE_DECODE_H

#include <stddef.h>
#include <stdint.h>
#include <capstone/capstone.h>

#include "cpu/vcpu.h"

#define INSN_MAX 15

struct decoder;

struct decoder *decoder_create(void);
void decoder_destroy(struct decoder *d);

/*
 * Decode the instruction in bytes[0..avail) at guest address rip in the
 * given mode.  Returns NULL when the bytes are not a valid instruction or
 * run out before it ends.  The result stays valid until the next call.
 */
const cs_insn *decode(struct decoder *d, enum cpu_mode mode, uint64_t rip,
		      const uint8_t *bytes, size_t avail);
/* Does the cache still hold insn, decoded at rip in mode (what decode()
 * returned then)?  A later decode that shares its slot replaces it. */
bool decode_holds(const struct decoder *d, enum cpu_mode mode, uint64_t rip,
		  const cs_insn *insn);

/* Capstone's handle for a mode, for cs_insn_name() and cs_reg_name(). */
csh decoder_handle(struct decoder *d, enum cpu_mode mode);

/* Cache counters, for benchmarks and tests. */
struct decode_stats {
	uint64_t hits, misses;
};
void decoder_stats(const struct decoder *d, struct decode_stats *st);

/* System calls and their returns, software interrupts and iret: they
 * enter or leave a handler, and push or load RIP and RFLAGS on the way. */
bool insn_is_event(const cs_insn *insn);

#endif /* TRAPEZE_DECODE_H */
