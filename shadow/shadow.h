/*
 * The shadow MMU: the guest builds x86 page tables in its own RAM and loads
 * them with mov cr3; this library makes the host process's mappings follow
 * them.  A host mapping exists at guest virtual address V only when the
 * guest's tables translate V, and it maps the guest-physical page they name
 * (an offset in the RAM memfd) with no more permission than the guest gave.
 * Mappings are made lazily, when a guest access faults; every page that
 * holds a guest page table is kept read-only in the host, so a guest store
 * to a table faults and lets the shadow drop exactly the mappings that the
 * changed entry covered.
 *
 * The library knows nothing of signals or ptrace: it asks the backend to
 * map, protect and unmap through struct shadow_ops, so it runs as well on
 * synthetic page tables in a unit test.  It never allocates after
 * shadow_create(): everything comes from fixed pools.
 */
#ifndef TRAPEZE_SHADOW_H
#define TRAPEZE_SHADOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SHADOW_PAGE 4096ull

/* Host protection bits (the same values as PROT_READ/WRITE/EXEC). */
#define SHADOW_R 1
#define SHADOW_W 2
#define SHADOW_X 4
/* A hint with map's prot, never a right: the guest is about to use these
 * pages (fault-around), so the host may fill its page tables for them now
 * rather than take a fault on each. */
#define SHADOW_POPULATE 8

struct shadow_ops {
	/* Map [gva, gva+len) to guest-physical [gpa, gpa+len) with prot. */
	int (*map)(void *ctx, uint64_t gva, uint64_t gpa, uint64_t len,
		   int prot);
	int (*protect)(void *ctx, uint64_t gva, uint64_t len, int prot);
	/* Make [gva, gva+len) inaccessible again (back to the reservation). */
	int (*unmap)(void *ctx, uint64_t gva, uint64_t len);
	void *ctx;
};

/* The paging state of the vCPU that the walker depends on. */
struct paging {
	uint64_t cr0, cr3, cr4, efer;
	unsigned cpl;
	bool ac;                 /* RFLAGS.AC, for SMAP */
};

/* What an access is. */
#define ACC_READ   0u
#define ACC_WRITE  1u
#define ACC_EXEC   2u
#define ACC_SUPER  4u        /* implicit supervisor access (GDT, IDT, TSS) */
#define ACC_PEEK   16u       /* a look that leaves no trace: no A/D bits */

enum walk_status {
	WALK_OK,
	WALK_FAULT,       /* guest #PF: deliver with walk.pf_err */
	WALK_BAD_GPA,     /* translated to an address outside guest RAM */
};

struct walk {
	uint64_t gpa;           /* translation of the address walked */
	uint64_t page_base;     /* guest-virtual base of the guest page */
	uint64_t page_size;     /* 4 KiB, 2 MiB, 4 MiB or 1 GiB */
	uint64_t page_gpa;      /* guest-physical base of the guest page */
	bool writable, user, exec; /* effective rights over all levels */
	bool dirty;             /* leaf D bit (set now or before) */
	bool accessed;          /* leaf A bit as the walk found it */
	uint32_t pf_err;        /* #PF error code when WALK_FAULT */
	uint64_t leaf_gpa;      /* guest-physical address of the leaf entry */
	/* The tables the walk read, root first: where each one lives and
	 * which stretch of guest-virtual space its entry 0 begins. */
	unsigned ntables;
	struct walk_table {
		uint64_t gpa;        /* the table's first entry */
		uint64_t gva_base;   /* address translated through entry 0 */
		uint16_t entries;    /* how many entries it has */
		uint8_t entry_shift; /* log2 of the span of one entry */
		uint8_t entry_size;  /* 4 or 8 bytes */
	} tables[4];
};

/* Paging modes the walker implements. */
enum paging_mode { PG_OFF, PG_32, PG_PAE, PG_4LEVEL };
enum paging_mode paging_mode_of(const struct paging *pg);

struct shadow_config {
	uint8_t *ram;            /* the monitor's view of guest RAM */
	uint64_t ram_size;
	uint64_t gva_limit;      /* guest virtual addresses must be below */
	uint64_t gva_floor;      /* and at or above (host mmap_min_addr) */
	bool upper;              /* ...or in the upper canonical half, which
				    the host calls place (in aliases) */
	unsigned maxphyaddr;     /* physical address width the guest sees */
	struct shadow_ops ops;
	unsigned max_spaces;     /* address spaces kept in the cr3 cache */
	unsigned max_mappings;   /* host mapping records, all spaces */
	bool cache;              /* keep shadows of inactive address spaces */
};

struct shadow;

struct shadow *shadow_create(const struct shadow_config *cfg);
void shadow_destroy(struct shadow *s);

/*
 * Translate gva for an access as the hardware would, setting accessed and
 * dirty bits.  No host mapping changes.  Used by the emulator to reach
 * guest memory (instruction fetch, operands, exception frames).
 */
enum walk_status shadow_walk(struct shadow *s, const struct paging *pg,
			     uint64_t gva, unsigned access, struct walk *w);

enum fault_result {
	FAULT_FIXED,      /* a host mapping now exists: retry the access */
	FAULT_GUEST_PF,   /* deliver #PF(err) at cr2 = gva to the guest */
	FAULT_PT_WRITE,   /* a store hit a page table: emulate it, then call
			     shadow_phys_written() */
	FAULT_EXEC_SCAN,  /* a fetch hit an unscanned page: scan it, then
			     call shadow_code_ready() */
	FAULT_CODE_WRITE, /* a store hit a code page: undo its patches,
			     call shadow_code_dirty(), retry */
	FAULT_BAD_GPA,    /* the guest's tables point outside RAM */
	FAULT_OUTSIDE,    /* gva outside the reserved window */
	FAULT_EMULATE,    /* an allowed fetch no host mapping can allow:
			     emulate the instruction at gva */
	FAULT_HOST_ERROR, /* the host refused a mapping call */
};

struct fault_info {
	uint32_t pf_err;         /* for FAULT_GUEST_PF */
	uint64_t gpa;            /* translated address, when known */
	struct walk walk;
};

/*
 * A host fault at gva for an access: decide what it means and, where the
 * guest's tables allow it, map.
 */
enum fault_result shadow_fault(struct shadow *s, const struct paging *pg,
			       uint64_t gva, unsigned access,
			       struct fault_info *fi);

/* The guest loaded cr3 (with or without a changed root). */
void shadow_set_cr3(struct shadow *s, const struct paging *pg);
/* The guest's privilege level changed between user and supervisor. */
void shadow_set_cpl(struct shadow *s, const struct paging *pg);
/* invlpg: forget the translation of one page. */
void shadow_invlpg(struct shadow *s, uint64_t gva);
/* CR0/CR4/EFER changed in a way that alters every translation. */
void shadow_flush(struct shadow *s);
/* Drop every cached space too (e.g. the paging mode changed). */
void shadow_reset(struct shadow *s, const struct paging *pg);

/*
 * Guest-physical [gpa, gpa+len) was written by someone other than a native
 * guest store (the emulator, a hypercall, a device): drop the mappings the
 * old contents of any page table there produced.
 */
void shadow_phys_written(struct shadow *s, uint64_t gpa, uint64_t len);

/* Is the guest-physical page holding gpa a page table right now? */
bool shadow_is_page_table(const struct shadow *s, uint64_t gpa);

/*
 * Code pages, for an engine that keeps copies of guest code (the scanner
 * its patched frames, the translator its translations): a frame is "code"
 * from shadow_code_ready() until shadow_code_dirty(), and never writable
 * in the host meanwhile, so that a store to it faults (FAULT_CODE_WRITE)
 * before it changes the code.  With scanning on, a frame is executable
 * in the host only while it is code.
 */
void shadow_set_scanning(struct shadow *s, bool on);
void shadow_code_ready(struct shadow *s, uint64_t gpa);
void shadow_code_dirty(struct shadow *s, uint64_t gpa);
bool shadow_code_is_ready(const struct shadow *s, uint64_t gpa);

struct shadow_stats {
	uint64_t faults_fixed, faults_guest, pt_writes, invalidations;
	uint64_t pages_dropped, maps, unmaps, protects, cr3_switches;
	uint64_t cache_hits, cache_misses;
	uint64_t pages_around;     /* mapped by fault-around, no fault of their own */
	unsigned spaces, mappings, tables;
};
void shadow_get_stats(const struct shadow *s, struct shadow_stats *st);

/* How many pages the last invalidating call dropped (for tracing). */
uint64_t shadow_last_dropped(const struct shadow *s);
/* A count that moves whenever a translation the guest's tables give may
 * have changed as a TLB would see it: cr3 loads (even of the same value),
 * invlpg, flushes, paging-mode changes, stores to a page table; and when
 * a frame becomes a page table or scanned code, which only the shadow's
 * own mappings may write.  A cache of translations keyed by it is as
 * fresh as a TLB must be. */
uint64_t shadow_generation(const struct shadow *s);

#endif /* TRAPEZE_SHADOW_H */
