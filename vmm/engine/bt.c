/*
 * The translation cache (see bt.h): its maps, translating, and its life;
 * bt-trap.c has the trap path, bt-rewrite.c the code it emits.
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

#include "cpu/decode.h"
#include "cpu/emulate.h"
#include "cpu/vcpu.h"
#include "engine/bt.h"
#include "engine/bt-internal.h"
#include "engine/scan.h"
#include "host/hostcpu.h"

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
uint8_t *bt_entry_find(struct bt *bt, uint64_t guest)
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

void bt_flush_code(struct bt *bt)
{
	if (!bt->nrecs && !bt->used)
		return;
	bt->used = 0;
	bt->nrecs = 0;
	memset(bt->entries, 0, ENTRY_SLOTS * sizeof(bt->entries[0]));
	bt->nentries = 0;
	bt->st.flushes++;
}

void bt_flush_alias(struct bt *bt)
{
	const struct shadow_ops ops = bt->host;

	if (bt->alias_hi <= bt->alias_lo)
		return;
	if (ops.unmap(ops.ctx, bt->alias_lo, bt->alias_hi - bt->alias_lo))
		vcpu_crash(bt->cpu, "the host refused to clear the translation "
			 "cache's alias");
	bt->alias_lo = bt->alias_hi = 0;
	bt->st.alias_flushes++;
}

/* The record holding cache offset off (records are in code order). */
struct rec *bt_rec_at(struct bt *bt, uint32_t off)
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

struct hot *bt_hot_of(struct bt *bt, uint64_t rip)
{
	struct hot *h = &bt->hot[(rip ^ (rip >> 12)) % HOT_SLOTS];

	if (h->rip != rip)
		*h = (struct hot){ rip, 0, false, false };
	return h;
}

bool bt_is_upper(struct bt *bt, uint64_t rip)
{
	struct hot *h = &bt->hot[(rip ^ (rip >> 12)) % HOT_SLOTS];

	return h->rip == rip && h->upper;
}

/* What the translations and the alias depend on: the guest's page
 * tables (the shadow's generation moves with any change a TLB would
 * see) and its code (the scanner's counts move with any scan or
 * unscan). */
static uint64_t code_mark(struct bt *bt)
{
	return bt->scan ? scan_code_mark(bt->scan) : 0;
}

/* Something is about to be cached: remember what it depends on. */
void bt_note_fresh(struct bt *bt)
{
	if (bt->nrecs || bt->alias_hi > bt->alias_lo)
		return;
	bt->gen = shadow_generation(bt->cpu->mem.mmu);
	bt->code_mark = code_mark(bt);
	bt->code_cpl = vcpu_cpl(bt->cpu);
}

/* Drop what the guest may have invalidated since it was cached. */
void bt_check_fresh(struct bt *bt)
{
	if (!bt->nrecs && bt->alias_hi <= bt->alias_lo)
		return;
	/* (The code was fetched with the rights of one privilege level:
	 * a guest that returns to user mode may not run it.) */
	if (shadow_generation(bt->cpu->mem.mmu) != bt->gen ||
	    code_mark(bt) != bt->code_mark ||
	    (bt->nrecs && vcpu_cpl(bt->cpu) != bt->code_cpl)) {
		bt_flush_code(bt);
		bt_flush_alias(bt);
		return;
	}
	if (bt->alias_hi > bt->alias_lo &&
	    (vcpu_cpl(bt->cpu) != bt->alias_cpl ||
	     !!(bt->cpu->rflags & RFLAGS_AC) != bt->alias_ac))
		bt_flush_alias(bt);
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
int bt_jcc_condition(const cs_insn *insn)
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
bool bt_never_copied(const cs_insn *insn)
{
	return insn_is_event(insn) || insn->id == X86_INS_UD2;
}

static struct rec *new_rec(struct bt *bt)
{
	return bt->nrecs < MAX_RECS ? &bt->recs[bt->nrecs++] : NULL;
}

/* The rel32 at `at` (whose instruction ends right after it) to `to`. */
static void put_rel32(uint8_t *at, const uint8_t *to)
{
	uint32_t rel = (uint32_t)(to - (at + 4));

	memcpy(at, &rel, 4);
}

/* jmp to the cache address `to` (5 bytes). */
static void put_jmp(uint8_t *p, const uint8_t *to)
{
	p[0] = 0xe9;
	put_rel32(p + 1, to);
}

/* jmp *0(%rip); .quad target: to the guest's own code (STUB_BYTES). */
static void put_exit(uint8_t *p, uint64_t target)
{
	p[0] = 0xff, p[1] = 0x25;
	memset(p + 2, 0, 4);
	memcpy(p + 6, &target, 8);
}

static void emit_exit(struct bt *bt, uint64_t target)
{
	struct rec *r = new_rec(bt);

	*r = (struct rec){ .guest = target, .host = bt->used,
			   .len = STUB_BYTES, .kind = R_STUB };
	put_exit(bt->code + bt->used, target);
	bt->used += STUB_BYTES;
}

struct pending { uint32_t rel_at; uint64_t target; };

/* The next guest instruction to copy, decoded; NULL ends the trace. */
static const cs_insn *fetch(struct bt *bt, uint64_t rip)
{
	uint8_t bytes[INSN_MAX];
	uint32_t pf_err;
	uint64_t gpa;
	size_t n;

	if (!gmem_code_gpa(bt->cpu, rip, &gpa) || !scan_vetted(bt->scan, gpa) ||
	    scan_patch_at(bt->scan, rip, gpa))
		return NULL;
	if (!(n = gmem_fetch(bt->cpu, rip, bytes, sizeof(bytes), &pf_err)))
		return NULL;
	return decode(bt->cpu->dec, MODE_LONG64, rip, bytes, n);
}

void bt_translate(struct bt *bt, uint64_t start)
{
	csh h = decoder_handle(bt->cpu->dec, MODE_LONG64);
	struct pending pend[TRACE_MAX];
	unsigned npend = 0, count, i;
	uint64_t pc = start;

	if (bt->used + TRACE_MAX * (INSN_ROOM + 2 * STUB_BYTES) > CODE_BYTES ||
	    bt->nrecs + 3 * TRACE_MAX > MAX_RECS ||
	    bt->nentries + TRACE_MAX > ENTRY_SLOTS / 2)
		bt_flush_code(bt);
	bt_note_fresh(bt);
	bt->st.translations++;
	for (count = 0;; count++) {
		struct emitter e = { bt->code + bt->used, bt->slots, bt->table };
		const cs_insn *insn;
		uint8_t *to;
		struct rec *r;
		int cc;

		if (count == TRACE_MAX || !(insn = fetch(bt, pc)) ||
		    bt_never_copied(insn)) {
			emit_exit(bt, pc);
			break;
		}
		if ((to = bt_entry_find(bt, pc)) && count) {
			/* already translated: join it */
			r = new_rec(bt);
			*r = (struct rec){ .guest = pc, .host = bt->used,
					   .len = 5, .kind = R_STUB };
			put_jmp(e.p, to);
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
			if ((cc = bt_jcc_condition(insn)) < 0) {
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
		    !bt_emit_insn(&e, h, insn, pc, bt_is_upper(bt, pc),
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
		uint8_t *to = bt_entry_find(bt, pend[i].target);

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
		put_rel32(bt->code + pend[i].rel_at, to);
	}
}

/* A chain stub ran: link it to its target's translation (or make it an
 * exit to the guest's own code). */
void bt_link_stub(struct bt *bt, struct rec *r)
{
	uint64_t target = r->guest, flushes = bt->st.flushes;
	uint32_t at = r->host;
	uint8_t *to, *p;

	if (!bt_entry_find(bt, target))
		bt_translate(bt, target);
	if (bt->st.flushes != flushes)
		return;              /* the stub went with the flush */
	p = bt->code + at;
	if ((to = bt_entry_find(bt, target)))
		put_jmp(p, to);
	else
		put_exit(p, target);
	bt->st.chains++;
}

/* ---- life ------------------------------------------------------------ */

/* Can this VM translate for the window?  NULL if so, else why not. */
static const char *cannot_translate(const struct vcpu *v,
				    const struct scanner *sc)
{
	if (!hostcpu_has_bmi2(v->host))
		return "the host CPU has no BMI2 (rorx)";
	if (!sc)
		return "it needs the scanner (--cpu=scan)";
	return NULL;
}

struct bt *bt_create(struct vcpu *v, struct scanner *sc,
		     const struct shadow_ops *host, bool translate,
		     const char **why)
{
	struct bt *bt;
	uint8_t *region;
	void *alias;
	unsigned i;

	*why = translate ? cannot_translate(v, sc) : NULL;
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
	bt->cpu = v;
	bt->scan = sc;
	bt->host = *host;
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
