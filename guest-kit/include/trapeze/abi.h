/*
 * The Trapeze guest ABI, version 1.
 *
 * This header is the one source of truth shared by the monitor (vmm/) and
 * every guest (guest-kit/): boot protocol, guest-physical layout, device
 * ports and the hypercall interface.  It uses only fixed-width types so it
 * compiles freestanding in a guest and hosted in the monitor.  The prose
 * version is docs/guest-abi.md.
 */
#ifndef TRAPEZE_ABI_H
#define TRAPEZE_ABI_H

#ifndef __ASSEMBLER__
#include <stdint.h>
#endif

#define TRAPEZE_ABI_VERSION 1

/*
 * Boot protocol (64-bit entry).  The guest starts at virtual CPL 0 in long
 * mode, paging on with the identity map described below, vIF = 0, with
 *   RIP = the entry of the TRAPEZE_NOTE_ENTRY64 note, else e_entry,
 *   RDI = TRAPEZE_BOOT_INFO_GPA,  RSP = TRAPEZE_BOOT_STACK_TOP,
 *   CS = TRAPEZE_BOOT_CS, SS = DS = ES = TRAPEZE_BOOT_DS, FS = GS = 0,
 *   GDTR = the three-entry GDT at TRAPEZE_BOOT_GDT_GPA, IDTR = {0, 0}.
 * CR0 = PE|ET|NW|CD|PG (the reset value plus PE and PG: CR0.WP is clear),
 * CR4 = PAE, EFER = LME|LMA: SCE and NXE stay clear until the guest sets
 * them.
 */
#define TRAPEZE_BOOT_MAGIC       0x315a5054u /* "TPZ1" little-endian */
#define TRAPEZE_BOOT_CS          0x08
#define TRAPEZE_BOOT_DS          0x10

/*
 * Guest-physical layout below 1 MiB, owned by the monitor at boot.  Page 0
 * is never present (a host process cannot map it); guest images load at or
 * above TRAPEZE_LOAD_MIN.  Everything here is ordinary guest RAM: once the
 * guest has its own page tables and stack it may reuse it.
 */
#define TRAPEZE_BOOT_INFO_GPA    0x1000ull  /* struct trapeze_boot_info */
#define TRAPEZE_CMDLINE_GPA      0x1800ull  /* NUL-terminated */
#define TRAPEZE_CMDLINE_MAX      2048
#define TRAPEZE_SHARED_GPA       0x2000ull  /* struct trapeze_shared */
#define TRAPEZE_BOOT_GDT_GPA     0x3000ull
#define TRAPEZE_BOOT_PT_GPA      0x8000ull  /* identity tables start here */
#define TRAPEZE_BOOT_STACK_TOP   0x80000ull
/* What a PC BIOS leaves for kernels that look for it: the base memory
 * size in the BIOS data area (0x413) and the Intel MP tables (floating
 * pointer, then configuration table, 256 bytes). */
#define TRAPEZE_MPTABLE_GPA      0xf1000ull
#define TRAPEZE_LOAD_MIN         0x100000ull

/* Guest virtual addresses live below this bound (the reserved window). */
#define TRAPEZE_GVA_LIMIT        (1ull << 46)

#ifndef __ASSEMBLER__
struct trapeze_boot_info {
	uint32_t magic;          /* TRAPEZE_BOOT_MAGIC */
	uint32_t version;        /* TRAPEZE_ABI_VERSION */
	uint64_t ram_size;       /* bytes of RAM, guest-physical 0..ram_size */
	uint64_t cmdline;        /* GPA of the command line (--append) */
	uint64_t pt_start;       /* GPA range of the boot identity tables */
	uint64_t pt_end;
	uint64_t image_start;    /* GPA range the ELF image occupies */
	uint64_t image_end;
	uint64_t features;       /* TRAPEZE_FEAT_* */
	uint64_t tsc_khz;        /* TSC frequency the guest sees */
};
#endif

#define TRAPEZE_FEAT_HYPERCALL   (1ull << 0)  /* int $0x82 hypercalls work */
#define TRAPEZE_FEAT_SHARED_IRQ  (1ull << 1)  /* the shared page's IRQ mask */
/* RAM from TRAPEZE_LOAD_MIN up reads as zero at entry, except the image
 * (image_start..image_end): a kernel need not zero a page from there
 * before its first use (under Trapeze that zeroing is the page's first
 * touch, which the host pays for again). */
#define TRAPEZE_FEAT_ZERO_RAM    (1ull << 2)

/*
 * ELF note that marks a Trapeze-aware image and gives its 64-bit entry
 * point (as Xen's PVH note does): n_name "Trapeze", n_type below, n_desc a
 * little-endian uint64_t guest-virtual (== physical) entry address.
 */
#define TRAPEZE_NOTE_NAME        "Trapeze"
#define TRAPEZE_NOTE_ENTRY64     1

/* Devices: QEMU-compatible ports so one kernel boots on both. */
#define TRAPEZE_PORT_COM1        0x3f8   /* 16550 UART, IRQ 4 */
#define TRAPEZE_IRQ_COM1         4
#define TRAPEZE_PORT_DEBUG_EXIT  0xf4    /* write v: exit status (v << 1) | 1 */
#define TRAPEZE_PORT_PIT         0x40    /* 8254, 0x40-0x43, IRQ 0 */
#define TRAPEZE_IRQ_PIT          0
#define TRAPEZE_PORT_PIC_MASTER  0x20
#define TRAPEZE_PORT_PIC_SLAVE   0xa0
#define TRAPEZE_PIT_HZ           1193182

/*
 * Hypercalls.  The instruction is `int $0x82` executed at virtual CPL 0:
 * at host CPL 3 it raises #GP (the host's gate for vector 0x82 has DPL 0),
 * the cheapest trap there is.  RAX = number, arguments in RDI, RSI, RDX,
 * R10, R8; the result comes back in RAX (>= 0, or a negative
 * TRAPEZE_E* code).  Every other register is preserved.  At virtual CPL 3
 * `int $0x82` is an ordinary software interrupt through the guest's IDT.
 */
#define TRAPEZE_HYPERCALL_VECTOR 0x82

#define TRAPEZE_HC_VERSION       0  /* () -> TRAPEZE_ABI_VERSION */
#define TRAPEZE_HC_CONSOLE_WRITE 1  /* (gva buf, len <= 1 MiB) -> bytes */
#define TRAPEZE_HC_EXIT          2  /* (v) -> ends the run, status (v<<1)|1 */
/* (period_ns, vector): a periodic timer interrupt delivered at vector
 * (32-255) through the guest's IDT; period_ns >= 100000, or 0 to stop. */
#define TRAPEZE_HC_SET_TIMER     3
/* (gva reqs, count <= 1024): store each request's val at its GPA (an
 * 8-byte aligned address in RAM), in order.  -> count, or an error and
 * none done: every request is checked before the first store.  It is a
 * store to any RAM, not a validated page-table entry (the guest owns its
 * tables); each store is mirrored in the shadow as a trapped page-table
 * write is, so no TLB flush is needed after it (a kernel written for
 * hardware flushes anyway, and that costs an invlpg trap). */
#define TRAPEZE_HC_MMU_UPDATE    4
/* (): the guest cleared shared.irq_masked and saw irq_pending: deliver. */
#define TRAPEZE_HC_IRQ_ENABLE    5
/* (): sti; hlt as one step: wait for an interrupt with interrupts on.
 * Returns once an interrupt was delivered (its handler has run), with
 * RFLAGS.IF set and, in shared-IRQ mode, irq_masked cleared, as sti; hlt
 * leaves them on hardware: a kernel that wants them off again says so. */
#define TRAPEZE_HC_HALT          6
/* (on): 1 = interrupts are masked by shared.irq_masked too (as well as
 * RFLAGS.IF); 0 = by RFLAGS.IF alone, as on hardware. */
#define TRAPEZE_HC_SHARED_IRQ    7
#define TRAPEZE_HC_COUNT         8

#define TRAPEZE_MMU_UPDATE_MAX   1024
#define TRAPEZE_TIMER_MIN_NS     100000

#define TRAPEZE_EINVAL   (-22)  /* bad argument */
#define TRAPEZE_EFAULT   (-14)  /* pointer or length outside guest RAM */
#define TRAPEZE_ENOSYS   (-38)  /* unknown hypercall number */

#ifndef __ASSEMBLER__
/* One request of TRAPEZE_HC_MMU_UPDATE: store val at guest-physical ptr. */
struct trapeze_mmu_update {
	uint64_t ptr;
	uint64_t val;
};

/*
 * The shared page (TRAPEZE_SHARED_GPA), once TRAPEZE_HC_SHARED_IRQ(1) is
 * made.  A paravirtual kernel masks interrupts with a plain store to
 * irq_masked, which costs no trap.  An interrupt that arrives while
 * masked sets irq_pending and waits; a kernel that unmasks checks
 * irq_pending and, if set, makes TRAPEZE_HC_IRQ_ENABLE.  (Xen's
 * evtchn_upcall_mask and evtchn_upcall_pending; lguest's irq_enabled.)
 * irq_pending says an interrupt is waiting, whatever holds it back (the
 * mask or RFLAGS.IF): with IF clear, HC_IRQ_ENABLE delivers nothing yet.
 *
 * cr2 is the faulting address of the last #PF delivered, written by the
 * monitor before the guest's handler runs, so that a paravirtual handler
 * need not trap on mov from %cr2 (Xen's vcpu_info arch.cr2).
 */
struct trapeze_shared {
	volatile uint8_t irq_masked;
	volatile uint8_t irq_pending;
	uint8_t reserved[6];
	volatile uint64_t timer_ticks;    /* paravirtual timer interrupts */
	volatile uint64_t cr2;            /* of the last #PF delivered */
};
#endif

#endif /* TRAPEZE_ABI_H */
