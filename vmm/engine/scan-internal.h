/*
 * What the scanner's files share: scan-classify.c says what each
 * instruction is to the walk, scan.c walks the guest's code and answers
 * the trap path.
 */
#ifndef TRAPEZE_SCAN_INTERNAL_H
#define TRAPEZE_SCAN_INTERNAL_H

#include <stdbool.h>
#include <capstone/capstone.h>

#include "engine/scan.h"

/* scan_classify, with the rules that depend on the code's width. */
enum scan_class scan_class_in_mode(const cs_insn *insn, bool long64);
/* Does control stop after this (patched) instruction in its block? */
bool scan_ends_block(const cs_insn *insn, enum scan_class c);

#endif
