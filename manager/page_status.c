/* page_status: the Status tab. Whether IIS SMTP is installed, whether IIS
 * Admin and SMTP run (with Start buttons, as the brief tells admins to
 * check), whether the sink is registered, the database and the version;
 * whether the Plain TCP Server picks up the mail handed to it (red while
 * mail waits); and the setup checks of `tlsrouter check`, run on a worker
 * thread by the Check Setup button. */
#include <windows.h>
#include <commctrl.h>
#include <process.h>
#include <stdio.h>
#include <stdlib.h>

#include "app.h"
#include "check.h"
#include "checkrun.h"
#include "manager_res.h"
#include "plat.h"
#include "sinkbind.h"
#include "svc.h"
#include "ui.h"

#define WM_APP_SVCDONE (WM_APP + 10)
#define WM_APP_CHECKDONE (WM_APP + 11)
#define SINK_PROGID L"TLSRouter.Sink"
#define SINK_PROGID_A "TLSRouter.Sink"
/* The Plain TCP Server line follows the Pickup folder while the tab shows,
 * as often as the journal's auto-refresh. */
#define PLAIN_TIMER 1
#define PLAIN_REFRESH_MS 5000
#define ALARM_RED RGB(192, 0, 0)

static const ui_anchor status_anchors[] = {
    { IDC_STATUS_SMTP, UI_WIDTH }, { IDC_STATUS_IISADMIN, UI_WIDTH },
    { IDC_STATUS_SMTPSVC, UI_WIDTH }, { IDC_STATUS_SINK, UI_WIDTH },
    { IDC_STATUS_DB, UI_WIDTH }, { IDC_STATUS_VERSION, UI_WIDTH },
    { IDC_STATUS_PLAIN, UI_WIDTH }, { IDC_STATUS_CHECKS, UI_WIDTH | UI_HEIGHT },
    { IDC_STATUS_FIGURES, UI_WIDTH },
    { IDC_STATUS_START_IISADMIN, UI_RIGHT }, { IDC_STATUS_START_SMTPSVC, UI_RIGHT },
    { IDC_STATUS_REFRESH, UI_BOTTOM }, { IDC_STATUS_SETTINGS, UI_BOTTOM },
    { IDC_STATUS_CHECK, UI_BOTTOM },
};

enum { COL_STATUS, COL_CHECK, COL_DETAIL, COL_REMEDY };

static const ui_column check_columns[] = {
    { L"Status", 80 }, { L"Check", 115 }, { L"Detail", 380 }, { L"What to do", 420 },
};

/* The list's icons, by check_status; OK rows carry none. */
enum { ICON_FAIL, ICON_WARN, ICON_SKIP, ICON_NONE = I_IMAGENONE };

/* The tab exists once: its state lives here. */
static struct {
    ui_layout layout;
    int plain_alarm;           /* the Plain TCP Server line is shown in red */
    check_row *rows;           /* the last check's rows, for the tooltips */
    size_t n_rows;
} status;

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

/* ---- The Plain TCP Server ------------------------------------------------ */

/* The sentence for what mgr_plain_server_read found; 1 when it is an
 * alarm (mail waits undelivered, or the folder cannot be read). */
static int plain_server_text(const mgr_plain_server *p, wchar_t *out, size_t len)
{
    wchar_t dir[1024];
    long long minutes = (long long)(p->oldest_age_ms / 60000);
    int alarm = 0;
    ui_widen(p->pickup_dir, dir, 1024);
    switch (p->state) {
    case MGR_PLAIN_NO_RULE:
        _snwprintf(out, len - 1, L"No rule is enabled: no mail is handed to a Plain TCP Server.");
        break;
    case MGR_PLAIN_UNREADABLE:
        _snwprintf(out, len - 1, L"The Pickup folder %ls cannot be read: create it, or give this "
                   L"account access to it.", dir);
        alarm = 1;
        break;
    case MGR_PLAIN_DRAINED:
        _snwprintf(out, len - 1, L"Picking up mail: nothing waits in %ls.", dir);
        break;
    case MGR_PLAIN_PICKING_UP:
        _snwprintf(out, len - 1, L"Picking up mail: %lu %ls handed off in the last 5 minutes "
                   L"%ls in %ls.", (unsigned long)p->waiting,
                   p->waiting == 1 ? L"message" : L"messages", p->waiting == 1 ? L"waits" : L"wait",
                   dir);
        break;
    case MGR_PLAIN_NOT_DRAINED:
        _snwprintf(out, len - 1, L"%lu %ls in %ls, the oldest for %lld %ls: the Plain TCP Server "
                   L"is not picking them up \u2014 is it started?", (unsigned long)p->waiting,
                   p->waiting == 1 ? L"message waits" : L"messages wait", dir, minutes,
                   minutes == 1 ? L"minute" : L"minutes");
        alarm = 1;
        break;
    }
    /* Whether IIS has the server that picks up from this folder started,
     * on a port of its own and without outbound TLS required goes here,
     * as a second sentence, once the manager reads the IIS model
     * (core/iis_model.h). */
    out[len - 1] = 0;
    return alarm;
}

static void show_plain_server(HWND page)
{
    mgr_plain_server p;
    char err[MGR_ERR_LEN];
    wchar_t text[1400];
    int alarm = 1;
    if (mgr_plain_server_read(PAGE_APP(page)->db, plat_wall_ms(), &p, err, sizeof err) != 0)
        ui_widen(err, text, 1400);
    else
        alarm = plain_server_text(&p, text, 1400);
    status.plain_alarm = alarm;
    SetDlgItemTextW(page, IDC_STATUS_PLAIN, text);
    /* The color changes with the text, which may not. */
    InvalidateRect(GetDlgItem(page, IDC_STATUS_PLAIN), NULL, TRUE);
}

static INT_PTR plain_server_color(HWND page, HDC dc, HWND ctl)
{
    if (ctl != GetDlgItem(page, IDC_STATUS_PLAIN) || !status.plain_alarm)
        return FALSE;   /* the dialog's own colors */
    SetTextColor(dc, ALARM_RED);
    SetBkColor(dc, GetSysColor(COLOR_BTNFACE));
    return (INT_PTR)GetSysColorBrush(COLOR_BTNFACE);
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
    show_plain_server(page);
}

/* ---- Setup checks ---------------------------------------------------------- */

static void start_checks(HWND page)
{
    mgr_app *app = PAGE_APP(page);
    if (checkrun_start(page, WM_APP_CHECKDONE, mgr_db_path(app->db)) != 0) {
        ui_error(page, L"The checks could not be started: Windows refused a new thread. Close "
                       L"some programs and try again.");
        return;
    }
    EnableWindow(GetDlgItem(page, IDC_STATUS_CHECK), FALSE);
    app_status(app, L"Checking the setup (DNS and outbound port 25 may take a few seconds)...");
}

static const wchar_t *status_word(check_status st)
{
    switch (st) {
    case CHECK_OK: return L"OK";
    case CHECK_WARN: return L"Warning";
    case CHECK_FAIL: return L"Failed";
    default: return L"Skipped";
    }
}

static int status_icon(check_status st)
{
    switch (st) {
    case CHECK_FAIL: return ICON_FAIL;
    case CHECK_WARN: return ICON_WARN;
    case CHECK_SKIP: return ICON_SKIP;
    default: return ICON_NONE;
    }
}

/* A check may set its remedy before it knows it passed: like the command
 * line, only a failure or a warning says what to do. */
static const char *shown_remedy(const check_row *r)
{
    return r->status == CHECK_FAIL || r->status == CHECK_WARN ? r->remedy : "";
}

static void init_check_list(HWND lv)
{
    static const LPCWSTR icons[] = { IDI_ERROR, IDI_WARNING, IDI_INFORMATION };
    int size = ui_scale(lv, 16);
    ui_lv_init(lv, check_columns, (int)(sizeof check_columns / sizeof check_columns[0]));
    ListView_SetExtendedListViewStyleEx(lv, LVS_EX_INFOTIP, LVS_EX_INFOTIP);
    HIMAGELIST images = ImageList_Create(size, size, ILC_COLOR32 | ILC_MASK, 3, 0);
    for (size_t i = 0; images && i < sizeof icons / sizeof icons[0]; i++)
        ImageList_AddIcon(images, LoadImageW(NULL, icons[i], IMAGE_ICON, size, size, LR_SHARED));
    ListView_SetImageList(lv, images, LVSIL_SMALL);
}

static void show_check_rows(HWND page, const check_row *rows, size_t n)
{
    HWND lv = GetDlgItem(page, IDC_STATUS_CHECKS);
    SendMessageW(lv, WM_SETREDRAW, FALSE, 0);
    ListView_DeleteAllItems(lv);
    for (size_t i = 0; i < n; i++) {
        LVITEMW it = { .mask = LVIF_TEXT | LVIF_IMAGE, .iItem = (int)i,
                       .pszText = (wchar_t *)status_word(rows[i].status),
                       .iImage = status_icon(rows[i].status) };
        SendMessageW(lv, LVM_INSERTITEMW, 0, (LPARAM)&it);
        ui_lv_set_utf8(lv, (int)i, COL_CHECK, rows[i].name);
        ui_lv_set_utf8(lv, (int)i, COL_DETAIL, rows[i].detail);
        ui_lv_set_utf8(lv, (int)i, COL_REMEDY, shown_remedy(&rows[i]));
    }
    SendMessageW(lv, WM_SETREDRAW, TRUE, 0);
    InvalidateRect(lv, NULL, TRUE);
}

static void checks_done(HWND page, checkrun_result *result)
{
    size_t failed = 0, warned = 0;
    EnableWindow(GetDlgItem(page, IDC_STATUS_CHECK), TRUE);
    if (result->rc != 0) {
        app_status(PAGE_APP(page), L"The checks could not run: out of memory.");
        checkrun_free(result);
        return;
    }
    free(status.rows);
    status.rows = result->rows;
    status.n_rows = result->n;
    result->rows = NULL;
    checkrun_free(result);
    show_check_rows(page, status.rows, status.n_rows);
    for (size_t i = 0; i < status.n_rows; i++) {
        failed += status.rows[i].status == CHECK_FAIL;
        warned += status.rows[i].status == CHECK_WARN;
    }
    app_status(PAGE_APP(page), L"Setup checked: %lu failed, %lu %ls. Point at a row, or open it, "
               L"to read it all.", (unsigned long)failed, (unsigned long)warned,
               warned == 1 ? L"warning" : L"warnings");
}

/* The whole of a row: the list's cells are cut to their columns. */
static void row_text(const check_row *r, wchar_t *out, size_t len)
{
    wchar_t name[CHECK_NAME_MAX], detail[CHECK_TEXT_MAX], remedy[CHECK_TEXT_MAX];
    ui_widen(r->name, name, CHECK_NAME_MAX);
    ui_widen(r->detail, detail, CHECK_TEXT_MAX);
    ui_widen(shown_remedy(r), remedy, CHECK_TEXT_MAX);
    _snwprintf(out, len - 1, L"%ls: %ls\n%ls%ls%ls", name, status_word(r->status), detail,
               remedy[0] ? L"\n\nWhat to do: " : L"", remedy);
    out[len - 1] = 0;
}

static const check_row *row_at(int item)
{
    return item >= 0 && (size_t)item < status.n_rows ? &status.rows[item] : NULL;
}

/* The selected row's whole text in a box (a double click, or Enter in the
 * list); 0 when no row is selected. */
static int show_selected_check(HWND page)
{
    const check_row *r = row_at(ui_lv_selected(GetDlgItem(page, IDC_STATUS_CHECKS)));
    wchar_t text[2 * CHECK_TEXT_MAX + 64];
    if (!r)
        return 0;
    row_text(r, text, sizeof text / sizeof text[0]);
    ui_info(page, text);
    return 1;
}

static INT_PTR on_notify(HWND page, NMHDR *nm)
{
    if (nm->idFrom != IDC_STATUS_CHECKS)
        return FALSE;
    if (nm->code == LVN_GETINFOTIPW) {
        NMLVGETINFOTIPW *tip = (NMLVGETINFOTIPW *)nm;
        const check_row *r = row_at(tip->iItem);
        if (r && tip->cchTextMax > 0)
            row_text(r, tip->pszText, (size_t)tip->cchTextMax);
    } else if (nm->code == NM_DBLCLK) {
        show_selected_check(page);
    }
    return FALSE;
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
        init_check_list(GetDlgItem(page, IDC_STATUS_CHECKS));
        ui_layout_capture(&status.layout, page, status_anchors,
                          (int)(sizeof status_anchors / sizeof status_anchors[0]));
        SetTimer(page, PLAIN_TIMER, PLAIN_REFRESH_MS, NULL);
        return FALSE;
    case WM_TIMER:
        if (wp == PLAIN_TIMER && IsWindowVisible(page))
            show_plain_server(page);
        return TRUE;
    case WM_CTLCOLORSTATIC:
        return plain_server_color(page, (HDC)wp, (HWND)lp);
    case WM_NOTIFY:
        return on_notify(page, (NMHDR *)lp);
    case WM_APP_CHECKDONE:
        checks_done(page, (checkrun_result *)lp);
        return TRUE;
    case WM_DESTROY:
        KillTimer(page, PLAIN_TIMER);
        free(status.rows);
        status.rows = NULL;
        status.n_rows = 0;
        return FALSE;
    case WM_SIZE:
        ui_layout_apply(&status.layout, page);
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
        case IDC_STATUS_CHECK:
            start_checks(page);
            return TRUE;
        case IDOK:
            /* Enter reaches the page as IDOK (the dialog manager takes it
             * from the list). */
            if (GetFocus() == GetDlgItem(page, IDC_STATUS_CHECKS) && show_selected_check(page))
                return TRUE;
            refresh(page);
            return TRUE;
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
