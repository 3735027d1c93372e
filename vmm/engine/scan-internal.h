/*
 * What the scanner's files share.  scan.c walks the guest's code and
 * answers the trap path; scan-classify.c says what each instruction is
 * to the walk; scan-frames.c keeps the records the walk leaves behind:
 * per frame what was vetted, the patches, the edges between frames.
 */
#ifndef TRAPEZE_SCAN_INTERNAL_H
#define TRAPEZE_SCAN_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <capstone/capstone.h>

#include "cpu/decode.h"
#include "engine/scan.h"

#define NIL 0xffffffffu
#define WORKLIST 1024
#define PAGE 4096u

struct code_frame {
	uint64_t frame;                 /* guest-physical address >> 12 */
	uint8_t vetted[PAGE / 8];       /* an instruction starts here */
	uint8_t code[PAGE / 8];         /* a vetted instruction covers it */
	uint32_t patches;               /* its patch list */
	uint32_t edges;                 /* transfers into it from others */
	uint32_t gen;                   /* bumped when its scan is dropped */
	uint32_t hash_next;
	uint8_t mode;                   /* code width it was decoded for */
	bool ready, straddles_next;
};

/* A direct transfer from frame src into offset off of another frame. */
struct edge {
	uint64_t src;
	uint32_t gen;                   /* src's generation when scanned */
	uint16_t off;
	uint32_t next;
};

struct work {
	uint64_t gva;
	uint64_t src;                   /* frame it came from, or NO_SRC */
};
#define NO_SRC UINT64_MAX

struct patch {
	uint64_t gpa;                   /* where the int3 is */
	uint8_t len;
	uint8_t bytes[INSN_MAX];        /* the original instruction */
	uint32_t next;                  /* next patch of the same frame */
	uint32_t hash_next;
};

struct scanner {
	struct vcpu *cpu;               /* whose code it vets */
	scan_seen_fn seen;              /* the tracer's, or NULL */
	void *seen_ctx;
	struct code_frame *frames;
	unsigned max_frames, nframes;
	uint32_t *frame_hash, hash_size;
	struct patch *patches;
	unsigned max_patches;
	uint32_t patch_free;
	uint32_t *patch_hash;
	struct edge *edges;
	unsigned max_edges;
	uint32_t edge_free;
	csh cs[2];                      /* 64-bit and 32-bit */
	cs_insn *insn;
	struct work work[WORKLIST];
	unsigned nwork;
	struct code_frame *last;        /* scan_vetted's last answer */
	struct scan_stats st;
};

/* ---- the offset sets of a frame (vetted, code) ----------------------- */

static inline bool bit(const uint8_t *set, unsigned off)
{
	return (set[off / 8] >> (off % 8)) & 1;
}

static inline void set_bit(uint8_t *set, unsigned off)
{
	set[off / 8] |= 1u << (off % 8);
}

/* ---- scan-classify.c ------------------------------------------------- */

/* scan_classify, with the rules that depend on the code's width. */
enum scan_class scan_class_in_mode(const cs_insn *insn, bool long64);
/* Does control stop after this (patched) instruction in its block? */
bool scan_ends_block(const cs_insn *insn, enum scan_class c);

/* ---- scan-frames.c --------------------------------------------------- */

int scan_records_init(struct scanner *sc, unsigned max_frames,
		      unsigned max_patches);
void scan_records_free(struct scanner *sc);
/* The record of a guest frame (address >> 12), or NULL. */
struct code_frame *scan_find_frame(struct scanner *sc, uint64_t frame);
/* The same, made if there is none (a full pool forgets every scan). */
struct code_frame *scan_get_frame(struct scanner *sc, uint64_t frame);
/* The patch whose int3 is at gpa, or NULL. */
struct patch *scan_find_patch(struct scanner *sc, uint64_t gpa);
/* Plant an int3 at gpa over insn, keeping its bytes; false: pool full. */
bool scan_add_patch(struct scanner *sc, struct code_frame *cf, uint64_t gpa,
		    const cs_insn *insn);
void scan_unscan_frame(struct scanner *sc, struct code_frame *cf);
void scan_unscan_all(struct scanner *sc);
const struct code_frame *scan_edge_source(struct scanner *sc,
					  const struct edge *e);
bool scan_add_edge(struct scanner *sc, struct code_frame *cf,
		   uint64_t src, unsigned off);

#endif
