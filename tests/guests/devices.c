/*
 * devices: the PC platform a guest written for QEMU expects, found and
 * driven the way kvm-unit-tests drive it: ACPI tables in the BIOS area,
 * fw_cfg, the local APIC (registers, TPR and CR8, timer one-shot and
 * periodic, self-IPIs, priorities), the I/O APIC (the PIT through pin 2,
 * a level-triggered line of pc-testdev), and device memory reached by
 * many instruction forms (mov, movzx, lock-prefixed, xchg, cmpxchg, bt,
 * string instructions).  The transcript must match QEMU's (run with
 * -device pc-testdev).
 *
 * With "trapeze" on the command line it goes on to what this QEMU (7.2,
 * TCG) does not have or does otherwise: x2APIC MSRs, the TSC-deadline
 * timer, and a read of an address where nothing answers (a #PF here;
 * all ones on QEMU's bus).
 */
#include "trapeze/desc.h"
#include "trapeze/guest.h"

#define LAPIC   0xfee00000ul
#define IOAPIC  0xfec00000ul
#define IOMEM   0xff000000ul            /* pc-testdev's scratch MMIO */

#define APIC_ID    0x20
#define APIC_LVR   0x30
#define APIC_TPR   0x80
#define APIC_PPR   0xa0
#define APIC_EOI   0xb0
#define APIC_SVR   0xf0
#define APIC_ISR   0x100
#define APIC_IRR   0x200
#define APIC_ICR   0x300
#define APIC_ICR2  0x310
#define APIC_LVTT  0x320
#define APIC_LINT0 0x350
#define APIC_TMICT 0x380
#define APIC_TMCCT 0x390
#define APIC_TDCR  0x3e0

#define V_TIMER 0x40
#define V_IPI   0x41
#define V_HIGH  0x61
#define V_PIT   0x50
#define V_LEVEL 0x51

static volatile uint32_t *reg(unsigned off)
{
	return (volatile uint32_t *)(LAPIC + off);
}

static uint32_t apic_read(unsigned off) { return *reg(off); }
static void apic_write(unsigned off, uint32_t v) { *reg(off) = v; }

static uint32_t ioapic_read(unsigned idx)
{
	*(volatile uint32_t *)IOAPIC = idx;
	return *(volatile uint32_t *)(IOAPIC + 0x10);
}

static void ioapic_write(unsigned idx, uint32_t v)
{
	*(volatile uint32_t *)IOAPIC = idx;
	*(volatile uint32_t *)(IOAPIC + 0x10) = v;
}

static volatile unsigned count[256];
static int x2apic;
static volatile uint64_t handler_tpr;
static volatile int level_line_up;

static void on_vector(struct trap_frame *f)
{
	count[f->vector]++;
	if (f->vector == V_LEVEL) {
		outb(0x2000 + 14, 0);        /* lower the line, then EOI */
		level_line_up = 0;
	}
	if (x2apic) {
		handler_tpr = rdmsr(0x80a);
		wrmsr(0x80b, 0);
	} else {
		handler_tpr = apic_read(APIC_PPR);
		apic_write(APIC_EOI, 0);
	}
}

static const struct trapeze_boot_info *boot;

static uint32_t cpuid_edx(uint32_t leaf)
{
	uint32_t a, b, c, d;

	__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d)
			 : "a"(leaf), "c"(0));
	return d;
}

static void spin_ms(unsigned ms)
{
	uint64_t khz = boot->tsc_khz ? boot->tsc_khz : 2000000;
	uint64_t end = rdtsc() + khz * ms;

	while (rdtsc() < end)
		__asm__ volatile("pause");
}

/* Wait with sti; hlt until vector v has been taken n times more. */
static void wait_vector(unsigned v, unsigned n)
{
	unsigned target = count[v] + n;

	while (count[v] < target)
		__asm__ volatile("sti; hlt; cli" ::: "memory");
}

/* ---- page tables: the device pages, uncached, supervisor ---------- */

static uint64_t pd_high[512] __attribute__((aligned(4096)));

static void map_devices(const struct trapeze_boot_info *bi)
{
	uint64_t *pdpt = (uint64_t *)(uintptr_t)(bi->pt_start + 4096);
	unsigned i;

	/* 0xc0000000-0xffffffff: the 2 MiB pages holding the I/O APIC,
	 * the local APIC and pc-testdev's iomem. */
	for (i = 0x1f6; i <= 0x1f8; i++)
		pd_high[i] = ((uint64_t)0xc0000000 + ((uint64_t)i << 21)) |
			     0x80 | 0x10 | 0x08 | 3;   /* PS PCD PWT W P */
	pdpt[3] = (uint64_t)(uintptr_t)pd_high | 3;
	write_cr3(read_cr3());
}

/* ---- ACPI ----------------------------------------------------------- */

static int sum_ok(const void *p, unsigned len)
{
	const uint8_t *b = p;
	uint8_t s = 0;

	while (len--)
		s += *b++;
	return s == 0;
}

static const uint8_t *find_rsdp(void)
{
	uintptr_t a;

	for (a = 0xe0000; a < 0x100000; a += 16)
		if (!memcmp((const void *)a, "RSD PTR ", 8))
			return (const uint8_t *)a;
	return NULL;
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static const uint8_t *find_table(const uint8_t *rsdt, const char *sig)
{
	uint32_t n = (get32(rsdt + 4) - 36) / 4, i;

	for (i = 0; i < n; i++) {
		const uint8_t *t =
			(const uint8_t *)(uintptr_t)get32(rsdt + 36 + 4 * i);

		if (!memcmp(t, sig, 4))
			return t;
	}
	return NULL;
}

static void madt_report(const uint8_t *madt)
{
	const uint8_t *e = madt + 44, *end = madt + get32(madt + 4);

	printf("MADT: local APIC at 0x%x\n", get32(madt + 36));
	for (; e < end; e += e[1]) {
		if (e[0] == 0)
			printf("  processor %u: APIC ID %u, %s\n", e[2], e[3],
			       (get32(e + 4) & 1) ? "enabled" : "disabled");
		else if (e[0] == 1)
			printf("  I/O APIC %u at 0x%x, GSI base %u\n", e[2],
			       get32(e + 4), get32(e + 8));
		else if (e[0] == 2 && e[3] == 0)
			printf("  ISA IRQ 0 -> GSI %u\n", get32(e + 4));
	}
}

static uint16_t pm_timer_port;

static void acpi(void)
{
	const uint8_t *rsdp = find_rsdp(), *rsdt, *fadt, *madt;
	uint32_t t0, t1;

	if (!rsdp) {
		printf("ACPI: no RSDP\n");
		return;
	}
	rsdt = (const uint8_t *)(uintptr_t)get32(rsdp + 16);
	printf("ACPI: RSDP revision %u, checksum %s; RSDT checksum %s\n",
	       rsdp[15], sum_ok(rsdp, 20) ? "ok" : "BAD",
	       sum_ok(rsdt, get32(rsdt + 4)) ? "ok" : "BAD");
	fadt = find_table(rsdt, "FACP");
	madt = find_table(rsdt, "APIC");
	if (!fadt || !madt) {
		printf("ACPI: FADT %s, MADT %s\n", fadt ? "found" : "missing",
		       madt ? "found" : "missing");
		return;
	}
	pm_timer_port = (uint16_t)get32(fadt + 76);
	printf("FADT: checksum %s, PM timer at port 0x%x (%u bytes), "
	       "SCI IRQ %u\n", sum_ok(fadt, get32(fadt + 4)) ? "ok" : "BAD",
	       pm_timer_port, fadt[91], fadt[46]);
	printf("MADT: checksum %s\n",
	       sum_ok(madt, get32(madt + 4)) ? "ok" : "BAD");
	madt_report(madt);
	t0 = inl(pm_timer_port) & 0xffffff;
	spin_ms(2);
	t1 = inl(pm_timer_port) & 0xffffff;
	printf("PM timer: %s\n", ((t1 - t0) & 0xffffff) > 3000 ?
	       "advances at about 3.58 MHz" : "stuck");
}

/* ---- fw_cfg ----------------------------------------------------------- */

static uint64_t fwcfg(uint16_t key, unsigned bytes)
{
	uint64_t v = 0;
	unsigned i;

	outw(0x510, key);
	for (i = 0; i < bytes; i++)
		v |= (uint64_t)inb(0x511) << (8 * i);
	return v;
}

static void fw_cfg(void)
{
	char sig[5];
	unsigned i;

	outw(0x510, 0);
	for (i = 0; i < 4; i++)
		sig[i] = (char)inb(0x511);
	sig[4] = 0;
	printf("fw_cfg: signature \"%s\", %llu CPU, %llu MiB of RAM%s\n", sig,
	       (unsigned long long)fwcfg(5, 2),
	       (unsigned long long)(fwcfg(3, 8) >> 20),
	       fwcfg(3, 8) == boot->ram_size ? " (as the boot info says)"
					     : " (NOT the boot info's)");
}

/* ---- the local APIC -------------------------------------------------- */

static void lapic_basics(void)
{
	uint32_t lvr = apic_read(APIC_LVR);
	uint8_t lo;

	printf("IA32_APIC_BASE 0x%llx\n", (unsigned long long)rdmsr(0x1b));
	printf("APIC ID %u, version 0x%x (LVR byte by movzbl: 0x%x)\n",
	       apic_read(APIC_ID) >> 24, lvr,
	       *(volatile uint8_t *)(LAPIC + APIC_LVR));
	apic_write(APIC_SVR, 0x1ff);
	printf("SVR 0x%x, LINT0 0x%x, LINT1 0x%x\n", apic_read(APIC_SVR),
	       apic_read(APIC_LINT0), apic_read(APIC_LINT0 + 0x10));
	/* TPR through CR8 and through the page. */
	write_cr8(3);
	printf("CR8 3 -> TPR 0x%x; ", apic_read(APIC_TPR));
	__asm__ volatile("movl $0x57, (%0)" :: "r"(reg(APIC_TPR)) : "memory");
	printf("TPR 0x57 (mov imm) -> CR8 %llu\n",
	       (unsigned long long)read_cr8());
	__asm__ volatile("lock orl $0x20, (%0)" :: "r"(reg(APIC_TPR))
			 : "memory", "cc");
	printf("lock or 0x20 -> TPR 0x%x; ", apic_read(APIC_TPR));
	{
		uint32_t v = 0x10;

		__asm__ volatile("xchgl %0, (%1)" : "+r"(v)
				 : "r"(reg(APIC_TPR)) : "memory");
		printf("xchg 0x10 got 0x%x -> TPR 0x%x\n", v,
		       apic_read(APIC_TPR));
	}
	{
		uint32_t expect = 0x10, repl = 0;

		__asm__ volatile("lock cmpxchgl %2, (%1)" : "+a"(expect)
				 : "r"(reg(APIC_TPR)), "r"(repl)
				 : "memory", "cc");
		printf("lock cmpxchg 0x10 -> 0: TPR 0x%x\n",
		       apic_read(APIC_TPR));
	}
	__asm__ volatile("movb (%1), %0" : "=q"(lo)
			 : "r"((volatile uint8_t *)(LAPIC + APIC_LVR + 2)));
	printf("LVR byte 2 (max LVT): %u\n", lo);
}

static void lapic_timer(void)
{
	unsigned c;

	apic_write(APIC_TDCR, 0xb);                    /* divide by 1 */
	apic_write(APIC_LVTT, V_TIMER);                /* one-shot */
	apic_write(APIC_TMICT, 2000000);               /* 2 ms */
	wait_vector(V_TIMER, 1);
	spin_ms(5);
	printf("one-shot: 1 interrupt, TMCCT %u after it\n",
	       apic_read(APIC_TMCCT));

	c = count[V_TIMER];
	apic_write(APIC_LVTT, V_TIMER | (1 << 17));    /* periodic */
	apic_write(APIC_TMICT, 1000000);               /* 1 ms */
	wait_vector(V_TIMER, 5);
	apic_write(APIC_TMICT, 0);
	printf("periodic: %u interrupts taken, then stopped (TMCCT %u)\n",
	       count[V_TIMER] - c, apic_read(APIC_TMCCT));

	apic_write(APIC_LVTT, V_TIMER | (1 << 16));    /* masked */
	apic_write(APIC_TMICT, 1000000);
	c = count[V_TIMER];
	__asm__ volatile("sti" ::: "memory");
	spin_ms(5);
	__asm__ volatile("cli" ::: "memory");
	printf("masked LVT timer: %u interrupts\n", count[V_TIMER] - c);
	apic_write(APIC_TMICT, 0);
}

static void self_ipi(unsigned vector)
{
	apic_write(APIC_ICR2, 0);
	apic_write(APIC_ICR, 0x40000 | vector);        /* self, fixed */
}

static void lapic_priorities(void)
{
	unsigned c = count[V_IPI];

	self_ipi(V_IPI);
	__asm__ volatile("sti; nop; nop; cli" ::: "memory");
	printf("self-IPI 0x%x: %u taken, in-handler PPR 0x%llx\n", V_IPI,
	       count[V_IPI] - c, (unsigned long long)handler_tpr);

	write_cr8(5);                                  /* class 5 blocks 4 */
	self_ipi(V_IPI);
	__asm__ volatile("sti; nop; nop; cli" ::: "memory");
	printf("TPR 0x50: IPI 0x%x held (IRR bit %u, taken %u); ", V_IPI,
	       (apic_read(APIC_IRR + 0x20) >> 1) & 1, count[V_IPI] - c);
	self_ipi(V_HIGH);
	__asm__ volatile("sti; nop; nop; cli" ::: "memory");
	printf("0x%x passes (taken %u)\n", V_HIGH, count[V_HIGH]);
	write_cr8(0);
	__asm__ volatile("sti; nop; nop; cli" ::: "memory");
	printf("TPR 0: 0x%x taken (%u), ISR empty: %s\n", V_IPI,
	       count[V_IPI] - c,
	       apic_read(APIC_ISR + 0x20) == 0 && apic_read(APIC_ISR + 0x60)
	       == 0 ? "yes" : "no");
}

/* ---- the I/O APIC ------------------------------------------------------ */

static void ioapic(void)
{
	uint32_t id, c;

	printf("I/O APIC: version 0x%x, ", ioapic_read(1));
	id = ioapic_read(0);
	ioapic_write(0, ~id);
	printf("ID writable bits 0x%x\n", id ^ ioapic_read(0));
	ioapic_write(0, id);

	/* The PIT on ISA IRQ 0 reaches the I/O APIC's pin 2 (MADT). */
	outb(0x21, 0xff);
	outb(0xa1, 0xff);                              /* 8259s masked */
	ioapic_write(0x10 + 2 * 2 + 1, 0);             /* to APIC 0 */
	ioapic_write(0x10 + 2 * 2, V_PIT);             /* edge, unmasked */
	outb(0x43, 0x34);
	outb(0x40, (1193182 / 1000) & 0xff);
	outb(0x40, (1193182 / 1000) >> 8);
	wait_vector(V_PIT, 3);
	ioapic_write(0x10 + 2 * 2, V_PIT | (1 << 16));
	outb(0x43, 0x30);                              /* one-shot: stop */
	outb(0x40, 0);
	outb(0x40, 0);
	printf("PIT through pin 2: 3 interrupts at vector 0x%x\n", V_PIT);

	/* A level-triggered line of pc-testdev: delivered while up, remote
	 * IRR until the EOI, which comes after the handler lowers it. */
	c = count[V_LEVEL];
	ioapic_write(0x10 + 2 * 14 + 1, 0);
	ioapic_write(0x10 + 2 * 14, V_LEVEL | (1 << 15));
	level_line_up = 1;
	outb(0x2000 + 14, 1);
	__asm__ volatile("sti; nop; nop; cli" ::: "memory");
	printf("level pin 14: %u interrupt, remote IRR %u, TMR bit %u\n",
	       count[V_LEVEL] - c, (ioapic_read(0x10 + 2 * 14) >> 14) & 1,
	       (apic_read(0x180 + 0x20) >> 0x11) & 1);
	ioapic_write(0x10 + 2 * 14, V_LEVEL | (1 << 16));
}

/* ---- instruction forms on device memory (pc-testdev iomem) ---------- */

static void mmio_forms(void)
{
	volatile uint64_t *m = (volatile uint64_t *)IOMEM;
	uint64_t buf[4] = { 0x1111, 0x2222, 0x3333, 0x4444 }, out[4];
	uint64_t v, n;
	uint16_t w;
	uint8_t cf;
	void *d, *src;

	m[0] = 0x0123456789abcdefull;                   /* mov reg -> mem */
	__asm__ volatile("movw (%1), %0" : "=r"(w) : "r"(m) : "memory");
	__asm__ volatile("movsbq 7(%1), %0" : "=r"(v) : "r"(m) : "memory");
	printf("iomem: movq, movw 0x%x, movsbq of byte 7 0x%llx\n", w,
	       (unsigned long long)v);
	__asm__ volatile("addq $5, (%0); incq (%0); lock subq $2, (%0)"
			 : : "r"(m) : "memory", "cc");
	__asm__ volatile("lock btsq $63, (%1); setc %0" : "=q"(cf) : "r"(m)
			 : "memory", "cc");
	printf("add, inc, lock sub, lock bts 63: 0x%llx (CF %u)\n",
	       (unsigned long long)m[0], cf);
	__asm__ volatile("movl $0xdeadbeef, 8(%0); notl %%eax; orl 8(%0), %%eax"
			 : : "r"(m) : "rax", "memory", "cc");
	printf("movl imm: 0x%llx\n", (unsigned long long)m[1]);
	{
		uint32_t old = 7;
		uint8_t zf;

		__asm__ volatile("notl 8(%2); negl 12(%2); lock xaddl %0, 8(%2);"
				 "testl $0x100, 12(%2); setz %1"
				 : "+r"(old), "=q"(zf) : "r"(m) : "memory", "cc");
		printf("not, neg, lock xadd 7, test: 0x%llx (xadd got 0x%x, "
		       "ZF %u)\n", (unsigned long long)m[1], old, zf);
	}

	d = (void *)(m + 4);
	src = buf;
	n = 4;
	__asm__ volatile("cld; rep movsq" : "+D"(d), "+S"(src), "+c"(n)
			 : : "memory");
	d = out;
	src = (void *)(m + 4);
	n = 4;
	__asm__ volatile("rep movsq" : "+D"(d), "+S"(src), "+c"(n)
			 : : "memory");
	printf("rep movsq in and out: 0x%llx 0x%llx 0x%llx 0x%llx\n",
	       (unsigned long long)out[0], (unsigned long long)out[1],
	       (unsigned long long)out[2], (unsigned long long)out[3]);
	d = (void *)(m + 4);
	n = 8;
	__asm__ volatile("rep stosl" : "+D"(d), "+c"(n) : "a"(0x5a5a5a5a)
			 : "memory");
	printf("rep stosl: 0x%llx\n", (unsigned long long)m[7]);
	{
		/* Forms the emulator does not know: Trapeze runs them
		 * natively on a copy of the operand (bt_bounce). */
		uint64_t bsf, prod, sel = 1, dst = 0x00000000ffffffffull;

		m[8] = 0x0000400000000000ull;
		m[9] = 3;
		m[10] = 0xabcdef0000000000ull;
		__asm__ volatile("bsfq 64(%1), %0" : "=r"(bsf) : "r"(m)
				 : "memory", "cc");
		__asm__ volatile("movq $7, %0; imulq 72(%1), %0"
				 : "=&r"(prod) : "r"(m) : "memory", "cc");
		__asm__ volatile("cmpq $0, 72(%1); cmovneq 80(%1), %0"
				 : "+r"(sel) : "r"(m) : "memory", "cc");
		__asm__ volatile("shldq $8, %1, 64(%0)" : : "r"(m), "r"(dst)
				 : "memory", "cc");
		printf("bsf 0x%llx, imul 0x%llx, cmovne 0x%llx, shld 0x%llx\n",
		       (unsigned long long)bsf, (unsigned long long)prod,
		       (unsigned long long)sel, (unsigned long long)m[8]);
	}
}

/* ---- what only Trapeze runs -------------------------------------------- */

static volatile int pf_seen;
static volatile uint64_t pf_cr2, pf_err;

static void on_pf(struct trap_frame *f)
{
	pf_seen++;
	pf_cr2 = read_cr2();
	pf_err = f->error;
	f->rip += 2;                   /* the movl (%rax), %eax below */
}

static void trapeze_only(void)
{
	uint64_t base = rdmsr(0x1b);
	unsigned c;
	uint32_t v;

	wrmsr(0x1b, base | (1 << 10));                 /* x2APIC mode */
	x2apic = 1;
	printf("x2APIC: ID %llu, version 0x%llx, LDR 0x%llx\n",
	       (unsigned long long)rdmsr(0x802),
	       (unsigned long long)rdmsr(0x803),
	       (unsigned long long)rdmsr(0x80d));
	printf("x2APIC mode, the xAPIC page reads 0x%x\n", apic_read(APIC_LVR));
	c = count[V_IPI];
	wrmsr(0x83f, V_IPI);                           /* SELF IPI */
	__asm__ volatile("sti; nop; nop; cli" ::: "memory");
	wrmsr(0x830, 0x40000 | V_IPI);                 /* ICR, self */
	__asm__ volatile("sti; nop; nop; cli" ::: "memory");
	printf("x2APIC self-IPIs: %u taken\n", count[V_IPI] - c);

	/* QEMU 7.2's TCG reads TMCCT as 0 while a one-shot counts. */
	wrmsr(0x83e, 0xb);
	wrmsr(0x832, V_TIMER);
	wrmsr(0x838, 5000000);
	v = (uint32_t)rdmsr(0x839);
	printf("one-shot of 5000000: TMCCT %s\n",
	       v > 0 && v < 5000000 ? "counting down" : "NOT counting");
	wait_vector(V_TIMER, 1);

	c = count[V_TIMER];
	wrmsr(0x832, V_TIMER | (2 << 17));             /* TSC-deadline */
	wrmsr(0x6e0, rdtsc() + boot->tsc_khz);         /* in 1 ms */
	wait_vector(V_TIMER, 1);
	printf("TSC deadline: %u interrupt, MSR now %llu\n",
	       count[V_TIMER] - c, (unsigned long long)rdmsr(0x6e0));
	wrmsr(0x6e0, rdtsc() - 1);                     /* already past */
	__asm__ volatile("sti; nop; nop; cli" ::: "memory");
	printf("past deadline: %u interrupts in all\n", count[V_TIMER] - c);
	wrmsr(0x1b, base & ~(3ull << 10));              /* disable */
	x2apic = 0;
	printf("disabled: CPUID.1:EDX.APIC %u, page reads 0x%x\n",
	       (unsigned)((cpuid_edx(1) >> 9) & 1), apic_read(APIC_LVR));
	wrmsr(0x1b, base);

	idt_set_handler(14, on_pf);
	__asm__ volatile("movl (%1), %0" : "=a"(v) : "a"(0xfed00000ul)
			 : "memory");
	(void)v;
	printf("read of 0xfed00000 (no device): #PF %d, cr2 0x%llx, "
	       "error 0x%llx\n", pf_seen, (unsigned long long)pf_cr2,
	       (unsigned long long)pf_err);
}

int guest_main(const struct trapeze_boot_info *bi)
{
	const char *cmd = (const char *)(uintptr_t)bi->cmdline;
	unsigned v;

	boot = bi;
	outb(0x21, 0xff);            /* the 8259s masked: firmware may leave */
	outb(0xa1, 0xff);            /* the PIT ticking on IRQ 0 (vector 8) */
	gdt_init();
	idt_init();
	for (v = 0x40; v < 0x70; v++)
		idt_set_handler(v, on_vector);
	map_devices(bi);
	acpi();
	fw_cfg();
	lapic_basics();
	lapic_timer();
	lapic_priorities();
	ioapic();
	mmio_forms();
	if (!strcmp(cmd, "trapeze"))
		trapeze_only();
	return 0;
}
