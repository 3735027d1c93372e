/*
 * Reaching guest memory from the monitor (see gmem.h).
 */
#include <string.h>

#include "cpu/debugreg.h"
#include "cpu/gmem.h"
#include "dev/mmio.h"
#include "engine/scan.h"
#include "trace/trace.h"
#include "core/vm.h"

void *gpa_ptr(struct vm *vm, uint64_t gpa, uint64_t len)
{
	if (gpa >= vm->ram_size || len > vm->ram_size - gpa)
		return NULL;
	return vm->ram + gpa;
}

/* The part of [gpa, gpa + len) in the page at p. */
#define PIECE_LO(p) ((p) > gpa ? (p) : gpa)
#define PIECE_LEN(p) (((p) + 4096 < gpa + len ? (p) + 4096 : gpa + len) - \
		      PIECE_LO(p))

void gpa_will_write(struct vm *vm, uint64_t gpa, uint64_t len)
{
	uint64_t p;

	for (p = gpa & ~0xfffull; vm->scan && p < gpa + len; p += 4096)
		if (shadow_code_is_ready(vm->mmu, p) &&
		    scan_write_touches_code(vm, PIECE_LO(p), PIECE_LEN(p)))
			scan_code_written(vm, p);
}

void gpa_written(struct vm *vm, uint64_t gpa, uint64_t len)
{
	uint64_t p;

	for (p = gpa & ~0xfffull; p < gpa + len; p += 4096)
		if (shadow_is_page_table(vm->mmu, p))
			shadow_phys_written(vm->mmu, PIECE_LO(p), PIECE_LEN(p));
}

#undef PIECE_LO
#undef PIECE_LEN

bool gva_canonical(const struct vm *vm, uint64_t gva)
{
	if (vcpu_mode(&vm->cpu) != MODE_LONG64)
		return true;
	return (uint64_t)((int64_t)(gva << 16) >> 16) == gva;
}

static bool fail_canonical(struct vm *vm, unsigned access)
{
	vcpu_raise(&vm->cpu, (access & ACC_STACK) ? X86_SS : X86_GP, true, 0);
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

static uint8_t tlb_key(const struct vm *vm)
{
	return (uint8_t)(vcpu_cpl(&vm->cpu) |
			 ((vm->cpu.rflags & RFLAGS_AC) ? 4 : 0));
}

static bool tlb_lookup(struct vm *vm, uint64_t gva, unsigned need,
		       uint64_t *gpa)
{
	const struct gtlb_entry *e = &vm->tlb[(gva >> 12) % GTLB_SIZE];

	if (!need || e->vpage != gva >> 12 || (e->rights & need) != need ||
	    e->key != tlb_key(vm) ||
	    e->generation != shadow_generation(vm->mmu))
		return false;
	*gpa = (e->gpage << 12) | (gva & 0xfff);
	return true;
}

static void tlb_fill(struct vm *vm, uint64_t gva, unsigned need,
		     uint64_t gpa)
{
	struct gtlb_entry *e = &vm->tlb[(gva >> 12) % GTLB_SIZE];
	uint64_t gen = shadow_generation(vm->mmu);
	uint8_t key = tlb_key(vm);

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
static void no_device(struct vm *vm, uint64_t gva, uint64_t gpa,
		      unsigned access)
{
	bool write = (access & 3) == ACC_WRITE;

	if (vm->trace)
		trace_mmio(vm, gpa, NULL, 0, write, 0);
	vcpu_raise_pf(&vm->cpu, gva,
		      PFERR_P | PFERR_RSVD | (write ? PFERR_W : 0));
}

/* Translate one piece that stays within a page. */
static bool piece(struct vm *vm, uint64_t gva, size_t len, unsigned access,
		  struct piece *p)
{
	struct paging pg;
	struct walk w;
	unsigned need = tlb_need(access);
	uint64_t gpa;

	p->host = NULL;
	p->dev = NULL;
	if (tlb_lookup(vm, gva, need, &gpa) && gpa + len <= vm->ram_size) {
		p->gpa = gpa;
		p->host = vm->ram + gpa;
		return true;
	}
	vm_paging(vm, &pg);
	switch (shadow_walk(vm->mmu, &pg, gva, access & (ACC_WRITE | ACC_EXEC |
							  ACC_SUPER), &w)) {
	case WALK_OK:
		p->gpa = w.gpa;
		if (w.gpa + len <= vm->ram_size) {
			p->host = vm->ram + w.gpa;
			tlb_fill(vm, gva, need, w.gpa);
			return true;
		}
		/* fall through */
	case WALK_BAD_GPA:
		p->gpa = w.gpa;
		p->dev = mmio_find(&vm->mmio, w.gpa);
		if (p->dev && w.gpa + len - p->dev->base <= p->dev->len &&
		    (access & 3) != ACC_EXEC)
			return true;
		no_device(vm, gva, w.gpa, access);
		return false;
	case WALK_FAULT:
		vcpu_raise_pf(&vm->cpu, gva, w.pf_err);
		return false;
	}
	return false;
}

static void piece_copy(struct vm *vm, const struct piece *p, uint8_t *b,
		       size_t n, bool write)
{
	if (p->dev) {
		uint64_t gpa = p->gpa;

		/* A device takes at most 8 bytes at a time (an SSE or AVX
		 * operand comes in 8-byte pieces, lowest first). */
		while (n) {
			unsigned k = n < 8 ? (unsigned)n : 8;

			mmio_access(p->dev, gpa, b, k, write);
			vm->stats.mmio++;
			if (vm->trace) {
				uint64_t val = 0;

				memcpy(&val, b, k);
				trace_mmio(vm, gpa, p->dev, k, write, val);
			}
			gpa += k, b += k, n -= k;
		}
	} else if (write) {
		gpa_will_write(vm, p->gpa, n);
		memcpy(p->host, b, n);
		gpa_written(vm, p->gpa, n);
	} else {
		memcpy(b, p->host, n);
	}
}

static bool access_range(struct vm *vm, uint64_t gva, void *buf, size_t len,
			 unsigned access, bool write)
{
	uint8_t *b = buf;
	struct piece p[2];
	size_t first, n;

	if (!gva_canonical(vm, gva) || !gva_canonical(vm, gva + len - 1))
		return fail_canonical(vm, access);
	if (vcpu_mode(&vm->cpu) != MODE_LONG64)
		gva &= 0xffffffffull;
	/* Translate every page before touching any, so that a fault leaves
	 * memory unchanged (the instruction did not happen). */
	first = 4096 - (gva & 0xfff);
	if (first > len)
		first = len;
	n = len - first;
	if (!piece(vm, gva, first, access, &p[0]))
		return false;
	if (n) {
		if (n > 4096)
			return false; /* callers never span three pages */
		if (!piece(vm, gva + first, n, access, &p[1]))
			return false;
	}
	piece_copy(vm, &p[0], b, first, write);
	if (n)
		piece_copy(vm, &p[1], b + first, n, write);
	/* The guest's own accesses (not the GDT, IDT or TSS the CPU reads
	 * for it) trip its data breakpoints, as natively. */
	if (!(access & ACC_SUPER) && debugreg_armed(vm))
		debugreg_access(vm, gva, len, write);
	return true;
}

bool gmem_read(struct vm *vm, uint64_t gva, void *buf, size_t len,
	       unsigned access)
{
	return access_range(vm, gva, buf, len, access & ~3u, false);
}

bool gmem_write(struct vm *vm, uint64_t gva, const void *buf, size_t len,
		unsigned access)
{
	return access_range(vm, gva, (void *)buf, len,
			    (access & ~3u) | ACC_WRITE, true);
}

/* Where gva's page is in guest RAM for access, through the TLB or a
 * walk; false with the #PF error code (RSVD outside RAM) if nowhere. */
static bool ram_gpa(struct vm *vm, uint64_t gva, unsigned access,
		    uint64_t *gpa, uint32_t *pf_err)
{
	unsigned need = tlb_need(access);
	struct paging pg;
	struct walk w;

	if (tlb_lookup(vm, gva, need, gpa))
		return true;
	vm_paging(vm, &pg);
	if (shadow_walk(vm->mmu, &pg, gva, access, &w) != WALK_OK ||
	    w.gpa >= vm->ram_size) {
		*pf_err = w.pf_err ? w.pf_err : PFERR_P | PFERR_RSVD;
		return false;
	}
	tlb_fill(vm, gva, need, w.gpa);
	*gpa = w.gpa;
	return true;
}

/* Copy up to len bytes at gva through the guest's tables with access;
 * stops at the first page that does not translate. */
static size_t copy_out(struct vm *vm, uint64_t gva, uint8_t *buf, size_t len,
		       unsigned access, uint32_t *pf_err)
{
	size_t done = 0;

	*pf_err = 0;
	while (done < len) {
		uint64_t a = gva + done, gpa;
		size_t n = 4096 - (a & 0xfff);

		if (n > len - done)
			n = len - done;
		if (!gva_canonical(vm, a) ||
		    !ram_gpa(vm, a, access, &gpa, pf_err))
			break;
		if (gpa + n > vm->ram_size) {
			*pf_err = PFERR_P | PFERR_RSVD;
			break;
		}
		memcpy(buf + done, vm->ram + gpa, n);
		done += n;
	}
	return done;
}

bool gmem_code_gpa(struct vm *vm, uint64_t gva, uint64_t *gpa)
{
	uint32_t err;

	return gva_canonical(vm, gva) && ram_gpa(vm, gva, ACC_EXEC, gpa, &err);
}

size_t gmem_fetch(struct vm *vm, uint64_t gva, uint8_t *buf, size_t len,
		  uint32_t *pf_err)
{
	return copy_out(vm, gva, buf, len, ACC_EXEC, pf_err);
}

size_t gmem_peek(struct vm *vm, uint64_t gva, void *buf, size_t len)
{
	uint32_t err;

	return copy_out(vm, gva, buf, len, ACC_READ | ACC_SUPER | ACC_PEEK,
			&err);
}
