/*
 * Guest memory in the monitor's own process (the signal backend): the
 * guest's window is reserved in it with PROT_NONE, so that no host
 * allocation ever lands where a guest page might go, and the shadow MMU's
 * three calls are single system calls here: mmap of the RAM memfd at a
 * fixed guest-virtual address, mprotect, and a fresh PROT_NONE
 * reservation over a range to take mappings away again.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "backend/backend.h"
#include "core/vm.h"

#define RESERVE_FLAGS (MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE)

static int reserve(void *ctx, uint64_t lo, uint64_t hi, char *err,
		   size_t errlen)
{
	void *p = mmap((void *)lo, hi - lo, PROT_NONE,
		       RESERVE_FLAGS | MAP_FIXED_NOREPLACE, -1, 0);

	(void)ctx;
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
	return 0;
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
	(void)ctx;
	return mprotect((void *)gva, len, prot);
}

static int host_unmap(void *ctx, uint64_t gva, uint64_t len)
{
	void *p = mmap((void *)gva, len, PROT_NONE, RESERVE_FLAGS | MAP_FIXED,
		       -1, 0);

	(void)ctx;
	return p == MAP_FAILED ? -1 : 0;
}

struct vm_host backend_signal_memory(struct vm *vm)
{
	return (struct vm_host){
		.reserve = reserve,
		.ops = { host_map, host_protect, host_unmap, vm },
		.native = true,
		.callout = backend_signal_callout,
	};
}
