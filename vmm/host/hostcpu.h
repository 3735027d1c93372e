/*
 * What this host's CPU and kernel do, detected at start-up: the costs and
 * features differ from one machine to the next, so nothing is assumed.
 */
#ifndef TRAPEZE_HOSTCPU_H
#define TRAPEZE_HOSTCPU_H

#include <stdbool.h>
#include <stdint.h>

#define CPUID_CACHE 768

struct cpuid_entry {
	uint32_t leaf, sub, r[4];
};

struct host_features {
	char vendor[13];
	bool amd;                  /* vendor is "AuthenticAMD" */
	bool fsgsbase;        /* rd/wr{fs,gs}base work at CPL 3 (AT_HWCAP2) */
	bool umip;            /* sgdt/sidt/sldt/smsw/str fault at CPL 3 */
	bool cpuid_faulting;  /* arch_prctl(ARCH_SET_CPUID, 0) works */
	bool sud;             /* Syscall User Dispatch (PR_SET_SYSCALL_USER_DISPATCH) */
	unsigned maxphyaddr;  /* physical address bits */
	uint64_t tsc_khz;     /* measured */
	bool tsc_clock;       /* the host's clocksource is the TSC */
	uint64_t mmap_min_addr;    /* 0 when page0 */
	bool page0;                /* this process may map address 0 */
	/* The host's CPUID, read once at start-up: the monitor answers the
	 * guest's cpuid from here, even after turning on CPUID faulting. */
	unsigned ncpuid;
	struct cpuid_entry cpuid[CPUID_CACHE];
};

void hostcpu_detect(struct host_features *h);
void hostcpu_cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4]);
/* A leaf from the start-up snapshot; zeros for a leaf the host lacks. */
/* BMI2 (rorx, which rewritten accesses use: it leaves the flags). */
bool hostcpu_has_bmi2(const struct host_features *h);
void hostcpu_cpuid_cached(const struct host_features *h, uint32_t leaf,
			  uint32_t sub, uint32_t r[4]);

#endif /* TRAPEZE_HOSTCPU_H */
