/*
 * Architectural names, spelled as the Intel SDM spells them (vol. 3A ch. 2
 * for control registers and EFER, ch. 3 for descriptors, ch. 4 for paging,
 * ch. 6 for exception vectors).  No behaviour lives here.
 */
#ifndef TRAPEZE_X86_H
#define TRAPEZE_X86_H

#include <stdint.h>

/* RFLAGS */
#define RFLAGS_CF    (1ull << 0)
#define RFLAGS_FIXED (1ull << 1)   /* always reads as 1 */
#define RFLAGS_PF    (1ull << 2)
#define RFLAGS_AF    (1ull << 4)
#define RFLAGS_ZF    (1ull << 6)
#define RFLAGS_SF    (1ull << 7)
#define RFLAGS_TF    (1ull << 8)
#define RFLAGS_IF    (1ull << 9)
#define RFLAGS_DF    (1ull << 10)
#define RFLAGS_OF    (1ull << 11)
#define RFLAGS_IOPL  (3ull << 12)
#define RFLAGS_IOPL_SHIFT 12
#define RFLAGS_NT    (1ull << 14)
#define RFLAGS_RF    (1ull << 16)
#define RFLAGS_VM    (1ull << 17)
#define RFLAGS_AC    (1ull << 18)
#define RFLAGS_VIF   (1ull << 19)
#define RFLAGS_VIP   (1ull << 20)
#define RFLAGS_ID    (1ull << 21)
#define RFLAGS_ARITH (RFLAGS_CF | RFLAGS_PF | RFLAGS_AF | RFLAGS_ZF | \
		      RFLAGS_SF | RFLAGS_OF)
/* Bits a 64-bit POPF/IRETQ may ever set (the rest are reserved, read 0). */
#define RFLAGS_LIVE  (RFLAGS_ARITH | RFLAGS_TF | RFLAGS_IF | RFLAGS_DF | \
		      RFLAGS_IOPL | RFLAGS_NT | RFLAGS_RF | RFLAGS_VM | \
		      RFLAGS_AC | RFLAGS_VIF | RFLAGS_VIP | RFLAGS_ID)

/* CR0 */
#define CR0_PE (1ull << 0)
#define CR0_MP (1ull << 1)
#define CR0_EM (1ull << 2)
#define CR0_TS (1ull << 3)
#define CR0_ET (1ull << 4)
#define CR0_NE (1ull << 5)
#define CR0_WP (1ull << 16)
#define CR0_AM (1ull << 18)
#define CR0_NW (1ull << 29)
#define CR0_CD (1ull << 30)
#define CR0_PG (1ull << 31)
#define CR0_RESET (CR0_ET | CR0_NW | CR0_CD)

/* DR6: general detect and single-step; DR7: general detect enable */
#define DR6_BD (1ull << 13)
#define DR6_BS (1ull << 14)
#define DR7_GD (1ull << 13)

/* CR4 */
#define CR4_VME        (1ull << 0)
#define CR4_PVI        (1ull << 1)
#define CR4_TSD        (1ull << 2)
#define CR4_DE         (1ull << 3)
#define CR4_PSE        (1ull << 4)
#define CR4_PAE        (1ull << 5)
#define CR4_MCE        (1ull << 6)
#define CR4_PGE        (1ull << 7)
#define CR4_PCE        (1ull << 8)
#define CR4_OSFXSR     (1ull << 9)
#define CR4_OSXMMEXCPT (1ull << 10)
#define CR4_UMIP       (1ull << 11)
#define CR4_LA57       (1ull << 12)
#define CR4_FSGSBASE   (1ull << 16)
#define CR4_PCIDE      (1ull << 17)
#define CR4_OSXSAVE    (1ull << 18)
#define CR4_SMEP       (1ull << 20)
#define CR4_SMAP       (1ull << 21)
#define CR4_PKE        (1ull << 22)

/* EFER (MSR 0xc0000080) */
#define EFER_SCE (1ull << 0)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)
#define EFER_NXE (1ull << 11)

/* MSRs */
#define MSR_IA32_TSC            0x00000010
#define MSR_IA32_APIC_BASE      0x0000001b
#define MSR_IA32_SYSENTER_CS    0x00000174
#define MSR_IA32_SYSENTER_ESP   0x00000175
#define MSR_IA32_SYSENTER_EIP   0x00000176
#define MSR_IA32_MISC_ENABLE    0x000001a0
#define MSR_IA32_MCG_CAP        0x00000179
#define MSR_IA32_MCG_STATUS     0x0000017a
#define MSR_IA32_PAT            0x00000277
#define MSR_IA32_TSC_DEADLINE   0x000006e0
#define MSR_EFER                0xc0000080
#define MSR_STAR                0xc0000081
#define MSR_LSTAR               0xc0000082
#define MSR_CSTAR               0xc0000083
#define MSR_SFMASK              0xc0000084
#define MSR_FS_BASE             0xc0000100
#define MSR_GS_BASE             0xc0000101
#define MSR_KERNEL_GS_BASE      0xc0000102
#define MSR_TSC_AUX             0xc0000103

/* Exception vectors (SDM vol. 3A table 6-1) */
enum {
	X86_DE = 0, X86_DB = 1, X86_NMI = 2, X86_BP = 3, X86_OF = 4,
	X86_BR = 5, X86_UD = 6, X86_NM = 7, X86_DF = 8, X86_TS = 10,
	X86_NP = 11, X86_SS = 12, X86_GP = 13, X86_PF = 14, X86_MF = 16,
	X86_AC = 17, X86_MC = 18, X86_XM = 19, X86_VE = 20, X86_CP = 21,
};

/* Page-fault error code (SDM vol. 3A 4.7) */
#define PFERR_P    (1u << 0)
#define PFERR_W    (1u << 1)
#define PFERR_U    (1u << 2)
#define PFERR_RSVD (1u << 3)
#define PFERR_I    (1u << 4)
#define PFERR_PK   (1u << 5)

/* Selector error code bits (SDM vol. 3A 6.13) */
#define ERR_EXT 1u
#define ERR_IDT 2u
#define ERR_TI  4u

/* Paging-structure entry bits (SDM vol. 3A 4.5) */
#define PTE_P    (1ull << 0)
#define PTE_W    (1ull << 1)
#define PTE_U    (1ull << 2)
#define PTE_PWT  (1ull << 3)
#define PTE_PCD  (1ull << 4)
#define PTE_A    (1ull << 5)
#define PTE_D    (1ull << 6)
#define PTE_PS   (1ull << 7)
#define PTE_G    (1ull << 8)
#define PTE_NX   (1ull << 63)
#define PTE_ADDR 0x000ffffffffff000ull

/*
 * Segment descriptor access rights, kept in the layout of bits 8-23 of the
 * descriptor's high dword (SDM vol. 3A 3.4.5): type, S, DPL, P, then AVL,
 * L, D/B, G.
 */
#define SEG_TYPE_MASK   0x000f
#define SEG_TYPE_ACCESSED 0x0001
#define SEG_TYPE_RW     0x0002  /* data: writable; code: readable */
#define SEG_TYPE_DC     0x0004  /* data: expand-down; code: conforming */
#define SEG_TYPE_CODE   0x0008
#define SEG_S           0x0010  /* code or data (not system) */
#define SEG_DPL_SHIFT   5
#define SEG_DPL_MASK    0x0060
#define SEG_P           0x0080
#define SEG_AVL         0x1000
#define SEG_L           0x2000
#define SEG_DB          0x4000
#define SEG_G           0x8000

/* System descriptor types in long mode (SDM vol. 3A table 3-2) */
#define SYS_LDT         0x2
#define SYS_TSS_AVAIL   0x9
#define SYS_TSS_BUSY    0xb
#define SYS_CALL_GATE   0xc
#define SYS_INTR_GATE   0xe
#define SYS_TRAP_GATE   0xf

#endif /* TRAPEZE_X86_H */
