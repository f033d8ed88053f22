/* mainwnd: the main dialog. A tab control with one child dialog per tab,
 * a status line, resizing, per-monitor DPI changes and Ctrl+Tab. */
#include <windows.h>
#include <commctrl.h>
#include <stdarg.h>
#include <stdio.h>

#include "app.h"
#include "manager_res.h"
#include "plat.h"
#include "ui.h"

static const wchar_t *const page_titles[PAGE_COUNT] = {
    L"Overview", L"Rules", L"Journal", L"Log", L"Cache", L"Status"
};

static mgr_app *app_of(HWND dlg) { return (mgr_app *)GetWindowLongPtrW(dlg, GWLP_USERDATA); }

void app_status(mgr_app *app, const wchar_t *fmt, ...)
{
    wchar_t text[512];
    va_list ap;
    va_start(ap, fmt);
    _vsnwprintf(text, sizeof text / sizeof text[0] - 1, fmt, ap);
    text[sizeof text / sizeof text[0] - 1] = 0;
    va_end(ap);
    SetDlgItemTextW(app->main, IDC_MAIN_STATUSTEXT, text);
}

/* Tab control fills the client area above the status line; the current
 * page fills the tab's display area. */
static void layout(HWND dlg)
{
    mgr_app *app = app_of(dlg);
    RECT rc;
    GetClientRect(dlg, &rc);
    int margin = ui_scale(dlg, 10), line = ui_scale(dlg, 18);
    HWND tabs = GetDlgItem(dlg, IDC_TABS);
    RECT tab_rc = { margin, margin, rc.right - margin, rc.bottom - margin - line };
    MoveWindow(tabs, tab_rc.left, tab_rc.top, tab_rc.right - tab_rc.left,
               tab_rc.bottom - tab_rc.top, TRUE);
    MoveWindow(GetDlgItem(dlg, IDC_MAIN_STATUSTEXT), margin, rc.bottom - margin - line + 4,
               rc.right - 2 * margin, line - 4, TRUE);
    TabCtrl_AdjustRect(tabs, FALSE, &tab_rc);
    for (int i = 0; i < PAGE_COUNT; i++)
        if (app && app->pages[i])
            SetWindowPos(app->pages[i], HWND_TOP, tab_rc.left, tab_rc.top,
                         tab_rc.right - tab_rc.left, tab_rc.bottom - tab_rc.top,
                         SWP_NOACTIVATE);
}

static void show_page(HWND dlg, int index)
{
    mgr_app *app = app_of(dlg);
    for (int i = 0; i < PAGE_COUNT; i++)
        if (i != index)
            ShowWindow(app->pages[i], SW_HIDE);
    SendMessageW(app->pages[index], WM_APP_REFRESH, 0, 0);
    ShowWindow(app->pages[index], SW_SHOW);
}

static int current_page(HWND dlg) { return TabCtrl_GetCurSel(GetDlgItem(dlg, IDC_TABS)); }

static BOOL on_init(HWND dlg, mgr_app *app)
{
    SetWindowLongPtrW(dlg, GWLP_USERDATA, (LONG_PTR)app);
    app->main = dlg;
    HICON big = LoadImageW(app->inst, MAKEINTRESOURCEW(IDI_APP), IMAGE_ICON,
                           GetSystemMetrics(SM_CXICON), GetSystemMetrics(SM_CYICON), 0);
    HICON small = LoadImageW(app->inst, MAKEINTRESOURCEW(IDI_APP), IMAGE_ICON,
                             GetSystemMetrics(SM_CXSMICON), GetSystemMetrics(SM_CYSMICON), 0);
    SendMessageW(dlg, WM_SETICON, ICON_BIG, (LPARAM)big);
    SendMessageW(dlg, WM_SETICON, ICON_SMALL, (LPARAM)small);

    HWND tabs = GetDlgItem(dlg, IDC_TABS);
    for (int i = 0; i < PAGE_COUNT; i++) {
        TCITEMW item = { 0 };
        item.mask = TCIF_TEXT;
        item.pszText = (wchar_t *)page_titles[i];
        SendMessageW(tabs, TCM_INSERTITEMW, (WPARAM)i, (LPARAM)&item);
    }
    app->pages[PAGE_OVERVIEW] = page_overview_create(app, dlg);
    app->pages[PAGE_RULES] = page_rules_create(app, dlg);
    app->pages[PAGE_JOURNAL] = page_journal_create(app, dlg);
    app->pages[PAGE_LOG] = page_log_create(app, dlg);
    app->pages[PAGE_CACHE] = page_cache_create(app, dlg);
    app->pages[PAGE_STATUS] = page_status_create(app, dlg);
    for (int i = 0; i < PAGE_COUNT; i++)
        if (!app->pages[i])
            return FALSE;
    wchar_t path[PLAT_PATH_MAX];
    ui_widen(mgr_db_path(app->db), path, PLAT_PATH_MAX);
    app_status(app, L"Database: %ls", path);
    layout(dlg);
    show_page(dlg, PAGE_OVERVIEW);
    return TRUE;
}

static INT_PTR on_notify(HWND dlg, NMHDR *nm)
{
    if (nm->idFrom == IDC_TABS && nm->code == TCN_SELCHANGE)
        show_page(dlg, current_page(dlg));
    return FALSE;
}

static INT_PTR CALLBACK main_proc(HWND dlg, UINT msg, WPARAM wp, LPARAM lp)
{
    switch (msg) {
    case WM_INITDIALOG:
        if (!on_init(dlg, (mgr_app *)lp))
            DestroyWindow(dlg);
        return FALSE;   /* focus goes to the first tab stop */
    case WM_SIZE:
        layout(dlg);
        return TRUE;
    case WM_GETMINMAXINFO: {
        MINMAXINFO *mm = (MINMAXINFO *)lp;
        mm->ptMinTrackSize.x = ui_scale(dlg, 640);
        mm->ptMinTrackSize.y = ui_scale(dlg, 420);
        return TRUE;
    }
    case WM_DPICHANGED: { /* moved to a monitor of another DPI: take the suggested size */
        const RECT *r = (const RECT *)lp;
        SetWindowPos(dlg, NULL, r->left, r->top, r->right - r->left, r->bottom - r->top,
                     SWP_NOZORDER | SWP_NOACTIVATE);
        return TRUE;
    }
    case WM_NOTIFY:
        return on_notify(dlg, (NMHDR *)lp);
    case WM_COMMAND:
        /* Enter runs the default action of the page in front; Esc must not
         * close the console by accident (the close box does). */
        if (LOWORD(wp) == IDOK) {
            SendMessageW(app_of(dlg)->pages[current_page(dlg)], WM_COMMAND, IDOK, 0);
            return TRUE;
        }
        return LOWORD(wp) == IDCANCEL;
    case WM_CLOSE:
        DestroyWindow(dlg);
        return TRUE;
    case WM_DESTROY:
        PostQuitMessage(0);
        return TRUE;
    }
    return FALSE;
}

HWND mainwnd_create(mgr_app *app)
{
    return CreateDialogParamW(app->inst, MAKEINTRESOURCEW(IDD_MAIN), NULL, main_proc,
                              (LPARAM)app);
}

/* Ctrl+Tab and Ctrl+Shift+Tab switch tabs from anywhere in the window. */
BOOL mainwnd_pretranslate(mgr_app *app, MSG *msg)
{
    if (!app->main || msg->message != WM_KEYDOWN || msg->wParam != VK_TAB
        || !(GetKeyState(VK_CONTROL) & 0x8000))
        return FALSE;
    if (msg->hwnd != app->main && !IsChild(app->main, msg->hwnd))
        return FALSE;
    int step = (GetKeyState(VK_SHIFT) & 0x8000) ? PAGE_COUNT - 1 : 1;
    int next = (current_page(app->main) + step) % PAGE_COUNT;
    TabCtrl_SetCurSel(GetDlgItem(app->main, IDC_TABS), next);
    show_page(app->main, next);
    return TRUE;
}
