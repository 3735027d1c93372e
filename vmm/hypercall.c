/*
 * The hypercall dispatcher.  A hypercall is a guest kernel asking the
 * monitor directly instead of touching hardware that would trap: one trap
 * instead of many (a whole string to the console instead of one trap per
 * byte).  Every argument is a guest pointer or length that a hostile guest
 * controls, so each is checked against guest RAM and answered with an
 * error code, never trusted.
 */
#include <string.h>

#include "trapeze/abi.h"

#include "devices/uart.h"
#include "gmem.h"
#include "hypercall.h"
#include "vm.h"

#define CONSOLE_CHUNK 256
#define CONSOLE_MAX (1u << 20)

const char *hypercall_name(unsigned nr)
{
	static const char *const names[TRAPEZE_HC_COUNT] = {
		[TRAPEZE_HC_VERSION] = "version",
		[TRAPEZE_HC_CONSOLE_WRITE] = "console_write",
		[TRAPEZE_HC_EXIT] = "exit",
	};

	return nr < TRAPEZE_HC_COUNT && names[nr] ? names[nr] : "unknown";
}

/* Copy the guest's buffer out page by page; a bad page ends the write
 * with -EFAULT and no exception. */
static int64_t hc_console_write(struct vm *vm, uint64_t gva, uint64_t len)
{
	uint8_t buf[CONSOLE_CHUNK];
	uint64_t done = 0;

	if (len > CONSOLE_MAX)
		return TRAPEZE_EINVAL;
	while (done < len) {
		size_t n = len - done < CONSOLE_CHUNK ? len - done
						      : CONSOLE_CHUNK;

		if (!gmem_read(vm, gva + done, buf, n, 0)) {
			vm->cpu.exc.pending = false;
			return done ? (int64_t)done : TRAPEZE_EFAULT;
		}
		uart_output(vm->com1, buf, n);
		done += n;
	}
	return (int64_t)done;
}

enum emu_result hypercall(struct vm *vm)
{
	struct vcpu *v = &vm->cpu;
	uint64_t nr = v->gpr[RAX];
	int64_t ret;

	switch (nr) {
	case TRAPEZE_HC_VERSION:
		ret = TRAPEZE_ABI_VERSION;
		break;
	case TRAPEZE_HC_CONSOLE_WRITE:
		ret = hc_console_write(vm, v->gpr[RDI], v->gpr[RSI]);
		break;
	case TRAPEZE_HC_EXIT:
		vm_exit(vm, (int)(((v->gpr[RDI] & 0x7f) << 1) | 1));
	default:
		ret = TRAPEZE_ENOSYS;
	}
	v->gpr[RAX] = (uint64_t)ret;
	return EMU_NEXT;
}
