/*
 * The privilege switch: the guest's kernel enters or leaves user mode.
 *
 * On real hardware nothing happens to the TLB: each entry carries its
 * U/S bit and the CPU checks it against the CPL at every access.  The
 * host has no such bit for us.  The guest's kernel and its user code run
 * at the same host privilege, against the same host mappings, so a
 * supervisor page mapped for the kernel would be open to user code, and
 * the host's rights must change at every switch instead.  Only the modal
 * mappings' rights differ between the modes (modal.c), so only they are
 * visited, in address order, neighbours sharing one host call; the rest
 * of the space is left alone however large it is.  With SMAP, flipping
 * RFLAGS.AC at CPL 0 is such a switch too.
 */
#include "shadow-internal.h"

/*
 * Give a run of modal mappings the rights prot.  A 4 KiB mapping has one
 * host PTE, so an mprotect costs what its record does.  A larger one (a
 * guest's 2 MiB page, say a kernel's map of all RAM) may have hundreds
 * present, and mprotect would rewrite every one of them at every switch,
 * however few the guest used since the last.  Such runs are mapped afresh
 * instead (dropped when prot is 0): the host then only clears the PTEs
 * touched since the last switch, and faults pages back in, without a
 * signal, when the guest uses them again.
 */
static void set_run_prot(struct shadow *s, const struct mapping *m,
			 uint64_t len, int prot)
{
	if (!map_is_large(m)) {
		host(s, OPS(s)->protect(OPS(s)->ctx, m->gva, len, prot));
		s->st.protects++;
	} else if (prot) {
		host(s, OPS(s)->map(OPS(s)->ctx, m->gva, m->gpa, len, prot));
		s->st.maps++;
	} else {
		host(s, OPS(s)->unmap(OPS(s)->ctx, m->gva, len));
		s->st.unmaps++;
	}
}

/*
 * A run of 4 KiB modal mappings from i: neighbours whose frames get the
 * same final rights, page tables and scanned code included, share one
 * mprotect; a run where every page already has them costs nothing.  So a
 * kernel's code pages, or its tables, cost one call per stretch on every
 * switch instead of one each.  Records the rights and says in *len, *prot
 * and *stale what the host must do; returns the first mapping after it.
 */
static uint32_t small_run(struct shadow *s, uint32_t i, uint64_t *len,
			  int *prot, bool *stale)
{
	const struct mapping *m = &s->maps[i];
	int p = frame_prot(s, mapping_prot(s, m), frame_of(m->gpa));
	uint32_t j, k;

	*len = SHADOW_PAGE;
	*stale = m->prot != p;
	for (j = m->mode_next; j != NIL; j = s->maps[j].mode_next) {
		const struct mapping *o = &s->maps[j];

		if (map_is_large(o) || o->gva != m->gva + *len ||
		    frame_prot(s, mapping_prot(s, o), frame_of(o->gpa)) != p)
			break;
		*stale |= o->prot != p;
		*len += SHADOW_PAGE;
	}
	for (k = i; k != j; k = s->maps[k].mode_next)
		s->maps[k].prot = (uint8_t)p;
	*prot = p;
	return j;
}

/*
 * A run of large modal mappings from i: contiguous in guest-virtual space
 * and in guest RAM (one mmap), with the same rights for their ordinary
 * frames.  Tables and code among their frames get theirs afterwards
 * (fix_run_specials), so a run that holds any is stale.  Records and says
 * what small_run does.
 */
static uint32_t large_run(struct shadow *s, uint32_t i, uint64_t *len,
			  int *prot, bool *stale)
{
	const struct mapping *m = &s->maps[i];
	int base = plain_prot(s, mapping_prot(s, m));
	uint32_t j, k;

	*len = m->len;
	*stale = base != m->prot ||
		 shadow_has_special_frames(s, m->gpa, m->len);
	for (j = m->mode_next; j != NIL; j = s->maps[j].mode_next) {
		const struct mapping *o = &s->maps[j];

		if (o->gva != m->gva + *len || !map_is_large(o) ||
		    o->gpa != m->gpa + *len ||
		    plain_prot(s, mapping_prot(s, o)) != base)
			break;
		*stale |= o->prot != base ||
			  shadow_has_special_frames(s, o->gpa, o->len);
		*len += o->len;
	}
	for (k = i; k != j; k = s->maps[k].mode_next)
		s->maps[k].prot = (uint8_t)base;
	*prot = base;
	return j;
}

/* The large run [i, j) got its rights in one call: now give the table and
 * code frames inside it their narrower ones. */
static void fix_run_specials(struct shadow *s, uint32_t i, uint32_t j)
{
	for (; i != j; i = s->maps[i].mode_next) {
		const struct mapping *o = &s->maps[i];

		shadow_fix_special_frames(s, o, mapping_prot(s, o));
	}
}

/*
 * Runs that lose every right (a kernel's mappings on the way to user mode)
 * are gathered into one span and closed with a single mprotect, across
 * the holes between them, as long as no mapping off the modal list can lie
 * in a hole (the space's plain bounds say where one might).  The holes are
 * the window's PROT_NONE reserve, so closing them again changes nothing.
 * A large mapping so closed keeps its host VMA and PTEs until its next
 * switch maps it afresh.
 */
struct sweep {
	uint64_t lo, hi;
	bool stale;
};

static void sweep_flush(struct shadow *s, struct sweep *w)
{
	if (w->hi > w->lo && w->stale) {
		host(s, OPS(s)->protect(OPS(s)->ctx, w->lo, w->hi - w->lo, 0));
		s->st.protects++;
	}
	w->lo = w->hi = 0;
	w->stale = false;
}

/* Might a mapping off the modal list lie in [a, b)? */
static bool plain_within(const struct space *sp, uint64_t a, uint64_t b)
{
	return sp->plain_lo < sp->plain_hi && a < sp->plain_hi &&
	       sp->plain_lo < b;
}

/* Add [lo, lo + len), above the span, to it; if the hole between them
 * might hold a plain mapping, close the span first and start anew. */
static void sweep_add(struct shadow *s, const struct space *sp,
		      struct sweep *w, uint64_t lo, uint64_t len, bool stale)
{
	if (w->hi > w->lo && (lo < w->hi || plain_within(sp, w->hi, lo)))
		sweep_flush(s, w);
	if (w->hi <= w->lo)
		w->lo = lo;
	w->hi = range_end(lo, len);
	w->stale |= stale;
}

/*
 * Entering or leaving user mode (or, with SMAP, flipping RFLAGS.AC)
 * changes the host rights of the modal mappings only.  They are visited
 * in address order, and runs of neighbours that get the same rights share
 * one host call (set_run_prot), so the cost is one step per modal mapping
 * and one call per run, whatever the number of other mappings.  The trap
 * path calls this: it allocates nothing (the sort, when needed, is in
 * place in the preallocated scratch array).
 */
void shadow_set_cpl(struct shadow *s, const struct paging *pg)
{
	bool was_user = s->pg.cpl == 3, user = pg->cpl == 3;
	bool ac_matters = (pg->cr4 & CR4_SMAP) && pg->ac != s->pg.ac;
	struct sweep w = { 0, 0, false };
	struct space *sp;
	uint32_t i, j;

	shadow_set_paging(s, pg);
	if ((was_user == user && !ac_matters) || s->active == NIL)
		return;
	sp = &s->spaces[s->active];
	if (sp->modal_unsorted)
		shadow_modal_sort(s, s->active);
	for (i = sp->modal; i != NIL; i = j) {
		const struct mapping *m = &s->maps[i];
		bool large = map_is_large(m);
		uint64_t len;
		bool stale;
		int p;

		j = large ? large_run(s, i, &len, &p, &stale)
			  : small_run(s, i, &len, &p, &stale);
		if (p == 0) {
			sweep_add(s, sp, &w, m->gva, len, stale);
			continue;
		}
		sweep_flush(s, &w);     /* no span across this run */
		if (!stale)
			continue;
		set_run_prot(s, m, len, p);
		if (large)
			fix_run_specials(s, i, j);
	}
	sweep_flush(s, &w);
}
