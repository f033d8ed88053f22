/* trtest: the portable part of the test helpers. */
#include "trtest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plat.h"

int trtest_temp_dir(const char *tag, char *buf, size_t len)
{
    return plat_make_temp_dir(tag, buf, len);
}

int trtest_join(char *buf, size_t len, const char *dir, const char *name)
{
    int n = snprintf(buf, len, "%s%s%s", dir, plat_dir_sep(), name);
    return (n > 0 && (size_t)n < len) ? 0 : -1;
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

void trtest_result_free(trtest_result *res)
{
    free(res->out);
    free(res->err);
    res->out = res->err = NULL;
}
