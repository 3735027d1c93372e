/*
 * Guest RAM: one memfd.  The monitor maps all of it once, for its own
 * accesses by guest-physical address; the shadow MMU has the backend map
 * pieces of it again at guest-virtual addresses (struct vm_host).
 */
#ifndef TRAPEZE_MEMORY_H
#define TRAPEZE_MEMORY_H

#include <stdint.h>

struct vm;

/* 0 on success; otherwise a message for the user in err. */
int memory_create_ram(struct vm *vm, uint64_t size, char *err, size_t errlen);

#endif
