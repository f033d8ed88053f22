/* trtest: the portable part of the test helpers. mingw-w64 ships
 * dirent.h, so the folder listings serve both builds. */
#include "trtest.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int trtest_join(char *buf, size_t len, const char *dir, const char *name)
{
    int n = snprintf(buf, len, "%s%s%s", dir, plat_dir_sep(), name);
    return (n > 0 && (size_t)n < len) ? 0 : -1;
}

int trtest_scratch_make(trtest_scratch *s, const char *tag)
{
    if (trtest_temp_dir(tag, s->path, sizeof s->path) != 0)
        return -1;
    return trtest_join(s->db, sizeof s->db, s->path, "t.db");
}

int trtest_scratch_remove(const trtest_scratch *s)
{
    return trtest_remove_tree(s->path);
}

int trtest_scratch_setup(void **state)
{
    trtest_scratch *s = calloc(1, sizeof *s);
    if (!s || trtest_scratch_make(s, "scratch") != 0) {
        free(s);
        return -1;
    }
    *state = s;
    return 0;
}

int trtest_scratch_teardown(void **state)
{
    int rc = trtest_scratch_remove(*state);
    free(*state);
    return rc;
}

int trtest_cli_setup(void **state)
{
    trtest_cli_fixture *f = calloc(1, sizeof *f);
    if (!f || trtest_scratch_make(&f->dir, "cli") != 0) {
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

int trtest_cli_teardown(void **state)
{
    trtest_cli_fixture *f = *state;
    trtest_result_free(&f->res);
    int rc = trtest_scratch_remove(&f->dir);
    free(f);
    return rc;
}

static int is_dot(const char *name)
{
    return strcmp(name, ".") == 0 || strcmp(name, "..") == 0;
}

int trtest_count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (!is_dot(e->d_name))
            n++;
    closedir(d);
    return n;
}

int trtest_only_entry(const char *dir, char *buf, size_t len)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (is_dot(e->d_name))
            continue;
        if (n++ == 0)
            snprintf(buf, len, "%s", e->d_name);
    }
    closedir(d);
    return n == 1 ? 0 : -1;
}

int trtest_write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t len = strlen(text);
    int ok = fwrite(text, 1, len, f) == len;
    return (fclose(f) == 0 && ok) ? 0 : -1;
}

char *trtest_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t used = 0, cap = 0;
    if (!f)
        return NULL;
    for (;;) {
        if (cap - used < 4096) {
            char *grown = realloc(buf, cap + 65536);
            if (!grown) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = grown;
            cap += 65536;
        }
        size_t n = fread(buf + used, 1, cap - used - 1, f);
        used += n;
        if (n == 0)
            break;
    }
    fclose(f);
    buf[used] = '\0';
    if (len)
        *len = used;
    return buf;
}

int trtest_run_cli(const char *const *args, trtest_result *res)
{
    return trtest_run(TR_TEST_CLI, args, NULL, res);
}

int trtest_run_cli_db(trtest_result *res, const char *db, const char *dns,
                      const char *const *args)
{
    const char *argv[32];
    size_t n = 0;
    argv[n++] = "--db";
    argv[n++] = db;
    if (dns) {
        argv[n++] = "--dns";
        argv[n++] = dns;
    }
    for (; *args && n < sizeof argv / sizeof argv[0] - 1; args++)
        argv[n++] = *args;
    argv[n] = NULL;
    trtest_result_free(res);
    if (trtest_run_cli(argv, res) != 0)
        return -1;
    trtest_strip_cr(res->out);
    trtest_strip_cr(res->err);
    return 0;
}

void trtest_strip_cr(char *s)
{
    char *w = s;
    for (; *s; s++)
        if (*s != '\r')
            *w++ = *s;
    *w = '\0';
}

void trtest_result_free(trtest_result *res)
{
    free(res->out);
    free(res->err);
    res->out = res->err = NULL;
}
