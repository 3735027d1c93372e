/*
 * Host rights: the host's protection of every page the shadow maps, kept
 * to what the rules in shadow-internal.h say it should be now.
 *
 * The guest believes its page-table entries decide who may read, write or
 * run a page.  In fact the host's mapping decides, so we keep it no wider
 * than the guest's entry allows at the current privilege level, and narrow
 * it further, frame by frame, for two facts the guest cannot see:
 *   - a frame that holds a page table of any known space is never
 *     writable, so every guest store to a table faults and is emulated;
 *   - a frame of code an engine keeps copies of (scanned or translated)
 *     is never writable, so that a self-modifying store faults; with the
 *     scanner on, a frame is executable only once scanned, so that the
 *     first fetch faults too.
 * A mapping is writable only once the guest's dirty bit is set, so the
 * first store to a clean page faults and sets it, as the hardware would.
 *
 * Tables and code frames are the "special" frames.  They are counted per
 * 2 MiB block of RAM, so a mapping over none of them (nearly all) takes
 * one host call; one over some takes one more per stretch of them.  The
 * fault path (fault.c), a new page-table use (records.c) and the scanner
 * (shadow.c) come here when a frame's duty or a mapping's rights change.
 */
#include "shadow-internal.h"

bool shadow_has_special_frames(const struct shadow *s, uint64_t gpa,
			       uint64_t len)
{
	uint64_t b;

	for (b = gpa >> BLOCK_SHIFT; b <= (gpa + len - 1) >> BLOCK_SHIFT; b++)
		if (s->block_special[b])
			return true;
	return false;
}

/* Give the special frames of a live mapping their narrower rights. */
void shadow_fix_special_frames(struct shadow *s, const struct mapping *m,
			       int prot)
{
	uint64_t first = frame_of(m->gpa), n = m->len / SHADOW_PAGE, i, j;

	if (!prot || !shadow_has_special_frames(s, m->gpa, m->len))
		return;
	for (i = 0; i < n; i = j) {
		int p = frame_prot(s, prot, first + i);

		for (j = i + 1; j < n && frame_prot(s, prot, first + j) == p;
		     j++)
			;
		if (p != m->prot) {
			host(s, OPS(s)->protect(OPS(s)->ctx,
						m->gva + i * SHADOW_PAGE,
						(j - i) * SHADOW_PAGE, p));
			s->st.protects++;
		}
	}
}

/* Make a live mapping's host rights what they should be now.  A one-page
 * mapping gets its frame's own rights in a single call. */
void shadow_apply(struct shadow *s, struct mapping *m, bool fresh)
{
	int prot = mapping_prot(s, m);
	int base = m->len == SHADOW_PAGE ? frame_prot(s, prot, frame_of(m->gpa))
					 : plain_prot(s, prot);

	if (fresh) {
		host(s, OPS(s)->map(OPS(s)->ctx, m->gva, m->gpa, m->len, base));
		s->st.maps++;
	} else if (base != m->prot) {
		host(s, OPS(s)->protect(OPS(s)->ctx, m->gva, m->len, base));
		s->st.protects++;
	}
	m->prot = base;
	shadow_fix_special_frames(s, m, prot);
}

/* A frame became or stopped being special: re-protect it wherever the
 * active space maps it. */
void shadow_refresh_frame(struct shadow *s, uint64_t f, bool was_special)
{
	uint64_t gpa = f << 12;
	bool now = frame_special(s, f);
	uint32_t i;

	if (now != was_special)
		s->block_special[f >> 9] += now ? 1 : (uint32_t)-1;
	/* Whoever keeps its own writable view of guest RAM (the
	 * translation cache's alias) must drop it now. */
	if (now && !was_special)
		s->generation++;
	if (s->active == NIL)
		return;
	for (i = s->rmap[gpa >> BLOCK_SHIFT]; i != NIL;
	     i = s->maps[i].rmap_next) {
		struct mapping *m = &s->maps[i];
		int p;

		if (m->space != s->active || gpa < m->gpa ||
		    gpa >= m->gpa + m->len)
			continue;
		p = frame_prot(s, mapping_prot(s, m), f);
		host(s, OPS(s)->protect(OPS(s)->ctx, m->gva + (gpa - m->gpa),
					SHADOW_PAGE, p));
		s->st.protects++;
		if (m->len == SHADOW_PAGE)
			m->prot = p;
	}
}

/* Give the page of a live mapping that holds gva its rights now.  A fault
 * on a mapped page means its host rights are out of date (the dirty bit
 * moved, or its frame left table or code duty without a host call). */
void shadow_refresh_page(struct shadow *s, struct mapping *m, uint64_t gva)
{
	uint64_t page = gva & ~(SHADOW_PAGE - 1);
	int p = frame_prot(s, mapping_prot(s, m),
			   frame_of(m->gpa + (page - m->gva)));

	host(s, OPS(s)->protect(OPS(s)->ctx, page, SHADOW_PAGE, p));
	s->st.protects++;
	if (m->len == SHADOW_PAGE)
		m->prot = p;
}
