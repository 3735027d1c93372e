/*
 * The native side of the pv-ops table: the instructions and devices of a
 * PC.  This is what runs on QEMU and on bare hardware, and what a pure
 * trap-and-emulate monitor sees: under Trapeze every cli, sti, popf, out
 * and mov to cr3 here is one trap, and every store to a live page table
 * is one more (the shadow MMU write-protects them).
 */
#include "kernel.h"

static void native_irq_disable(void)
{
	__asm__ volatile("cli" ::: "memory");
}

static void native_irq_enable(void)
{
	__asm__ volatile("sti" ::: "memory");
}

static uint64_t native_irq_save(void)
{
	uint64_t flags;

	__asm__ volatile("pushfq\n\tpopq %0\n\tcli" : "=r"(flags) : : "memory");
	return flags & RFLAGS_IF;
}

/* Only ever turns interrupts on: a popf would trap under Trapeze even when
 * nothing changes. */
static void native_irq_restore(uint64_t flags)
{
	if (flags & RFLAGS_IF)
		__asm__ volatile("sti" ::: "memory");
}

static void native_write_cr3(uint64_t pml4)
{
	__asm__ volatile("mov %0, %%cr3" : : "r"(pml4) : "memory");
}

static void native_set_pte(uint64_t *pte, uint64_t val)
{
	*(volatile uint64_t *)pte = val;
}

static void native_set_ptes(const struct trapeze_mmu_update *u, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++)
		*(volatile uint64_t *)(uintptr_t)u[i].ptr = u[i].val;
}

/* The PIT's channel 0 on IRQ 0, through a pair of 8259s remapped so that
 * IRQ 0 lands at vector (the remap base is fixed at 0x20). */
static int native_timer_start(unsigned hz, unsigned vector)
{
	if (vector != TIMER_VECTOR)
		return TRAPEZE_EINVAL;
	pic_init();
	pit_start(hz);
	pic_unmask(TRAPEZE_IRQ_PIT);
	return 0;
}

static void native_eoi(unsigned vector)
{
	pic_eoi(vector - TIMER_VECTOR);
}

/* sti takes effect after the next instruction, so no interrupt can slip
 * in between it and hlt and leave us asleep with the work already done. */
static void native_idle(void)
{
	__asm__ volatile("sti\n\thlt\n\tcli" ::: "memory");
}

static __attribute__((noreturn)) void native_shutdown(int status)
{
	guest_exit(status);
}

const struct pv_ops pv_native = {
	.name = "native",
	.irq_disable = native_irq_disable,
	.irq_enable = native_irq_enable,
	.irq_save = native_irq_save,
	.irq_restore = native_irq_restore,
	.write_cr3 = native_write_cr3,
	.set_pte = native_set_pte,
	.set_ptes = native_set_ptes,
	.fault_address = read_cr2,
	.timer_start = native_timer_start,
	.eoi = native_eoi,
	.console_write = uart_write,
	.idle = native_idle,
	.shutdown = native_shutdown,
};
