/*
 * The local APIC (see lapic.h).  One vCPU, so one APIC: an interrupt
 * message is accepted into the IRR at once, and the interrupt path
 * (irq.c) asks at the end of every trap whether the highest requested
 * vector outranks the processor priority (SDM 11.8.3): PPR is the higher
 * of TPR and the class of the highest vector in service.
 *
 * The timer is lapic-timer.c's.
 *
 * The APIC exists as firmware leaves it (QEMU's reset state): enabled
 * at 0xfee00000, software-disabled (SVR 0xff), LINT0 in ExtINT mode so
 * that the 8259's interrupts still reach the vCPU, LINT1 NMI (SeaBIOS
 * leaves 0x8700 and 0x8400).
 */
#include <stdlib.h>
#include <string.h>

#include "dev/mmio.h"
#include "dev/timer.h"
#include "dev/lapic.h"
#include "dev/pc.h"
#include "dev/lapic-internal.h"

/* Which bits of each LVT entry software may write. */
static const uint32_t lvt_writable[NR_LVT] = {
	0x700ff, 0x107ff, 0x107ff, 0x1a7ff, 0x1a7ff, 0x100ff,
};

/* ---- the 256-bit vector registers ---------------------------------- */

static void bit_set(uint32_t *r, unsigned v) { r[v >> 5] |= 1u << (v & 31); }
static void bit_clear(uint32_t *r, unsigned v) { r[v >> 5] &= ~(1u << (v & 31)); }
static bool bit_test(const uint32_t *r, unsigned v)
{
	return (r[v >> 5] >> (v & 31)) & 1;
}

/* The highest vector set, or -1. */
static int highest(const uint32_t *r)
{
	int i;

	for (i = 7; i >= 0; i--)
		if (r[i])
			return i * 32 + 31 - __builtin_clz(r[i]);
	return -1;
}

static uint32_t ppr(const struct lapic *l)
{
	int isrv = highest(l->isr);
	uint32_t isr_class = isrv < 0 ? 0 : (uint32_t)isrv & 0xf0;

	return (l->tpr & 0xf0) >= isr_class ? l->tpr & 0xff : isr_class;
}

/* ---- state ------------------------------------------------------------ */

static uint64_t x2apic_ldr(uint32_t id)
{
	return ((id >> 4) << 16) | (1u << (id & 0xf));
}

/* Power-up state of the registers, as firmware leaves them. */
static void reset_registers(struct lapic *l)
{
	unsigned i;

	l->xapic_id = l->id << 24;
	l->ldr = 0;
	l->dfr = 0xffffffffu;
	l->svr = 0xff;
	l->esr = l->esr_pending = 0;
	l->icr = l->icr2 = 0;
	for (i = 0; i < NR_LVT; i++)
		l->lvt[i] = LVT_MASKED;
	l->lvt[LVT_LINT0] = (DM_EXTINT << 8) | (1u << 15);   /* level */
	l->lvt[LVT_LINT1] = (DM_NMI << 8) | (1u << 15);
	memset(l->irr, 0, sizeof(l->irr));
	memset(l->isr, 0, sizeof(l->isr));
	memset(l->tmr, 0, sizeof(l->tmr));
	l->tmict = 0;
	l->tdcr = 0;
	l->counting = false;
	l->deadline = 0;
	vtimer_stop(l->ts, &l->timer);
}

struct lapic *lapic_create(struct timers *ts, uint64_t tsc_khz,
			   uint64_t (*tsc)(void *opaque), void *tsc_opaque)
{
	struct lapic *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	l->ts = ts;
	l->tsc_khz = tsc_khz ? tsc_khz : 1000000;
	l->tsc = tsc;
	l->tsc_opaque = tsc_opaque;
	l->timer.fire = lapic_timer_fire;
	l->timer.opaque = l;
	timers_add(ts, &l->timer);
	l->base = APIC_DEFAULT_BASE | BASE_BSP | BASE_EN;
	reset_registers(l);
	return l;
}

void lapic_destroy(struct lapic *l)
{
	free(l);
}

/* The xAPIC's ID and version registers read the same until the ID is
 * written or the APIC moves or changes mode (mmio_changed). */
static bool lapic_fixed(void *opaque, uint64_t offset, unsigned size,
			uint64_t *val)
{
	struct lapic *l = opaque;

	if (size != 4 || !lapic_hw_enabled(l) || lapic_x2apic_mode(l))
		return false;
	switch (offset) {
	case R_ID << 4:
		*val = l->xapic_id;
		return true;
	case R_LVR << 4:
		*val = APIC_VERSION;
		return true;
	}
	return false;
}

void lapic__register(struct lapic *l, struct mmio_bus *bus)
{
	l->mmio = mmio_register(bus, APIC_DEFAULT_BASE, 4096, lapic_mmio, l,
				"LAPIC");
	mmio_set_fixed(l->mmio, lapic_fixed);
}

int lapic__init(struct pc *pc)
{
	struct lapic *l = lapic_create(pc->timers, pc->tsc_khz, pc->tsc,
				       pc->tsc_ctx);

	if (!l)
		return -1;
	if (pc->apics)
		lapic__register(l, &pc->mmio);
	else
		lapic_remove(l);   /* the 8259s are the only controllers */
	pc->lapic = l;
	return 0;
}

void lapic_set_eoi_hook(struct lapic *l, void (*fn)(void *, uint8_t),
			void *opaque)
{
	l->eoi_hook = fn;
	l->eoi_opaque = opaque;
}

uint64_t lapic_base(const struct lapic *l)
{
	return l->base;
}

bool lapic_hw_enabled(const struct lapic *l)
{
	return (l->base & BASE_EN) != 0;
}

bool lapic_x2apic_mode(const struct lapic *l)
{
	return (l->base & (BASE_EN | BASE_EXTD)) == (BASE_EN | BASE_EXTD);
}

void lapic_remove(struct lapic *l)
{
	reset_registers(l);
	l->base = 0;
	l->absent = true;
}

/*
 * The states are disabled, xAPIC and x2APIC; EXTD without EN is invalid,
 * and x2APIC may only be left through disabled, xAPIC only entered from
 * disabled or xAPIC (SDM 11.12.5, figure 11-27).
 */
bool lapic_set_base(struct lapic *l, uint64_t val, unsigned maxphyaddr)
{
	uint64_t reserved = 0xffull | (1ull << 9) |
			    ~((1ull << maxphyaddr) - 1);
	bool en = val & BASE_EN, extd = val & BASE_EXTD;
	bool was_en = lapic_hw_enabled(l), was_x2 = lapic_x2apic_mode(l);

	if ((val & reserved) || (extd && !en) || (en && l->absent))
		return false;
	if (was_x2 && en && !extd)
		return false;
	if (!was_en && en && extd)
		return false;
	if (was_en && !en)
		reset_registers(l);
	l->base = (val & ~BASE_BSP) | (l->base & BASE_BSP);
	if (l->mmio) {
		l->mmio->base = l->base & ~0xfffull;
		mmio_changed(l->mmio);
	}
	if (!was_x2 && en && extd)
		l->ldr = (uint32_t)x2apic_ldr(l->id);
	return true;
}

/* ---- interrupts ------------------------------------------------------- */

void lapic_accept(struct lapic *l, uint8_t vector, bool level)
{
	if (vector < 16) {
		l->esr_pending |= ESR_RECV_ILLEGAL;
		return;
	}
	bit_set(l->irr, vector);
	if (level)
		bit_set(l->tmr, vector);
	else
		bit_clear(l->tmr, vector);
}

bool lapic_nmi_pending(const struct lapic *l)
{
	return l->nmi;
}

void lapic_take_nmi(struct lapic *l)
{
	l->nmi = false;
}

bool lapic_pending(const struct lapic *l)
{
	int v = highest(l->irr);

	return lapic_hw_enabled(l) && v >= 0 &&
	       ((uint32_t)v & 0xf0) > (ppr(l) & 0xf0);
}

int lapic_ack(struct lapic *l)
{
	int v;

	if (!lapic_pending(l))
		return -1;
	v = highest(l->irr);
	bit_clear(l->irr, (unsigned)v);
	bit_set(l->isr, (unsigned)v);
	return v;
}

bool lapic_accepts_pic(const struct lapic *l)
{
	uint32_t lint0 = l->lvt[LVT_LINT0];

	return !lapic_hw_enabled(l) ||
	       (!(lint0 & LVT_MASKED) && LVT_DM(lint0) == DM_EXTINT);
}

static void eoi(struct lapic *l)
{
	int v = highest(l->isr);

	if (v < 0)
		return;
	bit_clear(l->isr, (unsigned)v);
	if (bit_test(l->tmr, (unsigned)v) && l->eoi_hook)
		l->eoi_hook(l->eoi_opaque, (uint8_t)v);
}

bool lapic_match_dest(const struct lapic *l, uint32_t dest, bool logical)
{
	if (lapic_x2apic_mode(l)) {
		if (dest == 0xffffffffu)
			return true;
		if (!logical)
			return dest == l->id;
		return (dest >> 16) == (l->ldr >> 16) &&
		       (dest & l->ldr & 0xffff) != 0;
	}
	dest &= 0xff;
	if (dest == 0xff)
		return true;
	if (!logical)
		return dest == l->xapic_id >> 24;
	if ((l->dfr >> 28) == 0xf)                     /* flat model */
		return (dest & (l->ldr >> 24)) != 0;
	return (dest >> 4) == (l->ldr >> 28) &&         /* cluster model */
	       (dest & (l->ldr >> 24) & 0xf) != 0;
}

/* An IPI through the ICR (SDM 11.6.1).  With one processor, only the
 * sender itself can be a destination. */
static void send_ipi(struct lapic *l, uint32_t lo, uint32_t dest)
{
	unsigned shorthand = (lo >> 18) & 3, dm = LVT_DM(lo);
	uint8_t vector = lo & 0xff;
	bool self;

	switch (shorthand) {
	case 0: self = lapic_match_dest(l, dest, lo & (1u << 11)); break;
	case 1: case 2: self = true; break;
	default: self = false; break;                  /* all but self */
	}
	if ((dm == DM_FIXED || dm == DM_LOWEST) && vector < 16)
		l->esr_pending |= ESR_SEND_ILLEGAL;   /* and receive, if self */
	if (self && (dm == DM_FIXED || dm == DM_LOWEST))
		lapic_accept(l, vector, false);
	if (self && dm == DM_NMI)
		l->nmi = true;
	/* INIT and SIPI only ever address other processors, and there are
	 * none; SMI is not modelled (docs/limits.md). */
}

/* ---- CR8 -------------------------------------------------------------- */

uint64_t lapic_cr8(const struct lapic *l)
{
	return (l->tpr >> 4) & 0xf;
}

void lapic_set_cr8(struct lapic *l, uint64_t cr8)
{
	l->tpr = (uint32_t)(cr8 & 0xf) << 4;
}

/* ---- registers -------------------------------------------------------- */

/* Read register r; false if it does not exist (or is write-only). */
static bool reg_read(struct lapic *l, unsigned r, uint32_t *val)
{
	bool x2 = lapic_x2apic_mode(l);

	switch (r) {
	case R_ID: *val = x2 ? l->id : l->xapic_id; return true;
	case R_LVR: *val = APIC_VERSION; return true;
	case R_TPR: *val = l->tpr; return true;
	case R_APR: *val = 0; return !x2;
	case R_PPR: *val = ppr(l); return true;
	case R_EOI: *val = 0; return !x2;
	case R_RRD: *val = 0; return !x2;
	case R_LDR: *val = l->ldr; return true;
	case R_DFR: *val = l->dfr; return !x2;
	case R_SVR: *val = l->svr; return true;
	case R_ESR: *val = l->esr; return true;
	case R_ICR: *val = l->icr; return true;
	case R_ICR2: *val = l->icr2; return !x2;
	case R_TMICT: *val = l->tmict; return true;
	case R_TMCCT: *val = lapic_timer_count(l); return true;
	case R_TDCR: *val = l->tdcr; return true;
	}
	if (r >= R_ISR && r < R_ISR + 8) {
		*val = l->isr[r - R_ISR];
		return true;
	}
	if (r >= R_TMR && r < R_TMR + 8) {
		*val = l->tmr[r - R_TMR];
		return true;
	}
	if (r >= R_IRR && r < R_IRR + 8) {
		*val = l->irr[r - R_IRR];
		return true;
	}
	if (r >= R_LVT_TIMER && r <= R_LVT_ERROR) {
		*val = l->lvt[r - R_LVT_TIMER];
		return true;
	}
	*val = 0;
	return !x2;       /* reserved xAPIC offsets read as 0 */
}

static void write_svr(struct lapic *l, uint32_t val)
{
	unsigned i;

	l->svr = val & 0x13ff;
	if (!(l->svr & SVR_ENABLE))               /* software disable */
		for (i = 0; i < NR_LVT; i++)
			l->lvt[i] |= LVT_MASKED;
}

static void write_lvt(struct lapic *l, unsigned i, uint32_t val)
{
	val = (l->lvt[i] & ~lvt_writable[i]) | (val & lvt_writable[i]);
	if (!(l->svr & SVR_ENABLE))
		val |= LVT_MASKED;
	if (i == LVT_TIMER)
		lapic_write_lvt_timer(l, val);
	else
		l->lvt[i] = val;
}

/* Write register r; false if it cannot be written (x2APIC: #GP). */
static bool reg_write(struct lapic *l, unsigned r, uint32_t val)
{
	bool x2 = lapic_x2apic_mode(l);

	switch (r) {
	case R_ID:
		if (x2)
			return false;
		l->xapic_id = val & 0xff000000u;
		if (l->mmio)
			mmio_changed(l->mmio);
		return true;
	case R_TPR: l->tpr = val & 0xff; return true;
	case R_EOI:
		if (x2 && val)
			return false;
		eoi(l);
		return true;
	case R_LDR:
		if (x2)
			return false;
		l->ldr = val & 0xff000000u;
		return true;
	case R_DFR:
		if (x2)
			return false;
		l->dfr = val | 0x0fffffffu;
		return true;
	case R_SVR: write_svr(l, val); return true;
	case R_ESR:
		if (x2 && val)
			return false;
		l->esr = l->esr_pending;
		l->esr_pending = 0;
		return true;
	case R_ICR:
		l->icr = val & ~(1u << 12);             /* delivered at once */
		send_ipi(l, l->icr, x2 ? l->icr2 : l->icr2 >> 24);
		return true;
	case R_ICR2:
		if (x2)
			return false;
		l->icr2 = val & 0xff000000u;
		return true;
	case R_TMICT: lapic_write_tmict(l, val); return true;
	case R_TDCR: lapic_write_tdcr(l, val); return true;
	case R_SELF_IPI:
		if (!x2)
			return true;
		if (val & ~0xffu)
			return false;       /* bits 31:8 are reserved: #GP */
		send_ipi(l, val | (1u << 18), 0);
		return true;
	}
	if (r >= R_LVT_TIMER && r <= R_LVT_ERROR) {
		write_lvt(l, r - R_LVT_TIMER, val);
		return true;
	}
	return !x2;       /* read-only or reserved: ignored in xAPIC mode */
}

bool lapic_msr_read(struct lapic *l, uint32_t msr, uint64_t *val)
{
	uint32_t v;

	if (!lapic_x2apic_mode(l) || msr < 0x800 || msr > 0x8ff ||
	    msr == 0x800 + R_SELF_IPI || msr == 0x800 + R_EOI)
		return false;
	if (!reg_read(l, msr - 0x800, &v))
		return false;
	*val = v;
	if (msr == 0x800 + R_ICR)
		*val |= (uint64_t)l->icr2 << 32;
	return true;
}

bool lapic_msr_write(struct lapic *l, uint32_t msr, uint64_t val)
{
	unsigned r = msr - 0x800;

	if (!lapic_x2apic_mode(l) || msr < 0x800 || msr > 0x8ff)
		return false;
	if (r == R_ICR) {
		l->icr2 = (uint32_t)(val >> 32);
		return reg_write(l, r, (uint32_t)val);
	}
	if (val >> 32)
		return false;
	switch (r) {        /* read-only in x2APIC mode */
	case R_LVR: case R_PPR: case R_TMCCT:
		return false;
	}
	if ((r >= R_ISR && r < R_IRR + 8))
		return false;
	return reg_write(l, r, (uint32_t)val);
}

/* The xAPIC page: 32-bit registers on 16-byte boundaries.  The SDM
 * leaves narrower accesses undefined (11.4.1); as QEMU's, a narrower
 * read returns 0 and a narrower write is ignored.  While the APIC is
 * disabled or in x2APIC mode, the page reads as all ones and ignores
 * writes, as KVM and QEMU do. */
void lapic_mmio(void *opaque, uint64_t offset, unsigned size, bool write,
		uint64_t *val)
{
	struct lapic *l = opaque;
	unsigned r = (unsigned)(offset >> 4), in = offset & 0xf;
	uint32_t v = 0;

	if (!lapic_hw_enabled(l) || lapic_x2apic_mode(l)) {
		if (!write)
			*val = ~0ull;
		return;
	}
	if (size < 4 || in != 0) {
		if (!write)
			*val = 0;
		return;
	}
	if (write) {
		reg_write(l, r, (uint32_t)*val);
		return;
	}
	reg_read(l, r, &v);
	*val = v;
}
