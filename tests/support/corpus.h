/* corpus: the files of one folder, for replaying kept fuzz inputs. */
#ifndef TR_CORPUS_H
#define TR_CORPUS_H

#include <stddef.h>

/* Call fn with the path of every regular file directly in dir (names
 * starting with a dot skipped), in no particular order. Returns the number
 * of files, or -1 when dir cannot be read or fn returned non-zero. */
long corpus_each(const char *dir, int (*fn)(const char *path, void *arg), void *arg);

#endif
