/*
 * Faults: the guest touched a page that we have not mapped for it (yet).
 *
 * The backend turns a host fault inside the guest's window into a call to
 * shadow_fault.  We walk the guest's own page tables as its MMU would
 * (walk.c).  If they forbid the access, the guest gets its #PF.  If they
 * allow it, we make the host mapping they describe, with no more rights
 * than they give (rights.c), remember every table the walk read so that a
 * store to it will fault (records.c), map ahead the next pages the guest
 * has already used (fault-around), and let the access run again.  Where
 * the host's rights stay narrower than the guest's on purpose, the result
 * says why, so that the monitor can act and retry: a store to a page
 * table (emulate it), a store to scanned code (undo the scan), a fetch
 * from code not scanned yet (scan it).  This is the trap path: it
 * allocates nothing, every record comes from the pools.
 */
#include <string.h>

#include "shadow-internal.h"

/* Pool exhausted: give up cached spaces first, then the active one. */
static void make_room(struct shadow *s)
{
	uint32_t i;

	for (i = 0; i < s->cfg.max_spaces; i++)
		if (s->spaces[i].in_use && i != s->active)
			shadow_space_free(s, i);
	if (s->map_free == NIL || s->use_free == NIL)
		shadow_space_clear(s, s->active);
}

/* Can the host map gva for the guest? */
static bool mappable(const struct shadow *s, uint64_t gva)
{
	return (gva >= s->cfg.gva_floor && gva < s->cfg.gva_limit) ||
	       (s->cfg.upper && gva >= UPPER_HALF);
}

/* The stretch of one host mapping for a translation: inside the guest
 * page, its 2 MiB block, guest RAM and the window (in the upper half, a
 * block lies in one alias). */
static void chunk_of(const struct shadow *s, const struct walk *w,
		     uint64_t gva, uint64_t *lo, uint64_t *hi)
{
	uint64_t block = gva & ~(BLOCK_SIZE - 1);
	uint64_t ram_end_gva;

	*lo = w->page_base > block ? w->page_base : block;
	/* (At the top of the address space an end is 0: compared by last
	 * bytes.) */
	*hi = w->page_base + w->page_size;
	if (*hi - 1 > block + BLOCK_SIZE - 1)
		*hi = block + BLOCK_SIZE;
	if (gva < s->cfg.gva_limit) {
		if (*lo < s->cfg.gva_floor)
			*lo = s->cfg.gva_floor;
		if (*hi > s->cfg.gva_limit)
			*hi = s->cfg.gva_limit;
	}
	ram_end_gva = w->page_base + (s->cfg.ram_size - w->page_gpa);
	if (w->page_gpa + (*hi - w->page_base) > s->cfg.ram_size)
		*hi = ram_end_gva & ~(SHADOW_PAGE - 1);
}

static enum fault_result map_translation(struct shadow *s, uint64_t gva,
					 const struct walk *w)
{
	uint32_t i;
	unsigned t;
	uint64_t lo, hi;
	struct mapping *m;

	for (t = 0; t < w->ntables; t++)
		if (!shadow_use_add(s, s->active, &w->tables[t]))
			return FAULT_HOST_ERROR; /* caller makes room */
	i = shadow_map_find(s, s->active, gva);
	if (i != NIL) {
		m = &s->maps[i];
		m->dirty |= w->dirty;
		shadow_modal_update(s, i);
		if (m->len > SHADOW_PAGE)
			shadow_apply(s, m, false);
		shadow_refresh_page(s, m, gva);
		return FAULT_FIXED;
	}
	i = shadow_map_new(s, s->active);
	if (i == NIL)
		return FAULT_HOST_ERROR;
	chunk_of(s, w, gva, &lo, &hi);
	m = &s->maps[i];
	m->gva = lo;
	m->len = hi - lo;
	m->gpa = w->page_gpa + (lo - w->page_base);
	m->writable = w->writable;
	m->user = w->user;
	m->exec = w->exec;
	m->dirty = w->dirty;
	shadow_map_index(s, i);
	shadow_modal_update(s, i);
	shadow_apply(s, m, true);
	return FAULT_FIXED;
}

/*
 * Fault-around: after a fault maps a 4 KiB guest page, map the pages
 * after it in the same last-level table whose entries the guest has
 * already marked accessed, as Linux and the toy kernel do when they make
 * an entry for a page about to be used (and dirty, when it is writable).
 * No guest-visible bit changes: it is what a fault on each would do
 * later, minus the fault.  An entry without A, a supervisor one, or one
 * the current mode may not read, ends the stretch; so does an address
 * already mapped.
 * Neighbours with contiguous frames and the same rights go to the host in
 * one call.  Up to the whole 2 MiB block: the toy kernel maps a heap
 * fault's whole table at once, and its sieve's first pass went from 8
 * shadow faults to 1 (its 2 MiB prefault, 4.2 to 3.9 million cycles).
 */
#define FAULT_AROUND 512

static void fault_around(struct shadow *s, const struct paging *pg,
			 const struct walk *w)
{
	uint64_t a = w->page_base + SHADOW_PAGE;
	uint64_t end = (w->page_base & ~(BLOCK_SIZE - 1)) + BLOCK_SIZE;
	uint32_t idx[FAULT_AROUND];
	int prot[FAULT_AROUND];
	unsigned n = 0, i, j, k;

	/* User pages only: supervisor mappings are modal, and every one
	 * mapped ahead would cost each privilege switch a step (a kernel
	 * that touches one page of its map of RAM would pay for 64). */
	if (w->page_size != SHADOW_PAGE || !w->user)
		return;
	if (end > w->page_base + FAULT_AROUND * SHADOW_PAGE)
		end = w->page_base + FAULT_AROUND * SHADOW_PAGE;
	if (w->page_base < s->cfg.gva_limit && end > s->cfg.gva_limit)
		end = s->cfg.gva_limit;
	for (; a < end; a += SHADOW_PAGE) {
		struct walk nw;
		struct mapping *m;

		if (shadow_map_find(s, s->active, a) != NIL ||
		    shadow_walk(s, pg, a, ACC_READ | ACC_PEEK, &nw) != WALK_OK ||
		    !nw.accessed || !nw.user || nw.page_size != SHADOW_PAGE ||
		    s->map_free == NIL)
			break;
		idx[n] = shadow_map_new(s, s->active);
		m = &s->maps[idx[n]];
		m->gva = a;
		m->len = SHADOW_PAGE;
		m->gpa = nw.page_gpa;
		m->writable = nw.writable;
		m->user = nw.user;
		m->exec = nw.exec;
		m->dirty = nw.dirty;
		shadow_map_index(s, idx[n]);
		shadow_modal_update(s, idx[n]);
		prot[n] = frame_prot(s, mapping_prot(s, m), frame_of(m->gpa));
		n++;
	}
	for (i = 0; i < n; i = j) {
		const struct mapping *first = &s->maps[idx[i]];

		for (j = i + 1; j < n && prot[j] == prot[i] &&
		     s->maps[idx[j]].gpa == first->gpa + (j - i) * SHADOW_PAGE;
		     j++)
			;
		host(s, OPS(s)->map(OPS(s)->ctx, first->gva, first->gpa,
				    (j - i) * SHADOW_PAGE,
				    prot[i] | SHADOW_POPULATE));
		s->st.maps++;
		s->st.pages_around += j - i;
		for (k = i; k < j; k++)
			s->maps[idx[k]].prot = (uint8_t)prot[k];
	}
}

/*
 * Code on a user page that CPL 0 runs with CR4.SMAP set and RFLAGS.AC
 * clear (SMEP off): the guest may fetch it but may not read it, and the
 * host has no execute-only mapping without protection keys (PROT_EXEC
 * implies PROT_READ), so prot_in_mode maps it not at all and the fetch
 * is emulated instead.
 */
static bool fetch_only(const struct shadow *s, const struct walk *w,
		       unsigned access)
{
	return (access & 3) == ACC_EXEC && s->pg.cpl != 3 && w->user &&
	       (s->pg.cr4 & CR4_SMAP) && !s->pg.ac;
}

enum fault_result shadow_fault(struct shadow *s, const struct paging *pg,
			       uint64_t gva, unsigned access,
			       struct fault_info *fi)
{
	enum fault_result r;
	uint64_t f;
	int tries;

	memset(fi, 0, sizeof(*fi));
	s->last_dropped = 0;
	shadow_set_paging(s, pg);
	if (!mappable(s, gva))
		return FAULT_OUTSIDE;
	if (s->active == NIL)
		shadow_activate(s, shadow_root_of(pg));
	switch (shadow_walk(s, pg, gva, access, &fi->walk)) {
	case WALK_FAULT:
		fi->pf_err = fi->walk.pf_err;
		s->st.faults_guest++;
		return FAULT_GUEST_PF;
	case WALK_BAD_GPA:
		fi->gpa = fi->walk.gpa;
		return FAULT_BAD_GPA;
	case WALK_OK:
		break;
	}
	fi->gpa = fi->walk.gpa;
	for (tries = 0; tries < 2; tries++) {
		r = map_translation(s, gva, &fi->walk);
		if (r != FAULT_HOST_ERROR)
			break;
		make_room(s);
	}
	if (r != FAULT_FIXED || s->host_error) {
		s->host_error = false;
		return FAULT_HOST_ERROR;
	}
	fault_around(s, pg, &fi->walk);
	if (s->host_error) {
		s->host_error = false;
		return FAULT_HOST_ERROR;
	}
	f = frame_of(fi->gpa);
	if ((access & 3) == ACC_WRITE && s->pt_refs[f])
		return FAULT_PT_WRITE;
	if ((access & 3) == ACC_WRITE && (s->frame_flags[f] & FRAME_CODE_READY))
		return FAULT_CODE_WRITE;
	if (s->scanning && (access & 3) == ACC_EXEC &&
	    !(s->frame_flags[f] & FRAME_CODE_READY))
		return FAULT_EXEC_SCAN;
	if (fetch_only(s, &fi->walk, access))
		return FAULT_EMULATE;
	s->st.faults_fixed++;
	return FAULT_FIXED;
}
