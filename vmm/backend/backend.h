/*
 * Backends run the guest and turn host faults into vm_trap() calls.
 */
#ifndef TRAPEZE_BACKEND_H
#define TRAPEZE_BACKEND_H

#include "core/vm.h"

struct vm;

/* Guest and monitor in this process; returns only on failure. */
int backend_signal_run(struct vm *vm);
/* Where a callout from the translator's cache enters (signal.c). */
void backend_signal_callout(struct tc_frame *f);
/* How guest memory reaches the host there (before vm_create). */
struct vm_host backend_signal_memory(struct vm *vm);

#endif
