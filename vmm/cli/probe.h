/*
 * Which of the demonstration's instructions fault at CPL 3 on this host.
 */
#ifndef TRAPEZE_PROBE_H
#define TRAPEZE_PROBE_H

#include <stdbool.h>

enum probe_insn {
	PROBE_SGDT, PROBE_SIDT, PROBE_SLDT, PROBE_SMSW, PROBE_PUSHF,
	PROBE_POPF, PROBE_LAR, PROBE_LSL, PROBE_VERR, PROBE_VERW, PROBE_POP,
	PROBE_PUSH, PROBE_CALL, PROBE_JMP, PROBE_INT, PROBE_RET, PROBE_STR,
	PROBE_MOV, PROBE_CPUID, PROBE_COUNT
};

enum probe_result {
	PROBE_SILENT,   /* runs natively: the monitor never sees it */
	PROBE_TRAPS,    /* faults: the monitor sees it */
	PROBE_HIDDEN,   /* faults (UMIP) but Linux answers it itself */
};

/* Run each instruction natively in a child, with CPUID faulting on when
 * the host has it (as the monitor runs guests); 0 on success. */
int probe_host(bool umip, bool cpuid_faulting,
	       enum probe_result out[PROBE_COUNT]);

#endif
