/*
 * Capstone behind a direct-mapped cache (see decode.h).  Each slot owns a
 * cs_insn with its detail block, allocated once by cs_malloc, so that
 * cs_disasm_iter decodes into it without touching the heap.
 */
#include <stdlib.h>
#include <string.h>

#include "cpu/decode.h"

#define CACHE_SLOTS 1024

struct slot {
	uint64_t rip;
	uint8_t mode;
	uint8_t len;         /* 0: empty */
	uint8_t bytes[INSN_MAX];
	cs_insn *insn;
};

struct decoder {
	csh cs64, cs32;
	struct slot slot[CACHE_SLOTS];
	struct decode_stats st;
};

static bool open_mode(csh *h, cs_mode mode)
{
	if (cs_open(CS_ARCH_X86, mode, h) != CS_ERR_OK)
		return false;
	cs_option(*h, CS_OPT_DETAIL, CS_OPT_ON);
	return true;
}

struct decoder *decoder_create(void)
{
	struct decoder *d = calloc(1, sizeof(*d));
	unsigned i;

	if (!d)
		return NULL;
	if (!open_mode(&d->cs64, CS_MODE_64) ||
	    !open_mode(&d->cs32, CS_MODE_32)) {
		free(d);
		return NULL;
	}
	for (i = 0; i < CACHE_SLOTS; i++) {
		d->slot[i].insn = cs_malloc(d->cs64);
		if (!d->slot[i].insn) {
			decoder_destroy(d);
			return NULL;
		}
	}
	return d;
}

void decoder_destroy(struct decoder *d)
{
	unsigned i;

	if (!d)
		return;
	for (i = 0; i < CACHE_SLOTS; i++)
		if (d->slot[i].insn)
			cs_free(d->slot[i].insn, 1);
	cs_close(&d->cs64);
	cs_close(&d->cs32);
	free(d);
}

csh decoder_handle(struct decoder *d, enum cpu_mode mode)
{
	return mode == MODE_LONG64 ? d->cs64 : d->cs32;
}

const cs_insn *decode(struct decoder *d, enum cpu_mode mode, uint64_t rip,
		      const uint8_t *bytes, size_t avail)
{
	struct slot *s = &d->slot[(rip ^ (rip >> 10)) % CACHE_SLOTS];
	uint8_t m = mode == MODE_LONG64 ? 64 : 32;
	const uint8_t *code = bytes;
	uint64_t addr = rip;
	size_t size = avail < INSN_MAX ? avail : INSN_MAX;

	if (s->len && s->rip == rip && s->mode == m && s->len <= avail &&
	    memcmp(s->bytes, bytes, s->len) == 0) {
		d->st.hits++;
		return s->insn;
	}
	d->st.misses++;
	s->len = 0;
	if (!cs_disasm_iter(decoder_handle(d, mode), &code, &size, &addr,
			    s->insn))
		return NULL;
	s->rip = rip;
	s->mode = m;
	s->len = s->insn->size;
	memcpy(s->bytes, bytes, s->len);
	return s->insn;
}

bool decode_holds(const struct decoder *d, enum cpu_mode mode, uint64_t rip,
		  const cs_insn *insn)
{
	const struct slot *s = &d->slot[(rip ^ (rip >> 10)) % CACHE_SLOTS];

	return s->len && s->rip == rip && s->insn == insn &&
	       s->mode == (mode == MODE_LONG64 ? 64 : 32);
}

void decoder_stats(const struct decoder *d, struct decode_stats *st)
{
	*st = d->st;
}

bool insn_is_event(const cs_insn *insn)
{
	switch (insn->id) {
	case X86_INS_SYSCALL: case X86_INS_SYSRET: case X86_INS_SYSENTER:
	case X86_INS_SYSEXIT: case X86_INS_INT: case X86_INS_INT1:
	case X86_INS_INT3: case X86_INS_INTO: case X86_INS_IRET:
	case X86_INS_IRETD: case X86_INS_IRETQ:
		return true;
	}
	return false;
}
