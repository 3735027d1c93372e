/*
 * The translator's cache (see translate.h): its region, the records that
 * map host code back to guest instructions, the entries that map guest
 * instructions to host code, and the frames the code came from.
 *
 * A translation stays right while two things hold: the guest's code
 * bytes are what they were, and the guest addresses it was made for
 * still map those bytes.  The first is the shadow MMU's to watch: every
 * frame with translations is a code page, never writable in the host, so
 * a store to it faults before it lands (tc_code_written then drops the
 * translations).  The second is checked whenever the guest's mappings
 * may have changed (the shadow's generation moved: a cr3 load, invlpg, a
 * store to a page table): each page the cache translated from is walked
 * again, and if one maps elsewhere now, everything is dropped.  Links and
 * the guesses at indirect branches jump from block to block without
 * looking, so nothing less would do; kernels map their code alike in
 * every address space, so it is rare.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "cpu/decode.h"
#include "cpu/gmem.h"
#include "dev/mmio.h"
#include "cpu/vcpu.h"
#include "engine/tc-internal.h"
#include "host/hostcpu.h"

/* ---- entries --------------------------------------------------------- */

static unsigned entry_hash(uint64_t gva)
{
	return (unsigned)((gva * 0x9e3779b97f4a7c15ull) >> 47) &
	       (TR_ENTRY_SLOTS - 1);
}

static struct tc_entry *entry_slot(struct translator *tr, uint64_t gva,
				   uint64_t gpa, unsigned key)
{
	unsigned i = entry_hash(gva);

	while (tr->entries[i].gva_plus1 &&
	       (tr->entries[i].gva_plus1 != gva + 1 ||
		tr->entries[i].gpa != gpa || tr->entries[i].key != key))
		i = (i + 1) & (TR_ENTRY_SLOTS - 1);
	return &tr->entries[i];
}

uint8_t *tc_entry_find(struct translator *tr, uint64_t gva, uint64_t gpa,
		       unsigned key)
{
	struct tc_entry *en = entry_slot(tr, gva, gpa, key);

	tr->st.lookups++;
	return en->gva_plus1 ? tr->code + en->host : NULL;
}

void tc_entry_add(struct translator *tr, uint64_t gva, uint64_t gpa,
		  unsigned key, uint32_t host)
{
	struct tc_entry *en = entry_slot(tr, gva, gpa, key);

	if (en->gva_plus1)
		return;
	*en = (struct tc_entry){ gva + 1, gpa, host, (uint8_t)key };
	tr->nentries++;
}

/* ---- frames ----------------------------------------------------------- */

static struct tc_frame_code *frame_find(struct translator *tr, uint64_t f,
					uint64_t page)
{
	unsigned i;

	for (i = 0; i < tr->nframes; i++)
		if (tr->frames[i].frame_plus1 == f + 1 &&
		    tr->frames[i].page == page)
			return &tr->frames[i];
	return NULL;
}

/* Note that the cache holds [gpa, gpa + len) of guest code, translated
 * at guest page `page` (within one frame).  False when the frame table
 * is full (the caller flushes). */
bool tc_frame_note(struct translator *tr, uint64_t page, uint64_t gpa,
		   unsigned len)
{
	uint64_t f = gpa >> 12;
	struct tc_frame_code *fc = frame_find(tr, f, page);
	unsigned off = gpa & 4095, i;

	if (!fc) {
		if (tr->nframes == TR_MAX_FRAMES)
			return false;
		fc = &tr->frames[tr->nframes++];
		memset(fc, 0, sizeof(*fc));
		fc->frame_plus1 = f + 1;
		fc->page = page;
		shadow_code_ready(tr->cpu->mem.mmu, gpa);
	}
	for (i = off; i < off + len && i < 4096; i++)
		fc->code[i / 8] |= (uint8_t)(1u << (i % 8));
	return true;
}

bool tc_write_touches_code(const struct translator *tr, uint64_t gpa,
			   uint64_t len)
{
	uint64_t f = gpa >> 12, off = gpa & 4095, i;
	unsigned k;

	for (k = 0; k < tr->nframes; k++) {
		const struct tc_frame_code *fc = &tr->frames[k];

		if (fc->frame_plus1 != f + 1)
			continue;
		for (i = off; i < off + len && i < 4096; i++)
			if (fc->code[i / 8] & (1u << (i % 8)))
				return true;
	}
	return false;
}

void tc_code_written(struct translator *tr, uint64_t gpa, uint64_t len)
{
	uint64_t p;

	for (p = gpa & ~4095ull; p < gpa + len; p += 4096) {
		uint64_t lo = p > gpa ? p : gpa;
		uint64_t hi = p + 4096 < gpa + len ? p + 4096 : gpa + len;

		if (tc_write_touches_code(tr, lo, hi - lo)) {
			tr->st.invalidations++;
			tc_flush(tr);
			return;
		}
	}
}

/* ---- sites that trap --------------------------------------------------- */

static struct tc_site *site_slot(const struct translator *tr, uint64_t gva,
				 unsigned key)
{
	unsigned i = (unsigned)((gva * 0x9e3779b97f4a7c15ull) >> 52) &
		     (TR_SITES - 1);

	while (tr->sites[i].gva_plus1 &&
	       (tr->sites[i].gva_plus1 != gva + 1 || tr->sites[i].key != key))
		i = (i + 1) & (TR_SITES - 1);
	return &tr->sites[i];
}

const struct tc_site *tc_site_callout(const struct translator *tr,
				      uint64_t gva)
{
	const struct tc_site *s = site_slot(tr, gva, tc_key(tr->cpu));

	return s->gva_plus1 && s->traps >= TR_SITE_HOT ? s : NULL;
}

/* A hot site that loads a device register: fixed (dev/mmio.h)? */
static void note_fold(struct translator *tr, struct tc_site *s, uint64_t addr)
{
	struct vcpu *v = tr->cpu;
	uint8_t bytes[INSN_MAX];
	uint32_t err;
	size_t n = gmem_fetch(v, s->gva_plus1 - 1, bytes, sizeof(bytes), &err);
	const cs_insn *insn = n ? decode(v->dec, vcpu_mode(v),
					 s->gva_plus1 - 1, bytes, n) : NULL;
	const cs_x86 *x = insn ? &insn->detail->x86 : NULL;
	uint64_t val, gpa;

	if (!x || insn->id != X86_INS_MOV || x->op_count != 2 ||
	    x->operands[0].type != X86_OP_REG || x->operands[0].size != 4 ||
	    x->operands[1].type != X86_OP_MEM || x->operands[1].size != 4 ||
	    !gmem_fixed_at(v, addr, 4, &val, &gpa))
		return;
	s->fold = true;
	s->val = (uint32_t)val;
	s->addr = addr;
	s->gpa = gpa;
	tr->nfolds++;
	tr->mmio_gen = v->mem.mmio->gen;
	tr->st.folds++;
}

void tc_check_folds(struct translator *tr)
{
	bool changed = false;
	unsigned i;

	tr->mmio_gen = tr->cpu->mem.mmio->gen;
	if (!tr->nfolds)
		return;
	for (i = 0; i < TR_SITES; i++) {
		struct tc_site *s = &tr->sites[i];
		uint64_t val, gpa;

		if (!s->fold)
			continue;
		if (!gmem_fixed_at(tr->cpu, s->addr, 4, &val, &gpa) ||
		    val != s->val || gpa != s->gpa) {
			s->fold = false;
			tr->nfolds--;
			changed = true;
		}
	}
	if (changed)
		tc_flush(tr);
}

bool tc_site_upper(const struct translator *tr, uint64_t gva)
{
	const struct tc_site *s = site_slot(tr, gva, tc_key(tr->cpu));

	return s->gva_plus1 && s->upper;
}

/* The site of the instruction of the last trap in the cache (an
 * ordinary copy), made if need be; NULL if none. */
static struct tc_site *left_site(struct translator *tr)
{
	const struct tc_rec *r;
	struct tc_site *s;

	if (tr->left_rec == TR_REC_HERE)
		return NULL;
	r = &tr->recs[tr->left_rec];
	tr->left_rec = TR_REC_HERE;
	if ((r->kind != TK_INSN && r->kind != TK_INDIRECT &&
	     r->kind != TK_CALL) || tr->nsites >= TR_SITES / 2)
		return NULL;
	s = site_slot(tr, r->guest, tc_key(tr->cpu));
	if (!s->gva_plus1) {
		memset(s, 0, sizeof(*s));
		s->gva_plus1 = r->guest + 1;
		s->key = (uint8_t)tc_key(tr->cpu);
		tr->nsites++;
	}
	return s;
}

bool tc_native_upper(struct translator *tr)
{
	struct tc_site *s;

	if (!tr->upper || !(s = left_site(tr)) || s->upper)
		return false;
	s->upper = true;
	tr->st.upper_sites++;
	tc_flush(tr);
	return true;
}

void tc_set_upper(struct translator *tr, const uint64_t *table)
{
	tr->upper = table;
}

void tc_emulated(struct translator *tr, uint64_t addr)
{
	struct tc_site *s;

	if (!(s = left_site(tr)))
		return;
	/* Hot: every translation goes, and the next is a callout there. */
	if (++s->traps == TR_SITE_HOT) {
		note_fold(tr, s, addr);
		tr->st.hot_sites++;
		tc_flush(tr);
	}
}

/* ---- the indirect branches' hash table ----------------------------- */

/* Empty entries send a lookup that matches them by chance to the miss. */
static void clear_hash(struct translator *tr)
{
	unsigned i;

	for (i = 0; i < TR_HASH_ENTRIES; i++)
		tr->hash[i] = (struct tc_hash){ 0, (uint64_t)tr->code +
						   tr->trampoline };
}

void tc_hash_add(struct translator *tr, uint64_t gva, uint32_t host)
{
	uint64_t k = gva + ((uint64_t)tc_key(tr->cpu) << 57);

	tr->hash[k & (TR_HASH_ENTRIES - 1)] =
		(struct tc_hash){ -(k + 1), (uint64_t)tr->code + host };
}

/* ---- life -------------------------------------------------------------- */

void tc_flush(struct translator *tr)
{
	unsigned i;

	for (i = 0; i < tr->nframes; i++)
		shadow_code_dirty(tr->cpu->mem.mmu,
				  (tr->frames[i].frame_plus1 - 1) << 12);
	tr->nframes = 0;
	tr->nrecs = 0;
	tr->used = tr->body;
	memset(tr->entries, 0, TR_ENTRY_SLOTS * sizeof(tr->entries[0]));
	tr->nentries = 0;
	clear_hash(tr);
	tr->gen = shadow_generation(tr->cpu->mem.mmu);
	tr->st.flushes++;
}

/* Does every page translated from still map the frame it did? */
static bool pages_hold(struct translator *tr)
{
	struct paging pg;
	struct walk w;
	unsigned i;

	vcpu_paging(tr->cpu, &pg);
	pg.cpl = 0;                /* kernel code: walked with its rights */
	for (i = 0; i < tr->nframes; i++) {
		const struct tc_frame_code *fc = &tr->frames[i];

		if (shadow_walk(tr->cpu->mem.mmu, &pg, fc->page,
				ACC_EXEC | ACC_PEEK, &w) != WALK_OK ||
		    w.gpa >> 12 != fc->frame_plus1 - 1)
			return false;
	}
	return true;
}

void tc_check_fresh(struct translator *tr)
{
	uint64_t gen = shadow_generation(tr->cpu->mem.mmu);

	if (gen == tr->gen)
		return;
	if (tr->nframes && !pages_hold(tr))
		tc_flush(tr);
	tc_check_folds(tr);
	tr->gen = shadow_generation(tr->cpu->mem.mmu);
}

void tc_set_guard(struct translator *tr, bool ro)
{
	if (ro == tr->guard_ro)
		return;
	mprotect(tr->guard, TR_GUARD_BYTES,
		 ro ? PROT_READ : PROT_READ | PROT_WRITE);
	tr->guard_ro = ro;
}

void tc_close(struct translator *tr, bool closed)
{
	if (tr->closed == closed)
		return;
	tr->closed = closed;
	mprotect(tr->code + tr->body, TR_CODE_BYTES - tr->body,
		 closed ? PROT_NONE : PROT_READ | PROT_WRITE | PROT_EXEC);
}

uint64_t tc_host_end(void)
{
	return TR_BASE + TR_REGION_BYTES;
}

/* The monitor is about to store to guest RAM (a watcher of gmem.h). */
static void will_write(void *ctx, uint64_t gpa, uint64_t len)
{
	tc_code_written(ctx, gpa, len);
}

static const char *cannot_translate(const struct vcpu *v)
{
	if (!v->host->fsgsbase)
		return "the host CPU has no FSGSBASE (the trampoline needs it)";
	return NULL;
}

/* How a callout keeps the guest's vector registers: XSAVE where the host
 * kernel enabled it (XSAVEOPT, which skips what did not change, where
 * there is one), else FXSAVE.  False when the state would not fit. */
static bool choose_save(struct translator *tr)
{
	uint32_t r[4];

	hostcpu_cpuid(1, 0, r);
	if (!(r[2] & (1u << 27))) {            /* OSXSAVE */
		tr->save = TR_FXSAVE;
		return true;
	}
	hostcpu_cpuid(0xd, 0, r);
	if (r[1] > TR_XSAVE_BYTES)
		return false;
	hostcpu_cpuid(0xd, 1, r);
	tr->save = (r[0] & 1) ? TR_XSAVEOPT : TR_XSAVE;
	return true;
}

/* tests/guests/paging.c jumps here from guest user mode. */
_Static_assert(TR_BASE + TR_STATE_BYTES + TR_GUARD_BYTES + TR_XSAVE_BYTES +
		       TR_HASH_BYTES + TR_STACK_BYTES == 0x400400152000ull,
	       "the code's address, which tests/guests/paging.c names");

struct translator *tc_create(struct vcpu *v, tc_handler_fn handler,
			     const char **why)
{
	struct translator *tr;
	struct tc_emitter e;
	uint8_t *region;

	if ((*why = cannot_translate(v)))
		return NULL;
	region = mmap((void *)TR_BASE, TR_REGION_BYTES,
		      PROT_READ | PROT_WRITE | PROT_EXEC,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (region != MAP_FAILED && region != (void *)TR_BASE) {
		munmap(region, TR_REGION_BYTES);
		region = MAP_FAILED;
	}
	tr = calloc(1, sizeof(*tr));
	if (region == MAP_FAILED || !tr ||
	    !(tr->recs = calloc(TR_MAX_RECS, sizeof(tr->recs[0]))) ||
	    !(tr->entries = calloc(TR_ENTRY_SLOTS, sizeof(tr->entries[0]))) ||
	    !(tr->frames = calloc(TR_MAX_FRAMES, sizeof(tr->frames[0]))) ||
	    !(tr->sites = calloc(TR_SITES, sizeof(tr->sites[0])))) {
		if (region != MAP_FAILED)
			munmap(region, TR_REGION_BYTES);
		if (tr) {
			free(tr->recs);
			free(tr->entries);
			free(tr->frames);
		}
		free(tr);
		*why = region == MAP_FAILED ? "its address range is taken"
					    : "out of memory";
		return NULL;
	}
	tr->cpu = v;
	tr->left_rec = TR_REC_HERE;
	tr->region = region;
	tr->xs = (struct tc_state *)region;
	tr->guard = region + TR_STATE_BYTES;
	tr->xsave = tr->guard + TR_GUARD_BYTES;
	tr->hash = (struct tc_hash *)(tr->xsave + TR_XSAVE_BYTES);
	tr->code = (uint8_t *)tr->hash + TR_HASH_BYTES + TR_STACK_BYTES;
	tr->xs->monitor_rsp = (uint64_t)tr->code;     /* the stack's top */
	tr->xs->handler = (uint64_t)handler;
	mprotect(tr->xsave, TR_XSAVE_BYTES + TR_HASH_BYTES + TR_STACK_BYTES,
		 PROT_READ | PROT_WRITE);
	tr->xs->monitor_mxcsr = 0x1f80;            /* the ABI's default */
	if (!choose_save(tr)) {
		tc_destroy(tr);
		*why = "the host's vector state is larger than the room for it";
		return NULL;
	}
	tr->synth = cs_malloc(decoder_handle(v->dec, MODE_LONG64));
	{
		uint32_t r[4];

		hostcpu_cpuid(0x80000001, 0, r);
		tr->sahf = r[2] & 1;           /* LAHF-SAHF in 64-bit mode */
	}
	e = (struct tc_emitter){ tr, tr->code };
	tc_emit_trampoline(&e);
	tr->trampoline = 0;
	tr->here = (uint32_t)(e.p - tr->code);
	tc_put_callout(&e, TR_REC_HERE);
	tr->lookup = (uint32_t)(e.p - tr->code);
	tc_emit_lookup(&e);
	/* Blocks start on a page of their own after a hole, so that their
	 * mapping never merges with the trampoline's: tc_close then only
	 * changes its rights, no split or merge (half the cost). */
	tr->stubs_end = (uint32_t)(e.p - tr->code);
	while ((e.p - tr->code) & 4095)
		tc_put8(&e, 0xcc);
	munmap(e.p, 4096);
	tr->body = tr->used = (uint32_t)(e.p + 4096 - tr->code);
	clear_hash(tr);
	tr->gen = shadow_generation(v->mem.mmu);
	if (gmem_watch_writes(&v->mem, will_write, tr)) {
		tc_destroy(tr);
		*why = "no room to watch guest memory";
		return NULL;
	}
	return tr;
}

void tc_destroy(struct translator *tr)
{
	if (!tr)
		return;
	munmap(tr->region, TR_REGION_BYTES);
	if (tr->synth)
		cs_free(tr->synth, 1);
	free(tr->recs);
	free(tr->entries);
	free(tr->frames);
	free(tr->sites);
	free(tr);
}

void tc_get_stats(const struct translator *tr, struct tc_stats *st)
{
	if (tr)
		*st = tr->st;
	else
		memset(st, 0, sizeof(*st));
}
