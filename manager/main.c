/* TLS Router Manager: entry point. Opens the database (the same one the
 * sink and the CLI use), then runs the main dialog modelessly so that
 * IsDialogMessage gives every page keyboard navigation. */
#include <windows.h>
#include <commctrl.h>
#include <objbase.h>
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "plat.h"
#include "ui.h"

/* The folder of the database must exist before SQLite can create it. */
static void ensure_parent_dir(const char *path)
{
    char dir[PLAT_PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '\\');
    char *fwd = strrchr(dir, '/');
    if (fwd > slash)
        slash = fwd;
    if (slash && slash > dir && slash[-1] != ':') {
        *slash = 0;
        if (!plat_is_dir(dir))
            plat_mkdir(dir);
    }
}

static int open_database(mgr_app *app)
{
    char path[PLAT_PATH_MAX], err[MGR_ERR_LEN];
    if (plat_default_db_path(path, sizeof path) != 0) {
        ui_error(NULL, L"The database location could not be determined. Set the TLSROUTER_DB "
                       L"environment variable to the path of the database and start the "
                       L"manager again.");
        return -1;
    }
    ensure_parent_dir(path);
    if (mgr_db_open(path, &app->db, err, sizeof err) != 0) {
        ui_error_utf8(NULL, err);
        return -1;
    }
    return 0;
}

int WINAPI WinMain(HINSTANCE inst, HINSTANCE prev, LPSTR cmdline, int show)
{
    static mgr_app app;
    INITCOMMONCONTROLSEX icc = { sizeof icc, ICC_TAB_CLASSES | ICC_LISTVIEW_CLASSES
                                 | ICC_PROGRESS_CLASS | ICC_STANDARD_CLASSES };
    InitCommonControlsEx(&icc);
    /* ADSI and the folder picker are COM; the UI thread is an STA. */
    HRESULT co = CoInitializeEx(NULL, COINIT_APARTMENTTHREADED | COINIT_DISABLE_OLE1DDE);

    app.inst = inst;
    if (open_database(&app) != 0)
        return 1;
    if (!mainwnd_create(&app)) {
        ui_error(NULL, L"The main window could not be created. Windows may be out of "
                       L"resources; close some programs and try again.");
        return 1;
    }
    ShowWindow(app.main, show);

    MSG msg;
    while (GetMessageW(&msg, NULL, 0, 0) > 0) {
        if (mainwnd_pretranslate(&app, &msg))
            continue;
        if (app.main && IsDialogMessageW(app.main, &msg))
            continue;
        TranslateMessage(&msg);
        DispatchMessageW(&msg);
    }
    mgr_db_close(app.db);
    if (SUCCEEDED(co))
        CoUninitialize();
    return 0;
}
