/*
 * What the translator's files share (translate.h says what each holds).
 *
 * The region.  One reservation above the guest's window, below the
 * addresses the host lets system calls through from, holds:
 *   - the state page (struct tc_state): what translated code reads and
 *     writes of the vCPU (its virtual IF), the registers a rewrite
 *     borrows, and the trampoline's variables, all reached RIP-relative;
 *   - the guard page: writable, or read-only while an interrupt waits for
 *     the guest's IF (a store to it after sti or popf then faults);
 *   - where a callout keeps the guest's x87, SSE and AVX registers while
 *     the monitor's C code (and glibc's memcpy) runs;
 *   - the hash table indirect branches look their targets up in;
 *   - the monitor's stack for callouts;
 *   - the code: the trampoline first, then the blocks.
 * Everything in it is within 2 GiB of the code, so one RIP-relative
 * operand reaches any of it.
 */
#ifndef TRAPEZE_TR_INTERNAL_H
#define TRAPEZE_TR_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <capstone/capstone.h>

#include "trapeze/abi.h"
#include "cpu/vcpu.h"
#include "engine/translate.h"

struct vcpu;

#define TR_BASE          (TRAPEZE_GVA_LIMIT + (16ull << 30))
#define TR_STATE_BYTES   4096u
#define TR_GUARD_BYTES   4096u
#define TR_XSAVE_BYTES   (64u << 10)      /* the guest's vector state */
#define TR_HASH_ENTRIES  65536u           /* indirect branches' lookup */
#define TR_HASH_BYTES    (TR_HASH_ENTRIES * 16u)
#define TR_STACK_BYTES   (256u << 10)
#define TR_CODE_BYTES    (16u << 20)
#define TR_REGION_BYTES  (TR_STATE_BYTES + TR_GUARD_BYTES + TR_XSAVE_BYTES + \
			  TR_HASH_BYTES + TR_STACK_BYTES + TR_CODE_BYTES)
#define TR_MAX_RECS      (1u << 20)
#define TR_ENTRY_SLOTS   (1u << 17)       /* a power of two */
#define TR_MAX_FRAMES    4096u
#define TR_SITES         4096u            /* a power of two */
#define TR_SITE_HOT      4u               /* emulated traps make a callout */
#define TR_BLOCK_MAX     64u              /* guest instructions a block */
#define TR_INSN_ROOM     128u             /* the most one instruction takes */
#define TR_STUB_BYTES    16u              /* a link: a callout, then a jmp */
#define TR_REC_HERE      0xffffffffu      /* the callout of the stub below */

/* The vCPU's state that translated code reaches (the state page). */
struct tc_state {
	uint64_t slot[4];          /* registers a rewrite borrows */
	uint64_t target;           /* an indirect branch's guest target */
	uint64_t guest_rsp;        /* the trampoline's: the guest's stack */
	uint64_t monitor_rsp;      /* ...the callout stack's top */
	uint64_t guest_fs, guest_gs, monitor_fs;
	uint64_t resume;           /* where the trampoline goes back to */
	uint64_t handler;          /* the backend's tc_handler_fn */
	uint64_t iret_frame[5];    /* rip, cs, rflags, rsp, ss: a far return */
	uint64_t bias;             /* tc_key << 57: the hash table's key */
	uint64_t jump;             /* where a lookup that hit goes */
	uint64_t flags_adj[2];     /* pushf: added to the host's flags, by vif */
	uint64_t sink_addr;        /* &sink: what a probe writes when no
				      interrupt can be taken */
	uint64_t save_rsp;         /* the guest's, while on the mini stack */
	uint64_t mini[2];          /* a stack for 32-bit pushf and popf */
	uint64_t xmm[16][2];       /* the guest's XMM registers in a callout */
	uint32_t guest_mxcsr, monitor_mxcsr;
	uint32_t save_mask, mask_used;  /* XSAVE's: the guest's XCR0 */
	uint8_t save_full, save_used;   /* XSAVE (else the XMM registers) */
	uint32_t popf_cur;         /* the guest's TF, IOPL and AC */
	uint16_t sel[6];           /* the guest's selectors, enum sreg order */
	uint32_t rec;              /* the record a callout is for */
	uint8_t sink;
	uint8_t vif;               /* the guest's IF, while it runs here */
	uint8_t far;               /* return through iret_frame */
	uint8_t in_monitor;        /* the handler of a callout runs */
};

/* What a record covers. */
enum tc_kind {
	TK_INSN,      /* one guest instruction's code (copied or rewritten) */
	TK_LINK,      /* a branch to guest (a callout until linked) */
	TK_CALLOUT,   /* the monitor emulates guest's instruction */
	TK_INDIRECT,  /* ret, jmp or call through a register or memory */
	TK_CALL,      /* a direct call: the return address pushed */
	TK_NATIVE,    /* an instruction the cache cannot run: a callout
		       * that has the host run it natively, one step */
};

/*
 * One record per piece of emitted code: which guest instruction it is, and
 * from which byte the borrowed registers hold something else ("clean")
 * and the guest instruction has taken effect ("done"): that is all
 * tc_leave needs to give any trap in the cache the guest's state.  A
 * link's guest is its target; a call's target is in target.
 */
struct tc_rec {
	uint64_t guest;
	uint64_t target;
	uint32_t host;             /* offset of its first byte in the code */
	uint16_t len;
	uint8_t kind, glen;
	uint8_t clean, done;
	uint8_t nscratch, scratch[4];   /* (4: an upper-half ret's) */
	uint8_t flags;             /* TRF_FOLLOWS, TRF_STEPS, TRF_SHADOW */
	uint8_t taken;             /* a loop: the offset its taken path
				      starts at (0: none) */
};
/* A callout: the next instruction's code comes right after. */
#define TRF_FOLLOWS 1u
/* The guest's state changes in several steps before `done` (a push
 * rewritten as a store and a move of the stack pointer): only a fault,
 * which the first step raises, may stop it on the way; a signal from
 * outside waits for its end (tc_state_exact). */
#define TRF_STEPS   2u
/* sti's probe: the interrupt it finds waits one more instruction. */
#define TRF_SHADOW  4u

/* A guest instruction boundary the cache can be entered at. */
struct tc_entry {
	uint64_t gva_plus1;        /* 0: free */
	uint64_t gpa;              /* the frame it was translated from */
	uint32_t host;
	uint8_t key;               /* what it was translated for (tc_key) */
};

/* What a translation depends on besides the code: the mode it was decoded
 * in, and whether it ran at CPL 0 (where sensitive instructions run
 * inline) or above. */
#define TK_USER 0x10u
static inline unsigned tc_key(const struct vcpu *v)
{
	return vcpu_mode(v) | (vcpu_cpl(v) ? TK_USER : 0);
}

/* A frame the cache holds translations of, and which bytes of it. */
struct tc_frame_code {
	uint64_t frame_plus1;      /* gpa >> 12, plus 1; 0: free */
	uint64_t page;             /* a guest page that maps it */
	uint8_t code[4096 / 8];    /* bytes a translated instruction covers */
};

/* A guest instruction whose copies kept trapping into the emulator (a
 * device register, a page table): it is translated as a callout. */
struct tc_site {
	uint64_t gva_plus1;        /* 0: free */
	uint8_t key;
	uint8_t traps;
	bool upper;                /* it reached the upper half natively */
	/* A load of a device register whose value is fixed (dev/mmio.h):
	 * from this address it becomes a move of the value. */
	bool fold;
	uint32_t val;
	uint64_t addr, gpa;
};

struct translator {
	struct vcpu *cpu;
	struct tc_state *xs;
	uint8_t *region, *guard, *xsave, *code;
	struct tc_hash { uint64_t negkey, host; } *hash;
	enum { TR_FXSAVE, TR_XSAVE, TR_XSAVEOPT } save;
	uint32_t used;             /* bytes of code */
	uint32_t trampoline;       /* its offset in code */
	uint32_t lookup;           /* the indirect branches' (tc_emit_lookup) */
	uint32_t here;             /* a callout for the vCPU's RIP, whose
				      code cannot be fetched (its fault is
				      the emulator's to raise) */
	uint32_t stubs_end;        /* the end of the lookup: the stubs
				      before the blocks */
	uint32_t body;             /* where blocks start (a page boundary
				      after a hole) */
	struct tc_rec *recs;
	unsigned nrecs;
	struct tc_entry *entries;
	unsigned nentries;
	struct tc_frame_code *frames;
	unsigned nframes;
	uint64_t gen;              /* the shadow generation checked at */
	unsigned dbg_gen;          /* the breakpoints translated for */
	struct tc_site *sites;     /* kept across flushes */
	unsigned nsites, nfolds;
	uint64_t mmio_gen;         /* the device bus's, folds checked at */
	uint32_t left_rec;         /* the record of the last trap in the
				      cache (TR_REC_HERE: none) */
	bool left_shadow;          /* ...and it was in an sti's shadow */
	const uint64_t *upper;     /* engine/upper.h's table, or NULL */
	cs_insn *synth;            /* an instruction the translator made up
				      (tc-emit.c: the stack's upper half) */
	bool sahf;                 /* the host has lahf/sahf in 64-bit mode */
	bool observed;             /* a tracer sees every sensitive
				      instruction: none is inline */
	bool guard_ro;             /* the guard page's state */
	bool closed;               /* the blocks are out of reach: guest
				      user code runs natively (tc_close) */
	uint64_t native_rip;       /* stepped natively: back in the cache
				      after it */
	/* The callout being handled: where its guest instruction's
	 * successor's code is, if nothing changes meanwhile. */
	bool co_pending;
	uint8_t co_key;
	uint64_t co_flushes;
	struct tc_stats st;
};

/* tc-cache.c */
void tc_flush(struct translator *tr);
uint8_t *tc_entry_find(struct translator *tr, uint64_t gva, uint64_t gpa,
		       unsigned key);
void tc_entry_add(struct translator *tr, uint64_t gva, uint64_t gpa,
		  unsigned key, uint32_t host);
bool tc_frame_note(struct translator *tr, uint64_t page, uint64_t gpa,
		   unsigned len);
void tc_check_fresh(struct translator *tr);
void tc_set_guard(struct translator *tr, bool ro);
/* The blocks (all the code after the trampoline, the "here" stub and the
 * lookup, from tr->body, a page boundary) out of the host's reach
 * (PROT_NONE) while guest user code runs natively, so that it cannot
 * jump into the kernel's translations; and back. */
void tc_close(struct translator *tr, bool closed);
/* Put gva's translation (at code offset host) in the hash table, for
 * the current key. */
void tc_hash_add(struct translator *tr, uint64_t gva, uint32_t host);

/* Has the instruction at gva (for the current key) become a callout?
 * The site, if so. */
const struct tc_site *tc_site_callout(const struct translator *tr,
				      uint64_t gva);
/* Must the instruction at gva reach the upper half (tc_native_upper)? */
bool tc_site_upper(const struct translator *tr, uint64_t gva);
/* The device registers folded into translations still read the same
 * through the same mappings?  Else those folds go, and the cache. */
void tc_check_folds(struct translator *tr);

/* tc-block.c */
/* Translate the block at gva (guest-physical gpa); its host address, or
 * NULL when nothing there can be translated. */
uint8_t *tc_translate(struct translator *tr, uint64_t gva, uint64_t gpa);
/* The translation of gva at the vCPU's mode, made if need be (NULL: its
 * fetch would fault, or nothing there can be translated). */
uint8_t *tc_lookup(struct translator *tr, uint64_t gva);

/* tc-put.c: the encoder, and the records. */
struct tc_emitter {
	struct translator *tr;
	uint8_t *p;
};
/* The record holding code offset off (records are in code order). */
struct tc_rec *tc_rec_at(struct translator *tr, uint32_t off);
struct tc_rec *tc_new_rec(struct translator *tr);
/* A record for what is about to be emitted at e->p (NULL: no room), and
 * its end once emitted. */
struct tc_rec *tc_begin(struct tc_emitter *e, unsigned kind, uint64_t guest,
			const cs_insn *insn);
void tc_end(struct tc_emitter *e, struct tc_rec *r);
uint32_t tc_rec_index(const struct translator *tr, const struct tc_rec *r);
/* mov %reg,field(%rip) (store) or mov field(%rip),%reg (load) */
void tc_state_move(struct tc_emitter *e, unsigned reg, const void *field,
		   bool load);
void tc_put8(struct tc_emitter *e, uint8_t b);
void tc_put32(struct tc_emitter *e, uint32_t x);
void tc_put_bytes(struct tc_emitter *e, const void *b, unsigned n);
/* the code offset e->p is at */
uint32_t tc_here(const struct tc_emitter *e);
/* Does v fit a sign-extended 32-bit displacement? */
static inline bool tc_fits32(uint64_t v)
{
	return (uint64_t)(int64_t)(int32_t)v == v;
}
/* disp32 for an operand at state-page field `field`, for an instruction
 * whose disp32 is at e->p and which has `after` more bytes after it. */
void tc_put_state_rel(struct tc_emitter *e, const void *field,
		      unsigned after);
/* jmp rel32 from e->p to code offset to */
void tc_put_jmp(struct tc_emitter *e, uint32_t to);
/* A callout for record rec: mov dword [xs.rec], rec; jmp trampoline */
void tc_put_callout(struct tc_emitter *e, uint32_t rec);
/* A link to guest target (a callout until the first use links it). */
uint32_t tc_emit_link(struct tc_emitter *e, uint64_t target);
/* tc-trampoline.c: emit the trampoline at e->p. */
void tc_emit_trampoline(struct tc_emitter *e);
/* tc-emit.c.
 * One guest instruction into the cache, its records filled; returns what
 * the block does after it.
 */
enum tc_next {
	TN_GO_ON,     /* the next instruction follows */
	TN_END,       /* control left: the block ends here */
	TN_FAIL,      /* not translatable: the block ends before it */
};
enum tc_next tc_emit(struct tc_emitter *e, const cs_insn *insn,
		     uint64_t pc, uint64_t gpa, unsigned mode);
/* Does the emulator do this instruction better than the host would (a
 * sensitive one, or a privileged one that a callout does cheaper than a
 * trap)? */
bool tc_wants_monitor(const cs_insn *insn);
/* What cannot be translated: a callout that steps it natively. */
enum tc_next tc_emit_native(struct tc_emitter *e, uint64_t pc);

/* tc-branch.c.  A branch (true, its result in *next) or not (false). */
bool tc_emit_branch(struct tc_emitter *e, const cs_insn *insn, uint64_t pc,
		    bool wide, enum tc_next *next);
/* The indirect branches' lookup, emitted once after the trampoline. */
void tc_emit_lookup(struct tc_emitter *e);
/* An indirect branch's miss: guess target (at code offset host) next. */
void tc_guess(struct translator *tr, struct tc_rec *r, uint64_t target,
	      uint32_t host);

/* tc-inline.c: sensitive instructions inline, at CPL 0 (TN_FAIL: not
 * this one). */
enum tc_next tc_inline(struct tc_emitter *e, const cs_insn *insn,
		       uint64_t pc, bool wide);
/* A folded device-register load (site->fold): the value, when the
 * address is the one it was read at, else a callout. */
enum tc_next tc_emit_fold(struct tc_emitter *e, const cs_insn *insn,
			  uint64_t pc, const struct tc_site *site, bool wide);
/* The vCPU's state that inline code reads, into the state page. */
void tc_sync_state(struct translator *tr);

/* tc-emit32.c: 32-bit guest code as 64-bit host code. */
/* Can the cache run insn, decoded in 32-bit code, at all? */
bool tc32_takes(const cs_insn *insn);
/* An instruction that is not a branch or a callout. */
enum tc_next tc32_emit(struct tc_emitter *e, const cs_insn *insn,
		       uint64_t pc);
/* lea OPERAND,%reg (32-bit addressing), for any of the 16 registers. */
bool tc32_put_lea(struct tc_emitter *e, const cs_insn *insn, unsigned reg);
/* mov OPERAND,%ecx: the target of an indirect jmp or call. */
bool tc32_load_target(struct tc_emitter *e, const cs_insn *insn);
/* The stack's part of a ret (pop the target, and imm16 more) or of a
 * call (push the return address ret). */
void tc32_put_ret_pop(struct tc_emitter *e, uint32_t bytes);
void tc32_put_call_push(struct tc_emitter *e, uint32_t ret);

/* tc-run.c */
/* Make the link at record r go to its target's translation. */
bool tc_link(struct translator *tr, struct tc_rec *r);

#endif
