/*
 * One virtual machine: a vCPU, its RAM, its devices, its shadow MMU, and
 * the options it runs with.  The trap path (vm_trap) is the heart of the
 * monitor: a backend turns a host fault into a struct host_trap, vm_trap
 * decides what the guest instruction meant and applies it to the vCPU,
 * and the backend resumes the guest from the vCPU.
 */
#ifndef TRAPEZE_VM_H
#define TRAPEZE_VM_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cpu/emulate.h"
#include "host/hostcpu.h"
#include "dev/io.h"
#include "cpu/irq.h"
#include "dev/mmio.h"
#include "dev/timer.h"
#include "shadow.h"
#include "cpu/vcpu.h"

struct acpi_pm;
struct bt;
struct crtc;
struct rtc;
struct decoder;
struct disk;
struct fwcfg;
struct i8042;
struct ide;
struct ioapic;
struct lapic;
struct testdev;
struct uart;
struct scanner;
struct trace;

enum exec_mode {
	EXEC_TRAP,  /* pure trap-and-emulate: sensitive instructions leak */
	EXEC_SCAN,  /* the scanner patches them before they run (default) */
};

/* A disk in one of the IDE controller's four drive positions. */
#define VM_DRIVES 4
struct vm_drive {
	const char *path;          /* NULL: no drive at this index */
	bool snapshot;             /* writes stay in memory */
	struct disk *disk;         /* opened before the VM is built */
};

struct vm_options {
	const char *guest_path;
	const char *append;        /* guest command line */
	const char *initrd;        /* multiboot module 0, or NULL */
	uint64_t mem_size;
	enum exec_mode exec;
	double timeout;            /* seconds, 0 = none */
	bool shadow_cache;         /* keep shadows of inactive cr3s */
	bool run_ahead;            /* emulate on after a trap (ahead.h) */
	bool translate;            /* the translation cache (bt.h) */
	bool quiet;                /* no monitor messages on stderr */
	bool stats;                /* a summary of the traps at exit */
	int console_in, console_out; /* COM1's file descriptors */
	struct vm_drive drive[VM_DRIVES]; /* --drive, by index */
};

/* Exit statuses of the monitor (the guest's own are (v << 1) | 1). */
enum {
	EXIT_HALTED = 0,           /* cli; hlt: the guest stopped for good */
	EXIT_USAGE = 2,            /* bad command line or bad guest image */
	EXIT_GUEST_CRASH = 4,      /* triple fault or unhandled exception */
	EXIT_TIMEOUT = 124,
	EXIT_INTERNAL = 126,       /* a monitor invariant failed */
	EXIT_INTERRUPTED = 130,
};

/* What the host told us, independent of how (signal or ptrace). */
enum host_trap_kind {
	HT_INSN,        /* #GP or #UD at RIP: an instruction to look at */
	HT_BREAKPOINT,  /* int3 executed; RIP is after it */
	HT_PAGE_FAULT,
	HT_SYSCALL,     /* syscall executed; RIP is after it */
	HT_EXCEPTION,   /* a plain guest exception: #DE, #DB, #MF, #XM, #AC */
	HT_START,       /* first entry into the guest */
	HT_TIMER,       /* the host timer of virtual time fired */
};

struct host_trap {
	enum host_trap_kind kind;
	unsigned vector;    /* hardware vector as the host saw it */
	uint32_t err;       /* hardware error code */
	uint64_t addr;      /* faulting address (page faults) */
	bool single_step;   /* a #DB the trap flag raised (DR6.BS) */
	unsigned breakpoint; /* a #DB from DRi: i + 1 (else 0) */
};

struct vm_stats {
	uint64_t traps;
	uint64_t emulated;
	uint64_t patched;         /* int3s the scanner planted, taken */
	uint64_t ahead;           /* instructions emulated running ahead */
	uint64_t ahead_trappers;  /* ...of which would have trapped */
	uint64_t halts;
	uint64_t exceptions;
	uint64_t page_faults;
	uint64_t mmio;            /* device accesses, in pieces (gmem.c) */
	uint64_t by_insn[X86_INS_ENDING]; /* per Capstone instruction id */
};

/* One translation the emulator used (gmem.c). */
struct gtlb_entry {
	uint64_t vpage, gpage, generation;
	uint8_t key, rights;
};
#define GTLB_SIZE 64

struct vm {
	struct vcpu cpu;
	struct vm_options opt;
	struct host_features host;

	int ram_fd;                /* memfd backing guest RAM */
	uint8_t *ram;              /* the monitor's view of it */
	uint64_t ram_size;
	uint64_t window_lo, window_hi; /* reserved guest-virtual window */

	uint64_t cr4_valid;        /* CR4 bits this vCPU implements */
	uint64_t xcr0_valid;       /* XCR0 bits the host enabled */

	struct shadow *mmu;
	struct decoder *dec;
	struct scanner *scan;
	struct bt *bt;             /* NULL when off or unavailable */
	const char *bt_off_why;    /* ...and why, when unavailable */
	struct io_bus io;
	struct mmio_bus mmio;
	struct uart *com1;
	struct pic *pic;
	struct pit *pit;
	struct lapic *lapic;
	struct ioapic *ioapic;
	struct fwcfg *fwcfg;
	struct acpi_pm *acpi_pm;
	struct testdev *testdev;
	struct ide *ide;
	struct i8042 *kbd;
	struct crtc *crtc;
	struct rtc *rtc;
	struct timers timers;
	struct irq_state irq;
	struct trace *trace;

	bool escape_armed;         /* a Ctrl-A from the terminal, pending */
	bool arm_debugregs;        /* DR7 arms host breakpoints (debugreg.h) */
	int dbg_fd[4];             /* their perf events, or -1 */
	uint8_t dbg_hits, dbg_held; /* data breakpoints emulation matched */
	const cs_insn *last_insn;  /* the one emulate_insn() last ran */
	struct vm_stats stats;
	struct gtlb_entry tlb[GTLB_SIZE]; /* gmem.c */
};

struct boot_image;

/* Build a VM from options: window, RAM, devices, the guest loaded and
 * booted.  0, or -1 with one line for the user in err. */
int vm_create(struct vm *vm, const struct vm_options *opt, char *err,
	      size_t errlen);
/* The parts: RAM, shadow MMU, decoder, devices; with ops NULL the window
 * is reserved and the shadow maps into it, else it calls ops (tests). */
int vm_init(struct vm *vm, const struct vm_options *opt,
	    const struct shadow_ops *ops, char *err, size_t errlen);
/* Boot state for a loaded image: boot info, tables, vCPU reset. */
void vm_boot(struct vm *vm, const struct boot_image *img);
/* Run until the guest exits; returns the exit status. */
int vm_run(struct vm *vm);

/* The trap path, called by the backend with the vCPU filled in. */
void vm_trap(struct vm *vm, const struct host_trap *t);
/* Fetch, decode and emulate the instruction at RIP (no delivery of what
 * it raises: that is exception_deliver_pending's). */
enum emu_result vm_emulate_at_rip(struct vm *vm);

/* End the run now with status: flush devices, restore the terminal. */
void vm_exit(struct vm *vm, int status) __attribute__((noreturn));
/* The guest halted with nothing that can ever wake it: end the run. */
void vm_halt_forever(struct vm *vm) __attribute__((noreturn));
/* Stop on a guest crash with the one-screen report. */
void vm_crash(struct vm *vm, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 2, 3)));

/* Fill the walker's view of paging from the vCPU. */
void vm_paging(const struct vm *vm, struct paging *pg);
/* The vCPU's privilege level or paging mode changed. */
void vm_cpl_changed(struct vm *vm);
void vm_paging_changed(struct vm *vm, bool flush);

uint64_t vm_guest_tsc(const struct vm *vm);
bool msr_read(struct vm *vm, uint32_t msr, uint64_t *val);
/* What this vCPU's cpuid answers (emu-query.c). */
void vm_cpuid(const struct vm *vm, uint32_t leaf, uint32_t sub, uint32_t r[4]);
bool msr_write(struct vm *vm, uint32_t msr, uint64_t val);

/* The one instance the signal handlers reach. */
extern struct vm *the_vm;

#endif /* TRAPEZE_VM_H */
