/*
 * The translation cache: guest code that keeps touching the top of the
 * address space, run natively from a rewritten copy.
 *
 * No host process can map the upper canonical half, so every guest access
 * there faults and is emulated, one instruction per trap (a few
 * microseconds).  kvm-unit-tests allocates from there (its vmalloc grows
 * down from 2^64), and its sieve makes a billion such accesses.  Binary
 * translation, in the family of the scanner: when one instruction has
 * faulted there often enough, the code around it is copied into a cache
 * in the monitor's part of the address space, and each instruction that
 * touches the top 4 GiB is rewritten to compute its address and add an
 * offset taken from a table, which sends the top 4 GiB to a host alias
 * of them and every other address to itself (or, for addresses the guest
 * may not reach natively, to one that faults).  Flags and every guest
 * register are kept: the rewrite borrows registers the instruction does
 * not use and gives them back.  The guest then runs that code at native
 * speed, leaving the cache only at control transfers the scanner watches.
 *
 * A trap in the cache is seen by the monitor as a trap at the guest
 * instruction being copied (bt_leave), with the borrowed registers
 * restored: the run loop (core/run.c) asks it first, and what follows
 * sees the guest's own state.
 * Every translation and alias mapping is dropped when the guest's page
 * tables or code may have changed.  Active with the scanner only (it is
 * what catches writes to code), in 64-bit mode, on a host with BMI2.
 *
 * The same cache runs an instruction the emulator does not know on a
 * copy of the device memory it touches (bt_bounce).
 */
#ifndef TRAPEZE_BT_H
#define TRAPEZE_BT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <capstone/capstone.h>

struct scanner;
struct shadow_ops;
struct vcpu;
struct bt;

/* The guest-virtual window the alias covers: the top 4 GiB. */
#define BT_WINDOW_BASE (~0ull << 32)

/*
 * The cache for v (NULL: out of memory), which maps its alias of guest
 * RAM through host's calls and learns from sc when code changes; the
 * calls below want it non-NULL.  Device-memory bounces always work;
 * translating for the window only when translate is asked and the host
 * and VM allow it: else *why says what is missing.
 */
struct bt *bt_create(struct vcpu *v, struct scanner *sc,
		     const struct shadow_ops *host, bool translate,
		     const char **why);
void bt_destroy(struct bt *bt);

enum bt_left {
	BT_OUTSIDE,   /* RIP was not in the cache: nothing done */
	BT_LEFT,      /* the vCPU now holds the guest's own state */
	BT_CHAINED,   /* a branch to untranslated code was linked: resume
			 without a trap (the vCPU holds the target) */
	BT_NATIVE,    /* a rewritten access faulted where only the real
			 address says what to do: resume natively at the
			 guest RIP, which faults again with that address */
};

/*
 * The backend copied the registers in and the host RIP is in v->rip: if
 * it is in the cache, give the vCPU the guest's RIP and registers.
 * sig_ill and fault (a #PF or #GP) say what the host reported.  With
 * *bounced, an instruction bt_bounce set up has run on its copy of
 * device memory: bt_finish_bounce gives the device its result.
 */
enum bt_left bt_leave(struct bt *bt, bool sig_ill, bool fault,
		      uint64_t fault_addr, bool *bounced);
/* The device's part of a bounced instruction: false with the guest's
 * exception pending if the access faulted (RIP back on the instruction). */
bool bt_finish_bounce(struct bt *bt);

/* Where the guest resumes: in the cache if its RIP is translated. */
uint64_t bt_resume_rip(struct bt *bt, bool single_step);

/* Is addr in the host alias of the window? */
bool bt_is_alias(const struct bt *bt, uint64_t addr);
/* ...and did the fault at addr come from a rewritten access (a guest
 * address up there that native code touched is the guest's own)? */
bool bt_alias_fault_at(const struct bt *bt, uint64_t addr);
/* The end of the host ranges the cache holds (0 without one): system
 * calls from below it are the guest's. */
uint64_t bt_host_end(const struct bt *bt);
/*
 * A fault in the alias: maps the page, or raises the guest's #PF (true);
 * false when the access must be emulated at guest address *gva.
 */
bool bt_alias_fault(struct bt *bt, uint64_t addr, unsigned access,
		    uint64_t *gva);

/*
 * A guest data access at gva in the window faulted natively: counts it,
 * and when the instruction is hot enough (or now, for one the emulator
 * does not know) translates it.  True when the guest should simply
 * resume (it will run that instruction from the cache), false when the
 * access is to be emulated as before.
 */
bool bt_upper_access(struct bt *bt, uint64_t gva, bool now);

/*
 * An instruction the emulator does not know touched device memory: copy
 * its operand into a buffer, and have the guest run the instruction on
 * the copy from the cache, natively (with its own registers, flags and
 * vector registers), then give the result to the device.  True when set
 * up (or when reading the device raised a fault): the guest resumes.
 */
bool bt_bounce(struct bt *bt, const cs_insn *insn);
/* Is a bounce set up, for the guest to run when it resumes? */
bool bt_bounce_pending(const struct bt *bt);

struct bt_stats {
	uint64_t translations, insns, rewritten, chains, alias_maps,
		 flushes, alias_flushes, natives, bounces;
};
void bt_get_stats(const struct bt *bt, struct bt_stats *st);

/* ---- for the unit tests ----------------------------------------------- */

/* The offset the table adds to an address (bits 32..47 index it). */
uint64_t bt_table_offset(uint64_t addr);
/*
 * Rewrite one decoded instruction (Capstone, with detail) into buf as
 * the cache does for an access in the window, its borrowed registers
 * kept in slots[0..2] (within 2 GiB of buf) and the offsets in table.
 * Returns its length (0: it cannot be rewritten) and the registers it
 * borrowed, first the one that carries the address.
 */
size_t bt_rewrite(csh h, const cs_insn *insn, uint64_t guest, uint8_t *buf,
		  const uint64_t *slots, const uint64_t *table,
		  uint8_t scratch[3]);
/* Host address the rewritten access reaches for guest address addr. */
static inline uint64_t bt_rewritten_address(uint64_t addr)
{
	return addr + bt_table_offset(addr);
}

#endif /* TRAPEZE_BT_H */
