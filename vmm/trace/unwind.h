/*
 * Guest call stacks for `trapeze trace -k`, unwound with libunwind.
 */
#ifndef TRAPEZE_UNWIND_H
#define TRAPEZE_UNWIND_H

#include <stdint.h>

#include "cpu/vcpu.h"

#define UNWIND_MAX 16

struct vm;
struct symbols;
struct unwinder;

struct unwind_frames {
	unsigned n;
	uint64_t rip[UNWIND_MAX];
	char name[UNWIND_MAX][64];
};

/* NULL when the guest image has no .eh_frame_hdr. */
struct unwinder *unwind_create(struct vm *vm, const char *guest_path);
/* The callers of the code at regs->rip, innermost first (the frame at
 * regs->rip itself is the event's own line). */
int unwind_stack(struct unwinder *u, struct vm *vm, const struct vcpu *regs,
		 const struct symbols *syms, struct unwind_frames *out);

#endif
