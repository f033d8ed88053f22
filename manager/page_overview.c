/* page_overview: the Overview tab, the first the manager shows. What the
 * router did in the last 14 days as a bar chart (recipients per UTC day,
 * TLS and plain stacked), the domains sent plain most often and why, the
 * caches with the probe cache's hit rate, the live figures, and the
 * verdict of the setup checks as a green, amber or red line (the checks
 * of the Status tab, run on a worker thread when the manager starts and
 * by Check Setup).
 *
 * The chart is a window class of its own (TRDayChart) drawn with GDI in
 * the dialog's font: its sizes follow the font and ui_scale, so it reads
 * the same at any DPI. Its window text sums up what it shows, for screen
 * readers. */
#include <windows.h>
#include <commctrl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "checkrun.h"
#include "explain.h"
#include "manager_res.h"
#include "plat.h"
#include "ui.h"

#define CHART_CLASS L"TRDayChart"
#define CHART_SETDAYS (WM_USER + 1)          /* lParam: overview_day[OVERVIEW_DAYS] */
#define WM_APP_OVERVIEW_CHECKED (WM_APP + 20)
/* The live figures are live: read again every few seconds while the tab
 * shows (one small read of the stats table; the chart and lists, which
 * scan the journal, wait for Refresh or the tab being shown again). */
#define FIGURES_TIMER 1
#define FIGURES_EVERY_MS 5000
#define CHART_STEPS 4                        /* gridlines above zero */

/* Bar and verdict colours; the GUI test looks for these pixels. */
#define COLOUR_TLS RGB(0, 120, 215)
#define COLOUR_PLAIN RGB(232, 120, 0)
#define COLOUR_GRID RGB(220, 220, 220)
#define VERDICT_GREEN RGB(16, 124, 16)
#define VERDICT_AMBER RGB(255, 185, 0)
#define VERDICT_RED RGB(196, 32, 32)

static const ui_column top_columns[] = {
    { L"Domain", 170 }, { L"Recipients", 70 }, { L"Why", 300 },
};

static const ui_anchor overview_anchors[] = {
    { IDC_OVERVIEW_CHART, UI_WIDTH | UI_HEIGHT },
    { IDC_OVERVIEW_TOPLABEL, UI_BOTTOM }, { IDC_OVERVIEW_TOP, UI_BOTTOM | UI_WIDTH },
    { IDC_OVERVIEW_CHECKLABEL, UI_BOTTOM | UI_RIGHT }, { IDC_OVERVIEW_CHECK, UI_BOTTOM | UI_RIGHT },
    { IDC_OVERVIEW_CACHESLABEL, UI_BOTTOM | UI_RIGHT }, { IDC_OVERVIEW_CACHES, UI_BOTTOM | UI_RIGHT },
    { IDC_OVERVIEW_FIGURESLABEL, UI_BOTTOM }, { IDC_OVERVIEW_FIGURES, UI_BOTTOM | UI_WIDTH },
    { IDC_OVERVIEW_REFRESH, UI_BOTTOM }, { IDC_OVERVIEW_RECHECK, UI_BOTTOM },
};

/* Where the setup checks stand; the colour of the verdict line. */
typedef enum { VERDICT_RUNNING, VERDICT_OK, VERDICT_WARN, VERDICT_FAIL } verdict;

/* The tab exists once: its state lives here. */
static struct {
    ui_layout layout;
    verdict verdict;
    HBRUSH verdict_brush;
} overview;

/* ---- The chart ------------------------------------------------------------ */

typedef struct chart {
    overview_day days[OVERVIEW_DAYS];
} chart;

/* A gridline step of 1, 2 or 5 times a power of ten such that CHART_STEPS
 * steps reach max. */
static uint64_t chart_step(uint64_t max)
{
    uint64_t raw = (max + CHART_STEPS - 1) / CHART_STEPS, magnitude = 1;
    if (raw == 0)
        raw = 1;
    while (magnitude * 10 <= raw)
        magnitude *= 10;
    if (raw <= magnitude)
        return magnitude;
    if (raw <= 2 * magnitude)
        return 2 * magnitude;
    return raw <= 5 * magnitude ? 5 * magnitude : 10 * magnitude;
}

static uint64_t chart_max(const chart *c)
{
    uint64_t max = 0;
    for (int i = 0; i < OVERVIEW_DAYS; i++)
        if (c->days[i].tls + c->days[i].plain > max)
            max = c->days[i].tls + c->days[i].plain;
    return max;
}

static void fill(HDC dc, int left, int top, int right, int bottom, COLORREF colour)
{
    RECT r = { left, top, right, bottom };
    HBRUSH b = CreateSolidBrush(colour);
    FillRect(dc, &r, b);
    DeleteObject(b);
}

static int text_width(HDC dc, const wchar_t *text)
{
    SIZE size = { 0 };
    GetTextExtentPoint32W(dc, text, (int)wcslen(text), &size);
    return size.cx;
}

static void day_label(const overview_day *d, wchar_t *out, size_t len)
{
    _snwprintf(out, len - 1, L"%02d-%02d", d->month, d->mday);
    out[len - 1] = 0;
}

/* The legend across the top: two swatches and the time base. */
static void draw_legend(HWND hwnd, HDC dc, int x, int y, int line)
{
    static const struct { COLORREF colour; const wchar_t *text; } keys[] = {
        { COLOUR_TLS, L"Sent with TLS" }, { COLOUR_PLAIN, L"Sent plain" },
    };
    int gap = ui_scale(hwnd, 6), box = line * 2 / 3;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        fill(dc, x, y + (line - box) / 2, x + box, y + (line - box) / 2 + box, keys[i].colour);
        x += box + gap / 2;
        TextOutW(dc, x, y, keys[i].text, (int)wcslen(keys[i].text));
        x += text_width(dc, keys[i].text) + 2 * gap;
    }
    const wchar_t *base = L"Days in UTC";
    TextOutW(dc, x, y, base, (int)wcslen(base));
}

/* Gridlines with their values, right-aligned left of the plot. */
static void draw_scale(HDC dc, const RECT *plot, uint64_t step, int line)
{
    for (int k = 0; k <= CHART_STEPS; k++) {
        int y = plot->bottom - (plot->bottom - plot->top) * k / CHART_STEPS;
        wchar_t value[32];
        fill(dc, plot->left, y, plot->right, y + 1, k ? COLOUR_GRID : GetSysColor(COLOR_WINDOWTEXT));
        ui_format_count((size_t)(step * (uint64_t)k), value, 32);
        RECT r = { 0, y - line / 2, plot->left - line / 3, y + line / 2 + 1 };
        DrawTextW(dc, value, -1, &r, DT_RIGHT | DT_SINGLELINE | DT_NOPREFIX | DT_NOCLIP);
    }
}

/* A pixel height for value on a scale whose top is top. */
static int bar_height(uint64_t value, uint64_t top, int plot_height)
{
    return top ? (int)((value * (uint64_t)plot_height + top / 2) / top) : 0;
}

/* Stacked bars, and a day label under every day that has room for one
 * (counted back from today, so today is always labelled). */
static void draw_bars(HWND hwnd, HDC dc, const chart *c, const RECT *plot, uint64_t top, int line)
{
    int slot = (plot->right - plot->left) / OVERVIEW_DAYS, gap = ui_scale(hwnd, 4);
    int bar = slot * 3 / 5 > 1 ? slot * 3 / 5 : 1, every = 1, h = plot->bottom - plot->top;
    wchar_t label[16];
    day_label(&c->days[0], label, 16);
    while (every < OVERVIEW_DAYS && slot * every < text_width(dc, label) + gap)
        every++;
    for (int i = 0; i < OVERVIEW_DAYS; i++) {
        const overview_day *d = &c->days[i];
        int x = plot->left + slot * i + (slot - bar) / 2;
        int tls_top = plot->bottom - bar_height(d->tls, top, h);
        int plain_top = plot->bottom - bar_height(d->tls + d->plain, top, h);
        fill(dc, x, tls_top, x + bar, plot->bottom, COLOUR_TLS);
        fill(dc, x, plain_top, x + bar, tls_top, COLOUR_PLAIN);
        if ((OVERVIEW_DAYS - 1 - i) % every)
            continue;
        day_label(d, label, 16);
        RECT r = { plot->left + slot * i - slot, plot->bottom + line / 4,
                   plot->left + slot * (i + 1) + slot, plot->bottom + line / 4 + line };
        DrawTextW(dc, label, -1, &r, DT_CENTER | DT_SINGLELINE | DT_NOPREFIX);
    }
}

static void chart_draw(HWND hwnd, HDC dc, const chart *c)
{
    RECT rc;
    GetClientRect(hwnd, &rc);
    FillRect(dc, &rc, GetSysColorBrush(COLOR_WINDOW));
    HGDIOBJ old_font = SelectObject(dc, (HFONT)SendMessageW(GetParent(hwnd), WM_GETFONT, 0, 0));
    TEXTMETRICW tm;
    GetTextMetricsW(dc, &tm);
    SetBkMode(dc, TRANSPARENT);
    SetTextColor(dc, GetSysColor(COLOR_WINDOWTEXT));
    int line = tm.tmHeight, pad = ui_scale(hwnd, 8);
    uint64_t max = chart_max(c), step = chart_step(max), top = step * CHART_STEPS;
    wchar_t widest[32];
    ui_format_count((size_t)top, widest, 32);
    RECT plot = { pad + text_width(dc, widest) + line / 2, pad + line + pad, rc.right - pad,
                  rc.bottom - pad / 2 - line - line / 4 };
    draw_legend(hwnd, dc, plot.left, pad, line);
    if (plot.bottom > plot.top && plot.right > plot.left) {
        draw_scale(dc, &plot, step, line);
        draw_bars(hwnd, dc, c, &plot, top, line);
        if (max == 0) {
            RECT r = plot;
            DrawTextW(dc, L"No mail was routed in these 14 days.", -1, &r,
                      DT_CENTER | DT_VCENTER | DT_SINGLELINE | DT_NOPREFIX);
        }
    }
    SelectObject(dc, old_font);
}

/* Drawn off screen first: no flicker while the window is resized. */
static void chart_paint(HWND hwnd, const chart *c)
{
    PAINTSTRUCT ps;
    HDC dc = BeginPaint(hwnd, &ps);
    RECT rc;
    GetClientRect(hwnd, &rc);
    HDC mem = CreateCompatibleDC(dc);
    HBITMAP bmp = CreateCompatibleBitmap(dc, rc.right > 0 ? rc.right : 1,
                                         rc.bottom > 0 ? rc.bottom : 1);
    HGDIOBJ old = SelectObject(mem, bmp);
    chart_draw(hwnd, mem, c);
    BitBlt(dc, 0, 0, rc.right, rc.bottom, mem, 0, 0, SRCCOPY);
    SelectObject(mem, old);
    DeleteObject(bmp);
    DeleteDC(mem);
    EndPaint(hwnd, &ps);
}

/* "Last 14 days (UTC): 120 recipients, 100 with TLS, 20 plain." */
static void chart_summary(const chart *c, wchar_t *out, size_t len)
{
    uint64_t tls = 0, plain = 0;
    for (int i = 0; i < OVERVIEW_DAYS; i++) {
        tls += c->days[i].tls;
        plain += c->days[i].plain;
    }
    _snwprintf(out, len - 1, L"Last 14 days (UTC): %llu recipients, %llu with TLS, %llu plain.",
               (unsigned long long)(tls + plain), (unsigned long long)tls,
               (unsigned long long)plain);
    out[len - 1] = 0;
}

static LRESULT CALLBACK chart_proc(HWND hwnd, UINT msg, WPARAM wp, LPARAM lp)
{
    chart *c = (chart *)GetWindowLongPtrW(hwnd, GWLP_USERDATA);
    switch (msg) {
    case WM_NCCREATE:
        c = calloc(1, sizeof *c);
        if (!c)
            return FALSE;
        SetWindowLongPtrW(hwnd, GWLP_USERDATA, (LONG_PTR)c);
        break;
    case WM_NCDESTROY:
        free(c);
        SetWindowLongPtrW(hwnd, GWLP_USERDATA, 0);
        break;
    case CHART_SETDAYS: {
        wchar_t summary[200];
        memcpy(c->days, (const overview_day *)lp, sizeof c->days);
        chart_summary(c, summary, 200);
        SetWindowTextW(hwnd, summary);
        InvalidateRect(hwnd, NULL, FALSE);
        return 0;
    }
    case WM_ERASEBKGND:
        return 1;   /* the paint covers it all */
    case WM_SIZE:
        InvalidateRect(hwnd, NULL, FALSE);
        return 0;
    case WM_PAINT:
        if (c) {
            chart_paint(hwnd, c);
            return 0;
        }
        break;
    }
    return DefWindowProcW(hwnd, msg, wp, lp);
}

static int chart_register(HINSTANCE inst)
{
    WNDCLASSEXW wc = { .cbSize = sizeof wc, .style = CS_HREDRAW | CS_VREDRAW,
                       .lpfnWndProc = chart_proc, .hInstance = inst,
                       .hCursor = LoadCursorW(NULL, IDC_ARROW), .lpszClassName = CHART_CLASS };
    WNDCLASSEXW existing;
    if (GetClassInfoExW(inst, CHART_CLASS, &existing))
        return 0;
    return RegisterClassExW(&wc) ? 0 : -1;
}

/* ---- The rest of the tab ---------------------------------------------------- */

/* "no-starttls" as the admin reads it, with the journal's word after. */
static void reason_words(const char *reason, char *out, size_t len)
{
    const explain_text *t = explain_lookup(reason);
    if (t)
        snprintf(out, len, "%s (%s)", t->title, reason);
    else
        snprintf(out, len, "%s", reason);
}

static void show_top(HWND page, const mgr_overview *o)
{
    HWND lv = GetDlgItem(page, IDC_OVERVIEW_TOP);
    SendMessageW(lv, WM_SETREDRAW, FALSE, 0);
    ListView_DeleteAllItems(lv);
    for (size_t i = 0; i < o->top_count; i++) {
        char count[32], why[300];
        snprintf(count, sizeof count, "%llu", (unsigned long long)o->top[i].count);
        reason_words(o->top[i].reason, why, sizeof why);
        ui_lv_set_utf8(lv, (int)i, 0, o->top[i].domain);
        ui_lv_set_utf8(lv, (int)i, 1, count);
        ui_lv_set_utf8(lv, (int)i, 2, why);
    }
    SendMessageW(lv, WM_SETREDRAW, TRUE, 0);
    InvalidateRect(lv, NULL, TRUE);
}

static void show_caches(HWND page, const overview_caches *c)
{
    wchar_t text[400], probes[32], expired[32], sts[32], rate[80];
    int permille = overview_hit_rate_permille(c);
    ui_format_count((size_t)c->probe_rows, probes, 32);
    ui_format_count((size_t)c->expired_rows, expired, 32);
    ui_format_count((size_t)c->sts_rows, sts, 32);
    if (permille < 0)
        _snwprintf(rate, 79, L"no look-ups yet");
    else
        _snwprintf(rate, 79, L"%d.%d%% of %llu look-ups", permille / 10, permille % 10,
                   (unsigned long long)(c->cache_hits + c->probes));
    rate[79] = 0;
    _snwprintf(text, 399, L"Probe results: %ls domains\nExpired certificates: %ls domains\n"
               L"MTA-STS policies: %ls domains\nAnswered from the cache: %ls",
               probes, expired, sts, rate);
    text[399] = 0;
    SetDlgItemTextW(page, IDC_OVERVIEW_CACHES, text);
}

static void show_figures(HWND page)
{
    char text[600], err[MGR_ERR_LEN];
    if (mgr_figures_text(PAGE_APP(page)->db, text, sizeof text, err, sizeof err) == 0)
        ui_set_text_utf8(GetDlgItem(page, IDC_OVERVIEW_FIGURES), text);
}

static void refresh(HWND page)
{
    mgr_app *app = PAGE_APP(page);
    mgr_overview *o = calloc(1, sizeof *o);
    char err[MGR_ERR_LEN];
    if (!o)
        return;
    if (mgr_overview_read(app->db, plat_wall_ms(), o, err, sizeof err) != 0) {
        app_status(app, L"%hs", err);
        free(o);
        return;
    }
    SendDlgItemMessageW(page, IDC_OVERVIEW_CHART, CHART_SETDAYS, 0, (LPARAM)o->days);
    show_top(page, o);
    show_caches(page, &o->caches);
    ui_set_text_utf8(GetDlgItem(page, IDC_OVERVIEW_FIGURES), o->figures);
    free(o);
}

/* ---- The setup checks' verdict ---------------------------------------------- */

static void set_verdict(HWND page, verdict v, const wchar_t *text)
{
    static const COLORREF colours[] = { 0, VERDICT_GREEN, VERDICT_AMBER, VERDICT_RED };
    overview.verdict = v;
    if (overview.verdict_brush)
        DeleteObject(overview.verdict_brush);
    overview.verdict_brush = v == VERDICT_RUNNING ? NULL : CreateSolidBrush(colours[v]);
    SetDlgItemTextW(page, IDC_OVERVIEW_CHECK, text);
    InvalidateRect(GetDlgItem(page, IDC_OVERVIEW_CHECK), NULL, TRUE);
}

static void start_checks(HWND page)
{
    if (checkrun_start(page, WM_APP_OVERVIEW_CHECKED, mgr_db_path(PAGE_APP(page)->db)) != 0) {
        set_verdict(page, VERDICT_RUNNING, L"The checks could not be started: Windows refused "
                                           L"a new thread.");
        return;
    }
    EnableWindow(GetDlgItem(page, IDC_OVERVIEW_RECHECK), FALSE);
    set_verdict(page, VERDICT_RUNNING, L"Checking the setup...");
}

static void checks_done(HWND page, checkrun_result *r)
{
    size_t failed = 0, warned = 0;
    wchar_t text[300];
    EnableWindow(GetDlgItem(page, IDC_OVERVIEW_RECHECK), TRUE);
    for (size_t i = 0; r->rc == 0 && i < r->n; i++) {
        failed += r->rows[i].status == CHECK_FAIL;
        warned += r->rows[i].status == CHECK_WARN;
    }
    if (r->rc != 0)
        set_verdict(page, VERDICT_RUNNING, L"The checks could not run: out of memory.");
    else if (checkrun_verdict(r->rows, r->n) == CHECK_OK)
        set_verdict(page, VERDICT_OK, L"Setup OK: every check passed.");
    else {
        _snwprintf(text, 299, L"%lu failed, %lu %ls: the Status tab's Check Setup says what to do.",
                   (unsigned long)failed, (unsigned long)warned,
                   warned == 1 ? L"warning" : L"warnings");
        text[299] = 0;
        set_verdict(page, failed ? VERDICT_FAIL : VERDICT_WARN, text);
    }
    checkrun_free(r);
}

/* The verdict line on its colour: white on green and red, black on amber. */
static INT_PTR verdict_colour(HWND page, HDC dc, HWND ctl)
{
    if (ctl != GetDlgItem(page, IDC_OVERVIEW_CHECK) || !overview.verdict_brush)
        return FALSE;
    static const COLORREF backs[] = { 0, VERDICT_GREEN, VERDICT_AMBER, VERDICT_RED };
    SetTextColor(dc, overview.verdict == VERDICT_WARN ? RGB(0, 0, 0) : RGB(255, 255, 255));
    SetBkColor(dc, backs[overview.verdict]);
    return (INT_PTR)overview.verdict_brush;
}

static INT_PTR CALLBACK overview_proc(HWND page, UINT msg, WPARAM wp, LPARAM lp)
{
    switch (msg) {
    case WM_INITDIALOG:
        SetWindowLongPtrW(page, GWLP_USERDATA, lp);
        ui_lv_init(GetDlgItem(page, IDC_OVERVIEW_TOP), top_columns,
                   (int)(sizeof top_columns / sizeof top_columns[0]));
        ui_layout_capture(&overview.layout, page, overview_anchors,
                          (int)(sizeof overview_anchors / sizeof overview_anchors[0]));
        start_checks(page);
        SetTimer(page, FIGURES_TIMER, FIGURES_EVERY_MS, NULL);
        return FALSE;
    case WM_TIMER:
        if (wp == FIGURES_TIMER && IsWindowVisible(page))
            show_figures(page);
        return TRUE;
    case WM_SIZE:
        ui_layout_apply(&overview.layout, page);
        return TRUE;
    case WM_CTLCOLORSTATIC:
        return verdict_colour(page, (HDC)wp, (HWND)lp);
    case WM_APP_REFRESH:
        refresh(page);
        return TRUE;
    case WM_APP_OVERVIEW_CHECKED:
        checks_done(page, (checkrun_result *)lp);
        return TRUE;
    case WM_DESTROY:
        KillTimer(page, FIGURES_TIMER);
        if (overview.verdict_brush)
            DeleteObject(overview.verdict_brush);
        overview.verdict_brush = NULL;
        return FALSE;
    case WM_COMMAND:
        switch (LOWORD(wp)) {
        case IDOK:
        case IDC_OVERVIEW_REFRESH:
            refresh(page);
            return TRUE;
        case IDC_OVERVIEW_RECHECK:
            start_checks(page);
            return TRUE;
        }
        break;
    }
    return FALSE;
}

HWND page_overview_create(mgr_app *app, HWND parent)
{
    if (chart_register(app->inst) != 0)
        return NULL;
    return CreateDialogParamW(app->inst, MAKEINTRESOURCEW(IDD_TAB_OVERVIEW), parent,
                              overview_proc, (LPARAM)app);
}
