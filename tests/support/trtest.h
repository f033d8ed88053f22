/* trtest: helpers shared by the cmocka tests of every module: temporary
 * folders, small files, and running the built `tlsrouter` (TR_TEST_CLI) or
 * another program with its exit status and output captured. */
#ifndef TR_TRTEST_H
#define TR_TRTEST_H

#include <stddef.h>

/* Path of the tlsrouter executable under test; tests/CMakeLists.txt sets it
 * (in the Windows build, the path of tlsrouter.exe run under Wine). */
#ifndef TR_TEST_CLI
#define TR_TEST_CLI "tlsrouter"
#endif

/* A fresh empty folder under the system temp folder; 0 on success. */
int trtest_temp_dir(const char *tag, char *buf, size_t len);
/* Remove a folder and everything in it (read-only files too); 0 on success. */
int trtest_remove_tree(const char *path);
/* buf = dir + separator + name; 0 on success. */
int trtest_join(char *buf, size_t len, const char *dir, const char *name);

/* Write text to a file, replacing it; 0 on success. */
int trtest_write_file(const char *path, const char *text);
/* Read a whole file into a malloc'd NUL-terminated buffer (free it); NULL on error. */
char *trtest_read_file(const char *path, size_t *len);

/* Make a file read-only in a way that holds for this process, even when it
 * runs as root (which ignores permission bits on Linux: the immutable flag
 * is used there). Returns 0 only if opening the file for writing now fails;
 * -1 if that cannot be arranged here (the caller skips). */
int trtest_make_readonly(const char *path);
/* Undo trtest_make_readonly; 0 on success. */
int trtest_make_writable(const char *path);

/* Set (value non-NULL) or unset an environment variable for this process
 * and the programs it runs. */
void trtest_setenv(const char *name, const char *value);

typedef struct {
    int exit_code;   /* the program's exit status; -1 if it could not run or crashed */
    char *out;       /* captured stdout, NUL-terminated, never NULL after a run */
    char *err;       /* captured stderr */
} trtest_result;

/* Run program with args (NULL-terminated, not including the program) and
 * stdin_text (NULL: empty input); wait for it. Safe to call from several
 * threads at once. Returns 0 when the program ran (see exit_code). */
int trtest_run(const char *program, const char *const *args, const char *stdin_text,
               trtest_result *res);
/* trtest_run of TR_TEST_CLI. */
int trtest_run_cli(const char *const *args, trtest_result *res);
void trtest_result_free(trtest_result *res);

#endif
