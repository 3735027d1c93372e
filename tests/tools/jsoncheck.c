/*
 * jsoncheck: every line of stdin must be one JSON object (RFC 8259) with
 * at least the top-level keys named on the command line.  Prints the
 * number of objects; exit status 1 at the first bad line, with why.
 * Used to check `trapeze trace --json` without a JSON package.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct parser {
	const char *p;
	const char *why;
	int depth;
	char keys[64][32];      /* the top-level keys seen */
	int nkeys;
};

static bool value(struct parser *ps);

static void skip_ws(struct parser *ps)
{
	while (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\r' ||
	       *ps->p == '\n')
		ps->p++;
}

static bool fail(struct parser *ps, const char *why)
{
	if (!ps->why)
		ps->why = why;
	return false;
}

/* A string; its text (cut to len) in out when out is given. */
static bool string(struct parser *ps, char *out, size_t len)
{
	size_t n = 0;
	int i;

	if (*ps->p++ != '"')
		return fail(ps, "expected a string");
	for (;;) {
		unsigned char c = (unsigned char)*ps->p++;

		if (c == '"')
			break;
		if (c < 0x20)
			return fail(ps, "control character in a string");
		if (c == '\\') {
			c = (unsigned char)*ps->p++;
			if (c == 'u') {
				for (i = 0; i < 4; i++)
					if (!isxdigit((unsigned char)*ps->p++))
						return fail(ps, "bad \\u escape");
				c = '?';
			} else if (!strchr("\"\\/bfnrt", c) || !c)
				return fail(ps, "bad escape");
		}
		if (out && n + 1 < len)
			out[n++] = (char)c;
	}
	if (out)
		out[n] = 0;
	return true;
}

static bool number(struct parser *ps)
{
	const char *s = ps->p;

	if (*ps->p == '-')
		ps->p++;
	if (*ps->p == '0')
		ps->p++;
	else if (isdigit((unsigned char)*ps->p))
		while (isdigit((unsigned char)*ps->p))
			ps->p++;
	else
		return fail(ps, "bad number");
	if (*ps->p == '.') {
		ps->p++;
		if (!isdigit((unsigned char)*ps->p))
			return fail(ps, "bad fraction");
		while (isdigit((unsigned char)*ps->p))
			ps->p++;
	}
	if (*ps->p == 'e' || *ps->p == 'E') {
		ps->p++;
		if (*ps->p == '+' || *ps->p == '-')
			ps->p++;
		if (!isdigit((unsigned char)*ps->p))
			return fail(ps, "bad exponent");
		while (isdigit((unsigned char)*ps->p))
			ps->p++;
	}
	return ps->p > s;
}

static bool word(struct parser *ps, const char *w)
{
	size_t n = strlen(w);

	if (strncmp(ps->p, w, n))
		return fail(ps, "unexpected character");
	ps->p += n;
	return true;
}

static bool object(struct parser *ps)
{
	bool top = ps->depth == 1;

	ps->p++;
	skip_ws(ps);
	if (*ps->p == '}') {
		ps->p++;
		return true;
	}
	for (;;) {
		char key[32];

		skip_ws(ps);
		if (!string(ps, key, sizeof(key)))
			return false;
		if (top && ps->nkeys < 64)
			memcpy(ps->keys[ps->nkeys++], key, sizeof(key));
		skip_ws(ps);
		if (*ps->p++ != ':')
			return fail(ps, "expected ':'");
		if (!value(ps))
			return false;
		skip_ws(ps);
		if (*ps->p == '}') {
			ps->p++;
			return true;
		}
		if (*ps->p++ != ',')
			return fail(ps, "expected ',' or '}'");
	}
}

static bool array(struct parser *ps)
{
	ps->p++;
	skip_ws(ps);
	if (*ps->p == ']') {
		ps->p++;
		return true;
	}
	for (;;) {
		if (!value(ps))
			return false;
		skip_ws(ps);
		if (*ps->p == ']') {
			ps->p++;
			return true;
		}
		if (*ps->p++ != ',')
			return fail(ps, "expected ',' or ']'");
	}
}

static bool value(struct parser *ps)
{
	bool ok;

	skip_ws(ps);
	if (++ps->depth > 64)
		return fail(ps, "nested too deep");
	switch (*ps->p) {
	case '{': ok = object(ps); break;
	case '[': ok = array(ps); break;
	case '"': ok = string(ps, NULL, 0); break;
	case 't': ok = word(ps, "true"); break;
	case 'f': ok = word(ps, "false"); break;
	case 'n': ok = word(ps, "null"); break;
	default: ok = number(ps); break;
	}
	ps->depth--;
	return ok;
}

int main(int argc, char **argv)
{
	char *line = NULL;
	size_t cap = 0;
	unsigned long n = 0;
	int i, k;

	while (getline(&line, &cap, stdin) > 0) {
		struct parser ps = { .p = line };

		n++;
		skip_ws(&ps);
		if (*ps.p != '{')
			fail(&ps, "not an object");
		else if (value(&ps)) {
			skip_ws(&ps);
			if (*ps.p)
				fail(&ps, "text after the object");
		}
		for (i = 1; !ps.why && i < argc; i++) {
			for (k = 0; k < ps.nkeys; k++)
				if (!strcmp(ps.keys[k], argv[i]))
					break;
			if (k == ps.nkeys) {
				fprintf(stderr, "line %lu: no key \"%s\"\n", n,
					argv[i]);
				return 1;
			}
		}
		if (ps.why) {
			fprintf(stderr, "line %lu: %s at column %ld\n", n,
				ps.why, (long)(ps.p - line));
			return 1;
		}
	}
	free(line);
	printf("%lu objects\n", n);
	return 0;
}
