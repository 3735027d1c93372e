/*
 * Translating a block (see translate.h): guest code from one address, up
 * to TR_BLOCK_MAX instructions, on one page (an instruction that starts
 * a block may run into the next), until control leaves it.  Every
 * instruction boundary in it is an entry: the monitor can resume the
 * guest there after a callout or a trap.  Branches out of the block go to
 * links, emitted after its body.
 */
#include "cpu/decode.h"
#include "cpu/debugreg.h"
#include "cpu/gmem.h"
#include "cpu/vcpu.h"
#include "engine/tc-internal.h"

/* Is there room for one more block?  Else everything goes. */
static void make_room(struct translator *tr)
{
	if (tr->used + TR_BLOCK_MAX * (TR_INSN_ROOM + TR_STUB_BYTES) >
		    TR_CODE_BYTES ||
	    tr->nrecs + 3 * TR_BLOCK_MAX > TR_MAX_RECS ||
	    tr->nentries + TR_BLOCK_MAX > TR_ENTRY_SLOTS / 2 ||
	    tr->nframes + 2 > TR_MAX_FRAMES)
		tc_flush(tr);
}

/* The frames the instruction at pc (gpa) came from: its own, and the
 * next page's when it runs into it. */
static void note_frames(struct translator *tr, uint64_t pc, uint64_t gpa,
			unsigned size)
{
	unsigned first = 4096 - (unsigned)(pc & 4095);
	uint64_t next;

	tc_frame_note(tr, pc & ~4095ull, gpa, size < first ? size : first);
	if (size > first && gmem_code_gpa(tr->cpu, pc + first, &next))
		tc_frame_note(tr, (pc + first) & ~4095ull, next, size - first);
}

/* Where the block's own translation of guest instruction pc starts
 * (UINT32_MAX: not in the block). */
static uint32_t in_block(const struct translator *tr, uint64_t pc,
			 unsigned first_rec, unsigned last_rec)
{
	unsigned i;

	for (i = first_rec; i < last_rec; i++)
		if (tr->recs[i].guest == pc && tr->recs[i].kind != TK_LINK)
			return tr->recs[i].host;
	return UINT32_MAX;
}

/* The targets of a block's jcc and loop instructions, after its body:
 * an instruction of the block itself (a loop) directly, anything else
 * through a link; their rel32s filled in. */
static void emit_pending(struct tc_emitter *e, unsigned first_rec,
			 unsigned last_rec)
{
	struct translator *tr = e->tr;
	unsigned i;

	for (i = first_rec; i < last_rec; i++) {
		struct tc_rec *r = &tr->recs[i];
		uint32_t stub, rel, end;

		if (r->kind != TK_INSN || !r->target)
			continue;
		stub = in_block(tr, r->target, first_rec, last_rec);
		if (stub == UINT32_MAX)
			stub = tc_emit_link(e, r->target);
		/* (The rel32 ends a loop's code, and a jcc's, which is
		 * done there but may have padding after it.) */
		end = r->host + (r->taken ? r->len : r->done);
		rel = stub - end;
		__builtin_memcpy(tr->code + end - 4, &rel, 4);
	}
}

/*
 * Code a compiler aligned to 16 bytes (a loop's head, mostly) is aligned
 * in the cache too: the front end fetches it as it would the original.
 * The padding (long nops) joins the previous instruction's record, after
 * its end, where the guest's state is the one after it; not after a
 * loop's, whose last bytes are its taken branch.
 */
static void align_like_guest(struct tc_emitter *e, uint64_t pc)
{
	static const char nop[][8] = {
		"", "\x90", "\x66\x90", "\x0f\x1f\x00", "\x0f\x1f\x40\x00",
		"\x0f\x1f\x44\x00\x00", "\x66\x0f\x1f\x44\x00\x00",
		"\x0f\x1f\x80\x00\x00\x00\x00",
	};
	struct translator *tr = e->tr;
	struct tc_rec *r = tr->nrecs ? &tr->recs[tr->nrecs - 1] : NULL;
	unsigned pad = (16 - (tc_here(e) & 15)) & 15;

	if ((pc & 15) || !pad || !r || r->kind != TK_INSN || r->taken ||
	    r->host + r->len != tc_here(e) || r->len + pad > 0xffff)
		return;
	r->len = (uint16_t)(r->len + pad);
	while (pad) {
		unsigned n = pad < 7 ? pad : 7;

		tc_put_bytes(e, nop[n], n);
		pad -= n;
	}
}

uint8_t *tc_translate(struct translator *tr, uint64_t gva, uint64_t gpa)
{
	struct vcpu *v = tr->cpu;
	unsigned mode = vcpu_mode(v), key = tc_key(v), count, first_rec;
	uint32_t start;
	uint64_t pc = gva;
	struct tc_emitter e;

	make_room(tr);
	start = tr->used;
	first_rec = tr->nrecs;
	e = (struct tc_emitter){ tr, tr->code + start };
	for (count = 0;; count++) {
		uint8_t bytes[INSN_MAX];
		uint32_t err;
		size_t n = gmem_fetch(v, pc, bytes, sizeof(bytes), &err);
		const cs_insn *insn;
		enum tc_next next;

		if (count == TR_BLOCK_MAX || (count && !n)) {
			tc_emit_link(&e, pc);
			break;
		}
		if (!n)
			return NULL;      /* the fetch faults: natively, then */
		insn = decode(v->dec, mode, pc, bytes, n);
		/* A block stays on its page; a breakpoint's instruction runs
		 * natively, where the host's breakpoint fires. */
		if (count && insn &&
		    ((pc ^ (pc + insn->size - 1)) & ~4095ull)) {
			tc_emit_link(&e, pc);
			break;
		}
		if (count)
			align_like_guest(&e, pc);
		tc_entry_add(tr, pc, gpa, key, (uint32_t)(e.p - tr->code));
		next = insn && !debugreg_exec_at(v, pc)
			       ? tc_emit(&e, insn, pc, gpa, mode) : TN_FAIL;
		if (next == TN_FAIL) {
			tc_emit_native(&e, pc);
			break;
		}
		note_frames(tr, pc, gpa, insn->size);
		tr->st.insns++;
		if (next == TN_END)
			break;
		if ((pc ^ (pc + insn->size)) & ~4095ull) {
			tc_emit_link(&e, pc + insn->size);
			break;
		}
		pc += insn->size;
		gpa += insn->size;
	}
	emit_pending(&e, first_rec, tr->nrecs);
	tr->used = (uint32_t)(e.p - tr->code);
	tr->st.blocks++;
	tr->st.bytes += tr->used - start;
	return tr->code + start;
}

uint8_t *tc_lookup(struct translator *tr, uint64_t gva)
{
	struct vcpu *v = tr->cpu;
	uint64_t gpa;
	uint8_t *h;

	if (!gmem_code_gpa(v, gva, &gpa))
		return NULL;
	if (!(h = tc_entry_find(tr, gva, gpa, tc_key(v))) &&
	    !(h = tc_translate(tr, gva, gpa)))
		return NULL;
	tc_hash_add(tr, gva, (uint32_t)(h - tr->code));
	return h;
}
