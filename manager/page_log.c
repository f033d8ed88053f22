/* page_log: the Log tab. The diagnostic log (the log table the sink and
 * the services write at the configured log level) in an lvpager over
 * mgr_log_ops, with the filters of `tlsrouter log`: a level and every
 * more severe one, and text in the source or the message. */
#include <windows.h>
#include <commctrl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "lvpager.h"
#include "manager_res.h"
#include "ui.h"

enum { COL_TIME, COL_LEVEL, COL_SOURCE, COL_TEXT };

static const ui_column log_columns[] = {
    { L"Time", 130 }, { L"Level", 70 }, { L"Source", 80 }, { L"Text", 600 },
};

static const ui_anchor log_anchors[] = {
    { IDC_LOG_LIST, UI_WIDTH | UI_HEIGHT }, { IDC_LOG_COUNT, UI_BOTTOM },
    { IDC_LOG_REFRESH, UI_BOTTOM }, { IDC_LOG_AUTO, UI_BOTTOM }, { IDC_LOG_EXPORT, UI_BOTTOM },
    { IDC_LOG_NOTE, UI_BOTTOM | UI_WIDTH },
};

/* The combo's items in log_level order: item i shows level i and every
 * more severe one. */
static const wchar_t *const level_labels[] = {
    L"Error", L"Warning and above", L"Info and above", L"Debug and above", L"Everything (Full Debug)",
};
#define LEVEL_COUNT ((int)(sizeof level_labels / sizeof level_labels[0]))

typedef struct log_page {
    ui_layout layout;
    lvpager pager;
} log_page;

static log_page *page_of(HWND page) { return (log_page *)GetWindowLongPtrW(page, GWLP_USERDATA); }

static void cell_text(const void *row, int col, wchar_t *out, int len)
{
    const log_row *r = row;
    switch (col) {
    case COL_TIME: ui_format_time_ms(r->at_ms, out, (size_t)len); return;
    case COL_LEVEL: ui_widen(mgr_log_level_word(r->level), out, (size_t)len); return;
    case COL_SOURCE: ui_widen(r->source, out, (size_t)len); return;
    default: ui_widen(r->message, out, (size_t)len); return;
    }
}

static void read_filter(HWND page, void *filter)
{
    mgr_log_filter *f = filter;
    memset(f, 0, sizeof *f);
    char *text = ui_get_text_utf8(GetDlgItem(page, IDC_LOG_FILTER));
    snprintf(f->text, sizeof f->text, "%s", text ? text : "");
    free(text);
    int level = (int)SendDlgItemMessageW(page, IDC_LOG_LEVEL, CB_GETCURSEL, 0, 0);
    f->level = level >= 0 && level < LEVEL_COUNT ? (log_level)level : LOG_FULL_DEBUG;
}

static const lvpager_spec log_spec = {
    .ops = &mgr_log_ops,
    .filter_size = sizeof(mgr_log_filter),
    .read_filter = read_filter,
    .cell = cell_text,
    .list_id = IDC_LOG_LIST,
    .count_id = IDC_LOG_COUNT,
    .export_id = IDC_LOG_EXPORT,
    .auto_id = IDC_LOG_AUTO,
    .name = L"log",
    .export_title = L"Export Log",
    .export_file = L"tlsrouter-log.csv",
};

static void init_controls(HWND page)
{
    for (int i = 0; i < LEVEL_COUNT; i++)
        SendDlgItemMessageW(page, IDC_LOG_LEVEL, CB_ADDSTRING, 0, (LPARAM)level_labels[i]);
    SendDlgItemMessageW(page, IDC_LOG_LEVEL, CB_SETCURSEL, LOG_FULL_DEBUG, 0);
    ui_lv_init(GetDlgItem(page, IDC_LOG_LIST), log_columns,
               (int)(sizeof log_columns / sizeof log_columns[0]));
}

static INT_PTR on_command(HWND page, WPARAM wp)
{
    switch (LOWORD(wp)) {
    case IDOK:
    case IDC_LOG_APPLY:
    case IDC_LOG_REFRESH:
        lvpager_refresh(&page_of(page)->pager, 0, 0);
        return TRUE;
    case IDC_LOG_LEVEL:
        if (HIWORD(wp) == CBN_SELCHANGE)
            lvpager_refresh(&page_of(page)->pager, 0, 0);
        return TRUE;
    }
    return FALSE;
}

static INT_PTR CALLBACK log_proc(HWND page, UINT msg, WPARAM wp, LPARAM lp)
{
    log_page *l = page_of(page);
    if (msg == WM_INITDIALOG) {
        SetWindowLongPtrW(page, GWLP_USERDATA, lp);
        l = (log_page *)lp;
        l->pager.page = page;
        init_controls(page);
        ui_layout_capture(&l->layout, page, log_anchors,
                          (int)(sizeof log_anchors / sizeof log_anchors[0]));
        return FALSE;
    }
    if (!l)
        return FALSE;
    if (lvpager_message(&l->pager, msg, wp, lp))
        return TRUE;
    switch (msg) {
    case WM_SIZE:
        ui_layout_apply(&l->layout, page);
        return TRUE;
    case WM_APP_REFRESH:
        lvpager_refresh(&l->pager, l->pager.view != NULL, 0);
        return TRUE;
    case WM_COMMAND:
        return on_command(page, wp);
    case WM_DESTROY:
        lvpager_free(&l->pager);
        free(l);
        SetWindowLongPtrW(page, GWLP_USERDATA, 0);
        return TRUE;
    }
    return FALSE;
}

HWND page_log_create(mgr_app *app, HWND parent)
{
    log_page *l = calloc(1, sizeof *l);
    if (!l || lvpager_init(&l->pager, &log_spec, app) != 0) {
        free(l);
        return NULL;
    }
    HWND page = CreateDialogParamW(app->inst, MAKEINTRESOURCEW(IDD_TAB_LOG), parent, log_proc,
                                   (LPARAM)l);
    if (!page) {
        lvpager_free(&l->pager);
        free(l);
    }
    return page;
}
