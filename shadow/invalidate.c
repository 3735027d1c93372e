/*
 * Invalidation: a translation the guest's tables gave may have changed,
 * so the host mappings made from it must go.
 *
 * The hardware caches translations in its TLB and leaves it to the guest
 * to say when one is stale: invlpg for a page, a cr3 load or a change of
 * paging mode for all.  Our host mappings are that TLB, and a stricter
 * one.  Every frame that serves as a page table is write-protected
 * (rights.c), so a guest store to an entry faults; the monitor emulates
 * it and calls shadow_phys_written, and we drop exactly the mappings that
 * the entry's use records (records.c) say it translated, in the active
 * space.  A cached space whose tables change is dropped whole.  invlpg,
 * shadow_flush (CR0, CR4 or EFER changed) and shadow_reset (the paging
 * mode did) come here as well.
 */
#include "shadow-internal.h"

/* Drop a space's mappings overlapping [lo, hi), and the uses of the
 * tables reached through the changed entry: those in [lo, hi) whose
 * entries span less than its 1 << shift. */
static void space_invalidate(struct shadow *s, uint32_t space, uint64_t lo,
			     uint64_t hi, unsigned shift)
{
	struct space *sp = &s->spaces[space];
	struct run r = { 0, 0 };
	uint32_t i, next;

	s->st.invalidations++;
	/* (hi is 0 for a range that ends at the top of the address
	 * space: sizes and last bytes are computed modulo 2^64.) */
	if (hi - lo <= BLOCK_SIZE) {
		uint64_t a, n;

		i = shadow_map_find(s, space, lo);
		if (i != NIL && map_is_large(&s->maps[i]))
			shadow_map_drop(s, i, &r);
		for (a = lo, n = (hi - lo) / SHADOW_PAGE; n--;
		     a += SHADOW_PAGE) {
			i = shadow_map_find(s, space, a);
			if (i != NIL)
				shadow_map_drop(s, i, &r);
		}
	} else {
		for (i = sp->maps; i != NIL; i = next) {
			struct mapping *m = &s->maps[i];

			next = m->space_next;
			if (m->gva <= hi - 1 && m->gva + m->len - 1 >= lo)
				shadow_map_drop(s, i, &r);
		}
	}
	shadow_run_flush(s, &r);
	for (i = sp->uses; i != NIL; i = next) {
		struct use *u = &s->uses[i];

		next = u->space_next;
		if (u->entry_shift < shift && u->gva_base - lo < hi - lo)
			shadow_use_release(s, i);
	}
}

#define MAX_HITS 64

void shadow_phys_written(struct shadow *s, uint64_t gpa, uint64_t len)
{
	uint64_t end = gpa + len, f;

	s->generation++;
	s->last_dropped = 0;
	if (!len || gpa >= s->cfg.ram_size)
		return;
	if (end > s->cfg.ram_size)
		end = s->cfg.ram_size;
	for (f = frame_of(gpa); f <= frame_of(end - 1); f++) {
		struct { uint32_t space; uint64_t lo, hi; uint8_t shift; }
			hit[MAX_HITS];
		unsigned nhit = 0, k;
		uint32_t i;

		if (!s->pt_refs[f])
			continue;
		s->st.pt_writes++;
		for (i = s->use_hash[shadow_use_bucket(s, f << 12)]; i != NIL;
		     i = s->uses[i].hash_next) {
			struct use *u = &s->uses[i];
			uint64_t tend = u->table_gpa +
					(uint64_t)u->entries * u->entry_size;
			uint64_t a = gpa > u->table_gpa ? gpa : u->table_gpa;
			uint64_t b = end < tend ? end : tend;
			uint64_t first, last;

			if (frame_of(u->table_gpa) != f || a >= b)
				continue;
			first = (a - u->table_gpa) / u->entry_size;
			last = (b - 1 - u->table_gpa) / u->entry_size;
			if (nhit == MAX_HITS) {
				shadow_flush(s);
				return;
			}
			hit[nhit++] = (typeof(hit[0])){
				u->space, u->gva_base + (first << u->entry_shift),
				u->gva_base + ((last + 1) << u->entry_shift),
				u->entry_shift };
		}
		for (k = 0; k < nhit; k++) {
			if (!s->spaces[hit[k].space].in_use)
				continue;
			if (hit[k].space == s->active)
				space_invalidate(s, hit[k].space, hit[k].lo,
						 hit[k].hi, hit[k].shift);
			else
				/* A cached space whose tables change is not
				 * worth tracking entry by entry: drop it. */
				shadow_space_free(s, hit[k].space);
		}
	}
}

void shadow_invlpg(struct shadow *s, uint64_t gva)
{
	struct run r = { 0, 0 };
	uint32_t i;

	s->generation++;
	s->last_dropped = 0;
	if (s->active == NIL)
		return;
	while ((i = shadow_map_find(s, s->active, gva)) != NIL)
		shadow_map_drop(s, i, &r);
	shadow_run_flush(s, &r);
}

void shadow_flush(struct shadow *s)
{
	uint32_t i;

	s->generation++;
	s->last_dropped = 0;
	for (i = 0; i < s->cfg.max_spaces; i++)
		if (s->spaces[i].in_use)
			shadow_space_clear(s, i);
}

void shadow_reset(struct shadow *s, const struct paging *pg)
{
	uint32_t i;

	s->generation++;
	s->last_dropped = 0;
	for (i = 0; i < s->cfg.max_spaces; i++)
		if (s->spaces[i].in_use)
			shadow_space_free(s, i);
	shadow_set_paging(s, pg);
	shadow_activate(s, shadow_root_of(pg));
}
