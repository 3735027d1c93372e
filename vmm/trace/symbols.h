/*
 * The guest's symbol table, for naming addresses (func+0x1c).
 */
#ifndef TRAPEZE_SYMBOLS_H
#define TRAPEZE_SYMBOLS_H

#include <stddef.h>
#include <stdint.h>

struct symbols;

/* Read the function and object symbols of an ELF64 file; NULL if it has
 * none (a stripped guest is fine: addresses stay numeric). */
struct symbols *symbols_load(const char *path);
void symbols_free(struct symbols *s);
/* The nearest symbol at or below addr within its size (or, for symbols
 * without a size, before the next one): "name+0x1c" into buf. */
const char *symbols_name(const struct symbols *s, uint64_t addr, char *buf,
			 size_t len);

#endif
