/*
 * The shadow MMU on synthetic page tables: no VM, no host mappings.  RAM
 * is a plain buffer; the backend's map/protect/unmap calls are recorded,
 * and the tests assert which host calls a guest fault, a page-table store,
 * an invlpg, a privilege change or a cr3 switch leads to.  Below 2 GiB
 * the calls also drive a model of the host's page rights, so that a test
 * can ask what a page allows now, after any number of calls.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "check-main.h"
#include "shadow.h"
#include "trapeze/x86.h"

#define RAM (16ull << 20)
#define ROOT 0x10000ull           /* PML4 */

struct call {
	char op;                  /* 'm' map, 'p' protect, 'u' unmap */
	uint64_t gva, gpa, len;
	int prot;
};

static uint8_t *ram;
static struct call calls[256];
static unsigned ncalls;
static uint64_t next_table;
static struct shadow *s;
static struct paging pg;

/* The host's rights per page below MODEL_TOP: -1 when nothing is mapped
 * (the window's reservation).  Opening up a reserved page would hand the
 * guest anonymous memory: the model flags it. */
#define MODEL_TOP (1ull << 31)
static int8_t host_prot[MODEL_TOP / 4096];
static bool host_bad;

static void model(char op, uint64_t gva, uint64_t len, int prot)
{
	uint64_t a;

	for (a = gva; a < gva + len && a < MODEL_TOP; a += 4096) {
		int8_t *p = &host_prot[a / 4096];

		if (op == 'm')
			*p = (int8_t)prot;
		else if (op == 'u')
			*p = -1;
		else if (*p >= 0)
			*p = (int8_t)prot;
		else if (prot)
			host_bad = true;
	}
}

/* What the host lets the guest do at gva now (nothing if unmapped). */
static int rights(uint64_t gva)
{
	return host_prot[gva / 4096] < 0 ? 0 : host_prot[gva / 4096];
}

static bool mapped(uint64_t gva)
{
	return host_prot[gva / 4096] >= 0;
}

static int rec(char op, uint64_t gva, uint64_t gpa, uint64_t len, int prot)
{
	model(op, gva, len, prot);
	if (ncalls < 256)
		calls[ncalls++] = (struct call){ op, gva, gpa, len, prot };
	return 0;
}

static int last_map_hint;

static int rec_map(void *c, uint64_t gva, uint64_t gpa, uint64_t len,
		   int prot)
{
	last_map_hint = prot & SHADOW_POPULATE;
	return rec('m', gva, gpa, len, prot & ~SHADOW_POPULATE);
}

static int rec_protect(void *c, uint64_t gva, uint64_t len, int prot)
{
	return rec('p', gva, 0, len, prot);
}

static int rec_unmap(void *c, uint64_t gva, uint64_t len)
{
	return rec('u', gva, 0, len, 0);
}

static uint64_t *at(uint64_t gpa)
{
	return (uint64_t *)(ram + gpa);
}

static uint64_t new_table(void)
{
	uint64_t t = next_table;

	next_table += 4096;
	memset(ram + t, 0, 4096);
	return t;
}

/*
 * Map gva to gpa in the 4-level tables at root: a leaf at level
 * (1 = 4 KiB, 2 = 2 MiB, 3 = 1 GiB) with flags; intermediate entries get
 * P|W|U so that the leaf's flags decide.  Returns the leaf entry's address.
 */
static uint64_t map_at(uint64_t root, uint64_t gva, uint64_t gpa,
		       uint64_t flags, int level)
{
	uint64_t table = root;
	int l;

	for (l = 4; l > level; l--) {
		uint64_t *e = at(table + ((gva >> (12 + 9 * (l - 1))) & 511) * 8);

		if (!(*e & PTE_P))
			*e = new_table() | PTE_P | PTE_W | PTE_U;
		table = *e & PTE_ADDR;
	}
	table += ((gva >> (12 + 9 * (level - 1))) & 511) * 8;
	*at(table) = gpa | flags | (level > 1 ? PTE_PS : 0);
	return table;
}

/* The address of the entry translating gva at level (2 = PD). */
static uint64_t entry_for(uint64_t root, uint64_t gva, int level)
{
	uint64_t table = root;
	int l;

	for (l = 4; l > level; l--)
		table = *at(table + ((gva >> (12 + 9 * (l - 1))) & 511) * 8) &
			PTE_ADDR;
	return table + ((gva >> (12 + 9 * (level - 1))) & 511) * 8;
}

static void setup(void)
{
	struct shadow_config cfg = {
		.ram_size = RAM, .gva_limit = 1ull << 46, .gva_floor = 0x1000,
		.maxphyaddr = 46, .cache = true,
		.ops = { rec_map, rec_protect, rec_unmap, NULL },
	};

	ram = calloc(1, RAM);
	cfg.ram = ram;
	memset(host_prot, 0xff, sizeof(host_prot));
	host_bad = false;
	next_table = ROOT + 4096;
	memset(ram + ROOT, 0, 4096);
	s = shadow_create(&cfg);
	ck_assert_ptr_nonnull(s);
	pg = (struct paging){ .cr0 = CR0_PE | CR0_PG | CR0_WP, .cr3 = ROOT,
			      .cr4 = CR4_PAE, .efer = EFER_LME | EFER_LMA |
						      EFER_NXE };
	shadow_reset(s, &pg);
	ncalls = 0;
}

static void teardown(void)
{
	shadow_destroy(s);
	free(ram);
}

static const struct call *last(char op)
{
	unsigned i;

	for (i = ncalls; i-- > 0;)
		if (calls[i].op == op)
			return &calls[i];
	return NULL;
}

/* ---- the walker ---- */

START_TEST(test_walk_translates_a_4k_page_and_sets_accessed)
{
	uint64_t leaf = map_at(ROOT, 0x400000, 0x200000, PTE_P | PTE_W, 1);
	struct walk w;

	ck_assert_int_eq(shadow_walk(s, &pg, 0x400123, ACC_READ, &w), WALK_OK);
	ck_assert_uint_eq(w.gpa, 0x200123);
	ck_assert_uint_eq(w.page_size, 4096);
	ck_assert(*at(leaf) & PTE_A);
	ck_assert(!(*at(leaf) & PTE_D));
	ck_assert(*at(ROOT) & PTE_A);
	ck_assert_uint_eq(w.ntables, 4);
}
END_TEST

START_TEST(test_walk_write_sets_dirty)
{
	uint64_t leaf = map_at(ROOT, 0x400000, 0x200000, PTE_P | PTE_W, 1);
	struct walk w;

	ck_assert_int_eq(shadow_walk(s, &pg, 0x400000, ACC_WRITE, &w), WALK_OK);
	ck_assert(*at(leaf) & PTE_D);
}
END_TEST

START_TEST(test_walk_2m_and_1g_pages)
{
	struct walk w;

	map_at(ROOT, 0x40000000, 0x400000, PTE_P | PTE_W, 2);
	ck_assert_int_eq(shadow_walk(s, &pg, 0x40012345, ACC_READ, &w), WALK_OK);
	ck_assert_uint_eq(w.gpa, 0x412345);
	ck_assert_uint_eq(w.page_size, 2ull << 20);
	map_at(ROOT, 0x80000000ull, 0, PTE_P | PTE_W, 3);
	ck_assert_int_eq(shadow_walk(s, &pg, 0x80abcdefull, ACC_READ, &w),
			 WALK_OK);
	ck_assert_uint_eq(w.gpa, 0xabcdef);
	ck_assert_uint_eq(w.page_size, 1ull << 30);
}
END_TEST

START_TEST(test_walk_not_present_gives_the_access_bits)
{
	struct walk w;

	ck_assert_int_eq(shadow_walk(s, &pg, 0x400000, ACC_WRITE, &w),
			 WALK_FAULT);
	ck_assert_uint_eq(w.pf_err, PFERR_W);
	pg.cpl = 3;
	ck_assert_int_eq(shadow_walk(s, &pg, 0x400000, ACC_EXEC, &w),
			 WALK_FAULT);
	ck_assert_uint_eq(w.pf_err, PFERR_U | PFERR_I);
}
END_TEST

START_TEST(test_walk_user_access_to_supervisor_page_is_a_protection_fault)
{
	struct walk w;

	map_at(ROOT, 0x400000, 0x200000, PTE_P | PTE_W, 1);
	*at(ROOT) &= ~PTE_U;    /* one level without U is enough */
	pg.cpl = 3;
	ck_assert_int_eq(shadow_walk(s, &pg, 0x400000, ACC_READ, &w),
			 WALK_FAULT);
	ck_assert_uint_eq(w.pf_err, PFERR_P | PFERR_U);
}
END_TEST

START_TEST(test_walk_cr0_wp_decides_supervisor_writes_to_read_only_pages)
{
	struct walk w;

	map_at(ROOT, 0x400000, 0x200000, PTE_P | PTE_U, 1);
	ck_assert_int_eq(shadow_walk(s, &pg, 0x400000, ACC_WRITE, &w),
			 WALK_FAULT);
	ck_assert_uint_eq(w.pf_err, PFERR_P | PFERR_W);
	pg.cr0 &= ~CR0_WP;
	ck_assert_int_eq(shadow_walk(s, &pg, 0x400000, ACC_WRITE, &w), WALK_OK);
}
END_TEST

START_TEST(test_walk_nx_needs_efer_nxe)
{
	struct walk w;

	map_at(ROOT, 0x400000, 0x200000, PTE_P | PTE_NX, 1);
	ck_assert_int_eq(shadow_walk(s, &pg, 0x400000, ACC_EXEC, &w),
			 WALK_FAULT);
	ck_assert_uint_eq(w.pf_err, PFERR_P | PFERR_I);
	/* Without NXE, bit 63 is reserved. */
	pg.efer &= ~EFER_NXE;
	ck_assert_int_eq(shadow_walk(s, &pg, 0x400000, ACC_READ, &w),
			 WALK_FAULT);
	ck_assert_uint_eq(w.pf_err, PFERR_P | PFERR_RSVD);
}
END_TEST

START_TEST(test_walk_reserved_address_bits_fault_with_rsvd)
{
	struct walk w;

	map_at(ROOT, 0x400000, 0x200000 | (1ull << 50), PTE_P, 1);
	ck_assert_int_eq(shadow_walk(s, &pg, 0x400000, ACC_READ, &w),
			 WALK_FAULT);
	ck_assert_uint_eq(w.pf_err, PFERR_P | PFERR_RSVD);
}
END_TEST

START_TEST(test_walk_to_memory_outside_ram_is_bad_gpa)
{
	struct walk w;

	map_at(ROOT, 0x400000, 0x40000000, PTE_P, 1);
	ck_assert_int_eq(shadow_walk(s, &pg, 0x400000, ACC_READ, &w),
			 WALK_BAD_GPA);
}
END_TEST

START_TEST(test_walk_32bit_paging_with_4m_pages)
{
	uint32_t *pd = (uint32_t *)(ram + 0x20000);
	struct walk w;

	memset(pd, 0, 4096);
	pd[0x300] = 0x800000 | 0x83;          /* 4 MiB page at 3 GiB */
	pg = (struct paging){ .cr0 = CR0_PE | CR0_PG, .cr3 = 0x20000,
			      .cr4 = CR4_PSE };
	ck_assert_int_eq(paging_mode_of(&pg), PG_32);
	ck_assert_int_eq(shadow_walk(s, &pg, 0xc0123456, ACC_WRITE, &w),
			 WALK_OK);
	ck_assert_uint_eq(w.gpa, 0x923456);
	ck_assert_uint_eq(w.page_size, 4ull << 20);
	ck_assert(pd[0x300] & PTE_D);
}
END_TEST

/* ---- faults and host mappings ---- */

START_TEST(test_fault_maps_the_page_with_the_guest_rights)
{
	struct fault_info fi;
	const struct call *c;

	map_at(ROOT, 0x400000, 0x200000, PTE_P | PTE_U | PTE_NX, 1);
	ck_assert_int_eq(shadow_fault(s, &pg, 0x400010, ACC_READ, &fi),
			 FAULT_FIXED);
	c = last('m');
	ck_assert_ptr_nonnull(c);
	ck_assert_uint_eq(c->gva, 0x400000);
	ck_assert_uint_eq(c->gpa, 0x200000);
	ck_assert_uint_eq(c->len, 4096);
	ck_assert_int_eq(c->prot, SHADOW_R);        /* read-only, no exec */
}
END_TEST

START_TEST(test_first_store_to_a_clean_page_faults_and_sets_dirty)
{
	uint64_t leaf = map_at(ROOT, 0x400000, 0x200000, PTE_P | PTE_W, 1);
	struct fault_info fi;

	shadow_fault(s, &pg, 0x400000, ACC_READ, &fi);
	ck_assert_int_eq(last('m')->prot, SHADOW_R | SHADOW_X);
	ck_assert(!(*at(leaf) & PTE_D));
	ck_assert_int_eq(shadow_fault(s, &pg, 0x400000, ACC_WRITE, &fi),
			 FAULT_FIXED);
	ck_assert(*at(leaf) & PTE_D);
	ck_assert_int_eq(last('p')->prot, SHADOW_R | SHADOW_W | SHADOW_X);
}
END_TEST

START_TEST(test_large_page_maps_one_2m_block)
{
	struct fault_info fi;

	map_at(ROOT, 0x40000000, 0x400000, PTE_P | PTE_W | PTE_D, 2);
	shadow_fault(s, &pg, 0x40100000, ACC_READ, &fi);
	ck_assert_uint_eq(last('m')->gva, 0x40000000);
	ck_assert_uint_eq(last('m')->len, 2ull << 20);
}
END_TEST

START_TEST(test_page_table_frames_are_never_writable)
{
	struct fault_info fi;
	uint64_t leaf = map_at(ROOT, 0x400000, 0x200000, PTE_P | PTE_W, 1);
	uint64_t pt = leaf & ~0xfffull;
	unsigned i;

	/* Map the page holding the leaf table itself at 0x500000. */
	map_at(ROOT, 0x500000, pt, PTE_P | PTE_W | PTE_D, 1);
	shadow_fault(s, &pg, 0x400000, ACC_READ, &fi);
	ck_assert(shadow_is_page_table(s, pt));
	ncalls = 0;
	ck_assert_int_eq(shadow_fault(s, &pg, 0x500000, ACC_WRITE, &fi),
			 FAULT_PT_WRITE);
	ck_assert_uint_eq(fi.gpa, pt);
	for (i = 0; i < ncalls; i++)
		if (calls[i].gva == 0x500000)
			ck_assert(!(calls[i].prot & SHADOW_W));
}
END_TEST

START_TEST(test_a_table_store_drops_exactly_the_changed_entry)
{
	struct fault_info fi;
	uint64_t a = map_at(ROOT, 0x400000, 0x200000, PTE_P | PTE_W, 1);

	map_at(ROOT, 0x401000, 0x201000, PTE_P | PTE_W, 1);
	shadow_fault(s, &pg, 0x400000, ACC_READ, &fi);
	shadow_fault(s, &pg, 0x401000, ACC_READ, &fi);
	ncalls = 0;
	*at(a) = 0x300000 | PTE_P | PTE_W;             /* remap 0x400000 */
	shadow_phys_written(s, a, 8);
	ck_assert_uint_eq(ncalls, 1);
	ck_assert_int_eq(calls[0].op, 'u');
	ck_assert_uint_eq(calls[0].gva, 0x400000);
	ck_assert_uint_eq(calls[0].len, 4096);
	ck_assert_uint_eq(shadow_last_dropped(s), 1);
	shadow_fault(s, &pg, 0x400000, ACC_READ, &fi);
	ck_assert_uint_eq(last('m')->gpa, 0x300000);
}
END_TEST

START_TEST(test_a_pml4_store_drops_everything_below_it)
{
	struct fault_info fi;
	struct shadow_stats st;

	map_at(ROOT, 0x400000, 0x200000, PTE_P | PTE_W, 1);
	map_at(ROOT, 0x600000, 0x201000, PTE_P | PTE_W, 1);
	shadow_fault(s, &pg, 0x400000, ACC_READ, &fi);
	shadow_fault(s, &pg, 0x600000, ACC_READ, &fi);
	shadow_get_stats(s, &st);
	ck_assert_uint_eq(st.tables, 5);   /* PML4, PDPT, PD and two PTs */
	*at(ROOT) = 0;
	shadow_phys_written(s, ROOT, 8);
	ck_assert_uint_eq(shadow_last_dropped(s), 2);
	shadow_get_stats(s, &st);
	ck_assert_uint_eq(st.mappings, 0);
	ck_assert_uint_eq(st.tables, 1);       /* only the root is left */
}
END_TEST

START_TEST(test_a_frame_that_leaves_table_duty_becomes_writable_again)
{
	struct fault_info fi;
	uint64_t leaf = map_at(ROOT, 0x400000, 0x200000, PTE_P | PTE_W, 1);
	uint64_t pt = leaf & ~0xfffull;
	uint64_t pde = entry_for(ROOT, 0x400000, 2);

	/* Mapped as data first, it becomes a table afterwards. */
	map_at(ROOT, 0x600000, pt, PTE_P | PTE_W | PTE_D, 1);
	ck_assert_int_eq(shadow_fault(s, &pg, 0x600000, ACC_WRITE, &fi),
			 FAULT_FIXED);
	shadow_fault(s, &pg, 0x400000, ACC_READ, &fi);
	ck_assert(shadow_is_page_table(s, pt));
	/* The kernel unhooks that table before touching the data page
	 * again: the frame is plain data now. */
	ck_assert_uint_eq(*at(pde) & PTE_ADDR, pt);
	*at(pde) = 0;
	shadow_phys_written(s, pde, 8);
	ck_assert(!shadow_is_page_table(s, pt));
	ncalls = 0;
	ck_assert_int_eq(shadow_fault(s, &pg, 0x600000, ACC_WRITE, &fi),
			 FAULT_FIXED);
	ck_assert_ptr_nonnull(last('p'));
	ck_assert_uint_eq(last('p')->gva, 0x600000);
	ck_assert(last('p')->prot & SHADOW_W);
}
END_TEST

START_TEST(test_invlpg_drops_one_translation)
{
	struct fault_info fi;

	map_at(ROOT, 0x400000, 0x200000, PTE_P, 1);
	shadow_fault(s, &pg, 0x400000, ACC_READ, &fi);
	ncalls = 0;
	shadow_invlpg(s, 0x400abc);
	ck_assert_int_eq(calls[0].op, 'u');
	ck_assert_uint_eq(calls[0].gva, 0x400000);
	shadow_invlpg(s, 0x400abc);    /* nothing left to drop */
	ck_assert_uint_eq(ncalls, 1);
}
END_TEST

START_TEST(test_user_mode_hides_supervisor_pages)
{
	struct fault_info fi;

	map_at(ROOT, 0x400000, 0x200000, PTE_P | PTE_W | PTE_D, 1);   /* S */
	map_at(ROOT, 0x401000, 0x201000, PTE_P | PTE_W | PTE_U | PTE_D, 1);
	shadow_fault(s, &pg, 0x400000, ACC_READ, &fi);
	shadow_fault(s, &pg, 0x401000, ACC_READ, &fi);
	ncalls = 0;
	pg.cpl = 3;
	shadow_set_cpl(s, &pg);
	ck_assert_uint_eq(ncalls, 1);
	ck_assert_int_eq(calls[0].op, 'p');
	ck_assert_uint_eq(calls[0].gva, 0x400000);
	ck_assert_int_eq(calls[0].prot, 0);
	ck_assert_int_eq(shadow_fault(s, &pg, 0x400000, ACC_READ, &fi),
			 FAULT_GUEST_PF);
	ck_assert_uint_eq(fi.pf_err, PFERR_P | PFERR_U);
	pg.cpl = 0;
	shadow_set_cpl(s, &pg);
	ck_assert_int_eq(last('p')->prot, SHADOW_R | SHADOW_W | SHADOW_X);
}
END_TEST

START_TEST(test_cr3_cache_reapplies_a_space_without_faults)
{
	struct fault_info fi;
	struct shadow_stats st;
	uint64_t root2 = new_table();
	unsigned i;

	for (i = 0; i < 8; i++) {
		map_at(ROOT, 0x400000 + i * 4096, 0x200000 + i * 4096,
		       PTE_P | PTE_W | PTE_D, 1);
		shadow_fault(s, &pg, 0x400000 + i * 4096, ACC_READ, &fi);
	}
	map_at(root2, 0x400000, 0x300000, PTE_P, 1);
	pg.cr3 = root2;
	shadow_set_cr3(s, &pg);
	ck_assert_int_eq(last('u')->gva, 0x400000);       /* old space out */
	ncalls = 0;
	pg.cr3 = ROOT;
	shadow_set_cr3(s, &pg);
	/* Eight contiguous pages come back in one call. */
	ck_assert_uint_eq(last('m')->gva, 0x400000);
	ck_assert_uint_eq(last('m')->len, 8 * 4096);
	shadow_get_stats(s, &st);
	ck_assert_uint_eq(st.cache_hits, 1);
	ck_assert_uint_eq(st.spaces, 2);
}
END_TEST

START_TEST(test_a_store_to_a_cached_space_table_forgets_that_space)
{
	struct fault_info fi;
	struct shadow_stats st;
	uint64_t root2 = new_table();
	uint64_t leaf2 = map_at(root2, 0x400000, 0x300000, PTE_P, 1);

	map_at(ROOT, 0x400000, 0x200000, PTE_P, 1);
	shadow_fault(s, &pg, 0x400000, ACC_READ, &fi);
	pg.cr3 = root2;
	shadow_set_cr3(s, &pg);
	shadow_fault(s, &pg, 0x400000, ACC_READ, &fi);
	pg.cr3 = ROOT;
	shadow_set_cr3(s, &pg);
	/* The kernel edits the inactive space's table. */
	*at(leaf2) = 0x310000 | PTE_P;
	shadow_phys_written(s, leaf2, 8);
	pg.cr3 = root2;
	shadow_set_cr3(s, &pg);
	shadow_get_stats(s, &st);
	ck_assert_uint_eq(st.cache_hits, 1);      /* only the first return */
	shadow_fault(s, &pg, 0x400000, ACC_READ, &fi);
	ck_assert_uint_eq(last('m')->gpa, 0x310000);
}
END_TEST

START_TEST(test_addresses_outside_the_window_are_refused)
{
	struct fault_info fi;

	ck_assert_int_eq(shadow_fault(s, &pg, 1ull << 46, ACC_READ, &fi),
			 FAULT_OUTSIDE);
	ck_assert_int_eq(shadow_fault(s, &pg, 0x10, ACC_READ, &fi),
			 FAULT_OUTSIDE);
}
END_TEST

/* ---- the upper half (shadow_config.upper) and a large pool ---- */

static void setup_upper(void)
{
	struct shadow_config cfg = {
		.ram_size = RAM, .gva_limit = 1ull << 46, .gva_floor = 0x1000,
		.upper = true, .maxphyaddr = 46, .cache = true,
		.max_mappings = 65536,
		.ops = { rec_map, rec_protect, rec_unmap, NULL },
	};

	ram = calloc(1, RAM);
	cfg.ram = ram;
	memset(host_prot, 0xff, sizeof(host_prot));
	host_bad = false;
	next_table = ROOT + 4096;
	memset(ram + ROOT, 0, 4096);
	s = shadow_create(&cfg);
	ck_assert_ptr_nonnull(s);
	pg = (struct paging){ .cr0 = CR0_PE | CR0_PG | CR0_WP, .cr3 = ROOT,
			      .cr4 = CR4_PAE, .efer = EFER_LME | EFER_LMA |
						      EFER_NXE };
	shadow_reset(s, &pg);
	ncalls = 0;
}

#define TOP_PAGE 0xfffffffffffff000ull

START_TEST(test_the_upper_half_is_outside_unless_asked_for)
{
	struct fault_info fi;

	ck_assert_int_eq(shadow_fault(s, &pg, TOP_PAGE, ACC_READ, &fi),
			 FAULT_OUTSIDE);
}
END_TEST

START_TEST(test_the_top_page_of_the_address_space_maps_and_goes)
{
	struct fault_info fi;
	const struct call *c;
	uint64_t pml4e;

	map_at(ROOT, TOP_PAGE, 0x200000, PTE_P | PTE_W | PTE_D, 1);
	ck_assert_int_eq(shadow_fault(s, &pg, TOP_PAGE + 8, ACC_WRITE, &fi),
			 FAULT_FIXED);
	c = last('m');
	ck_assert_uint_eq(c->gva, TOP_PAGE);
	ck_assert_uint_eq(c->len, 4096);
	/* Known again: a second fault there finds the record. */
	ck_assert_int_eq(shadow_fault(s, &pg, TOP_PAGE, ACC_READ, &fi),
			 FAULT_FIXED);
	ck_assert_uint_eq(shadow_last_dropped(s), 0);
	/* A store to PML4 entry 511 (whose range ends at 2^64) drops it. */
	ncalls = 0;
	pml4e = entry_for(ROOT, TOP_PAGE, 4);
	*at(pml4e) &= ~PTE_P;
	shadow_phys_written(s, pml4e, 8);
	ck_assert_ptr_nonnull(c = last('u'));
	ck_assert_uint_eq(c->gva, TOP_PAGE);
	ck_assert_int_eq(shadow_fault(s, &pg, TOP_PAGE, ACC_READ, &fi),
			 FAULT_GUEST_PF);
}
END_TEST

START_TEST(test_invlpg_of_the_top_page_drops_it)
{
	struct fault_info fi;

	map_at(ROOT, TOP_PAGE, 0x200000, PTE_P | PTE_W | PTE_D, 1);
	shadow_fault(s, &pg, TOP_PAGE, ACC_READ, &fi);
	ncalls = 0;
	shadow_invlpg(s, TOP_PAGE);
	ck_assert_ptr_nonnull(last('u'));
	ck_assert_uint_eq(last('u')->gva, TOP_PAGE);
}
END_TEST

/* No host call may reach the host's own addresses between the window
 * and the upper half, where the monitor lives. */
static bool between(const struct call *c)
{
	return c->gva + c->len > (1ull << 46) && c->gva < 0xffff800000000000ull;
}

START_TEST(test_a_space_with_both_halves_is_unmapped_half_by_half)
{
	struct fault_info fi;
	uint64_t root2 = new_table();
	unsigned i;

	map_at(ROOT, 0x400000, 0x200000, PTE_P | PTE_W | PTE_D, 1);
	map_at(ROOT, TOP_PAGE - 4096, 0x201000, PTE_P | PTE_W | PTE_D, 1);
	shadow_fault(s, &pg, 0x400000, ACC_READ, &fi);
	shadow_fault(s, &pg, TOP_PAGE - 4096, ACC_READ, &fi);
	ncalls = 0;
	pg.cr3 = root2;
	shadow_set_cr3(s, &pg);
	ck_assert_uint_ge(ncalls, 2);
	for (i = 0; i < ncalls; i++)
		ck_assert_msg(!between(&calls[i]), "%c %#llx+%#llx",
			      calls[i].op, (unsigned long long)calls[i].gva,
			      (unsigned long long)calls[i].len);
}
END_TEST

/* Map n pages from gva in the space at root (its tables built now). */
static void touch_pages(uint64_t root, uint64_t gva, unsigned n)
{
	struct fault_info fi;
	unsigned i;

	pg.cr3 = root;
	shadow_set_cr3(s, &pg);
	for (i = 0; i < n; i++) {
		map_at(root, gva + i * 8192ull, 0x200000, PTE_P | PTE_W | PTE_D,
		       1);
		shadow_fault(s, &pg, gva + i * 8192ull, ACC_READ, &fi);
	}
}

START_TEST(test_inactive_spaces_keep_a_budget_of_records)
{
	uint64_t r1 = ROOT, r2 = new_table(), r3 = new_table(), r4;
	struct shadow_stats st;

	memset(ram + r2, 0, 4096);
	/* Pages 8 KiB apart: each is a record of its own. */
	touch_pages(r1, 0x10000000, 7000);
	touch_pages(r2, 0x20000000, 7000);
	touch_pages(r3, 0x30000000, 7000);
	r4 = new_table();
	/* Leaving r3: inactive r1, r2, r3 hold 21000 records; the least
	 * recent (r1) goes, the one just left stays. */
	pg.cr3 = r4;
	shadow_set_cr3(s, &pg);
	shadow_get_stats(s, &st);
	ck_assert_uint_eq(st.mappings, 14000);
	pg.cr3 = r3;
	shadow_set_cr3(s, &pg);
	pg.cr3 = r1;
	shadow_set_cr3(s, &pg);
	shadow_get_stats(s, &st);
	ck_assert_uint_eq(st.cache_hits, 1);     /* r3 came back, r1 did not */
}
END_TEST

START_TEST(test_unscanned_code_is_not_executable_when_scanning)
{
	struct fault_info fi;

	shadow_set_scanning(s, true);
	map_at(ROOT, 0x400000, 0x200000, PTE_P | PTE_W | PTE_D, 1);
	ck_assert_int_eq(shadow_fault(s, &pg, 0x400000, ACC_EXEC, &fi),
			 FAULT_EXEC_SCAN);
	ck_assert_int_eq(last('m')->prot, SHADOW_R | SHADOW_W);
	shadow_code_ready(s, 0x200000);
	ck_assert_int_eq(last('p')->prot, SHADOW_R | SHADOW_X);
	ck_assert_int_eq(shadow_fault(s, &pg, 0x400000, ACC_WRITE, &fi),
			 FAULT_CODE_WRITE);
	shadow_code_dirty(s, 0x200000);
	ck_assert_int_eq(last('p')->prot, SHADOW_R | SHADOW_W);
}
END_TEST

/* ---- privilege switches ---- */

#define RWX (SHADOW_R | SHADOW_W | SHADOW_X)
#define MANY 600
#define MANY_VA 0x400000ull

static void set_cpl(unsigned cpl, bool ac)
{
	pg.cpl = cpl;
	pg.ac = ac;
	shadow_set_cpl(s, &pg);
}

/* Pages 500-539 and every seventh page are supervisor-only. */
static bool many_is_super(unsigned i)
{
	return i % 7 == 3 || (i >= 500 && i < 540);
}

START_TEST(test_many_mappings_keep_the_split_over_cpl_switches)
{
	struct fault_info fi;
	unsigned i, k, round, runs = 0;

	for (i = 0; i < MANY; i++) {
		map_at(ROOT, MANY_VA + i * 4096, 0x200000 + i * 4096,
		       PTE_P | PTE_W | PTE_D | (many_is_super(i) ? 0 : PTE_U),
		       1);
		runs += many_is_super(i) && (i == 0 || !many_is_super(i - 1));
	}
	/* Touched in a scattered order, as a kernel's pages are. */
	for (k = 0; k < MANY; k++) {
		i = k * 389 % MANY;
		ck_assert_int_eq(shadow_fault(s, &pg, MANY_VA + i * 4096,
					      ACC_READ, &fi), FAULT_FIXED);
	}
	for (round = 0; round < 6; round++) {
		unsigned cpl = round % 2 ? 0 : 3;

		ncalls = 0;
		set_cpl(cpl, false);
		/* One mprotect per run of supervisor pages, none for the
		 * user pages: their rights are the same in both modes. */
		ck_assert_uint_eq(ncalls, runs);
		for (k = 0; k < ncalls; k++) {
			ck_assert_int_eq(calls[k].op, 'p');
			for (i = 0; i < calls[k].len / 4096; i++)
				ck_assert(many_is_super((calls[k].gva - MANY_VA)
							/ 4096 + i));
		}
		for (i = 0; i < MANY; i++)
			ck_assert_int_eq(rights(MANY_VA + i * 4096),
					 cpl == 3 && many_is_super(i) ? 0 : RWX);
	}
	ck_assert(!host_bad);
}
END_TEST

/* n supervisor pages from MANY_VA, stride apart, on neighbouring frames,
 * touched in rising order or backwards. */
static void touch_supervisor_pages(unsigned n, uint64_t stride,
				   bool backwards)
{
	struct fault_info fi;
	unsigned i, k;

	for (i = 0; i < n; i++)
		map_at(ROOT, MANY_VA + i * stride, 0x200000 + i * 4096,
		       PTE_P | PTE_W | PTE_D, 1);
	for (k = 0; k < n; k++) {
		i = backwards ? n - 1 - k : k;
		ck_assert_int_eq(shadow_fault(s, &pg, MANY_VA + i * stride,
					      ACC_READ, &fi), FAULT_FIXED);
	}
}

START_TEST(test_supervisor_pages_touched_backwards_share_one_mprotect)
{
	struct fault_info fi;

	touch_supervisor_pages(64, 4096, true);
	ncalls = 0;
	set_cpl(3, false);
	ck_assert_uint_eq(ncalls, 1);
	ck_assert_uint_eq(calls[0].gva, MANY_VA);
	ck_assert_uint_eq(calls[0].len, 64 * 4096);
	ck_assert_int_eq(calls[0].prot, 0);
	/* One more in the middle of the range, after a hole. */
	shadow_invlpg(s, MANY_VA + 10 * 4096);
	set_cpl(0, false);
	ck_assert(!mapped(MANY_VA + 10 * 4096));
	ck_assert_int_eq(rights(MANY_VA + 9 * 4096), RWX);
	ck_assert_int_eq(rights(MANY_VA + 11 * 4096), RWX);
	shadow_fault(s, &pg, MANY_VA + 10 * 4096, ACC_READ, &fi);
	ncalls = 0;
	set_cpl(3, false);
	ck_assert_uint_eq(ncalls, 1);
	ck_assert_uint_eq(calls[0].len, 64 * 4096);
	ck_assert(!host_bad);
}
END_TEST

/* Leaving the kernel closes its pages in one sweep across the holes
 * between them, but never over a page the user keeps. */
START_TEST(test_leaving_the_kernel_sweeps_its_pages_in_one_call)
{
	struct fault_info fi;
	unsigned i;

	touch_supervisor_pages(8, 0x10000, false);
	ncalls = 0;
	set_cpl(3, false);
	ck_assert_uint_eq(ncalls, 1);
	ck_assert_uint_eq(calls[0].gva, MANY_VA);
	ck_assert_uint_eq(calls[0].len, 7 * 0x10000 + 4096);
	ck_assert_int_eq(calls[0].prot, 0);
	for (i = 0; i < 8; i++)
		ck_assert_int_eq(rights(MANY_VA + i * 0x10000), 0);
	/* A user page between the fourth and the fifth splits the sweep. */
	set_cpl(0, false);
	map_at(ROOT, MANY_VA + 0x38000, 0x300000,
	       PTE_P | PTE_W | PTE_U | PTE_D, 1);
	shadow_fault(s, &pg, MANY_VA + 0x38000, ACC_READ, &fi);
	ncalls = 0;
	set_cpl(3, false);
	ck_assert_uint_eq(ncalls, 2);
	ck_assert_uint_eq(calls[0].gva + calls[0].len, MANY_VA + 0x30000 + 4096);
	ck_assert_uint_eq(calls[1].gva, MANY_VA + 0x40000);
	ck_assert_int_eq(rights(MANY_VA + 0x38000), RWX);
	ck_assert_int_eq(rights(MANY_VA + 0x30000), 0);
	ck_assert_int_eq(rights(MANY_VA + 0x40000), 0);
	set_cpl(0, false);
	for (i = 0; i < 8; i++)
		ck_assert_int_eq(rights(MANY_VA + i * 0x10000), RWX);
	ck_assert(!host_bad);
}
END_TEST

START_TEST(test_a_dropped_page_is_never_protected_again)
{
	struct fault_info fi;
	unsigned i;

	for (i = 0; i < 3; i++) {
		map_at(ROOT, MANY_VA + i * 4096, 0x200000 + i * 4096,
		       PTE_P | PTE_W | PTE_D, 1);
		shadow_fault(s, &pg, MANY_VA + i * 4096, ACC_READ, &fi);
	}
	shadow_invlpg(s, MANY_VA + 4096);
	set_cpl(3, false);
	set_cpl(0, false);
	ck_assert_int_eq(rights(MANY_VA), RWX);
	ck_assert(!mapped(MANY_VA + 4096));
	ck_assert_int_eq(rights(MANY_VA + 8192), RWX);
	ck_assert(!host_bad);
}
END_TEST

START_TEST(test_wp0_supervisor_writes_to_read_only_pages_stop_at_cpl3)
{
	struct fault_info fi;

	pg.cr0 &= ~CR0_WP;
	shadow_reset(s, &pg);
	/* A read-only user page, clean: the same rights in both modes... */
	map_at(ROOT, 0x400000, 0x200000, PTE_P | PTE_U, 1);
	shadow_fault(s, &pg, 0x400000, ACC_READ, &fi);
	ck_assert_int_eq(rights(0x400000), SHADOW_R | SHADOW_X);
	/* ...until the kernel writes it (allowed with WP = 0) and sets D. */
	ck_assert_int_eq(shadow_fault(s, &pg, 0x400000, ACC_WRITE, &fi),
			 FAULT_FIXED);
	ck_assert_int_eq(rights(0x400000), RWX);
	set_cpl(3, false);
	ck_assert_int_eq(rights(0x400000), SHADOW_R | SHADOW_X);
	set_cpl(0, false);
	ck_assert_int_eq(rights(0x400000), RWX);
	ck_assert(!host_bad);
}
END_TEST

START_TEST(test_smap_hides_user_pages_from_the_kernel_unless_ac)
{
	struct fault_info fi;

	pg.cr4 |= CR4_SMAP;
	shadow_reset(s, &pg);
	map_at(ROOT, 0x400000, 0x200000, PTE_P | PTE_W | PTE_U | PTE_D, 1);
	map_at(ROOT, 0x401000, 0x201000, PTE_P | PTE_W | PTE_D, 1);
	set_cpl(0, true);
	ck_assert_int_eq(shadow_fault(s, &pg, 0x400000, ACC_READ, &fi),
			 FAULT_FIXED);
	shadow_fault(s, &pg, 0x401000, ACC_READ, &fi);
	ck_assert_int_eq(rights(0x400000), RWX);
	set_cpl(0, false);                   /* clac */
	ck_assert_int_eq(rights(0x400000), 0);
	ck_assert_int_eq(rights(0x401000), RWX);
	set_cpl(3, false);
	ck_assert_int_eq(rights(0x400000), RWX);
	ck_assert_int_eq(rights(0x401000), 0);
	set_cpl(0, false);
	ck_assert_int_eq(rights(0x400000), 0);
	ck_assert_int_eq(rights(0x401000), RWX);
	set_cpl(0, true);                    /* stac */
	ck_assert_int_eq(rights(0x400000), RWX);
	ck_assert(!host_bad);
}
END_TEST

/* PROT_EXEC implies PROT_READ on the host: a fetch that SMAP allows from
 * a user page at CPL 0 (AC clear) cannot be mapped, so it is emulated. */
START_TEST(test_smap_fetch_from_a_user_page_at_cpl0_is_emulated)
{
	struct fault_info fi;

	pg.cr4 |= CR4_SMAP;
	shadow_reset(s, &pg);
	map_at(ROOT, 0x400000, 0x200000, PTE_P | PTE_U, 1);
	set_cpl(0, false);
	ck_assert_int_eq(shadow_fault(s, &pg, 0x400000, ACC_EXEC, &fi),
			 FAULT_EMULATE);
	ck_assert_int_eq(rights(0x400000), 0);
	ck_assert_int_eq(shadow_fault(s, &pg, 0x400000, ACC_READ, &fi),
			 FAULT_GUEST_PF);
	set_cpl(0, true);                    /* stac */
	ck_assert_int_eq(shadow_fault(s, &pg, 0x400000, ACC_EXEC, &fi),
			 FAULT_FIXED);
	ck_assert_int_eq(rights(0x400000), SHADOW_R | SHADOW_X);
	ck_assert(!host_bad);
}
END_TEST

START_TEST(test_smep_keeps_user_code_from_running_at_cpl0)
{
	struct fault_info fi;

	pg.cr4 |= CR4_SMEP;
	shadow_reset(s, &pg);
	map_at(ROOT, 0x400000, 0x200000, PTE_P | PTE_U, 1);
	set_cpl(3, false);
	shadow_fault(s, &pg, 0x400000, ACC_EXEC, &fi);
	ck_assert_int_eq(rights(0x400000), SHADOW_R | SHADOW_X);
	set_cpl(0, false);
	ck_assert_int_eq(rights(0x400000), SHADOW_R);
	set_cpl(3, false);
	ck_assert_int_eq(rights(0x400000), SHADOW_R | SHADOW_X);
	ck_assert(!host_bad);
}
END_TEST

START_TEST(test_table_frames_stay_read_only_across_cpl_switches)
{
	struct fault_info fi;
	uint64_t leaf = map_at(ROOT, 0x400000, 0x200000, PTE_P | PTE_W, 1);
	uint64_t pt = leaf & ~0xfffull;

	/* The leaf table seen through a supervisor 4 KiB page and through a
	 * supervisor 2 MiB page that covers it. */
	map_at(ROOT, 0x600000, pt, PTE_P | PTE_W | PTE_D, 1);
	map_at(ROOT, 0x40000000, 0, PTE_P | PTE_W | PTE_D, 2);
	shadow_fault(s, &pg, 0x400000, ACC_READ, &fi);
	shadow_fault(s, &pg, 0x600000, ACC_READ, &fi);
	shadow_fault(s, &pg, 0x40000000, ACC_READ, &fi);
	ck_assert(shadow_is_page_table(s, pt));
	set_cpl(3, false);
	ck_assert_int_eq(rights(0x600000), 0);
	ck_assert_int_eq(rights(0x40000000 + pt), 0);
	set_cpl(0, false);
	ck_assert_int_eq(rights(0x600000), SHADOW_R | SHADOW_X);
	ck_assert_int_eq(rights(0x40000000 + pt), SHADOW_R | SHADOW_X);
	ck_assert_int_eq(rights(0x40000000 + 0x100000), RWX);
	ck_assert(!host_bad);
}
END_TEST

START_TEST(test_large_supervisor_mappings_are_dropped_and_mapped_afresh)
{
	struct fault_info fi;

	/* Two 2 MiB supervisor pages, neighbours in guest RAM too, and a
	 * 4 KiB one just below them. */
	map_at(ROOT, 0x40000000, 0x400000, PTE_P | PTE_W | PTE_D, 2);
	map_at(ROOT, 0x40200000, 0x600000, PTE_P | PTE_W | PTE_D, 2);
	map_at(ROOT, 0x3ffff000, 0x300000, PTE_P | PTE_W | PTE_D, 1);
	shadow_fault(s, &pg, 0x40000000, ACC_READ, &fi);
	shadow_fault(s, &pg, 0x40200000, ACC_READ, &fi);
	shadow_fault(s, &pg, 0x3ffff000, ACC_READ, &fi);
	ncalls = 0;
	set_cpl(3, false);
	/* On the way to user mode all three close in one call. */
	ck_assert_uint_eq(ncalls, 1);
	ck_assert_int_eq(calls[0].op, 'p');
	ck_assert_uint_eq(calls[0].gva, 0x3ffff000);
	ck_assert_uint_eq(calls[0].len, (4ull << 20) + 4096);
	ck_assert_int_eq(calls[0].prot, 0);
	ck_assert_int_eq(rights(0x40300000), 0);
	ck_assert_int_eq(rights(0x3ffff000), 0);
	/* Back in the kernel, the 4 KiB page is re-protected and the large
	 * ones are mapped afresh in one call, so that the host holds only
	 * the PTEs the kernel touches from now on. */
	ncalls = 0;
	set_cpl(0, false);
	ck_assert_uint_eq(ncalls, 2);
	ck_assert_int_eq(calls[0].op, 'p');
	ck_assert_int_eq(calls[1].op, 'm');
	ck_assert_uint_eq(calls[1].gva, 0x40000000);
	ck_assert_uint_eq(calls[1].gpa, 0x400000);
	ck_assert_uint_eq(calls[1].len, 4ull << 20);
	ck_assert_int_eq(rights(0x40300000), RWX);
	ck_assert_int_eq(rights(0x3ffff000), RWX);
	ck_assert(!host_bad);
}
END_TEST

START_TEST(test_a_cached_space_comes_back_with_the_current_split)
{
	struct fault_info fi;
	uint64_t root2 = new_table();

	map_at(ROOT, 0x400000, 0x200000, PTE_P | PTE_W | PTE_D, 1);
	map_at(ROOT, 0x401000, 0x201000, PTE_P | PTE_W | PTE_U | PTE_D, 1);
	map_at(root2, 0x400000, 0x300000, PTE_P | PTE_W | PTE_U | PTE_D, 1);
	shadow_fault(s, &pg, 0x400000, ACC_READ, &fi);
	shadow_fault(s, &pg, 0x401000, ACC_READ, &fi);
	pg.cr3 = root2;
	shadow_set_cr3(s, &pg);
	set_cpl(3, false);
	pg.cr3 = ROOT;
	shadow_set_cr3(s, &pg);              /* back, at CPL 3 */
	ck_assert_int_eq(rights(0x400000), 0);
	ck_assert_int_eq(rights(0x401000), RWX);
	set_cpl(0, false);
	ck_assert_int_eq(rights(0x400000), RWX);
	set_cpl(3, false);
	ck_assert_int_eq(rights(0x400000), 0);
	ck_assert_int_eq(rights(0x401000), RWX);
	ck_assert(!host_bad);
}
END_TEST

/* ---- fault-around ---- */

START_TEST(test_fault_maps_accessed_neighbours_in_one_call)
{
	uint64_t flags = PTE_P | PTE_U | PTE_W | PTE_NX | PTE_A | PTE_D;
	uint64_t first, i, clean;
	struct fault_info fi;
	const struct call *c;

	first = map_at(ROOT, 0x400000, 0x200000, PTE_P | PTE_U | PTE_W | PTE_NX,
		       1);
	for (i = 1; i < 6; i++)
		map_at(ROOT, 0x400000 + i * 4096, 0x200000 + i * 4096, flags, 1);
	/* Never touched by the guest: no A, so not mapped before its fault. */
	clean = map_at(ROOT, 0x406000, 0x206000, PTE_P | PTE_U | PTE_W | PTE_NX,
		       1);
	map_at(ROOT, 0x407000, 0x207000, flags, 1);
	ck_assert_int_eq(shadow_fault(s, &pg, 0x400000, ACC_WRITE, &fi),
			 FAULT_FIXED);
	c = last('m');
	ck_assert_uint_eq(c->gva, 0x401000);      /* the five after it, */
	ck_assert_uint_eq(c->gpa, 0x201000);
	ck_assert_uint_eq(c->len, 5 * 4096);       /* in one call */
	ck_assert_int_eq(c->prot, SHADOW_R | SHADOW_W);
	ck_assert_int_eq(last_map_hint, SHADOW_POPULATE); /* used soon */
	ck_assert(mapped(0x400000));
	ck_assert(!mapped(0x406000));              /* the stretch ends at A=0 */
	ck_assert(!mapped(0x407000));
	ck_assert_uint_eq(*at(clean) & (PTE_A | PTE_D), 0);
	ck_assert_uint_eq(*at(first) & (PTE_A | PTE_D), PTE_A | PTE_D);
	ck_assert(!host_bad);
}
END_TEST

START_TEST(test_fault_around_maps_a_clean_neighbour_read_only)
{
	struct fault_info fi;
	uint64_t leaf;

	map_at(ROOT, 0x400000, 0x200000, PTE_P | PTE_U | PTE_W | PTE_A | PTE_D, 1);
	leaf = map_at(ROOT, 0x401000, 0x201000, PTE_P | PTE_U | PTE_W | PTE_A, 1);
	shadow_fault(s, &pg, 0x400000, ACC_READ, &fi);
	/* Accessed but clean: readable now, and its first store still
	 * faults so that D is set as the CPU would. */
	ck_assert_int_eq(rights(0x401000), SHADOW_R | SHADOW_X);
	ck_assert(!(*at(leaf) & PTE_D));
	ck_assert_int_eq(shadow_fault(s, &pg, 0x401000, ACC_WRITE, &fi),
			 FAULT_FIXED);
	ck_assert(*at(leaf) & PTE_D);
	ck_assert_int_eq(rights(0x401000), RWX);
}
END_TEST

START_TEST(test_fault_around_at_cpl3_leaves_supervisor_neighbours)
{
	struct fault_info fi;

	map_at(ROOT, 0x400000, 0x200000, PTE_P | PTE_U | PTE_A, 1);
	map_at(ROOT, 0x401000, 0x201000, PTE_P | PTE_A, 1);    /* supervisor */
	map_at(ROOT, 0x402000, 0x202000, PTE_P | PTE_U | PTE_A, 1);
	set_cpl(3, false);
	ck_assert_int_eq(shadow_fault(s, &pg, 0x400000, ACC_READ, &fi),
			 FAULT_FIXED);
	ck_assert(!mapped(0x401000));
	ck_assert(!mapped(0x402000));
	ck_assert_int_eq(shadow_fault(s, &pg, 0x401000, ACC_READ, &fi),
			 FAULT_GUEST_PF);
}
END_TEST

START_TEST(test_supervisor_pages_are_not_mapped_ahead)
{
	struct fault_info fi;

	map_at(ROOT, 0x400000, 0x200000, PTE_P | PTE_W | PTE_A | PTE_D, 1);
	map_at(ROOT, 0x401000, 0x201000, PTE_P | PTE_W | PTE_A | PTE_D, 1);
	shadow_fault(s, &pg, 0x400000, ACC_READ, &fi);
	/* Every supervisor mapping costs a step at each privilege switch:
	 * only the page the kernel touched is mapped. */
	ck_assert(mapped(0x400000));
	ck_assert(!mapped(0x401000));
}
END_TEST

START_TEST(test_code_and_table_pages_cost_one_call_per_stretch)
{
	struct fault_info fi;
	uint64_t i, pt, leaf;
	unsigned before, protects = 0;

	/* Four supervisor pages whose frames are the first level tables of
	 * four user pages: one stretch of read-only frames. */
	uint64_t pts[4];

	for (i = 0; i < 4; i++) {
		leaf = map_at(ROOT, 0x10000000 + i * 0x200000, 0x300000 + i * 4096,
			      PTE_P | PTE_U | PTE_W, 1);
		pts[i] = leaf & ~0xfffull;
		shadow_fault(s, &pg, 0x10000000 + i * 0x200000, ACC_READ, &fi);
	}
	for (i = 0; i < 4; i++) {
		pt = pts[i];
		map_at(ROOT, 0x500000 + i * 4096, pt, PTE_P | PTE_W | PTE_D, 1);
		shadow_fault(s, &pg, 0x500000 + i * 4096, ACC_READ, &fi);
		ck_assert(shadow_is_page_table(s, pt));
	}
	set_cpl(3, false);
	before = ncalls;
	set_cpl(0, false);
	for (i = before; i < ncalls; i++)
		if (calls[i].op == 'p' && calls[i].gva >= 0x500000 &&
		    calls[i].gva < 0x504000) {
			protects++;
			ck_assert_uint_eq(calls[i].gva, 0x500000);
			ck_assert_uint_eq(calls[i].len, 4 * 4096);
		}
	ck_assert_uint_eq(protects, 1);
	for (i = 0; i < 4; i++)
		ck_assert_int_eq(rights(0x500000 + i * 4096), SHADOW_R | SHADOW_X);
	ck_assert(!host_bad);
}
END_TEST

static Suite *shadow_suite(void)
{
	Suite *su = suite_create("shadow");
	TCase *t = tcase_create("walk");

	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, test_walk_translates_a_4k_page_and_sets_accessed);
	tcase_add_test(t, test_walk_write_sets_dirty);
	tcase_add_test(t, test_walk_2m_and_1g_pages);
	tcase_add_test(t, test_walk_not_present_gives_the_access_bits);
	tcase_add_test(t, test_walk_user_access_to_supervisor_page_is_a_protection_fault);
	tcase_add_test(t, test_walk_cr0_wp_decides_supervisor_writes_to_read_only_pages);
	tcase_add_test(t, test_walk_nx_needs_efer_nxe);
	tcase_add_test(t, test_walk_reserved_address_bits_fault_with_rsvd);
	tcase_add_test(t, test_walk_to_memory_outside_ram_is_bad_gpa);
	tcase_add_test(t, test_walk_32bit_paging_with_4m_pages);
	suite_add_tcase(su, t);

	t = tcase_create("mappings");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, test_fault_maps_the_page_with_the_guest_rights);
	tcase_add_test(t, test_first_store_to_a_clean_page_faults_and_sets_dirty);
	tcase_add_test(t, test_large_page_maps_one_2m_block);
	tcase_add_test(t, test_page_table_frames_are_never_writable);
	tcase_add_test(t, test_a_table_store_drops_exactly_the_changed_entry);
	tcase_add_test(t, test_a_pml4_store_drops_everything_below_it);
	tcase_add_test(t, test_a_frame_that_leaves_table_duty_becomes_writable_again);
	tcase_add_test(t, test_invlpg_drops_one_translation);
	tcase_add_test(t, test_user_mode_hides_supervisor_pages);
	tcase_add_test(t, test_cr3_cache_reapplies_a_space_without_faults);
	tcase_add_test(t, test_a_store_to_a_cached_space_table_forgets_that_space);
	tcase_add_test(t, test_addresses_outside_the_window_are_refused);
	tcase_add_test(t, test_unscanned_code_is_not_executable_when_scanning);
	tcase_add_test(t, test_the_upper_half_is_outside_unless_asked_for);
	suite_add_tcase(su, t);

	t = tcase_create("upper half");
	tcase_add_checked_fixture(t, setup_upper, teardown);
	tcase_add_test(t, test_the_top_page_of_the_address_space_maps_and_goes);
	tcase_add_test(t, test_invlpg_of_the_top_page_drops_it);
	tcase_add_test(t, test_a_space_with_both_halves_is_unmapped_half_by_half);
	tcase_add_test(t, test_inactive_spaces_keep_a_budget_of_records);
	suite_add_tcase(su, t);

	t = tcase_create("privilege");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, test_many_mappings_keep_the_split_over_cpl_switches);
	tcase_add_test(t, test_supervisor_pages_touched_backwards_share_one_mprotect);
	tcase_add_test(t, test_leaving_the_kernel_sweeps_its_pages_in_one_call);
	tcase_add_test(t, test_a_dropped_page_is_never_protected_again);
	tcase_add_test(t, test_wp0_supervisor_writes_to_read_only_pages_stop_at_cpl3);
	tcase_add_test(t, test_smap_hides_user_pages_from_the_kernel_unless_ac);
	tcase_add_test(t, test_smap_fetch_from_a_user_page_at_cpl0_is_emulated);
	tcase_add_test(t, test_smep_keeps_user_code_from_running_at_cpl0);
	tcase_add_test(t, test_table_frames_stay_read_only_across_cpl_switches);
	tcase_add_test(t, test_large_supervisor_mappings_are_dropped_and_mapped_afresh);
	tcase_add_test(t, test_a_cached_space_comes_back_with_the_current_split);
	tcase_add_test(t, test_fault_maps_accessed_neighbours_in_one_call);
	tcase_add_test(t, test_fault_around_maps_a_clean_neighbour_read_only);
	tcase_add_test(t, test_fault_around_at_cpl3_leaves_supervisor_neighbours);
	tcase_add_test(t, test_supervisor_pages_are_not_mapped_ahead);
	tcase_add_test(t, test_code_and_table_pages_cost_one_call_per_stretch);
	suite_add_tcase(su, t);
	return su;
}

CHECK_MAIN(shadow_suite)
