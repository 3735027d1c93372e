/*
 * Guest memory as the vCPU sees it.  The monitor never dereferences a
 * guest-virtual address: it walks the guest's page tables in software
 * (shadow_walk) and reads or writes its own view of guest RAM, so a bad
 * guest pointer becomes a guest #PF, never a monitor fault.
 */
#ifndef TRAPEZE_GMEM_H
#define TRAPEZE_GMEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shadow.h"

struct mmio_bus;
struct mmio_region;
struct vcpu;

/* One translation the emulator used (gmem.c). */
struct gtlb_entry {
	uint64_t vpage, gpage, generation;
	uint8_t key, rights;
};
#define GTLB_SIZE 64

/* [gpa, gpa + len) of RAM is about to change by a store of the
 * monitor's own (an emulated instruction, a hypercall, a device). */
typedef void (*gmem_write_fn)(void *ctx, uint64_t gpa, uint64_t len);
#define GMEM_WATCHERS 2
struct gmem_watch {
	gmem_write_fn fn;
	void *ctx;
};

/*
 * Guest memory as one CPU reaches it: RAM, the shadow MMU that walks the
 * guest's page tables, the devices behind the MMIO bus, and a small TLB.
 * The hooks are how the layers above hear of accesses without this layer
 * naming them: an engine that keeps copies of guest code (the scanner,
 * the translator) is told before the monitor itself stores to RAM, and
 * the tracer of every device access.
 */
struct gmem {
	uint8_t *ram;              /* the monitor's view of guest RAM */
	uint64_t ram_size;
	struct shadow *mmu;
	struct mmio_bus *mmio;
	uint64_t window_lo, window_hi; /* guest addresses the host can map */
	struct gmem_watch watch[GMEM_WATCHERS];
	/* A device access, or an access where nothing answers (dev NULL). */
	void (*mmio_seen)(void *ctx, uint64_t gpa, const struct mmio_region *dev,
			  unsigned size, bool write, uint64_t val);
	void *mmio_seen_ctx;
	struct gtlb_entry tlb[GTLB_SIZE];
};

/* Access flags beyond shadow.h's ACC_*: a stack access (#SS, not #GP,
 * on a non-canonical address). */
#define ACC_STACK 8u

/* On failure these raise the guest exception on the vCPU and return false. */
bool gmem_read(struct vcpu *v, uint64_t gva, void *buf, size_t len,
	       unsigned access);
bool gmem_write(struct vcpu *v, uint64_t gva, const void *buf, size_t len,
		unsigned access);

/* Read up to len bytes of code at gva; returns how many were readable.
 * Raises nothing: when 0, *pf_err and the return say why. */
size_t gmem_fetch(struct vcpu *v, uint64_t gva, uint8_t *buf, size_t len,
		  uint32_t *pf_err);

/* Where the code byte at gva is in guest RAM, as a fetch would find it
 * (false if it would fault, or is not RAM).  Raises nothing. */
bool gmem_code_gpa(struct vcpu *v, uint64_t gva, uint64_t *gpa);

/* Read what the guest would read at gva, for a tool (tracing,
 * unwinding): no fault is raised and no accessed bit is set.  Returns the
 * bytes read (fewer when a page is not mapped). */
size_t gmem_peek(struct vcpu *v, uint64_t gva, void *buf, size_t len);

/* Does a read of size bytes at gva reach a device register that reads as
 * a fixed value (dev/mmio.h)?  Then *val, and its address *gpa.  Raises
 * nothing, sets no accessed bit. */
bool gmem_fixed_at(struct vcpu *v, uint64_t gva, unsigned size,
		   uint64_t *val, uint64_t *gpa);

/* Guest-physical access, bounds-checked: NULL when outside RAM. */
void *gpa_ptr(struct vcpu *v, uint64_t gpa, uint64_t len);

/* Someone other than a native guest store is about to change guest RAM
 * (gpa_will_write: the watchers hear of it first; the scanner gives the
 * scanned code it hits its original bytes back, so that the store lands
 * on them), then has (gpa_written: the
 * shadow re-reads page tables it changed). */
void gpa_will_write(struct vcpu *v, uint64_t gpa, uint64_t len);
void gpa_written(struct vcpu *v, uint64_t gpa, uint64_t len);

/* Be told of the monitor's stores to RAM before they happen (an engine
 * that keeps what it learned of guest code); -1 when all slots are taken. */
int gmem_watch_writes(struct gmem *m, gmem_write_fn fn, void *ctx);

/* Is a linear address canonical for the current mode? */
bool gva_canonical(const struct vcpu *v, uint64_t gva);

/* The walker's view of paging, from the vCPU. */
void vcpu_paging(const struct vcpu *v, struct paging *pg);
/* The vCPU's privilege level (or RFLAGS.AC, which SMAP reads) changed:
 * the shadow MMU re-protects supervisor mappings. */
void vcpu_cpl_changed(struct vcpu *v);
/* Paging changed: a cr3 load (flush false), or CR0/CR4/EFER bits that
 * alter every translation (flush true). */
void vcpu_paging_changed(struct vcpu *v, bool flush);

#endif /* TRAPEZE_GMEM_H */
