/*
 * Guest call stacks (see unwind.h).  libunwind unwinds a "remote" address
 * space through accessors: here memory is read through the guest's own
 * page tables (gmem_peek: no faults, no accessed bits), registers come
 * from the vCPU as it was when the trap came, and the unwind information
 * is the guest ELF's: its .eh_frame_hdr search table, which is loaded in
 * guest memory with the rest of the image, is handed to libunwind's DWARF
 * table search, as libunwind-ptrace does for a traced process.
 */
#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libunwind.h>

#include "cpu/gmem.h"
#include "trace/symbols.h"
#include "trace/unwind.h"
#include "core/vm.h"

/* Exported by libunwind, declared only in its private headers. */
extern int _Ux86_64_dwarf_search_unwind_table(unw_addr_space_t as,
					      unw_word_t ip,
					      unw_dyn_info_t *di,
					      unw_proc_info_t *pi,
					      int need_unwind_info, void *arg);

struct unwinder {
	unw_addr_space_t as;
	struct vm *vm;
	const struct vcpu *regs;
	const struct symbols *syms;
	uint64_t hdr, table, nfde;     /* .eh_frame_hdr and its table */
	uint64_t text_lo, text_hi;     /* executable segments */
};

static int find_proc_info(unw_addr_space_t as, unw_word_t ip,
			  unw_proc_info_t *pi, int need, void *arg)
{
	struct unwinder *u = arg;
	unw_dyn_info_t di;

	if (ip < u->text_lo || ip >= u->text_hi)
		return -UNW_ENOINFO;
	memset(&di, 0, sizeof(di));
	di.start_ip = u->text_lo;
	di.end_ip = u->text_hi;
	di.format = UNW_INFO_FORMAT_REMOTE_TABLE;
	di.u.rti.segbase = u->hdr;
	di.u.rti.table_data = u->table;
	di.u.rti.table_len = u->nfde * 8 / sizeof(unw_word_t);
	return _Ux86_64_dwarf_search_unwind_table(as, ip, &di, pi, need, arg);
}

static void put_unwind_info(unw_addr_space_t as, unw_proc_info_t *pi,
			    void *arg)
{
	free(pi->unwind_info);
	pi->unwind_info = NULL;
}

static int get_dyn_info_list_addr(unw_addr_space_t as, unw_word_t *addr,
				  void *arg)
{
	return -UNW_ENOINFO;
}

static int access_mem(unw_addr_space_t as, unw_word_t addr, unw_word_t *val,
		      int write, void *arg)
{
	struct unwinder *u = arg;

	if (write || gmem_peek(&u->vm->cpu, addr, val, sizeof(*val)) != sizeof(*val))
		return -UNW_EINVAL;
	return 0;
}

static int access_reg(unw_addr_space_t as, unw_regnum_t reg, unw_word_t *val,
		      int write, void *arg)
{
	static const int map[] = {
		[UNW_X86_64_RAX] = RAX, [UNW_X86_64_RDX] = RDX,
		[UNW_X86_64_RCX] = RCX, [UNW_X86_64_RBX] = RBX,
		[UNW_X86_64_RSI] = RSI, [UNW_X86_64_RDI] = RDI,
		[UNW_X86_64_RBP] = RBP, [UNW_X86_64_RSP] = RSP,
		[UNW_X86_64_R8] = R8, [UNW_X86_64_R9] = R9,
		[UNW_X86_64_R10] = R10, [UNW_X86_64_R11] = R11,
		[UNW_X86_64_R12] = R12, [UNW_X86_64_R13] = R13,
		[UNW_X86_64_R14] = R14, [UNW_X86_64_R15] = R15,
	};
	struct unwinder *u = arg;

	if (write)
		return -UNW_EREADONLYREG;
	if (reg == UNW_X86_64_RIP) {
		*val = u->regs->rip;
		return 0;
	}
	if (reg < 0 || reg > UNW_X86_64_R15)
		return -UNW_EBADREG;
	*val = u->regs->gpr[map[reg]];
	return 0;
}

static int access_fpreg(unw_addr_space_t as, unw_regnum_t reg,
			unw_fpreg_t *val, int write, void *arg)
{
	return -UNW_EBADREG;
}

static int resume(unw_addr_space_t as, unw_cursor_t *c, void *arg)
{
	return -UNW_EINVAL;
}

static int get_proc_name(unw_addr_space_t as, unw_word_t ip, char *buf,
			 size_t len, unw_word_t *off, void *arg)
{
	return -UNW_ENOINFO;
}

/* Find .eh_frame_hdr and the extent of the executable segments. */
static int read_elf(struct unwinder *u, const char *path)
{
	FILE *f = fopen(path, "rb");
	Elf64_Ehdr eh;
	Elf64_Shdr sh, strsh;
	Elf64_Phdr ph;
	char name[16];
	unsigned i;
	int found = -1;

	if (!f || fread(&eh, sizeof(eh), 1, f) != 1 ||
	    eh.e_shentsize != sizeof(sh) || eh.e_shstrndx >= eh.e_shnum ||
	    fseek(f, eh.e_shoff + eh.e_shstrndx * sizeof(sh), SEEK_SET) ||
	    fread(&strsh, sizeof(strsh), 1, f) != 1)
		goto out;
	for (i = 0; i < eh.e_shnum && found; i++) {
		if (fseek(f, eh.e_shoff + i * sizeof(sh), SEEK_SET) ||
		    fread(&sh, sizeof(sh), 1, f) != 1 ||
		    fseek(f, strsh.sh_offset + sh.sh_name, SEEK_SET) ||
		    !fgets(name, sizeof(name), f))
			goto out;
		if (!strcmp(name, ".eh_frame_hdr"))
			found = 0, u->hdr = sh.sh_addr;
	}
	for (i = 0; i < eh.e_phnum; i++) {
		if (fseek(f, eh.e_phoff + i * sizeof(ph), SEEK_SET) ||
		    fread(&ph, sizeof(ph), 1, f) != 1)
			goto out;
		if (ph.p_type != PT_LOAD || !(ph.p_flags & PF_X))
			continue;
		if (!u->text_hi || ph.p_vaddr < u->text_lo)
			u->text_lo = ph.p_vaddr;
		if (ph.p_vaddr + ph.p_memsz > u->text_hi)
			u->text_hi = ph.p_vaddr + ph.p_memsz;
	}
out:
	if (f)
		fclose(f);
	return found;
}

struct unwinder *unwind_create(struct vm *vm, const char *guest_path)
{
	static unw_accessors_t acc = {
		find_proc_info, put_unwind_info, get_dyn_info_list_addr,
		access_mem, access_reg, access_fpreg, resume, get_proc_name,
	};
	struct unwinder *u = calloc(1, sizeof(*u));
	uint8_t hdr[12];

	if (!u || read_elf(u, guest_path) != 0) {
		free(u);
		return NULL;
	}
	/* The header is read from the guest's RAM at its physical address:
	 * at start-up the guest's map is the identity.  Version 1, table of
	 * datarel sdata4 pairs (0x3b), count in udata4 (0x03). */
	u->vm = vm;
	memcpy(hdr, vm->ram + u->hdr, sizeof(hdr));
	if (hdr[0] != 1 || hdr[2] != 0x03 || hdr[3] != 0x3b) {
		free(u);
		return NULL;
	}
	u->nfde = hdr[8] | hdr[9] << 8 | hdr[10] << 16 | (uint64_t)hdr[11] << 24;
	u->table = u->hdr + 12;
	u->as = unw_create_addr_space(&acc, 0);
	if (!u->as) {
		free(u);
		return NULL;
	}
	/* The unwind rules come from the image's .eh_frame, which does not
	 * change while the guest runs: let libunwind keep what it parsed
	 * (an event with -k cost 2.7x more without it). */
	unw_set_caching_policy(u->as, UNW_CACHE_GLOBAL);
	return u;
}

int unwind_stack(struct unwinder *u, struct vm *vm, const struct vcpu *regs,
		 const struct symbols *syms, struct unwind_frames *out)
{
	unw_cursor_t c;
	unw_word_t ip;

	out->n = 0;
	u->regs = regs;
	if (unw_init_remote(&c, u->as, u) != 0)
		return -1;
	while (out->n < UNWIND_MAX && unw_step(&c) > 0) {
		if (unw_get_reg(&c, UNW_REG_IP, &ip) != 0 || !ip)
			break;
		out->rip[out->n] = ip;
		symbols_name(syms, ip, out->name[out->n],
			     sizeof(out->name[out->n]));
		out->n++;
	}
	return 0;
}
