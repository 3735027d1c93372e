/*
 * The translation cache's trap path (see bt.h): a trap in the cache made
 * the guest's own again, the way back into it, faults in the alias, and
 * the instructions bounced on a copy of device memory.
 */
#define _GNU_SOURCE
#include <string.h>

#include "cpu/decode.h"
#include "cpu/emulate.h"
#include "cpu/vcpu.h"
#include "engine/bt.h"
#include "engine/bt-internal.h"
#include "engine/scan.h"

/* A bounced instruction (bt_bounce) ran: give the device its operand if
 * the instruction writes it or changed it. */
bool bt_finish_bounce(struct bt *bt)
{
	uint8_t *copy = bt->bounce + (bt->bounce_op.addr & 4095);
	bool write = bt->bounce_op.write ||
		     memcmp(copy, bt->bounce_op.orig, bt->bounce_op.size);

	bt->cpu->rip += bt->bounce_op.glen;
	bt->st.bounces++;
	if (write && !gmem_write(bt->cpu, bt->bounce_op.addr, copy,
				 bt->bounce_op.size, 0)) {
		/* (Device memory does not fault: a guest that remapped it
		 * meanwhile gets the #PF here.) */
		bt->cpu->rip -= bt->bounce_op.glen;
		return false;
	}
	return true;
}

enum bt_left bt_leave(struct bt *bt, bool sig_ill, bool fault,
		      uint64_t fault_addr, bool *bounced)
{
	struct vcpu *v = bt->cpu;
	uint64_t h = v->rip;
	struct rec *r;
	uint32_t off;
	unsigned k;

	*bounced = false;
	bt->alias_fault = false;
	if (h < (uint64_t)bt->code || h >= (uint64_t)bt->code + bt->used)
		return BT_OUTSIDE;
	if (!(r = bt_rec_at(bt, (uint32_t)(h - (uint64_t)bt->code))))
		vcpu_crash(v, "the guest ran at %#llx in the translation "
			   "cache, between its instructions",
			   (unsigned long long)h);
	off = (uint32_t)(h - (uint64_t)bt->code) - r->host;
	v->rip = r->guest;
	if (r->kind == R_STUB) {
		if (sig_ill && off == 0 && bt->code[r->host] == 0x0f) {
			bt_link_stub(bt, r);
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
	/* Stopped before a bounced instruction ran: it faults again and is
	 * bounced anew.  After: its result goes to the device, and the ud2
	 * that ends the stub is not the guest's. */
	if (r->kind == R_BOUNCE) {
		if (off < r->done)
			return BT_LEFT;
		bt->bounce_op.glen = r->glen;
		*bounced = true;
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
		   !(fault_addr >= bt->cpu->mem.window_lo &&
		     fault_addr < bt->cpu->mem.window_hi)) {
		bt->bypass = v->rip;
		bt->st.natives++;
		return BT_NATIVE;
	}
	bt->left_from = v->rip;
	return BT_LEFT;
}

uint64_t bt_resume_rip(struct bt *bt, bool single_step)
{
	struct vcpu *v = bt->cpu;
	uint8_t *to;

	if (bt->bounce_op.host) {
		to = bt->bounce_op.host;
		bt->bounce_op.host = NULL;
		if (v->rip == bt->bounce_op.rip && !single_step)
			return (uint64_t)to;
	}
	bt_check_fresh(bt);
	if (!bt->nrecs || single_step || vcpu_mode(v) != MODE_LONG64 ||
	    v->rip == bt->bypass || debugreg_exec_at(v, v->rip) ||
	    !(to = bt_entry_find(bt, v->rip)))
		return v->rip;
	return (uint64_t)to;
}

bool bt_bounce(struct bt *bt, const cs_insn *insn)
{
	struct vcpu *v = bt->cpu;
	const cs_x86_op *mem = NULL;
	uint8_t *copy, *stub;
	uint64_t addr;
	struct rec *r;
	struct emitter e;

	if (vcpu_mode(v) != MODE_LONG64)
		return false;
	if (!bt_one_mem_operand(insn, &mem) || !mem->size || mem->size > 64 ||
	    bt_never_copied(insn) || scan_classify(insn) != SC_PLAIN)
		return false;
	if (bt->used + INSN_ROOM + 2 > CODE_BYTES || bt->nrecs + 1 > MAX_RECS)
		bt_flush_code(bt);
	bt_note_fresh(bt);
	addr = op_addr(bt->cpu, insn, mem);
	copy = bt->bounce + (addr & 4095);
	memset(copy, 0, mem->size);
	/* Capstone 4 does not say right how every instruction uses its
	 * operand (SSE stores among them): an unknown one is read, and
	 * any operand the instruction changed is written back. */
	if ((mem->access & CS_AC_READ || !mem->access) &&
	    !gmem_read(bt->cpu, addr, copy, mem->size, 0))
		return true;                  /* its fault is raised */
	memcpy(bt->bounce_op.orig, copy, mem->size);
	stub = bt->code + bt->used;
	e = (struct emitter){ stub, bt->slots, bt->table };
	r = &bt->recs[bt->nrecs];
	if (!bt_emit_at(&e, decoder_handle(bt->cpu->dec, MODE_LONG64), insn,
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

bool bt_bounce_pending(const struct bt *bt)
{
	return bt && bt->bounce_op.host;
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

bool bt_alias_fault(struct bt *bt, uint64_t addr, unsigned access,
		    uint64_t *gva)
{
	struct vcpu *v = bt->cpu;
	const struct shadow_ops ops = bt->host;
	uint64_t page = addr & ~4095ull, frame;
	struct paging pg;
	struct walk w;
	enum walk_status ws;
	bool guarded;
	int prot;

	*gva = addr - ALIAS_BASE + BT_WINDOW_BASE;
	vcpu_paging(bt->cpu, &pg);
	ws = shadow_walk(bt->cpu->mem.mmu, &pg, *gva, access, &w);
	if (ws == WALK_FAULT) {
		vcpu_raise_pf(v, *gva, w.pf_err);
		return true;
	}
	frame = w.gpa & ~4095ull;
	/* Page tables and scanned code are written only where the monitor
	 * sees it: such a store is emulated at its real address. */
	guarded = shadow_is_page_table(bt->cpu->mem.mmu, frame) ||
		  shadow_code_is_ready(bt->cpu->mem.mmu, frame);
	if (ws != WALK_OK || frame >= bt->cpu->mem.ram_size ||
	    (access == ACC_WRITE && guarded)) {
		bt->bypass = v->rip;
		return false;
	}
	bt_note_fresh(bt);
	prot = SHADOW_R;
	if (!guarded && (access == ACC_WRITE || (w.writable && w.dirty)))
		prot |= SHADOW_W;
	if (ops.map(ops.ctx, page, frame, 4096, prot))
		vcpu_crash(bt->cpu, "the host refused an alias mapping at %#llx",
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

bool bt_upper_access(struct bt *bt, uint64_t gva, bool now)
{
	struct vcpu *v = bt->cpu;
	struct hot *h;

	if (!bt->translate || gva < BT_WINDOW_BASE ||
	    vcpu_mode(v) != MODE_LONG64)
		return false;
	if (v->rip == bt->bypass) {
		bt->bypass = 0;
		return false;
	}
	h = bt_hot_of(bt, v->rip);
	if (!h->upper) {
		/* It may sit copied as it is in a trace: retranslate. */
		h->upper = true;
		bt_flush_code(bt);
	} else if (v->rip == bt->left_from) {
		/* Rewritten, and it still faulted up here from the cache:
		 * emulate it rather than go round again. */
		bt->left_from = 0;
		return false;
	}
	if (h->failed || (++h->count < HOT_AFTER && !now))
		return false;
	if (!bt_entry_find(bt, v->rip))
		bt_translate(bt, v->rip);
	if (bt_entry_find(bt, v->rip))
		return true;
	h->failed = true;
	return false;
}

