/* ui: small Win32 helpers shared by the manager's dialogs: UTF-8 <-> UTF-16,
 * message boxes, ListView columns and cells, times, and anchoring controls
 * to the edges of a resizable dialog. */
#ifndef TR_MGR_UI_H
#define TR_MGR_UI_H

#include <windows.h>
#include <stdint.h>

#define UI_APP_TITLE L"TLS Router Manager"
#define UI_WIDEN_(x) L##x
#define UI_WIDEN(x) UI_WIDEN_(x)
#define TLSROUTER_VERSION_W UI_WIDEN(TLSROUTER_VERSION)

/* Messages the main window sends to its tab pages. */
#define WM_APP_REFRESH   (WM_APP + 1)   /* reload from the database */
#define WM_APP_PROBEDONE (WM_APP + 2)   /* worker finished; lParam = result */

void ui_widen(const char *utf8, wchar_t *out, size_t outlen);
void ui_narrow(const wchar_t *wide, char *out, size_t outlen);
/* Text of a control as UTF-8, malloc'd (never NULL unless out of memory). */
char *ui_get_text_utf8(HWND ctl);
void ui_set_text_utf8(HWND ctl, const char *utf8);

/* Warning box with a plain sentence; utf8 variant for core messages. */
void ui_error(HWND owner, const wchar_t *text);
void ui_error_utf8(HWND owner, const char *text);
void ui_info(HWND owner, const wchar_t *text);

typedef struct ui_column {
    const wchar_t *title;
    int width;                 /* at 96 DPI */
} ui_column;
void ui_lv_init(HWND lv, const ui_column *cols, int n);
void ui_lv_set_utf8(HWND lv, int item, int sub, const char *utf8);
int ui_lv_selected(HWND lv);

/* Local time "YYYY-MM-DD HH:MM:SS" for ms since the Unix epoch; "" for 0. */
void ui_format_time_ms(int64_t ms, wchar_t *out, size_t outlen);

/* 1234567 as "1,234,567". */
void ui_format_count(size_t n, wchar_t *out, size_t outlen);

/* Anchors: each control keeps its distance to the right and/or bottom
 * edge when the dialog is resized. */
#define UI_RIGHT   1   /* move with the right edge */
#define UI_BOTTOM  2   /* move with the bottom edge */
#define UI_WIDTH   4   /* grow with the width */
#define UI_HEIGHT  8   /* grow with the height */
typedef struct ui_anchor { int id; int flags; } ui_anchor;
typedef struct ui_layout {
    int count;
    int dpi;                   /* of the window when captured */
    SIZE base;                 /* client size when captured */
    struct { int id; int flags; RECT rc; } items[32];
} ui_layout;
void ui_layout_capture(ui_layout *l, HWND dlg, const ui_anchor *a, int n);
void ui_layout_apply(const ui_layout *l, HWND dlg);

/* Pixels for a length at 96 DPI on this window's monitor. */
int ui_scale(HWND hwnd, int px96);

#endif
