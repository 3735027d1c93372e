/*
 * Private to lapic.c and lapic-timer.c: the local APIC's state.
 */
#ifndef TRAPEZE_LAPIC_INTERNAL_H
#define TRAPEZE_LAPIC_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "dev/timer.h"

struct mmio_region;

#define APIC_DEFAULT_BASE 0xfee00000ull
#define BASE_BSP   (1ull << 8)
#define BASE_EXTD  (1ull << 10)
#define BASE_EN    (1ull << 11)

#define APIC_VERSION 0x00050014u    /* version 0x14, 6 LVT entries */

/* Register offsets >> 4 (the x2APIC MSR is 0x800 plus this). */
enum {
	R_ID = 0x2, R_LVR = 0x3, R_TPR = 0x8, R_APR = 0x9, R_PPR = 0xa,
	R_EOI = 0xb, R_RRD = 0xc, R_LDR = 0xd, R_DFR = 0xe, R_SVR = 0xf,
	R_ISR = 0x10, R_TMR = 0x18, R_IRR = 0x20, R_ESR = 0x28,
	R_ICR = 0x30, R_ICR2 = 0x31, R_LVT_TIMER = 0x32, R_LVT_ERROR = 0x37,
	R_TMICT = 0x38, R_TMCCT = 0x39, R_TDCR = 0x3e, R_SELF_IPI = 0x3f,
};

enum { LVT_TIMER, LVT_THERMAL, LVT_PERF, LVT_LINT0, LVT_LINT1, LVT_ERROR,
       NR_LVT };

#define LVT_MASKED   (1u << 16)
#define LVT_DM(v)    (((v) >> 8) & 7)
#define DM_FIXED  0
#define DM_LOWEST 1
#define DM_NMI    4
#define DM_INIT   5
#define DM_SIPI   6
#define DM_EXTINT 7
#define TIMER_MODE(v)  (((v) >> 17) & 3)
#define TIMER_ONESHOT  0
#define TIMER_PERIODIC 1
#define TIMER_DEADLINE 2

#define SVR_ENABLE (1u << 8)
#define ESR_SEND_ILLEGAL 0x20
#define ESR_RECV_ILLEGAL 0x40

/* Which bits of each LVT entry software may write. */

struct lapic {
	uint64_t base;            /* IA32_APIC_BASE */
	bool absent;
	struct mmio_region *mmio;
	uint32_t id;              /* APIC ID, 0 (x2APIC form) */
	uint32_t xapic_id;        /* the xAPIC ID register's bits 31:24 */
	uint32_t tpr, ldr, dfr, svr;
	uint32_t esr, esr_pending;
	uint32_t icr, icr2;
	uint32_t lvt[NR_LVT];
	uint32_t irr[8], isr[8], tmr[8];
	bool nmi;                 /* an NMI accepted, not yet taken */

	/* timer */
	uint32_t tmict, tdcr;
	bool counting;            /* one-shot not yet expired, or periodic */
	uint64_t start;           /* ns when the count was (re)based */
	uint64_t deadline;        /* IA32_TSC_DEADLINE */
	struct vtimer timer;
	struct timers *ts;
	uint64_t tsc_khz;
	uint64_t (*tsc)(void *);
	void *tsc_opaque;

	void (*eoi_hook)(void *, uint8_t);
	void *eoi_opaque;
};

/* lapic-timer.c: the timer registers' side effects. */
void lapic_timer_fire(void *opaque, uint64_t now);
uint32_t lapic_timer_count(const struct lapic *l);       /* TMCCT */
void lapic_write_tmict(struct lapic *l, uint32_t val);
void lapic_write_tdcr(struct lapic *l, uint32_t val);
void lapic_write_lvt_timer(struct lapic *l, uint32_t val);

#endif
