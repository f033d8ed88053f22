/* cmdline on POSIX: arguments arrive as the bytes the user typed (UTF-8). */
#include "cmdline.h"

int cmdline_utf8(int argc, char **argv, char ***out)
{
    *out = argv;
    return argc;
}

void cmdline_free(char **args) { (void)args; }
