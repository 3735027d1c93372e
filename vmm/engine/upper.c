/*
 * The upper half in host aliases (see upper.h).
 *
 *   UPPER_BASE            the unassigned range: 4 GiB, never mapped
 *   + 4 GiB * (1 + k)     slot k: one chunk of the upper half
 *
 * A chunk is the 4 GiB of guest addresses that share bits 32..63; its
 * guest address g is at host address slot + (g mod 4 GiB).
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "trapeze/abi.h"
#include "engine/upper.h"

#define CHUNK         (1ull << 32)
#define NSLOTS        256u
#define UPPER_BASE    (TRAPEZE_GVA_LIMIT + (64ull << 30))
#define SLOT0         (UPPER_BASE + CHUNK)
#define UPPER_BYTES   ((NSLOTS + 1) * CHUNK)
#define UPPER_HALF_START 0xffff800000000000ull

struct upper {
	struct shadow_ops host;
	uint64_t table[UPPER_TABLE_ENTRIES];
	uint16_t chunk[NSLOTS];        /* the table index a slot serves */
	unsigned nslots;
	struct upper_stats st;
};

/* The guest address chunk i begins at (bits 32..47 = i, sign-extended). */
static uint64_t chunk_base(unsigned i)
{
	uint64_t b = (uint64_t)i << 32;

	return i & 0x8000 ? b | 0xffff000000000000ull : b;
}

static uint64_t slot_host(unsigned k)
{
	return SLOT0 + (uint64_t)k * CHUNK;
}

/* What a chunk without a slot adds: its addresses go to the unassigned
 * range.  The lower half's guest window adds nothing; its addresses
 * above the window (the monitor's own, here) count as unassigned too. */
static uint64_t unassigned(unsigned i)
{
	if (i < (TRAPEZE_GVA_LIMIT >> 32))
		return 0;
	return UPPER_BASE - chunk_base(i);
}

static void reset_table(struct upper *u)
{
	unsigned i;

	for (i = 0; i < UPPER_TABLE_ENTRIES; i++)
		u->table[i] = unassigned(i);
	memset(u->chunk, 0, sizeof(u->chunk));
	u->nslots = 0;
}

/* The slot of gva's chunk (-1: none). */
static int slot_of(const struct upper *u, uint64_t gva)
{
	unsigned i = (unsigned)(gva >> 32) & 0xffff;
	uint64_t off = u->table[i];

	if (off == unassigned(i))
		return -1;
	return (int)((chunk_base(i) + off - SLOT0) / CHUNK);
}

bool upper_assign(struct upper *u, uint64_t gva)
{
	unsigned i = (unsigned)(gva >> 32) & 0xffff;

	if (!upper_half(gva) || slot_of(u, gva) >= 0)
		return true;
	if (u->nslots == NSLOTS)
		return false;
	u->chunk[u->nslots] = (uint16_t)i;
	u->table[i] = slot_host(u->nslots) - chunk_base(i);
	u->nslots++;
	u->st.assigned++;
	return true;
}

void upper_reset(struct upper *u)
{
	unsigned k;

	for (k = 0; k < u->nslots; k++)
		mmap((void *)slot_host(k), CHUNK, PROT_NONE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED,
		     -1, 0);
	reset_table(u);
	u->st.resets++;
}

enum upper_place upper_place(const struct upper *u, uint64_t host,
			     uint64_t *gva)
{
	unsigned k;

	if (host - UPPER_BASE < CHUNK)
		return UPPER_UNASSIGNED;
	if (host - SLOT0 >= NSLOTS * CHUNK)
		return UPPER_ELSEWHERE;
	k = (unsigned)((host - SLOT0) / CHUNK);
	if (k >= u->nslots)
		return UPPER_UNASSIGNED;    /* (a slot let go since) */
	*gva = chunk_base(u->chunk[k]) + (host & (CHUNK - 1));
	return UPPER_SLOT;
}

/* ---- the shadow's calls ------------------------------------------------ */

/* Where the host maps the upper-half address gva: its alias, given a
 * slot if it has none and assign.  False: nowhere. */
static bool alias_of(struct upper *u, uint64_t gva, bool assign,
		     uint64_t *host)
{
	int k;

	if ((k = slot_of(u, gva)) < 0) {
		if (!assign || !upper_assign(u, gva))
			return false;
		k = slot_of(u, gva);
	}
	*host = slot_host((unsigned)k) + (gva & (CHUNK - 1));
	return true;
}

static int ops_map(void *ctx, uint64_t gva, uint64_t gpa, uint64_t len,
		   int prot)
{
	struct upper *u = ctx;
	uint64_t h = gva;

	/* (A mapping never crosses a 2 MiB block, so never a chunk.) */
	if (upper_half(gva) && !alias_of(u, gva, true, &h))
		return -1;
	return u->host.map(u->host.ctx, h, gpa, len, prot);
}

/*
 * The shadow's protect and unmap take ranges that may run from the
 * window to the upper half, across the host's own addresses between
 * (a whole space's mappings, a sweep over holes): each piece goes to
 * where it lives, the window's to itself and an upper chunk's to its
 * slot, and nothing else is touched.  A range may end at 2^64 (its end
 * computed as 0).
 */
static int each_piece(struct upper *u, uint64_t gva, uint64_t len,
		      int (*fn)(const struct shadow_ops *h, uint64_t at,
				uint64_t len, int prot),
		      int prot)
{
	uint64_t last = gva + len - 1, a = gva;
	int rc = 0;

	if (!len)
		return 0;
	if (a < TRAPEZE_GVA_LIMIT) {
		uint64_t end = last < TRAPEZE_GVA_LIMIT ? last + 1
							: TRAPEZE_GVA_LIMIT;

		rc |= fn(&u->host, a, end - a, prot);
		a = end;
	}
	if (last < UPPER_HALF_START)
		return rc;
	if (a < UPPER_HALF_START)
		a = UPPER_HALF_START;
	for (;;) {
		uint64_t chunk_last = a | (CHUNK - 1);
		uint64_t piece_last = chunk_last < last ? chunk_last : last;
		int k = slot_of(u, a);

		if (k >= 0)
			rc |= fn(&u->host, slot_host((unsigned)k) +
					   (a & (CHUNK - 1)),
				 piece_last - a + 1, prot);
		if (piece_last == last)
			return rc;
		a = piece_last + 1;
	}
}

static int do_protect(const struct shadow_ops *h, uint64_t at, uint64_t len,
		      int prot)
{
	return h->protect(h->ctx, at, len, prot);
}

static int do_unmap(const struct shadow_ops *h, uint64_t at, uint64_t len,
		    int prot)
{
	(void)prot;
	return h->unmap(h->ctx, at, len);
}

static int ops_protect(void *ctx, uint64_t gva, uint64_t len, int prot)
{
	return each_piece(ctx, gva, len, do_protect, prot);
}

static int ops_unmap(void *ctx, uint64_t gva, uint64_t len)
{
	return each_piece(ctx, gva, len, do_unmap, 0);
}

struct shadow_ops upper_ops(struct upper *u)
{
	return (struct shadow_ops){ ops_map, ops_protect, ops_unmap, u };
}

/* ---- life ------------------------------------------------------------- */

struct upper *upper_create(const struct shadow_ops *host, const char **why)
{
	struct upper *u = malloc(sizeof(*u));
	void *p;

	if (!u) {
		*why = "out of memory";
		return NULL;
	}
	p = mmap((void *)UPPER_BASE, UPPER_BYTES, PROT_NONE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE |
		 MAP_FIXED_NOREPLACE, -1, 0);
	if (p != (void *)UPPER_BASE) {
		if (p != MAP_FAILED)
			munmap(p, UPPER_BYTES);
		free(u);
		*why = "the address range for the upper half's aliases is taken";
		return NULL;
	}
	memset(&u->st, 0, sizeof(u->st));
	u->host = *host;
	reset_table(u);
	return u;
}

void upper_destroy(struct upper *u)
{
	if (!u)
		return;
	munmap((void *)UPPER_BASE, UPPER_BYTES);
	free(u);
}

const uint64_t *upper_table(const struct upper *u)
{
	return u->table;
}

uint64_t upper_end(void)
{
	return UPPER_BASE + UPPER_BYTES;
}

void upper_get_stats(const struct upper *u, struct upper_stats *st)
{
	if (!u) {
		memset(st, 0, sizeof(*st));
		return;
	}
	*st = u->st;
	st->slots = u->nslots;
}
