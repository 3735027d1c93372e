/*
 * The translator's encoder: bytes into the cache at an emitter's
 * position, and the records that say what guest instruction each piece
 * of code is (tc-internal.h).  Everything that emits code uses these;
 * they use nothing of the rest.
 */
#include <string.h>

#include "engine/tc-internal.h"

/* ---- records --------------------------------------------------------- */

struct tc_rec *tc_new_rec(struct translator *tr)
{
	return tr->nrecs < TR_MAX_RECS ? &tr->recs[tr->nrecs++] : NULL;
}

/* The record holding code offset off (records are in code order). */
struct tc_rec *tc_rec_at(struct translator *tr, uint32_t off)
{
	unsigned lo = 0, hi = tr->nrecs;

	while (lo < hi) {
		unsigned mid = (lo + hi) / 2;

		if (tr->recs[mid].host <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return NULL;
	return off < tr->recs[lo - 1].host + tr->recs[lo - 1].len
		       ? &tr->recs[lo - 1] : NULL;
}

/* ---- encoding ----------------------------------------------------------- */

void tc_put8(struct tc_emitter *e, uint8_t b)
{
	*e->p++ = b;
}

void tc_put32(struct tc_emitter *e, uint32_t x)
{
	memcpy(e->p, &x, 4);
	e->p += 4;
}

void tc_put_state_rel(struct tc_emitter *e, const void *field,
		      unsigned after)
{
	tc_put32(e, (uint32_t)((uint64_t)field - (uint64_t)(e->p + 4 + after)));
}

void tc_put_bytes(struct tc_emitter *e, const void *b, unsigned n)
{
	memcpy(e->p, b, n);
	e->p += n;
}

uint32_t tc_here(const struct tc_emitter *e)
{
	return (uint32_t)(e->p - e->tr->code);
}

void tc_put_jmp(struct tc_emitter *e, uint32_t to)
{
	tc_put8(e, 0xe9);
	tc_put32(e, (uint32_t)(to - (tc_here(e) + 4)));
}

void tc_put_callout(struct tc_emitter *e, uint32_t rec)
{
	tc_put8(e, 0xc7);                      /* mov dword [rip+rec], imm */
	tc_put8(e, 0x05);
	tc_put_state_rel(e, &e->tr->xs->rec, 4);
	tc_put32(e, rec);
	tc_put_jmp(e, e->tr->trampoline);
}

/* mov %reg,field(%rip) (store) or mov field(%rip),%reg (load) */
void tc_state_move(struct tc_emitter *e, unsigned reg, const void *field,
		   bool load)
{
	tc_put8(e, (uint8_t)(0x48 | ((reg >> 3) << 2)));
	tc_put8(e, load ? 0x8b : 0x89);
	tc_put8(e, (uint8_t)(0x05 | ((reg & 7) << 3)));
	tc_put_state_rel(e, field, 0);
}

uint32_t tc_rec_index(const struct translator *tr, const struct tc_rec *r)
{
	return (uint32_t)(r - tr->recs);
}

/* A record for what is about to be emitted at e->p. */
struct tc_rec *tc_begin(struct tc_emitter *e, unsigned kind, uint64_t guest,
			const cs_insn *insn)
{
	struct tc_rec *r = tc_new_rec(e->tr);

	if (!r)
		return NULL;
	memset(r, 0, sizeof(*r));
	r->kind = (uint8_t)kind;
	r->guest = guest;
	r->glen = insn ? (uint8_t)insn->size : 0;
	r->host = tc_here(e);
	return r;
}

void tc_end(struct tc_emitter *e, struct tc_rec *r)
{
	r->len = (uint16_t)(tc_here(e) - r->host);
}

/* ---- links ------------------------------------------------------------ */

uint32_t tc_emit_link(struct tc_emitter *e, uint64_t target)
{
	struct tc_rec *r = tc_begin(e, TK_LINK, target, NULL);
	uint8_t *start = e->p;

	if (!r)
		return 0;
	tc_put_callout(e, tc_rec_index(e->tr, r));
	while (e->p < start + TR_STUB_BYTES)
		tc_put8(e, 0xcc);
	tc_end(e, r);
	e->tr->st.links++;
	return r->host;
}
