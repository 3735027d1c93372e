/*
 * The trampoline: where every callout of the cache goes.  It saves the
 * guest's registers and vector state, switches to the monitor's stack,
 * calls the monitor (tc-run.c) and comes back into the cache where the
 * monitor says.
 */
#include <string.h>

#include "cpu/vcpu.h"
#include "engine/bt.h"
#include "engine/bt-internal.h"
#include "engine/tc-internal.h"

/* ---- the trampoline --------------------------------------------------- */


/* Pop what the trampoline pushed, but for the flags' slot (skipped). */
static void pop_registers(struct tc_emitter *e)
{
	static const char lea8[] = "\x48\x8d\x64\x24\x08";   /* lea 8(%rsp) */
	unsigned r;

	tc_put_bytes(e, "\x58\x59\x5a\x5b", 4);       /* rax, rcx, rdx, rbx */
	tc_put_bytes(e, lea8, 5);                     /* (the rsp slot) */
	tc_put_bytes(e, "\x5d\x5e\x5f", 3);           /* rbp, rsi, rdi */
	for (r = 8; r < 16; r++) {
		tc_put8(e, 0x41);
		tc_put8(e, (uint8_t)(0x58 + (r - 8)));
	}
}

/* opcode bytes, then ModRM /ext with [rip+field] */
static void rip_op(struct tc_emitter *e, const char *op, unsigned n,
		   unsigned ext, const void *field, unsigned after)
{
	tc_put_bytes(e, op, n);
	tc_put8(e, (uint8_t)(0x05 | (ext << 3)));
	tc_put_state_rel(e, field, after);
}

/*
 * Keep (or give back) the guest's vector registers while the monitor's C
 * code runs, which uses them (glibc's string functions up to AVX-512).
 * What the guest can have there is what its XCR0 enables: without
 * OSXSAVE or beyond x87 and SSE, the sixteen XMM registers and MXCSR, a
 * few moves (the monitor's code uses no x87); else XSAVE of the guest's
 * XCR0 components, dearer (about 300 cycles here against 7).  Which one
 * is latched at the save, so that a callout that changes XCR0 gives back
 * what it kept.  The monitor runs with its own MXCSR.  rax and rdx are
 * saved already; the flags may change.
 */
static void put_vector_state(struct tc_emitter *e, bool save)
{
	static const uint8_t ext[] = { 0, 4, 6 };  /* fxsave, xsave, xsaveopt */
	struct translator *tr = e->tr;
	struct tc_state *xs = tr->xs;
	uint8_t *jfull, *jdone;
	unsigned i;

	if (save) {
		rip_op(e, "\x0f\xb6", 2, RAX, &xs->save_full, 0); /* movzbl */
		rip_op(e, "\x88", 1, RAX, &xs->save_used, 0);    /* mov %al */
		tc_put_bytes(e, "\x84\xc0", 2);                   /* test %al */
	} else {
		rip_op(e, "\x80", 1, 7, &xs->save_used, 1);      /* cmpb $0 */
		tc_put8(e, 0);
	}
	jfull = e->p;
	tc_put_bytes(e, "\x0f\x85\0\0\0\0", 6);              /* jnz full */
	for (i = 0; i < 16; i++) {                 /* movdqu %xmmI <-> */
		tc_put8(e, 0xf3);
		if (i >= 8)
			tc_put8(e, 0x44);
		rip_op(e, save ? "\x0f\x7f" : "\x0f\x6f", 2, i & 7,
		       &xs->xmm[i], 0);
	}
	/* stmxcsr or ldmxcsr: the guest's */
	rip_op(e, "\x0f\xae", 2, save ? 3 : 2, &xs->guest_mxcsr, 0);
	jdone = e->p;
	tc_put_bytes(e, "\xe9\0\0\0\0", 5);                   /* jmp done */
	{
		uint32_t rel = (uint32_t)(e->p - (jfull + 6));

		memcpy(jfull + 2, &rel, 4);
	}
	if (tr->save != TR_FXSAVE) {
		if (save) {
			rip_op(e, "\x8b", 1, RAX, &xs->save_mask, 0);
			rip_op(e, "\x89", 1, RAX, &xs->mask_used, 0);
		} else {
			rip_op(e, "\x8b", 1, RAX, &xs->mask_used, 0);
		}
		tc_put_bytes(e, "\x31\xd2", 2);               /* xor %edx,%edx */
	}
	tc_put8(e, 0x48);                          /* ...64 [rip+area] */
	rip_op(e, "\x0f\xae", 2, save ? ext[tr->save]
				       : tr->save == TR_FXSAVE ? 1 : 5,
	       tr->xsave, 0);
	{
		uint32_t rel = (uint32_t)(e->p - (jdone + 5));

		memcpy(jdone + 1, &rel, 4);
	}
	if (save)                                  /* ldmxcsr: the monitor's */
		rip_op(e, "\x0f\xae", 2, 2, &xs->monitor_mxcsr, 0);
}

/* movb $v, in_monitor(%rip): the monitor's C code runs for a callout
 * from here to the handler's return (what a signal meanwhile finds). */
static void put_in_monitor(struct tc_emitter *e, uint8_t v)
{
	tc_put8(e, 0xc6);
	tc_put8(e, 0x05);
	tc_put_state_rel(e, &e->tr->xs->in_monitor, 1);
	tc_put8(e, v);
}

/*
 * The way from the cache into the monitor and back: save the guest's
 * stack pointer and registers on the monitor's callout stack (struct
 * tc_frame), give FS the monitor's base (glibc's thread pointer), call
 * the backend's handler, and return where it says: straight back into
 * the cache, or through iretq when the code segment or TF must change
 * (back to 32-bit user code, or a native step).
 */
void tc_emit_trampoline(struct tc_emitter *e)
{
	struct tc_state *xs = e->tr->xs;
	uint8_t *jne;
	unsigned r;

	tc_state_move(e, RSP, &xs->guest_rsp, false);
	tc_state_move(e, RSP, &xs->monitor_rsp, true);
	for (r = 16; r-- > 8;) {                   /* push r15 ... r8 */
		tc_put8(e, 0x41);
		tc_put8(e, (uint8_t)(0x50 + (r - 8)));
	}
	tc_put_bytes(e, "\x57\x56\x55\x54\x53\x52\x51\x50", 8); /* rdi...rax */
	tc_put8(e, 0x9c);                          /* pushfq */
	tc_put_bytes(e, "\xf3\x48\x0f\xae\xc0", 5);   /* rdfsbase %rax */
	tc_state_move(e, RAX, &xs->guest_fs, false);
	tc_put_bytes(e, "\xf3\x48\x0f\xae\xc8", 5);   /* rdgsbase %rax */
	tc_state_move(e, RAX, &xs->guest_gs, false);
	tc_state_move(e, RAX, &xs->monitor_fs, true);
	tc_put_bytes(e, "\xf3\x48\x0f\xae\xd0", 5);   /* wrfsbase %rax */
	tc_put_bytes(e, "\x48\x89\xe7", 3);           /* mov %rsp,%rdi */
	tc_put_bytes(e, "\x48\x83\xec\x08", 4);       /* (align the stack) */
	put_vector_state(e, true);
	put_in_monitor(e, 1);
	tc_put8(e, 0xff);                          /* call *handler(%rip) */
	tc_put8(e, 0x15);
	tc_put_state_rel(e, &xs->handler, 0);
	put_in_monitor(e, 0);
	put_vector_state(e, false);
	tc_put_bytes(e, "\x48\x83\xc4\x08", 4);
	tc_state_move(e, RAX, &xs->guest_fs, true);
	tc_put_bytes(e, "\xf3\x48\x0f\xae\xd0", 5);   /* wrfsbase %rax */
	tc_state_move(e, RAX, &xs->guest_gs, true);
	tc_put_bytes(e, "\xf3\x48\x0f\xae\xd8", 5);   /* wrgsbase %rax */
	tc_put8(e, 0x80);                          /* cmpb $0,far(%rip) */
	tc_put8(e, 0x3d);
	tc_put_state_rel(e, &xs->far, 1);
	tc_put8(e, 0);
	jne = e->p;
	tc_put_bytes(e, "\x75\x00", 2);               /* jne far */
	tc_put8(e, 0x9d);                          /* popfq */
	pop_registers(e);
	tc_state_move(e, RSP, &xs->guest_rsp, true);
	tc_put8(e, 0xff);                          /* jmp *resume(%rip) */
	tc_put8(e, 0x25);
	tc_put_state_rel(e, &xs->resume, 0);
	jne[1] = (uint8_t)(e->p - (jne + 2));
	/* far: DS and ES as 32-bit code needs them (see backend/entry.S) */
	tc_put_bytes(e, "\xb8\x2b\x00\x00\x00\x8e\xd8\x8e\xc0", 9);
	tc_put_bytes(e, "\x48\x8d\x64\x24\x08", 5);   /* (the flags' slot) */
	pop_registers(e);
	tc_put8(e, 0x48);                          /* lea iret_frame, %rsp */
	tc_put8(e, 0x8d);
	tc_put8(e, 0x25);
	tc_put_state_rel(e, &xs->iret_frame, 0);
	tc_put_bytes(e, "\x48\xcf", 2);               /* iretq */
}
