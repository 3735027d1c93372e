/*
 * disk: an IDE disk as xv6's ide.c drives it.  It finds disk 1 (the
 * primary slave) by selecting it and polling status, reads its size with
 * IDENTIFY, reads a sector, writes one and reads it back, each waiting
 * for IRQ 14 through the 8259s with sti; hlt, and reads past the end of
 * the disk (ERR, with ABRT as QEMU says).  Run with --drive
 * file=IMG,index=1 on a 16-sector image whose sector 1 begins with a line
 * of text.  With "spin" or "crash" on the command line it stops after the
 * write, so the test can check the write reached the image whatever ends
 * the run.  The transcript and the image afterwards match QEMU's.
 */
#include "trapeze/desc.h"
#include "trapeze/guest.h"

#define IDE 0x1f0
#define IDE_CTL 0x3f6
#define ST_BSY 0x80
#define ST_DRDY 0x40
#define ST_DF 0x20
#define ST_DRQ 0x08
#define ST_ERR 0x01
#define VECTOR_BASE 0x20
#define IRQ_IDE 14

static volatile unsigned ide_irqs;
static volatile uint8_t irq_status;
static uint32_t buf[128];

static void on_ide(struct trap_frame *f)
{
	ide_irqs++;
	irq_status = inb(IDE + 7);      /* acknowledges the drive */
	outb(0xa0, 0x20);               /* EOI to the slave PIC, */
	outb(0x20, 0x20);               /* then to the master */
}

static void pic_init(void)
{
	outb(0x20, 0x11); outb(0xa0, 0x11);
	outb(0x21, VECTOR_BASE); outb(0xa1, VECTOR_BASE + 8);
	outb(0x21, 0x04); outb(0xa1, 0x02);
	outb(0x21, 0x01); outb(0xa1, 0x01);
	outb(0x21, 0xfb);                     /* the cascade only, */
	outb(0xa1, (uint8_t)~(1 << (IRQ_IDE - 8)));   /* and IRQ 14 */
}

static void insl(uint16_t port, void *dst, unsigned n)
{
	__asm__ volatile("cld; rep insl" : "+D"(dst), "+c"(n) : "d"(port)
			 : "memory");
}

static void outsl(uint16_t port, const void *src, unsigned n)
{
	__asm__ volatile("cld; rep outsl" : "+S"(src), "+c"(n) : "d"(port));
}

/* xv6's idewait: until ready and not busy; -1 on an error. */
static int idewait(int checkerr)
{
	uint8_t r;

	while (((r = inb(IDE + 7)) & (ST_BSY | ST_DRDY)) != ST_DRDY)
		;
	if (checkerr && (r & (ST_DF | ST_ERR)))
		return -1;
	return 0;
}

static void start(unsigned drive, uint32_t lba, uint8_t cmd)
{
	idewait(0);
	outb(IDE_CTL, 0);                     /* nIEN clear: interrupts */
	outb(IDE + 2, 1);
	outb(IDE + 3, lba & 0xff);
	outb(IDE + 4, (lba >> 8) & 0xff);
	outb(IDE + 5, (lba >> 16) & 0xff);
	outb(IDE + 6, 0xe0 | (drive << 4) | ((lba >> 24) & 0x0f));
	outb(IDE + 7, cmd);
}

static void wait_irq(unsigned before)
{
	while (ide_irqs == before)
		__asm__ volatile("sti; hlt; cli" ::: "memory");
}

/* Read one sector with the interrupt, as ideintr does: 0 or -1. */
static int read_sector(unsigned drive, uint32_t lba)
{
	unsigned n = ide_irqs;

	start(drive, lba, 0x20);
	wait_irq(n);
	if (idewait(1) < 0)
		return -1;
	insl(IDE, buf, 128);
	return 0;
}

static int write_sector(unsigned drive, uint32_t lba)
{
	unsigned n = ide_irqs;

	start(drive, lba, 0x30);
	outsl(IDE, buf, 128);
	wait_irq(n);
	return idewait(1);
}

static int have_disk1(void)
{
	int i, found = 0;

	idewait(0);
	outb(IDE + 6, 0xe0 | (1 << 4));
	for (i = 0; i < 1000; i++)
		if (inb(IDE + 7) != 0) {
			found = 1;
			break;
		}
	outb(IDE + 6, 0xe0 | (0 << 4));
	return found;
}

static uint32_t identify_sectors(unsigned drive)
{
	uint16_t *w = (uint16_t *)buf;
	unsigned n = ide_irqs;

	start(drive, 0, 0xec);
	wait_irq(n);
	insl(IDE, buf, 128);
	return w[60] | (uint32_t)w[61] << 16;
}

static void crash(void)
{
	static const struct { uint16_t limit; uint64_t base; }
		__attribute__((packed)) none = { 0, 0 };

	/* No IDT at all: the #UD becomes a triple fault. */
	__asm__ volatile("lidt %0; ud2" : : "m"(none));
}

int guest_main(const struct trapeze_boot_info *bi)
{
	const char *cmd = (const char *)(uintptr_t)bi->cmdline;
	uint8_t st;
	int i;

	gdt_init();
	idt_init();
	idt_set_handler(VECTOR_BASE + IRQ_IDE, on_ide);
	pic_init();

	printf("disk 1: %s\n", have_disk1() ? "present" : "absent");
	printf("disk 1: %u sectors\n", (unsigned)identify_sectors(1));
	if (read_sector(1, 1) < 0)
		printf("read of sector 1 failed\n");
	else
		printf("sector 1: %s", (const char *)buf);

	for (i = 0; i < 128; i++)
		buf[i] = 0x01010101u * (uint32_t)(i + 1);
	memcpy(buf, "written by the guest\n", 22);
	printf("write of sector 2: %s\n", write_sector(1, 2) < 0 ? "failed"
								: "done");
	if (!strcmp(cmd, "spin"))
		for (;;)
			__asm__ volatile("pause");
	if (!strcmp(cmd, "crash"))
		crash();
	memset(buf, 0, sizeof(buf));
	if (read_sector(1, 2) < 0)
		printf("read of sector 2 failed\n");
	else
		printf("sector 2 reads back: %s", (const char *)buf);
	printf("and the rest of it: %s\n",
	       buf[127] == 0x80808080u ? "the same" : "different");

	if (read_sector(1, 16) < 0) {
		st = inb(IDE + 7);
		printf("read of sector 16: status 0x%x, error 0x%x\n", st,
		       inb(IDE + 1));
	} else {
		printf("read of sector 16 succeeded\n");
	}
	printf("disk 0 (absent) refuses: %s\n",
	       read_sector(0, 0) < 0 && inb(IDE + 1) == 0x04 ? "ABRT" : "no");
	printf("IRQ 14 taken %u times, status in the handler 0x%x\n",
	       ide_irqs, irq_status);
	return 0;
}
