/*
 * The toy kernel's internal interfaces: one section per file, in the
 * order a boot meets them.  The kernel runs on an identity map of RAM, so
 * a kernel pointer and a physical address are the same number.
 */
#ifndef TOY_KERNEL_H
#define TOY_KERNEL_H

#include <stddef.h>
#include <stdint.h>

#include "trapeze/abi.h"
#include "trapeze/desc.h"
#include "trapeze/guest.h"
#include "pvops.h"
#include "uapi.h"

#define PAGE_SIZE  4096ull
#define TIMER_HZ   100
#define MS_PER_TICK (1000 / TIMER_HZ)
#define TIMER_VECTOR 0x20            /* IRQ 0, after the PIC remap */
#define PANIC_STATUS 0x70

#define ALIGN_DOWN(x, a) ((x) & ~((a) - 1))
#define ALIGN_UP(x, a)   (((x) + (a) - 1) & ~((a) - 1))

/* console.c */
int kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void panic(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));
int cmdline_has(const char *cmdline, const char *word);
extern int verbose;

#define vprint(...) do { if (verbose) kprintf(__VA_ARGS__); } while (0)

/* uart.c, i8259.c, i8254.c: the native devices */
void uart_init(void);
void uart_write(const char *s, size_t n);
void pic_init(void);
void pic_unmask(unsigned irq);
void pic_eoi(unsigned irq);
int pic_spurious(unsigned irq);
void pit_start(unsigned hz);

/* kalloc.c: physical pages, zeroed */
void kalloc_init(uint64_t start, uint64_t end, int ram_is_zero);
void *kalloc(void);
unsigned kalloc_many(void **pages, unsigned n);
void kfree(void *page);
uint64_t kalloc_free_count(void);

/* vm.c: page tables */
#define PTE_P   0x1ull
#define PTE_W   0x2ull
#define PTE_U   0x4ull
#define PTE_A   0x20ull
#define PTE_D   0x40ull
#define PTE_PS  0x80ull
/* The kernel's own mappings and fresh user pages are made accessed and
 * dirty at once, as Linux's PAGE_KERNEL and its anonymous write faults
 * do: nothing here reads the bits, the CPU need not write them later, and
 * a shadow MMU may map such entries before they are touched. */
#define PTE_AD  (PTE_A | PTE_D)
#define PTE_NX  (1ull << 63)
#define PTE_ADDR 0x000ffffffffff000ull

struct pte_batch {
	struct trapeze_mmu_update req[128];
	unsigned n;
};
void batch_set(struct pte_batch *b, uint64_t *pte, uint64_t val);
void batch_flush(struct pte_batch *b);

extern uint64_t kernel_pml4;
void vm_init(uint64_t ram_size);
uint64_t vm_new(void);
void vm_free(uint64_t pml4);
void vm_switch(uint64_t pml4);
int vm_map(uint64_t pml4, uint64_t va, uint64_t pa, uint64_t flags,
	   struct pte_batch *b);
int vm_demand_zero(uint64_t pml4, uint64_t va);
void *vm_user_addr(uint64_t pml4, uint64_t va, int write);
int copy_from_user(uint64_t pml4, void *dst, uint64_t src, size_t n);
int copy_to_user(uint64_t pml4, uint64_t dst, const void *src, size_t n);

/* exec.c: the user image */
uint64_t exec_load(uint64_t pml4);

/* proc.c: processes */
enum proc_state { UNUSED, EMBRYO, RUNNABLE, RUNNING, SLEEPING, ZOMBIE };

#define NPROC 16
#define KSTACK_SIZE 16384

struct proc {
	enum proc_state state;
	int pid;
	int prog;
	struct proc *parent;
	uint64_t pml4;
	uint64_t rsp;            /* saved by swtch while switched out */
	uint64_t kstack_top;
	const void *chan;        /* what a SLEEPING process waits for */
	int status;              /* for wait(), once ZOMBIE */
	uint64_t report;
	uint64_t cpu_ticks;       /* timer ticks that found it running */
	uint64_t tsc_spawned;     /* the TSC when it was spawned */
	uint64_t tsc_started;     /* ... and when it first ran */
	unsigned preemptions;
};

extern struct proc procs[NPROC];
extern struct proc *current;
int proc_spawn(int prog, struct proc *parent);
void proc_exit(int status) __attribute__((noreturn));
int proc_wait(int pid, uint64_t *report);

/* sched.c: scheduling, sleeping, time */
extern volatile uint64_t ticks;
extern uint64_t scheduler_flags;
void scheduler(void) __attribute__((noreturn));
void sched(void);
int yield(void);
void sleep_on(const void *chan);
void wakeup(const void *chan);
void sleep_ticks(uint64_t n);
void timer_tick(void);
void tick_init(uint64_t tsc_khz);
void tick_resume(void);
void tick_maybe_stop(void);

/* Where the CPU's time goes, by the TSC: user mode, the kernel (the
 * monitor's work for its traps and hypercalls included), idle.  Each
 * change of state is marked where it happens: entries from and returns
 * to user mode, the idle loop.  "times" on the command line prints the
 * three when the machine stops. */
enum cpu_state { IN_KERNEL, IN_USER, IN_IDLE, CPU_STATES };
struct cpu_time {
	uint64_t since;                  /* the TSC at the last change */
	uint64_t spent[CPU_STATES];
	enum cpu_state state;
};
extern struct cpu_time cpu_time;
void cpu_time_init(uint64_t tsc_khz, int report);
void cpu_time_report(void);

/* Inline, as it is on every entry and exit: a call's `ret` would cost a
 * trap under Trapeze's scanner (docs/scanner.md) and skew what it
 * measures. */
static inline void cpu_now(enum cpu_state s)
{
	uint64_t now = rdtsc();

	cpu_time.spent[cpu_time.state] += now - cpu_time.since;
	cpu_time.since = now;
	cpu_time.state = s;
}

/* swtch.S */
void swtch(uint64_t *save_rsp, uint64_t load_rsp);
void trapret(void);

/* trap.c: exceptions and interrupts */
void trap_init(void);

/* syscall.c, entry.S: system calls */
extern uint64_t kernel_stack_top;
void syscall_init(void);
void syscall_entry(void);
void syscall_dispatch(struct trap_frame *f);

#endif /* TOY_KERNEL_H */
