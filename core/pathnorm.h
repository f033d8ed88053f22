/* pathnorm: folder paths compared by spelling. Two spellings of one folder
 * ("C:\Inetpub\mailroot\Pickup" and "c:/inetpub/MAILROOT/pickup/") must
 * compare equal when a rule's destination is checked against the source
 * virtual server's own Pickup folder. Purely lexical: links, junctions,
 * 8.3 short names and mapped drives are not resolved, so "not the same"
 * means "not the same spelling". */
#ifndef TR_PATHNORM_H
#define TR_PATHNORM_H

#include <stddef.h>

typedef enum {
    PATHNORM_POSIX,    /* '/' only, case-sensitive */
    PATHNORM_WINDOWS   /* '/' and '\', drives, UNC, \\?\, ASCII case-insensitive */
} pathnorm_rules;

/* The rules of the platform this was built for. */
pathnorm_rules pathnorm_native(void);

/* One canonical spelling of path: separators unified and collapsed, "."
 * dropped, ".." resolved without climbing above the root, no trailing
 * separator (except a bare root); under Windows rules also lower case,
 * "\\?\" dropped and the trailing dots and spaces Win32 ignores in a name
 * removed. 0, or -1 when path is empty or out does not hold the result. */
int pathnorm_normalise(const char *path, pathnorm_rules rules, char *out, size_t len);

/* 1 when a and b spell the same folder; 0 when they do not, or when either
 * cannot be normalised (then nobody can tell). */
int pathnorm_same(const char *a, const char *b, pathnorm_rules rules);

#endif
