/*
 * The scanner's records (see scan-internal.h for their layout): per
 * guest frame what was vetted there, the patches that hold the original
 * bytes under each int3, and the edges that other frames' direct
 * transfers make into it.  Frames and patches are found by hash; all
 * three live in pools sized at scan_create.
 *
 * Forgetting is the one subtle part.  A frame's scan is dropped when it
 * is written (its bytes come back, scan_unscan_frame) or when a pool is
 * full (every scan is dropped, scan_unscan_all).  Its generation moves
 * on, so the edges it recorded into other frames die with it, while the
 * edges into it stay: they are where its rescan starts (scan.c).
 */
#include <stdlib.h>
#include <string.h>

#include "cpu/vcpu.h"
#include "engine/scan.h"
#include "engine/scan-internal.h"

static uint32_t hash(uint64_t k, uint32_t size)
{
	k ^= k >> 29;
	k *= 0xbf58476d1ce4e5b9ull;
	return (uint32_t)(k >> 32) & (size - 1);
}

static uint32_t pow2(uint64_t n)
{
	uint32_t p = 1;

	while (p < n)
		p <<= 1;
	return p;
}

static void free_all_edges(struct scanner *sc)
{
	unsigned i;

	for (i = 0; i < sc->max_edges; i++)
		sc->edges[i].next = i + 1 < sc->max_edges ? i + 1 : NIL;
	sc->edge_free = sc->max_edges ? 0 : NIL;
}

/* The pools, sized once: scanning itself allocates nothing, and when a
 * pool is full every scan is forgotten (scan_unscan_all).  0, or -1 when
 * memory is short (scan_records_free frees what was had). */
int scan_records_init(struct scanner *sc, unsigned max_frames,
		      unsigned max_patches)
{
	unsigned i;

	sc->max_frames = max_frames;
	sc->max_patches = max_patches;
	sc->hash_size = pow2(2ull * (max_frames > max_patches ? max_frames
							       : max_patches));
	sc->frames = calloc(max_frames, sizeof(*sc->frames));
	sc->frame_hash = malloc(sc->hash_size * sizeof(uint32_t));
	sc->patches = calloc(max_patches, sizeof(*sc->patches));
	sc->patch_hash = malloc(sc->hash_size * sizeof(uint32_t));
	sc->max_edges = max_patches;
	sc->edges = malloc(sc->max_edges * sizeof(*sc->edges));
	if (!sc->frames || !sc->frame_hash || !sc->patches ||
	    !sc->patch_hash || !sc->edges)
		return -1;
	memset(sc->frame_hash, 0xff, sc->hash_size * sizeof(uint32_t));
	memset(sc->patch_hash, 0xff, sc->hash_size * sizeof(uint32_t));
	for (i = 0; i < max_patches; i++)
		sc->patches[i].next = i + 1 < max_patches ? i + 1 : NIL;
	free_all_edges(sc);
	return 0;
}

void scan_records_free(struct scanner *sc)
{
	free(sc->frames);
	free(sc->frame_hash);
	free(sc->patches);
	free(sc->patch_hash);
	free(sc->edges);
}

struct code_frame *scan_find_frame(struct scanner *sc, uint64_t frame)
{
	uint32_t i = sc->frame_hash[hash(frame, sc->hash_size)];

	for (; i != NIL; i = sc->frames[i].hash_next)
		if (sc->frames[i].frame == frame)
			return &sc->frames[i];
	return NULL;
}

struct patch *scan_find_patch(struct scanner *sc, uint64_t gpa)
{
	uint32_t i = sc->patch_hash[hash(gpa, sc->hash_size)];

	for (; i != NIL; i = sc->patches[i].hash_next)
		if (sc->patches[i].gpa == gpa)
			return &sc->patches[i];
	return NULL;
}

static void unlink_patch(struct scanner *sc, struct patch *p)
{
	uint32_t *link = &sc->patch_hash[hash(p->gpa, sc->hash_size)];

	while (*link != NIL && &sc->patches[*link] != p)
		link = &sc->patches[*link].hash_next;
	if (*link != NIL)
		*link = p->hash_next;
}

/* Put a frame's original bytes back and forget what was vetted there.
 * The edges it recorded into other frames die with its generation; the
 * edges into it stay, for its rescan. */
void scan_unscan_frame(struct scanner *sc, struct code_frame *cf)
{
	uint32_t i = cf->patches, next;

	for (; i != NIL; i = next) {
		struct patch *p = &sc->patches[i];

		next = p->next;
		sc->cpu->mem.ram[p->gpa] = p->bytes[0];
		unlink_patch(sc, p);
		p->next = sc->patch_free;
		sc->patch_free = i;
		sc->st.live_patches--;
	}
	cf->patches = NIL;
	cf->gen++;
	memset(cf->vetted, 0, sizeof(cf->vetted));
	memset(cf->code, 0, sizeof(cf->code));
	if (cf->ready)
		shadow_code_dirty(sc->cpu->mem.mmu, cf->frame << 12);
	cf->ready = false;
	sc->st.unscans++;
}

/* Out of room: forget every scan (the frames rescan as they run). */
void scan_unscan_all(struct scanner *sc)
{
	unsigned i;

	for (i = 0; i < sc->nframes; i++)
		scan_unscan_frame(sc, &sc->frames[i]);
	memset(sc->frames, 0, sc->nframes * sizeof(*sc->frames));
	memset(sc->frame_hash, 0xff, sc->hash_size * sizeof(uint32_t));
	sc->nframes = 0;
	sc->last = NULL;
	free_all_edges(sc);
}

struct code_frame *scan_get_frame(struct scanner *sc, uint64_t frame)
{
	struct code_frame *cf = scan_find_frame(sc, frame);
	uint32_t b;

	if (cf)
		return cf;
	if (sc->nframes == sc->max_frames)
		scan_unscan_all(sc);
	cf = &sc->frames[sc->nframes];
	memset(cf, 0, sizeof(*cf));
	cf->frame = frame;
	cf->patches = NIL;
	cf->edges = NIL;
	b = hash(frame, sc->hash_size);
	cf->hash_next = sc->frame_hash[b];
	sc->frame_hash[b] = sc->nframes++;
	return cf;
}

bool scan_add_patch(struct scanner *sc, struct code_frame *cf, uint64_t gpa,
		    const cs_insn *insn)
{
	uint32_t i = sc->patch_free, b;
	struct patch *p;

	if (i == NIL)
		return false;
	sc->patch_free = sc->patches[i].next;
	p = &sc->patches[i];
	p->gpa = gpa;
	p->len = insn->size;
	memcpy(p->bytes, insn->bytes, insn->size);
	p->next = cf->patches;
	cf->patches = i;
	b = hash(gpa, sc->hash_size);
	p->hash_next = sc->patch_hash[b];
	sc->patch_hash[b] = i;
	sc->cpu->mem.ram[gpa] = 0xcc;                   /* int3 */
	sc->st.patches++;
	sc->st.live_patches++;
	return true;
}

/* The edge's source frame, if the scan that recorded the edge stands. */
const struct code_frame *scan_edge_source(struct scanner *sc,
					  const struct edge *e)
{
	const struct code_frame *src = scan_find_frame(sc, e->src);

	return src && src->gen == e->gen ? src : NULL;
}

/* Record a transfer from frame src into cf at off, dropping dead edges
 * on the way; false when the pool is empty. */
bool scan_add_edge(struct scanner *sc, struct code_frame *cf,
		   uint64_t src, unsigned off)
{
	const struct code_frame *from = scan_find_frame(sc, src);
	uint32_t *link = &cf->edges, i;

	if (!from)
		return true;
	while ((i = *link) != NIL) {
		struct edge *e = &sc->edges[i];

		if (!scan_edge_source(sc, e)) {
			*link = e->next;
			e->next = sc->edge_free;
			sc->edge_free = i;
			continue;
		}
		if (e->src == src && e->off == off && e->gen == from->gen)
			return true;
		link = &e->next;
	}
	if ((i = sc->edge_free) == NIL)
		return false;
	sc->edge_free = sc->edges[i].next;
	sc->edges[i] = (struct edge){ .src = src, .gen = from->gen,
				      .off = (uint16_t)off, .next = cf->edges };
	cf->edges = i;
	return true;
}
