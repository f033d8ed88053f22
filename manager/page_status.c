/* page_status: the Status tab. Whether IIS SMTP is installed, whether IIS
 * Admin and SMTP run (with Start buttons, as the brief tells admins to
 * check), whether the sink is registered, the database and the version. */
#include <windows.h>
#include <process.h>
#include <stdio.h>
#include <stdlib.h>

#include "app.h"
#include "manager_res.h"
#include "sinkbind.h"
#include "svc.h"
#include "ui.h"

#define WM_APP_SVCDONE (WM_APP + 10)
#define SINK_PROGID L"TLSRouter.Sink"
#define SINK_PROGID_A "TLSRouter.Sink"

static const ui_anchor status_anchors[] = {
    { IDC_STATUS_SMTP, UI_WIDTH }, { IDC_STATUS_IISADMIN, UI_WIDTH },
    { IDC_STATUS_SMTPSVC, UI_WIDTH }, { IDC_STATUS_SINK, UI_WIDTH },
    { IDC_STATUS_DB, UI_WIDTH }, { IDC_STATUS_VERSION, UI_WIDTH },
    { IDC_STATUS_FIGURES, UI_WIDTH },
    { IDC_STATUS_START_IISADMIN, UI_RIGHT }, { IDC_STATUS_START_SMTPSVC, UI_RIGHT },
    { IDC_STATUS_REFRESH, UI_BOTTOM }, { IDC_STATUS_SETTINGS, UI_BOTTOM },
};

static ui_layout status_layout;

typedef struct start_job {
    HWND page;
    wchar_t service[32];
    int rc;
    wchar_t msg[400];
} start_job;

static void show_service(HWND page, int text_id, int button_id, const wchar_t *name,
                         const wchar_t *display)
{
    svc_state s = svc_query(name);
    wchar_t text[200];
    if (s == SVC_STOPPED)
        _snwprintf(text, 199, L"Stopped. TLS Router works only while %ls runs: click Start.",
                   display);
    else
        _snwprintf(text, 199, L"%ls", svc_state_text(s));
    text[199] = 0;
    SetDlgItemTextW(page, text_id, text);
    EnableWindow(GetDlgItem(page, button_id), s == SVC_STOPPED);
}

/* Where the sink is bound, in a sentence. */
static void binding_text(wchar_t *out, size_t len)
{
    sinkbind_info b;
    char err[300];
    if (sinkbind_read(SINK_PROGID_A, &b, err, sizeof err) != 0) {
        _snwprintf(out, len - 1, L"Bindings unknown: the IIS event system could not be read "
                   L"(%hs).", err);
    } else if (b.count == 0) {
        _snwprintf(out, len - 1, L"Not bound to any virtual server: run \"tlsrouter-sinkreg "
                   L"register --instance N\" for the TLS server.");
    } else {
        size_t n = (size_t)_snwprintf(out, len - 1, L"Bound to virtual server");
        for (int i = 0; i < b.count && n < len - 32; i++)
            n += (size_t)_snwprintf(out + n, len - 1 - n, L"%ls %d%ls", i ? L"," : L"",
                                    b.instance[i], b.enabled[i] ? L"" : L" (disabled)");
        _snwprintf(out + n, len - 1 - n, L".");
    }
    out[len - 1] = 0;
}

static void show_sink(HWND page)
{
    wchar_t clsid[64], dll[MAX_PATH], bound[400], text[1200];
    int exists = 0;
    binding_text(bound, 400);
    if (!svc_sink_registration(SINK_PROGID, clsid, 64, dll, MAX_PATH, &exists))
        _snwprintf(text, 1199, L"Not registered. Run the TLS Router setup again to register "
                   L"the sink with IIS SMTP.");
    else if (!exists)
        _snwprintf(text, 1199, L"Registered as %ls %ls, but its file %ls is missing. Repair the "
                   L"installation.\n%ls", SINK_PROGID, clsid, dll[0] ? dll : L"(none)", bound);
    else
        _snwprintf(text, 1199, L"Registered: %ls %ls\n%ls\n%ls", SINK_PROGID, clsid, dll, bound);
    text[1199] = 0;
    SetDlgItemTextW(page, IDC_STATUS_SINK, text);
}

static void show_database(HWND page, mgr_app *app)
{
    wchar_t path[1024], text[1200];
    ui_widen(mgr_db_path(app->db), path, 1024);
    int64_t size = mgr_db_file_size(app->db);
    if (size < 0)
        _snwprintf(text, 1199, L"%ls (size unknown)", path);
    else if (size < 10 * 1024 * 1024)
        _snwprintf(text, 1199, L"%ls\n%.1f KB", path, (double)size / 1024.0);
    else
        _snwprintf(text, 1199, L"%ls\n%.1f MB", path, (double)size / (1024.0 * 1024.0));
    text[1199] = 0;
    SetDlgItemTextW(page, IDC_STATUS_DB, text);
}

/* What the engines counted, as of their last write (every few seconds);
 * Refresh reads it again. */
static void show_figures(HWND page, mgr_app *app)
{
    char text[600], err[MGR_ERR_LEN];
    wchar_t wide[600];
    if (mgr_figures_text(app->db, text, sizeof text, err, sizeof err) != 0)
        snprintf(text, sizeof text, "Unknown: %s", err);
    ui_widen(text, wide, 600);
    SetDlgItemTextW(page, IDC_STATUS_FIGURES, wide);
}

static void refresh(HWND page)
{
    mgr_app *app = PAGE_APP(page);
    svc_state smtp = svc_query(L"SMTPSVC");
    SetDlgItemTextW(page, IDC_STATUS_SMTP,
                    smtp == SVC_NOT_INSTALLED
                        ? L"Not installed. Add the SMTP Server feature (with IIS 6 Management "
                          L"Compatibility) in Server Manager."
                        : smtp == SVC_UNKNOWN ? L"Unknown: run the manager as an administrator."
                                              : L"Installed");
    show_service(page, IDC_STATUS_IISADMIN, IDC_STATUS_START_IISADMIN, L"IISADMIN",
                 L"IIS Admin Service");
    show_service(page, IDC_STATUS_SMTPSVC, IDC_STATUS_START_SMTPSVC, L"SMTPSVC",
                 L"Simple Mail Transfer Protocol (SMTP)");
    show_sink(page);
    show_database(page, app);
    show_figures(page, app);
    SetDlgItemTextW(page, IDC_STATUS_VERSION, L"TLS Router " TLSROUTER_VERSION_W);
}

static unsigned __stdcall start_worker(void *arg)
{
    start_job *job = arg;
    job->rc = svc_start(job->service, 30000, job->msg, sizeof job->msg / sizeof job->msg[0]);
    if (!PostMessageW(job->page, WM_APP_SVCDONE, 0, (LPARAM)job))
        free(job);
    return 0;
}

/* Starting IIS Admin can take many seconds: ask from a worker thread. */
static void start_service(HWND page, const wchar_t *name, int button_id)
{
    start_job *job = calloc(1, sizeof *job);
    if (!job)
        return;
    job->page = page;
    _snwprintf(job->service, 31, L"%ls", name);
    EnableWindow(GetDlgItem(page, button_id), FALSE);
    app_status(PAGE_APP(page), L"Starting %ls...", name);
    uintptr_t th = _beginthreadex(NULL, 0, start_worker, job, 0, NULL);
    if (!th) {
        free(job);
        ui_error(page, L"The service could not be started: Windows refused a new thread.");
        return;
    }
    CloseHandle((HANDLE)th);
}

static INT_PTR CALLBACK status_proc(HWND page, UINT msg, WPARAM wp, LPARAM lp)
{
    switch (msg) {
    case WM_INITDIALOG:
        SetWindowLongPtrW(page, GWLP_USERDATA, lp);
        ui_layout_capture(&status_layout, page, status_anchors,
                          (int)(sizeof status_anchors / sizeof status_anchors[0]));
        return FALSE;
    case WM_SIZE:
        ui_layout_apply(&status_layout, page);
        return TRUE;
    case WM_APP_REFRESH:
        refresh(page);
        return TRUE;
    case WM_APP_SVCDONE: {
        start_job *job = (start_job *)lp;
        app_status(PAGE_APP(page), L"%ls", job->msg);
        if (job->rc != 0)
            ui_error(page, job->msg);
        free(job);
        refresh(page);
        return TRUE;
    }
    case WM_COMMAND:
        switch (LOWORD(wp)) {
        case IDC_STATUS_START_IISADMIN:
            start_service(page, L"IISADMIN", IDC_STATUS_START_IISADMIN);
            return TRUE;
        case IDC_STATUS_START_SMTPSVC:
            start_service(page, L"SMTPSVC", IDC_STATUS_START_SMTPSVC);
            return TRUE;
        case IDC_STATUS_SETTINGS:
            settings_dialog_run(PAGE_APP(page), page);
            return TRUE;
        case IDOK:
        case IDC_STATUS_REFRESH:
            refresh(page);
            return TRUE;
        }
        break;
    }
    return FALSE;
}

HWND page_status_create(mgr_app *app, HWND parent)
{
    return CreateDialogParamW(app->inst, MAKEINTRESOURCEW(IDD_TAB_STATUS), parent, status_proc,
                              (LPARAM)app);
}
