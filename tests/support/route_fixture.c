/* Test helpers for the routing tests. mingw-w64 ships dirent.h and
 * unistd.h, so the same code serves both builds. */
#include "route_fixture.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
