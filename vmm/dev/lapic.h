/*
 * The local APIC of the one vCPU (Intel SDM vol. 3A ch. 11, "Advanced
 * Programmable Interrupt Controller"): its registers in the xAPIC MMIO
 * page (0xfee00000 unless the guest moves it) and as x2APIC MSRs
 * (0x800-0x8ff), the IA32_APIC_BASE and IA32_TSC_DEADLINE MSRs, CR8, the
 * timer, and the IRR/ISR/TPR logic that decides which vector the vCPU
 * takes next.
 */
#ifndef TRAPEZE_LAPIC_H
#define TRAPEZE_LAPIC_H

#include <stdbool.h>
#include <stdint.h>

struct lapic;
struct pc;
struct mmio_bus;
struct timers;

/* The timer runs on the timers of virtual time; tsc() reads the guest's
 * TSC, which counts at tsc_khz (the TSC-deadline mode's clock). */
struct lapic *lapic_create(struct timers *ts, uint64_t tsc_khz,
			   uint64_t (*tsc)(void *opaque), void *tsc_opaque);
void lapic_destroy(struct lapic *l);
void lapic__register(struct lapic *l, struct mmio_bus *bus);
/* The CPU's local APIC at 0xfee00000 (removed when the APICs' pages
 * would hide RAM). */
int lapic__init(struct pc *pc);
/* An EOI for a level-triggered vector goes to the I/O APIC (its remote
 * IRR), as the EOI broadcast of the SDM does. */
void lapic_set_eoi_hook(struct lapic *l, void (*fn)(void *, uint8_t),
			void *opaque);

/* The machine has no local APIC after all (its page would hide RAM):
 * disabled for good, and IA32_APIC_BASE refuses to enable it. */
void lapic_remove(struct lapic *l);
/* IA32_APIC_BASE: false for a value the hardware refuses with #GP. */
uint64_t lapic_base(const struct lapic *l);
bool lapic_set_base(struct lapic *l, uint64_t val, unsigned maxphyaddr);
bool lapic_hw_enabled(const struct lapic *l);
bool lapic_x2apic_mode(const struct lapic *l);

/* x2APIC MSRs 0x800-0x8ff: false means #GP. */
bool lapic_msr_read(struct lapic *l, uint32_t msr, uint64_t *val);
bool lapic_msr_write(struct lapic *l, uint32_t msr, uint64_t val);
/* IA32_TSC_DEADLINE (0x6e0). */
uint64_t lapic_tsc_deadline(const struct lapic *l);
void lapic_set_tsc_deadline(struct lapic *l, uint64_t deadline);
/* CR8 is TPR[7:4]. */
uint64_t lapic_cr8(const struct lapic *l);
void lapic_set_cr8(struct lapic *l, uint64_t cr8);

/* The xAPIC register page: offset within the page, size 1-8. */
void lapic_mmio(void *opaque, uint64_t offset, unsigned size, bool write,
		uint64_t *val);

/* An interrupt message for this APIC (I/O APIC redirection, IPI). */
void lapic_accept(struct lapic *l, uint8_t vector, bool level);
/* Does a message with this destination reach this APIC? */
bool lapic_match_dest(const struct lapic *l, uint32_t dest, bool logical);
/* Is a fixed interrupt ready for the vCPU (above the processor
 * priority)?  lapic_ack takes it: IRR to ISR, returns the vector or -1. */
/* An NMI sent to this processor (a self-IPI with delivery mode NMI),
 * and taking it. */
bool lapic_nmi_pending(const struct lapic *l);
void lapic_take_nmi(struct lapic *l);
bool lapic_pending(const struct lapic *l);
int lapic_ack(struct lapic *l);
/* May the 8259's INTR reach the vCPU (APIC disabled, or LINT0 unmasked
 * in ExtINT mode, the virtual-wire mode firmware leaves)? */
bool lapic_accepts_pic(const struct lapic *l);

#endif
