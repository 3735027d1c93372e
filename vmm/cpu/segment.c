/*
 * Segment loads against the guest's own (virtual) descriptor tables.
 *
 * On the host every guest instruction runs with Linux's flat user
 * segments; what the guest put in its GDT lives only in the vCPU's hidden
 * descriptor caches, filled here with the checks of SDM vol. 3A 5.5-5.8
 * and the MOV, POP, IRET and far-transfer pages of vol. 2.
 */
#include "cpu/gmem.h"
#include "cpu/segment.h"

bool desc_read(struct vcpu *v, uint16_t sel, struct descriptor *d, bool wide,
	       unsigned fault_vec)
{
	uint64_t base;
	uint32_t limit, idx = sel & ~7u, raw[4] = { 0 };

	if (sel & ERR_TI) {
		if ((v->ldtr.sel & ~3u) == 0 || !(v->ldtr.attr & SEG_P)) {
			vcpu_raise(v, fault_vec, true, sel & 0xfffc);
			return false;
		}
		base = v->ldtr.base, limit = v->ldtr.limit;
	} else {
		base = v->gdtr.base, limit = v->gdtr.limit;
	}
	if (idx + (wide ? 15u : 7u) > limit) {
		vcpu_raise(v, fault_vec, true, sel & 0xfffc);
		return false;
	}
	if (vcpu_mode(v) != MODE_LONG64 && !vcpu_long_mode(v))
		base &= 0xffffffffull;
	d->addr = base + idx;
	if (!gmem_read(v, d->addr, raw, wide ? 16 : 8, ACC_SUPER))
		return false;
	d->lo = raw[0];
	d->hi = raw[1];
	d->hi2 = raw[2];
	return true;
}

bool desc_write_hi(struct vcpu *v, const struct descriptor *d)
{
	return gmem_write(v, d->addr + 4, &d->hi, 4, ACC_SUPER);
}

void seg_set_null(struct segment *s, uint16_t sel)
{
	s->sel = sel;
	s->attr = 0;    /* unusable */
	s->limit = 0;
	s->base = 0;
}

bool seg_attr_is_64(uint16_t attr)
{
	return (attr & SEG_L) && !(attr & SEG_DB);
}

/* Mark a loaded descriptor accessed, as the processor does. */
static void touch(struct vcpu *v, struct descriptor *d)
{
	if (!(d->hi & (SEG_TYPE_ACCESSED << 8))) {
		d->hi |= SEG_TYPE_ACCESSED << 8;
		desc_write_hi(v, d);
	}
}

/*
 * The common end of every segment load: the rights check's verdict, then
 * presence (a missing segment raises np_vector), then the accessed bit
 * and the hidden part of the register.
 */
static bool finish_load(struct vcpu *v, struct segment *s, uint16_t sel,
			struct descriptor *d, bool rights_ok,
			unsigned np_vector)
{
	if (!rights_ok) {
		vcpu_raise_gp(v, sel & 0xfffc);
		return false;
	}
	if (!desc_present(d)) {
		vcpu_raise(v, np_vector, true, sel & 0xfffc);
		return false;
	}
	touch(v, d);
	segment_from_descriptor(s, sel, d->lo, d->hi);
	return true;
}

static bool load_ss(struct vcpu *v, uint16_t sel)
{
	unsigned cpl = vcpu_cpl(v);
	struct descriptor d;

	if ((sel & ~3u) == 0) {
		/* 64-bit mode lets CPL 0-2 run on a null SS (SDM MOV). */
		if (vcpu_mode(v) == MODE_LONG64 && cpl < 3 &&
		    (sel & 3) == cpl) {
			seg_set_null(&v->seg[SR_SS], sel);
			return true;
		}
		vcpu_raise_gp(v, 0);
		return false;
	}
	if (!desc_read(v, sel, &d, false, X86_GP))
		return false;
	return finish_load(v, &v->seg[SR_SS], sel, &d,
			   (sel & 3) == cpl && desc_dpl(&d) == cpl &&
			   !desc_is_system(&d) &&
			   (desc_type(&d) & (SEG_TYPE_CODE | SEG_TYPE_RW)) ==
				   SEG_TYPE_RW,
			   X86_SS);
}

bool seg_load_data(struct vcpu *v, enum sreg sr, uint16_t sel)
{
	unsigned cpl = vcpu_cpl(v), type;
	struct descriptor d;
	uint64_t keep_base;

	if (sr == SR_SS)
		return load_ss(v, sel);
	if ((sel & ~3u) == 0) {
		seg_set_null(&v->seg[sr], sel);
		return true;
	}
	if (!desc_read(v, sel, &d, false, X86_GP))
		return false;
	type = desc_type(&d);
	keep_base = v->seg[sr].base;
	if (!finish_load(v, &v->seg[sr], sel, &d,
			 !desc_is_system(&d) &&
			 !((type & SEG_TYPE_CODE) && !(type & SEG_TYPE_RW)) &&
			 (((type & SEG_TYPE_CODE) && (type & SEG_TYPE_DC)) ||
			  (desc_dpl(&d) >= cpl && desc_dpl(&d) >= (sel & 3u))),
			 X86_NP))
		return false;
	/* In 64-bit mode only FS and GS take a base from the descriptor. */
	if (vcpu_mode(v) == MODE_LONG64 && sr != SR_FS && sr != SR_GS)
		v->seg[sr].base = keep_base;
	return true;
}

bool seg_load_cs(struct vcpu *v, uint16_t sel, unsigned new_cpl)
{
	struct descriptor d;
	unsigned dpl;

	if ((sel & ~3u) == 0) {
		vcpu_raise_gp(v, 0);
		return false;
	}
	if (!desc_read(v, sel, &d, false, X86_GP))
		return false;
	dpl = desc_dpl(&d);
	return finish_load(v, &v->seg[SR_CS], (sel & ~3u) | new_cpl, &d,
			   desc_is_code(&d) &&
			   ((desc_type(&d) & SEG_TYPE_DC) ? dpl <= new_cpl
							  : dpl == new_cpl) &&
			   !(vcpu_long_mode(v) && (d.hi & (SEG_L << 8)) &&
			     (d.hi & (SEG_DB << 8))),
			   X86_NP);
}

void seg_null_inaccessible(struct vcpu *v)
{
	static const enum sreg data[] = { SR_ES, SR_DS, SR_FS, SR_GS };
	unsigned i, cpl = vcpu_cpl(v);

	for (i = 0; i < 4; i++) {
		struct segment *s = &v->seg[data[i]];
		unsigned dpl = (s->attr & SEG_DPL_MASK) >> SEG_DPL_SHIFT;
		bool conforming_code = (s->attr & SEG_TYPE_CODE) &&
				       (s->attr & SEG_TYPE_DC);

		if ((s->sel & ~3u) == 0 || !(s->attr & SEG_P))
			continue;
		if (!conforming_code && dpl < cpl) {
			uint64_t base = s->base;

			seg_set_null(s, 0);
			/* FS and GS bases live in MSRs in 64-bit mode. */
			if (vcpu_long_mode(v) &&
			    (data[i] == SR_FS || data[i] == SR_GS))
				s->base = base;
		}
	}
}
