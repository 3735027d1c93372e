/*
 * The shadow MMU proper: making, protecting and dropping host mappings so
 * that they follow the guest's page tables (see shadow.h for the idea and
 * shadow-internal.h for the records).
 *
 * Host protection of a mapped guest frame is the guest's right for the
 * current privilege level, narrowed by two facts the guest cannot see:
 *   - a frame that holds a page table of any known space is never writable,
 *     so every guest store to a table faults and is emulated;
 *   - with the scanner on, a frame is executable only after it was scanned,
 *     and a scanned frame is never writable, so that the first fetch and
 *     the first self-modifying store both fault.
 * A mapping is writable only once the guest's dirty bit is set, so the
 * first store to a clean page faults and sets it, as the hardware would.
 */
#include <stdlib.h>
#include <string.h>

#include "shadow-internal.h"

/* ---- creation -------------------------------------------------------- */

static uint32_t pow2_at_least(uint64_t n)
{
	uint32_t p = 1;

	while (p < n)
		p <<= 1;
	return p;
}

struct shadow *shadow_create(const struct shadow_config *cfg)
{
	struct shadow *s = calloc(1, sizeof(*s));
	uint32_t i;

	if (!s)
		return NULL;
	s->cfg = *cfg;
	if (!s->cfg.max_spaces || !s->cfg.cache)
		s->cfg.max_spaces = s->cfg.cache ? 16 : 1;
	if (!s->cfg.max_mappings)
		s->cfg.max_mappings = 16384;
	if (!s->cfg.maxphyaddr)
		s->cfg.maxphyaddr = 46;
	s->nframes = (cfg->ram_size + SHADOW_PAGE - 1) / SHADOW_PAGE;
	s->nblocks = (cfg->ram_size + BLOCK_SIZE - 1) / BLOCK_SIZE;
	s->max_uses = s->cfg.max_mappings;
	s->map_hash_size = pow2_at_least(2ull * s->cfg.max_mappings);
	s->use_hash_size = pow2_at_least(2ull * s->max_uses);

	s->spaces = calloc(s->cfg.max_spaces, sizeof(*s->spaces));
	s->maps = calloc(s->cfg.max_mappings, sizeof(*s->maps));
	s->map_hash = malloc(s->map_hash_size * sizeof(uint32_t));
	s->rmap = malloc((s->nblocks + 1) * sizeof(uint32_t));
	s->uses = calloc(s->max_uses, sizeof(*s->uses));
	s->use_hash = malloc(s->use_hash_size * sizeof(uint32_t));
	s->pt_refs = calloc(s->nframes + 1, sizeof(*s->pt_refs));
	s->frame_flags = calloc(s->nframes + 1, 1);
	s->block_special = calloc(s->nblocks + 1, sizeof(uint32_t));
	s->scratch = malloc(s->cfg.max_mappings * sizeof(uint32_t));
	if (!s->spaces || !s->maps || !s->map_hash || !s->rmap || !s->uses ||
	    !s->use_hash || !s->pt_refs || !s->frame_flags ||
	    !s->block_special || !s->scratch) {
		shadow_destroy(s);
		return NULL;
	}
	memset(s->map_hash, 0xff, s->map_hash_size * sizeof(uint32_t));
	memset(s->rmap, 0xff, (s->nblocks + 1) * sizeof(uint32_t));
	memset(s->use_hash, 0xff, s->use_hash_size * sizeof(uint32_t));
	for (i = 0; i < s->cfg.max_mappings; i++)
		s->maps[i].space_next = i + 1 < s->cfg.max_mappings ? i + 1 : NIL;
	for (i = 0; i < s->max_uses; i++)
		s->uses[i].space_next = i + 1 < s->max_uses ? i + 1 : NIL;
	s->active = NIL;
	return s;
}

void shadow_destroy(struct shadow *s)
{
	if (!s)
		return;
	free(s->spaces);
	free(s->maps);
	free(s->map_hash);
	free(s->rmap);
	free(s->uses);
	free(s->use_hash);
	free(s->pt_refs);
	free(s->frame_flags);
	free(s->block_special);
	free(s->scratch);
	free(s);
}

/* ---- code pages ------------------------------------------------------ */

void shadow_set_scanning(struct shadow *s, bool on)
{
	s->scanning = on;
}

static void set_code_ready(struct shadow *s, uint64_t gpa, bool ready)
{
	uint64_t f = frame_of(gpa);
	bool was;

	if (gpa >= s->cfg.ram_size ||
	    !!(s->frame_flags[f] & FRAME_CODE_READY) == ready)
		return;
	was = frame_special(s, f);
	if (ready)
		s->frame_flags[f] |= FRAME_CODE_READY;
	else
		s->frame_flags[f] &= ~FRAME_CODE_READY;
	shadow_refresh_frame(s, f, was);
}

void shadow_code_ready(struct shadow *s, uint64_t gpa)
{
	set_code_ready(s, gpa, true);
}

void shadow_code_dirty(struct shadow *s, uint64_t gpa)
{
	set_code_ready(s, gpa, false);
}

bool shadow_code_is_ready(const struct shadow *s, uint64_t gpa)
{
	return gpa < s->cfg.ram_size &&
	       (s->frame_flags[frame_of(gpa)] & FRAME_CODE_READY);
}

bool shadow_is_page_table(const struct shadow *s, uint64_t gpa)
{
	return gpa < s->cfg.ram_size && s->pt_refs[frame_of(gpa)] != 0;
}

void shadow_get_stats(const struct shadow *s, struct shadow_stats *st)
{
	uint32_t i;

	*st = s->st;
	st->spaces = 0;
	for (i = 0; i < s->cfg.max_spaces; i++)
		st->spaces += s->spaces[i].in_use;
}

uint64_t shadow_generation(const struct shadow *s)
{
	return s->generation;
}

uint64_t shadow_last_dropped(const struct shadow *s)
{
	return s->last_dropped;
}
