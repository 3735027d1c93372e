/*
 * The modal list: what makes a privilege switch cheap.
 *
 * The guest's kernel and its processes share one address space, and the
 * hardware tells their pages apart by the U/S bit at every access.  Our
 * host mappings cannot: the host has one set of rights per page, so
 * entering or leaving user mode must re-protect every page whose rights
 * differ between the two modes (shadow_set_cpl, in cpl.c, does it).
 *
 * Most mappings have the same host rights in user and in supervisor mode:
 * a process's own pages, typically all but a few hundred of them.  Only
 * "modal" ones differ (shadow-internal.h): supervisor pages, and user pages
 * that CR0.WP=0, SMEP or SMAP treat differently.  A privilege switch has to
 * re-protect those and no others, so each space keeps its modal mappings
 * on a list threaded through the records.  Membership depends only on the
 * mapping's guest rights and on CR0.WP, CR4.SMEP and CR4.SMAP, so it is
 * decided when a mapping is made or its dirty bit moves, never on a
 * switch.  The list is kept in address order, so that neighbours share
 * one host call: a new mapping goes where it belongs if that is within
 * MODAL_LOOKBACK records of the tail (pages are mostly touched in order),
 * else at the tail with the list marked unsorted, and the next switch
 * sorts it once, in place.  The same in-place sort puts a cached space's
 * mappings in order when switching back to it re-creates them (space.c).
 */
#include "shadow-internal.h"

#define MODAL_LOOKBACK 16

/* Do its rights at CPL 3 differ from those at CPL 0, with AC clear or set? */
static bool is_modal(const struct shadow *s, const struct mapping *m)
{
	int user = prot_in_mode(s, m, true, false);

	return prot_in_mode(s, m, false, false) != user ||
	       prot_in_mode(s, m, false, true) != user;
}

/* Link record i into its space's modal list after record at (NIL: first). */
static void modal_link(struct shadow *s, uint32_t i, uint32_t at)
{
	struct mapping *m = &s->maps[i];
	struct space *sp = &s->spaces[m->space];

	m->mode_prev = at;
	m->mode_next = at == NIL ? sp->modal : s->maps[at].mode_next;
	if (m->mode_next != NIL)
		s->maps[m->mode_next].mode_prev = i;
	else
		sp->modal_tail = i;
	if (at != NIL)
		s->maps[at].mode_next = i;
	else
		sp->modal = i;
}

static void modal_insert(struct shadow *s, uint32_t i)
{
	struct mapping *m = &s->maps[i];
	struct space *sp = &s->spaces[m->space];
	uint32_t at = sp->modal_tail;
	unsigned n;

	for (n = 0; at != NIL && s->maps[at].gva > m->gva; n++) {
		if (n == MODAL_LOOKBACK) {
			at = sp->modal_tail;
			sp->modal_unsorted = true;
			break;
		}
		at = s->maps[at].mode_prev;
	}
	modal_link(s, i, at);
	m->modal = true;
}

void shadow_modal_remove(struct shadow *s, uint32_t i)
{
	struct mapping *m = &s->maps[i];
	struct space *sp = &s->spaces[m->space];

	if (m->mode_prev != NIL)
		s->maps[m->mode_prev].mode_next = m->mode_next;
	else
		sp->modal = m->mode_next;
	if (m->mode_next != NIL)
		s->maps[m->mode_next].mode_prev = m->mode_prev;
	else
		sp->modal_tail = m->mode_prev;
	if (sp->modal == NIL)
		sp->modal_unsorted = false;
	m->modal = false;
}

/* A mapping was made or its rights moved: put it on or off the list.  A
 * mapping off it widens its space's plain bounds, which tell
 * shadow_set_cpl where it may not sweep. */
void shadow_modal_update(struct shadow *s, uint32_t i)
{
	struct mapping *m = &s->maps[i];
	struct space *sp = &s->spaces[m->space];
	bool want = is_modal(s, m);

	if (want && !m->modal)
		modal_insert(s, i);
	else if (!want && m->modal)
		shadow_modal_remove(s, i);
	if (want)
		return;
	if (sp->plain_hi <= sp->plain_lo || m->gva < sp->plain_lo)
		sp->plain_lo = m->gva;
	if (range_end(m->gva, m->len) > sp->plain_hi)
		sp->plain_hi = range_end(m->gva, m->len);
}

/* The flags were decided for other values of CR0.WP, CR4.SMEP or
 * CR4.SMAP.  The monitor resets the shadow when those change, so this only
 * runs when a caller did not. */
static void modal_reclassify(struct shadow *s)
{
	uint32_t i;

	for (i = 0; i < s->cfg.max_mappings; i++)
		if (s->maps[i].in_use)
			shadow_modal_update(s, i);
}

/* Take the vCPU's paging state, keeping the modal flags true to it. */
void shadow_set_paging(struct shadow *s, const struct paging *pg)
{
	uint64_t key = (pg->cr0 & CR0_WP) | (pg->cr4 & (CR4_SMEP | CR4_SMAP));

	s->pg = *pg;
	if (key != s->modal_key) {
		s->modal_key = key;
		if (s->st.mappings)
			modal_reclassify(s);
	}
}

/* ---- address order --------------------------------------------------- */

/* Sort indexes by guest-virtual address (heap sort: no allocation). */
static void sift(const struct mapping *maps, uint32_t *a, size_t n, size_t i)
{
	for (;;) {
		size_t c = 2 * i + 1;
		uint32_t t;

		if (c >= n)
			return;
		if (c + 1 < n && maps[a[c + 1]].gva > maps[a[c]].gva)
			c++;
		if (maps[a[i]].gva >= maps[a[c]].gva)
			return;
		t = a[i], a[i] = a[c], a[c] = t;
		i = c;
	}
}

static void sort_scratch(struct shadow *s, size_t n)
{
	size_t i;
	uint32_t t;

	for (i = n / 2; i-- > 0;)
		sift(s->maps, s->scratch, n, i);
	for (i = n; i-- > 1;) {
		t = s->scratch[0], s->scratch[0] = s->scratch[i];
		s->scratch[i] = t;
		sift(s->maps, s->scratch, i, 0);
	}
}

/* A space's mappings in address order, in s->scratch. */
size_t shadow_sorted_maps(struct shadow *s, uint32_t space)
{
	size_t n = 0;
	uint32_t j;

	for (j = s->spaces[space].maps; j != NIL; j = s->maps[j].space_next)
		s->scratch[n++] = j;
	sort_scratch(s, n);
	return n;
}

/* Put a space's modal list back in address order. */
void shadow_modal_sort(struct shadow *s, uint32_t space)
{
	struct space *sp = &s->spaces[space];
	size_t n = 0, i;
	uint32_t j;

	for (j = sp->modal; j != NIL; j = s->maps[j].mode_next)
		s->scratch[n++] = j;
	sort_scratch(s, n);
	sp->modal = sp->modal_tail = NIL;
	for (i = 0; i < n; i++)
		modal_link(s, s->scratch[i], sp->modal_tail);
	sp->modal_unsorted = false;
}
