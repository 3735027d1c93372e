/*
 * The upper half in host aliases.  No host process can map the upper
 * canonical half of the address space, where 64-bit kernels live; the
 * translator's rewritten accesses (tc-emit.c) reach it through aliases
 * instead.  Each 4 GiB chunk of the upper half that the guest touches
 * gets a slot: 4 GiB of host address space above the window, in which
 * the shadow MMU maps the guest's pages exactly as in the window, with
 * the same rights and the same invalidation (its host calls go through
 * upper_ops, which move an upper-half address into its slot).
 *
 * A table indexed by bits 32..47 of a guest address gives what to add to
 * it to reach the host: 0 in the lower half (the window is the host's
 * own addresses), the slot's offset for a chunk that has one, and for
 * one that has none an offset into a range that stays reserved and is
 * never mapped ("unassigned"): a fault there asks for a slot.  A
 * non-canonical address comes out non-canonical, and faults as such.
 */
#ifndef TRAPEZE_UPPER_H
#define TRAPEZE_UPPER_H

#include <stdbool.h>
#include <stdint.h>

#include "shadow/shadow.h"

struct upper;

#define UPPER_TABLE_ENTRIES 65536u

/* Reserve the aliases (NULL, with *why, if the range is taken); host is
 * where mappings end up (the backend's calls). */
struct upper *upper_create(const struct shadow_ops *host, const char **why);
void upper_destroy(struct upper *u);

/* The calls the shadow MMU makes through: an upper-half address goes to
 * its slot (given one if need be), any other stays. */
struct shadow_ops upper_ops(struct upper *u);
/* The table (what translated code adds to an address). */
const uint64_t *upper_table(const struct upper *u);
/* The end of the host ranges the aliases hold. */
uint64_t upper_end(void);

/* Is gva in the upper canonical half? */
static inline bool upper_half(uint64_t gva)
{
	return gva >= 0xffff800000000000ull;
}

/* Where a host fault at host is: in a slot (the guest's address in
 * *gva), in the unassigned range, or elsewhere. */
enum upper_place { UPPER_ELSEWHERE, UPPER_SLOT, UPPER_UNASSIGNED };
enum upper_place upper_place(const struct upper *u, uint64_t host,
			     uint64_t *gva);

/* Give the chunk of the upper-half address gva a slot.  False when none
 * is left: the caller drops every mapping (shadow_flush) and then
 * upper_reset frees them all. */
bool upper_assign(struct upper *u, uint64_t gva);
void upper_reset(struct upper *u);

struct upper_stats {
	uint64_t assigned, resets;
	unsigned slots;            /* in use now */
};
void upper_get_stats(const struct upper *u, struct upper_stats *st);

#endif
