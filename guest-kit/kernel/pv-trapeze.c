/*
 * The paravirtual side of the pv-ops table: the kernel asks Trapeze
 * directly (int $0x82, docs/guest-abi.md) instead of touching hardware
 * that would trap once per instruction.
 *
 *  - Interrupt masking is a plain store to the shared page's irq_masked:
 *    no trap at all, and no call either once pv_trapeze is chosen (the
 *    inline ops of pvops.h).  An interrupt that comes while masked waits in
 *    irq_pending, and unmasking asks for it (TRAPEZE_HC_IRQ_ENABLE).
 *  - Page-table stores go in batches through TRAPEZE_HC_MMU_UPDATE: one
 *    trap for a whole address space instead of one per entry.
 *  - The timer is a hypercall, not a PIT and two PICs (no EOI to send),
 *    the console one trap per string, idle and shutdown one each.
 *  - mov to cr3 stays: it traps, which is the hypercall it would be.
 *  - The page-fault address is read from the shared page, not cr2.
 *
 * How this kernel uses the mask (see pvops.h): kernel code runs with the
 * virtual RFLAGS.IF clear, which every entry gives it for free; idle()
 * is the one place it is set, and idle() clears it again before
 * returning, so that the sysretq path never runs with it set on the user
 * stack.  irq_masked is 0 while user code runs; inside the kernel
 * irq_save() and irq_restore() set and clear it at no cost, but it is IF,
 * not the mask, that actually holds interrupts back there.
 */
#include "kernel.h"

static struct trapeze_shared *const shared =
	(struct trapeze_shared *)TRAPEZE_SHARED_GPA;

static long hc(long nr, long a, long b)
{
	return hypercall2(nr, a, b);
}

long pv_trapeze_init(void)
{
	long r = hc(TRAPEZE_HC_VERSION, 0, 0);

	if (r != TRAPEZE_ABI_VERSION)
		return r < 0 ? r : TRAPEZE_EINVAL;
	r = hc(TRAPEZE_HC_SHARED_IRQ, 1, 0);
	if (r < 0)
		return r;
	shared->irq_masked = 0;
	return 0;
}

static void pv_irq_disable(void)
{
	shared_irq_disable(shared);
}

static void pv_irq_enable(void)
{
	shared_irq_enable(shared);
}

static uint64_t pv_irq_save(void)
{
	return shared_irq_save(shared);
}

static void pv_irq_restore(uint64_t flags)
{
	if (flags & RFLAGS_IF)
		shared_irq_enable(shared);
}

static void pv_write_cr3(uint64_t pml4)
{
	__asm__ volatile("mov %0, %%cr3" : : "r"(pml4) : "memory");
}

static void pv_set_ptes(const struct trapeze_mmu_update *u, unsigned n)
{
	while (n) {
		unsigned k = n < TRAPEZE_MMU_UPDATE_MAX ? n
						       : TRAPEZE_MMU_UPDATE_MAX;
		long r = hc(TRAPEZE_HC_MMU_UPDATE, (long)u, k);

		if (r != (long)k)
			panic("pv: mmu_update of %u entries at 0x%llx: %ld",
			      k, (unsigned long long)u[r > 0 ? r : 0].ptr, r);
		u += k;
		n -= k;
	}
}

static void pv_set_pte(uint64_t *pte, uint64_t val)
{
	struct trapeze_mmu_update u = { (uint64_t)(uintptr_t)pte, val };

	pv_set_ptes(&u, 1);
}

static int pv_timer_start(unsigned hz, unsigned vector)
{
	long r = hc(TRAPEZE_HC_SET_TIMER, 1000000000l / hz, vector);

	return r < 0 ? (int)r : 0;
}

static void pv_timer_stop(void)
{
	hc(TRAPEZE_HC_SET_TIMER, 0, 0);
}

/* The paravirtual timer comes through the IDT with no PIC behind it. */
static void pv_eoi(unsigned vector)
{
}

static void pv_console_write(const char *s, size_t n)
{
	while (n) {
		long r = hc(TRAPEZE_HC_CONSOLE_WRITE, (long)s, (long)n);

		if (r <= 0)
			return;      /* nowhere left to say it */
		s += r;
		n -= (size_t)r;
	}
}

/* The monitor wrote it to the shared page before the handler ran: no
 * trap on mov from %cr2. */
static uint64_t pv_fault_address(void)
{
	return shared->cr2;
}

/* HALT sets the virtual IF and waits; the interrupt's handler returns
 * here with IF still set, and the cli (one trap, on a path that was going
 * to wait anyway) restores the kernel's rule. */
static void pv_idle(void)
{
	uint8_t masked = shared->irq_masked;

	shared->irq_masked = 0;
	pv_barrier();
	hc(TRAPEZE_HC_HALT, 0, 0);
	__asm__ volatile("cli" ::: "memory");
	shared->irq_masked = masked;
}

static __attribute__((noreturn)) void pv_shutdown(int status)
{
	hc(TRAPEZE_HC_EXIT, status, 0);
	guest_exit(status);   /* not reached: the hypercall ends the run */
}

const struct pv_ops pv_trapeze = {
	.name = "trapeze",
	.irq_disable = pv_irq_disable,
	.irq_enable = pv_irq_enable,
	.irq_save = pv_irq_save,
	.irq_restore = pv_irq_restore,
	.write_cr3 = pv_write_cr3,
	.set_pte = pv_set_pte,
	.set_ptes = pv_set_ptes,
	.fault_address = pv_fault_address,
	.timer_start = pv_timer_start,
	.timer_stop = pv_timer_stop,
	.eoi = pv_eoi,
	.console_write = pv_console_write,
	.idle = pv_idle,
	.shutdown = pv_shutdown,
};
