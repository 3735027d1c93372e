/*
 * The virtual CPU.  First everything the guest believes about the
 * processor it runs on: the general registers, RIP and the arithmetic
 * flags are real while the guest runs; at a trap the backend copies them
 * here, the emulator works on this structure only, and the backend copies
 * them back.  Everything else (privilege level, interrupt flag, segment
 * descriptors, control registers, MSRs) exists only here: the real CPU
 * keeps running the guest at CPL 3 with IF set whatever the guest thinks.
 *
 * Then what the CPU is wired to, as a real one is to its memory bus, its
 * local APIC and its I/O ports: the board (core/board.c) connects these
 * once.  The emulator takes this structure and nothing bigger (as QEMU's
 * helpers take CPUX86State), so it reaches the machine only through
 * these wires, and tells the layers above through the hooks they set.
 */
#ifndef TRAPEZE_VCPU_H
#define TRAPEZE_VCPU_H

#include <stdbool.h>
#include <stdint.h>

#include <stdarg.h>
#include <stddef.h>
#include <capstone/capstone.h>

#include "trapeze/x86.h"

#include "cpu/debugreg.h"
#include "cpu/gmem.h"
#include "cpu/irq.h"

/* General registers in hardware encoding order (ModRM reg/rm numbers). */
enum gpr {
	RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI,
	R8, R9, R10, R11, R12, R13, R14, R15, NR_GPRS
};

/* Segment registers in hardware encoding order (mov sreg's reg field). */
enum sreg { SR_ES, SR_CS, SR_SS, SR_DS, SR_FS, SR_GS, NR_SREGS };

/* A segment register with its hidden descriptor cache (SDM vol. 3A 3.4.3). */
struct segment {
	uint16_t sel;
	uint16_t attr;    /* SEG_* access rights */
	uint32_t limit;   /* byte granular, after G scaling */
	uint64_t base;
};

struct dtable {
	uint64_t base;
	uint16_t limit;
};

/* How the guest's code executes on the host at the moment. */
enum cpu_mode {
	MODE_LONG64,   /* long mode, 64-bit CS: host CS 0x33 */
	MODE_COMPAT,   /* long mode, 32-bit CS: host CS 0x23 */
	MODE_PROT32,   /* protected mode, paging off or 32-bit paging: 0x23 */
};

/* RFLAGS bits that exist only in the vCPU: the real CPU runs the guest
 * with IF set, IOPL 0, and AC only where the guest's CPL 3 has it. */
#define RFLAGS_VIRTUAL (RFLAGS_IF | RFLAGS_IOPL | RFLAGS_AC | RFLAGS_VM | \
			RFLAGS_VIF | RFLAGS_VIP)

struct pending_exception {
	bool pending;
	uint8_t vector;
	bool has_err;
	uint32_t err;
};

/*
 * What the CPU asks of the layers above it, through functions they set
 * (never by calling them by name): the core answers hypercalls and ends
 * the run when the CPU shuts down; the tracer, when it is on, hears of
 * every event delivered.  ctx is theirs.
 */
struct vcpu;

/* What emulating an instruction did (emulate.h). */
enum emu_result {
	EMU_NEXT,    /* done: RIP moves past the instruction */
	EMU_JUMP,    /* done: the emulator set RIP itself */
	EMU_FAULT,   /* an exception is pending; RIP stays on the insn */
	EMU_HALT,    /* hlt: RIP moved past; wait for an interrupt */
	EMU_NONE,    /* not ours: the hardware's own exception stands */
};

struct cpu_hooks {
	/* int $0x82 at CPL 0: the paravirtual interface (core/hypercall.c). */
	enum emu_result (*hypercall)(void *ctx, struct vcpu *v);
	/* The run cannot go on (a triple fault shut the processor down, or
	 * the host refused what the guest needs): report it and end. */
	void (*crash)(void *ctx, const char *fmt, va_list ap)
		__attribute__((noreturn));
	void *ctx;
	/* An exception or interrupt was delivered (NULL: no tracer). */
	void (*event)(void *ctx, unsigned vector, bool external, bool has_err,
		      uint32_t err, uint64_t from_rip, uint16_t from_cs);
	void *event_ctx;
};

struct cpu_stats {
	uint64_t emulated;        /* instructions emulated */
	uint64_t exceptions;      /* events delivered */
	uint64_t mmio;            /* device accesses, in pieces (gmem.c) */
	uint64_t by_insn[X86_INS_ENDING]; /* per Capstone instruction id */
};

struct vcpu {
	uint64_t gpr[NR_GPRS];
	uint64_t rip;
	uint64_t rflags;          /* as the guest sees it (virtual IF, IOPL) */

	struct segment seg[NR_SREGS];
	struct segment ldtr, tr;
	struct dtable gdtr, idtr;

	uint64_t cr0, cr2, cr3, cr4;      /* CR8: the local APIC's TPR */
	uint64_t dr[8];           /* DR0-3 and DR7 armed on the host */
	uint64_t xcr0;
	uint64_t efer, star, lstar, cstar, sfmask, kernel_gs_base;
	uint64_t sysenter_cs, sysenter_esp, sysenter_eip;
	uint64_t tsc_aux, pat, misc_enable;  /* IA32_APIC_BASE: lapic.c */
	uint64_t pmc_select[4], pmc_count[4]; /* a PMU that never counts */
	int64_t tsc_offset;       /* guest TSC = host TSC + tsc_offset */

	bool halted;
	/* An instruction that blocks interrupts for one more instruction
	 * (sti, mov ss) sets this; cleared when the next instruction retires. */
	bool irq_shadow;
	/* From the delivery of an NMI until the next iret: NMIs wait. */
	bool nmi_blocked;
	/* hlt ran with TF set: the single-step trap comes when it ends. */
	bool step_after_halt;
	struct pending_exception exc;

	/* ---- the end of the architectural state: vcpu_reset and the
	 * tracer's copy of the state stop here (VCPU_STATE_SIZE) ---- */
	char end_of_state[0];

	struct gmem mem;          /* guest memory, as this CPU reaches it */
	struct decoder *dec;      /* instruction bytes to cs_insn, cached */
	struct io_bus *io;        /* the ports (dev/io.h) */
	struct lapic *lapic;      /* its local APIC: CR8, the APIC MSRs */
	struct pic *pic;          /* the 8259s' INTR, through LINT0 */
	struct timers *timers;    /* the guest's clock (dev/timer.h) */
	const struct host_features *host;  /* what the host CPU has */
	uint64_t cr4_valid;       /* CR4 bits this vCPU implements */
	uint64_t xcr0_valid;      /* XCR0 bits the host enabled */
	struct debugregs dbg;     /* DR0-DR3 armed on the host (debugreg.h) */
	struct irq_state irq;     /* interrupt acceptance (irq.h) */
	const cs_insn *insn;      /* the instruction being emulated */
	struct cpu_hooks hooks;   /* what it asks of the layers above */
	struct cpu_stats stats;
};

#define VCPU_STATE_SIZE offsetof(struct vcpu, end_of_state)

static inline unsigned vcpu_cpl(const struct vcpu *v)
{
	return v->seg[SR_CS].sel & 3;
}

static inline bool vcpu_long_mode(const struct vcpu *v)
{
	return (v->efer & EFER_LMA) != 0;
}

static inline enum cpu_mode vcpu_mode(const struct vcpu *v)
{
	if (!vcpu_long_mode(v))
		return MODE_PROT32;
	return (v->seg[SR_CS].attr & SEG_L) ? MODE_LONG64 : MODE_COMPAT;
}

/* Width in bytes of addresses and of the stack in the current mode. */
static inline unsigned vcpu_addr_size(const struct vcpu *v)
{
	return vcpu_mode(v) == MODE_LONG64 ? 8 : 4;
}

static inline unsigned vcpu_iopl(const struct vcpu *v)
{
	return (v->rflags & RFLAGS_IOPL) >> RFLAGS_IOPL_SHIFT;
}

/* Queue an exception for delivery when the current instruction ends. */
void vcpu_raise(struct vcpu *v, unsigned vector, bool has_err, uint32_t err);
static inline void vcpu_raise_gp(struct vcpu *v, uint32_t err)
{
	vcpu_raise(v, X86_GP, true, err);
}
static inline void vcpu_raise_ud(struct vcpu *v)
{
	vcpu_raise(v, X86_UD, false, 0);
}
void vcpu_raise_pf(struct vcpu *v, uint64_t cr2, uint32_t err);

/* The run cannot go on (a triple fault, a host that refuses a mapping):
 * the hook of the layer above ends it with a report of why. */
void vcpu_crash(struct vcpu *v, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 2, 3)));

/* Reset to the Trapeze 64-bit boot state (guest-kit/include/trapeze/abi.h). */
void vcpu_reset_long(struct vcpu *v, uint64_t entry, uint64_t boot_info,
		     uint64_t cr3);

/* Reset to flat 32-bit protected mode, paging off, at entry. */
void vcpu_reset_prot32(struct vcpu *v, uint32_t entry, uint16_t cs,
		       uint16_t ds, struct dtable gdt);

/* Load a segment register's hidden part from a descriptor's two dwords. */
void segment_from_descriptor(struct segment *s, uint16_t sel, uint32_t lo,
			     uint32_t hi);

const char *sreg_name(enum sreg sr);
const char *exception_name(unsigned vector);
bool exception_has_error_code(unsigned vector);

#endif /* TRAPEZE_VCPU_H */
