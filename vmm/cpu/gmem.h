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

struct vm;

/* Access flags beyond shadow.h's ACC_*: a stack access (#SS, not #GP,
 * on a non-canonical address). */
#define ACC_STACK 8u

/* On failure these raise the guest exception on the vCPU and return false. */
bool gmem_read(struct vm *vm, uint64_t gva, void *buf, size_t len,
	       unsigned access);
bool gmem_write(struct vm *vm, uint64_t gva, const void *buf, size_t len,
		unsigned access);

/* Read up to len bytes of code at gva; returns how many were readable.
 * Raises nothing: when 0, *pf_err and the return say why. */
size_t gmem_fetch(struct vm *vm, uint64_t gva, uint8_t *buf, size_t len,
		  uint32_t *pf_err);

/* Where the code byte at gva is in guest RAM, as a fetch would find it
 * (false if it would fault, or is not RAM).  Raises nothing. */
bool gmem_code_gpa(struct vm *vm, uint64_t gva, uint64_t *gpa);

/* Read what the guest would read at gva, for a tool (tracing,
 * unwinding): no fault is raised and no accessed bit is set.  Returns the
 * bytes read (fewer when a page is not mapped). */
size_t gmem_peek(struct vm *vm, uint64_t gva, void *buf, size_t len);

/* Guest-physical access, bounds-checked: NULL when outside RAM. */
void *gpa_ptr(struct vm *vm, uint64_t gpa, uint64_t len);

/* Someone other than a native guest store is about to change guest RAM
 * (gpa_will_write: scanned code it hits gets its original bytes back
 * first, so that the store lands on them), then has (gpa_written: the
 * shadow re-reads page tables it changed). */
void gpa_will_write(struct vm *vm, uint64_t gpa, uint64_t len);
void gpa_written(struct vm *vm, uint64_t gpa, uint64_t len);

/* Is a linear address canonical for the current mode? */
bool gva_canonical(const struct vm *vm, uint64_t gva);

#endif /* TRAPEZE_GMEM_H */
