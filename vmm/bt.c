/*
 * The translation cache (see bt.h).
 *
 * A translation is a trace: guest instructions from a start address,
 * following fall-through and direct jumps, up to TRACE_MAX of them or to
 * the first one it may not copy (anything the scanner patched or has not
 * vetted, calls, system calls, interrupts, loop and jrcxz).  There it ends
 * with an exit stub, `jmp *0(%rip)` to the guest's own address, so the
 * guest goes on natively.  A conditional branch whose target is not yet
 * translated goes to a chain stub, a ud2: the first time it runs, the
 * monitor translates the target and overwrites the stub with a jmp.
 *
 * A record per emitted instruction says which guest instruction it is,
 * and from which byte the borrowed registers hold something else
 * ("clean") and the guest instruction has taken effect ("done"): that is
 * all bt_leave needs to give any trap in the cache the guest's state.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "bt.h"
#include "bt-internal.h"
#include "decode.h"
#include "emulate.h"
#include "exception.h"
#include "gmem.h"
#include "scan.h"
#include "trace.h"
#include "trapeze/abi.h"
#include "vm.h"

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

/* ---- the cache's maps ------------------------------------------------ */

static unsigned entry_hash(uint64_t guest)
{
	return (unsigned)((guest * 0x9e3779b97f4a7c15ull) >> 49) &
	       (ENTRY_SLOTS - 1);
}

static struct entry *entry_slot(struct bt *bt, uint64_t guest)
{
	unsigned i = entry_hash(guest);

	while (bt->entries[i].guest_plus1 &&
	       bt->entries[i].guest_plus1 != guest + 1)
		i = (i + 1) & (ENTRY_SLOTS - 1);
	return &bt->entries[i];
}

/* The cache address of a clean entry to guest, or NULL. */
static uint8_t *entry_find(struct bt *bt, uint64_t guest)
{
	struct entry *en = entry_slot(bt, guest);

	return en->guest_plus1 ? bt->code + en->host : NULL;
}

static void entry_add(struct bt *bt, uint64_t guest, uint32_t host)
{
	struct entry *en = entry_slot(bt, guest);

	if (en->guest_plus1)
		return;
	en->guest_plus1 = guest + 1;
	en->host = host;
	bt->nentries++;
}

static void flush_code(struct bt *bt)
{
	if (!bt->nrecs && !bt->used)
		return;
	bt->used = 0;
	bt->nrecs = 0;
	memset(bt->entries, 0, ENTRY_SLOTS * sizeof(bt->entries[0]));
	bt->nentries = 0;
	bt->st.flushes++;
}

static void flush_alias(struct vm *vm, struct bt *bt)
{
	if (bt->alias_hi <= bt->alias_lo)
		return;
	if (mmap((void *)bt->alias_lo, bt->alias_hi - bt->alias_lo,
		 PROT_NONE, RESERVE_FLAGS | MAP_FIXED, -1, 0) == MAP_FAILED)
		vm_crash(vm, "the host refused to clear the translation "
			 "cache's alias");
	bt->alias_lo = bt->alias_hi = 0;
	bt->st.alias_flushes++;
}

/* The record holding cache offset off (records are in code order). */
static struct rec *rec_at(struct bt *bt, uint32_t off)
{
	unsigned lo = 0, hi = bt->nrecs;

	while (lo < hi) {
		unsigned mid = (lo + hi) / 2;

		if (bt->recs[mid].host <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return NULL;
	return off < bt->recs[lo - 1].host + bt->recs[lo - 1].len
		       ? &bt->recs[lo - 1] : NULL;
}

static struct hot *hot_of(struct bt *bt, uint64_t rip)
{
	struct hot *h = &bt->hot[(rip ^ (rip >> 12)) % HOT_SLOTS];

	if (h->rip != rip)
		*h = (struct hot){ rip, 0, false, false };
	return h;
}

static bool is_upper(struct bt *bt, uint64_t rip)
{
	struct hot *h = &bt->hot[(rip ^ (rip >> 12)) % HOT_SLOTS];

	return h->rip == rip && h->upper;
}

/* What the translations and the alias depend on: the guest's page
 * tables (the shadow's generation moves with any change a TLB would
 * see) and its code (the scanner's counts move with any scan or
 * unscan). */
static uint64_t code_mark(struct vm *vm)
{
	struct scan_stats ss;

	if (!vm->scan)
		return 0;
	scan_get_stats(vm->scan, &ss);
	return ss.pages + ss.unscans + ss.copies;
}

/* Something is about to be cached: remember what it depends on. */
static void note_fresh(struct vm *vm, struct bt *bt)
{
	if (bt->nrecs || bt->alias_hi > bt->alias_lo)
		return;
	bt->gen = shadow_generation(vm->mmu);
	bt->code_mark = code_mark(vm);
	bt->code_cpl = vcpu_cpl(&vm->cpu);
}

/* Drop what the guest may have invalidated since it was cached. */
static void check_fresh(struct vm *vm, struct bt *bt)
{
	if (!bt->nrecs && bt->alias_hi <= bt->alias_lo)
		return;
	/* (The code was fetched with the rights of one privilege level:
	 * a guest that returns to user mode may not run it.) */
	if (shadow_generation(vm->mmu) != bt->gen ||
	    code_mark(vm) != bt->code_mark ||
	    (bt->nrecs && vcpu_cpl(&vm->cpu) != bt->code_cpl)) {
		flush_code(bt);
		flush_alias(vm, bt);
		return;
	}
	if (bt->alias_hi > bt->alias_lo &&
	    (vcpu_cpl(&vm->cpu) != bt->alias_cpl ||
	     !!(vm->cpu.rflags & RFLAGS_AC) != bt->alias_ac))
		flush_alias(vm, bt);
}

/* ---- translating ----------------------------------------------------- */

static bool is_jcc(unsigned id)
{
	switch (id) {
	case X86_INS_JAE: case X86_INS_JA: case X86_INS_JBE: case X86_INS_JB:
	case X86_INS_JE: case X86_INS_JGE: case X86_INS_JG: case X86_INS_JLE:
	case X86_INS_JL: case X86_INS_JNE: case X86_INS_JNO: case X86_INS_JNP:
	case X86_INS_JNS: case X86_INS_JO: case X86_INS_JP: case X86_INS_JS:
		return true;
	}
	return false;
}

/* The condition of a jcc, from its opcode (rel8 7x or rel32 0f 8x). */
static int jcc_condition(const cs_insn *insn)
{
	unsigned p = 0;

	while (p < insn->size && bt_is_legacy_prefix(insn->bytes[p]))
		p++;
	if (p < insn->size && (insn->bytes[p] & 0xf0) == 0x70)
		return insn->bytes[p] & 0x0f;
	if (p + 1 < insn->size && insn->bytes[p] == 0x0f &&
	    (insn->bytes[p + 1] & 0xf0) == 0x80)
		return insn->bytes[p + 1] & 0x0f;
	return -1;
}

/* Never copied: they would act on the cache's address, or (a system
 * call from above the guest's window) reach the host kernel. */
static bool never_copied(const cs_insn *insn)
{
	switch (insn->id) {
	case X86_INS_SYSCALL: case X86_INS_SYSENTER: case X86_INS_SYSEXIT:
	case X86_INS_SYSRET: case X86_INS_INT: case X86_INS_INT1:
	case X86_INS_INT3: case X86_INS_INTO: case X86_INS_UD2:
	case X86_INS_IRET: case X86_INS_IRETD: case X86_INS_IRETQ:
		return true;
	}
	return false;
}

static struct rec *new_rec(struct bt *bt)
{
	return bt->nrecs < MAX_RECS ? &bt->recs[bt->nrecs++] : NULL;
}

static void emit_exit(struct bt *bt, uint64_t target)
{
	struct rec *r = new_rec(bt);
	uint8_t *p = bt->code + bt->used;

	*r = (struct rec){ .guest = target, .host = bt->used,
			   .len = STUB_BYTES, .kind = R_STUB };
	p[0] = 0xff, p[1] = 0x25;
	memset(p + 2, 0, 4);
	memcpy(p + 6, &target, 8);
	bt->used += STUB_BYTES;
}

struct pending { uint32_t rel_at; uint64_t target; };

/* The next guest instruction to copy, decoded; NULL ends the trace. */
static const cs_insn *fetch(struct vm *vm, uint64_t rip, bool *patched)
{
	uint8_t bytes[INSN_MAX];
	uint32_t pf_err;
	uint64_t gpa;
	size_t n;

	*patched = false;
	if (!gmem_code_gpa(vm, rip, &gpa) || !scan_vetted(vm, gpa))
		return NULL;
	if (scan_patch_at(vm, rip, gpa)) {
		*patched = true;
		return NULL;
	}
	if (!(n = gmem_fetch(vm, rip, bytes, sizeof(bytes), &pf_err)))
		return NULL;
	return decode(vm->dec, MODE_LONG64, rip, bytes, n);
}

static void translate(struct vm *vm, uint64_t start)
{
	struct bt *bt = vm->bt;
	csh h = decoder_handle(vm->dec, MODE_LONG64);
	struct pending pend[TRACE_MAX];
	unsigned npend = 0, count, i;
	uint64_t pc = start;
	bool patched;

	if (bt->used + TRACE_MAX * (INSN_ROOM + 2 * STUB_BYTES) > CODE_BYTES ||
	    bt->nrecs + 3 * TRACE_MAX > MAX_RECS ||
	    bt->nentries + TRACE_MAX > ENTRY_SLOTS / 2)
		flush_code(bt);
	note_fresh(vm, bt);
	bt->st.translations++;
	for (count = 0;; count++) {
		struct emitter e = { bt->code + bt->used, bt->slots, bt->table };
		const cs_insn *insn;
		uint8_t *to;
		struct rec *r;
		int cc;

		if (count == TRACE_MAX || !(insn = fetch(vm, pc, &patched)) ||
		    never_copied(insn)) {
			emit_exit(bt, pc);
			break;
		}
		if ((to = entry_find(bt, pc)) && count) {
			/* already translated: join it */
			r = new_rec(bt);
			*r = (struct rec){ .guest = pc, .host = bt->used,
					   .len = 5, .kind = R_STUB };
			*e.p++ = 0xe9;
			bt_put32(&e, (uint32_t)(to - (e.p + 4)));
			bt->used += 5;
			break;
		}
		/* A 66 prefix makes a branch rel16 to Capstone, and Intel
		 * CPUs ignore it: let the CPU decide, natively. */
		if ((insn->id == X86_INS_JMP || is_jcc(insn->id)) &&
		    bt_has_prefix(insn, 0x66)) {
			emit_exit(bt, pc);
			break;
		}
		if (insn->id == X86_INS_JMP &&
		    insn->detail->x86.operands[0].type == X86_OP_IMM) {
			pc = (uint64_t)insn->detail->x86.operands[0].imm;
			continue;          /* follow it: nothing to emit */
		}
		if (is_jcc(insn->id)) {
			if ((cc = jcc_condition(insn)) < 0) {
				emit_exit(bt, pc);
				break;
			}
			r = new_rec(bt);
			*r = (struct rec){ .guest = pc, .host = bt->used,
					   .len = 6, .kind = R_INSN,
					   .glen = (uint8_t)insn->size,
					   .clean = 6, .done = 6 };
			entry_add(bt, pc, bt->used);
			*e.p++ = 0x0f;
			*e.p++ = (uint8_t)(0x80 | cc);
			pend[npend++] = (struct pending){
				bt->used + 2,
				(uint64_t)insn->detail->x86.operands[0].imm };
			bt_put32(&e, 0);
			bt->used += 6;
			pc += insn->size;
			continue;
		}
		if (scan_classify(insn) != SC_PLAIN ||
		    !bt_emit_insn(&e, h, insn, pc, is_upper(bt, pc),
			       r = &bt->recs[bt->nrecs])) {
			emit_exit(bt, pc);
			break;
		}
		r->host = bt->used;
		if (r->len) {
			bt->nrecs++;
			entry_add(bt, pc, bt->used);
			bt->used += r->len;
			if (r->nscratch == 3)
				bt->st.rewritten++;
		}
		bt->st.insns++;
		pc += insn->size;
	}
	/* Conditional branches: into this trace where it has the target,
	 * else to a chain stub (ud2, linked when first taken). */
	for (i = 0; i < npend; i++) {
		uint8_t *to = entry_find(bt, pend[i].target);
		uint32_t rel_end = pend[i].rel_at + 4;

		if (!to) {
			struct rec *r = new_rec(bt);

			*r = (struct rec){ .guest = pend[i].target,
					   .host = bt->used,
					   .len = STUB_BYTES, .kind = R_STUB };
			to = bt->code + bt->used;
			to[0] = 0x0f, to[1] = 0x0b;
			memset(to + 2, 0xcc, STUB_BYTES - 2);
			bt->used += STUB_BYTES;
		}
		memcpy(bt->code + pend[i].rel_at,
		       &(uint32_t){ (uint32_t)(to - (bt->code + rel_end)) }, 4);
	}
}

/* A chain stub ran: link it to its target's translation (or make it an
 * exit to the guest's own code). */
static void link_stub(struct vm *vm, struct rec *r)
{
	struct bt *bt = vm->bt;
	uint64_t target = r->guest, flushes = bt->st.flushes;
	uint32_t at = r->host;
	uint8_t *to, *p;

	if (!entry_find(bt, target))
		translate(vm, target);
	if (bt->st.flushes != flushes)
		return;              /* the stub went with the flush */
	p = bt->code + at;
	if ((to = entry_find(bt, target))) {
		p[0] = 0xe9;
		memcpy(p + 1, &(uint32_t){ (uint32_t)(to - (p + 5)) }, 4);
	} else {
		p[0] = 0xff, p[1] = 0x25;
		memset(p + 2, 0, 4);
		memcpy(p + 6, &target, 8);
	}
	bt->st.chains++;
}

/* ---- the trap path --------------------------------------------------- */

enum bt_left bt_leave(struct vm *vm, bool sig_ill, bool fault,
		      uint64_t fault_addr)
{
	struct bt *bt = vm->bt;
	struct vcpu *v = &vm->cpu;
	uint64_t h = v->rip;
	struct rec *r;
	uint32_t off;
	unsigned k;
	uint8_t *copy;

	if (bt)
		bt->alias_fault = false;
	if (!bt || h < (uint64_t)bt->code || h >= (uint64_t)bt->code + bt->used)
		return BT_OUTSIDE;
	if (!(r = rec_at(bt, (uint32_t)(h - (uint64_t)bt->code))))
		vm_crash(vm, "the guest ran at %#llx in the translation cache, "
			 "between its instructions", (unsigned long long)h);
	off = (uint32_t)(h - (uint64_t)bt->code) - r->host;
	v->rip = r->guest;
	if (r->kind == R_STUB) {
		if (sig_ill && off == 0 && bt->code[r->host] == 0x0f) {
			link_stub(vm, r);
			return BT_CHAINED;
		}
		return BT_LEFT;
	}
	if (off < r->clean) {
		bt->left_from = v->rip;
		return BT_LEFT;
	}
	for (k = 0; k < r->nscratch; k++)
		v->gpr[r->scratch[k]] = bt->slots[k];
	if (r->kind == R_BOUNCE) {
		/* Stopped before the instruction ran: it faults again and
		 * is bounced anew.  After: its result goes to the device,
		 * and the ud2 that ends the stub is not the guest's. */
		if (off < r->done)
			return BT_LEFT;
		v->rip += r->glen;
		copy = bt->bounce + (bt->bounce_op.addr & 4095);
		if (memcmp(copy, bt->bounce_op.orig, bt->bounce_op.size))
			bt->bounce_op.write = true;
		if (vm->trace)
			trace_begin(vm);      /* the write is an event */
		if (bt->bounce_op.write &&
		    !gmem_write(vm, bt->bounce_op.addr, copy,
				bt->bounce_op.size, 0)) {
			/* (Device memory does not fault: a guest that
			 * remapped it meanwhile gets the #PF here.) */
			v->rip -= r->glen;
			exception_deliver_pending(vm);
		}
		if (vm->trace)
			trace_end(vm);
		bt->bounce_op.write = false;
		bt->st.bounces++;
		return sig_ill && off + 2u == r->len ? BT_CHAINED : BT_LEFT;
	}
	if (off >= r->done) {
		v->rip += r->glen;
		return BT_LEFT;
	}
	/* The rewritten access itself faulted.  In the alias or in the
	 * guest's window, the fault speaks of the guest's address; else the
	 * table sent the address away (see bt_table_offset), and only the
	 * instruction run natively will say what the address was. */
	if (r->nscratch == 3 && fault && bt_is_alias(bt, fault_addr)) {
		bt->alias_fault = true;
	} else if (r->nscratch == 3 && fault &&
		   !(fault_addr >= vm->window_lo &&
		     fault_addr < vm->window_hi)) {
		bt->bypass = v->rip;
		bt->st.natives++;
		return BT_NATIVE;
	}
	bt->left_from = v->rip;
	return BT_LEFT;
}

uint64_t bt_resume_rip(struct vm *vm, bool single_step)
{
	struct bt *bt = vm->bt;
	struct vcpu *v = &vm->cpu;
	uint8_t *to;

	if (!bt)
		return v->rip;
	if (bt->bounce_op.host) {
		to = bt->bounce_op.host;
		bt->bounce_op.host = NULL;
		if (v->rip == bt->bounce_op.rip && !single_step)
			return (uint64_t)to;
		bt->bounce_op.write = false;  /* an interrupt came first */
	}
	check_fresh(vm, bt);
	if (!bt->nrecs || single_step || vcpu_mode(v) != MODE_LONG64 ||
	    v->rip == bt->bypass || !(to = entry_find(bt, v->rip)))
		return v->rip;
	return (uint64_t)to;
}

bool bt_bounce(struct vm *vm, const cs_insn *insn)
{
	struct bt *bt = vm->bt;
	struct vcpu *v = &vm->cpu;
	const cs_x86 *x = &insn->detail->x86;
	const cs_x86_op *mem = NULL;
	uint8_t *copy, *stub;
	uint64_t addr;
	unsigned i;
	struct rec *r;
	struct emitter e;

	if (!bt || vcpu_mode(v) != MODE_LONG64)
		return false;
	for (i = 0; i < x->op_count; i++)
		if (x->operands[i].type == X86_OP_MEM) {
			if (mem)
				return false;
			mem = &x->operands[i];
		}
	if (!mem || !mem->size || mem->size > 64 || never_copied(insn) ||
	    scan_classify(insn) != SC_PLAIN)
		return false;
	if (bt->used + INSN_ROOM + 2 > CODE_BYTES || bt->nrecs + 1 > MAX_RECS)
		flush_code(bt);
	note_fresh(vm, bt);
	addr = op_addr(vm, insn, mem);
	copy = bt->bounce + (addr & 4095);
	memset(copy, 0, mem->size);
	/* Capstone 4 does not say right how every instruction uses its
	 * operand (SSE stores among them): an unknown one is read, and
	 * any operand the instruction changed is written back. */
	if ((mem->access & CS_AC_READ || !mem->access) &&
	    !gmem_read(vm, addr, copy, mem->size, 0))
		return true;                  /* its fault is raised */
	memcpy(bt->bounce_op.orig, copy, mem->size);
	stub = bt->code + bt->used;
	e = (struct emitter){ stub, bt->slots, bt->table };
	r = &bt->recs[bt->nrecs];
	if (!bt_emit_at(&e, decoder_handle(vm->dec, MODE_LONG64), insn,
			v->rip, (uint64_t)copy, r))
		return false;
	*e.p++ = 0x0f;                        /* ud2: back to bt_leave */
	*e.p++ = 0x0b;
	r->kind = R_BOUNCE;
	r->host = bt->used;
	r->len = (uint16_t)(e.p - stub);
	bt->nrecs++;
	bt->used += r->len;
	bt->bounce_op.rip = v->rip;
	bt->bounce_op.addr = addr;
	bt->bounce_op.host = stub;
	bt->bounce_op.size = mem->size;
	bt->bounce_op.write = (mem->access & CS_AC_WRITE) != 0;
	return true;
}

bool bt_alias_fault_at(const struct bt *bt, uint64_t addr)
{
	return bt && bt->alias_fault && bt_is_alias(bt, addr);
}

bool bt_is_alias(const struct bt *bt, uint64_t addr)
{
	return bt && bt->translate && addr >= ALIAS_BASE &&
	       addr - ALIAS_BASE < ALIAS_SIZE;
}

bool bt_alias_fault(struct vm *vm, uint64_t addr, unsigned access,
		    uint64_t *gva)
{
	struct bt *bt = vm->bt;
	struct vcpu *v = &vm->cpu;
	uint64_t page = addr & ~4095ull, frame;
	struct paging pg;
	struct walk w;
	enum walk_status ws;
	bool guarded;
	int prot;

	*gva = addr - ALIAS_BASE + BT_WINDOW_BASE;
	vm_paging(vm, &pg);
	ws = shadow_walk(vm->mmu, &pg, *gva, access, &w);
	if (ws == WALK_FAULT) {
		vcpu_raise_pf(v, *gva, w.pf_err);
		return true;
	}
	frame = w.gpa & ~4095ull;
	/* Page tables and scanned code are written only where the monitor
	 * sees it: such a store is emulated at its real address. */
	guarded = shadow_is_page_table(vm->mmu, frame) ||
		  shadow_code_is_ready(vm->mmu, frame);
	if (ws != WALK_OK || frame >= vm->ram_size ||
	    (access == ACC_WRITE && guarded)) {
		bt->bypass = v->rip;
		return false;
	}
	note_fresh(vm, bt);
	prot = PROT_READ;
	if (!guarded && (access == ACC_WRITE || (w.writable && w.dirty)))
		prot |= PROT_WRITE;
	if (mmap((void *)page, 4096, prot, MAP_SHARED | MAP_FIXED,
		 vm->ram_fd, (off_t)frame) == MAP_FAILED)
		vm_crash(vm, "the host refused an alias mapping at %#llx",
			 (unsigned long long)page);
	if (bt->alias_hi <= bt->alias_lo) {
		bt->alias_lo = page;
		bt->alias_hi = page + 4096;
		bt->alias_cpl = vcpu_cpl(v);
		bt->alias_ac = !!(v->rflags & RFLAGS_AC);
	} else {
		if (page < bt->alias_lo)
			bt->alias_lo = page;
		if (page + 4096 > bt->alias_hi)
			bt->alias_hi = page + 4096;
	}
	bt->st.alias_maps++;
	return true;
}

bool bt_upper_access(struct vm *vm, uint64_t gva, bool now)
{
	struct bt *bt = vm->bt;
	struct vcpu *v = &vm->cpu;
	struct hot *h;

	if (!bt || !bt->translate || gva < BT_WINDOW_BASE ||
	    vcpu_mode(v) != MODE_LONG64)
		return false;
	if (v->rip == bt->bypass) {
		bt->bypass = 0;
		return false;
	}
	h = hot_of(bt, v->rip);
	if (!h->upper) {
		/* It may sit copied as it is in a trace: retranslate. */
		h->upper = true;
		flush_code(bt);
	} else if (v->rip == bt->left_from) {
		/* Rewritten, and it still faulted up here from the cache:
		 * emulate it rather than go round again. */
		bt->left_from = 0;
		return false;
	}
	if (h->failed || (++h->count < HOT_AFTER && !now))
		return false;
	if (!entry_find(bt, v->rip))
		translate(vm, v->rip);
	if (entry_find(bt, v->rip))
		return true;
	h->failed = true;
	return false;
}

/* ---- life ------------------------------------------------------------ */

/* Can this VM translate for the window?  NULL if so, else why not. */
static const char *cannot_translate(struct vm *vm)
{
	uint32_t r[4];

	hostcpu_cpuid_cached(&vm->host, 7, 0, r);
	if (!(r[1] & (1u << 8)))
		return "the host CPU has no BMI2 (rorx)";
	if (!vm->scan)
		return "it needs the scanner (--cpu=scan)";
	return NULL;
}

struct bt *bt_create(struct vm *vm, bool translate, const char **why)
{
	struct bt *bt;
	uint8_t *region;
	void *alias;
	unsigned i;

	*why = translate ? cannot_translate(vm) : NULL;
	/* Above the alias and below where the host lets system calls
	 * through (bt_host_end): a syscall the guest's code might hide
	 * from Capstone still reaches the monitor, never the host. */
	region = mmap((void *)REGION_BASE, REGION_BYTES,
		      PROT_READ | PROT_WRITE | PROT_EXEC,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (region != MAP_FAILED && region != (void *)REGION_BASE) {
		munmap(region, REGION_BYTES);
		region = MAP_FAILED;
	}
	bt = calloc(1, sizeof(*bt));
	if (region == MAP_FAILED || !bt ||
	    !(bt->recs = calloc(MAX_RECS, sizeof(bt->recs[0]))) ||
	    !(bt->entries = calloc(ENTRY_SLOTS, sizeof(bt->entries[0])))) {
		if (region != MAP_FAILED)
			munmap(region, REGION_BYTES);
		if (bt)
			free(bt->recs);
		free(bt);
		*why = "out of memory";
		return NULL;
	}
	bt->table = (uint64_t *)region;
	bt->slots = (uint64_t *)(region + TABLE_BYTES);
	bt->bounce = region + TABLE_BYTES + SLOTS_BYTES;
	bt->code = bt->bounce + BOUNCE_BYTES;
	for (i = 0; i < TABLE_ENTRIES; i++)
		bt->table[i] = bt_table_offset((uint64_t)i << 32);
	mprotect(region, TABLE_BYTES, PROT_READ);
	if (translate && !*why) {
		alias = mmap((void *)ALIAS_BASE, ALIAS_SIZE, PROT_NONE,
			     RESERVE_FLAGS | MAP_FIXED_NOREPLACE, -1, 0);
		if (alias == (void *)ALIAS_BASE)
			bt->translate = true;
		else if (alias != MAP_FAILED)
			munmap(alias, ALIAS_SIZE);
		if (!bt->translate)
			*why = "the host address range for its alias is taken";
	}
	return bt;
}

void bt_destroy(struct bt *bt)
{
	if (!bt)
		return;
	munmap(bt->table, REGION_BYTES);
	if (bt->translate)
		munmap((void *)ALIAS_BASE, ALIAS_SIZE);
	free(bt->recs);
	free(bt->entries);
	free(bt);
}

uint64_t bt_host_end(const struct bt *bt)
{
	return bt ? REGION_BASE + REGION_BYTES : 0;
}

void bt_get_stats(const struct bt *bt, struct bt_stats *st)
{
	if (bt)
		*st = bt->st;
	else
		memset(st, 0, sizeof(*st));
}
