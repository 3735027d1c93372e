/*
 * Instruction emulation, table-driven by Capstone instruction id: one small
 * function per instruction family, each taking the vCPU and the decoded
 * instruction and applying its effect to the vCPU, guest memory and
 * devices.  The families live in emu-*.c and register through their
 * tables; emulate() only looks the id up.
 */
#ifndef TRAPEZE_EMULATE_H
#define TRAPEZE_EMULATE_H

#include <stdbool.h>
#include <stdint.h>
#include <capstone/capstone.h>

#include "cpu/vcpu.h"

struct vcpu;

typedef enum emu_result (*emu_fn)(struct vcpu *v, const cs_insn *insn);

/* Capstone calls every mov X86_INS_MOV; a mov to or from a control or
 * debug register, or a segment register, belongs to another family, so
 * the emulator files those under ids of its own (emu_id). */
enum { EMU_MOV_CR = X86_INS_ENDING, EMU_MOV_SREG, EMU_IDS };
/* The id an instruction is emulated by: Capstone's, or one above. */
unsigned emu_id(const cs_insn *insn);

struct emu_entry {
	unsigned id;     /* X86_INS_* */
	emu_fn fn;
};

void emulate_init(void);
/* The register table (operand.c), which emulate_init builds. */
void operand_init(void);
emu_fn emulate_lookup(unsigned id);
/* Does the emulator know this instruction only for its memory operand
 * (mov, add, movs...), so that it runs natively anywhere else?  Not so
 * for the privileged and sensitive ones (out, cli, pushf, mov cr3...). */
bool emulate_is_ordinary(unsigned id);
/* Emulate a decoded instruction at the vCPU's RIP; moves RIP as needed. */
enum emu_result emulate(struct vcpu *v, const cs_insn *insn);
/* Fetch, decode and emulate the instruction at RIP, counting it (no
 * delivery of what it raises: that is exception_deliver_pending's).
 * EMU_NONE when no emulator takes it; v->insn is what was decoded. */
enum emu_result emulate_at_rip(struct vcpu *v);
/* Emulate insn (already decoded, at RIP) and count it. */
enum emu_result emulate_insn(struct vcpu *v, const cs_insn *insn);

/* The model-specific registers (emu-msr.c): false for #GP. */
bool msr_read(struct vcpu *v, uint32_t msr, uint64_t *val);
bool msr_write(struct vcpu *v, uint32_t msr, uint64_t val);
/* The guest's time-stamp counter. */
uint64_t vcpu_tsc(const struct vcpu *v);
/* What this vCPU's cpuid answers (emu-query.c). */
void vcpu_cpuid(const struct vcpu *v, uint32_t leaf, uint32_t sub,
		uint32_t r[4]);

/* The family tables, each ended by { 0, NULL }. */
extern const struct emu_entry emu_io_table[];
extern const struct emu_entry emu_sysreg_table[];
extern const struct emu_entry emu_seg_table[];
extern const struct emu_entry emu_msr_table[];
extern const struct emu_entry emu_flags_table[];
extern const struct emu_entry emu_sys_table[];
extern const struct emu_entry emu_mem_table[];
extern const struct emu_entry emu_query_table[];
extern const struct emu_entry emu_branch_table[];
extern const struct emu_entry emu_plain_table[];

/* ---- what the families share (operand.c) ---- */

static inline const cs_x86 *x86(const cs_insn *insn)
{
	return &insn->detail->x86;
}

/* The bits of a value of size bytes (1, 2, 4 or 8). */
static inline uint64_t emu_mask(unsigned size)
{
	return size >= 8 ? ~0ull : (1ull << (8 * size)) - 1;
}

/* A value of size bytes, sign-extended to 64 bits. */
static inline int64_t emu_sign_extend(uint64_t v, unsigned size)
{
	unsigned shift = 64 - 8 * size;

	return (int64_t)(v << shift) >> shift;
}

/* Registers by Capstone name, with x86 width semantics on write (a 32-bit
 * write zero-extends, 8 and 16-bit writes merge). */
uint64_t reg_read(const struct vcpu *v, x86_reg r);
void reg_write(struct vcpu *v, x86_reg r, uint64_t val);
/* Update a count or pointer register at an address size, as a write of
 * that width does (32-bit writes zero-extend, 16-bit ones merge). */
void gpr_set_width(uint64_t *r, uint64_t val, unsigned width);
/* GPR index of a register (-1 if not a GPR); sreg index (-1 if none). */
int reg_gpr(x86_reg r);
int reg_sreg(x86_reg r);
int reg_cr(x86_reg r);
int reg_dr(x86_reg r);

/* Effective address of a memory operand (base + index * scale + disp at
 * the address size, before segmentation: what lea computes). */
uint64_t op_offset(const struct vcpu *v, const cs_insn *insn,
		   const cs_x86_op *op);
/* Linear address of a memory operand (segment base applied). */
uint64_t op_addr(struct vcpu *v, const cs_insn *insn, const cs_x86_op *op);
/* Read or write an operand of op->size bytes; false if a fault is pending. */
bool op_read(struct vcpu *v, const cs_insn *insn, const cs_x86_op *op,
	     uint64_t *val);
bool op_write(struct vcpu *v, const cs_insn *insn, const cs_x86_op *op,
	      uint64_t val);

/* The stack in the current mode (RSP in 64-bit mode, ESP or SP else). */
bool stack_push(struct vcpu *v, uint64_t val, unsigned size);
bool stack_pop(struct vcpu *v, uint64_t *val, unsigned size);
bool stack_peek(struct vcpu *v, unsigned offset, uint64_t *val, unsigned size);

/* Element size of a string instruction (ins, outs, movs, stos...), from
 * the opcode and prefixes: Capstone 4 ignores a 66 prefix placed before
 * f3 and calls `66 f3 6d` rep insd. */
unsigned insn_string_size(const cs_insn *insn);

/* Capstone 4 decodes rdpid (f3 0f c7 /7) as rdseed and drops the f3
 * from its detail: look at the bytes. */
bool insn_is_rdpid(const cs_insn *insn);

/* Operand size of the instruction in bytes (prefixes and REX.W applied). */
unsigned insn_opsize(const struct vcpu *v, const cs_insn *insn);

/* The arithmetic flags after a result r of size bytes: ZF, SF and PF
 * from r; CF, OF and AF as given. */
void emu_set_flags(struct vcpu *v, uint64_t r, unsigned size, bool cf,
		   bool of, bool af);
/* Does the condition of a jcc, setcc or cmovcc hold? (emu-plain.c) */
bool emu_condition(const struct vcpu *v, unsigned id);

/* #GP(0) unless the vCPU runs at CPL 0. */
bool require_cpl0(struct vcpu *v);

/* Change RFLAGS as POPF/IRET may at the current CPL and IOPL (SDM vol. 2
 * POPF): IF only when CPL <= IOPL, IOPL only at CPL 0. */
void rflags_load(struct vcpu *v, uint64_t val, unsigned size, bool is_iret);

#endif /* TRAPEZE_EMULATE_H */
