/* cmdline on Windows: CommandLineToArgvW, then UTF-8. */
#include "cmdline.h"

#include <windows.h>
#include <shellapi.h>
#include <stdlib.h>

static char *to_utf8(const wchar_t *w)
{
    int n = WideCharToMultiByte(CP_UTF8, 0, w, -1, NULL, 0, NULL, NULL);
    char *s = n > 0 ? malloc((size_t)n) : NULL;
    if (s && WideCharToMultiByte(CP_UTF8, 0, w, -1, s, n, NULL, NULL) != n) {
        free(s);
        s = NULL;
    }
    return s;
}

int cmdline_utf8(int argc, char **argv, char ***out)
{
    int n = 0;
    (void)argc;
    (void)argv;
    *out = NULL;
    wchar_t **wargs = CommandLineToArgvW(GetCommandLineW(), &n);
    if (!wargs)
        return -1;
    char **args = calloc((size_t)n + 1, sizeof *args);
    for (int i = 0; args && i < n; i++) {
        if (!(args[i] = to_utf8(wargs[i]))) {
            cmdline_free(args);
            args = NULL;
        }
    }
    LocalFree(wargs);
    if (!args)
        return -1;
    *out = args;
    return n;
}

void cmdline_free(char **args)
{
    if (!args)
        return;
    for (char **p = args; *p; p++)
        free(*p);
    free(args);
}
