/*
 * Spaces and the cr3 cache: one shadow per guest address space.
 *
 * When the guest loads cr3 it names another set of page tables, and every
 * host mapping we made from the old ones is wrong at once.  The host
 * process has a single address space, so only one guest space can be
 * live in it: we unmap the old one's mappings in one call (its records
 * know their bounds) and the new one starts empty, to fill fault by
 * fault.  With the cache on, the records of the space we leave are kept
 * (up to max_spaces, the least recently used evicted first), so that
 * switching back to a process re-creates its mappings with one host call
 * per contiguous run instead of one fault per page.  A cached space whose
 * tables the guest changes is simply dropped (invalidate.c).
 */
#include "shadow-internal.h"

/* A space is named by the address of its root table: cr3 without the
 * low bits (PWT, PCD, a PCID), which choose no table. */
uint64_t shadow_root_of(const struct paging *pg)
{
	switch (paging_mode_of(pg)) {
	case PG_4LEVEL:
		return pg->cr3 & PTE_ADDR;
	case PG_PAE:
		return pg->cr3 & 0xffffffe0ull;
	case PG_32:
		return pg->cr3 & 0xfffff000ull;
	default:
		return 1; /* paging off: one space, linear = physical */
	}
}

void shadow_space_unmap(struct shadow *s, uint32_t space)
{
	struct space *sp = &s->spaces[space];

	if (sp->hi > sp->lo) {
		host(s, OPS(s)->unmap(OPS(s)->ctx, sp->lo, sp->hi - sp->lo));
		s->st.unmaps++;
	}
	if (sp->uhi > sp->ulo) {
		host(s, OPS(s)->unmap(OPS(s)->ctx, sp->ulo, sp->uhi - sp->ulo));
		s->st.unmaps++;
	}
}

/* Forget every record of a space; unmap what is live. */
void shadow_space_clear(struct shadow *s, uint32_t space)
{
	struct space *sp = &s->spaces[space];

	if (space == s->active && sp->nmaps)
		shadow_space_unmap(s, space);
	while (sp->maps != NIL) {
		s->last_dropped += s->maps[sp->maps].len / SHADOW_PAGE;
		shadow_map_release(s, sp->maps);
	}
	while (sp->uses != NIL)
		shadow_use_release(s, sp->uses);
	sp->lo = sp->hi = sp->ulo = sp->uhi = 0;
	sp->plain_lo = sp->plain_hi = 0;
}

void shadow_space_free(struct shadow *s, uint32_t space)
{
	shadow_space_clear(s, space);
	s->spaces[space].in_use = false;
	if (s->active == space)
		s->active = NIL;
}

static uint32_t space_find(const struct shadow *s, uint64_t root)
{
	uint32_t i;

	for (i = 0; i < s->cfg.max_spaces; i++)
		if (s->spaces[i].in_use && s->spaces[i].cr3 == root)
			return i;
	return NIL;
}

/* A free slot, evicting the least recently active inactive space. */
static uint32_t space_slot(struct shadow *s)
{
	uint32_t i, victim = NIL;

	for (i = 0; i < s->cfg.max_spaces; i++) {
		if (!s->spaces[i].in_use)
			return i;
		if (i != s->active && (victim == NIL ||
				       s->spaces[i].lru < s->spaces[victim].lru))
			victim = i;
	}
	if (victim == NIL)
		victim = s->active;
	shadow_space_free(s, victim);
	return victim;
}

/* Re-create the host mappings of a cached space: contiguous runs with the
 * same rights go in one call. */
static void space_reapply(struct shadow *s, uint32_t space)
{
	size_t n = shadow_sorted_maps(s, space), i, j;

	for (i = 0; i < n; i = j) {
		struct mapping *m = &s->maps[s->scratch[i]];
		int base = plain_prot(s, mapping_prot(s, m));
		uint64_t len = m->len;

		for (j = i + 1; j < n; j++) {
			struct mapping *o = &s->maps[s->scratch[j]];

			if (o->gva != m->gva + len || o->gpa != m->gpa + len ||
			    plain_prot(s, mapping_prot(s, o)) != base)
				break;
			len += o->len;
		}
		host(s, OPS(s)->map(OPS(s)->ctx, m->gva, m->gpa, len, base));
		s->st.maps++;
		for (; i < j; i++) {
			struct mapping *o = &s->maps[s->scratch[i]];

			o->prot = base;
			shadow_fix_special_frames(s, o, mapping_prot(s, o));
		}
	}
}

void shadow_activate(struct shadow *s, uint64_t root)
{
	uint32_t i = s->cfg.cache ? space_find(s, root) : NIL;

	if (i != NIL) {
		s->active = i;
		s->st.cache_hits++;
		space_reapply(s, i);
	} else {
		i = space_slot(s);
		s->spaces[i] = (struct space){ .cr3 = root, .in_use = true,
					       .maps = NIL, .uses = NIL,
					       .modal = NIL,
					       .modal_tail = NIL };
		s->active = i;
		s->st.cache_misses++;
	}
	s->spaces[i].lru = ++s->tick;
}

/* Leave the active space: its host mappings go, its records stay when the
 * cache is on. */
/*
 * Inactive spaces keep their records for their next activation, which
 * re-creates them all (space_reapply): past CACHED_MAPS_BUDGET records
 * among them, the least recently active go, but never `keep`, the one
 * just left.  (The pool may be far larger, for one space that maps much
 * page by page; the others must not fill it with mappings each switch
 * would redo: under --cpu=translate xv6's usertests took 125 s with a
 * pool of 147456 records and no budget, 34 s with 16384, 24 s so.)
 */
static void keep_within_budget(struct shadow *s, uint32_t keep)
{
	for (;;) {
		uint64_t total = 0;
		uint32_t i, victim = NIL;

		for (i = 0; i < s->cfg.max_spaces; i++) {
			const struct space *sp = &s->spaces[i];

			if (!sp->in_use || i == s->active)
				continue;
			total += sp->nmaps;
			if (i != keep && (victim == NIL ||
					  sp->lru < s->spaces[victim].lru))
				victim = i;
		}
		if (total <= CACHED_MAPS_BUDGET || victim == NIL)
			return;
		shadow_space_free(s, victim);
	}
}

static void deactivate(struct shadow *s)
{
	uint32_t a = s->active;
	struct space *sp;

	if (a == NIL)
		return;
	sp = &s->spaces[a];
	if (!s->cfg.cache) {
		shadow_space_free(s, a);
		return;
	}
	if (sp->nmaps)
		shadow_space_unmap(s, a);
	s->active = NIL;
	keep_within_budget(s, a);
}

void shadow_set_cr3(struct shadow *s, const struct paging *pg)
{
	uint64_t root = shadow_root_of(pg);

	s->generation++;
	shadow_set_paging(s, pg);
	if (s->active != NIL && s->spaces[s->active].cr3 == root)
		return;
	s->st.cr3_switches++;
	s->last_dropped = s->active != NIL ? s->spaces[s->active].nmaps : 0;
	deactivate(s);
	shadow_activate(s, root);
}
