/*
 * Reaching guest memory from the monitor (see gmem.h).
 */
#include <string.h>

#include "cpu/vcpu.h"
#include "dev/mmio.h"

void *gpa_ptr(struct vcpu *v, uint64_t gpa, uint64_t len)
{
	if (gpa >= v->mem.ram_size || len > v->mem.ram_size - gpa)
		return NULL;
	return v->mem.ram + gpa;
}

/* The part of [gpa, gpa + len) in the page at p. */
#define PIECE_LO(p) ((p) > gpa ? (p) : gpa)
#define PIECE_LEN(p) (((p) + 4096 < gpa + len ? (p) + 4096 : gpa + len) - \
		      PIECE_LO(p))

int gmem_watch_writes(struct gmem *m, gmem_write_fn fn, void *ctx)
{
	unsigned i;

	for (i = 0; i < GMEM_WATCHERS; i++)
		if (!m->watch[i].fn) {
			m->watch[i] = (struct gmem_watch){ fn, ctx };
			return 0;
		}
	return -1;
}

void gpa_will_write(struct vcpu *v, uint64_t gpa, uint64_t len)
{
	unsigned i;

	for (i = 0; i < GMEM_WATCHERS && v->mem.watch[i].fn; i++)
		v->mem.watch[i].fn(v->mem.watch[i].ctx, gpa, len);
}

void gpa_written(struct vcpu *v, uint64_t gpa, uint64_t len)
{
	uint64_t p;

	for (p = gpa & ~0xfffull; p < gpa + len; p += 4096)
		if (shadow_is_page_table(v->mem.mmu, p))
			shadow_phys_written(v->mem.mmu, PIECE_LO(p), PIECE_LEN(p));
}

#undef PIECE_LO
#undef PIECE_LEN

void vcpu_paging(const struct vcpu *v, struct paging *pg)
{
	pg->cr0 = v->cr0;
	pg->cr3 = v->cr3;
	pg->cr4 = v->cr4;
	pg->efer = v->efer;
	pg->cpl = vcpu_cpl(v);
	pg->ac = (v->rflags & RFLAGS_AC) != 0;
}

void vcpu_cpl_changed(struct vcpu *v)
{
	struct paging pg;

	vcpu_paging(v, &pg);
	shadow_set_cpl(v->mem.mmu, &pg);
}

void vcpu_paging_changed(struct vcpu *v, bool flush)
{
	struct paging pg;

	vcpu_paging(v, &pg);
	if (flush)
		shadow_reset(v->mem.mmu, &pg);
	else
		shadow_set_cr3(v->mem.mmu, &pg);
}

bool gva_canonical(const struct vcpu *v, uint64_t gva)
{
	if (vcpu_mode(v) != MODE_LONG64)
		return true;
	return (uint64_t)((int64_t)(gva << 16) >> 16) == gva;
}

static bool fail_canonical(struct vcpu *v, unsigned access)
{
	vcpu_raise(v, (access & ACC_STACK) ? X86_SS : X86_GP, true, 0);
	return false;
}

/*
 * A small TLB of the translations the emulator used, so that an
 * instruction's fetch and its memory operands cost a table walk only
 * the first time a page is touched.  An entry is good while the shadow
 * MMU's generation stands (cr3 loads, invlpg, paging changes and stores
 * to page tables move it: what a TLB must honour) and at the privilege
 * level and RFLAGS.AC it was made at.  Only plain accesses to RAM are
 * kept: implicit supervisor accesses and peeks always walk, and device
 * memory is never cached.  A write walk has set the dirty bit, so a
 * cached write needs no second one.
 */
#define TLB_R 1u
#define TLB_W 2u
#define TLB_X 4u

static unsigned tlb_need(unsigned access)
{
	if (access & (ACC_SUPER | ACC_PEEK))
		return 0;
	switch (access & 3) {
	case ACC_WRITE: return TLB_W;
	case ACC_EXEC: return TLB_X;
	default: return TLB_R;
	}
}

static uint8_t tlb_key(const struct vcpu *v)
{
	return (uint8_t)(vcpu_cpl(v) |
			 ((v->rflags & RFLAGS_AC) ? 4 : 0));
}

static bool tlb_lookup(struct vcpu *v, uint64_t gva, unsigned need,
		       uint64_t *gpa)
{
	const struct gtlb_entry *e = &v->mem.tlb[(gva >> 12) % GTLB_SIZE];

	if (!need || e->vpage != gva >> 12 || (e->rights & need) != need ||
	    e->key != tlb_key(v) ||
	    e->generation != shadow_generation(v->mem.mmu))
		return false;
	*gpa = (e->gpage << 12) | (gva & 0xfff);
	return true;
}

static void tlb_fill(struct vcpu *v, uint64_t gva, unsigned need,
		     uint64_t gpa)
{
	struct gtlb_entry *e = &v->mem.tlb[(gva >> 12) % GTLB_SIZE];
	uint64_t gen = shadow_generation(v->mem.mmu);
	uint8_t key = tlb_key(v);

	if (!need)
		return;
	if (need == TLB_W)
		need |= TLB_R;
	if (e->vpage == gva >> 12 && e->gpage == gpa >> 12 &&
	    e->generation == gen && e->key == key) {
		e->rights |= (uint8_t)need;
		return;
	}
	*e = (struct gtlb_entry){ .vpage = gva >> 12, .gpage = gpa >> 12,
				  .generation = gen, .key = key,
				  .rights = (uint8_t)need };
}

/* Where one piece of an access that stays within a page lands: guest
 * RAM, or a device's registers. */
struct piece {
	uint8_t *host;                   /* in RAM, or NULL */
	const struct mmio_region *dev;   /* else the device there */
	uint64_t gpa;
};

/* An address no RAM backs and no device claims: the guest sees a fault
 * with RSVD set, as for an entry with reserved address bits, and the
 * trace says which address it was. */
static void no_device(struct vcpu *v, uint64_t gva, uint64_t gpa,
		      unsigned access)
{
	bool write = (access & 3) == ACC_WRITE;

	if (v->mem.mmio_seen)
		v->mem.mmio_seen(v->mem.mmio_seen_ctx, gpa, NULL, 0, write, 0);
	vcpu_raise_pf(v, gva,
		      PFERR_P | PFERR_RSVD | (write ? PFERR_W : 0));
}

/* Translate one piece that stays within a page. */
static bool piece(struct vcpu *v, uint64_t gva, size_t len, unsigned access,
		  struct piece *p)
{
	struct paging pg;
	struct walk w;
	unsigned need = tlb_need(access);
	uint64_t gpa;

	p->host = NULL;
	p->dev = NULL;
	if (tlb_lookup(v, gva, need, &gpa) && gpa + len <= v->mem.ram_size) {
		p->gpa = gpa;
		p->host = v->mem.ram + gpa;
		return true;
	}
	vcpu_paging(v, &pg);
	switch (shadow_walk(v->mem.mmu, &pg, gva, access & (ACC_WRITE | ACC_EXEC |
							  ACC_SUPER), &w)) {
	case WALK_OK:
		p->gpa = w.gpa;
		if (w.gpa + len <= v->mem.ram_size) {
			p->host = v->mem.ram + w.gpa;
			tlb_fill(v, gva, need, w.gpa);
			return true;
		}
		/* fall through */
	case WALK_BAD_GPA:
		p->gpa = w.gpa;
		p->dev = mmio_find(v->mem.mmio, w.gpa);
		if (p->dev && w.gpa + len - p->dev->base <= p->dev->len &&
		    (access & 3) != ACC_EXEC)
			return true;
		no_device(v, gva, w.gpa, access);
		return false;
	case WALK_FAULT:
		vcpu_raise_pf(v, gva, w.pf_err);
		return false;
	}
	return false;
}

static void piece_copy(struct vcpu *v, const struct piece *p, uint8_t *b,
		       size_t n, bool write)
{
	if (p->dev) {
		uint64_t gpa = p->gpa;

		/* A device takes at most 8 bytes at a time (an SSE or AVX
		 * operand comes in 8-byte pieces, lowest first). */
		while (n) {
			unsigned k = n < 8 ? (unsigned)n : 8;

			mmio_access(p->dev, gpa, b, k, write);
			v->stats.mmio++;
			if (v->mem.mmio_seen) {
				uint64_t val = 0;

				memcpy(&val, b, k);
				v->mem.mmio_seen(v->mem.mmio_seen_ctx, gpa, p->dev,
						 k, write, val);
			}
			gpa += k, b += k, n -= k;
		}
	} else if (write) {
		gpa_will_write(v, p->gpa, n);
		memcpy(p->host, b, n);
		gpa_written(v, p->gpa, n);
	} else {
		memcpy(b, p->host, n);
	}
}

static bool access_range(struct vcpu *v, uint64_t gva, void *buf, size_t len,
			 unsigned access, bool write)
{
	uint8_t *b = buf;
	struct piece p[2];
	size_t first, n;

	if (!gva_canonical(v, gva) || !gva_canonical(v, gva + len - 1))
		return fail_canonical(v, access);
	if (vcpu_mode(v) != MODE_LONG64)
		gva &= 0xffffffffull;
	/* Translate every page before touching any, so that a fault leaves
	 * memory unchanged (the instruction did not happen). */
	first = 4096 - (gva & 0xfff);
	if (first > len)
		first = len;
	n = len - first;
	if (!piece(v, gva, first, access, &p[0]))
		return false;
	if (n) {
		if (n > 4096)
			return false; /* callers never span three pages */
		if (!piece(v, gva + first, n, access, &p[1]))
			return false;
	}
	piece_copy(v, &p[0], b, first, write);
	if (n)
		piece_copy(v, &p[1], b + first, n, write);
	/* The guest's own accesses (not the GDT, IDT or TSS the CPU reads
	 * for it) trip its data breakpoints, as natively. */
	if (!(access & ACC_SUPER) && debugreg_armed(v))
		debugreg_access(v, gva, len, write);
	return true;
}

bool gmem_read(struct vcpu *v, uint64_t gva, void *buf, size_t len,
	       unsigned access)
{
	return access_range(v, gva, buf, len, access & ~3u, false);
}

bool gmem_write(struct vcpu *v, uint64_t gva, const void *buf, size_t len,
		unsigned access)
{
	return access_range(v, gva, (void *)buf, len,
			    (access & ~3u) | ACC_WRITE, true);
}

/* Where gva's page is in guest RAM for access, through the TLB or a
 * walk; false with the #PF error code (RSVD outside RAM) if nowhere. */
static bool ram_gpa(struct vcpu *v, uint64_t gva, unsigned access,
		    uint64_t *gpa, uint32_t *pf_err)
{
	unsigned need = tlb_need(access);
	struct paging pg;
	struct walk w;

	if (tlb_lookup(v, gva, need, gpa))
		return true;
	vcpu_paging(v, &pg);
	switch (shadow_walk(v->mem.mmu, &pg, gva, access, &w)) {
	case WALK_FAULT:
		*pf_err = w.pf_err;     /* (0: a page not present) */
		return false;
	case WALK_OK:
		break;
	default:
		w.gpa = UINT64_MAX;
	}
	if (w.gpa >= v->mem.ram_size) {
		*pf_err = PFERR_P | PFERR_RSVD;
		return false;
	}
	tlb_fill(v, gva, need, w.gpa);
	*gpa = w.gpa;
	return true;
}

/* Copy up to len bytes at gva through the guest's tables with access;
 * stops at the first page that does not translate. */
static size_t copy_out(struct vcpu *v, uint64_t gva, uint8_t *buf, size_t len,
		       unsigned access, uint32_t *pf_err)
{
	size_t done = 0;

	*pf_err = 0;
	while (done < len) {
		uint64_t a = gva + done, gpa;
		size_t n = 4096 - (a & 0xfff);

		if (n > len - done)
			n = len - done;
		if (!gva_canonical(v, a) ||
		    !ram_gpa(v, a, access, &gpa, pf_err))
			break;
		if (gpa + n > v->mem.ram_size) {
			*pf_err = PFERR_P | PFERR_RSVD;
			break;
		}
		memcpy(buf + done, v->mem.ram + gpa, n);
		done += n;
	}
	return done;
}

bool gmem_code_gpa(struct vcpu *v, uint64_t gva, uint64_t *gpa)
{
	uint32_t err;

	return gva_canonical(v, gva) && ram_gpa(v, gva, ACC_EXEC, gpa, &err);
}

size_t gmem_fetch(struct vcpu *v, uint64_t gva, uint8_t *buf, size_t len,
		  uint32_t *pf_err)
{
	return copy_out(v, gva, buf, len, ACC_EXEC, pf_err);
}

bool gmem_fixed_at(struct vcpu *v, uint64_t gva, unsigned size,
		   uint64_t *val, uint64_t *gpa)
{
	struct paging pg;
	struct walk w;

	vcpu_paging(v, &pg);
	if (!gva_canonical(v, gva) ||
	    shadow_walk(v->mem.mmu, &pg, gva, ACC_READ | ACC_PEEK, &w) ==
		    WALK_FAULT ||
	    ((gva ^ (gva + size - 1)) & ~4095ull))
		return false;
	*gpa = w.gpa;
	return mmio_fixed_at(v->mem.mmio, w.gpa, size, val);
}

size_t gmem_peek(struct vcpu *v, uint64_t gva, void *buf, size_t len)
{
	uint32_t err;

	return copy_out(v, gva, buf, len, ACC_READ | ACC_SUPER | ACC_PEEK,
			&err);
}
