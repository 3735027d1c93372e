/*
 * The scanner (see scan.h): the walk over the guest's code, and the
 * entry points the trap path calls.  What the walk patches is decided in
 * scan-classify.c; the records it keeps (frames, patches, edges) are in
 * scan-frames.c.
 *
 * How no unscanned instruction ever runs.  With scanning on, the shadow
 * MMU maps a guest frame executable only once it is scanned, and never
 * writable while it is.  The scanner keeps, per frame, the set of offsets
 * where it decoded an instruction (the vetted starts).  Starting from an
 * entry, it follows fall-through and every direct branch and call target,
 * in this frame and in others; it patches with int3 every sensitive
 * instruction and every indirect transfer (ret, jmp and call through a
 * register or memory, and the far transfers, which are sensitive anyway).
 * So while the guest runs natively, control can only move
 *   - to the next instruction or a direct target: vetted when scanned;
 *   - through a patched indirect transfer: the monitor emulates it;
 *   - through the monitor (exceptions, interrupts, syscall, iret...).
 * and before every resume the monitor checks that RIP is a vetted start
 * of a scanned frame, scanning from RIP if it is not (scan_check_rip).
 * Arriving at an unscanned page faults (no execute permission) and scans
 * it.  What the guest sees: reading its own code shows 0xcc where an
 * instruction was patched.  Writing to a scanned frame puts the original
 * bytes back and forgets the scan; the frame is rescanned before it runs
 * again.
 *
 * Every direct transfer from one frame into another (a branch, a call, or
 * falling through the page's end) is recorded as an edge on the target
 * frame, with the source frame's scan generation.  A target in a page
 * nobody has executed yet is not decoded at once (it may never run, and
 * might not be code): the frame's first scan starts from its live edges.
 * A frame that is rewritten is rescanned from its new entry and its live
 * edges, never from its own old instruction starts: after a rewrite those
 * may fall inside different instructions (a kernel reusing the frame for
 * another program), and a patch planted there would corrupt them.  An
 * edge dies when its source frame is unscanned; if the source runs again
 * it is rescanned and records its edges anew.
 *
 * Known limit: a direct branch into another page is vetted in the frame
 * that page mapped at scan time.  A guest that remaps that virtual page to
 * a different frame which is itself scanned from elsewhere, or that only
 * maps the target page after the branch was scanned, could reach an
 * offset the scanner did not vet.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cpu/decode.h"
#include "cpu/emulate.h"
#include "cpu/vcpu.h"
#include "engine/scan.h"
#include "engine/scan-internal.h"

/*
 * The monitor itself is about to store to guest RAM (an emulated
 * instruction, a hypercall, a device): scanned code it hits gets its
 * original bytes back first, so that the store lands on them, and the
 * frame is rescanned before it runs again.  Data that shares a page with
 * code does not count (scan_write_touches_code).
 */
static void will_write(void *ctx, uint64_t gpa, uint64_t len)
{
	struct scanner *sc = ctx;
	uint64_t p;

	for (p = gpa & ~0xfffull; p < gpa + len; p += 4096) {
		uint64_t lo = p > gpa ? p : gpa;
		uint64_t hi = p + 4096 < gpa + len ? p + 4096 : gpa + len;

		if (shadow_code_is_ready(sc->cpu->mem.mmu, p) &&
		    scan_write_touches_code(sc, lo, hi - lo))
			scan_code_written(sc, p);
	}
}

struct scanner *scan_create(struct vcpu *v, unsigned max_frames,
			    unsigned max_patches)
{
	struct scanner *sc = calloc(1, sizeof(*sc));

	if (!sc)
		return NULL;
	sc->cpu = v;
	emulate_init();        /* scan_classify asks about registers */
	if (scan_records_init(sc, max_frames, max_patches) ||
	    cs_open(CS_ARCH_X86, CS_MODE_64, &sc->cs[0]) != CS_ERR_OK ||
	    cs_open(CS_ARCH_X86, CS_MODE_32, &sc->cs[1]) != CS_ERR_OK) {
		scan_destroy(sc);
		return NULL;
	}
	cs_option(sc->cs[0], CS_OPT_DETAIL, CS_OPT_ON);
	cs_option(sc->cs[1], CS_OPT_DETAIL, CS_OPT_ON);
	sc->insn = cs_malloc(sc->cs[0]);
	if (gmem_watch_writes(&v->mem, will_write, sc)) {
		scan_destroy(sc);
		return NULL;
	}
	shadow_set_scanning(v->mem.mmu, true);
	return sc;
}

void scan_on_scan(struct scanner *sc, scan_seen_fn fn, void *ctx)
{
	sc->seen = fn;
	sc->seen_ctx = ctx;
}

void scan_destroy(struct scanner *sc)
{
	if (!sc)
		return;
	if (sc->insn)
		cs_free(sc->insn, 1);
	if (sc->cs[0])
		cs_close(&sc->cs[0]);
	if (sc->cs[1])
		cs_close(&sc->cs[1]);
	scan_records_free(sc);
	free(sc);
}

/* ---- scanning -------------------------------------------------------- */

/* Read code as the guest wrote it: the original byte wherever one of the
 * frame's patches is.  Inside the frame it comes straight from guest RAM;
 * only an instruction running into the next page walks the tables. */
static size_t read_code(struct scanner *sc, const struct code_frame *cf,
			uint64_t gva, uint64_t gpa, uint8_t *buf, size_t n)
{
	size_t in_page = PAGE - (gpa & (PAGE - 1)), got;
	uint32_t err, i;

	if (in_page >= n) {
		memcpy(buf, sc->cpu->mem.ram + gpa, n);
		got = n;
	} else {
		memcpy(buf, sc->cpu->mem.ram + gpa, in_page);
		got = in_page + gmem_fetch(sc->cpu, gva + in_page, buf + in_page,
					   n - in_page, &err);
	}
	for (i = cf->patches; i != NIL; i = sc->patches[i].next) {
		const struct patch *p = &sc->patches[i];

		if (p->gpa >= gpa && p->gpa < gpa + in_page && p->gpa - gpa < got)
			buf[p->gpa - gpa] = p->bytes[0];
	}
	return got;
}

/* 64 or 32: protected and compatibility mode decode alike. */
static uint8_t code_width(const struct scanner *sc)
{
	return vcpu_mode(sc->cpu) == MODE_LONG64 ? 64 : 32;
}

static void push(struct scanner *sc, uint64_t gva, uint64_t src)
{
	if (sc->nwork < WORKLIST) {
		sc->work[sc->nwork].gva = gva;
		sc->work[sc->nwork++].src = src;
	}
}


static bool translate(struct scanner *sc, uint64_t gva, uint64_t *gpa)
{
	struct paging pg;
	struct walk w;

	vcpu_paging(sc->cpu, &pg);
	if (!gva_canonical(sc->cpu, gva) ||
	    shadow_walk(sc->cpu->mem.mmu, &pg, gva, ACC_EXEC, &w) != WALK_OK)
		return false;
	*gpa = w.gpa;
	return true;
}

/* Decode one block from gva in its frame until control leaves it. */
static void scan_block(struct scanner *sc, struct code_frame *cf, uint64_t gva,
		       uint64_t gpa)
{
	csh h = sc->cs[vcpu_mode(sc->cpu) == MODE_LONG64 ? 0 : 1];
	unsigned off = gpa & (PAGE - 1), i;
	uint8_t code[INSN_MAX];

	while (!bit(cf->vetted, off)) {
		const uint8_t *p = code;
		size_t n = read_code(sc, cf, gva, gpa, code, sizeof(code));
		uint64_t addr = gva;
		enum scan_class c;

		if (!n || !cs_disasm_iter(h, &p, &n, &addr, sc->insn))
			return;     /* not code: it faults natively if run */
		set_bit(cf->vetted, off);
		for (i = off; i < off + sc->insn->size && i < PAGE; i++)
			set_bit(cf->code, i);
		sc->st.insns++;
		c = scan_class_in_mode(sc->insn,
				       vcpu_mode(sc->cpu) == MODE_LONG64);
		if ((c == SC_SENSITIVE || c == SC_INDIRECT) &&
		    !scan_add_patch(sc, cf, gpa, sc->insn)) {
			scan_unscan_all(sc);
			return;
		}
		if (c == SC_JUMP || c == SC_BRANCH)
			push(sc, (uint64_t)x86(sc->insn)->operands[0].imm,
			     cf->frame);
		if (scan_ends_block(sc->insn, c))
			return;
		gva += sc->insn->size;
		gpa += sc->insn->size;
		off += sc->insn->size;
		if (off >= PAGE) {
			cf->straddles_next |= off > PAGE;
			push(sc, gva, cf->frame);
			return;
		}
	}
}

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + t.tv_nsec;
}

/*
 * A frame about to be opened may be a copy of a scanned one: a kernel
 * that copies a process's pages (xv6's fork does, without copy-on-write)
 * reads the patched bytes, int3 where sensitive instructions were, and
 * the copy would run them as breakpoints of its own.  A copy is
 * recognised by its code: every byte of the source's vetted
 * instructions is in the new frame at the same offset, int3 or the
 * original byte where the source has a patch.  Its int3s at the source's
 * patch offsets are then given back the original bytes before it is
 * scanned.  Every matching source is used, not the first: the copy of a
 * copy may have been opened from a frame that has run (and so patched)
 * less of the code than the one it was copied from.  (A guest that reads
 * patched code through its own mapping still sees int3: docs/scanner.md.)
 */
static bool copy_of(struct scanner *sc, const uint8_t *dst,
		    const struct code_frame *src, const uint8_t *from)
{
	unsigned k;

	for (k = 0; k < PAGE; k++) {
		const struct patch *p;

		if (!bit(src->code, k) || dst[k] == from[k])
			continue;
		if (from[k] != 0xcc ||
		    !(p = scan_find_patch(sc, (src->frame << 12) + k)) ||
		    p->bytes[0] != dst[k])
			return false;
	}
	return true;
}

static void undo_copied_patches(struct scanner *sc, struct code_frame *cf)
{
	uint8_t *dst = sc->cpu->mem.ram + (cf->frame << 12);
	unsigned i;

	for (i = 0; i < sc->nframes; i++) {
		const struct code_frame *src = &sc->frames[i];
		const uint8_t *from = sc->cpu->mem.ram + (src->frame << 12);
		uint32_t p;
		bool any = false;

		if (src == cf || !src->ready || src->patches == NIL)
			continue;
		for (p = src->patches; p != NIL && !any;
		     p = sc->patches[p].next)
			any = dst[sc->patches[p].gpa & (PAGE - 1)] == 0xcc;
		if (!any || !copy_of(sc, dst, src, from))
			continue;
		for (p = src->patches; p != NIL; p = sc->patches[p].next)
			dst[sc->patches[p].gpa & (PAGE - 1)] =
				sc->patches[p].bytes[0];
		sc->st.copies++;
	}
}

/* Frames whose scan is complete become executable. */
static void open_frames(struct scanner *sc, const uint64_t *frames, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++) {
		struct code_frame *cf = scan_find_frame(sc, frames[i]);

		/* (gone if the pools filled up and everything was forgotten) */
		if (cf && !cf->ready) {
			cf->ready = true;
			shadow_code_ready(sc->cpu->mem.mmu, frames[i] << 12);
		}
	}
}

static bool in_list(const uint64_t *list, unsigned n, uint64_t v)
{
	unsigned i;

	for (i = 0; i < n; i++)
		if (list[i] == v)
			return true;
	return false;
}

/* Opening cf: start from every live edge into it made by code of this
 * mode. */
static void push_edges(struct scanner *sc, const struct code_frame *cf,
		       uint64_t page_gva, uint8_t mode)
{
	uint32_t i;

	for (i = cf->edges; i != NIL; i = sc->edges[i].next) {
		const struct code_frame *src =
			scan_edge_source(sc, &sc->edges[i]);

		if (src && src->mode == mode)
			push(sc, page_gva + sc->edges[i].off, NO_SRC);
	}
}

/*
 * Scan from an entry, and from every target direct control flow reaches,
 * as far as code already known (scanned, or opened by this scan) goes.
 * A target in a page nobody has run yet is only recorded as an edge into
 * its frame: when that page is first executed, its scan starts from its
 * edges too, so no branch scanned here can land on an unvetted offset,
 * and no byte that never runs is ever decoded (zeroed memory after the
 * last function decodes as instructions forever).
 */
void scan_from(struct scanner *sc, uint64_t gva)
{
	uint64_t t0 = now_ns(), touched[64];
	struct scan_stats was = sc->st;
	unsigned ntouched = 0;
	uint8_t mode = code_width(sc);
	bool entry = true;

	sc->nwork = 0;
	push(sc, gva, NO_SRC);
	while (sc->nwork) {
		struct work w = sc->work[--sc->nwork];
		uint64_t g = w.gva, gpa;
		struct code_frame *cf;

		if (vcpu_mode(sc->cpu) != MODE_LONG64)
			g &= 0xffffffffull;
		if (!translate(sc, g, &gpa))
			continue;       /* it will fault when it runs */
		cf = scan_get_frame(sc, gpa >> 12);
		if (cf->ready && cf->mode != mode)
			/* Code for the other mode (a 32-bit kernel's switch to
			 * long mode shares pages with its 64-bit code): its
			 * instruction starts mean nothing in this mode, and a
			 * patch planted at one could split a real instruction. */
			scan_unscan_frame(sc, cf);
		if (w.src != NO_SRC && w.src != cf->frame &&
		    !scan_add_edge(sc, cf, w.src, gpa & (PAGE - 1))) {
			scan_unscan_all(sc);    /* out of room: start afresh */
			break;
		}
		if (!cf->ready && !entry &&
		    !in_list(touched, ntouched, cf->frame))
			continue;       /* scanned when that page first runs */
		entry = false;
		if (!cf->ready && !in_list(touched, ntouched, cf->frame)) {
			/* Opening it: start from everything known to enter it. */
			cf->mode = mode;
			push_edges(sc, cf, g & ~(uint64_t)(PAGE - 1), mode);
			undo_copied_patches(sc, cf);
			if (ntouched == 64) {
				open_frames(sc, touched, ntouched);
				ntouched = 0;
			}
			touched[ntouched++] = cf->frame;
			sc->st.pages++;
		}
		scan_block(sc, cf, g, gpa);
	}
	open_frames(sc, touched, ntouched);
	sc->st.ns += now_ns() - t0;
	if (sc->seen && sc->st.insns != was.insns)
		sc->seen(sc->seen_ctx, gva, sc->st.pages - was.pages,
			   sc->st.insns - was.insns,
			   sc->st.patches - was.patches);
}

/* ---- what the trap path asks ----------------------------------------- */

/* Length of the instruction at gva, as the guest wrote it (0: none). */
static unsigned insn_length(struct scanner *sc, uint64_t gva)
{
	csh h = sc->cs[vcpu_mode(sc->cpu) == MODE_LONG64 ? 0 : 1];
	uint8_t code[INSN_MAX];
	const uint8_t *p = code;
	uint64_t gpa, addr = gva;
	size_t n;

	if (!translate(sc, gva, &gpa))
		return 0;
	n = read_code(sc, scan_get_frame(sc, gpa >> 12), gva, gpa, code,
		      sizeof(code));
	return n && cs_disasm_iter(h, &p, &n, &addr, sc->insn) ? sc->insn->size
							       : 0;
}

void scan_fetch_fault(struct scanner *sc, uint64_t addr)
{
	uint64_t rip = sc->cpu->rip;
	unsigned len;

	/* The fetch that faulted is the second page of an instruction that
	 * starts at RIP: that page is entered after it. */
	if ((addr ^ rip) >> 12 && (len = insn_length(sc, rip)) &&
	    ((rip + len - 1) ^ rip) >> 12) {
		scan_from(sc, rip);
		scan_from(sc, rip + len);
		return;
	}
	scan_from(sc, rip);
}

void scan_check_rip(struct scanner *sc)
{
	struct code_frame *cf;
	uint64_t gpa;

	if (!translate(sc, sc->cpu->rip, &gpa))
		return;         /* the fetch faults; the guest sees a #PF */
	cf = scan_find_frame(sc, gpa >> 12);
	if (!cf || !cf->ready)
		return;         /* not executable: the fetch faults and scans */
	if (bit(cf->vetted, gpa & (PAGE - 1)) &&
	    cf->mode == code_width(sc))
		return;
	sc->st.rescans_at_rip++;
	scan_from(sc, sc->cpu->rip);
}

const cs_insn *scan_patch_at(struct scanner *sc, uint64_t gva, uint64_t gpa)
{
	struct patch *p;

	if (sc->cpu->mem.ram[gpa] != 0xcc || !(p = scan_find_patch(sc, gpa)))
		return NULL;
	return decode(sc->cpu->dec, vcpu_mode(sc->cpu), gva, p->bytes, p->len);
}

const cs_insn *scan_patched_insn(struct scanner *sc, uint64_t gva)
{
	uint64_t gpa;

	return translate(sc, gva, &gpa) ? scan_patch_at(sc, gva, gpa) : NULL;
}

bool scan_vetted(struct scanner *sc, uint64_t gpa)
{
	struct code_frame *cf = sc->last;

	if (!cf || cf->frame != gpa >> 12)
		sc->last = cf = scan_find_frame(sc, gpa >> 12);
	return cf && cf->ready && cf->mode == code_width(sc) &&
	       bit(cf->vetted, gpa & (PAGE - 1));
}

bool scan_write_touches_code(struct scanner *sc, uint64_t gpa, uint64_t len)
{
	struct code_frame *cf = scan_find_frame(sc, gpa >> 12);
	struct code_frame *prev = scan_find_frame(sc, (gpa >> 12) - 1);
	uint64_t off = gpa & (PAGE - 1), end = off + len, i;

	/* An instruction that starts in the previous frame may end in the
	 * first bytes of this one. */
	if (prev && prev->ready && prev->straddles_next && off < INSN_MAX)
		return true;
	if (!cf || !cf->ready)
		return false;
	for (i = off; i < end && i < PAGE; i++)
		if (bit(cf->code, i))
			return true;
	return false;
}

void scan_code_written(struct scanner *sc, uint64_t gpa)
{
	struct code_frame *cf = scan_find_frame(sc, gpa >> 12);
	struct code_frame *prev = scan_find_frame(sc, (gpa >> 12) - 1);

	if (cf)
		scan_unscan_frame(sc, cf);
	/* An instruction that starts in the previous frame may end here. */
	if (prev && prev->straddles_next)
		scan_unscan_frame(sc, prev);
}

void scan_get_stats(const struct scanner *sc, struct scan_stats *st)
{
	*st = sc->st;
	st->frames = sc->nframes;
}

uint64_t scan_code_mark(const struct scanner *sc)
{
	return sc->st.pages + sc->st.unscans + sc->st.copies;
}
