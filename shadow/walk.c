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

/* What a walk knows of its paging mode, and where it is in the tables. */
struct walker {
	enum paging_mode mode;
	const struct level *lv;  /* the mode's levels, root first */
	unsigned nlev;
	bool wide;               /* 8-byte entries (PAE, 4-level) */
	bool nx_on;              /* EFER.NXE, which 4-byte entries lack */
	uint64_t rsvd;           /* bits reserved in every entry */
	uint64_t table;          /* the table being read */
	uint64_t entry;          /* the entry read last */
	uint64_t entry_gpa;      /* and its address */
};

/* Paging off: linear is physical; map in 2 MiB blocks. */
static enum walk_status walk_unpaged(const struct shadow *s, uint64_t gva,
				     struct walk *w)
{
	w->gpa = gva & 0xffffffffull;
	w->page_size = 1ull << 21;
	w->page_base = w->gpa & ~(w->page_size - 1);
	w->page_gpa = w->page_base;
	w->dirty = true;
	return ram_has(s, w->gpa, 1) ? WALK_OK : WALK_BAD_GPA;
}

/* Set up a walk in a paging mode: its levels, its root table, its
 * reserved bits.  Outside 4-level paging, linear addresses are 32 bits. */
static void walk_start(const struct shadow *s, const struct paging *pg,
		       enum paging_mode mode, struct walker *k, uint64_t *gva)
{
	*k = (struct walker){
		.mode = mode,
		.wide = mode != PG_32,
		.nx_on = (pg->efer & EFER_NXE) && mode != PG_32,
		.rsvd = rsvd_phys(s),
	};
	switch (mode) {
	case PG_4LEVEL:
		k->lv = levels_4, k->nlev = 4;
		k->table = pg->cr3 & PTE_ADDR & ~k->rsvd;
		break;
	case PG_PAE:
		k->lv = levels_pae, k->nlev = 3;
		k->table = pg->cr3 & 0xffffffe0ull;
		*gva &= 0xffffffffull;
		break;
	default:
		k->lv = levels_32, k->nlev = 2;
		k->table = pg->cr3 & 0xfffff000ull;
		*gva &= 0xffffffffull;
		break;
	}
	if (!k->nx_on)
		k->rsvd |= k->wide ? PTE_NX : 0;
}

/* Note the table read at level i and the stretch of guest-virtual space
 * its entries translate: the shadow watches it for stores (records.c). */
static void note_table(struct walk *w, const struct walker *k, unsigned i,
		       uint64_t gva)
{
	const struct level *lv = &k->lv[i];

	w->tables[w->ntables++] = (struct walk_table){
		.gpa = k->table,
		.entries = 1u << lv->bits,
		.gva_base = gva & ~((1ull << (lv->shift + lv->bits)) - 1),
		.entry_shift = lv->shift,
		.entry_size = k->wide ? 8 : 4,
	};
}

/* Does the entry at level i map a page rather than point to a table?
 * PS means a large page only where the level allows one, and in 32-bit
 * paging only with CR4.PSE. */
static bool is_leaf(const struct paging *pg, const struct walker *k,
		    unsigned i)
{
	return i == k->nlev - 1 ||
	       (k->lv[i].may_be_large && (k->entry & PTE_PS) &&
		(k->mode != PG_32 || (pg->cr4 & CR4_PSE)));
}

/* Reserved bits in an 8-byte entry at level i (4.5): bits above
 * MAXPHYADDR (and NX without EFER.NXE), PS in a PML4E, and a large page's
 * frame address bits below its size.  4-byte entries are not checked. */
static bool entry_reserved(const struct walker *k, unsigned i, bool leaf)
{
	uint64_t e = k->entry;

	return k->wide &&
	       ((e & k->rsvd) ||
		(i == 0 && k->mode == PG_4LEVEL && (e & PTE_PS)) ||
		(leaf && i < k->nlev - 1 &&
		 (e & ((1ull << k->lv[i].shift) - 1) & ~0x1fffull)));
}

static enum walk_status rsvd_fault(const struct paging *pg, unsigned access,
				   struct walk *w)
{
	w->pf_err = base_err(pg, access) | PFERR_P | PFERR_RSVD;
	return WALK_FAULT;
}

/* The guest page that the leaf entry at level i maps, and where gva falls
 * in it. */
static void set_page(struct walk *w, const struct walker *k, unsigned i,
		     uint64_t gva)
{
	uint64_t size = 1ull << k->lv[i].shift;
	uint64_t base = k->entry & PTE_ADDR & ~(size - 1);

	if (k->mode == PG_32 && i == 0)
		/* PSE-36: bits 20:13 are address bits 39:32 */
		base = (k->entry & 0xffc00000ull) |
		       ((k->entry & 0x1fe000ull) << 19);
	w->page_size = size;
	w->page_base = gva & ~(size - 1);
	w->page_gpa = base;
	w->gpa = base | (gva & (size - 1));
}

/*
 * Down the levels from the root, as the MMU goes: at each one read the
 * entry that gva selects, fault if it is not present or sets a reserved
 * bit, narrow the rights to its own, and either stop at a leaf or set its
 * accessed bit and go on to the table it names.  WALK_OK means the leaf
 * was reached, with k->entry and k->entry_gpa left on it.
 */
static enum walk_status walk_levels(struct shadow *s, const struct paging *pg,
				    uint64_t gva, unsigned access,
				    struct walker *k, struct walk *w)
{
	unsigned i;

	for (i = 0; i < k->nlev; i++) {
		const struct level *lv = &k->lv[i];
		unsigned idx = (gva >> lv->shift) & ((1u << lv->bits) - 1);
		bool leaf;

		k->entry_gpa = k->table + (uint64_t)idx * (k->wide ? 8 : 4);
		if (!ram_has(s, k->entry_gpa, k->wide ? 8 : 4))
			return WALK_BAD_GPA;
		note_table(w, k, i, gva);
		k->entry = read_entry(s, k->entry_gpa, k->wide);
		if (!(k->entry & PTE_P)) {
			w->pf_err = base_err(pg, access);
			return WALK_FAULT;
		}
		/* PAE PDPTEs carry no rights and no A bit (4.4.1). */
		if (k->mode == PG_PAE && i == 0) {
			if (k->entry & (k->rsvd | 0x1e6ull))
				return rsvd_fault(pg, access, w);
			k->table = k->entry & PTE_ADDR;
			continue;
		}
		leaf = is_leaf(pg, k, i);
		if (entry_reserved(k, i, leaf))
			return rsvd_fault(pg, access, w);
		w->writable &= !!(k->entry & PTE_W);
		w->user &= !!(k->entry & PTE_U);
		if (k->nx_on && (k->entry & PTE_NX))
			w->exec = false;
		if (leaf) {
			set_page(w, k, i, gva);
			break;
		}
		if (!(k->entry & PTE_A) && !(access & ACC_PEEK))
			set_entry_bits(s, k->entry_gpa, k->wide, PTE_A);
		k->table = k->entry & (k->wide ? PTE_ADDR : 0xfffff000ull);
	}
	return WALK_OK;
}

/* At the leaf: apply the rights of the whole walk to the access, then set
 * the leaf's accessed and dirty bits as the hardware would (4.8). */
static enum walk_status walk_leaf(struct shadow *s, const struct paging *pg,
				  unsigned access, const struct walker *k,
				  struct walk *w)
{
	bool write = (access & 3) == ACC_WRITE;

	w->pf_err = check_rights(pg, w, access);
	if (w->pf_err) {
		w->pf_err |= base_err(pg, access);
		return WALK_FAULT;
	}
	if (!ram_has(s, w->gpa, 1))
		return WALK_BAD_GPA;
	if (!(access & ACC_PEEK) && (!(k->entry & PTE_A) ||
				     (write && !(k->entry & PTE_D))))
		set_entry_bits(s, k->entry_gpa, k->wide,
			       PTE_A | (write ? PTE_D : 0));
	w->dirty = write || (k->entry & PTE_D);
	w->accessed = !!(k->entry & PTE_A);
	w->leaf_gpa = k->entry_gpa;
	return WALK_OK;
}

/*
 * The walk, as the hardware does it on a TLB miss: start from cr3 in the
 * current paging mode, go down the levels to the leaf, and check the
 * access against the rights gathered on the way.
 */
enum walk_status shadow_walk(struct shadow *s, const struct paging *pg,
			     uint64_t gva, unsigned access, struct walk *w)
{
	enum paging_mode mode = paging_mode_of(pg);
	enum walk_status st;
	struct walker k;

	memset(w, 0, sizeof(*w));
	w->writable = w->user = w->exec = true;
	if (mode == PG_OFF)
		return walk_unpaged(s, gva, w);
	walk_start(s, pg, mode, &k, &gva);
	st = walk_levels(s, pg, gva, access, &k, w);
	if (st != WALK_OK)
		return st;
	return walk_leaf(s, pg, access, &k, w);
}
