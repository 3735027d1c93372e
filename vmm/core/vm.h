/*
 * One virtual machine: a vCPU, its RAM, its devices, its shadow MMU, and
 * the options it runs with.  The trap path (vm_trap) is the heart of the
 * monitor: a backend turns a host fault into a struct host_trap, vm_trap
 * decides what the guest instruction meant and applies it to the vCPU,
 * and the backend resumes the guest from the vCPU.
 */
#ifndef TRAPEZE_VM_H
#define TRAPEZE_VM_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cpu/emulate.h"
#include "host/hostcpu.h"
#include "dev/io.h"
#include "cpu/irq.h"
#include "dev/mmio.h"
#include "dev/pc.h"
#include "dev/timer.h"
#include "engine/translate.h"
#include "shadow.h"
#include "cpu/vcpu.h"

struct ahead;
struct bt;
struct decoder;
struct disk;
struct scanner;
struct trace;

enum exec_mode {
	EXEC_TRAP,      /* pure trap-and-emulate: sensitive instructions leak */
	EXEC_SCAN,      /* the scanner patches them before they run (default) */
	EXEC_TRANSLATE, /* kernel code runs from the translator's cache */
};

/* A disk in one of the IDE controller's four drive positions. */
#define VM_DRIVES PC_DRIVES
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
	HT_KICK,        /* stopped from outside: see vm_request() */
	HT_CALLOUT,     /* translated code called the monitor */
	HT_COMPAT_SYSCALL, /* a 32-bit syscall the host mangled (signal.c) */
};

struct host_trap {
	enum host_trap_kind kind;
	unsigned vector;    /* hardware vector as the host saw it */
	uint32_t err;       /* hardware error code */
	uint64_t addr;      /* faulting address (page faults) */
	bool single_step;   /* a #DB the trap flag raised (DR6.BS) */
	unsigned breakpoint; /* a #DB from DRi: i + 1 (else 0) */
};

/* The run's counts (the CPU keeps its own: vcpu.h's cpu_stats). */
struct vm_stats {
	uint64_t traps;
	uint64_t signals;         /* host signals the backend took */
	uint64_t callouts;        /* calls from translated code, no signal */
	uint64_t patched;         /* int3s the scanner planted, taken */
	uint64_t halts;
	uint64_t page_faults;
};

/*
 * Requests from outside the trap path: a signal handler, a thread, the
 * console's Ctrl-A x.  vm_request() only sets a bit (it is async-signal-
 * safe); the run loop acts on them when the trap it is in ends, or at
 * once when the guest is halted.  The backend makes a running guest trap
 * (HT_KICK) so that none waits for the guest's next trap.
 */
enum vm_request {
	VM_STOP_TIMEOUT = 1u << 0,    /* --timeout */
	VM_STOP_INTERRUPT = 1u << 1,  /* SIGINT */
	VM_STOP_TERMINATE = 1u << 2,  /* SIGTERM */
	VM_STOP_QUIT = 1u << 3,       /* Ctrl-A x on the console */
};

/*
 * The tracer's ears (trace/): with an observer set, the trap path tells
 * it what each trap did.  No layer below the core names the tracer: the
 * core hands the CPU's and the engines' parts to their own hooks
 * (vm_observe).  ctx is the tracer's.
 */
struct vm_observer {
	void (*begin)(void *ctx);                 /* a trap starts */
	void (*end)(void *ctx);                   /* ...and ends */
	/* An instruction was emulated: a trapped one, a patched one (the
	 * scanner's int3), or one run ahead that would have trapped. */
	void (*insn)(void *ctx, const cs_insn *insn, bool patched);
	void (*ptwrite)(void *ctx, uint64_t gva, uint64_t gpa, uint64_t old,
			uint64_t dropped);
	void (*shadow)(void *ctx, uint64_t gva, uint64_t gpa,
		       unsigned access);
	/* The CPU's (cpu_hooks.event) and its memory's (gmem.mmio_seen). */
	void (*event)(void *ctx, unsigned vector, bool external, bool has_err,
		      uint32_t err, uint64_t from_rip, uint16_t from_cs);
	void (*mmio)(void *ctx, uint64_t gpa, const struct mmio_region *dev,
		     unsigned size, bool write, uint64_t val);
	/* The scanner's (scan_on_scan). */
	void (*scan)(void *ctx, uint64_t gva, uint64_t pages, uint64_t insns,
		     uint64_t patches);
	/* May the monitor run ahead of traps, unseen? */
	bool (*allows_ahead)(void *ctx);
	/* The run ends: say what is owed (the -c summary). */
	void (*finish)(void *ctx);
};

struct vm {
	struct vcpu cpu;
	struct vm_options opt;
	struct host_features host;

	int ram_fd;                /* memfd backing guest RAM */
	uint8_t *ram;              /* the monitor's view of it */
	uint64_t ram_size;
	uint64_t window_lo, window_hi; /* reserved guest-virtual window */

	struct shadow *mmu;
	struct scanner *scan;      /* NULL with --cpu=trap */
	struct ahead *ahead;       /* NULL without the scanner */
	struct bt *bt;             /* NULL when off or unavailable */
	const char *bt_off_why;    /* ...and why, when unavailable */
	struct translator *tr;     /* --cpu=translate */
	const char *tc_off_why;    /* ...and why it fell back to scan */
	struct upper *upper;       /* the translator's upper-half aliases */
	const char *upper_off_why; /* ...and why there are none */
	struct pc pc;              /* buses, lines, devices (dev/pc.h) */
	struct timers timers;
	const struct vm_observer *obs;  /* the tracer, or NULL */
	void *obs_ctx;

	volatile unsigned requests;     /* enum vm_request bits */
	int wake_fd[2];                 /* a byte per request: wakes a
					   halted vCPU's wait (halt.c) */
	/* The backend's way to make a running guest trap (HT_KICK) when a
	 * request comes from outside its own thread (NULL: none). */
	void (*kick)(void *ctx);
	void *kick_ctx;
	bool escape_armed;         /* a Ctrl-A from the terminal, pending */
	struct vm_stats stats;
};

/*
 * What the backend gives the machine it runs.  How guest memory reaches
 * the host: the one place where host mappings are made, for the shadow
 * MMU and the translation cache's alias.  The signal backend makes them
 * in this process (backend/signal-memory.c); an isolating backend
 * carries them out in the guest's own processes.  Unit tests record
 * them instead.  And where translated code enters the monitor.
 */
struct vm_host {
	/* Reserve [lo, hi) of the guest's address space for the guest
	 * (NULL: nothing to reserve); 0, or -1 with a line in err. */
	int (*reserve)(void *ctx, uint64_t lo, uint64_t hi, char *err,
		       size_t errlen);
	/* Map guest RAM (ctx's memfd) at guest addresses, protect, unmap. */
	struct shadow_ops ops;
	/* The guest's code runs on the host (false in unit tests: no
	 * translation cache, no host breakpoints). */
	bool native;
	/* The handler of a callout from the translator's cache. */
	tc_handler_fn callout;
};

struct boot_image;

/* Build a VM from options: window, RAM, devices, the guest loaded and
 * booted.  0, or -1 with one line for the user in err. */
int vm_create(struct vm *vm, const struct vm_options *opt,
	      const struct vm_host *host, char *err, size_t errlen);
/* The parts: RAM, shadow MMU, decoder, devices, engines; the guest's
 * window and host mappings through host. */
int vm_init(struct vm *vm, const struct vm_options *opt,
	    const struct vm_host *host, char *err, size_t errlen);
/* Boot state for a loaded image: boot info, tables, vCPU reset. */
void vm_boot(struct vm *vm, const struct boot_image *img);
/* Run until the guest exits; returns the exit status. */
int vm_run(struct vm *vm);

/* The trap path, called by the backend with the vCPU filled in. */
void vm_trap(struct vm *vm, const struct host_trap *t);
/* Where the backend resumes the guest: the vCPU's RIP, or its
 * translation (*in_cache: the host runs 64-bit code there whatever the
 * guest's mode); *step: the monitor wants the host to single-step one
 * instruction natively. */
uint64_t vm_resume(struct vm *vm, bool *in_cache, bool *step);
/* Ask the run to stop (async-signal-safe, and callable from any thread:
 * see enum vm_request).  The one way to reach a running guest from
 * outside the trap path: --timeout, Ctrl-C, Ctrl-A x, a debugger. */
void vm_request(struct vm *vm, unsigned what);
/* Act on the requests made (called at the end of every trap). */
void vm_take_requests(struct vm *vm);
/* Attach the tracer (NULL: detach). */
void vm_observe(struct vm *vm, const struct vm_observer *obs, void *ctx);

/* End the run now with status: flush devices, restore the terminal. */
void vm_exit(struct vm *vm, int status) __attribute__((noreturn));
/* The vCPU halted: wait until an interrupt is delivered (core/halt.c). */
void vm_halt_wait(struct vm *vm);
/* The guest halted with nothing that can ever wake it: end the run. */
void vm_halt_forever(struct vm *vm) __attribute__((noreturn));
/* Stop on a guest crash with the one-screen report. */
void vm_crashv(struct vm *vm, const char *fmt, va_list ap)
	__attribute__((noreturn, format(printf, 2, 0)));
void vm_crash(struct vm *vm, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 2, 3)));


#endif /* TRAPEZE_VM_H */
