/*
 * Private to shadow/: the records behind the shadow MMU.
 *
 * A "space" is the shadow of one guest address space (one cr3).  Only the
 * active space has its mappings live in the host; the others, kept by the
 * cr3 cache, hold their records so that switching back re-creates their
 * mappings in a few calls instead of one fault per page.
 *
 * A "mapping" is one host mapping the shadow made: a run of guest-virtual
 * pages inside one guest page and one 2 MiB-aligned block, backed by a run
 * of guest RAM.  A "use" says that a guest-physical page served as a page
 * table for a space, and which stretch of guest-virtual space its entries
 * translate: a store to entry i of that table can only change the
 * translations in [gva_base + i << entry_shift, +1 << entry_shift).
 *
 * A mapping is "modal" when its host rights at CPL 3 differ from those at
 * CPL 0 (or, with SMAP, from those with RFLAGS.AC set): a supervisor page,
 * or a user page that WP=0, SMEP or SMAP treat differently.  Each space
 * threads its modal mappings on a list of their own so that a privilege
 * switch touches only them (see shadow_set_cpl).
 *
 * Records live in fixed pools and are linked by 32-bit indexes; NIL ends a
 * list.
 */
#ifndef TRAPEZE_SHADOW_INTERNAL_H
#define TRAPEZE_SHADOW_INTERNAL_H

#include "shadow.h"
#include "trapeze/x86.h"

#define NIL 0xffffffffu
#define BLOCK_SHIFT 21                 /* 2 MiB: the largest mapping */
#define BLOCK_SIZE (1ull << BLOCK_SHIFT)
/* The records inactive spaces may keep among them (space.c). */
#define CACHED_MAPS_BUDGET 16384u

/* The upper canonical half (shadow_config.upper). */
#define UPPER_HALF 0xffff800000000000ull

/* The end of [gva, gva + len) for comparisons: at the top of the address
 * space, where it would be 0, the highest address instead (no page
 * starts there). */
static inline uint64_t range_end(uint64_t gva, uint64_t len)
{
	uint64_t e = gva + len;

	return e ? e : ~0ull;
}

struct mapping {
	uint64_t gva, gpa, len;
	uint32_t space;
	uint32_t space_prev, space_next; /* the space's list (free list) */
	uint32_t hash_prev, hash_next;   /* by (space, gva page or block) */
	uint32_t rmap_prev, rmap_next;   /* by guest-physical block */
	uint32_t mode_prev, mode_next;   /* the space's modal list */
	uint8_t prot;                    /* host rights of ordinary frames */
	bool writable, user, exec, dirty; /* the guest's rights */
	bool modal;                      /* rights differ by CPL or AC */
	bool in_use;
};

struct use {
	uint64_t table_gpa;              /* address of entry 0 */
	uint64_t gva_base;
	uint32_t space;
	uint32_t hash_prev, hash_next;   /* by table frame */
	uint32_t space_prev, space_next; /* the space's list (free list) */
	uint16_t entries;
	uint8_t entry_shift, entry_size;
	bool in_use;
};

struct space {
	uint64_t cr3;                    /* root address, flag bits masked */
	uint64_t lru;                    /* last activation tick */
	uint64_t lo, hi;                 /* bounds of its mappings in the
					    window (hi <= lo: none) */
	uint64_t ulo, uhi;               /* ...and in the upper half */
	uint64_t plain_lo, plain_hi;     /* bounds (never narrowed until the
					    space is cleared) of those that
					    are not modal */
	uint32_t maps;                   /* head of its mapping list */
	uint32_t uses;                   /* head of its use list */
	uint32_t modal, modal_tail;      /* its modal mappings, by address
					    unless modal_unsorted */
	unsigned nmaps;
	bool modal_unsorted;
	bool in_use;
};

struct shadow {
	struct shadow_config cfg;
	struct paging pg;                /* state of the active space */
	uint64_t nframes;

	struct space *spaces;
	unsigned active;                 /* index into spaces, or NIL */
	uint64_t tick;

	struct mapping *maps;
	uint32_t map_free;
	uint32_t *map_hash;              /* heads, size map_hash_size */
	uint32_t map_hash_size;
	uint32_t *rmap;                  /* heads by guest-physical block */
	uint64_t nblocks;

	struct use *uses;
	uint32_t use_free;
	uint32_t *use_hash;
	uint32_t use_hash_size;
	unsigned max_uses;

	uint32_t *pt_refs;               /* per guest frame: table uses */
	uint8_t *frame_flags;            /* per guest frame: FRAME_* */
	uint32_t *block_special;         /* per 2 MiB of RAM: frames that
					    are tables or scanned code */
	uint32_t *scratch;               /* max_mappings indexes, for sorting */
	uint64_t modal_key;              /* CR0.WP, CR4.SMEP/SMAP that the
					    modal flags were computed for */
	bool scanning;
	bool host_error;                 /* a map/protect/unmap call failed */

	uint64_t last_dropped;
	uint64_t generation;             /* see shadow_generation() */
	struct shadow_stats st;
};

#define FRAME_CODE_READY 1u

static inline uint64_t frame_of(uint64_t gpa)
{
	return gpa >> 12;
}

#define OPS(s) (&(s)->cfg.ops)

/*
 * The rules of host rights, small enough to inline where the trap path
 * needs them (rights.c makes the host follow them).  The host's right over
 * a frame is the guest's right for the current privilege level, narrowed
 * by what the guest cannot see: page tables and scanned code are never
 * writable, unscanned code (with the scanner on) never executable.
 */

static inline bool map_is_large(const struct mapping *m)
{
	return m->len > SHADOW_PAGE;
}

/* Note a failed map, protect or unmap call; shadow_fault reports it. */
static inline void host(struct shadow *s, int rc)
{
	if (rc != 0)
		s->host_error = true;
}

static inline bool frame_special(const struct shadow *s, uint64_t f)
{
	return s->pt_refs[f] || (s->frame_flags[f] & FRAME_CODE_READY);
}

/* The guest's rights over a mapping at CPL 3 (user_mode) or at CPL 0 with
 * RFLAGS.AC = ac. */
static inline int prot_in_mode(const struct shadow *s,
			       const struct mapping *m, bool user_mode, bool ac)
{
	int prot = SHADOW_R;

	if (user_mode && !m->user)
		return 0;
	if (!user_mode && m->user && (s->pg.cr4 & CR4_SMAP) && !ac)
		return 0;
	if (m->dirty && (user_mode ? m->writable
				   : m->writable || !(s->pg.cr0 & CR0_WP)))
		prot |= SHADOW_W;
	if (m->exec && !(!user_mode && m->user && (s->pg.cr4 & CR4_SMEP)))
		prot |= SHADOW_X;
	return prot;
}

/* The guest's rights over a mapping at the current privilege level. */
static inline int mapping_prot(const struct shadow *s,
			       const struct mapping *m)
{
	return prot_in_mode(s, m, s->pg.cpl == 3, s->pg.ac);
}

/* Narrow rights for one frame: tables and code an engine keeps copies
 * of (scanned or translated) are never writable; with the scanner on,
 * code not yet scanned is never executable. */
static inline int frame_prot(const struct shadow *s, int prot, uint64_t f)
{
	if (!prot)
		return 0;
	if (s->pt_refs[f] || (s->frame_flags[f] & FRAME_CODE_READY))
		prot &= ~SHADOW_W;
	else if (s->scanning)
		prot &= ~SHADOW_X;
	return prot;
}

/* What an ordinary frame of a mapping gets. */
static inline int plain_prot(const struct shadow *s, int prot)
{
	return s->scanning ? prot & ~SHADOW_X : prot;
}

/*
 * Shared between the files of shadow/ (shadow.c's top comment says which
 * holds what).  Being global symbols they carry the module's prefix, but
 * they are no part of the library's interface, shadow.h.
 */

/* rights.c: bringing the host's rights into line with those rules. */
bool shadow_has_special_frames(const struct shadow *s, uint64_t gpa,
			       uint64_t len);
void shadow_fix_special_frames(struct shadow *s, const struct mapping *m,
			       int prot);
void shadow_apply(struct shadow *s, struct mapping *m, bool fresh);
void shadow_refresh_frame(struct shadow *s, uint64_t f, bool was_special);
void shadow_refresh_page(struct shadow *s, struct mapping *m, uint64_t gva);

/* records.c: the mapping and page-table-use records, and their indexes. */
uint32_t shadow_map_find(const struct shadow *s, uint32_t space,
			 uint64_t gva);
uint32_t shadow_map_new(struct shadow *s, uint32_t space);
void shadow_map_index(struct shadow *s, uint32_t i);
void shadow_map_release(struct shadow *s, uint32_t i);

/* Coalesce unmap calls over address-ordered runs. */
struct run {
	uint64_t lo, hi;
};
void shadow_map_drop(struct shadow *s, uint32_t i, struct run *r);
void shadow_run_flush(struct shadow *s, struct run *r);

uint32_t shadow_use_bucket(const struct shadow *s, uint64_t table_gpa);
bool shadow_use_add(struct shadow *s, uint32_t space,
		    const struct walk_table *t);
void shadow_use_release(struct shadow *s, uint32_t i);

/* space.c: the shadows of the guest's address spaces, the cr3 cache. */
uint64_t shadow_root_of(const struct paging *pg);
void shadow_activate(struct shadow *s, uint64_t root);
void shadow_space_clear(struct shadow *s, uint32_t space);
/* Take every host mapping of a space away (its records stay). */
void shadow_space_unmap(struct shadow *s, uint32_t space);
void shadow_space_free(struct shadow *s, uint32_t space);

/* modal.c: each space's list of the mappings a CPL switch re-protects. */
void shadow_modal_update(struct shadow *s, uint32_t i);
void shadow_modal_remove(struct shadow *s, uint32_t i);
void shadow_modal_sort(struct shadow *s, uint32_t space);
void shadow_set_paging(struct shadow *s, const struct paging *pg);
size_t shadow_sorted_maps(struct shadow *s, uint32_t space);

#endif /* TRAPEZE_SHADOW_INTERNAL_H */
