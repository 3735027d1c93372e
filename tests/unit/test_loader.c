/*
 * The guest loader: ELF64, ELF32 and multiboot images built in memory by
 * each test, accepted or refused with the one line the user would see;
 * the size parser of --mem; and the boot states (the Trapeze ABI's boot
 * info and identity map, checked through the shadow MMU's walker, and
 * multiboot's protected-mode entry and information block) on a test VM.
 */
#include <check.h>
#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check-main.h"
#include "harness.h"
#include "core/loader.h"
#include "trapeze/abi.h"
#include "trapeze/multiboot.h"

#define RAM      (64ull << 20)
#define TEXT     0x200000ull
#define ENTRY    (TEXT + 0x10)
#define NOTE_OFF 0x800       /* PT_NOTE contents in the file */
#define DATA_OFF 0x1000      /* PT_LOAD contents in the file */
#define IMG_LEN  0x2000

/* An image: the ELF header, its program headers, a note area at
 * NOTE_OFF and segment bytes at DATA_OFF. */
static uint8_t buf[IMG_LEN];
static Elf64_Ehdr *eh = (Elf64_Ehdr *)buf;
static struct boot_image img;
static char err[256];

static Elf64_Phdr *phdr(unsigned i)
{
	return (Elf64_Phdr *)(buf + sizeof(Elf64_Ehdr)) + i;
}

static Elf64_Phdr *add_phdr(uint32_t type, uint64_t offset, uint64_t paddr,
			    uint64_t filesz, uint64_t memsz)
{
	Elf64_Phdr *ph = phdr(eh->e_phnum++);

	*ph = (Elf64_Phdr){ .p_type = type, .p_flags = PF_R | PF_X,
			    .p_offset = offset, .p_vaddr = paddr,
			    .p_paddr = paddr, .p_filesz = filesz,
			    .p_memsz = memsz, .p_align = 0x1000 };
	return ph;
}

/* A static x86-64 executable with no program headers yet. */
static void new_image(uint64_t entry)
{
	memset(buf, 0, sizeof(buf));
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_ident[EI_VERSION] = EV_CURRENT;
	eh->e_type = ET_EXEC;
	eh->e_machine = EM_X86_64;
	eh->e_version = EV_CURRENT;
	eh->e_entry = entry;
	eh->e_phoff = sizeof(Elf64_Ehdr);
	eh->e_phentsize = sizeof(Elf64_Phdr);
	eh->e_ehsize = sizeof(Elf64_Ehdr);
}

/* One note at NOTE_OFF + at; returns the offset after it. */
static size_t put_note(size_t at, const char *name, uint32_t namesz,
		       uint32_t type, uint64_t desc)
{
	Elf64_Nhdr n = { .n_namesz = namesz, .n_descsz = 8, .n_type = type };
	uint8_t *p = buf + NOTE_OFF + at;

	memcpy(p, &n, sizeof(n));
	memcpy(p + sizeof(n), name, namesz);
	p += sizeof(n) + ((namesz + 3) & ~3u);
	memcpy(p, &desc, 8);
	return at + sizeof(n) + ((namesz + 3) & ~3u) + 8;
}

/* The usual guest: one text segment of 4 KiB at 2 MiB. */
static void setup(void)
{
	new_image(ENTRY);
	add_phdr(PT_LOAD, DATA_OFF, TEXT, 0x1000, 0x1000);
	memset(&img, 0xcc, sizeof(img));
	err[0] = 0;
}

static int parse_len(size_t len)
{
	return loader_parse(buf, len, RAM, &img, err, sizeof(err));
}

static int parse(void)
{
	return parse_len(sizeof(buf));
}

#define assert_accepted() \
	ck_assert_msg(parse() == 0, "refused: %s", err)

static void assert_refused(const char *why)
{
	ck_assert_int_eq(parse(), -1);
	ck_assert_msg(strstr(err, why) != NULL, "error \"%s\" lacks \"%s\"",
		      err, why);
}

/* ---- accepted images ---- */

START_TEST(test_static_image_gives_segments_extent_and_e_entry)
{
	add_phdr(PT_LOAD, DATA_OFF, 0x400000, 0x100, 0x3000);  /* data+bss */
	assert_accepted();
	ck_assert_uint_eq(img.nseg, 2);
	ck_assert_uint_eq(img.seg[0].paddr, TEXT);
	ck_assert_uint_eq(img.seg[0].memsz, 0x1000);
	ck_assert_uint_eq(img.seg[0].filesz, 0x1000);
	ck_assert_uint_eq(img.seg[0].offset, DATA_OFF);
	ck_assert_uint_eq(img.start, TEXT);
	ck_assert_uint_eq(img.end, 0x403000);
	ck_assert_uint_eq(img.entry, ENTRY);
	ck_assert_int_eq(img.entry_from_note, 0);
}
END_TEST

START_TEST(test_bss_segment_keeps_memsz_larger_than_filesz)
{
	add_phdr(PT_LOAD, DATA_OFF + 0x800, 0x300000, 0x10, 0x2000);
	assert_accepted();
	ck_assert_uint_eq(img.seg[1].paddr, 0x300000);
	ck_assert_uint_eq(img.seg[1].filesz, 0x10);
	ck_assert_uint_eq(img.seg[1].memsz, 0x2000);
	ck_assert_uint_eq(img.seg[1].offset, DATA_OFF + 0x800);
}
END_TEST

START_TEST(test_start_is_the_lowest_segment_whatever_the_order)
{
	add_phdr(PT_LOAD, DATA_OFF, 0x180000, 0x1000, 0x1000);
	assert_accepted();
	ck_assert_uint_eq(img.start, 0x180000);
	ck_assert_uint_eq(img.end, TEXT + 0x1000);
}
END_TEST

START_TEST(test_trapeze_note_entry_overrides_e_entry)
{
	size_t n = put_note(0, TRAPEZE_NOTE_NAME, sizeof(TRAPEZE_NOTE_NAME),
			    TRAPEZE_NOTE_ENTRY64, TEXT + 0x100);

	ck_assert_uint_eq(sizeof(TRAPEZE_NOTE_NAME), 8);
	add_phdr(PT_NOTE, NOTE_OFF, 0, n, n);
	assert_accepted();
	ck_assert_uint_eq(img.entry, TEXT + 0x100);
	ck_assert_int_eq(img.entry_from_note, 1);
}
END_TEST

START_TEST(test_trapeze_note_is_found_after_another_vendors_note)
{
	size_t n = put_note(0, "Xen", 4, TRAPEZE_NOTE_ENTRY64, TEXT + 0x200);

	n = put_note(n, "Trapeze", 8, TRAPEZE_NOTE_ENTRY64, TEXT + 0x300);
	add_phdr(PT_NOTE, NOTE_OFF, 0, n, n);
	assert_accepted();
	ck_assert_uint_eq(img.entry, TEXT + 0x300);
}
END_TEST

START_TEST(test_another_vendors_note_leaves_e_entry)
{
	size_t n = put_note(0, "Xen", 4, TRAPEZE_NOTE_ENTRY64, TEXT + 0x200);

	add_phdr(PT_NOTE, NOTE_OFF, 0, n, n);
	assert_accepted();
	ck_assert_uint_eq(img.entry, ENTRY);
	ck_assert_int_eq(img.entry_from_note, 0);
}
END_TEST

START_TEST(test_segment_ending_exactly_at_the_end_of_ram_is_accepted)
{
	add_phdr(PT_LOAD, DATA_OFF, RAM - 0x1000, 0x1000, 0x1000);
	assert_accepted();
	ck_assert_uint_eq(img.end, RAM);
}
END_TEST

START_TEST(test_segment_at_1_mib_is_accepted)
{
	add_phdr(PT_LOAD, DATA_OFF, TRAPEZE_LOAD_MIN, 0x1000, 0x1000);
	assert_accepted();
	ck_assert_uint_eq(img.start, TRAPEZE_LOAD_MIN);
}
END_TEST

/* ---- refused images ---- */

START_TEST(test_wrong_magic_is_not_an_elf_file)
{
	buf[EI_MAG1] = 'F';
	assert_refused("not an ELF file");
}
END_TEST

START_TEST(test_file_shorter_than_the_ident_is_not_an_elf_file)
{
	ck_assert_int_eq(parse_len(8), -1);
	ck_assert_ptr_nonnull(strstr(err, "not an ELF file"));
}
END_TEST

START_TEST(test_elfclass32_is_refused_as_32bit)
{
	eh->e_ident[EI_CLASS] = ELFCLASS32;
	assert_refused("32-bit ELF");
}
END_TEST

START_TEST(test_other_machine_is_refused_as_not_x86_64)
{
	eh->e_machine = EM_AARCH64;
	assert_refused("not an x86-64 ELF file (machine 183)");
}
END_TEST

START_TEST(test_big_endian_is_refused_as_not_x86_64)
{
	eh->e_ident[EI_DATA] = ELFDATA2MSB;
	assert_refused("not an x86-64");
}
END_TEST

START_TEST(test_et_dyn_is_refused)
{
	eh->e_type = ET_DYN;
	assert_refused("ET_DYN");
}
END_TEST

START_TEST(test_pt_interp_is_refused)
{
	add_phdr(PT_INTERP, NOTE_OFF, 0, 28, 28);
	assert_refused("has PT_INTERP");
}
END_TEST

START_TEST(test_pt_dynamic_is_refused)
{
	add_phdr(PT_DYNAMIC, NOTE_OFF, TEXT, 0x100, 0x100);
	assert_refused("has PT_DYNAMIC");
}
END_TEST

START_TEST(test_truncated_program_header_table_is_refused)
{
	ck_assert_int_eq(parse_len(sizeof(Elf64_Ehdr) + sizeof(Elf64_Phdr) - 1),
			 -1);
	ck_assert_msg(strstr(err, "truncated program header table") != NULL,
		      "%s", err);
}
END_TEST

START_TEST(test_program_headers_past_the_file_are_refused)
{
	eh->e_phoff = IMG_LEN - sizeof(Elf64_Phdr) / 2;
	assert_refused("truncated program header table");
}
END_TEST

START_TEST(test_segment_past_the_end_of_the_file_is_refused)
{
	ck_assert_int_eq(parse_len(DATA_OFF + 0x800), -1);
	ck_assert_msg(strstr(err, "segment 0 lies past the end of the file"),
		      "%s", err);
}
END_TEST

START_TEST(test_segment_ending_past_guest_ram_names_the_ram_size)
{
	add_phdr(PT_LOAD, DATA_OFF, RAM - 0x800, 0x800, 0x1000);
	assert_refused("segment 1 ends past guest RAM (64 MiB)");
}
END_TEST

START_TEST(test_segment_starting_past_guest_ram_is_refused)
{
	add_phdr(PT_LOAD, DATA_OFF, RAM, 0x1000, 0x1000);
	assert_refused("segment 1 ends past guest RAM (64 MiB)");
}
END_TEST

START_TEST(test_segment_whose_end_wraps_around_is_refused)
{
	add_phdr(PT_LOAD, DATA_OFF, TEXT, 0x1000, ~0ull - 0x1000);
	assert_refused("ends past guest RAM");
}
END_TEST

START_TEST(test_segment_below_1_mib_is_refused)
{
	phdr(0)->p_paddr = phdr(0)->p_vaddr = TRAPEZE_LOAD_MIN - 0x1000;
	eh->e_entry = TRAPEZE_LOAD_MIN - 0x1000;
	assert_refused("below 1 MiB");
}
END_TEST

START_TEST(test_filesz_larger_than_memsz_is_refused)
{
	phdr(0)->p_memsz = 0x800;
	assert_refused("file size exceeds memory size");
}
END_TEST

START_TEST(test_entry_in_a_segment_linked_elsewhere_is_refused)
{
	phdr(0)->p_vaddr = 0xffffffff80000000ull + TEXT;
	assert_refused("linked at another address than it is loaded at");
}
END_TEST

START_TEST(test_a_segment_linked_elsewhere_loads_at_its_physical_address)
{
	/* e.g. user programs a kernel maps later at their own addresses */
	Elf64_Phdr *ph = add_phdr(PT_LOAD, DATA_OFF, 0x400000, 0x100, 0x1000);

	ph->p_vaddr = 0x1000000000ull;
	assert_accepted();
	ck_assert_uint_eq(img.seg[1].paddr, 0x400000);
	ck_assert_uint_eq(img.seg[1].vaddr, 0x1000000000ull);
}
END_TEST

START_TEST(test_image_without_a_loadable_segment_is_refused)
{
	phdr(0)->p_type = PT_NOTE;
	assert_refused("no loadable segment");
}
END_TEST

START_TEST(test_empty_pt_load_does_not_count_as_loadable)
{
	phdr(0)->p_filesz = 0;
	phdr(0)->p_memsz = 0;
	assert_refused("no loadable segment");
}
END_TEST

START_TEST(test_entry_outside_every_segment_is_refused)
{
	eh->e_entry = 0x300000;
	assert_refused("entry point 0x300000 is outside every loaded segment");
}
END_TEST

START_TEST(test_entry_just_past_the_segment_end_is_refused)
{
	eh->e_entry = TEXT + 0x1000;
	assert_refused("outside every loaded segment");
}
END_TEST

START_TEST(test_note_entry_outside_every_segment_is_refused)
{
	size_t n = put_note(0, "Trapeze", 8, TRAPEZE_NOTE_ENTRY64, 0x500000);

	add_phdr(PT_NOTE, NOTE_OFF, 0, n, n);
	assert_refused("entry point 0x500000");
}
END_TEST

/* ---- multiboot ---- */

/* A multiboot header at file offset off. */
static struct mb_header *put_mb(size_t off, uint32_t flags)
{
	struct mb_header *h = (struct mb_header *)(buf + off);

	h->magic = MB_HEADER_MAGIC;
	h->flags = flags;
	h->checksum = -(MB_HEADER_MAGIC + flags);
	return h;
}

/* A flat image with the address fields: header at 0x40 of a file loaded
 * at 2 MiB, 4 KiB from the file, 4 KiB more of bss. */
static void flat_image(void)
{
	struct mb_header *h;

	memset(buf, 0, sizeof(buf));
	h = put_mb(0x40, MB_HDR_ADDRESS);
	h->header_addr = TEXT + 0x40;
	h->load_addr = TEXT;
	h->load_end_addr = TEXT + 0x1000;
	h->bss_end_addr = TEXT + 0x2000;
	h->entry_addr = TEXT + 0x100;
}

START_TEST(test_address_fields_give_one_segment_and_the_entry)
{
	flat_image();
	assert_accepted();
	ck_assert_int_eq(img.proto, BOOT_MULTIBOOT);
	ck_assert_uint_eq(img.nseg, 1);
	ck_assert_uint_eq(img.seg[0].paddr, TEXT);
	ck_assert_uint_eq(img.seg[0].offset, 0);
	ck_assert_uint_eq(img.seg[0].filesz, 0x1000);
	ck_assert_uint_eq(img.seg[0].memsz, 0x2000);
	ck_assert_uint_eq(img.entry, TEXT + 0x100);
}
END_TEST

START_TEST(test_address_fields_with_load_end_zero_load_the_rest_of_the_file)
{
	flat_image();
	((struct mb_header *)(buf + 0x40))->load_end_addr = 0;
	((struct mb_header *)(buf + 0x40))->bss_end_addr = 0;
	assert_accepted();
	ck_assert_uint_eq(img.seg[0].filesz, IMG_LEN);
	ck_assert_uint_eq(img.seg[0].memsz, IMG_LEN);
}
END_TEST

START_TEST(test_address_fields_past_the_file_are_refused)
{
	flat_image();
	((struct mb_header *)(buf + 0x40))->load_end_addr = TEXT + 0x10000;
	((struct mb_header *)(buf + 0x40))->bss_end_addr = 0;
	assert_refused("past the end of the file");
}
END_TEST

START_TEST(test_multiboot_header_with_a_bad_checksum_is_refused)
{
	flat_image();
	((struct mb_header *)(buf + 0x40))->checksum++;
	assert_refused("multiboot header at file offset 0x40 has a bad "
		       "checksum");
}
END_TEST

START_TEST(test_multiboot_video_mode_is_refused)
{
	flat_image();
	put_mb(0x40, MB_HDR_ADDRESS | MB_HDR_VIDEO);
	assert_refused("video mode (flag 2)");
}
END_TEST

START_TEST(test_unknown_required_multiboot_flag_is_refused)
{
	flat_image();
	put_mb(0x40, MB_HDR_ADDRESS | (1u << 15));
	assert_refused("requires flag 15");
}
END_TEST

START_TEST(test_unknown_optional_multiboot_flag_is_ignored)
{
	flat_image();
	put_mb(0x40, MB_HDR_ADDRESS | (1u << 20));
	assert_accepted();
	ck_assert_int_eq(img.proto, BOOT_MULTIBOOT);
}
END_TEST

START_TEST(test_elf64_with_a_multiboot_header_and_no_note_is_multiboot)
{
	put_mb(DATA_OFF, 0);
	assert_accepted();
	ck_assert_int_eq(img.proto, BOOT_MULTIBOOT);
	ck_assert_uint_eq(img.entry, ENTRY);
	ck_assert_uint_eq(img.seg[0].paddr, TEXT);
}
END_TEST

START_TEST(test_the_trapeze_note_wins_over_a_multiboot_header)
{
	size_t n = put_note(0, "Trapeze", 8, TRAPEZE_NOTE_ENTRY64, ENTRY + 4);

	add_phdr(PT_NOTE, NOTE_OFF, 0, n, n);
	put_mb(DATA_OFF, MB_HDR_VIDEO)->checksum++;   /* bad twice over */
	assert_accepted();
	ck_assert_int_eq(img.proto, BOOT_TRAPEZE);
	ck_assert_uint_eq(img.entry, ENTRY + 4);
}
END_TEST

START_TEST(test_elf32_multiboot_kernel_loads_at_paddr_and_enters_physically)
{
	Elf32_Ehdr *e = (Elf32_Ehdr *)buf;
	Elf32_Phdr *p = (Elf32_Phdr *)(buf + sizeof(*e));

	memset(buf, 0, sizeof(buf));
	memcpy(e->e_ident, ELFMAG, SELFMAG);
	e->e_ident[EI_CLASS] = ELFCLASS32;
	e->e_ident[EI_DATA] = ELFDATA2LSB;
	e->e_type = ET_EXEC;
	e->e_machine = EM_386;
	e->e_entry = 0xc0000010;          /* linked high, loaded at 2 MiB */
	e->e_phoff = sizeof(*e);
	e->e_phentsize = sizeof(*p);
	e->e_phnum = 1;
	*p = (Elf32_Phdr){ .p_type = PT_LOAD, .p_offset = DATA_OFF,
			   .p_vaddr = 0xc0000000, .p_paddr = TEXT,
			   .p_filesz = 0x1000, .p_memsz = 0x3000 };
	put_mb(DATA_OFF, MB_HDR_PAGE_ALIGN | MB_HDR_MEMORY);
	assert_accepted();
	ck_assert_int_eq(img.proto, BOOT_MULTIBOOT);
	ck_assert_uint_eq(img.entry, TEXT + 0x10);
	ck_assert_uint_eq(img.seg[0].memsz, 0x3000);
	ck_assert_uint_eq(img.end, TEXT + 0x3000);
}
END_TEST

START_TEST(test_elf32_without_a_multiboot_header_is_refused)
{
	eh->e_ident[EI_CLASS] = ELFCLASS32;
	assert_refused("32-bit ELF without a multiboot header");
}
END_TEST

/* ---- sizes ---- */

START_TEST(test_parse_size_understands_units)
{
	ck_assert_uint_eq(parse_size("64M"), 64ull << 20);
	ck_assert_uint_eq(parse_size("1G"), 1ull << 30);
	ck_assert_uint_eq(parse_size("512K"), 512ull << 10);
	ck_assert_uint_eq(parse_size("2MiB"), 2ull << 20);
	ck_assert_uint_eq(parse_size("4096"), 4096);
}
END_TEST

START_TEST(test_parse_size_rejects_what_is_not_a_size)
{
	ck_assert_uint_eq(parse_size(""), 0);
	ck_assert_uint_eq(parse_size("abc"), 0);
	ck_assert_uint_eq(parse_size("-5"), 0);
	ck_assert_uint_eq(parse_size("12Q"), 0);
	ck_assert_uint_eq(parse_size("64MB!"), 0);
}
END_TEST

START_TEST(test_parse_size_rejects_a_size_that_overflows_64_bits)
{
	/* (2^34 + 1) GiB = 2^64 + 2^30: must not wrap to 1 GiB. */
	ck_assert_uint_eq(parse_size("17179869185G"), 0);
}
END_TEST

/* ---- files ---- */

START_TEST(test_load_file_of_a_missing_path_says_no_such_file)
{
	struct vm *vm = harness_vm();

	ck_assert_int_eq(loader_load_file(vm, "/nonexistent/guest.elf", &img,
					  err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "No such file") != NULL, "%s", err);
}
END_TEST

START_TEST(test_load_file_of_a_directory_is_refused)
{
	struct vm *vm = harness_vm();

	ck_assert_int_eq(loader_load_file(vm, "/tmp", &img, err, sizeof(err)),
			 -1);
	ck_assert_msg(strstr(err, "not a regular file") != NULL, "%s", err);
}
END_TEST

START_TEST(test_load_file_copies_segments_and_zeroes_bss)
{
	struct vm *vm = harness_vm();
	char path[] = "/tmp/trapeze-loader-XXXXXX";
	int fd = mkstemp(path);
	unsigned i;

	ck_assert_int_ge(fd, 0);
	for (i = 0; i < 0x1000; i++)
		buf[DATA_OFF + i] = (uint8_t)(i * 7 + 1);
	add_phdr(PT_LOAD, DATA_OFF + 0x800, 0x300000, 0x10, 0x2000);
	ck_assert_int_eq(write(fd, buf, sizeof(buf)), (ssize_t)sizeof(buf));
	close(fd);
	memset(vm->ram + 0x300000, 0xaa, 0x3000);
	memset(vm->ram + TEXT, 0xaa, 0x1000);

	ck_assert_msg(loader_load_file(vm, path, &img, err, sizeof(err)) == 0,
		      "%s", err);
	unlink(path);
	ck_assert_mem_eq(vm->ram + TEXT, buf + DATA_OFF, 0x1000);
	ck_assert_mem_eq(vm->ram + 0x300000, buf + DATA_OFF + 0x800, 0x10);
	for (i = 0x10; i < 0x2000; i++)
		ck_assert_uint_eq(vm->ram[0x300000 + i], 0);
	ck_assert_uint_eq(vm->ram[0x302000], 0xaa);   /* past memsz */
}
END_TEST

/* ---- boot state ---- */

static struct vm *vm;
static const struct boot_image boot_img = {
	.entry = CODE_GPA + 0x40, .start = CODE_GPA, .end = CODE_GPA + 0x5000,
	.nseg = 1,
};

static void boot_setup(void)
{
	vm = harness_vm();
	vm_boot(vm, &boot_img);
}

static enum walk_status walk(uint64_t gva, struct walk *w)
{
	struct paging pg;

	vcpu_paging(&vm->cpu, &pg);
	return shadow_walk(vm->mmu, &pg, gva, ACC_READ, w);
}

START_TEST(test_boot_map_translates_gva_0x200000_to_the_same_gpa)
{
	struct walk w;

	ck_assert_int_eq(walk(0x200000, &w), WALK_OK);
	ck_assert_uint_eq(w.gpa, 0x200000);
	ck_assert_int_eq(walk(0x345678, &w), WALK_OK);   /* 2 MiB page */
	ck_assert_uint_eq(w.gpa, 0x345678);
	ck_assert(w.writable);
	ck_assert(!w.user);
}
END_TEST

START_TEST(test_boot_map_leaves_page_0_absent_and_maps_page_1)
{
	struct walk w;

	ck_assert_int_eq(walk(0x0, &w), WALK_FAULT);
	ck_assert_uint_eq(w.pf_err & PFERR_P, 0);
	ck_assert_int_eq(walk(0xfff, &w), WALK_FAULT);
	ck_assert_int_eq(walk(0x1000, &w), WALK_OK);
	ck_assert_uint_eq(w.gpa, 0x1000);
	ck_assert_uint_eq(w.page_size, 4096);
	ck_assert_int_eq(walk(0x1fffff, &w), WALK_OK);
	ck_assert_uint_eq(w.gpa, 0x1fffff);
}
END_TEST

START_TEST(test_boot_map_ends_at_the_end_of_ram)
{
	struct walk w;

	ck_assert_int_eq(walk(vm->ram_size - 1, &w), WALK_OK);
	ck_assert_uint_eq(w.gpa, vm->ram_size - 1);
	ck_assert_int_eq(walk(vm->ram_size, &w), WALK_FAULT);
	ck_assert_uint_eq(w.pf_err & PFERR_P, 0);
}
END_TEST

START_TEST(test_boot_info_has_magic_version_ram_size_and_command_line)
{
	const struct trapeze_boot_info *bi;

	vm->opt.append = "console=com1 loglevel=3";
	vm_boot(vm, &boot_img);
	bi = (const void *)(vm->ram + TRAPEZE_BOOT_INFO_GPA);
	ck_assert_uint_eq(bi->magic, TRAPEZE_BOOT_MAGIC);
	ck_assert_uint_eq(bi->version, TRAPEZE_ABI_VERSION);
	ck_assert_uint_eq(bi->ram_size, 16ull << 20);
	ck_assert_uint_eq(bi->cmdline, TRAPEZE_CMDLINE_GPA);
	ck_assert_str_eq((const char *)vm->ram + bi->cmdline,
			 "console=com1 loglevel=3");
	ck_assert_uint_eq(bi->image_start, CODE_GPA);
	ck_assert_uint_eq(bi->image_end, CODE_GPA + 0x5000);
	ck_assert_uint_eq(bi->pt_start, TRAPEZE_BOOT_PT_GPA);
	ck_assert_uint_gt(bi->pt_end, bi->pt_start);
	ck_assert_uint_le(bi->pt_end, TRAPEZE_BOOT_STACK_TOP);
	ck_assert(bi->features & TRAPEZE_FEAT_HYPERCALL);
}
END_TEST

/* TRAPEZE_FEAT_ZERO_RAM is a promise: every byte from 1 MiB up outside
 * the image is zero at entry, with the rest of the boot state in place. */
START_TEST(test_ram_above_1m_outside_the_image_is_zero_at_entry)
{
	const struct trapeze_boot_info *bi;
	uint64_t a;

	vm->opt.append = "verbose";
	vm_boot(vm, &boot_img);
	bi = (const void *)(vm->ram + TRAPEZE_BOOT_INFO_GPA);
	ck_assert(bi->features & TRAPEZE_FEAT_ZERO_RAM);
	ck_assert_uint_ge(bi->image_start, TRAPEZE_LOAD_MIN);
	for (a = TRAPEZE_LOAD_MIN; a < vm->ram_size; a++)
		if ((a < bi->image_start || a >= bi->image_end) && vm->ram[a])
			break;
	ck_assert_msg(a == vm->ram_size, "RAM at 0x%llx is not zero",
		      (unsigned long long)a);
}
END_TEST

START_TEST(test_boot_without_append_gives_an_empty_command_line)
{
	memset(vm->ram + TRAPEZE_CMDLINE_GPA, 'x', 16);
	vm->opt.append = NULL;
	vm_boot(vm, &boot_img);
	ck_assert_str_eq((const char *)vm->ram + TRAPEZE_CMDLINE_GPA, "");
}
END_TEST

START_TEST(test_long_command_line_is_cut_to_the_abi_maximum)
{
	static char line[TRAPEZE_CMDLINE_MAX + 100];

	memset(line, 'a', sizeof(line) - 1);
	line[sizeof(line) - 1] = 0;
	vm->opt.append = line;
	vm_boot(vm, &boot_img);
	ck_assert_uint_eq(strlen((const char *)vm->ram + TRAPEZE_CMDLINE_GPA),
			  TRAPEZE_CMDLINE_MAX - 1);
}
END_TEST

START_TEST(test_boot_enters_at_the_image_entry_with_boot_info_in_rdi)
{
	ck_assert_uint_eq(vm->cpu.rip, CODE_GPA + 0x40);
	ck_assert_uint_eq(vm->cpu.gpr[RDI], TRAPEZE_BOOT_INFO_GPA);
	ck_assert_uint_eq(vm->cpu.gpr[RSP], TRAPEZE_BOOT_STACK_TOP);
	ck_assert_uint_eq(vm->cpu.cr3, TRAPEZE_BOOT_PT_GPA);
	ck_assert_uint_eq(vm->cpu.seg[SR_CS].sel, TRAPEZE_BOOT_CS);
	ck_assert_uint_eq(vm->cpu.seg[SR_SS].sel, TRAPEZE_BOOT_DS);
	ck_assert_uint_eq(vm->cpu.gdtr.base, TRAPEZE_BOOT_GDT_GPA);
	ck_assert(!(vm->cpu.rflags & RFLAGS_IF));
}
END_TEST

static const struct boot_image mb_img = {
	.proto = BOOT_MULTIBOOT, .entry = CODE_GPA + 0x40, .start = CODE_GPA,
	.end = CODE_GPA + 0x5000, .nseg = 1,
	.mod_start = CODE_GPA + 0x5000, .mod_end = CODE_GPA + 0x5123,
};

START_TEST(test_multiboot_entry_is_protected_mode_with_paging_off)
{
	const struct vcpu *v = &vm->cpu;

	vm->opt.guest_path = "kernel.elf";
	vm_boot(vm, &mb_img);
	ck_assert_int_eq(vcpu_mode(v), MODE_PROT32);
	ck_assert_uint_eq(v->rip, CODE_GPA + 0x40);
	ck_assert_uint_eq(v->gpr[RAX], MB_BOOT_MAGIC);
	ck_assert_uint_eq(v->gpr[RBX], 0x9000);
	ck_assert_uint_eq(v->cr0 & (CR0_PE | CR0_PG), CR0_PE);
	ck_assert_uint_eq(v->efer, 0);
	ck_assert_uint_eq(v->cr4, 0);
	ck_assert(v->seg[SR_CS].attr & SEG_DB);
	ck_assert_uint_eq(v->seg[SR_CS].limit, 0xffffffff);
	ck_assert_uint_eq(v->seg[SR_CS].base, 0);
	ck_assert_uint_eq(v->seg[SR_DS].sel, 0x10);
	ck_assert(!(v->rflags & RFLAGS_IF));
	/* The boot GDT the selectors come from is in guest RAM. */
	ck_assert_uint_eq(harness_peek64(vm, v->gdtr.base + 8),
			  0x00cf9b000000ffffull);
}
END_TEST

START_TEST(test_multiboot_info_has_memory_map_command_line_and_module)
{
	const struct mb_info *mbi = (const void *)(vm->ram + 0x9000);
	const struct mb_mmap_entry *mm;
	const struct mb_module *mod;

	vm->opt.guest_path = "kernel.elf";
	vm->opt.append = "a=1 b";
	vm->opt.initrd = "env.txt";
	vm_boot(vm, &mb_img);
	ck_assert(mbi->flags & MB_INFO_MEMORY);
	ck_assert_uint_eq(mbi->mem_lower, 639);
	ck_assert_uint_eq(mbi->mem_upper, (16 << 10) - 1024);
	ck_assert_str_eq((const char *)vm->ram + mbi->cmdline,
			 "kernel.elf a=1 b");
	ck_assert(mbi->flags & MB_INFO_MMAP);
	mm = (const struct mb_mmap_entry *)(vm->ram + mbi->mmap_addr +
					     mbi->mmap_length) - 1;
	ck_assert_uint_eq(mm->addr, 0x100000);
	ck_assert_uint_eq(mm->addr + mm->len, 16ull << 20);
	ck_assert_uint_eq(mm->type, MB_MMAP_AVAILABLE);
	ck_assert_uint_eq(mbi->mods_count, 1);
	mod = (const void *)(vm->ram + mbi->mods_addr);
	ck_assert_uint_eq(mod->mod_start, CODE_GPA + 0x5000);
	ck_assert_uint_eq(mod->mod_end, CODE_GPA + 0x5123);
	ck_assert_str_eq((const char *)vm->ram + mod->string, "env.txt");
	ck_assert_str_eq((const char *)vm->ram + mbi->boot_loader_name,
			 "trapeze");
}
END_TEST

static Suite *loader_suite(void)
{
	Suite *s = suite_create("loader");
	TCase *t;

	t = tcase_create("multiboot");
	tcase_add_checked_fixture(t, setup, NULL);
	tcase_add_test(t, test_address_fields_give_one_segment_and_the_entry);
	tcase_add_test(t, test_address_fields_with_load_end_zero_load_the_rest_of_the_file);
	tcase_add_test(t, test_address_fields_past_the_file_are_refused);
	tcase_add_test(t, test_multiboot_header_with_a_bad_checksum_is_refused);
	tcase_add_test(t, test_multiboot_video_mode_is_refused);
	tcase_add_test(t, test_unknown_required_multiboot_flag_is_refused);
	tcase_add_test(t, test_unknown_optional_multiboot_flag_is_ignored);
	tcase_add_test(t, test_elf64_with_a_multiboot_header_and_no_note_is_multiboot);
	tcase_add_test(t, test_the_trapeze_note_wins_over_a_multiboot_header);
	tcase_add_test(t, test_elf32_multiboot_kernel_loads_at_paddr_and_enters_physically);
	tcase_add_test(t, test_elf32_without_a_multiboot_header_is_refused);
	suite_add_tcase(s, t);

	t = tcase_create("accepted images");
	tcase_add_checked_fixture(t, setup, NULL);
	tcase_add_test(t, test_static_image_gives_segments_extent_and_e_entry);
	tcase_add_test(t, test_bss_segment_keeps_memsz_larger_than_filesz);
	tcase_add_test(t, test_start_is_the_lowest_segment_whatever_the_order);
	tcase_add_test(t, test_trapeze_note_entry_overrides_e_entry);
	tcase_add_test(t, test_trapeze_note_is_found_after_another_vendors_note);
	tcase_add_test(t, test_another_vendors_note_leaves_e_entry);
	tcase_add_test(t,
		test_segment_ending_exactly_at_the_end_of_ram_is_accepted);
	tcase_add_test(t, test_segment_at_1_mib_is_accepted);
	suite_add_tcase(s, t);

	t = tcase_create("refused images");
	tcase_add_checked_fixture(t, setup, NULL);
	tcase_add_test(t, test_wrong_magic_is_not_an_elf_file);
	tcase_add_test(t, test_file_shorter_than_the_ident_is_not_an_elf_file);
	tcase_add_test(t, test_elfclass32_is_refused_as_32bit);
	tcase_add_test(t, test_other_machine_is_refused_as_not_x86_64);
	tcase_add_test(t, test_big_endian_is_refused_as_not_x86_64);
	tcase_add_test(t, test_et_dyn_is_refused);
	tcase_add_test(t, test_pt_interp_is_refused);
	tcase_add_test(t, test_pt_dynamic_is_refused);
	tcase_add_test(t, test_truncated_program_header_table_is_refused);
	tcase_add_test(t, test_program_headers_past_the_file_are_refused);
	tcase_add_test(t, test_segment_past_the_end_of_the_file_is_refused);
	tcase_add_test(t, test_segment_ending_past_guest_ram_names_the_ram_size);
	tcase_add_test(t, test_segment_starting_past_guest_ram_is_refused);
	tcase_add_test(t, test_segment_whose_end_wraps_around_is_refused);
	tcase_add_test(t, test_segment_below_1_mib_is_refused);
	tcase_add_test(t, test_filesz_larger_than_memsz_is_refused);
	tcase_add_test(t, test_entry_in_a_segment_linked_elsewhere_is_refused);
	tcase_add_test(t, test_a_segment_linked_elsewhere_loads_at_its_physical_address);
	tcase_add_test(t, test_image_without_a_loadable_segment_is_refused);
	tcase_add_test(t, test_empty_pt_load_does_not_count_as_loadable);
	tcase_add_test(t, test_entry_outside_every_segment_is_refused);
	tcase_add_test(t, test_entry_just_past_the_segment_end_is_refused);
	tcase_add_test(t, test_note_entry_outside_every_segment_is_refused);
	suite_add_tcase(s, t);

	t = tcase_create("sizes");
	tcase_add_test(t, test_parse_size_understands_units);
	tcase_add_test(t, test_parse_size_rejects_what_is_not_a_size);
	tcase_add_test(t, test_parse_size_rejects_a_size_that_overflows_64_bits);
	suite_add_tcase(s, t);

	t = tcase_create("files");
	tcase_add_checked_fixture(t, setup, NULL);
	tcase_add_test(t, test_load_file_of_a_missing_path_says_no_such_file);
	tcase_add_test(t, test_load_file_of_a_directory_is_refused);
	tcase_add_test(t, test_load_file_copies_segments_and_zeroes_bss);
	suite_add_tcase(s, t);

	t = tcase_create("boot state");
	tcase_add_checked_fixture(t, boot_setup, NULL);
	tcase_add_test(t, test_boot_map_translates_gva_0x200000_to_the_same_gpa);
	tcase_add_test(t, test_boot_map_leaves_page_0_absent_and_maps_page_1);
	tcase_add_test(t, test_boot_map_ends_at_the_end_of_ram);
	tcase_add_test(t,
		test_boot_info_has_magic_version_ram_size_and_command_line);
	tcase_add_test(t, test_ram_above_1m_outside_the_image_is_zero_at_entry);
	tcase_add_test(t, test_boot_without_append_gives_an_empty_command_line);
	tcase_add_test(t, test_long_command_line_is_cut_to_the_abi_maximum);
	tcase_add_test(t,
		test_boot_enters_at_the_image_entry_with_boot_info_in_rdi);
	tcase_add_test(t, test_multiboot_entry_is_protected_mode_with_paging_off);
	tcase_add_test(t, test_multiboot_info_has_memory_map_command_line_and_module);
	suite_add_tcase(s, t);
	return s;
}

CHECK_MAIN(loader_suite)
