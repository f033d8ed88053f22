/* Test helpers for the routing tests. mingw-w64 ships dirent.h and
 * unistd.h, so the same code serves both builds. */
#include "route_fixture.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *rf_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap + 1);
    while (buf) {
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (n < cap)
            break;
        char *nb = realloc(buf, cap * 2 + 1);
        if (!nb) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = nb;
        cap *= 2;
    }
    fclose(f);
    if (buf) {
        buf[n] = '\0';
        if (len)
            *len = n;
    }
    return buf;
}

static int is_dot(const char *name)
{
    return strcmp(name, ".") == 0 || strcmp(name, "..") == 0;
}

int rf_count_entries(const char *dir)
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

int rf_only_entry(const char *dir, char *buf, size_t len)
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

void rf_remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) {
        remove(dir);
        return;
    }
    struct dirent *e;
    char path[2048];
    while ((e = readdir(d)) != NULL) {
        if (is_dot(e->d_name))
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (remove(path) != 0)
            rf_remove_tree(path);
    }
    closedir(d);
    rmdir(dir);
}
