/*
 * What the translation cache's two halves share: bt-rewrite.c turns one
 * guest instruction into the cache's code, bt.c strings them into traces
 * and answers the trap path.
 */
#ifndef TRAPEZE_BT_INTERNAL_H
#define TRAPEZE_BT_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <capstone/capstone.h>

#include "trapeze/abi.h"

#define ALIAS_BASE TRAPEZE_GVA_LIMIT    /* host address of the window */

/* R_BOUNCE: one instruction run on a copy of device memory (bt_bounce). */
enum rec_kind { R_INSN, R_STUB, R_BOUNCE };

struct rec {
	uint64_t guest;      /* the guest instruction, or the stub's target */
	uint32_t host;       /* offset of its first byte in the code area */
	uint16_t len;
	uint8_t kind, glen;
	uint8_t clean, done; /* offsets, see canonical() */
	uint8_t nscratch, scratch[3];
};

struct emitter {
	uint8_t *p;            /* next byte */
	const uint64_t *slots;
	const uint64_t *table;
};

bool bt_is_legacy_prefix(uint8_t b);
bool bt_has_prefix(const cs_insn *insn, uint8_t prefix);
/* 66 with f2 or f3: Capstone 4 and the CPU can disagree on what (and
 * how long) such an instruction is, so the cache never copies one. */
bool bt_ambiguous(const cs_insn *insn);
void bt_put32(struct emitter *e, uint32_t x);
/*
 * Emit the instruction at guest (decoded as insn) for the cache, filling
 * its record (host offset aside); false when it cannot be copied.
 * upper: rewrite its memory operand for the window.
 */
bool bt_emit_insn(struct emitter *e, csh h, const cs_insn *insn,
		  uint64_t guest, bool upper, struct rec *r);

/* The same on the fixed address abs instead of its memory operand. */
bool bt_emit_at(struct emitter *e, csh h, const cs_insn *insn,
		uint64_t guest, uint64_t abs, struct rec *r);

#endif /* TRAPEZE_BT_INTERNAL_H */
