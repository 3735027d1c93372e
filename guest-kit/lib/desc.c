/*
 * GDT, TSS and IDT for guest kernels (see trapeze/desc.h).
 */
#include "trapeze/desc.h"
#include "trapeze/guest.h"

struct __attribute__((packed)) tss64 {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
};

struct __attribute__((packed)) gate {
	uint16_t off0, sel;
	uint8_t ist, attr;
	uint16_t off1;
	uint32_t off2, reserved;
};

extern const uint64_t isr_stub_table[256];

static uint64_t gdt[11];
static struct tss64 tss;
static struct gate idt[256];
static trap_handler handlers[256];
static uint8_t ist_stack[8192] __attribute__((aligned(16)));

/* A code or data descriptor: flat, with access byte and flags nibble. */
static uint64_t seg(uint8_t access, uint8_t flags)
{
	return 0xffffull | ((uint64_t)access << 40) |
	       ((uint64_t)(flags | 0xf) << 48);
}

void gdt_init(void)
{
	uint64_t base = (uint64_t)&tss;
	struct dtr d = { sizeof(gdt) - 1, (uint64_t)gdt };

	gdt[KERNEL_CS >> 3] = seg(0x9b, 0xa0);      /* 64-bit code, DPL 0 */
	gdt[KERNEL_DS >> 3] = seg(0x93, 0xc0);      /* data, DPL 0 */
	gdt[USER32_CS >> 3] = seg(0xfb, 0xc0);      /* 32-bit code, DPL 3 */
	gdt[USER_DS >> 3] = seg(0xf3, 0xc0);        /* data, DPL 3 */
	gdt[USER_CS >> 3] = seg(0xfb, 0xa0);        /* 64-bit code, DPL 3 */
	tss.iomap_base = sizeof(tss);
	tss.ist[0] = (uint64_t)ist_stack + sizeof(ist_stack);
	gdt[TSS_SEL >> 3] = (sizeof(tss) - 1) | ((base & 0xffffff) << 16) |
			    (0x89ull << 40) | ((base >> 24 & 0xff) << 56);
	gdt[(TSS_SEL >> 3) + 1] = base >> 32;
	lgdt(&d);
	/* Reload CS with a far return, the data segments with mov. */
	__asm__ volatile("pushq %0\n\t"
			 "leaq 1f(%%rip), %%rax\n\t"
			 "pushq %%rax\n\t"
			 "lretq\n"
			 "1:\n\t"
			 "movw %w1, %%ax\n\t"
			 "movw %%ax, %%ds\n\t"
			 "movw %%ax, %%es\n\t"
			 "movw %%ax, %%ss\n\t"
			 "xorl %%eax, %%eax\n\t"
			 "movw %%ax, %%fs\n\t"
			 "movw %%ax, %%gs"
			 : : "i"(KERNEL_CS), "r"(KERNEL_DS) : "rax", "memory");
	ltr(TSS_SEL);
}

void tss_set_rsp0(uint64_t rsp0)
{
	tss.rsp[0] = rsp0;
}

static void gate_at(unsigned v, uint64_t off, unsigned dpl, unsigned ist)
{
	idt[v] = (struct gate){
		.off0 = (uint16_t)off, .sel = KERNEL_CS, .ist = (uint8_t)ist,
		.attr = (uint8_t)(0x8e | (dpl << 5)),
		.off1 = (uint16_t)(off >> 16), .off2 = (uint32_t)(off >> 32),
	};
}

static void set_gate(unsigned v, unsigned dpl, unsigned ist)
{
	gate_at(v, isr_stub_table[v], dpl, ist);
}

void idt_set_raw(unsigned vector, void (*entry)(void))
{
	gate_at(vector & 255, (uint64_t)entry, 0, 0);
}

void idt_init(void)
{
	struct dtr d = { sizeof(idt) - 1, (uint64_t)idt };
	unsigned v;

	for (v = 0; v < 256; v++)
		set_gate(v, 0, 0);
	lidt(&d);
}

void idt_set_handler(unsigned vector, trap_handler h)
{
	handlers[vector & 255] = h;
}

void idt_set_dpl(unsigned vector, unsigned dpl)
{
	set_gate(vector & 255, dpl & 3, idt[vector & 255].ist);
}

void idt_use_ist(unsigned vector)
{
	set_gate(vector & 255, (idt[vector & 255].attr >> 5) & 3, 1);
}

void user_exited(void);
extern uint64_t user_resume_rsp;

void leave_user(struct trap_frame *f)
{
	f->rip = (uint64_t)user_exited;
	f->cs = KERNEL_CS;
	f->ss = KERNEL_DS;
	f->rsp = user_resume_rsp;
	f->rflags = 2;
}

void isr_dispatch(struct trap_frame *f);
void isr_dispatch(struct trap_frame *f)
{
	trap_handler h = handlers[f->vector & 255];

	if (h) {
		h(f);
		return;
	}
	printf("guest-kit: unhandled vector %llu error 0x%llx at rip 0x%llx "
	       "(cs 0x%llx)\n", (unsigned long long)f->vector,
	       (unsigned long long)f->error, (unsigned long long)f->rip,
	       (unsigned long long)f->cs);
	guest_exit(0x7f);
}
