/*
 * Guest RAM and the guest's window in the host address space.
 *
 * Guest RAM is one memfd.  The monitor maps all of it once, for its own
 * accesses by guest-physical address; the shadow MMU maps pieces of it
 * again at guest-virtual addresses inside the window, an address range
 * reserved (PROT_NONE) at start-up so that no host allocation ever lands
 * where a guest page might go.
 */
#ifndef TRAPEZE_MEMORY_H
#define TRAPEZE_MEMORY_H

#include <stdint.h>

#include "shadow.h"

struct vm;

/* 0 on success; otherwise a message for the user in err. */
int memory_reserve_window(struct vm *vm, char *err, size_t errlen);
int memory_create_ram(struct vm *vm, uint64_t size, char *err, size_t errlen);
void memory_destroy(struct vm *vm);

/* The map/protect/unmap calls the shadow MMU makes in this process. */
struct shadow_ops memory_shadow_ops(struct vm *vm);

#endif
