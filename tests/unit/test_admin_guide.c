/* The Admin Guide (docs/admin-guide/index.html) against the code it
 * describes, so the two cannot drift apart:
 *   - every journal reason carries exactly the title, route, meaning and
 *     action of core/explain.c;
 *   - every command of cli/commands.h, every Event Log message of
 *     resources/tlsrouter_msg.mc, every setting of core/settings.h and
 *     every check of core/check.c has its entry, and the guide has no
 *     entry for one that does not exist;
 *   - every picture and every link inside the page is there, and every
 *     picture is one docs/screenshots/.gitignore lets git keep (the GUI
 *     test writes them all there; one not allowed exists only on the
 *     machine that ran it).
 * The guide marks each entry with an id: reason-NAME, cmd-NAME,
 * event-DECIMAL (the Event ID as Event Viewer shows it), setting-KEY,
 * check-NAME. A reason's texts sit in elements of class title, route,
 * meaning and action inside <section class="reason" id="reason-NAME">;
 * they are compared after HTML-unescaping and collapsing white space, as
 * a browser shows them. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "decide.h"
#include "explain.h"
#include "settings.h"

#define GUIDE_DIR TR_TEST_SOURCE_DIR "/docs/admin-guide"
#define GUIDE_PATH GUIDE_DIR "/index.html"
#define MESSAGES_PATH TR_TEST_SOURCE_DIR "/resources/tlsrouter_msg.mc"
#define SCREENSHOTS_PREFIX "../screenshots/"
#define SCREENSHOTS_IGNORE TR_TEST_SOURCE_DIR "/docs/screenshots/.gitignore"
#define NAME_MAX_LEN 128

#define CLI_COMMAND(name, usage) #name,
static const char *const commands[] = {
#include "commands.h"
    NULL
};
#undef CLI_COMMAND

static char *guide;

/* The whole file, NUL-terminated; NULL when it cannot be read. */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += got;
        if (cap - len - 1 == 0) {
            char *bigger = realloc(buf, cap * 2);
            if (!bigger)
                free(buf);
            buf = bigger;
            cap *= 2;
        }
    }
    fclose(f);
    if (buf)
        buf[len] = '\0';
    return buf;
}

static int read_guide(void **state)
{
    (void)state;
    guide = slurp(GUIDE_PATH);
    if (!guide)
        print_error("the Admin Guide %s cannot be read\n", GUIDE_PATH);
    return guide ? 0 : -1;
}

static int free_guide(void **state)
{
    (void)state;
    free(guide);
    guide = NULL;
    return 0;
}

/* ---- reading the page ------------------------------------------------- */

static const struct {
    const char *entity;
    char c;
} entities[] = { { "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' }, { "&quot;", '"' },
                 { "&#39;", '\'' } };

/* [start, end) as a browser shows it: the few entities the guide uses
 * unescaped (another one fails the test: keep the texts plain), runs of
 * white space as one space, none at either end. */
static char *shown_text(const char *start, const char *end)
{
    char *out = malloc((size_t)(end - start) + 1);
    size_t n = 0;
    assert_non_null(out);
    for (const char *p = start; p < end; p++) {
        char c = *p;
        if (c == '&') {
            size_t k = 0, count = sizeof entities / sizeof entities[0];
            while (k < count && strncmp(p, entities[k].entity, strlen(entities[k].entity)) != 0)
                k++;
            if (k == count)
                fail_msg("the guide uses an entity the test does not know near \"%.40s\"", p);
            c = entities[k].c;
            p += strlen(entities[k].entity) - 1;
        } else if (isspace((unsigned char)c)) {
            if (n == 0 || out[n - 1] == ' ')
                continue;
            c = ' ';
        }
        out[n++] = c;
    }
    while (n > 0 && out[n - 1] == ' ')
        n--;
    out[n] = '\0';
    return out;
}

/* The same collapsing for a text of the code, which has no entities. */
static char *collapsed(const char *s)
{
    char *out = malloc(strlen(s) + 1);
    size_t n = 0;
    assert_non_null(out);
    for (; *s; s++) {
        if (isspace((unsigned char)*s)) {
            if (n > 0 && out[n - 1] != ' ')
                out[n++] = ' ';
        } else
            out[n++] = *s;
    }
    while (n > 0 && out[n - 1] == ' ')
        n--;
    out[n] = '\0';
    return out;
}

/* Where id="PREFIXNAME" is, or NULL. */
static const char *find_id(const char *prefix, const char *name)
{
    char needle[NAME_MAX_LEN + 32];
    snprintf(needle, sizeof needle, "id=\"%s%s\"", prefix, name);
    return strstr(guide, needle);
}

/* The text of the first element of class cls in [from, end): from its
 * opening tag's ">" to the next "<". NULL when there is none. */
static char *element_text(const char *from, const char *end, const char *cls)
{
    char needle[64];
    snprintf(needle, sizeof needle, "class=\"%s\"", cls);
    const char *at = strstr(from, needle);
    if (!at || at >= end)
        return NULL;
    const char *open = strchr(at, '>');
    const char *close = open ? strchr(open, '<') : NULL;
    if (!close || close > end)
        return NULL;
    return shown_text(open + 1, close);
}

static void expect_text(const char *reason, const char *what, const char *from, const char *end,
                        const char *want)
{
    char *got = element_text(from, end, what);
    if (!got)
        fail_msg("reason-%s: no element of class \"%s\" in its section", reason, what);
    char *expected = collapsed(want);
    int same = strcmp(got, expected) == 0;
    if (!same)
        print_error("reason-%s %s differs from core/explain.c.\nguide: %s\ncode:  %s\n", reason,
                    what, got, expected);
    free(got);
    free(expected);
    if (!same)
        fail();
}

/* Every id="PREFIX..." of the page names something known(). */
static void no_unknown_ids(const char *prefix, int (*known)(const char *name), const char *where)
{
    char needle[64];
    snprintf(needle, sizeof needle, "id=\"%s", prefix);
    for (const char *p = strstr(guide, needle); p; p = strstr(p + 1, needle)) {
        const char *name = p + strlen(needle);
        const char *quote = strchr(name, '"');
        char buf[NAME_MAX_LEN];
        assert_non_null(quote);
        snprintf(buf, sizeof buf, "%.*s", (int)(quote - name), name);
        if (!known(buf))
            fail_msg("the guide has an entry id=\"%s%s\", but %s has no such thing", prefix, buf,
                     where);
    }
}

/* ---- reasons ------------------------------------------------------------ */

static void print_expected_section(const explain_text *t)
{
    print_message("Expected (from core/explain.c):\n"
                  "<section class=\"reason\" id=\"reason-%s\">\n"
                  "<h3><code>%s</code> <span class=\"title\">%s</span> "
                  "<span class=\"route\">%s</span></h3>\n"
                  "<dl><dt>What happened</dt><dd class=\"meaning\">%s</dd>\n"
                  "<dt>What to do</dt><dd class=\"action\">%s</dd></dl>\n</section>\n"
                  "(escape &, < and > as &amp;, &lt; and &gt;)\n",
                  decide_reason_name(t->reason), decide_reason_name(t->reason), t->title,
                  explain_route_name(t->route), t->meaning, t->action);
}

static void every_reason_has_its_words(void **state)
{
    (void)state;
    for (int i = 0; i < DECIDE_REASON_COUNT; i++) {
        const explain_text *t = explain_reason((decide_reason)i);
        const char *name = decide_reason_name((decide_reason)i);
        const char *at = find_id("reason-", name);
        assert_non_null(t);
        if (!at) {
            print_expected_section(t);
            fail_msg("the guide has no section id=\"reason-%s\"", name);
        }
        const char *end = strstr(at, "</section>");
        if (!end)
            fail_msg("reason-%s: its section is not closed", name);
        expect_text(name, "title", at, end, t->title);
        expect_text(name, "route", at, end, explain_route_name(t->route));
        expect_text(name, "meaning", at, end, t->meaning);
        expect_text(name, "action", at, end, t->action);
    }
}

static int is_reason(const char *name) { return explain_lookup(name) != NULL; }

static void no_reason_the_code_lacks(void **state)
{
    (void)state;
    no_unknown_ids("reason-", is_reason, "core/explain.c");
}

/* ---- commands, settings, checks ------------------------------------- */

static int is_command(const char *name)
{
    for (size_t i = 0; commands[i]; i++)
        if (strcmp(commands[i], name) == 0)
            return 1;
    return 0;
}

static void every_command_is_described(void **state)
{
    (void)state;
    assert_non_null(commands[0]);
    for (size_t i = 0; commands[i]; i++)
        if (!find_id("cmd-", commands[i]))
            fail_msg("the guide does not describe the command %s (no id=\"cmd-%s\")",
                     commands[i], commands[i]);
    no_unknown_ids("cmd-", is_command, "cli/commands.h");
}

static int is_setting(const char *key) { return setting_find(key) != NULL; }

static void every_setting_is_described(void **state)
{
    (void)state;
    for (size_t i = 0; setting_at(i); i++)
        if (!find_id("setting-", setting_at(i)->key))
            fail_msg("the guide does not describe the setting %s (no id=\"setting-%s\")",
                     setting_at(i)->key, setting_at(i)->key);
    no_unknown_ids("setting-", is_setting, "core/settings.h");
}

static int is_check(const char *name)
{
    for (size_t i = 0; check_name_at(i); i++)
        if (strcmp(check_name_at(i), name) == 0)
            return 1;
    return 0;
}

static void every_check_is_described(void **state)
{
    (void)state;
    assert_non_null(check_name_at(0));
    for (size_t i = 0; check_name_at(i); i++)
        if (!find_id("check-", check_name_at(i)))
            fail_msg("the guide does not describe the check %s (no id=\"check-%s\")",
                     check_name_at(i), check_name_at(i));
    no_unknown_ids("check-", is_check, "core/check.c");
}

/* ---- Event Log messages ------------------------------------------------- */

#define MAX_EVENTS 64

static unsigned long event_ids[MAX_EVENTS];
static size_t n_event_ids;

/* The MessageId= lines of the message table the sink's DLL carries. */
static void read_event_ids(void)
{
    char *mc = slurp(MESSAGES_PATH);
    if (!mc)
        fail_msg("%s cannot be read", MESSAGES_PATH);
    n_event_ids = 0;
    for (const char *p = strstr(mc, "\nMessageId="); p; p = strstr(p + 1, "\nMessageId=")) {
        assert_true(n_event_ids < MAX_EVENTS);
        event_ids[n_event_ids++] = strtoul(p + strlen("\nMessageId="), NULL, 0);
    }
    free(mc);
    assert_true(n_event_ids > 0);
}

static int is_event(const char *decimal)
{
    char *end;
    unsigned long id = strtoul(decimal, &end, 10);
    for (size_t i = 0; *end == '\0' && i < n_event_ids; i++)
        if (event_ids[i] == id)
            return 1;
    return 0;
}

/* Event Viewer shows the id in decimal; the entry names the hex the
 * message table uses too, so either can be searched for. */
static void every_event_is_described(void **state)
{
    (void)state;
    read_event_ids();
    for (size_t i = 0; i < n_event_ids; i++) {
        char decimal[24], hex[24];
        snprintf(decimal, sizeof decimal, "%lu", event_ids[i]);
        snprintf(hex, sizeof hex, "0x%lX", event_ids[i]);
        const char *at = find_id("event-", decimal);
        if (!at)
            fail_msg("the guide does not describe Event ID %s (%s; no id=\"event-%s\")", decimal,
                     hex, decimal);
        const char *row_end = strstr(at, "</tr>");
        const char *named = strstr(at, hex);
        if (!row_end || !named || named > row_end)
            fail_msg("event-%s: its row does not name %s", decimal, hex);
    }
    no_unknown_ids("event-", is_event, "resources/tlsrouter_msg.mc");
}

/* ---- the page itself --------------------------------------------------- */

/* The value of each attr="..." in the page, in turn: *cursor starts at
 * NULL; the value is written to buf; 0 when there are no more. */
static int next_attr(const char *attr, const char **cursor, char *buf, size_t len)
{
    char needle[32];
    snprintf(needle, sizeof needle, " %s=\"", attr);
    const char *at = strstr(*cursor ? *cursor : guide, needle);
    if (!at)
        return 0;
    const char *value = at + strlen(needle);
    const char *quote = strchr(value, '"');
    assert_non_null(quote);
    snprintf(buf, len, "%.*s", (int)(quote - value), value);
    *cursor = quote;
    return 1;
}

static int file_exists(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f)
        fclose(f);
    return f != NULL;
}

static void every_picture_is_there(void **state)
{
    (void)state;
    const char *cursor = NULL;
    char src[512], path[1024];
    int pictures = 0;
    while (next_attr("src", &cursor, src, sizeof src)) {
        if (strstr(src, "://") || src[0] == '/')
            fail_msg("the guide loads %s from outside its folder: it must work offline", src);
        snprintf(path, sizeof path, "%s/%s", GUIDE_DIR, src);
        if (!file_exists(path))
            fail_msg("the guide shows %s, but %s does not exist", src, path);
        pictures++;
    }
    assert_true(pictures > 0);
}

/* Whether the .gitignore text holds the line "!name". */
static int ignore_allows(const char *ignore, const char *name)
{
    size_t len = strlen(name);
    for (const char *line = ignore; line; line = strchr(line, '\n')) {
        if (*line == '\n')
            line++;
        if (line[0] == '!' && strncmp(line + 1, name, len) == 0
            && (line[1 + len] == '\n' || line[1 + len] == '\r' || line[1 + len] == '\0'))
            return 1;
    }
    return 0;
}

static void every_picture_is_kept_in_git(void **state)
{
    (void)state;
    char *ignore = slurp(SCREENSHOTS_IGNORE);
    const char *cursor = NULL;
    char src[512];
    if (!ignore)
        fail_msg("%s cannot be read", SCREENSHOTS_IGNORE);
    while (next_attr("src", &cursor, src, sizeof src)) {
        const char *name = src + strlen(SCREENSHOTS_PREFIX);
        if (strncmp(src, SCREENSHOTS_PREFIX, strlen(SCREENSHOTS_PREFIX)) != 0) {
            free(ignore);
            fail_msg("the guide shows %s; its pictures are %sNAME.png", src, SCREENSHOTS_PREFIX);
        }
        if (!ignore_allows(ignore, name)) {
            free(ignore);
            fail_msg("the guide shows %s, but docs/screenshots/.gitignore has no line "
                     "\"!%s\": git would not keep it", src, name);
        }
    }
    free(ignore);
}

/* Internal links land on an id; the style sheet is there; the page is
 * plain HTML with a charset and nothing fetched from elsewhere. */
static void links_and_resources_are_local(void **state)
{
    (void)state;
    const char *cursor = NULL;
    char href[512], path[1024];
    while (next_attr("href", &cursor, href, sizeof href)) {
        if (href[0] == '#') {
            char needle[600];
            snprintf(needle, sizeof needle, "id=\"%s\"", href + 1);
            if (!strstr(guide, needle))
                fail_msg("the link %s leads nowhere: no id=\"%s\"", href, href + 1);
        } else if (!strstr(href, "://")) {
            snprintf(path, sizeof path, "%s/%s", GUIDE_DIR, href);
            if (!file_exists(path))
                fail_msg("the guide links %s, but %s does not exist", href, path);
        }
    }
    assert_non_null(strstr(guide, "<meta charset=\"utf-8\">"));
    assert_non_null(strstr(guide, "href=\"guide.css\""));
    assert_null(strstr(guide, "<script"));
    assert_null(strstr(guide, "<iframe"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_reason_has_its_words),
        cmocka_unit_test(no_reason_the_code_lacks),
        cmocka_unit_test(every_command_is_described),
        cmocka_unit_test(every_setting_is_described),
        cmocka_unit_test(every_check_is_described),
        cmocka_unit_test(every_event_is_described),
        cmocka_unit_test(every_picture_is_there),
        cmocka_unit_test(every_picture_is_kept_in_git),
        cmocka_unit_test(links_and_resources_are_local),
    };
    return cmocka_run_group_tests(tests, read_guide, free_guide);
}
