/*
 * Running ahead of a trap (see ahead.h).
 *
 * Each instruction at RIP is one of three kinds:
 *   - a trapper: one the scanner patched, or one the emulator handles
 *     that is not ordinary (cli, in, out, mov to cr3, a privileged
 *     instruction...).  It would have cost a signal: emulating it now is
 *     the saving.
 *   - ordinary: mov, lea, push, pop, the ALU and flag instructions, direct
 *     jumps and calls.  They run natively at full speed, so the monitor
 *     emulates at most AHEAD_PLAIN_RUN of them in a row, betting that a
 *     trapper follows; the bet costs less than one signal when it loses.
 *     One that reached device memory would have trapped (a kernel's read
 *     of its local APIC's ID, say): it counts as a trapper.
 *   - anything else (string instructions, SSE, whatever the emulator does
 *     not know): the guest resumes natively there.
 */
#include <stdlib.h>

#include "cpu/decode.h"
#include "cpu/emulate.h"
#include "cpu/vcpu.h"
#include "engine/ahead.h"
#include "engine/scan.h"
#include "shadow.h"

enum kind { K_STOP, K_PLAIN, K_TRAPPER };

static uint8_t kinds[X86_INS_ENDING];

void ahead_init(void)
{
	/* Ordinary, but long or rare: they run natively. */
	static const unsigned stop[] = {
		X86_INS_STOSB, X86_INS_STOSW, X86_INS_STOSD, X86_INS_STOSQ,
		X86_INS_MOVSB, X86_INS_MOVSW, X86_INS_MOVSD, X86_INS_MOVSQ,
		X86_INS_LODSB, X86_INS_LODSW, X86_INS_LODSD, X86_INS_LODSQ,
		X86_INS_SCASB, X86_INS_SCASW, X86_INS_SCASD, X86_INS_SCASQ,
		X86_INS_CMPSB, X86_INS_CMPSW, X86_INS_CMPSD, X86_INS_CMPSQ,
		X86_INS_BT, X86_INS_BTS, X86_INS_BTR, X86_INS_BTC,
		X86_INS_CMPXCHG, X86_INS_XADD,
	};
	unsigned i;

	emulate_init();
	for (i = 0; i < X86_INS_ENDING; i++)
		kinds[i] = !emulate_lookup(i) ? K_STOP
			   : emulate_is_ordinary(i) ? K_PLAIN : K_TRAPPER;
	for (i = 0; i < sizeof(stop) / sizeof(stop[0]); i++)
		kinds[stop[i]] = K_STOP;
}

#define SEEN_SLOTS 4096        /* what was found at an address (next_insn) */
#define COLD_SLOTS 1024        /* runs that led nowhere (is_cold) */
#define COLD_RETRY 16

struct ahead {
	struct vcpu *cpu;
	struct scanner *scan;
	ahead_seen_fn seen_fn;          /* the tracer's, or NULL */
	void *seen_ctx;
	struct ahead_stats st;
	struct seen {
		uint64_t rip, gen, code;
		const cs_insn *insn;
		uint8_t kind, patched, cpl, mode;
	} seen[SEEN_SLOTS];
	struct { uint64_t gva; unsigned seen; } cold[COLD_SLOTS];
};

struct ahead *ahead_create(struct vcpu *v, struct scanner *sc)
{
	struct ahead *a = calloc(1, sizeof(*a));

	if (a) {
		a->cpu = v;
		a->scan = sc;
	}
	return a;
}

void ahead_destroy(struct ahead *a)
{
	free(a);
}

void ahead_on_trapper(struct ahead *a, ahead_seen_fn fn, void *ctx)
{
	a->seen_fn = fn;
	a->seen_ctx = ctx;
}

const struct ahead_stats *ahead_stats(const struct ahead *a)
{
	return &a->st;
}

/* The instruction at RIP as the guest wrote it, and its kind. */
static const cs_insn *look_up(struct ahead *a, enum kind *k, bool *patched)
{
	struct vcpu *v = a->cpu;
	uint8_t bytes[INSN_MAX];
	uint32_t pf_err;
	const cs_insn *insn;
	uint64_t gpa;
	size_t n;

	/* Only what the scanner vetted: the rest is scanned first, when
	 * the guest resumes, as if it had trapped here. */
	if (!gmem_code_gpa(v, v->rip, &gpa) || !scan_vetted(a->scan, gpa))
		return NULL;
	if ((insn = scan_patch_at(a->scan, v->rip, gpa))) {
		*k = K_TRAPPER;
		*patched = true;
		return insn;
	}
	if (!(n = gmem_fetch(v, v->rip, bytes, sizeof(bytes), &pf_err)))
		return NULL;
	insn = decode(v->dec, vcpu_mode(v), v->rip, bytes, n);
	*k = insn ? (enum kind)kinds[insn->id] : K_STOP;
	return insn;
}

/*
 * What look_up() found at an address holds while the guest's
 * translations (the shadow's generation), its code (the scanner's mark),
 * its privilege level and mode stay put, and the decoder's slot still
 * holds the instruction (a patched one's original is decoded there
 * too): a kernel's hot paths, run ahead again and again, skip the walk,
 * the scanner's tables and the byte compare (the table is a->seen).
 */
static const cs_insn *next_insn(struct ahead *a, enum kind *k, bool *patched)
{
	struct vcpu *v = a->cpu;
	struct seen *s = &a->seen[(v->rip ^ (v->rip >> 12)) % SEEN_SLOTS];
	uint64_t gen = shadow_generation(v->mem.mmu);
	uint64_t code = scan_code_mark(a->scan);
	unsigned cpl = vcpu_cpl(v), mode = vcpu_mode(v);
	const cs_insn *insn;

	if (s->insn && s->rip == v->rip && s->gen == gen && s->code == code &&
	    s->cpl == cpl && s->mode == mode &&
	    decode_holds(v->dec, mode, v->rip, s->insn)) {
		*k = (enum kind)s->kind;
		*patched = s->patched;
		return s->insn;
	}
	insn = look_up(a, k, patched);
	*s = (struct seen){ v->rip, gen, code, insn, (uint8_t)*k,
			    (uint8_t)*patched, (uint8_t)cpl, (uint8_t)mode };
	return insn;
}

/*
 * Where a run of ordinary instructions led nowhere (AHEAD_PLAIN_RUN of
 * them and no trapper), the next run from there is probably as long:
 * such starts are remembered, and skipped but for one try in COLD_RETRY
 * in case the code's path changed.
 */
static bool is_cold(struct ahead *a, uint64_t gva)
{
	unsigned i = (unsigned)(gva ^ (gva >> 10)) % COLD_SLOTS;

	return a->cold[i].gva == gva + 1 && ++a->cold[i].seen % COLD_RETRY;
}

static void set_cold(struct ahead *a, uint64_t gva, bool on)
{
	unsigned i = (unsigned)(gva ^ (gva >> 10)) % COLD_SLOTS;

	if (on) {
		a->cold[i].gva = gva + 1;
		a->cold[i].seen = 0;
	} else if (a->cold[i].gva == gva + 1) {
		a->cold[i].gva = 0;
	}
}

/* May the monitor go on?  Not across an interrupt it would deliver, a
 * pending exception, a halt, a change of privilege level or mode, nor
 * while the guest single-steps (every instruction owes it a #DB, which
 * running ahead would swallow) or has a breakpoint armed. */
static bool may_go_on(const struct vcpu *v, unsigned cpl, enum cpu_mode mode)
{
	return !v->exc.pending && !v->halted && !irq_takes_now(v) &&
	       !(v->rflags & RFLAGS_TF) && vcpu_cpl(v) == cpl &&
	       vcpu_mode(v) == mode && !debugreg_armed(v);
}

/* A run of ordinary instructions that may be leading nowhere: false when
 * the monitor should stop here (a known cold start, or the run is as
 * long as it may be, which makes its start cold). */
static bool plain_run_pays(struct ahead *a, unsigned plain,
			   uint64_t *run_start)
{
	uint64_t rip = a->cpu->rip;

	if (plain == 0) {
		if (is_cold(a, rip))
			return false;
		*run_start = rip;
	} else if (plain == AHEAD_PLAIN_RUN) {
		set_cold(a, *run_start, true);
		return false;
	}
	return true;
}

void ahead_run(struct ahead *a)
{
	struct vcpu *v = a->cpu;
	unsigned cpl = vcpu_cpl(v), steps, plain = 0;
	enum cpu_mode mode = vcpu_mode(v);
	uint64_t run_start = 0;

	for (steps = 0; steps < AHEAD_MAX && may_go_on(v, cpl, mode); steps++) {
		enum kind k = K_STOP;
		bool shadow = v->irq_shadow, patched = false;
		uint64_t mmio = v->stats.mmio;
		const cs_insn *insn = next_insn(a, &k, &patched);
		enum emu_result r;

		if (!insn || k == K_STOP)
			return;
		if (k == K_PLAIN && !plain_run_pays(a, plain, &run_start))
			return;
		if (k != K_PLAIN && plain)
			set_cold(a, run_start, false);
		v->insn = insn;          /* (what a trace shows) */
		if ((r = emulate(v, insn)) == EMU_NONE)
			return;
		/* One that reached a device would have trapped. */
		if (k == K_PLAIN && v->stats.mmio != mmio) {
			k = K_TRAPPER;
			if (plain)
				set_cold(a, run_start, false);
		}
		if (r == EMU_HALT)
			v->halted = true;
		/* The instruction after an sti has now run (an sti in the
		 * shadow of another found IF set, and makes no new one). */
		if (shadow)
			v->irq_shadow = false;
		a->st.run++;
		if (k == K_TRAPPER) {
			/* (-c counts it as the trap it would have been.) */
			if (a->seen_fn && v->stats.mmio == mmio)
				a->seen_fn(a->seen_ctx, insn, patched);
			a->st.trappers++;
			plain = 0;
		} else {
			plain++;
		}
		if (r != EMU_NEXT && r != EMU_JUMP)
			return;
	}
}
