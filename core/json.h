/* json: a small streaming JSON writer for machine-readable output. It keeps
 * track of commas, escapes strings (control characters, quotes, backslash)
 * and replaces invalid UTF-8 with U+FFFD, so the output always parses. */
#ifndef TR_JSON_H
#define TR_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 32

typedef struct {
    FILE *out;
    int depth;
    bool need_comma[JSON_MAX_DEPTH + 1];
    bool after_key;
} json_writer;

void json_init(json_writer *w, FILE *out);
void json_object_begin(json_writer *w);
void json_object_end(json_writer *w);
void json_array_begin(json_writer *w);
void json_array_end(json_writer *w);
/* Inside an object: the key of the next value. */
void json_key(json_writer *w, const char *key);
void json_string(json_writer *w, const char *s);  /* NULL writes null */
void json_int(json_writer *w, int64_t v);
/* v / 10^decimals as a number with that many digits after the point
 * (json_fixed(w, 12345, 3) writes 12.345); decimals 0..9. */
void json_fixed(json_writer *w, int64_t v, unsigned decimals);
void json_bool(json_writer *w, bool v);
void json_null(json_writer *w);
/* Write s as a quoted, escaped JSON string to out. */
void json_write_escaped(FILE *out, const char *s);

#endif
