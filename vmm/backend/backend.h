/*
 * Backends run the guest and turn host faults into vm_trap() calls.
 */
#ifndef TRAPEZE_BACKEND_H
#define TRAPEZE_BACKEND_H

struct vm;

/* Guest and monitor in this process; returns only on failure. */
int backend_signal_run(struct vm *vm);

#endif
