/* corpus on Windows: FindFirstFile (the corpus paths are ASCII). */
#ifdef _WIN32
#include "corpus.h"

#include <windows.h>
#include <stdio.h>

long corpus_each(const char *dir, int (*fn)(const char *path, void *arg), void *arg)
{
    WIN32_FIND_DATAA fd;
    char pattern[MAX_PATH];
    HANDLE h;
    long count = 0;
    snprintf(pattern, sizeof pattern, "%s\\*", dir);
    h = FindFirstFileA(pattern, &fd);
    if (h == INVALID_HANDLE_VALUE)
        return -1;
    do {
        char path[MAX_PATH];
        if (fd.cFileName[0] == '.' || (fd.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY))
            continue;
        snprintf(path, sizeof path, "%s\\%s", dir, fd.cFileName);
        count = fn(path, arg) == 0 ? count + 1 : -1;
    } while (count >= 0 && FindNextFileA(h, &fd));
    FindClose(h);
    return count;
}
#endif
