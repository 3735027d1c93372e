/*
 * What the translation cache's three files share: bt-rewrite.c turns one
 * guest instruction into the cache's code, bt.c strings them into traces
 * and keeps the cache's maps, bt-trap.c answers the trap path.
 */
#ifndef TRAPEZE_BT_INTERNAL_H
#define TRAPEZE_BT_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <capstone/capstone.h>

#include "trapeze/abi.h"
#include "shadow.h"

struct scanner;
struct vcpu;

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

/* What one instruction's encoding is made of, for rewriting its memory
 * operand (legacy encodings with a ModRM byte only). */
struct bt_enc {
	unsigned npfx, rex, op_start, modrm_at, mem_end, size;
	uint8_t mod, rm;
	bool rip_relative;
};
/* False for what the rewrite does not take: no ModRM memory operand,
 * VEX and the like, fs/gs or 67 prefixes. */
bool bt_parse_enc(const cs_insn *insn, struct bt_enc *n);

bool bt_is_legacy_prefix(uint8_t b);
/* The condition of a jcc (0-15), from its opcode (rel8 7x or rel32 0f
 * 8x); -1 for anything else.  (bt.c; the translator's too.) */
int bt_jcc_condition(const cs_insn *insn);
bool bt_has_prefix(const cs_insn *insn, uint8_t prefix);
/* 66 with f2 or f3: Capstone 4 and the CPU can disagree on what (and
 * how long) such an instruction is, so the cache never copies one. */
bool bt_ambiguous(const cs_insn *insn);
/* Has insn exactly one explicit memory operand?  (*mem: the last seen.) */
bool bt_one_mem_operand(const cs_insn *insn, const cs_x86_op **mem);
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

/* The cache's state, shared by bt.c (translating) and bt-trap.c (the
 * trap path). */
#define ALIAS_SIZE    (1ull << 32)
#define TABLE_ENTRIES 65536u                  /* one per value of bits 32..47 */
#define TABLE_BYTES   (TABLE_ENTRIES * 8u)
#define SLOTS_BYTES   4096u
#define BOUNCE_BYTES  8192u                   /* device memory's copy */
#define CODE_BYTES    (4u << 20)
#define REGION_BYTES  (TABLE_BYTES + SLOTS_BYTES + BOUNCE_BYTES + CODE_BYTES)
#define MAX_RECS      (1u << 17)
#define ENTRY_SLOTS   (1u << 15)              /* a power of two */
#define HOT_SLOTS     1024u
#define HOT_AFTER     8u      /* window faults before an instruction is run
				 from the cache: one-off accesses stay
				 emulated, cheaper than translating */
#define TRACE_MAX     64u
#define INSN_ROOM     96u     /* the most bytes one instruction becomes */
#define STUB_BYTES    14u     /* jmp *0(%rip); .quad target */
#define RESERVE_FLAGS (MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE)
#define REGION_BASE   (ALIAS_BASE + ALIAS_SIZE)

struct entry {
	uint64_t guest_plus1;  /* 0: free */
	uint32_t host;
};

struct hot {
	uint64_t rip;
	unsigned count;
	bool upper;
	bool failed;       /* translated, but it could not be rewritten */
};

struct bt {
	struct vcpu *cpu;      /* whose code it runs */
	struct scanner *scan;  /* what vets that code, and sees it change */
	struct shadow_ops host; /* the host mapping calls, for the alias */
	uint64_t *table;       /* the offsets, indexed by bits 32..47 */
	uint64_t *slots;       /* where borrowed registers wait */
	uint8_t *bounce;       /* two pages: see bt_bounce() */
	uint8_t *code;
	uint32_t used;
	struct rec *recs;
	unsigned nrecs;
	struct entry *entries;
	unsigned nentries;
	struct hot hot[HOT_SLOTS];
	uint64_t bypass;       /* a guest RIP to run natively, once */
	/* The instruction bt_bounce() set up: entered at the next resume if
	 * the guest is still at it; its result goes back to the device. */
	struct {
		uint64_t rip, addr;
		uint8_t *host;
		unsigned size;
		uint8_t glen;     /* its length in the guest */
		bool write;       /* the result goes back to the device */
		uint8_t orig[64]; /* ...as it does if it changed */
	} bounce_op;
	uint64_t gen, code_mark;
	uint64_t alias_lo, alias_hi;  /* host range holding alias mappings */
	unsigned alias_cpl;
	bool alias_ac;
	bool translate;        /* for the window (else device bounces only) */
	bool alias_fault;      /* bt_leave saw a rewritten access fault */
	uint64_t left_from;    /* the guest RIP a fault in the cache left at */
	unsigned code_cpl;     /* the privilege level the code was vetted at */
	struct bt_stats st;
};

/* bt.c */
uint8_t *bt_entry_find(struct bt *bt, uint64_t guest);
void bt_flush_code(struct bt *bt);
void bt_flush_alias(struct bt *bt);
struct rec *bt_rec_at(struct bt *bt, uint32_t off);
struct hot *bt_hot_of(struct bt *bt, uint64_t rip);
bool bt_is_upper(struct bt *bt, uint64_t rip);
void bt_note_fresh(struct bt *bt);
void bt_check_fresh(struct bt *bt);
bool bt_never_copied(const cs_insn *insn);
void bt_translate(struct bt *bt, uint64_t start);
void bt_link_stub(struct bt *bt, struct rec *r);

#endif /* TRAPEZE_BT_INTERNAL_H */
