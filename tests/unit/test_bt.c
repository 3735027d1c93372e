/*
 * The translation cache's rewrite (vmm/bt.h).  A rewritten instruction
 * is run here, natively, on memory of this process, beside the original:
 * the memory it changes, the flags it leaves and every register must be
 * the same, and the offset must come from the table.  The table itself
 * must send the window to its alias and nothing else anywhere the host
 * could have mapped.
 */
#define _GNU_SOURCE
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "engine/bt.h"
#include "check-main.h"
#include "cpu/emulate.h"
#include "trapeze/abi.h"
#include "cpu/vcpu.h"

#define FLAGS_ARITH 0x8d5ull     /* CF PF AF ZF SF OF */

static csh cs;
static uint8_t *region;          /* slots, then code */
static uint64_t *slots;
static uint8_t *code;
static uint64_t *table;
static uint8_t *buf;

static void setup(void)
{
	unsigned i;

	emulate_init();
	ck_assert_int_eq(cs_open(CS_ARCH_X86, CS_MODE_64, &cs), CS_ERR_OK);
	cs_option(cs, CS_OPT_DETAIL, CS_OPT_ON);
	region = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE | PROT_EXEC,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(region, MAP_FAILED);
	slots = (uint64_t *)region;
	code = region + 4096;
	table = malloc(65536 * sizeof(*table));
	ck_assert_ptr_nonnull(table);
	for (i = 0; i < 65536; i++)
		table[i] = bt_table_offset((uint64_t)i << 32);
	/* In the guest's window, where the table leaves addresses be (this
	 * process's heap is above it). */
	buf = mmap((void *)(TRAPEZE_GVA_LIMIT / 2), 3 * 4096,
		   PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	ck_assert_ptr_eq(buf, (void *)(TRAPEZE_GVA_LIMIT / 2));
}

static void teardown(void)
{
	munmap(region, 1 << 20);
	free(table);
	munmap(buf, 3 * 4096);
	cs_close(&cs);
}

/* The registers a test instruction may use, and those bt borrows first. */
struct regs {
	uint64_t rax, rcx, rdx, r9, r10, r11, flags;
};

/* Call code (which ends with ret) with these registers and CF = cf. */
static void run(const uint8_t *fn, struct regs *r, unsigned cf)
{
	register uint64_t r9 asm("r9") = r->r9;
	register uint64_t r10 asm("r10") = r->r10;
	register uint64_t r11 asm("r11") = r->r11;
	uint64_t rax = r->rax, rcx = r->rcx, rdx = r->rdx, fl, cin = cf;

	asm volatile("sub $128, %%rsp\n\t"      /* past the red zone */
		     "bt $0, %[cin]\n\t"
		     "call *%[fn]\n\t"
		     "pushfq\n\t"
		     "pop %[fl]\n\t"
		     "add $128, %%rsp"
		     : "+a"(rax), "+c"(rcx), "+d"(rdx), "+r"(r9), "+r"(r10),
		       "+r"(r11), [fl] "=&r"(fl)
		     : [fn] "r"(fn), [cin] "r"(cin)
		     /* the rewrite gives back every register it borrows */
		     : "memory", "cc");
	*r = (struct regs){ rax, rcx, rdx, r9, r10, r11, fl & FLAGS_ARITH };
}

static const cs_insn *decode_one(const char *bytes, size_t n)
{
	static cs_insn *insn;

	if (insn)
		cs_free(insn, 1);
	insn = NULL;
	ck_assert_uint_eq(cs_disasm(cs, (const uint8_t *)bytes, n, 0x401000,
				    1, &insn), 1);
	return insn;
}

#define DECODE(bytes) decode_one(bytes, sizeof(bytes) - 1)

/* Rewrite insn into the cache area, followed by ret. */
static size_t rewrite(const cs_insn *insn, const uint64_t *tbl,
		      uint8_t scratch[3])
{
	size_t n = bt_rewrite(cs, insn, insn->address, code, slots, tbl,
			      scratch);

	code[n] = 0xc3;
	return n;
}

/* The original and its rewrite, from the same registers (rdx pointing
 * at a copy of the same memory each time): same memory, same registers,
 * same flags. */
static void assert_same_as_native(const char *bytes, size_t len,
				  struct regs in, unsigned cf)
{
	const cs_insn *insn = decode_one(bytes, len);
	uint8_t native_mem[4096], scratch[3];
	uint8_t *native_code = code + 2048;
	struct regs a = in, b = in;
	size_t n;

	memset(buf, 0x5a, 4096);
	n = rewrite(insn, table, scratch);
	ck_assert_msg(n > 0, "%s %s was not rewritten", insn->mnemonic,
		      insn->op_str);
	memcpy(native_code, bytes, len);
	native_code[len] = 0xc3;

	a.rdx = (uint64_t)buf;
	run(native_code, &a, cf);
	memcpy(native_mem, buf, 4096);
	memset(buf, 0x5a, 4096);
	b.rdx = (uint64_t)buf;
	run(code, &b, cf);
	ck_assert_msg(memcmp(native_mem, buf, 4096) == 0,
		      "%s %s: memory differs", insn->mnemonic, insn->op_str);
	ck_assert_uint_eq(a.rax, b.rax);
	ck_assert_uint_eq(a.rcx, b.rcx);
	ck_assert_uint_eq(a.rdx, b.rdx);
	ck_assert_uint_eq(a.r9, b.r9);
	ck_assert_uint_eq(a.r10, b.r10);
	ck_assert_uint_eq(a.r11, b.r11);
	ck_assert_msg(a.flags == b.flags, "%s %s: flags %#llx, native %#llx",
		      insn->mnemonic, insn->op_str,
		      (unsigned long long)b.flags,
		      (unsigned long long)a.flags);
}

#define SAME_AS_NATIVE(bytes, regs, cf) \
	assert_same_as_native(bytes, sizeof(bytes) - 1, regs, cf)

static const struct regs sentinels = {
	.rax = 3, .rcx = 0x80000001, .rdx = 0,
	.r9 = 0x9999, .r10 = 0x1010, .r11 = 0x1111,
};

/* ---- the table ---- */

START_TEST(test_window_goes_to_its_alias_and_guest_window_to_itself)
{
	ck_assert_uint_eq(bt_rewritten_address(BT_WINDOW_BASE),
			  TRAPEZE_GVA_LIMIT);
	ck_assert_uint_eq(bt_rewritten_address(~0ull),
			  TRAPEZE_GVA_LIMIT + 0xffffffffull);
	ck_assert_uint_eq(bt_rewritten_address(0xfffffffffa0a0123ull),
			  TRAPEZE_GVA_LIMIT + 0xfa0a0123ull);
	ck_assert_uint_eq(bt_rewritten_address(0x10000), 0x10000);
	ck_assert_uint_eq(bt_rewritten_address(TRAPEZE_GVA_LIMIT - 1),
			  TRAPEZE_GVA_LIMIT - 1);
}
END_TEST

/* Could a user process have something mapped at a? */
static int host_mappable(uint64_t a)
{
	return a < (1ull << 47);
}

START_TEST(test_no_other_address_reaches_where_the_host_maps)
{
	static const uint64_t tops[] = { 0, 1, 0x1234, 0x7fff, 0x8000,
					 0xfffe, 0xffff };
	uint64_t i, t, lo;

	for (t = 0; t < sizeof(tops) / sizeof(tops[0]); t++)
		for (i = 0; i < 0x10000; i += 0x3f)
			for (lo = 0; lo < (1ull << 32); lo += 0x7fffffff) {
				uint64_t a = (tops[t] << 48) | (i << 32) | lo;
				uint64_t h = bt_rewritten_address(a);
				int canon_low = a < TRAPEZE_GVA_LIMIT;
				int in_window = a >= BT_WINDOW_BASE;

				if (canon_low)
					ck_assert_uint_eq(h, a);
				else if (in_window)
					ck_assert_uint_eq(h - TRAPEZE_GVA_LIMIT,
							  a - BT_WINDOW_BASE);
				else
					ck_assert_msg(!host_mappable(h),
						      "%#llx went to %#llx",
						      (unsigned long long)a,
						      (unsigned long long)h);
			}
}
END_TEST

/* ---- rewritten instructions, run ---- */

START_TEST(test_add_to_memory_matches_native_with_flags)
{
	/* add %ecx,0x10(%rdx,%rax,4) */
	SAME_AS_NATIVE("\x01\x4c\x82\x10", sentinels, 0);
}
END_TEST

START_TEST(test_adc_uses_the_carry_it_was_given)
{
	/* adc %ecx,0x10(%rdx,%rax,4) with CF clear and set */
	SAME_AS_NATIVE("\x11\x4c\x82\x10", sentinels, 0);
	SAME_AS_NATIVE("\x11\x4c\x82\x10", sentinels, 1);
}
END_TEST

START_TEST(test_store_with_immediate_keeps_the_immediate)
{
	/* movl $0x12345678,0x8(%rdx,%rax,8) */
	SAME_AS_NATIVE("\xc7\x44\xc2\x08\x78\x56\x34\x12", sentinels, 0);
	/* movb $0x0,(%rdx,%rax,1): the sieve's store */
	SAME_AS_NATIVE("\xc6\x04\x02\x00", sentinels, 0);
}
END_TEST

START_TEST(test_load_into_a_borrowable_register_is_not_clobbered)
{
	/* mov 0x20(%rdx),%r11 and movzbl (%rdx,%rax,1),%r10d */
	SAME_AS_NATIVE("\x4c\x8b\x5a\x20", sentinels, 0);
	SAME_AS_NATIVE("\x44\x0f\xb6\x14\x02", sentinels, 0);
}
END_TEST

START_TEST(test_cmp_with_memory_sets_flags_as_native)
{
	/* cmpb $0x5a,(%rdx,%rax,1) and cmp 0x8(%rdx),%rcx */
	SAME_AS_NATIVE("\x80\x3c\x02\x5a", sentinels, 0);
	SAME_AS_NATIVE("\x48\x3b\x4a\x08", sentinels, 0);
}
END_TEST

START_TEST(test_high_byte_register_takes_a_register_without_rex)
{
	uint8_t scratch[3];

	/* mov %ah,(%rdx): a REX prefix would make it %spl */
	SAME_AS_NATIVE("\x88\x22", ((struct regs){ .rax = 0x4142, .rcx = 1,
						    .r9 = 9, .r10 = 10,
						    .r11 = 11 }), 0);
	ck_assert_uint_gt(rewrite(DECODE("\x88\x22"), table, scratch), 0);
	ck_assert_uint_lt(scratch[0], R8);
}
END_TEST

START_TEST(test_the_offset_comes_from_the_table)
{
	static uint64_t shifted[65536];
	const cs_insn *insn = DECODE("\xc6\x04\x02\x00"); /* movb $0,(%rdx,%rax) */
	uint64_t i = ((uint64_t)buf >> 32) & 0xffff;
	struct regs r = sentinels;
	uint8_t scratch[3];

	memcpy(shifted, table, sizeof(shifted));
	shifted[i] = 4096;            /* this chunk, one page further */
	memset(buf, 0x5a, 3 * 4096);
	ck_assert_uint_gt(rewrite(insn, shifted, scratch), 0);
	r.rdx = (uint64_t)buf;
	r.rax = 7;
	run(code, &r, 0);
	ck_assert_uint_eq(buf[7], 0x5a);
	ck_assert_uint_eq(buf[4096 + 7], 0);
}
END_TEST

START_TEST(test_what_it_does_not_rewrite)
{
	uint8_t scratch[3];

	/* movsb: no ModRM operand to rewrite */
	ck_assert_uint_eq(rewrite(DECODE("\xa4"), table, scratch), 0);
	/* mov %fs:(%rax),%rbx: a segment base */
	ck_assert_uint_eq(rewrite(DECODE("\x64\x48\x8b\x18"), table, scratch),
			  0);
	/* mov (%eax),%ebx: 32-bit addressing */
	ck_assert_uint_eq(rewrite(DECODE("\x67\x8b\x18"), table, scratch), 0);
	/* vmovdqu (%rax),%ymm0: VEX */
	ck_assert_uint_eq(rewrite(DECODE("\xc5\xfe\x6f\x00"), table, scratch),
			  0);
	/* bts %rcx,(%rax): the bit offset reaches past the operand */
	ck_assert_uint_eq(rewrite(DECODE("\x48\x0f\xab\x08"), table, scratch),
			  0);
}
END_TEST

/* A RIP-relative access that wraps into the window goes through the
 * table too: here it reads this process's memory, which the table leaves
 * where it is. */
START_TEST(test_rip_relative_access_uses_the_address_it_names)
{
	const cs_insn *insn = DECODE("\x8b\x05\x10\x00\x00\x00");
	struct regs r = sentinels;
	uint8_t scratch[3];
	uint64_t want = 0x1122334455667788ull;
	size_t n;

	/* mov 0x10(%rip),%eax, as if it sat 0x16 bytes before buf + 8 */
	memcpy(buf + 8, &want, 8);
	n = bt_rewrite(cs, insn, (uint64_t)buf + 8 - 0x16, code, slots, table,
		       scratch);
	ck_assert_uint_gt(n, 0);
	code[n] = 0xc3;
	run(code, &r, 0);
	ck_assert_uint_eq(r.rax, 0x55667788);
	ck_assert_uint_eq(r.r11, sentinels.r11);
}
END_TEST

/* Prefix orders the CPU and Capstone 4 read differently, or that the
 * CPU partly ignores, are never copied. */
START_TEST(test_what_the_cpu_and_capstone_may_read_differently)
{
	uint8_t scratch[3];

	/* 66 f3 0f 7f 00: 66 and f3 together */
	ck_assert_uint_eq(rewrite(DECODE("\x66\xf3\x0f\x7f\x00"), table,
				  scratch), 0);
	/* 41 26 00 01: a REX before a segment prefix is ignored */
	ck_assert_uint_eq(rewrite(DECODE("\x41\x26\x00\x01"), table,
				  scratch), 0);
}
END_TEST

static Suite *bt_suite(void)
{
	Suite *s = suite_create("bt");
	TCase *t = tcase_create("table");
	TCase *r = tcase_create("rewrite");

	tcase_add_test(t, test_window_goes_to_its_alias_and_guest_window_to_itself);
	tcase_add_test(t, test_no_other_address_reaches_where_the_host_maps);
	suite_add_tcase(s, t);
	tcase_add_checked_fixture(r, setup, teardown);
	tcase_add_test(r, test_add_to_memory_matches_native_with_flags);
	tcase_add_test(r, test_adc_uses_the_carry_it_was_given);
	tcase_add_test(r, test_store_with_immediate_keeps_the_immediate);
	tcase_add_test(r, test_load_into_a_borrowable_register_is_not_clobbered);
	tcase_add_test(r, test_cmp_with_memory_sets_flags_as_native);
	tcase_add_test(r, test_high_byte_register_takes_a_register_without_rex);
	tcase_add_test(r, test_the_offset_comes_from_the_table);
	tcase_add_test(r, test_what_it_does_not_rewrite);
	tcase_add_test(r, test_rip_relative_access_uses_the_address_it_names);
	tcase_add_test(r, test_what_the_cpu_and_capstone_may_read_differently);
	suite_add_tcase(s, r);
	return s;
}

CHECK_MAIN(bt_suite)
