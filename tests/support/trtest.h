/* trtest: helpers shared by the cmocka tests of every module: temporary
 * folders, small files, and running the built `tlsrouter` (TR_TEST_CLI) or
 * another program with its exit status and output captured. */
#ifndef TR_TRTEST_H
#define TR_TRTEST_H

#include <stddef.h>

#include "plat.h"

/* Path of the tlsrouter executable under test; tests/CMakeLists.txt sets it
 * (in the Windows build, the path of tlsrouter.exe run under Wine). */
#ifndef TR_TEST_CLI
#define TR_TEST_CLI "tlsrouter"
#endif

/* A fresh empty folder under the system temp folder, its name starting
 * tlsrouter-<tag>-: the one way tests and benchmarks make their folders.
 * 0 on success. */
int trtest_temp_dir(const char *tag, char *buf, size_t len);
/* Remove a folder and everything in it (read-only files too); 0 on success. */
int trtest_remove_tree(const char *path);
/* buf = dir + separator + name; 0 on success. */
int trtest_join(char *buf, size_t len, const char *dir, const char *name);

/* A test's own folder and the path of a database in it (dir/t.db, not
 * created: the test opens it as it likes). */
typedef struct {
    char path[PLAT_PATH_MAX];   /* the folder */
    char db[PLAT_PATH_MAX];
} trtest_scratch;

/* trtest_temp_dir and the database path; 0 on success. */
int trtest_scratch_make(trtest_scratch *s, const char *tag);
/* Removes the folder and everything in it; 0 on success. */
int trtest_scratch_remove(const trtest_scratch *s);
/* The cmocka setup and teardown of tests whose state is a trtest_scratch
 * of their own and nothing else (folders tlsrouter-scratch-*). */
int trtest_scratch_setup(void **state);
int trtest_scratch_teardown(void **state);
#define TRTEST_SCRATCH_TEST(test) \
    cmocka_unit_test_setup_teardown(test, trtest_scratch_setup, trtest_scratch_teardown)

/* Entries of a folder, not counting "." and ".."; -1 when it cannot be
 * listed (absent). */
int trtest_count_entries(const char *dir);
/* The name of a folder's only entry into buf; -1 unless there is exactly
 * one. */
int trtest_only_entry(const char *dir, char *buf, size_t len);

/* Write text to a file, replacing it; 0 on success. */
int trtest_write_file(const char *path, const char *text);
/* Read a whole file into a malloc'd NUL-terminated buffer (free it); NULL on error. */
char *trtest_read_file(const char *path, size_t *len);

/* Read-only databases, files and folders. Permission bits bind everyone
 * but root, and CI runs the tests as root; so the checks that need them to
 * bind run as an unprivileged user: on POSIX, when this process is root,
 * as nobody (group nogroup, no supplementary groups), in a child process.
 * On Windows the check runs in this process (under Wine as root the Linux
 * immutable flag makes a file read-only for root too). */

/* Make a file read-only: permission bits 0444 on POSIX (check the effect
 * through trtest_unprivileged); the read-only attribute on Windows, where
 * 0 means opening the file for writing now fails. -1 if that cannot be
 * arranged here (Windows under Wine as root without the immutable flag:
 * the caller skips). */
int trtest_make_readonly(const char *path);
/* Undo trtest_make_readonly; 0 on success. */
int trtest_make_writable(const char *path);

/* Hands tree (a test's own folder) and everything in it to the user the
 * unprivileged checks run as, so they can work there (POSIX as root: chown
 * to nobody; otherwise nothing to do). 0 on success. */
int trtest_give_to_unprivileged(const char *tree);

/* Runs fn(arg) as that user, in a child process on POSIX (whoever runs
 * the test, so the check is the same everywhere), in this process on
 * Windows. Call it while the test runs no threads of its own. fn must not
 * use cmocka's asserts (a child would carry on with cmocka's run): it
 * returns 0 when everything is as expected, else prints why on stderr and
 * returns 1 to 100. Returns fn's result, or -1 when it could not run as
 * that user. */
int trtest_unprivileged(int (*fn)(void *arg), void *arg);

/* Sets a file's last-write time (wall clock, ms since the Unix epoch), to
 * make files look old. 0 on success. */
int trtest_set_mtime(const char *path, long long wall_ms);

/* This process's private memory in kB, for the benchmarks: Linux the
 * private pages of /proc/self/smaps_rollup (resident, not shared), Windows
 * the commit charge (private bytes). -1 unknown. */
long trtest_private_kb(void);
/* Bytes this process has allocated and not freed, as its C library's
 * allocator counts them (Linux: glibc's mallinfo2, every arena; Windows:
 * the C runtime's heap, walked), in kB: what the program holds, unlike
 * private memory, which also counts what the allocator keeps for reuse.
 * -1 unknown. */
long trtest_heap_in_use_kb(void);

/* Set (value non-NULL) or unset an environment variable for this process
 * and the programs it runs. */
void trtest_setenv(const char *name, const char *value);

typedef struct {
    int exit_code;   /* the program's exit status; -1 if it could not run or crashed */
    char *out;       /* captured stdout, NUL-terminated, never NULL after a run */
    char *err;       /* captured stderr */
} trtest_result;

/* Tests that run the command on a scratch database: the folder and the
 * last run's result, with their cmocka setup and teardown. */
typedef struct {
    trtest_scratch dir;
    trtest_result res;
} trtest_cli_fixture;
int trtest_cli_setup(void **state);
int trtest_cli_teardown(void **state);

/* Run program with args (NULL-terminated, not including the program) and
 * stdin_text (NULL: empty input); wait for it. Safe to call from several
 * threads at once. Returns 0 when the program ran (see exit_code). */
int trtest_run(const char *program, const char *const *args, const char *stdin_text,
               trtest_result *res);
/* trtest_run of TR_TEST_CLI. */
int trtest_run_cli(const char *const *args, trtest_result *res);
/* trtest_run_cli, the program running as the user of trtest_unprivileged. */
int trtest_run_cli_unprivileged(const char *const *args, trtest_result *res);
/* trtest_run_cli of `tlsrouter --db DB [--dns DNS] args...` (dns NULL:
 * without --dns; args NULL-terminated, at most 27) into res, which is freed
 * first, so a fixture keeps one result for all its runs. The output's line
 * ends are LF (trtest_strip_cr). 0 when the program ran. */
int trtest_run_cli_db(trtest_result *res, const char *db, const char *dns,
                      const char *const *args);
void trtest_result_free(trtest_result *res);
/* Removes every CR from s: Windows writes text output with CRLF, the
 * tests compare with LF. */
void trtest_strip_cr(char *s);

#endif
