/* corpus on POSIX: readdir. */
#ifndef _WIN32
#include "corpus.h"

#include <dirent.h>
#include <stdio.h>
#include <sys/stat.h>

long corpus_each(const char *dir, int (*fn)(const char *path, void *arg), void *arg)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    long count = 0;
    if (!d)
        return -1;
    while ((e = readdir(d)) != NULL && count >= 0) {
        char path[4096];
        struct stat st;
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        count = fn(path, arg) == 0 ? count + 1 : -1;
    }
    closedir(d);
    return count;
}
#endif
