/*
 * The guest page-table walker: what the MMU hardware does on a TLB miss
 * (Intel SDM vol. 3A ch. 4).  Given the vCPU's CR0/CR3/CR4/EFER and an
 * access, it reads the guest's own tables in guest RAM, applies the rights
 * of every level, sets the accessed and dirty bits the hardware would set,
 * and either returns the guest-physical address or the #PF error code.
 */
#include <string.h>

#include "shadow-internal.h"

enum paging_mode paging_mode_of(const struct paging *pg)
{
	if (!(pg->cr0 & CR0_PG))
		return PG_OFF;
	if (!(pg->cr4 & CR4_PAE))
		return PG_32;
	return (pg->efer & EFER_LMA) ? PG_4LEVEL : PG_PAE;
}

static bool ram_has(const struct shadow *s, uint64_t gpa, uint64_t len)
{
	return gpa < s->cfg.ram_size && len <= s->cfg.ram_size - gpa;
}

static uint64_t read_entry(const struct shadow *s, uint64_t gpa, bool wide)
{
	uint64_t e = 0;

	memcpy(&e, s->cfg.ram + gpa, wide ? 8 : 4);
	return e;
}

/* Set bits in an entry the way the hardware does: a locked OR. */
static void set_entry_bits(struct shadow *s, uint64_t gpa, bool wide,
			   uint64_t bits)
{
	if (wide)
		__atomic_fetch_or((uint64_t *)(s->cfg.ram + gpa), bits,
				  __ATOMIC_SEQ_CST);
	else
		__atomic_fetch_or((uint32_t *)(s->cfg.ram + gpa),
				  (uint32_t)bits, __ATOMIC_SEQ_CST);
}

/* Bits 51:MAXPHYADDR of an entry are reserved (SDM vol. 3A 4.5). */
static uint64_t rsvd_phys(const struct shadow *s)
{
	return ((1ull << 52) - 1) & ~((1ull << s->cfg.maxphyaddr) - 1);
}

/*
 * Apply the rights of the final translation (SDM vol. 3A 4.6).  Returns 0
 * when the access is allowed, else the protection-violation error bits.
 */
static uint32_t check_rights(const struct paging *pg, const struct walk *w,
			     unsigned access)
{
	bool user = pg->cpl == 3 && !(access & ACC_SUPER);
	unsigned kind = access & 3;

	if (user) {
		if (!w->user)
			return PFERR_P;
		if (kind == ACC_WRITE && !w->writable)
			return PFERR_P;
		if (kind == ACC_EXEC && !w->exec)
			return PFERR_P;
		return 0;
	}
	if (kind == ACC_EXEC) {
		if (!w->exec)
			return PFERR_P;
		if (w->user && (pg->cr4 & CR4_SMEP))
			return PFERR_P;
		return 0;
	}
	if (w->user && (pg->cr4 & CR4_SMAP) &&
	    ((access & ACC_SUPER) || pg->cpl == 3 || !pg->ac))
		return PFERR_P;
	if (kind == ACC_WRITE && !w->writable && (pg->cr0 & CR0_WP))
		return PFERR_P;
	return 0;
}

static uint32_t base_err(const struct paging *pg, unsigned access)
{
	uint32_t err = 0;

	if ((access & 3) == ACC_WRITE)
		err |= PFERR_W;
	if (pg->cpl == 3 && !(access & ACC_SUPER))
		err |= PFERR_U;
	/* I/D is reported only when fetches can be told apart (4.7). */
	if ((access & 3) == ACC_EXEC &&
	    (((pg->efer & EFER_NXE) && paging_mode_of(pg) >= PG_PAE) ||
	     (pg->cr4 & CR4_SMEP)))
		err |= PFERR_I;
	return err;
}

struct level {
	unsigned shift;      /* bits of address below this level's index */
	unsigned bits;       /* index width */
	bool may_be_large;   /* PS allowed here */
};

static const struct level levels_4[] = {
	{ 39, 9, false }, { 30, 9, true }, { 21, 9, true }, { 12, 9, false },
};
static const struct level levels_pae[] = {
	{ 30, 2, false }, { 21, 9, true }, { 12, 9, false },
};
static const struct level levels_32[] = {
	{ 22, 10, true }, { 12, 10, false },
};

enum walk_status shadow_walk(struct shadow *s, const struct paging *pg,
			     uint64_t gva, unsigned access, struct walk *w)
{
	enum paging_mode mode = paging_mode_of(pg);
	const struct level *lv;
	unsigned nlev, i;
	bool wide = mode != PG_32;
	bool nx_on = (pg->efer & EFER_NXE) && wide;
	uint64_t table, entry = 0, entry_gpa = 0;
	uint64_t rsvd = rsvd_phys(s);

	memset(w, 0, sizeof(*w));
	w->writable = w->user = w->exec = true;
	if (mode == PG_OFF) {
		/* Linear is physical; map in 2 MiB blocks. */
		w->gpa = gva & 0xffffffffull;
		w->page_size = 1ull << 21;
		w->page_base = w->gpa & ~(w->page_size - 1);
		w->page_gpa = w->page_base;
		w->dirty = true;
		return ram_has(s, w->gpa, 1) ? WALK_OK : WALK_BAD_GPA;
	}
	switch (mode) {
	case PG_4LEVEL:
		lv = levels_4, nlev = 4;
		table = pg->cr3 & PTE_ADDR & ~rsvd;
		break;
	case PG_PAE:
		lv = levels_pae, nlev = 3;
		table = pg->cr3 & 0xffffffe0ull;
		gva &= 0xffffffffull;
		break;
	default:
		lv = levels_32, nlev = 2;
		table = pg->cr3 & 0xfffff000ull;
		gva &= 0xffffffffull;
		break;
	}
	if (!nx_on)
		rsvd |= wide ? PTE_NX : 0;

	for (i = 0; i < nlev; i++) {
		unsigned idx = (gva >> lv[i].shift) & ((1u << lv[i].bits) - 1);
		bool leaf;

		entry_gpa = table + (uint64_t)idx * (wide ? 8 : 4);
		if (!ram_has(s, entry_gpa, wide ? 8 : 4))
			return WALK_BAD_GPA;
		w->tables[w->ntables++] = (struct walk_table){
			.gpa = table,
			.entries = 1u << lv[i].bits,
			.gva_base = gva & ~((1ull << (lv[i].shift +
						      lv[i].bits)) - 1),
			.entry_shift = lv[i].shift,
			.entry_size = wide ? 8 : 4,
		};
		entry = read_entry(s, entry_gpa, wide);
		if (!(entry & PTE_P)) {
			w->pf_err = base_err(pg, access);
			return WALK_FAULT;
		}
		/* PAE PDPTEs carry no rights and no A bit (4.4.1). */
		if (mode == PG_PAE && i == 0) {
			if (entry & (rsvd | 0x1e6ull)) {
				w->pf_err = base_err(pg, access) | PFERR_P |
					    PFERR_RSVD;
				return WALK_FAULT;
			}
			table = entry & PTE_ADDR;
			continue;
		}
		leaf = i == nlev - 1 ||
		       (lv[i].may_be_large && (entry & PTE_PS) &&
			(mode != PG_32 || (pg->cr4 & CR4_PSE)));
		if (wide && ((entry & rsvd) ||
			     (i == 0 && mode == PG_4LEVEL &&
			      (entry & PTE_PS)) ||
			     (leaf && i < nlev - 1 &&
			      (entry & ((1ull << lv[i].shift) - 1) &
			       ~0x1fffull)))) {
			w->pf_err = base_err(pg, access) | PFERR_P |
				    PFERR_RSVD;
			return WALK_FAULT;
		}
		w->writable &= !!(entry & PTE_W);
		w->user &= !!(entry & PTE_U);
		if (nx_on && (entry & PTE_NX))
			w->exec = false;
		if (leaf) {
			uint64_t size = 1ull << lv[i].shift;
			uint64_t base = entry & PTE_ADDR & ~(size - 1);

			if (mode == PG_32 && i == 0)
				/* PSE-36: bits 20:13 are address bits 39:32 */
				base = (entry & 0xffc00000ull) |
				       ((entry & 0x1fe000ull) << 19);
			w->page_size = size;
			w->page_base = gva & ~(size - 1);
			w->page_gpa = base;
			w->gpa = base | (gva & (size - 1));
			break;
		}
		if (!(entry & PTE_A) && !(access & ACC_PEEK))
			set_entry_bits(s, entry_gpa, wide, PTE_A);
		table = entry & (wide ? PTE_ADDR : 0xfffff000ull);
	}

	w->pf_err = check_rights(pg, w, access);
	if (w->pf_err) {
		w->pf_err |= base_err(pg, access);
		return WALK_FAULT;
	}
	if (!ram_has(s, w->gpa, 1))
		return WALK_BAD_GPA;
	if (!(access & ACC_PEEK) && (!(entry & PTE_A) ||
	    ((access & 3) == ACC_WRITE && !(entry & PTE_D))))
		set_entry_bits(s, entry_gpa, wide,
			       PTE_A |
			       ((access & 3) == ACC_WRITE ? PTE_D : 0));
	w->dirty = (access & 3) == ACC_WRITE || (entry & PTE_D);
	w->accessed = !!(entry & PTE_A);
	w->leaf_gpa = entry_gpa;
	return WALK_OK;
}
