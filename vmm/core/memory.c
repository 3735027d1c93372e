/*
 * Guest RAM and the window (see memory.h).  The three shadow operations
 * are single system calls: mmap of the memfd at a fixed guest-virtual
 * address, mprotect, and mmap of fresh PROT_NONE reservation over a range
 * to take mappings away again.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/memory.h"
#include "trapeze/abi.h"
#include "core/vm.h"

#define RESERVE_FLAGS (MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE)

int memory_reserve_window(struct vm *vm, char *err, size_t errlen)
{
	uint64_t lo = (vm->host.mmap_min_addr + 4095) & ~4095ull;
	uint64_t hi = TRAPEZE_GVA_LIMIT;
	void *p = mmap((void *)lo, hi - lo, PROT_NONE,
		       RESERVE_FLAGS | MAP_FIXED_NOREPLACE, -1, 0);

	if (p == MAP_FAILED || p != (void *)lo) {
		snprintf(err, errlen,
			 "cannot reserve the guest address window "
			 "[%#llx, %#llx): %s",
			 (unsigned long long)lo, (unsigned long long)hi,
			 p == MAP_FAILED ? strerror(errno)
					 : "the kernel placed it elsewhere");
		if (p != MAP_FAILED)
			munmap(p, hi - lo);
		return -1;
	}
	vm->window_lo = lo;
	vm->window_hi = hi;
	return 0;
}

int memory_create_ram(struct vm *vm, uint64_t size, char *err, size_t errlen)
{
	int fd = memfd_create("trapeze-guest-ram", MFD_CLOEXEC);
	void *p;

	if (fd < 0 || ftruncate(fd, (off_t)size) != 0) {
		snprintf(err, errlen, "cannot create %llu MiB of guest RAM: %s",
			 (unsigned long long)(size >> 20), strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		snprintf(err, errlen, "cannot map guest RAM: %s",
			 strerror(errno));
		close(fd);
		return -1;
	}
	vm->ram_fd = fd;
	vm->ram = p;
	vm->ram_size = size;
	return 0;
}

void memory_destroy(struct vm *vm)
{
	if (vm->ram)
		munmap(vm->ram, vm->ram_size);
	if (vm->ram_fd > 0)
		close(vm->ram_fd);
	if (vm->window_hi)
		munmap((void *)vm->window_lo, vm->window_hi - vm->window_lo);
	vm->ram = NULL;
	vm->window_hi = 0;
}

static int host_map(void *ctx, uint64_t gva, uint64_t gpa, uint64_t len,
		    int prot)
{
	struct vm *vm = ctx;
	/* Fault-around pages are about to be used (the guest marked them
	 * accessed): populating fills their host PTEs in this call, where
	 * each would otherwise take a host page fault of its own on first
	 * touch (a user program walking a fresh heap paid one per 4 KiB
	 * page).  Other maps are left to fault in: a cached address space
	 * re-created at a cr3 switch, or RAM remapped at a privilege switch,
	 * is mostly not touched again (populating them made the cr3 switch
	 * of make bench's paging benchmark 20% dearer). */
	int populate = prot & SHADOW_POPULATE ? MAP_POPULATE : 0;
	void *p = mmap((void *)gva, len, prot & ~SHADOW_POPULATE,
		       MAP_SHARED | MAP_FIXED | populate, vm->ram_fd,
		       (off_t)gpa);

	return p == MAP_FAILED ? -1 : 0;
}

static int host_protect(void *ctx, uint64_t gva, uint64_t len, int prot)
{
	return mprotect((void *)gva, len, prot);
}

static int host_unmap(void *ctx, uint64_t gva, uint64_t len)
{
	void *p = mmap((void *)gva, len, PROT_NONE, RESERVE_FLAGS | MAP_FIXED,
		       -1, 0);

	return p == MAP_FAILED ? -1 : 0;
}

struct shadow_ops memory_shadow_ops(struct vm *vm)
{
	return (struct shadow_ops){ host_map, host_protect, host_unmap, vm };
}
