/*
 * The host probe: does an instruction fault at CPL 3 on this machine?
 * Each one runs natively in a child process (so that nothing it does to
 * segment registers can touch the monitor) with handlers that record the
 * signal and jump back.  With UMIP, sgdt, sidt, sldt, smsw and str do
 * fault, but Linux answers them itself with fixed values and sends no
 * signal: to the monitor they are as silent as on a CPU without UMIP.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <asm/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/probe.h"

static sigjmp_buf back;
static volatile sig_atomic_t caught;

static void on_signal(int sig)
{
	caught = sig;
	siglongjmp(back, 1);
}

static uint8_t dt[10];

/*
 * Far call and far jmp through m16:32 pointers need code below 4 GiB (the
 * pointer's offset is 32 bits on AMD, and a 32-bit far call pushes EIP),
 * while this program is position-independent and loaded higher: they run
 * from a copy of these bytes in a page mapped below 2 GiB.
 */
static const uint8_t far_call_blob[] = {
	0xff, 0x1d, 0x05, 0, 0, 0,      /* lcall *[rip+5] (the pointer) */
	0xc3,                           /* ret: back to C */
	0xcb,                           /* +7: the target, lret */
	0x90, 0x90, 0x90,
	0, 0, 0, 0, 0x33, 0,            /* +11: pointer: offset, selector */
};
static const uint8_t far_jmp_blob[] = {
	0xff, 0x2d, 0x01, 0, 0, 0,      /* ljmp *[rip+1] (the pointer) */
	0xc3,                           /* +6: the target, ret to C */
	0, 0, 0, 0, 0x33, 0,            /* +7: pointer: offset, selector */
};
static void (*low_call)(void), (*low_jmp)(void);

static bool map_low_code(void)
{
	uint8_t *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
	uint32_t off;

	if (p == MAP_FAILED)
		return false;
	memcpy(p, far_call_blob, sizeof(far_call_blob));
	off = (uint32_t)(uintptr_t)p + 7;
	memcpy(p + 11, &off, 4);
	memcpy(p + 64, far_jmp_blob, sizeof(far_jmp_blob));
	off = (uint32_t)(uintptr_t)p + 64 + 6;
	memcpy(p + 64 + 7, &off, 4);
	low_call = (void (*)(void))p;
	low_jmp = (void (*)(void))(p + 64);
	return true;
}

/* Each case executes one instruction the way the demonstration does. */
static void run_case(enum probe_insn i)
{
	uint64_t v = 0;

	switch (i) {
	case PROBE_SGDT: __asm__ volatile("sgdt %0" : "=m"(dt)); break;
	case PROBE_SIDT: __asm__ volatile("sidt %0" : "=m"(dt)); break;
	case PROBE_SLDT: __asm__ volatile("sldt %%ax" : "+a"(v)); break;
	case PROBE_STR: __asm__ volatile("str %%ax" : "+a"(v)); break;
	case PROBE_SMSW: __asm__ volatile("smsw %%ax" : "+a"(v)); break;
	case PROBE_PUSHF: __asm__ volatile("pushfq; popq %0" : "=r"(v)); break;
	case PROBE_POPF: __asm__ volatile("pushfq; popfq" ::: "cc"); break;
	case PROBE_LAR:
		__asm__ volatile("larq %1, %0" : "+r"(v) : "r"(0x18ull) : "cc");
		break;
	case PROBE_LSL:
		__asm__ volatile("lslq %1, %0" : "+r"(v) : "r"(0x18ull) : "cc");
		break;
	case PROBE_VERR: __asm__ volatile("verr %w0" : : "r"(0x18) : "cc"); break;
	case PROBE_VERW: __asm__ volatile("verw %w0" : : "r"(0x18) : "cc"); break;
	/* GS, not FS: FS holds this process's thread pointer. */
	case PROBE_POP:
		__asm__ volatile("pushq $0x2b; popq %%gs" ::: "memory");
		break;
	case PROBE_PUSH: __asm__ volatile("pushq %%gs; popq %0" : "=r"(v)); break;
	case PROBE_MOV: __asm__ volatile("movq %%cs, %0" : "=r"(v)); break;
	case PROBE_CALL: low_call(); break;
	case PROBE_JMP: low_jmp(); break;
	case PROBE_INT: __asm__ volatile("int $0x40"); break;
	case PROBE_RET:
		__asm__ volatile("pushq $0x33; leaq 1f(%%rip), %%rax; "
				 "pushq %%rax; lretq; 1:" ::: "rax", "memory");
		break;
	case PROBE_CPUID:
		__asm__ volatile("cpuid" : "+a"(v) : : "rbx", "rcx", "rdx");
		break;
	default:
		break;
	}
}

static enum probe_result probe_one(enum probe_insn i, bool umip)
{
	caught = 0;
	if (sigsetjmp(back, 1) == 0)
		run_case(i);
	if (caught)
		return PROBE_TRAPS;
	/* With UMIP these five fault, and Linux answers them for the
	 * process with fixed values instead of sending a signal. */
	if (umip && (i == PROBE_SGDT || i == PROBE_SIDT || i == PROBE_SMSW ||
		     i == PROBE_SLDT || i == PROBE_STR))
		return PROBE_HIDDEN;
	return PROBE_SILENT;
}

int probe_host(bool umip, bool cpuid_faulting,
	       enum probe_result out[PROBE_COUNT])
{
	int fds[2], status;
	pid_t pid;
	unsigned i;

	if (pipe(fds) != 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		struct sigaction sa;
		enum probe_result r[PROBE_COUNT];

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_signal;
		sigaction(SIGSEGV, &sa, NULL);
		sigaction(SIGILL, &sa, NULL);
		sigaction(SIGTRAP, &sa, NULL);
		sigaction(SIGBUS, &sa, NULL);
		if (!map_low_code())
			_exit(1);
		/* As the monitor does: cpuid faults where the CPU can. */
		if (cpuid_faulting)
			syscall(SYS_arch_prctl, ARCH_SET_CPUID, 0);
		for (i = 0; i < PROBE_COUNT; i++)
			r[i] = probe_one(i, umip);
		_exit(write(fds[1], r, sizeof(r)) == sizeof(r) ? 0 : 1);
	}
	close(fds[1]);
	i = read(fds[0], out, sizeof(enum probe_result) * PROBE_COUNT) ==
	    (ssize_t)(sizeof(enum probe_result) * PROBE_COUNT);
	close(fds[0]);
	waitpid(pid, &status, 0);
	return i ? 0 : -1;
}
