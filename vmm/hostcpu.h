/*
 * What this host's CPU and kernel do, detected at start-up: the costs and
 * features differ from one machine to the next, so nothing is assumed.
 */
#ifndef TRAPEZE_HOSTCPU_H
#define TRAPEZE_HOSTCPU_H

#include <stdbool.h>
#include <stdint.h>

struct host_features {
	char vendor[13];
	bool fsgsbase;        /* rd/wr{fs,gs}base work at CPL 3 (AT_HWCAP2) */
	bool umip;            /* sgdt/sidt/sldt/smsw/str fault at CPL 3 */
	bool cpuid_faulting;  /* arch_prctl(ARCH_SET_CPUID, 0) works */
	bool sud;             /* Syscall User Dispatch (PR_SET_SYSCALL_USER_DISPATCH) */
	unsigned maxphyaddr;  /* physical address bits */
	uint64_t tsc_khz;     /* measured */
	uint64_t mmap_min_addr;
};

void hostcpu_detect(struct host_features *h);
void hostcpu_cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4]);

#endif /* TRAPEZE_HOSTCPU_H */
