/* dllhold: keeps a DLL loaded the way the SMTP service (inetinfo.exe) keeps
 * the sink loaded, so the installer test can upgrade over a DLL in use.
 *
 *   tr-dllhold DLL STOPFILE
 *
 * Loads DLL, prints "loaded" and waits until STOPFILE exists (bounded by
 * DLLHOLD_DEADLINE_MS), then exits. Exit status: 0 stopped by the file,
 * 1 the DLL would not load or the deadline passed, 2 bad usage. */
#include <windows.h>
#include <shellapi.h>

#include <stdio.h>

#define DLLHOLD_DEADLINE_MS 180000u
#define DLLHOLD_POLL_MS 100u

static int dllhold_wait_for(const wchar_t *stop_file)
{
    for (DWORD waited = 0; waited < DLLHOLD_DEADLINE_MS; waited += DLLHOLD_POLL_MS) {
        if (GetFileAttributesW(stop_file) != INVALID_FILE_ATTRIBUTES)
            return 0;
        Sleep(DLLHOLD_POLL_MS);
    }
    fprintf(stderr, "tr-dllhold: no stop file after %u ms\n", DLLHOLD_DEADLINE_MS);
    return 1;
}

int main(void)
{
    int argc = 0;
    wchar_t **argv = CommandLineToArgvW(GetCommandLineW(), &argc);
    if (!argv || argc != 3) {
        fprintf(stderr, "usage: tr-dllhold DLL STOPFILE\n");
        return 2;
    }
    /* Mapped as an image, as COM maps an in-process server. */
    HMODULE dll = LoadLibraryW(argv[1]);
    if (!dll) {
        fprintf(stderr, "tr-dllhold: cannot load the DLL (error %lu)\n", GetLastError());
        LocalFree(argv);
        return 1;
    }
    printf("loaded\n");
    fflush(stdout);
    int rc = dllhold_wait_for(argv[2]);
    FreeLibrary(dll);
    LocalFree(argv);
    return rc;
}
