/*
 * The guest's descriptor tables: reading GDT/LDT entries and loading
 * segment registers from them with the checks of SDM vol. 3A ch. 5.
 * Only the virtual registers change: the host keeps running the guest
 * with its own flat user segments.
 */
#ifndef TRAPEZE_SEGMENT_H
#define TRAPEZE_SEGMENT_H

#include <stdbool.h>
#include <stdint.h>

#include "cpu/vcpu.h"

struct vcpu;

struct descriptor {
	uint32_t lo, hi;     /* the 8-byte descriptor */
	uint32_t hi2;        /* bits 32-63 of a 16-byte system descriptor's base */
	uint64_t addr;       /* where it lives (linear) */
};

/*
 * Read the descriptor for sel from the GDT or LDT.  A selector past the
 * table's limit raises #GP(sel) (or vector fault_vec) and returns false.
 * wide: read a 16-byte long-mode system descriptor.
 */
bool desc_read(struct vcpu *v, uint16_t sel, struct descriptor *d, bool wide,
	       unsigned fault_vec);
/* Write back a descriptor's access byte (accessed or busy bits). */
bool desc_write_hi(struct vcpu *v, const struct descriptor *d);

static inline unsigned desc_dpl(const struct descriptor *d)
{
	return (d->hi >> 13) & 3;
}
static inline bool desc_present(const struct descriptor *d)
{
	return (d->hi >> 15) & 1;
}
static inline unsigned desc_type(const struct descriptor *d)
{
	return (d->hi >> 8) & 0xf;
}
static inline bool desc_is_system(const struct descriptor *d)
{
	return !((d->hi >> 12) & 1);
}
static inline bool desc_is_code(const struct descriptor *d)
{
	return !desc_is_system(d) && (desc_type(d) & SEG_TYPE_CODE);
}

/* Load a data segment register (DS, ES, FS, GS, SS) as mov/pop/lss do. */
bool seg_load_data(struct vcpu *v, enum sreg sr, uint16_t sel);
/* Check and load CS for a far transfer to privilege level new_cpl
 * (iret, far ret, far jmp/call).  Raises and returns false on failure. */
bool seg_load_cs(struct vcpu *v, uint16_t sel, unsigned new_cpl);
/* On a return to an outer level, DS/ES/FS/GS that the new level may not
 * use become null (SDM vol. 3A 5.8.6, IRET). */
void seg_null_inaccessible(struct vcpu *v);
/* The host's view of the guest's code size for a descriptor. */
bool seg_attr_is_64(uint16_t attr);

/* The hidden part of a null selector load. */
void seg_set_null(struct segment *s, uint16_t sel);

#endif /* TRAPEZE_SEGMENT_H */
