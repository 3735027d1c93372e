/*
 * Host feature detection.  Each feature is probed the way the monitor will
 * use it, not inferred from a model name: FSGSBASE from the kernel's
 * AT_HWCAP2 (the kernel must have enabled it), UMIP from /proc/cpuinfo's
 * flags (the kernel sets CR4.UMIP when the CPU has it), CPUID faulting by
 * asking for it and giving it back.
 */
#define _GNU_SOURCE
#include <cpuid.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <asm/prctl.h>
#include <x86intrin.h>

#include "host/hostcpu.h"

#ifndef HWCAP2_FSGSBASE
#define HWCAP2_FSGSBASE (1 << 1)
#endif
#ifndef PR_SET_SYSCALL_USER_DISPATCH
#define PR_SET_SYSCALL_USER_DISPATCH 59
#endif

void hostcpu_cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	__cpuid_count(leaf, sub, r[0], r[1], r[2], r[3]);
}

static bool cpuinfo_has_flag(const char *flag)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[4096];
	bool found = false;
	size_t n = strlen(flag);

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		char *p;

		if (strncmp(line, "flags", 5) != 0)
			continue;
		for (p = strstr(line, flag); p; p = strstr(p + 1, flag))
			if (p[-1] == ' ' && (p[n] == ' ' || p[n] == '\n'))
				found = true;
		break;
	}
	fclose(f);
	return found;
}

static uint64_t read_u64_file(const char *path, uint64_t dflt)
{
	FILE *f = fopen(path, "r");
	unsigned long long v;

	if (!f)
		return dflt;
	if (fscanf(f, "%llu", &v) != 1)
		v = dflt;
	fclose(f);
	return v;
}

/* Can this process map page 0?  mmap_min_addr forbids it, except to a
 * process with CAP_SYS_RAWIO (root, usually): then guests whose user code
 * starts at address 0, as xv6's does, can run there natively. */
static bool page0_mappable(void)
{
	void *p = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS |
		       MAP_FIXED_NOREPLACE | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED)
		return false;
	munmap(p, 4096);
	return p == NULL;
}

/*
 * The TSC's rate against the host's monotonic clock, over 2 ms of
 * spinning: each end is a TSC read between two clock reads, so the error
 * is some ns in 2 ms (a few 1e-6).  The host kernel knows the rate,
 * but tells it to a process only through perf's user page when its
 * clock is the TSC itself (cap_user_time, not set under a hypervisor's
 * clock) or on Intel's CPUID leaf 0x15: a wait of 2 ms, not a sleep of
 * 20, is what is left to shorten.
 */
/* A TSC read and the monotonic clock's time at it (ns), taken between
 * two clock reads less than a microsecond apart (not preempted). */
static uint64_t tsc_at(double *ns)
{
	struct timespec a, b;
	uint64_t t;
	double na, nb;

	do {
		clock_gettime(CLOCK_MONOTONIC, &a);
		t = __rdtsc();
		clock_gettime(CLOCK_MONOTONIC, &b);
		na = (double)a.tv_sec * 1e9 + (double)a.tv_nsec;
		nb = (double)b.tv_sec * 1e9 + (double)b.tv_nsec;
	} while (nb - na > 1000);
	*ns = (na + nb) / 2;
	return t;
}

static uint64_t measure_tsc_khz(void)
{
	double n0, n1;
	uint64_t t0 = tsc_at(&n0), t1;

	do
		t1 = tsc_at(&n1);
	while (n1 - n0 < 2e6);
	return (uint64_t)((double)(t1 - t0) / (n1 - n0) * 1e6);
}

/* Is the host's clock the TSC itself (so that the TSC, scaled, is as good
 * a clock between two of its readings)? */
static bool clock_is_tsc(void)
{
	FILE *f = fopen("/sys/devices/system/clocksource/clocksource0/"
			"current_clocksource", "r");
	char name[32] = "";
	bool tsc;

	if (!f)
		return false;
	tsc = fgets(name, sizeof(name), f) && !strcmp(name, "tsc\n");
	fclose(f);
	return tsc;
}

/* Leaves whose answer depends on ECX (the subleaf). */
static bool has_subleaves(uint32_t leaf)
{
	switch (leaf) {
	case 4: case 7: case 0xb: case 0xd: case 0xf: case 0x10: case 0x12:
	case 0x14: case 0x17: case 0x18: case 0x1d: case 0x1f: case 0x20:
	case 0x8000001d: case 0x80000020: case 0x80000026:
		return true;
	default:
		return false;
	}
}

static void snapshot_range(struct host_features *h, uint32_t first,
			   uint32_t last)
{
	uint32_t leaf, sub;

	for (leaf = first; leaf <= last; leaf++)
		for (sub = 0; sub < (has_subleaves(leaf) ? 16u : 1u); sub++) {
			struct cpuid_entry *e = &h->cpuid[h->ncpuid];

			if (h->ncpuid == CPUID_CACHE)
				return;
			e->leaf = leaf;
			e->sub = sub;
			hostcpu_cpuid(leaf, sub, e->r);
			h->ncpuid++;
		}
}

static void snapshot_cpuid(struct host_features *h)
{
	uint32_t r[4];

	hostcpu_cpuid(0, 0, r);
	snapshot_range(h, 0, r[0] < 0x20 ? r[0] : 0x20);
	hostcpu_cpuid(0x80000000, 0, r);
	snapshot_range(h, 0x80000000,
		       r[0] < 0x80000028 ? r[0] : 0x80000028);
}

void hostcpu_cpuid_cached(const struct host_features *h, uint32_t leaf,
			  uint32_t sub, uint32_t r[4])
{
	unsigned i;

	if (!has_subleaves(leaf))
		sub = 0;
	for (i = 0; i < h->ncpuid; i++)
		if (h->cpuid[i].leaf == leaf && h->cpuid[i].sub == sub) {
			memcpy(r, h->cpuid[i].r, sizeof(h->cpuid[i].r));
			return;
		}
	memset(r, 0, 4 * sizeof(r[0]));
}

void hostcpu_detect(struct host_features *h)
{
	uint32_t r[4];

	memset(h, 0, sizeof(*h));
	snapshot_cpuid(h);
	hostcpu_cpuid(0, 0, r);
	memcpy(h->vendor, &r[1], 4);
	memcpy(h->vendor + 4, &r[3], 4);
	memcpy(h->vendor + 8, &r[2], 4);
	h->amd = !strcmp(h->vendor, "AuthenticAMD");
	h->fsgsbase = (getauxval(AT_HWCAP2) & HWCAP2_FSGSBASE) != 0;
	h->umip = cpuinfo_has_flag("umip");
	/* ARCH_GET_CPUID answers 1 when cpuid runs; setting 0 turns on
	 * faulting where the CPU has it.  Give it straight back. */
	if (syscall(SYS_arch_prctl, ARCH_SET_CPUID, 0) == 0) {
		h->cpuid_faulting = true;
		syscall(SYS_arch_prctl, ARCH_SET_CPUID, 1);
	}
	/* PR_SYS_DISPATCH_OFF is accepted wherever the feature exists. */
	h->sud = prctl(PR_SET_SYSCALL_USER_DISPATCH, 0, 0, 0, 0) == 0;
	hostcpu_cpuid(0x80000000, 0, r);
	if (r[0] >= 0x80000008) {
		hostcpu_cpuid(0x80000008, 0, r);
		h->maxphyaddr = r[0] & 0xff;
	} else {
		h->maxphyaddr = 36;
	}
	h->mmap_min_addr = read_u64_file("/proc/sys/vm/mmap_min_addr", 65536);
	if (h->mmap_min_addr < 4096)
		h->mmap_min_addr = 4096;
	h->page0 = page0_mappable();
	if (h->page0)
		h->mmap_min_addr = 0;
	h->tsc_khz = measure_tsc_khz();
	h->tsc_clock = clock_is_tsc();
}

bool hostcpu_has_bmi2(const struct host_features *h)
{
	uint32_t r[4];

	hostcpu_cpuid_cached(h, 7, 0, r);
	return (r[1] & (1u << 8)) != 0;
}
