/* page_journal: the Journal tab. The list is an lvpager over the journal
 * (mgr_journal_ops); this file adds its filters, the details pane with the
 * selected decision in plain words, "Trace a message" and the log level of
 * the brief. */
#include <windows.h>
#include <commctrl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "lvpager.h"
#include "manager_res.h"
#include "ui.h"

enum { COL_TIME, COL_RECIPIENT, COL_DOMAIN, COL_ROUTE, COL_REASON, COL_MX, COL_TLS, COL_SENDER,
       COL_MESSAGE_ID, COL_DETAIL };

static const ui_column journal_columns[] = {
    { L"Time", 130 }, { L"Recipient", 180 }, { L"Domain", 130 }, { L"Route", 50 },
    { L"Reason", 115 }, { L"MX", 150 }, { L"TLS version", 75 }, { L"Sender", 160 },
    { L"Message-ID", 200 }, { L"Detail", 400 },
};

static const ui_anchor journal_anchors[] = {
    { IDC_JOURNAL_LIST, UI_WIDTH | UI_HEIGHT },
    { IDC_JOURNAL_DETAILSLABEL, UI_BOTTOM }, { IDC_JOURNAL_DETAILS, UI_WIDTH | UI_BOTTOM },
    { IDC_JOURNAL_COUNT, UI_BOTTOM }, { IDC_JOURNAL_REFRESH, UI_BOTTOM },
    { IDC_JOURNAL_AUTO, UI_BOTTOM }, { IDC_JOURNAL_EXPORT, UI_BOTTOM },
    { IDC_JOURNAL_LEVELLABEL, UI_BOTTOM }, { IDC_JOURNAL_LOGLEVEL, UI_BOTTOM },
    { IDC_JOURNAL_SETLEVEL, UI_BOTTOM }, { IDC_JOURNAL_TRACE, UI_BOTTOM },
};

static const struct { const wchar_t *label; const char *value; } levels[] = {
    { L"Error", "error" }, { L"Warning", "warning" }, { L"Info", "info" },
    { L"Debug", "debug" }, { L"Full Debug", "full-debug" },
};
#define LEVEL_COUNT ((int)(sizeof levels / sizeof levels[0]))

typedef struct journal_page {
    mgr_app *app;
    ui_layout layout;
    lvpager pager;
} journal_page;

static journal_page *page_of(HWND page) { return (journal_page *)GetWindowLongPtrW(page, GWLP_USERDATA); }

static void cell_text(const void *row, int col, wchar_t *out, int len)
{
    const mgr_journal_row *r = row;
    const char *s = NULL;
    switch (col) {
    case COL_TIME: ui_format_time_ms(r->at_ms, out, (size_t)len); return;
    case COL_RECIPIENT: s = r->recipient; break;
    case COL_DOMAIN: s = r->domain; break;
    case COL_ROUTE: s = r->route; break;
    case COL_REASON: s = r->reason; break;
    case COL_MX: s = r->mx; break;
    case COL_TLS: s = r->tls_version; break;
    case COL_SENDER: s = r->sender; break;
    case COL_MESSAGE_ID: s = r->message_id; break;
    default: s = r->detail; break;
    }
    ui_widen(s, out, (size_t)len);
}

static void read_filter(HWND page, void *filter)
{
    mgr_journal_filter *f = filter;
    memset(f, 0, sizeof *f);
    char *text = ui_get_text_utf8(GetDlgItem(page, IDC_JOURNAL_FILTER));
    snprintf(f->text, sizeof f->text, "%s", text ? text : "");
    free(text);
    int route = (int)SendDlgItemMessageW(page, IDC_JOURNAL_ROUTE, CB_GETCURSEL, 0, 0);
    snprintf(f->route, sizeof f->route, "%s", route == 1 ? "tls" : route == 2 ? "plain" : "");
    int reason = (int)SendDlgItemMessageW(page, IDC_JOURNAL_REASON, CB_GETCURSEL, 0, 0);
    const char *name = reason > 0 ? mgr_journal_reason((size_t)(reason - 1)) : NULL;
    snprintf(f->reason, sizeof f->reason, "%s", name ? name : "");
}

/* The details pane's time, in the list's own format. */
static void details_time(int64_t at_ms, char *buf, size_t len)
{
    wchar_t wt[40];
    ui_format_time_ms(at_ms, wt, 40);
    ui_narrow(wt, buf, len);
}

/* The selected row in full, and its reason in plain words. */
static void show_details(HWND page)
{
    journal_page *j = page_of(page);
    int sel = ui_lv_selected(GetDlgItem(page, IDC_JOURNAL_LIST));
    const mgr_journal_row *r = sel >= 0 ? lvpager_row(&j->pager, (size_t)sel) : NULL;
    char text[4096];
    if (r)
        mgr_journal_details(r, details_time, text, sizeof text);
    else
        snprintf(text, sizeof text, "Select an entry to see why the router chose its route.");
    ui_set_text_utf8(GetDlgItem(page, IDC_JOURNAL_DETAILS), text);
}

static const lvpager_spec journal_spec = {
    .ops = &mgr_journal_ops,
    .filter_size = sizeof(mgr_journal_filter),
    .read_filter = read_filter,
    .cell = cell_text,
    .shown = show_details,
    .list_id = IDC_JOURNAL_LIST,
    .count_id = IDC_JOURNAL_COUNT,
    .export_id = IDC_JOURNAL_EXPORT,
    .auto_id = IDC_JOURNAL_AUTO,
    .name = L"journal",
    .export_title = L"Export Journal",
    .export_file = L"tlsrouter-journal.csv",
};

static void change_log_level(HWND page)
{
    journal_page *j = page_of(page);
    char err[MGR_ERR_LEN];
    int sel = (int)SendDlgItemMessageW(page, IDC_JOURNAL_LOGLEVEL, CB_GETCURSEL, 0, 0);
    if (sel < 0 || sel >= LEVEL_COUNT)
        return;
    if (mgr_log_level_set(j->app->db, levels[sel].value, err, sizeof err) != 0) {
        ui_error_utf8(page, err);
        return;
    }
    app_status(j->app, L"Log level changed to %ls. The sink applies it to the next message; "
               L"no restart is needed.", levels[sel].label);
}

static void show_log_level(HWND page)
{
    journal_page *j = page_of(page);
    char level[32], err[MGR_ERR_LEN];
    if (mgr_log_level_get(j->app->db, level, sizeof level, err, sizeof err) != 0)
        return;
    for (int i = 0; i < LEVEL_COUNT; i++)
        if (strcmp(levels[i].value, level) == 0)
            SendDlgItemMessageW(page, IDC_JOURNAL_LOGLEVEL, CB_SETCURSEL, (WPARAM)i, 0);
}

static void init_controls(HWND page)
{
    HWND route = GetDlgItem(page, IDC_JOURNAL_ROUTE), reason = GetDlgItem(page, IDC_JOURNAL_REASON);
    SendMessageW(route, CB_ADDSTRING, 0, (LPARAM)L"All");
    SendMessageW(route, CB_ADDSTRING, 0, (LPARAM)L"tls");
    SendMessageW(route, CB_ADDSTRING, 0, (LPARAM)L"plain");
    SendMessageW(route, CB_SETCURSEL, 0, 0);
    SendMessageW(reason, CB_ADDSTRING, 0, (LPARAM)L"All reasons");
    for (size_t i = 0; mgr_journal_reason(i); i++) {
        wchar_t w[64];
        ui_widen(mgr_journal_reason(i), w, 64);
        SendMessageW(reason, CB_ADDSTRING, 0, (LPARAM)w);
    }
    SendMessageW(reason, CB_SETCURSEL, 0, 0);
    for (int i = 0; i < LEVEL_COUNT; i++)
        SendDlgItemMessageW(page, IDC_JOURNAL_LOGLEVEL, CB_ADDSTRING, 0, (LPARAM)levels[i].label);
    HWND lv = GetDlgItem(page, IDC_JOURNAL_LIST);
    ui_lv_init(lv, journal_columns, (int)(sizeof journal_columns / sizeof journal_columns[0]));
}

static INT_PTR on_notify(HWND page, NMHDR *nm)
{
    if (nm->idFrom == IDC_JOURNAL_LIST && nm->code == LVN_ITEMCHANGED
        && (((NMLISTVIEW *)nm)->uChanged & LVIF_STATE))
        show_details(page);
    return FALSE;
}

static INT_PTR on_command(HWND page, WPARAM wp)
{
    switch (LOWORD(wp)) {
    case IDOK:
    case IDC_JOURNAL_APPLY:
    case IDC_JOURNAL_REFRESH:
        lvpager_refresh(&page_of(page)->pager, 0, 0);
        return TRUE;
    case IDC_JOURNAL_ROUTE:
    case IDC_JOURNAL_REASON:
        if (HIWORD(wp) == CBN_SELCHANGE)
            lvpager_refresh(&page_of(page)->pager, 0, 0);
        return TRUE;
    case IDC_JOURNAL_SETLEVEL:
        change_log_level(page);
        return TRUE;
    case IDC_JOURNAL_TRACE:
        trace_dialog_run(page_of(page)->app, page);
        return TRUE;
    }
    return FALSE;
}

static INT_PTR CALLBACK journal_proc(HWND page, UINT msg, WPARAM wp, LPARAM lp)
{
    journal_page *j = page_of(page);
    if (msg == WM_INITDIALOG) {
        SetWindowLongPtrW(page, GWLP_USERDATA, lp);
        j = (journal_page *)lp;
        j->pager.page = page;
        init_controls(page);
        show_details(page);
        ui_layout_capture(&j->layout, page, journal_anchors,
                          (int)(sizeof journal_anchors / sizeof journal_anchors[0]));
        return FALSE;
    }
    if (!j)
        return FALSE;
    if (lvpager_message(&j->pager, msg, wp, lp))
        return TRUE;
    switch (msg) {
    case WM_SIZE:
        ui_layout_apply(&j->layout, page);
        return TRUE;
    case WM_APP_REFRESH:
        show_log_level(page);
        lvpager_refresh(&j->pager, j->pager.view != NULL, 0);
        return TRUE;
    case WM_NOTIFY:
        return on_notify(page, (NMHDR *)lp);
    case WM_COMMAND:
        return on_command(page, wp);
    case WM_DESTROY:
        lvpager_free(&j->pager);
        free(j);
        SetWindowLongPtrW(page, GWLP_USERDATA, 0);
        return TRUE;
    }
    return FALSE;
}

HWND page_journal_create(mgr_app *app, HWND parent)
{
    journal_page *j = calloc(1, sizeof *j);
    if (!j || lvpager_init(&j->pager, &journal_spec, app) != 0) {
        free(j);
        return NULL;
    }
    j->app = app;
    HWND page = CreateDialogParamW(app->inst, MAKEINTRESOURCEW(IDD_TAB_JOURNAL), parent,
                                   journal_proc, (LPARAM)j);
    if (!page) {
        lvpager_free(&j->pager);
        free(j);
    }
    return page;
}
