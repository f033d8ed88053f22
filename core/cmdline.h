/* cmdline: the program's arguments as UTF-8, the encoding of every path and
 * name in the core. On Windows main's argv is in the ANSI code page, which
 * mangles names like "bücher.de" or "C:\Müller\Pickup", so the arguments are
 * read again from the wide command line. */
#ifndef TR_CMDLINE_H
#define TR_CMDLINE_H

/* *out receives argc UTF-8 strings and a NULL; on POSIX it is argv itself.
 * Returns the argument count, or -1 when the conversion failed. */
int cmdline_utf8(int argc, char **argv, char ***out);
/* Release what cmdline_utf8 allocated (nothing on POSIX). */
void cmdline_free(char **args);

#endif
