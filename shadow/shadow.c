/*
 * The shadow MMU's front door: making one, marking the code pages an
 * engine keeps copies of, and answering what the monitor asks of it.
 *
 * The guest builds x86 page tables in its own RAM and believes that the
 * MMU follows them.  It runs instead in a host process, whose mappings we
 * make to follow them (shadow.h says how, shadow-internal.h what we keep).
 * The library is laid out as that work is:
 *   walk.c        the guest's MMU: a walk of its tables, as the SDM says;
 *   fault.c       a host fault: walk, map what the guest allows, or say
 *                 why the host must stay narrower;
 *   rights.c      the host's rights over each page, narrowed for tables
 *                 and code pages;
 *   records.c     what we remember of each mapping and each table read;
 *   modal.c       the mappings whose rights differ by privilege level;
 *   cpl.c         re-protecting those when the guest changes it;
 *   space.c       one shadow per cr3, and the cache of inactive ones;
 *   invalidate.c  dropping what a changed translation produced;
 *   shadow.c      this file.
 * shadow_create allocates everything, once: the pools in struct shadow
 * are all the memory the rest will ever use, which is what lets the trap
 * path run without allocating.
 *
 * A code page (one the scanner patched or the translator translated) is
 * never writable, and with the scanner on only a code page is executable:
 * shadow_code_ready and shadow_code_dirty move a frame in and out, and
 * rights.c re-protects it wherever it is mapped.
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

/* ---- what the monitor may ask ---------------------------------------- */

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
