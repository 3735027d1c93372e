/*
 * The paravirtualization seam: every place where the kernel touches
 * hardware that a hypervisor could serve more cheaply goes through this
 * one table, as Linux's pv_ops does.  At boot the kernel points `pv` at
 * pv_native (real instructions and devices: what QEMU and bare hardware
 * want, and what Trapeze traps and emulates one instruction at a time) or
 * at pv_trapeze (hypercalls and the shared page: one trap instead of many,
 * or none at all).  The rest of the kernel never knows which.
 *
 * The kernel's interrupt discipline, which both tables serve: kernel code
 * runs with interrupts off (the interrupt gate and SFMASK clear RFLAGS.IF
 * on every entry; iretq and sysretq set it again on the way out), except
 * inside idle().  irq_save()/irq_restore() bracket the state the timer
 * interrupt shares (the process table, the page allocator), so that the
 * code stays right if a path is ever made interruptible; under pv_trapeze
 * they are also what keeps the shared page's mask clear whenever user
 * code runs (sched.c says how a context switch carries that state).
 */
#ifndef TOY_PVOPS_H
#define TOY_PVOPS_H

#include <stddef.h>
#include <stdint.h>

#include "trapeze/abi.h"
#include "trapeze/guest.h"

struct pv_ops {
	const char *name;

	/* Interrupt mask.  irq_save() returns RFLAGS_IF if interrupts were
	 * on, 0 if not, and turns them off; irq_restore() takes that back. */
	void (*irq_disable)(void);
	void (*irq_enable)(void);
	uint64_t (*irq_save)(void);
	void (*irq_restore)(uint64_t flags);

	/* The MMU.  A page-table entry is named by its address, which is
	 * also its physical address (the kernel runs on an identity map).
	 * No TLB flush is implied: callers only ever make an absent entry
	 * present in a live table, or edit tables not in use. */
	void (*write_cr3)(uint64_t pml4);
	void (*set_pte)(uint64_t *pte, uint64_t val);
	void (*set_ptes)(const struct trapeze_mmu_update *u, unsigned n);
	/* The address of the page fault being handled (cr2). */
	uint64_t (*fault_address)(void);

	/* A periodic interrupt at vector, hz times a second; eoi() ends
	 * the handling of one interrupt taken at vector. */
	int (*timer_start)(unsigned hz, unsigned vector);
	void (*eoi)(unsigned vector);
	/* Stop the periodic interrupt (timer_start() starts it again), or
	 * NULL where that is not worth its cost: sched.c's tickless mode
	 * is on only with it. */
	void (*timer_stop)(void);

	void (*console_write)(const char *s, size_t n);
	/* With interrupts off: turn them on, wait for one and let it be
	 * handled, turn them off again. */
	void (*idle)(void);
	void (*shutdown)(int status) __attribute__((noreturn));
};

#define RFLAGS_IF 0x200ull

extern const struct pv_ops pv_native;
extern const struct pv_ops pv_trapeze;
extern const struct pv_ops *pv;

/* pv-trapeze.c: set up the paravirtual interfaces (shared page); 0 or a
 * negative TRAPEZE_E* code, in which case the kernel must not use them. */
long pv_trapeze_init(void);

/*
 * The interrupt mask through the shared page: a plain store, no trap.  An
 * interrupt that came while masked waits in irq_pending, and unmasking
 * asks for it (TRAPEZE_HC_IRQ_ENABLE); one that comes after the store is
 * delivered as usual.  pv_trapeze's table entries and the inline ops below
 * both use these.
 */
#define pv_barrier() __asm__ volatile("" ::: "memory")

static inline void shared_irq_disable(struct trapeze_shared *sh)
{
	sh->irq_masked = 1;
	pv_barrier();
}

static inline void shared_irq_enable(struct trapeze_shared *sh)
{
	pv_barrier();
	sh->irq_masked = 0;
	pv_barrier();
	if (sh->irq_pending)
		hypercall2(TRAPEZE_HC_IRQ_ENABLE, 0, 0);
}

static inline uint64_t shared_irq_save(struct trapeze_shared *sh)
{
	uint64_t flags = sh->irq_masked ? 0 : RFLAGS_IF;

	sh->irq_masked = 1;
	pv_barrier();
	return flags;
}

/*
 * The mask ops are the hottest of the table (every page allocated or
 * freed takes one pair), and the cheapest to serve: Linux patches their
 * call sites at boot into the few instructions the chosen backend needs.
 * This kernel gets the same effect with a test: once pv_trapeze is
 * chosen, the ops below store to the shared page inline instead of
 * calling through the table.  Under Trapeze's scanner that matters twice
 * over: an indirect call and its return are a trap each, the inline store
 * is none.
 */
static inline struct trapeze_shared *irq_shared(void)
{
	return pv == &pv_trapeze ? (struct trapeze_shared *)TRAPEZE_SHARED_GPA
				 : NULL;
}

static inline void irq_disable(void)
{
	struct trapeze_shared *sh = irq_shared();

	if (sh)
		shared_irq_disable(sh);
	else
		pv->irq_disable();
}

static inline uint64_t irq_save(void)
{
	struct trapeze_shared *sh = irq_shared();

	return sh ? shared_irq_save(sh) : pv->irq_save();
}

static inline void irq_restore(uint64_t flags)
{
	struct trapeze_shared *sh = irq_shared();

	if (!sh)
		pv->irq_restore(flags);
	else if (flags & RFLAGS_IF)
		shared_irq_enable(sh);
}

#endif /* TOY_PVOPS_H */
