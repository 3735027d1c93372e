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

#include "dev/uart.h"
#include "cpu/gmem.h"
#include "core/hypercall.h"
#include "core/vm.h"

#define CONSOLE_CHUNK 256
#define CONSOLE_MAX (1u << 20)

const char *hypercall_name(unsigned nr)
{
	static const char *const names[TRAPEZE_HC_COUNT] = {
		[TRAPEZE_HC_VERSION] = "version",
		[TRAPEZE_HC_CONSOLE_WRITE] = "console_write",
		[TRAPEZE_HC_EXIT] = "exit",
		[TRAPEZE_HC_SET_TIMER] = "set_timer",
		[TRAPEZE_HC_MMU_UPDATE] = "mmu_update",
		[TRAPEZE_HC_IRQ_ENABLE] = "irq_enable",
		[TRAPEZE_HC_HALT] = "halt",
		[TRAPEZE_HC_SHARED_IRQ] = "shared_irq",
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

		if (!gmem_read(&vm->cpu, gva + done, buf, n, 0)) {
			vm->cpu.exc.pending = false;
			return done ? (int64_t)done : TRAPEZE_EFAULT;
		}
		uart_output(vm->pc.com1, buf, n);
		done += n;
	}
	return (int64_t)done;
}

static int64_t hc_set_timer(struct vm *vm, uint64_t period, uint64_t vector)
{
	if (period && (period < TRAPEZE_TIMER_MIN_NS || vector < 32 ||
		       vector > 255))
		return TRAPEZE_EINVAL;
	irq_pv_timer(&vm->cpu, period, (uint8_t)vector);
	return 0;
}

/* Batched page-table updates: one trap for many entries.  Every target is
 * checked before the first is written; the shadow MMU hears of every
 * write. */
static int64_t hc_mmu_update(struct vm *vm, uint64_t gva, uint64_t count)
{
	struct trapeze_mmu_update req[64];
	uint64_t done = 0;

	int pass;

	if (count > TRAPEZE_MMU_UPDATE_MAX)
		return TRAPEZE_EINVAL;
	/* Pass 0 checks every request, pass 1 stores: all or nothing. */
	for (pass = 0; pass < 2; pass++)
		for (done = 0; done < count;) {
			uint64_t n = count - done < 64 ? count - done : 64, i;

			if (!gmem_read(&vm->cpu, gva + done * sizeof(req[0]), req,
				       n * sizeof(req[0]), 0)) {
				vm->cpu.exc.pending = false;
				return TRAPEZE_EFAULT;
			}
			for (i = 0; i < n; i++) {
				uint64_t *pte = gpa_ptr(&vm->cpu, req[i].ptr, 8);

				if (!pte || (req[i].ptr & 7))
					return TRAPEZE_EINVAL;
				if (pass) {
					gpa_will_write(&vm->cpu, req[i].ptr, 8);
					*pte = req[i].val;
					gpa_written(&vm->cpu, req[i].ptr, 8);
				}
			}
			done += n;
		}
	return (int64_t)count;
}

/* sti; hlt as one step, so no interrupt can slip in between. */
static enum emu_result hc_halt(struct vm *vm)
{
	struct trapeze_shared *sh =
		gpa_ptr(&vm->cpu, TRAPEZE_SHARED_GPA, sizeof(*sh));

	vm->cpu.rflags |= RFLAGS_IF;
	if (vm->cpu.irq.pv_shared)
		sh->irq_masked = 0;
	vm->cpu.gpr[RAX] = 0;
	return EMU_HALT;
}

enum emu_result hypercall(void *ctx, struct vcpu *v)
{
	struct vm *vm = ctx;
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
	case TRAPEZE_HC_SET_TIMER:
		ret = hc_set_timer(vm, v->gpr[RDI], v->gpr[RSI]);
		break;
	case TRAPEZE_HC_MMU_UPDATE:
		ret = hc_mmu_update(vm, v->gpr[RDI], v->gpr[RSI]);
		break;
	case TRAPEZE_HC_IRQ_ENABLE:
		ret = 0;       /* delivery happens as the trap ends */
		break;
	case TRAPEZE_HC_HALT:
		return hc_halt(vm);
	case TRAPEZE_HC_SHARED_IRQ:
		vm->cpu.irq.pv_shared = v->gpr[RDI] != 0;
		ret = 0;
		break;
	default:
		ret = TRAPEZE_ENOSYS;
	}
	v->gpr[RAX] = (uint64_t)ret;
	return EMU_NEXT;
}
