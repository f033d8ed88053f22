/* errtext: a message formatted into a caller's fixed buffer, the way core
 * functions with an (err, errlen) pair report what went wrong. */
#ifndef TR_ERRTEXT_H
#define TR_ERRTEXT_H

#include <stddef.h>

/* printf into err, a buffer of errlen bytes: always NUL-terminated, cut
 * when longer. Nothing happens when err is NULL or errlen 0, so a function
 * may pass on the NULL err its caller gave it. */
#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
void errtext_set(char *err, size_t errlen, const char *fmt, ...);

#endif
