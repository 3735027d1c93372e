/*
 * The interface between the toy kernel and its user programs, included by
 * both sides (the kernel's C, the user library's C and assembly): system
 * call numbers, program numbers, the user address-space layout and the
 * exit statuses the kernel makes up for processes it kills.
 *
 * System calls: `syscall` with the number in RAX, arguments in RDI, RSI,
 * RDX, R10, R8 (Linux's convention); the result comes back in RAX.  RCX
 * and R11 are clobbered by the instruction itself.
 */
#ifndef TOY_UAPI_H
#define TOY_UAPI_H

#define SYS_write   0   /* (fd 1 or 2, buf, len) -> len, or -1 */
#define SYS_exit    1   /* (status): does not return */
#define SYS_getpid  2   /* () -> pid */
#define SYS_yield   3   /* () -> 0 */
#define SYS_sleep   4   /* (ms) -> 0 */
#define SYS_spawn   5   /* (program) -> pid, or -1 */
#define SYS_wait    6   /* (pid, uint64_t *report or 0) -> exit status */
#define SYS_report  7   /* (value): what the parent's wait() reports */
#define SYS_uptime  8   /* () -> ms since boot, in timer ticks */
#define SYS_COUNT   9

/* The built-in programs, all linked into one user image (user/user.elf)
 * whose entry takes the program number. */
#define PROG_INIT     0
#define PROG_HELLO    1
#define PROG_SIEVE    2
#define PROG_MEMORY   3
#define PROG_SLEEPER  4
#define PROG_CLI      5   /* executes cli at CPL 3 */
#define PROG_PEEK     6   /* reads kernel memory */
#define PROG_DIVZERO  7   /* divides by zero */
#define PROG_OPS      8   /* times the kernel's operations (make bench) */
#define PROG_YIELDER  9   /* ops's partner: yields, and nothing else */
#define PROG_TRUE    10   /* exits 0 at once */
#define PROG_COUNT   11
/* Their names, in number order: for init's reports, and for init=NAME
 * on the kernel's command line. */
#define PROG_NAMES "init", "hello", "sieve", "memory", "sleeper", "cli", \
	"peek", "divzero", "ops", "yielder", "true"

/*
 * User memory lives in PML4 slot 1 (512 GiB up), so that every process's
 * PML4 can share slot 0, the kernel's identity map of RAM, with all the
 * others.  Below the heap: the program image.  Heap and stack are
 * demand-zero: a page appears, zeroed, the first time it is touched.
 */
#define USER_BASE        0x0000008000000000
#define USER_IMAGE_END   (USER_BASE + 0x10000000)
#define USER_HEAP        USER_IMAGE_END
#define USER_HEAP_END    (USER_BASE + 0x30000000)
#define USER_STACK_TOP   (USER_BASE + 0x40000000)
#define USER_STACK_SIZE  0x100000

/*
 * A process the kernel kills exits with KILLED_BY(vector), vector being
 * the exception that killed it (0 divide error, 13 general protection,
 * 14 page fault...), or KILLED_NOMEM when a demand-zero page could not be
 * found.  Statuses are full ints: a program may exit with any other.
 */
#define KILLED_BASE      (-1000)
#define KILLED_BY(vec)   (KILLED_BASE - (vec))
#define KILLED_NOMEM     KILLED_BY(256)
#define IS_KILLED(st)    ((st) <= KILLED_BASE && (st) >= KILLED_NOMEM)
#define KILL_REASON(st)  (KILLED_BASE - (st))
#define WAIT_NOCHILD     (-2147483647 - 1)   /* wait(): not our child */

#endif /* TOY_UAPI_H */
