/* settings: the table generated from TR_SETTINGS (see the header). */
#include "settings.h"

#include <stdio.h>
#include <string.h>

/* How a default is written in the list: a number for INT, a string for the
 * others; the table holds the text db/schema.sql seeds. */
#define SETTING_DEFAULT_TEXT_INT(def) #def
#define SETTING_DEFAULT_TEXT_CHOICE(def) def
#define SETTING_DEFAULT_TEXT_DNS(def) def
#define SETTING_DEFAULT_TEXT_HOST(def) def

#define SETTING_ROW(key, kind, min, max, choices, def, label, help) \
    { #key, SETTING_KIND_##kind, min, max, choices, SETTING_DEFAULT_TEXT_##kind(def), label, help },

static const setting_def settings_table[] = { TR_SETTINGS(SETTING_ROW) };

#undef SETTING_ROW

const setting_def *setting_at(size_t index)
{
    return index < SETTING_COUNT ? &settings_table[index] : NULL;
}

const setting_def *setting_find(const char *key)
{
    for (size_t i = 0; key && i < SETTING_COUNT; i++)
        if (strcmp(settings_table[i].key, key) == 0)
            return &settings_table[i];
    return NULL;
}

/* "a, b or c" */
static void choices_text(const char *const *choices, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; choices[i] && used < len; i++) {
        const char *sep = i == 0 ? "" : choices[i + 1] ? ", " : " or ";
        int n = snprintf(buf + used, len - used, "%s%s", sep, choices[i]);
        if (n < 0)
            return;
        used += (size_t)n;
    }
}

void setting_allowed_text(const setting_def *d, char *buf, size_t len)
{
    if (!len)
        return;
    switch (d->kind) {
    case SETTING_KIND_INT:
        if (d->max - d->min == 1) /* a switch */
            snprintf(buf, len, "%lld or %lld", (long long)d->min, (long long)d->max);
        else
            snprintf(buf, len, "a whole number from %lld to %lld", (long long)d->min,
                     (long long)d->max);
        break;
    case SETTING_KIND_CHOICE:
        choices_text(d->choices, buf, len);
        break;
    case SETTING_KIND_DNS:
        snprintf(buf, len, "HOST[:PORT] separated by commas, or empty");
        break;
    case SETTING_KIND_HOST:
        snprintf(buf, len, "a host name, or empty");
        break;
    }
}
