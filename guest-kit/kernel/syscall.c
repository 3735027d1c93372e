/*
 * System calls: the MSRs that make `syscall` land in entry.S, and the
 * calls themselves, one small function each, found by number in a table.
 * Arguments come from the saved user registers (RDI, RSI, RDX, R10, R8),
 * the result goes back in RAX.  User pointers are never dereferenced:
 * copy_from_user() and copy_to_user() walk the process's page tables.
 */
#include "kernel.h"

/* TF, IF, DF, IOPL, NT, AC: the kernel starts with a clean RFLAGS and,
 * above all, with interrupts off until it stands on its own stack. */
#define SFMASK_VALUE 0x47700ull
#define WRITE_CHUNK 256

typedef int64_t (*syscall_fn)(struct trap_frame *f);

void syscall_init(void)
{
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SCE);
	wrmsr(MSR_STAR, STAR_VALUE);
	wrmsr(MSR_LSTAR, (uint64_t)(uintptr_t)syscall_entry);
	wrmsr(MSR_SFMASK, SFMASK_VALUE);
}

static int64_t sys_write(struct trap_frame *f)
{
	char buf[WRITE_CHUNK];
	uint64_t src = f->rsi, left = f->rdx;

	if (f->rdi != 1 && f->rdi != 2)
		return -1;
	while (left) {
		size_t n = left < sizeof(buf) ? left : sizeof(buf);

		if (copy_from_user(current->pml4, buf, src, n) < 0)
			return -1;
		pv->console_write(buf, n);
		src += n;
		left -= n;
	}
	return (int64_t)f->rdx;
}

static int64_t sys_exit(struct trap_frame *f)
{
	proc_exit((int)f->rdi);
}

static int64_t sys_getpid(struct trap_frame *f)
{
	return current->pid;
}

static int64_t sys_yield(struct trap_frame *f)
{
	yield();
	return 0;
}

static int64_t sys_sleep(struct trap_frame *f)
{
	uint64_t ms = f->rdi < 1000000000 ? f->rdi : 1000000000;

	sleep_ticks((ms + MS_PER_TICK - 1) / MS_PER_TICK);
	return 0;
}

static int64_t sys_spawn(struct trap_frame *f)
{
	return proc_spawn((int)f->rdi, current);
}

/* The status even if the report cannot be stored: the child is gone. */
static int64_t sys_wait(struct trap_frame *f)
{
	uint64_t report = 0;
	int status = proc_wait((int)f->rdi, &report);

	if (f->rsi && status != WAIT_NOCHILD)
		copy_to_user(current->pml4, f->rsi, &report, sizeof(report));
	return status;
}

static int64_t sys_report(struct trap_frame *f)
{
	current->report = f->rdi;
	return 0;
}

static int64_t sys_uptime(struct trap_frame *f)
{
	tick_resume();
	return (int64_t)(ticks * MS_PER_TICK);
}

static const syscall_fn syscalls[SYS_COUNT] = {
	[SYS_write] = sys_write,
	[SYS_exit] = sys_exit,
	[SYS_getpid] = sys_getpid,
	[SYS_yield] = sys_yield,
	[SYS_sleep] = sys_sleep,
	[SYS_spawn] = sys_spawn,
	[SYS_wait] = sys_wait,
	[SYS_report] = sys_report,
	[SYS_uptime] = sys_uptime,
};

void syscall_dispatch(struct trap_frame *f)
{
	uint64_t nr = f->rax;

	cpu_now(IN_KERNEL);
	f->rax = nr < SYS_COUNT ? (uint64_t)syscalls[nr](f) : (uint64_t)-1;
	cpu_now(IN_USER);
}
