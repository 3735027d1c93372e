/*
 * The signal backend: guest and monitor share one process.
 *
 * The guest's instructions run directly on the CPU at CPL 3.  Whatever the
 * host refuses comes back as a signal on the alternate stack (so that the
 * kernel never writes a signal frame onto the guest's stack): SIGSEGV for
 * #GP and #PF, SIGILL for #UD, SIGTRAP for int3 and single steps, SIGFPE,
 * SIGBUS, and SIGSYS for a guest `syscall`, which Syscall User Dispatch
 * stops before the host kernel acts on it.  entry.S saves the guest's
 * FS/GS bases and restores the monitor's; trap_handle() copies the
 * registers into the vCPU, says what the host reported (struct
 * host_trap), hands it to the run loop (core/run.c: vm_trap), and copies
 * the registers back; the kernel's sigreturn resumes the guest.
 *
 * The guest could reach the monitor's memory with a wild pointer (nothing
 * separates them but the guest's own page tables), so this backend is for
 * trusted guests.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>
#include <asm/prctl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#define UNW_LOCAL_ONLY
#include <libunwind.h>

#include "backend/backend.h"
#include "engine/bt.h"
#include "engine/translate.h"
#include "engine/upper.h"
#include "dev/uart.h"
#include "core/report.h"
#include "host/terminal.h"
#include "core/vm.h"

#ifndef PR_SET_SYSCALL_USER_DISPATCH
#define PR_SET_SYSCALL_USER_DISPATCH 59
#define PR_SYS_DISPATCH_ON 1
#endif
#ifndef SYS_USER_DISPATCH
#define SYS_USER_DISPATCH 2
#endif
#ifndef TRAP_PERF
#define TRAP_PERF 6
#endif
#ifndef SYS_SECCOMP
#define SYS_SECCOMP 1
#endif

/* Linux's user segments (arch/x86/include/asm/segment.h). */
#define HOST_CS64 0x33
#define HOST_CS32 0x23
#define HOST_SS   0x2b

#define ALTSTACK_SIZE (256 * 1024)

void trap_entry(int sig, siginfo_t *si, void *uc);
void trap_handle(int sig, siginfo_t *si, ucontext_t *uc);
extern uint64_t trap_guest_fs, trap_guest_gs, trap_monitor_fs;
extern uint32_t trap_fs_mode, trap_data32;

static const int trap_signals[] = { SIGSEGV, SIGILL, SIGTRAP, SIGBUS,
				    SIGFPE, SIGSYS };
#define SIG_VTIME SIGRTMIN        /* the host timer of virtual time */
#define SIG_KICK (SIGRTMIN + 1)   /* a request from another thread */
static int async_signals[] = { SIGALRM, SIGINT, SIGTERM, SIGUSR1, 0, 0 };

static volatile sig_atomic_t started, in_trap;
static struct vm *the_vm;         /* the one the handlers reach */
static uint64_t gs_live;          /* GS base last put in the register */

/* ---- registers ------------------------------------------------------- */

static const int greg_of[NR_GPRS] = {
	REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_RSP, REG_RBP, REG_RSI,
	REG_RDI, REG_R8, REG_R9, REG_R10, REG_R11, REG_R12, REG_R13, REG_R14,
	REG_R15,
};

static void regs_in(struct vcpu *v, const mcontext_t *mc)
{
	unsigned i;

	/* 32-bit code cannot touch r8-r15 (and the translator's cache
	 * borrows them there): the guest's stay as the vCPU holds them. */
	for (i = 0; i < (vcpu_mode(v) == MODE_LONG64 ? NR_GPRS : 8u); i++)
		v->gpr[i] = mc->gregs[greg_of[i]];
	v->rip = mc->gregs[REG_RIP];
	/* The guest's IF, IOPL and AC live in the vCPU; the rest is real. */
	v->rflags = ((uint64_t)mc->gregs[REG_EFL] & ~RFLAGS_VIRTUAL) |
		    (v->rflags & RFLAGS_VIRTUAL);
	/* A TF the monitor set for a single step is not the guest's. */
	v->irq.stepped = v->irq.tf_ours;
	if (v->irq.tf_ours) {
		v->rflags &= ~RFLAGS_TF;
		v->irq.tf_ours = false;
	}
	if (trap_fs_mode == 0) {
		v->seg[SR_FS].base = trap_guest_fs;
		v->seg[SR_GS].base = trap_guest_gs;
	}
}

/* The real RFLAGS the guest resumes with: its own but for what only the
 * vCPU holds, IF set; TF for a step the monitor wants (to close an sti
 * shadow, or one instruction the translator has run natively).  In the
 * translator's cache, never TF: what the guest single-steps runs
 * natively, or is the emulator's (tc_resume). */
static uint64_t host_flags(struct vcpu *v, bool step, bool in_cache)
{
	uint64_t fl = v->rflags & ~RFLAGS_VIRTUAL;

	/* Alignment checks happen at CPL 3 only, so only a guest at its
	 * CPL 3 with CR0.AM gets the real AC. */
	if ((v->rflags & RFLAGS_AC) && vcpu_cpl(v) == 3 && (v->cr0 & CR0_AM))
		fl |= RFLAGS_AC;
	if (in_cache)
		return (fl & ~RFLAGS_TF) | RFLAGS_IF | RFLAGS_FIXED;
	if ((v->irq.step || step) && !(fl & RFLAGS_TF)) {
		fl |= RFLAGS_TF;
		v->irq.tf_ours = true;
	}
	return fl | RFLAGS_IF | RFLAGS_FIXED;
}

/* The code segment: the guest's width, but 64-bit in the cache. */
static uint16_t host_cs(const struct vcpu *v, bool in_cache)
{
	return in_cache || vcpu_mode(v) == MODE_LONG64 ? HOST_CS64 : HOST_CS32;
}

static void regs_out(struct vcpu *v, mcontext_t *mc, uint64_t rip,
		     bool in_cache, bool step)
{
	uint16_t cs = host_cs(v, in_cache);
	unsigned i;

	for (i = 0; i < NR_GPRS; i++)
		mc->gregs[greg_of[i]] = v->gpr[i];
	mc->gregs[REG_RIP] = rip;
	mc->gregs[REG_EFL] = host_flags(v, step, in_cache);
	mc->gregs[REG_CSGSFS] = (mc->gregs[REG_CSGSFS] & 0x0000ffffffff0000ll) |
				cs | ((long long)HOST_SS << 48);
	trap_data32 = cs == HOST_CS32;   /* entry.S loads DS and ES */
	trap_guest_fs = v->seg[SR_FS].base;
	if (trap_fs_mode == 0) {
		trap_guest_gs = v->seg[SR_GS].base;
	} else if (v->seg[SR_GS].base != gs_live) {
		syscall(SYS_arch_prctl, ARCH_SET_GS, v->seg[SR_GS].base);
		gs_live = v->seg[SR_GS].base;
	}
}

/* ---- classification -------------------------------------------------- */

static void classify(int sig, const siginfo_t *si, const mcontext_t *mc,
		     struct host_trap *t)
{
	unsigned trapno = mc->gregs[REG_TRAPNO];

	memset(t, 0, sizeof(*t));
	t->vector = trapno;
	t->err = mc->gregs[REG_ERR];
	switch (sig) {
	case SIGSEGV:
		if (trapno == X86_PF) {
			t->kind = HT_PAGE_FAULT;
			t->addr = (uint64_t)si->si_addr;
		} else if (trapno == X86_GP) {
			t->kind = HT_INSN;
		} else {
			t->kind = HT_EXCEPTION;   /* #SS, #OF, #BR... */
		}
		break;
	case SIGILL:
		t->kind = HT_INSN;
		t->vector = X86_UD;
		break;
	case SIGTRAP:
		t->kind = trapno == X86_BP ? HT_BREAKPOINT : HT_EXCEPTION;
		/* The host says a single step apart from icebp's #DB. */
		t->single_step = trapno == X86_DB && si->si_code == TRAP_TRACE;
		if (si->si_code == TRAP_PERF) {
			/* One of the guest's breakpoints (debugreg.c): the
			 * kernel's siginfo has the event's sig_data right
			 * after si_addr, where glibc 2.36 names nothing. */
			unsigned long data;

			memcpy(&data, (const char *)&si->si_addr +
				      sizeof(void *), sizeof(data));
			/* (REG_TRAPNO is left from an earlier trap.) */
			t->kind = HT_EXCEPTION;
			t->vector = X86_DB;
			t->breakpoint = (unsigned)data;
		}
		break;
	case SIGSYS:
		t->kind = HT_SYSCALL;
		break;
	case SIGBUS:
		t->kind = HT_EXCEPTION;
		t->vector = X86_AC;
		break;
	default:   /* SIGFPE: #DE, #MF, #XM by trap number */
		t->kind = HT_EXCEPTION;
	}
}

/* ---- monitor faults -------------------------------------------------- */

/* A fault inside the monitor itself is a bug in Trapeze: say where,
 * with the monitor's call stack, and stop. */
static void monitor_fault(struct vm *vm, int sig, ucontext_t *uc)
{
	unw_cursor_t c;
	char name[128];
	unw_word_t off, ip;

	uart_flush(vm->pc.com1);
	fprintf(stderr, "trapeze: internal error: signal %d (%s) in the "
		"monitor at %#llx; guest was at ", sig, strsignal(sig),
		(unsigned long long)uc->uc_mcontext.gregs[REG_RIP]);
	report_where(vm, stderr);
	fprintf(stderr, "\n  monitor stack:\n");
	if (unw_init_local2(&c, (unw_context_t *)uc, UNW_INIT_SIGNAL_FRAME) == 0)
		do {
			unw_get_reg(&c, UNW_REG_IP, &ip);
			if (unw_get_proc_name(&c, name, sizeof(name), &off))
				snprintf(name, sizeof(name), "?"), off = 0;
			fprintf(stderr, "    %#lx %s+%#lx\n", (unsigned long)ip,
				name, (unsigned long)off);
		} while (unw_step(&c) > 0);
	terminal_restore();
	_exit(EXIT_INTERNAL);
}

/* The signals that stop the run from outside (vm.h's vm_request). */
static unsigned stop_request(int sig)
{
	switch (sig) {
	case SIGALRM: return VM_STOP_TIMEOUT;
	case SIGINT: return VM_STOP_INTERRUPT;
	case SIGTERM: return VM_STOP_TERMINATE;
	default: return 0;
	}
}

/* ---- the translator's way in ---------------------------------------- */

static void arm_vtime(void *ctx, uint64_t ns);

/* One of trap_signals: the guest's own instruction stopped it. */
static bool is_trap_signal(int sig)
{
	unsigned i;

	for (i = 0; i < sizeof(trap_signals) / sizeof(trap_signals[0]); i++)
		if (trap_signals[i] == sig)
			return true;
	return false;
}

/*
 * A signal caught the guest where no guest state can be taken: in the
 * translator's trampoline, on its way into the monitor or back, or a
 * signal from outside between the steps of a rewritten instruction.  A
 * stop is noted; then the host timer is set to interrupt the guest again
 * shortly, where the trap path can see to what the signal was for.
 */
static void put_off_signal(struct vm *vm, int sig, ucontext_t *uc)
{
	if (is_trap_signal(sig))
		monitor_fault(vm, sig, uc);
	if (stop_request(sig))
		vm_request(vm, stop_request(sig));
	arm_vtime(NULL, timer_now() + 20000);
}

/*
 * A callout from the translator's cache: the trampoline saved the
 * guest's registers in f and gave FS the monitor's base.  As for a
 * signal, the vCPU takes the registers, the run loop the trap, and the
 * trampoline returns where the guest resumes.
 */
void backend_signal_callout(struct tc_frame *f)
{
	struct vm *vm = the_vm;
	struct vcpu *v = &vm->cpu;
	struct host_trap t = { .kind = HT_CALLOUT };
	bool in_cache, step;
	uint64_t rip;

	in_trap = 1;
	vm->stats.callouts++;
	timers_monitor_begin(&vm->timers, TRIP_CALLOUT);
	v->irq.stepped = false;
	tc_frame_in(vm->tr, f);
	vm_trap(vm, &t);
	rip = vm_resume(vm, &in_cache, &step);
	tc_frame_out(vm->tr, f, rip, host_cs(v, in_cache),
		     host_flags(v, step, in_cache));
	timers_monitor_end(&vm->timers);
	in_trap = 0;
}

/*
 * What the host says happened, as the run loop wants to hear it: the
 * timer of virtual time, a stop from outside (the guest was only
 * interrupted), a 32-bit system call the host mangled, or a fault.
 */
static void host_trap_of(int sig, const siginfo_t *si, const mcontext_t *mc,
			 struct host_trap *t)
{
	memset(t, 0, sizeof(*t));
	if (sig == SIG_VTIME)
		t->kind = HT_TIMER;
	else if (stop_request(sig) || sig == SIG_KICK)
		t->kind = HT_KICK;
	/* The seccomp filter stopped a 32-bit system call: the host has
	 * already replaced the guest's RIP (see stop_compat_syscalls). */
	else if (sig == SIGSYS && si->si_code == SYS_SECCOMP)
		t->kind = HT_COMPAT_SYSCALL;
	else
		classify(sig, si, mc, t);
}

/* The kind of round trip the host made for this trap (timer.h). */
static unsigned trip_of(int sig, const mcontext_t *mc)
{
	if (sig == SIGTRAP)
		return TRIP_BREAKPOINT;
	if (sig != SIGSEGV)
		return TRIP_OTHER;
	return mc->gregs[REG_TRAPNO] == X86_PF ? TRIP_PF : TRIP_GP;
}

/*
 * A signal in the translator's trampoline, between the cache and the
 * monitor, finds no guest state to take, nor does one from outside in the
 * middle of a rewritten instruction: its work is done here or by the
 * monitor soon (put_off_signal).
 */
static bool put_off(struct vm *vm, int sig, ucontext_t *uc)
{
	uint64_t rip = (uint64_t)uc->uc_mcontext.gregs[REG_RIP];

	if (in_trap || !started || !vm->tr ||
	    (!tc_in_trampoline(vm->tr, rip) &&
	     (is_trap_signal(sig) || sig == SIGUSR1 ||
	      tc_state_exact(vm->tr, rip))))
		return false;
	put_off_signal(vm, sig, uc);
	return true;
}

/*
 * A signal that finds the monitor at work (in_trap set, or the
 * translator's callout under way), or the guest not started (or waiting
 * in a halted guest's hlt): a stop is noted for the run loop, a timer is
 * put off, anything else is a bug of the monitor's.  True for the first
 * entry into the guest, whose trap is *t.
 */
static bool monitor_busy(struct vm *vm, int sig, ucontext_t *uc,
			 struct host_trap *t)
{
	if (stop_request(sig)) {
		vm_request(vm, stop_request(sig));
		if (!started)
			vm_take_requests(vm);
		return false;
	}
	if (sig == SIGUSR1 && !started) {
		/* The first entry into the guest (backend_signal_run). */
		started = 1;
		memset(t, 0, sizeof(*t));
		t->kind = HT_START;
		return true;
	}
	if (sig == SIGUSR1 || sig == SIG_KICK)
		return false;     /* not ours, or the trap's end looks */
	/* The host timer, while the monitor works for a callout (where
	 * signals are not masked): it interrupts the guest again shortly,
	 * where the trap path looks at the timers. */
	if (sig == SIG_VTIME) {
		arm_vtime(NULL, timer_now() + 50000);
		return false;
	}
	monitor_fault(vm, sig, uc);
	return false;
}

/*
 * The signal handler (entered from entry.S with the monitor's FS back):
 * the guest's registers go into the vCPU, the run loop handles the trap,
 * and the vCPU goes back into the signal frame, whose sigreturn resumes
 * the guest.
 */
void trap_handle(int sig, siginfo_t *si, ucontext_t *uc)
{
	struct vm *vm = the_vm;
	mcontext_t *mc = &uc->uc_mcontext;
	struct host_trap t;
	bool in_cache, step;
	uint64_t rip;

	if (vm)
		vm->stats.signals++;
	if (put_off(vm, sig, uc))
		return;
	/* Once the guest has started, the monitor runs only inside this
	 * handler or a callout's. */
	if (in_trap || !started || (vm->tr && tc_in_monitor(vm->tr))) {
		if (!monitor_busy(vm, sig, uc, &t))
			return;
		goto run;
	}
	if (sig == SIGUSR1)
		return;
	/* The guest trapped.  First its registers go into the vCPU, and
	 * its clock stops while the monitor works (dev/timer.h). */
	regs_in(&vm->cpu, mc);
	timers_monitor_begin(&vm->timers, trip_of(sig, mc));
	/* What did the host report?  The run loop takes it from there. */
	host_trap_of(sig, si, mc, &t);
	if (t.kind == HT_KICK && stop_request(sig))
		vm_request(vm, stop_request(sig));
run:
	/* From here the monitor is at work: a fault is its bug. */
	in_trap = 1;
	vm_trap(vm, &t);
	in_trap = 0;
	/* The guest resumes from the vCPU, at its RIP or its translation,
	 * when this handler returns (sigreturn). */
	timers_monitor_end(&vm->timers);
	rip = vm_resume(vm, &in_cache, &step);
	regs_out(&vm->cpu, mc, rip, in_cache, step);
}

/* ---- start-up -------------------------------------------------------- */

static void install(struct vm *vm)
{
	static uint8_t *altstack;
	struct sigaction sa;
	stack_t ss;
	unsigned i;

	async_signals[4] = SIG_VTIME;   /* not constant expressions */
	async_signals[5] = SIG_KICK;
	altstack = malloc(ALTSTACK_SIZE);
	ss = (stack_t){ .ss_sp = altstack, .ss_size = ALTSTACK_SIZE };
	if (!altstack || sigaltstack(&ss, NULL) != 0) {
		fprintf(stderr, "trapeze: cannot set up the signal stack\n");
		exit(EXIT_INTERNAL);
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = trap_entry;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof(async_signals) / sizeof(int); i++)
		sigaddset(&sa.sa_mask, async_signals[i]);
	/* Trap signals stay deliverable inside the handler (SA_NODEFER) so
	 * that a monitor bug is reported instead of killing the process. */
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
	for (i = 0; i < sizeof(trap_signals) / sizeof(int); i++)
		sigaction(trap_signals[i], &sa, NULL);
	for (i = 0; i < sizeof(trap_signals) / sizeof(int); i++)
		sigaddset(&sa.sa_mask, trap_signals[i]);
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
	for (i = 0; i < sizeof(async_signals) / sizeof(int); i++)
		sigaction(async_signals[i], &sa, NULL);
}

/* Every syscall from below the end of the window (and of the translation
 * cache's ranges) is the guest's: Syscall User Dispatch turns it into
 * SIGSYS.  The monitor, libc and the vDSO all live above, in the range
 * the kernel lets through. */
static void stop_guest_syscalls(struct vm *vm)
{
	uint64_t top = 1ull << 47, floor = vm->window_hi;

	/* ...and from the translation caches' ranges just above it. */
	if (bt_host_end(vm->bt) > floor)
		floor = bt_host_end(vm->bt);
	if (vm->tr && tc_host_end() > floor)
		floor = tc_host_end();
	if (vm->upper && upper_end() > floor)
		floor = upper_end();
	if (prctl(PR_SET_SYSCALL_USER_DISPATCH, PR_SYS_DISPATCH_ON,
		  floor, top - floor, 0) != 0) {
		fprintf(stderr, "trapeze: Syscall User Dispatch is not "
			"available (%s): guest syscalls cannot be contained\n",
			strerror(errno));
		exit(EXIT_INTERNAL);
	}
}

/*
 * A `syscall` from 32-bit code enters the host's compatibility entry,
 * which replaces the return address with the vDSO's int 0x80 landing pad
 * before Syscall User Dispatch looks at it: the pad is above the window,
 * in the range allowed through, so the host would make the call (tried:
 * a write to fd 1 from compatibility mode printed).  The scanner patches
 * 32-bit syscalls, but --cpu=trap runs them natively, so a seccomp filter
 * traps every system call of a non-x86-64 ABI: the monitor makes none.
 */
static void stop_compat_syscalls(void)
{
	struct sock_filter insns[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
	};
	struct sock_fprog prog = {
		.len = sizeof(insns) / sizeof(insns[0]), .filter = insns,
	};

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
	    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) {
		fprintf(stderr, "trapeze: cannot install the seccomp filter "
			"for 32-bit system calls (%s): guest syscalls cannot "
			"be contained\n", strerror(errno));
		exit(EXIT_INTERNAL);
	}
}

/* A request from another thread (vm_request): the guest's thread gets
 * SIG_KICK, which makes a running guest trap.  On that thread itself the
 * monitor is already running and will look. */
static pid_t vcpu_tid;

static void kick(void *ctx)
{
	(void)ctx;
	if (gettid() != vcpu_tid)
		syscall(SYS_tgkill, getpid(), vcpu_tid, SIG_KICK);
}

/* The host timer of virtual time (dev/timer.h): its signal, SIG_VTIME,
 * interrupts the guest at the guest's next deadline. */
static timer_t vtime_timer;

static void arm_vtime(void *ctx, uint64_t ns)
{
	struct itimerspec it = {
		.it_value = { (time_t)(ns / 1000000000ull),
			      (long)(ns % 1000000000ull) } };

	(void)ctx;
	timer_settime(vtime_timer, TIMER_ABSTIME, &it, NULL);
}

static void arm_timeout(double seconds)
{
	struct itimerval it = { { 0, 0 }, { 0, 0 } };

	if (seconds <= 0)
		return;
	it.it_value.tv_sec = (time_t)seconds;
	it.it_value.tv_usec = (suseconds_t)((seconds - (time_t)seconds) * 1e6);
	if (!it.it_value.tv_sec && !it.it_value.tv_usec)
		it.it_value.tv_usec = 1;
	setitimer(ITIMER_REAL, &it, NULL);
}

int backend_signal_run(struct vm *vm)
{
	the_vm = vm;
	uint64_t fs = 0;

	trap_fs_mode = vm->host.fsgsbase && !getenv("TRAPEZE_NO_FSGSBASE") ? 0
									   : 1;
	syscall(SYS_arch_prctl, ARCH_GET_FS, &fs);
	trap_monitor_fs = fs;
	if (vm->tr)
		tc_set_monitor_fs(vm->tr, fs);
	trap_guest_fs = vm->cpu.seg[SR_FS].base;
	if (trap_fs_mode == 1)
		syscall(SYS_arch_prctl, ARCH_GET_GS, &gs_live);
	install(vm);
	if (timer_create(CLOCK_MONOTONIC, &(struct sigevent){
			.sigev_notify = SIGEV_SIGNAL,
			.sigev_signo = SIG_VTIME }, &vtime_timer) != 0) {
		fprintf(stderr, "trapeze: cannot create the host timer: %s\n",
			strerror(errno));
		return EXIT_INTERNAL;
	}
	timers_set_host_timer(&vm->timers, arm_vtime, NULL);
	vcpu_tid = gettid();
	vm->kick = kick;
	stop_guest_syscalls(vm);
	stop_compat_syscalls();
	/* Where the CPU can make cpuid fault at CPL 3, let it: then even
	 * --cpu=trap sees every cpuid.  The monitor read the host's leaves at
	 * start-up and never executes cpuid again. */
	if (vm->host.cpuid_faulting)
		syscall(SYS_arch_prctl, ARCH_SET_CPUID, 0);
	arm_timeout(vm->opt.timeout);
	/* Last, so that every earlier failure leaves the terminal alone. */
	terminal_raw(vm->opt.console_in);
	/* The handler for this signal loads the guest's registers into the
	 * signal frame: its sigreturn is the first entry into the guest. */
	raise(SIGUSR1);
	fprintf(stderr, "trapeze: internal error: the guest did not start\n");
	return EXIT_INTERNAL;
}
