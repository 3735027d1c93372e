/*
 * The scanner: x86 is not classically virtualizable (Popek and Goldberg)
 * because some sensitive instructions do not trap at CPL 3.  Before guest
 * code first runs, the scanner decodes it and patches those instructions
 * (and the indirect control transfers) into int3, keeping the originals;
 * the monitor emulates them when they trap.  See scan.c for how it
 * guarantees that no unscanned instruction ever runs.
 */
#ifndef TRAPEZE_SCAN_H
#define TRAPEZE_SCAN_H

#include <stdbool.h>
#include <stdint.h>
#include <capstone/capstone.h>

struct scanner;
struct vcpu;

/* A scanner for v's code, with room for so many frames and patches
 * (NULL: out of memory).  It asks v's memory to be told of the monitor's
 * own stores, and the shadow MMU to map code only once it is scanned. */
struct scanner *scan_create(struct vcpu *v, unsigned max_frames,
			    unsigned max_patches);
void scan_destroy(struct scanner *sc);
/* Code was scanned from gva: so many pages, instructions and patches
 * (the tracer's hook). */
typedef void (*scan_seen_fn)(void *ctx, uint64_t gva, uint64_t pages,
			     uint64_t insns, uint64_t patches);
void scan_on_scan(struct scanner *sc, scan_seen_fn fn, void *ctx);

/* Scan from gva and everything reachable from it by direct control
 * flow; the frames scanned become executable. */
void scan_from(struct scanner *sc, uint64_t gva);
/* An instruction fetch at addr faulted on a page not yet scanned. */
void scan_fetch_fault(struct scanner *sc, uint64_t addr);
/* Before the guest resumes: make sure RIP is a scanned instruction start. */
void scan_check_rip(struct scanner *sc);
/* The original of the instruction patched at gva, or NULL. */
const cs_insn *scan_patched_insn(struct scanner *sc, uint64_t gva);
/* Is gpa the start of an instruction vetted in a scanned frame, for the
 * current code width? */
bool scan_vetted(struct scanner *sc, uint64_t gpa);
/* The same when the caller knows gva's guest-physical address. */
const cs_insn *scan_patch_at(struct scanner *sc, uint64_t gva, uint64_t gpa);
/* A store is about to change (or changed) guest-physical page gpa:
 * put its original bytes back and forget its scan. */
void scan_code_written(struct scanner *sc, uint64_t gpa);
/* Do the len bytes at gpa (within one page) hold any byte of a vetted
 * instruction?  Data that shares a page with code does not. */
bool scan_write_touches_code(struct scanner *sc, uint64_t gpa, uint64_t len);

enum scan_class {
	SC_PLAIN,        /* runs natively */
	SC_SENSITIVE,    /* sensitive, does not trap by itself: patch */
	SC_INDIRECT,     /* indirect transfer: patch so the target is checked */
	SC_JUMP,         /* direct unconditional jump: follow, block ends */
	SC_BRANCH,       /* direct conditional branch or call: follow both */
	SC_END,          /* control never falls through (ud2) */
};
/* How the scanner treats an instruction (exported for the unit tests). */
enum scan_class scan_classify(const cs_insn *insn);

struct scan_stats {
	uint64_t pages, insns, patches, unscans, rescans_at_rip;
	uint64_t copies;                 /* copied frames given their bytes */
	uint64_t ns;                     /* time spent scanning */
	unsigned frames, live_patches;
};
void scan_get_stats(const struct scanner *sc, struct scan_stats *st);
/* A count that moves with any scan or unscan: what was learned of the
 * guest's code (an instruction decoded, a patch found) holds while it
 * stays put. */
uint64_t scan_code_mark(const struct scanner *sc);

#endif
