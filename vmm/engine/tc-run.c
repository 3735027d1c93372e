/*
 * The translator on the trap path (see translate.h): what a trap in the
 * cache means for the guest, what a callout from it asks, and where the
 * guest resumes.
 *
 * While the guest runs in the cache, its general registers and
 * arithmetic flags are the real ones, as natively; its IF is the state
 * page's vif byte, which cli and sti write.  Any host PC in the cache is
 * in a record that says which guest instruction it belongs to and how
 * far it got (tc-internal.h), so a trap anywhere becomes the guest's
 * state at an instruction boundary: before the instruction, with the
 * registers it borrowed given back, or after it.
 */
#include <string.h>

#include "cpu/debugreg.h"
#include "cpu/decode.h"
#include "cpu/irq.h"
#include "cpu/vcpu.h"
#include "cpu/gmem.h"
#include "dev/mmio.h"
#include "engine/tc-internal.h"

/* The guest's IF, from where it lives while the guest runs here. */
static void take_vif(struct translator *tr)
{
	struct vcpu *v = tr->cpu;

	v->rflags = (v->rflags & ~RFLAGS_IF) | (tr->xs->vif ? RFLAGS_IF : 0);
}

/* The guest's state at host code offset off, in record r. */
static void state_at(struct translator *tr, const struct tc_rec *r,
		     uint32_t off)
{
	struct vcpu *v = tr->cpu;
	unsigned inner = off - r->host, k;

	v->rip = r->guest;
	switch (r->kind) {
	case TK_LINK: case TK_CALLOUT: case TK_NATIVE:
		return;               /* (a link's guest is its target) */
	case TK_INDIRECT:
		/* (rcx in slot[0]; an upper-half ret's load borrows more,
		 * after it, in slot[1..].) */
		if (inner >= r->clean)
			for (k = 0; k < r->nscratch; k++)
				v->gpr[r->scratch[k]] = tr->xs->slot[k];
		if (inner >= r->done)
			v->rip = tr->xs->target;
		return;
	}
	if (inner < r->clean)
		return;
	for (k = 0; k < r->nscratch; k++)
		v->gpr[r->scratch[k]] = tr->xs->slot[k];
	if (inner >= r->done)
		v->rip = r->kind == TK_CALL ? r->target : r->guest + r->glen;
	/* A loop's taken branch, past the short jmp over it. */
	if (r->taken && inner >= r->taken)
		v->rip = r->target;
}

/*
 * Was the guest stopped (at offset off, record r) in the shadow of an
 * inline sti: after it, before the instruction after it?  No interrupt
 * may come there: `sti; hlt` must not take it before the hlt.
 */
static bool in_sti_shadow(const struct translator *tr,
			  const struct tc_rec *r, uint32_t off)
{
	const struct tc_rec *p = r > tr->recs ? r - 1 : NULL;

	if (r->flags & TRF_SHADOW)
		return off - r->host >= r->done;
	return p && (p->flags & TRF_SHADOW) && p->guest + p->glen == r->guest &&
	       tr->cpu->rip == r->guest && p->host + p->len == r->host;
}

bool tc_left_in_shadow(const struct translator *tr)
{
	return tr->left_shadow;
}

enum tc_left tc_leave(struct translator *tr, uint64_t fault_addr)
{
	struct vcpu *v = tr->cpu;
	uint64_t h = v->rip;
	struct tc_rec *r;
	uint32_t off;

	tr->left_rec = TR_REC_HERE;
	tr->left_shadow = false;
	/* (Closed, no translation runs: a fault there is the user code's
	 * that jumped in.) */
	if (tr->closed || h < (uint64_t)tr->code + tr->body ||
	    h >= (uint64_t)tr->code + tr->used)
		return TR_OUTSIDE;
	off = (uint32_t)(h - (uint64_t)tr->code);
	if (!(r = tc_rec_at(tr, off)))
		vcpu_crash(v, "the guest ran at %#llx in the translation "
			   "cache, between its instructions",
			   (unsigned long long)h);
	state_at(tr, r, off);
	take_vif(tr);
	tr->st.exits++;
	tr->left_rec = tc_rec_index(tr, r);
	tr->left_shadow = in_sti_shadow(tr, r, off);
	if (fault_addr - (uint64_t)tr->guard < TR_GUARD_BYTES)
		return r->flags & TRF_SHADOW ? TR_SHADOW : TR_INTERRUPT;
	return TR_LEFT;
}

bool tc_in_trampoline(const struct translator *tr, uint64_t host_rip)
{
	return host_rip >= (uint64_t)tr->code &&
	       host_rip < (uint64_t)tr->code + tr->stubs_end;
}

bool tc_state_exact(const struct translator *tr, uint64_t host_rip)
{
	const struct tc_rec *r;
	uint32_t off;

	if (tc_in_trampoline(tr, host_rip))
		return false;
	if (host_rip < (uint64_t)tr->code + tr->body ||
	    host_rip >= (uint64_t)tr->code + tr->used)
		return true;
	off = (uint32_t)(host_rip - (uint64_t)tr->code);
	r = tc_rec_at((struct translator *)tr, off);
	return !r || !(r->flags & TRF_STEPS) || off == r->host ||
	       off - r->host >= r->done;
}

bool tc_in_monitor(const struct translator *tr)
{
	return __atomic_load_n(&tr->xs->in_monitor, __ATOMIC_RELAXED) != 0;
}

/* ---- callouts ------------------------------------------------------- */

bool tc_link(struct translator *tr, struct tc_rec *r)
{
	uint64_t flushes = tr->st.flushes;
	uint8_t *to = tc_lookup(tr, r->guest), *p;
	uint32_t rel;

	/* (A flush while translating took the link with it.) */
	if (!to || tr->st.flushes != flushes)
		return false;
	p = tr->code + r->host;
	rel = (uint32_t)(to - (p + 5));
	p[0] = 0xe9;
	memcpy(p + 1, &rel, 4);
	return true;
}

enum tc_left tc_callout(struct translator *tr)
{
	struct vcpu *v = tr->cpu;
	struct tc_rec *r;
	uint8_t *to;

	tr->st.callouts++;
	/* Guest user code that jumped into the trampoline (the blocks are
	 * closed to it, tc_close): the guest runs at the trampoline's
	 * address, which its own tables do not map, so its fetch faults. */
	if (tr->closed) {
		v->rip = (uint64_t)tr->code;
		return TR_LEFT;
	}
	/* (The vCPU's RIP is where the guest is: its fetch faults.) */
	if (tr->xs->rec == TR_REC_HERE)
		return TR_LEFT;
	r = &tr->recs[tr->xs->rec];
	switch (r->kind) {
	case TK_LINK:
		v->rip = r->guest;
		tc_link(tr, r);
		return TR_RESUME;
	case TK_INDIRECT:
		v->rip = tr->xs->target;
		tr->st.misses++;
		if ((to = tc_lookup(tr, v->rip)))
			tc_guess(tr, r, v->rip, (uint32_t)(to - tr->code));
		return TR_RESUME;
	case TK_NATIVE:
		v->rip = r->guest;
		tr->native_rip = r->guest;
		tr->st.native_steps++;
		return TR_RESUME;
	default:
		v->rip = r->guest;
		tr->co_pending = true;
		tr->co_key = (uint8_t)tc_key(v);
		tr->co_flushes = tr->st.flushes;
		return TR_LEFT;
	}
}

/* ---- resuming ---------------------------------------------------------- */

/* After a callout, the guest goes on with the next instruction: its
 * code follows the callout's, unless the cache, the mode or the CPL
 * changed, or the guest is not simply at that next instruction. */
static uint8_t *following(struct translator *tr)
{
	struct vcpu *v = tr->cpu;
	const struct tc_rec *r = &tr->recs[tr->xs->rec];

	if (!tr->co_pending)
		return NULL;
	tr->co_pending = false;
	if (tr->xs->rec >= tr->nrecs || r->kind != TK_CALLOUT ||
	    !(r->flags & TRF_FOLLOWS) || tr->st.flushes != tr->co_flushes ||
	    v->rip != r->guest + r->glen || tc_key(v) != tr->co_key ||
	    shadow_generation(v->mem.mmu) != tr->gen)
		return NULL;
	return tr->code + r->host + r->len;
}

/*
 * Which code runs from the cache: the kernel's (CPL 0).  User code runs
 * natively, but where the host cannot give it what the guest asked for:
 *   - the guest set CR4.UMIP: sgdt, sidt, sldt, str and smsw must fault
 *     at CPL 3, and the host's kernel answers them itself;
 *   - 32-bit code of a guest that enabled `syscall`: the host's
 *     compatibility entry would take the call (backend/signal.c).
 * There the cache calls the emulator for them, at the guest's CPL 3.
 */
static bool translated_here(const struct vcpu *v)
{
	return vcpu_cpl(v) == 0 || (v->cr4 & CR4_UMIP) ||
	       (vcpu_mode(v) != MODE_LONG64 && (v->efer & EFER_SCE));
}

/* Is the instruction at the vCPU's RIP one the monitor does? */
static bool wanted_at_rip(struct translator *tr)
{
	struct vcpu *v = tr->cpu;
	uint8_t bytes[INSN_MAX];
	uint32_t err;
	size_t n = gmem_fetch(v, v->rip, bytes, sizeof(bytes), &err);
	const cs_insn *insn;

	if (!n)
		return true;              /* (its fault is the emulator's) */
	insn = decode(v->dec, vcpu_mode(v), v->rip, bytes, n);
	return insn && tc_wants_monitor(insn);
}

void tc_step_natively(struct translator *tr)
{
	tr->native_rip = tr->cpu->rip;
	tr->st.native_steps++;
}

uint64_t tc_resume(struct translator *tr, bool *in_cache, bool *step)
{
	struct vcpu *v = tr->cpu;
	uint8_t *to = following(tr);

	*in_cache = *step = false;
	if (tr->native_rip && tr->native_rip == v->rip) {
		tr->native_rip = 0;
		*step = true;
		return v->rip;
	}
	tr->native_rip = 0;
	/* A device register folded into the code may read otherwise now. */
	if (v->mem.mmio->gen != tr->mmio_gen) {
		tc_check_folds(tr);
		if (tr->st.flushes != tr->co_flushes)
			to = NULL;
	}
	/* Breakpoints armed or moved: what was translated around them (or
	 * without them) goes. */
	if (v->dbg.gen != tr->dbg_gen) {
		tr->dbg_gen = v->dbg.gen;
		tc_flush(tr);
		to = NULL;
	}
	if (!translated_here(v)) {
		tc_close(tr, true);
		return v->rip;
	}
	tc_close(tr, false);
	/* Code the guest single-steps runs natively, where the host's TF
	 * traps after each instruction, but for what the monitor must do
	 * (the emulator raises the trap); so does the one instruction of an
	 * interrupt shadow (after sti, or mov ss), and code the guest
	 * breaks at. */
	if ((v->rflags & RFLAGS_TF) || v->irq.step) {
		if (!wanted_at_rip(tr))
			return v->rip;
		to = tr->code + tr->here;
	} else if (debugreg_exec_at(v, v->rip)) {
		*step = true;
		return v->rip;
	} else if (!to) {
		tc_check_fresh(tr);
		/* Code that cannot be fetched: the emulator fetches it
		 * (and raises the guest's fault) from a callout. */
		if (!(to = tc_lookup(tr, v->rip)))
			to = tr->code + tr->here;
	}
	/* In the cache the guest's IF is the state page's. */
	tr->xs->vif = (v->rflags & RFLAGS_IF) != 0;
	tc_sync_state(tr);
	tc_set_guard(tr, irq_pending(v));
	*in_cache = true;
	return (uint64_t)to;
}

/* ---- the callout's frame -------------------------------------------- */

void tc_frame_in(struct translator *tr, const struct tc_frame *f)
{
	struct vcpu *v = tr->cpu;
	unsigned i;

	/* (32-bit code has no r8-r15: the cache borrows them.) */
	for (i = 0; i < (vcpu_mode(v) == MODE_LONG64 ? 16u : 8u); i++)
		if (i != RSP)
			v->gpr[i] = f->gpr[i];
	v->gpr[RSP] = tr->xs->guest_rsp;
	/* (The host runs the cache without TF: the guest's is the vCPU's,
	 * tc_resume.) */
	v->rflags = (f->rflags & ~(RFLAGS_VIRTUAL | RFLAGS_TF)) |
		    (v->rflags & (RFLAGS_VIRTUAL | RFLAGS_TF));
	take_vif(tr);
	v->seg[SR_FS].base = tr->xs->guest_fs;
	v->seg[SR_GS].base = tr->xs->guest_gs;
}

void tc_frame_out(struct translator *tr, struct tc_frame *f, uint64_t rip,
		  uint16_t cs, uint64_t host_flags)
{
	struct vcpu *v = tr->cpu;
	struct tc_state *xs = tr->xs;
	unsigned i;

	for (i = 0; i < 16; i++)
		f->gpr[i] = v->gpr[i];
	f->rflags = host_flags;
	xs->guest_rsp = v->gpr[RSP];
	xs->guest_fs = v->seg[SR_FS].base;
	xs->guest_gs = v->seg[SR_GS].base;
	xs->resume = rip;
	/* A change of code segment or a single step needs iretq. */
	xs->far = cs != 0x33 || (host_flags & RFLAGS_TF);
	xs->iret_frame[0] = rip;
	xs->iret_frame[1] = cs;
	xs->iret_frame[2] = host_flags;
	xs->iret_frame[3] = v->gpr[RSP];
	xs->iret_frame[4] = 0x2b;
}

void tc_set_observed(struct translator *tr, bool on)
{
	if (tr->observed != on)
		tc_flush(tr);
	tr->observed = on;
}

void tc_set_monitor_fs(struct translator *tr, uint64_t fs)
{
	tr->xs->monitor_fs = fs;
}
