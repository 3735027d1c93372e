/*
 * The shadow's records: what it remembers of each host mapping it made and
 * of each guest page table it read, so that it can take them back.
 *
 * When the guest changes an entry of its page tables, the host mappings
 * that came from it must go; but the host cannot tell us which of its
 * mappings came from which entry, so we keep our own books.  A mapping
 * record is found by its space and guest-virtual page (or 2 MiB block)
 * through one hash, and by the 2 MiB block of guest RAM behind it through
 * a reverse map, which rights.c walks when a frame changes duty.  A use
 * record says that a guest frame served one space as a page table, and
 * which stretch of guest-virtual space its entries translate.  While a
 * frame has a use it is never writable in the host, so a store to it
 * faults, and invalidate.c finds in its uses exactly which mappings the
 * store may have changed.
 *
 * Every record comes from a pool that shadow_create (shadow.c) made, and
 * lists are threaded through the pools by index: the fault path that
 * fills them in allocates nothing.
 */
#include <string.h>

#include "shadow-internal.h"

/* ---- hashes and lists ------------------------------------------------ */

static uint32_t hash64(uint64_t k, uint32_t size)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdull;
	k ^= k >> 33;
	return (uint32_t)(k & (size - 1));
}

/* A mapping is found by its space and its page (4 KiB mappings) or its
 * 2 MiB block (larger ones). */
static uint32_t map_bucket(const struct shadow *s, uint32_t space,
			   uint64_t gva, bool large)
{
	uint64_t unit = large ? gva >> BLOCK_SHIFT : gva >> 12;

	return hash64((unit << 17) ^ ((uint64_t)space << 1) ^ large,
		      s->map_hash_size);
}

/* Doubly linked lists threaded through a pool by index. */
#define LIST_PUSH(pool, head, idx, prev, next) do {			\
	(pool)[idx].prev = NIL;						\
	(pool)[idx].next = (head);					\
	if ((head) != NIL)						\
		(pool)[head].prev = (idx);				\
	(head) = (idx);							\
} while (0)

#define LIST_DEL(pool, head, idx, prev, next) do {			\
	uint32_t p_ = (pool)[idx].prev, n_ = (pool)[idx].next;		\
	if (p_ != NIL)							\
		(pool)[p_].next = n_;					\
	else								\
		(head) = n_;						\
	if (n_ != NIL)							\
		(pool)[n_].prev = p_;					\
} while (0)

/* ---- mapping records ------------------------------------------------- */

uint32_t shadow_map_find(const struct shadow *s, uint32_t space, uint64_t gva)
{
	int large;

	for (large = 1; large >= 0; large--) {
		uint32_t i = s->map_hash[map_bucket(s, space, gva, large)];

		for (; i != NIL; i = s->maps[i].hash_next) {
			const struct mapping *m = &s->maps[i];

			if (m->space == space && map_is_large(m) == large &&
			    gva - m->gva < m->len)
				return i;
		}
	}
	return NIL;
}

uint32_t shadow_map_new(struct shadow *s, uint32_t space)
{
	uint32_t i = s->map_free;
	struct space *sp = &s->spaces[space];

	if (i == NIL)
		return NIL;
	s->map_free = s->maps[i].space_next;
	memset(&s->maps[i], 0, sizeof(s->maps[i]));
	s->maps[i].space = space;
	s->maps[i].in_use = true;
	LIST_PUSH(s->maps, sp->maps, i, space_prev, space_next);
	sp->nmaps++;
	s->st.mappings++;
	return i;
}

/* Enter a filled-in record into the lookup structures. */
void shadow_map_index(struct shadow *s, uint32_t i)
{
	struct mapping *m = &s->maps[i];
	uint32_t b = map_bucket(s, m->space, m->gva, map_is_large(m));
	struct space *sp = &s->spaces[m->space];

	LIST_PUSH(s->maps, s->map_hash[b], i, hash_prev, hash_next);
	LIST_PUSH(s->maps, s->rmap[m->gpa >> BLOCK_SHIFT], i, rmap_prev,
		  rmap_next);
	if (m->gva < UPPER_HALF) {
		if (sp->hi <= sp->lo || m->gva < sp->lo)
			sp->lo = m->gva;
		if (m->gva + m->len > sp->hi)
			sp->hi = m->gva + m->len;
	} else {
		if (sp->uhi <= sp->ulo || m->gva < sp->ulo)
			sp->ulo = m->gva;
		if (range_end(m->gva, m->len) > sp->uhi)
			sp->uhi = range_end(m->gva, m->len);
	}
}

void shadow_map_release(struct shadow *s, uint32_t i)
{
	struct mapping *m = &s->maps[i];
	struct space *sp = &s->spaces[m->space];
	uint32_t b = map_bucket(s, m->space, m->gva, map_is_large(m));

	if (m->modal)
		shadow_modal_remove(s, i);
	LIST_DEL(s->maps, sp->maps, i, space_prev, space_next);
	LIST_DEL(s->maps, s->map_hash[b], i, hash_prev, hash_next);
	LIST_DEL(s->maps, s->rmap[m->gpa >> BLOCK_SHIFT], i, rmap_prev,
		 rmap_next);
	sp->nmaps--;
	s->st.mappings--;
	m->in_use = false;
	m->space_next = s->map_free;
	s->map_free = i;
}

/* ---- unmap runs ------------------------------------------------------ */

/* Dropped neighbours share one unmap call: a run gathers the live ones
 * while they follow one another in address order (struct run). */
void shadow_run_flush(struct shadow *s, struct run *r)
{
	if (r->hi > r->lo) {
		host(s, OPS(s)->unmap(OPS(s)->ctx, r->lo, r->hi - r->lo));
		s->st.unmaps++;
	}
	r->lo = r->hi = 0;
}

static void run_add(struct shadow *s, struct run *r, uint64_t gva,
		    uint64_t len)
{
	if (r->hi != gva || r->hi == r->lo)
		shadow_run_flush(s, r);
	if (r->hi == r->lo)
		r->lo = gva;
	r->hi = range_end(gva, len);
}

/* Drop a mapping record, and its host mapping if it is live. */
void shadow_map_drop(struct shadow *s, uint32_t i, struct run *r)
{
	struct mapping *m = &s->maps[i];

	if (m->space == s->active)
		run_add(s, r, m->gva, m->len);
	s->last_dropped += m->len / SHADOW_PAGE;
	s->st.pages_dropped += m->len / SHADOW_PAGE;
	shadow_map_release(s, i);
}

/* ---- page-table uses ------------------------------------------------- */

uint32_t shadow_use_bucket(const struct shadow *s, uint64_t table_gpa)
{
	return hash64(table_gpa >> 12, s->use_hash_size);
}

bool shadow_use_add(struct shadow *s, uint32_t space,
		    const struct walk_table *t)
{
	uint32_t b = shadow_use_bucket(s, t->gpa), i;
	uint64_t f = frame_of(t->gpa);
	struct space *sp = &s->spaces[space];
	struct use *u;
	bool was;

	for (i = s->use_hash[b]; i != NIL; i = s->uses[i].hash_next) {
		u = &s->uses[i];
		if (u->space == space && u->table_gpa == t->gpa &&
		    u->gva_base == t->gva_base &&
		    u->entry_shift == t->entry_shift)
			return true;
	}
	i = s->use_free;
	if (i == NIL)
		return false;
	s->use_free = s->uses[i].space_next;
	u = &s->uses[i];
	*u = (struct use){
		.table_gpa = t->gpa, .gva_base = t->gva_base, .space = space,
		.entries = t->entries, .entry_shift = t->entry_shift,
		.entry_size = t->entry_size, .in_use = true,
	};
	LIST_PUSH(s->uses, s->use_hash[b], i, hash_prev, hash_next);
	LIST_PUSH(s->uses, sp->uses, i, space_prev, space_next);
	was = frame_special(s, f);
	if (s->pt_refs[f]++ == 0)
		s->st.tables++;
	shadow_refresh_frame(s, f, was);
	return true;
}

void shadow_use_release(struct shadow *s, uint32_t i)
{
	struct use *u = &s->uses[i];
	struct space *sp = &s->spaces[u->space];
	uint64_t f = frame_of(u->table_gpa);
	bool was = frame_special(s, f);

	LIST_DEL(s->uses, s->use_hash[shadow_use_bucket(s, u->table_gpa)], i,
		 hash_prev, hash_next);
	LIST_DEL(s->uses, sp->uses, i, space_prev, space_next);
	u->in_use = false;
	u->space_next = s->use_free;
	s->use_free = i;
	if (--s->pt_refs[f] == 0)
		s->st.tables--;
	/* Leaving table duty needs no host call: the frame regains write
	 * access the next time a store to it faults. */
	if (!frame_special(s, f) && was)
		s->block_special[f >> 9]--;
}
