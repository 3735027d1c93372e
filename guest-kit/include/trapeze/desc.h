/*
 * Descriptor tables for guest kernels: a GDT with kernel and user
 * segments and a TSS, an IDT whose every vector lands in one C dispatcher
 * with a full register frame.
 *
 * The selectors avoid GDT slots 4-6 and 12-15: Linux lets CPL 3 load its
 * own descriptors there (0x23, 0x2b, 0x33, TLS), so an iretq to them
 * would run natively, unseen by a trap-and-emulate monitor.
 */
#ifndef TRAPEZE_DESC_H
#define TRAPEZE_DESC_H

#define KERNEL_CS   0x08
#define KERNEL_DS   0x10
#define USER32_CS   0x33   /* only as sysret's base: STAR[63:48] = 0x30 */
#define USER_DS     0x3b
#define USER_CS     0x43
#define TSS_SEL     0x48
#define STAR_VALUE  ((0x30ull << 48) | ((uint64_t)KERNEL_CS << 32))

#ifndef __ASSEMBLER__
#include <stdint.h>

struct trap_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss;   /* pushed by the CPU */
};

typedef void (*trap_handler)(struct trap_frame *f);

/* Load the GDT and TSS, reload every segment register. */
void gdt_init(void);
/* Load an IDT routing all 256 vectors to trap handlers. */
void idt_init(void);
void idt_set_handler(unsigned vector, trap_handler h);
/* Point a vector straight at entry, bypassing the C dispatcher: entry
 * must end with iretq. */
void idt_set_raw(unsigned vector, void (*entry)(void));
/* Let `int vector` from CPL dpl reach its handler (3 for int3, syscalls). */
void idt_set_dpl(unsigned vector, unsigned dpl);
/* Run a vector on its own stack (IST 1): for #DF and friends. */
void idt_use_ist(unsigned vector);
/* The kernel stack used on entry from user mode. */
void tss_set_rsp0(uint64_t rsp0);

/* Run code at CPL 3 from rip on the stack rsp (needs tss_set_rsp0 and
 * user-accessible pages); returns when a trap handler calls leave_user()
 * on a frame taken from user mode. */
void enter_user(uint64_t rip, uint64_t rsp);
/* In a trap handler: make the frame return from enter_user() at CPL 0. */
void leave_user(struct trap_frame *f);

#endif /* __ASSEMBLER__ */

#endif
