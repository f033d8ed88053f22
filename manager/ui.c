/* ui: see ui.h. */
#include "ui.h"

#include <commctrl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

void ui_widen(const char *utf8, wchar_t *out, size_t outlen)
{
    if (!outlen)
        return;
    out[0] = 0;
    if (utf8 && !MultiByteToWideChar(CP_UTF8, 0, utf8, -1, out, (int)outlen))
        out[outlen - 1] = 0;
}

void ui_narrow(const wchar_t *wide, char *out, size_t outlen)
{
    if (!outlen)
        return;
    out[0] = 0;
    if (wide && !WideCharToMultiByte(CP_UTF8, 0, wide, -1, out, (int)outlen, NULL, NULL))
        out[outlen - 1] = 0;
}

char *ui_get_text_utf8(HWND ctl)
{
    int len = GetWindowTextLengthW(ctl);
    wchar_t *w = malloc(((size_t)len + 1) * sizeof *w);
    char *u = malloc((size_t)len * 4 + 1);
    if (!w || !u) {
        free(w);
        free(u);
        return NULL;
    }
    GetWindowTextW(ctl, w, len + 1);
    ui_narrow(w, u, (size_t)len * 4 + 1);
    free(w);
    return u;
}

void ui_set_text_utf8(HWND ctl, const char *utf8)
{
    int n = MultiByteToWideChar(CP_UTF8, 0, utf8 ? utf8 : "", -1, NULL, 0);
    wchar_t *w = malloc((size_t)(n > 0 ? n : 1) * sizeof *w);
    if (!w)
        return;
    ui_widen(utf8 ? utf8 : "", w, (size_t)(n > 0 ? n : 1));
    SetWindowTextW(ctl, w);
    free(w);
}

void ui_error(HWND owner, const wchar_t *text)
{
    MessageBoxW(owner, text, UI_APP_TITLE, MB_OK | MB_ICONWARNING);
}

void ui_error_utf8(HWND owner, const char *text)
{
    wchar_t w[1024];
    ui_widen(text, w, sizeof w / sizeof w[0]);
    ui_error(owner, w);
}

void ui_info(HWND owner, const wchar_t *text)
{
    MessageBoxW(owner, text, UI_APP_TITLE, MB_OK | MB_ICONINFORMATION);
}

/* GetDpiForWindow exists from Windows 10 1607; older systems use the
 * system DPI of the screen DC. */
int ui_scale(HWND hwnd, int px96)
{
    typedef UINT(WINAPI * dpi_fn)(HWND);
    static dpi_fn get_dpi;
    static int looked;
    UINT dpi = 0;
    if (!looked) {
        HMODULE user = GetModuleHandleW(L"user32.dll");
        if (user)
            get_dpi = (dpi_fn)(void (*)(void))GetProcAddress(user, "GetDpiForWindow");
        looked = 1;
    }
    if (get_dpi && hwnd)
        dpi = get_dpi(hwnd);
    if (!dpi) {
        HDC dc = GetDC(NULL);
        dpi = (UINT)GetDeviceCaps(dc, LOGPIXELSX);
        ReleaseDC(NULL, dc);
    }
    return MulDiv(px96, (int)dpi, 96);
}

void ui_lv_init(HWND lv, const ui_column *cols, int n)
{
    ListView_SetExtendedListViewStyle(lv, LVS_EX_FULLROWSELECT | LVS_EX_DOUBLEBUFFER
                                          | LVS_EX_LABELTIP);
    for (int i = 0; i < n; i++) {
        LVCOLUMNW c = { 0 };
        c.mask = LVCF_TEXT | LVCF_WIDTH | LVCF_SUBITEM;
        c.pszText = (wchar_t *)cols[i].title;
        c.cx = ui_scale(lv, cols[i].width);
        c.iSubItem = i;
        SendMessageW(lv, LVM_INSERTCOLUMNW, (WPARAM)i, (LPARAM)&c);
    }
}

void ui_lv_set_utf8(HWND lv, int item, int sub, const char *utf8)
{
    wchar_t w[1024];
    ui_widen(utf8, w, sizeof w / sizeof w[0]);
    if (sub == 0) {
        LVITEMW it = { 0 };
        it.mask = LVIF_TEXT;
        it.iItem = item;
        it.pszText = w;
        SendMessageW(lv, LVM_INSERTITEMW, 0, (LPARAM)&it);
    } else {
        LVITEMW it = { 0 };
        it.iSubItem = sub;
        it.pszText = w;
        SendMessageW(lv, LVM_SETITEMTEXTW, (WPARAM)item, (LPARAM)&it);
    }
}

int ui_lv_selected(HWND lv)
{
    return (int)SendMessageW(lv, LVM_GETNEXTITEM, (WPARAM)-1, LVNI_SELECTED);
}

void ui_format_time_ms(int64_t ms, wchar_t *out, size_t outlen)
{
    if (ms <= 0) {
        if (outlen)
            out[0] = 0;
        return;
    }
    time_t t = (time_t)(ms / 1000);
    struct tm tmv;
    if (localtime_s(&tmv, &t) != 0) {
        _snwprintf(out, outlen, L"%lld", (long long)ms);
        return;
    }
    wcsftime(out, outlen, L"%Y-%m-%d %H:%M:%S", &tmv);
}

void ui_layout_capture(ui_layout *l, HWND dlg, const ui_anchor *a, int n)
{
    RECT client;
    GetClientRect(dlg, &client);
    l->base.cx = client.right;
    l->base.cy = client.bottom;
    l->dpi = ui_scale(dlg, 96);
    l->count = 0;
    for (int i = 0; i < n && l->count < (int)(sizeof l->items / sizeof l->items[0]); i++) {
        HWND ctl = GetDlgItem(dlg, a[i].id);
        if (!ctl)
            continue;
        GetWindowRect(ctl, &l->items[l->count].rc);
        MapWindowPoints(NULL, dlg, (POINT *)&l->items[l->count].rc, 2);
        l->items[l->count].id = a[i].id;
        l->items[l->count].flags = a[i].flags;
        l->count++;
    }
}

/* After a move to a monitor of another DPI the captured pixels are scaled
 * like the dialog itself, so the anchors keep working. */
static RECT scaled(RECT rc, int num, int den)
{
    RECT out = { MulDiv(rc.left, num, den), MulDiv(rc.top, num, den),
                 MulDiv(rc.right, num, den), MulDiv(rc.bottom, num, den) };
    return out;
}

void ui_layout_apply(const ui_layout *l, HWND dlg)
{
    RECT client;
    GetClientRect(dlg, &client);
    int dpi = ui_scale(dlg, 96), base_dpi = l->dpi > 0 ? l->dpi : dpi;
    int dx = client.right - MulDiv(l->base.cx, dpi, base_dpi);
    int dy = client.bottom - MulDiv(l->base.cy, dpi, base_dpi);
    HDWP dwp = BeginDeferWindowPos(l->count);
    for (int i = 0; i < l->count && dwp; i++) {
        RECT rc = scaled(l->items[i].rc, dpi, base_dpi);
        int f = l->items[i].flags;
        if (f & UI_RIGHT)
            OffsetRect(&rc, dx, 0);
        if (f & UI_BOTTOM)
            OffsetRect(&rc, 0, dy);
        if (f & UI_WIDTH)
            rc.right += dx;
        if (f & UI_HEIGHT)
            rc.bottom += dy;
        dwp = DeferWindowPos(dwp, GetDlgItem(dlg, l->items[i].id), NULL, rc.left, rc.top,
                             rc.right - rc.left, rc.bottom - rc.top,
                             SWP_NOZORDER | SWP_NOACTIVATE);
    }
    if (dwp)
        EndDeferWindowPos(dwp);
}

void ui_format_count(size_t n, wchar_t *out, size_t outlen)
{
    wchar_t digits[32], grouped[48];
    int len = _snwprintf(digits, 31, L"%llu", (unsigned long long)n), o = 0;
    digits[31] = 0;
    for (int i = 0; i < len; i++) {
        if (i > 0 && (len - i) % 3 == 0)
            grouped[o++] = L',';
        grouped[o++] = digits[i];
    }
    grouped[o] = 0;
    _snwprintf(out, outlen - 1, L"%ls", grouped);
    out[outlen - 1] = 0;
}
