/* pickup: render the file in memory (one write, one flush), then move it
 * into the Pickup folder with a no-replace rename. */
#include "pickup.h"

#include "errtext.h"
#include "pathnorm.h"
#include "plat.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static volatile int injected_fault;
static volatile long file_counter;
static plat_once counter_lock_once = PLAT_ONCE_INIT;
static plat_mutex *counter_lock;

void pickup_inject_fault(pickup_fault fault) { injected_fault = (int)fault; }

static pickup_fault take_fault(void)
{
    pickup_fault f = (pickup_fault)injected_fault;
    injected_fault = PICKUP_FAULT_NONE;
    return f;
}

/* atext of RFC 5322 plus '.', the characters of an unquoted local part.
 * Everything else (quotes, spaces, brackets, ',', ';', ':') is refused:
 * none of it is needed by real senders, and each could bend the header
 * line or the recipient list IIS parses out of it. */
static int is_local_char(int c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return 1;
    return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~.", c) != NULL;
}

static int is_domain_char(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '-' || c == '.';
}

static int check_domain_part(const char *d, char *err, size_t errlen)
{
    size_t n = strlen(d);
    if (n == 0) {
        errtext_set(err, errlen, "address has no domain");
        return -1;
    }
    /* An address literal, [192.0.2.1] or [IPv6:2001:db8::1]. */
    if (d[0] == '[') {
        if (n < 3 || d[n - 1] != ']') {
            errtext_set(err, errlen, "malformed address literal");
            return -1;
        }
        for (size_t i = 1; i + 1 < n; i++)
            if (!is_domain_char((unsigned char)d[i]) && d[i] != ':') {
                errtext_set(err, errlen, "forbidden character 0x%02x in address literal",
                            (unsigned char)d[i]);
                return -1;
            }
        return 0;
    }
    for (size_t i = 0; i < n; i++)
        if (!is_domain_char((unsigned char)d[i])) {
            errtext_set(err, errlen, "forbidden character 0x%02x in domain", (unsigned char)d[i]);
            return -1;
        }
    return 0;
}

int pickup_check_address(const char *addr, int allow_empty, char *err, size_t errlen)
{
    if (!addr) {
        errtext_set(err, errlen, "missing address");
        return -1;
    }
    size_t n = strlen(addr);
    if (n == 0) {
        if (allow_empty)
            return 0;
        errtext_set(err, errlen, "empty address");
        return -1;
    }
    if (n > PICKUP_ADDRESS_MAX) {
        errtext_set(err, errlen, "address longer than %d characters", PICKUP_ADDRESS_MAX);
        return -1;
    }
    const char *at = strrchr(addr, '@');
    if (!at || at == addr) {
        errtext_set(err, errlen, "address \"%.60s\" is not local@domain", addr);
        return -1;
    }
    for (const char *p = addr; p < at; p++)
        if (!is_local_char((unsigned char)*p)) {
            errtext_set(err, errlen, "forbidden character 0x%02x in address", (unsigned char)*p);
            return -1;
        }
    return check_domain_part(at + 1, err, errlen);
}

/* Bytes the message takes once dot-stuffed with CRLF line ends, plus a
 * final CRLF when the message does not end with one. */
static size_t stuffed_size(const unsigned char *m, size_t len)
{
    size_t out = 0;
    int line_start = 1;
    for (size_t i = 0; i < len; i++) {
        if (line_start && m[i] == '.')
            out++;
        if (m[i] == '\n' && (i == 0 || m[i - 1] != '\r'))
            out++;
        out++;
        line_start = m[i] == '\n';
    }
    if (len > 0 && !line_start)
        out += 2;
    return out;
}

static size_t stuff(unsigned char *out, const unsigned char *m, size_t len)
{
    size_t o = 0;
    int line_start = 1;
    for (size_t i = 0; i < len; i++) {
        if (line_start && m[i] == '.')
            out[o++] = '.';
        if (m[i] == '\n' && (i == 0 || m[i - 1] != '\r'))
            out[o++] = '\r';
        out[o++] = m[i];
        line_start = m[i] == '\n';
    }
    if (len > 0 && !line_start) {
        out[o++] = '\r';
        out[o++] = '\n';
    }
    return o;
}

static int check_job(const pickup_job *job, char *err, size_t errlen)
{
    char why[160];
    if (!job->pickup_dir || !*job->pickup_dir) {
        errtext_set(err, errlen, "no Pickup folder configured");
        return -1;
    }
    if (job->n_recipients == 0) {
        errtext_set(err, errlen, "no recipients for the pickup file");
        return -1;
    }
    if (pickup_check_address(job->sender ? job->sender : "", 1, why, sizeof why) != 0) {
        errtext_set(err, errlen, "sender refused: %s", why);
        return -1;
    }
    for (size_t i = 0; i < job->n_recipients; i++)
        if (pickup_check_address(job->recipients[i], 0, why, sizeof why) != 0) {
            errtext_set(err, errlen, "recipient refused: %s", why);
            return -1;
        }
    return 0;
}

/* The trace line of the job, or -1: without it the message's own first
 * header would follow the envelope, so there is no file without it. */
static int render_trace(const pickup_job *job, char *buf, size_t len, size_t *out_len,
                        char *err, size_t errlen)
{
    int64_t when = job->trace_time_ms ? job->trace_time_ms : plat_wall_ms();
    *out_len = pickup_trace_line(job->trace_host, job->source_instance, when, buf, len);
    if (*out_len > 0)
        return 0;
    errtext_set(err, errlen, "no trace line: host \"%.60s\" or virtual server %d refused",
                job->trace_host ? job->trace_host : "", job->source_instance);
    return -1;
}

int pickup_render(const pickup_job *job, unsigned char **out, size_t *out_len,
                  char *err, size_t errlen)
{
    char trace[PICKUP_TRACE_LINE_MAX];
    size_t trace_len;
    *out = NULL;
    *out_len = 0;
    if (check_job(job, err, errlen) != 0 ||
        render_trace(job, trace, sizeof trace, &trace_len, err, errlen) != 0)
        return -1;
    const char *sender = job->sender && *job->sender ? job->sender : "<>";
    size_t head = strlen("x-sender: \r\n") + strlen(sender);
    for (size_t i = 0; i < job->n_recipients; i++)
        head += strlen("x-receiver: \r\n") + strlen(job->recipients[i]);
    size_t total = head + trace_len + stuffed_size(job->message, job->message_len);
    /* One spare byte for the NUL sprintf writes after the last header. */
    unsigned char *buf = malloc(total + 1);
    if (!buf) {
        errtext_set(err, errlen, "out of memory for a %lu byte pickup file", (unsigned long)total);
        return -1;
    }
    size_t o = (size_t)sprintf((char *)buf, "x-sender: %s\r\n", sender);
    for (size_t i = 0; i < job->n_recipients; i++)
        o += (size_t)sprintf((char *)buf + o, "x-receiver: %s\r\n", job->recipients[i]);
    /* Ours, right after the envelope: IIS's envelope ends here. */
    memcpy(buf + o, trace, trace_len);
    o += trace_len;
    o += stuff(buf + o, job->message, job->message_len);
    *out = buf;
    *out_len = o;
    return 0;
}

int pickup_check_destination(const char *dest, const char *source_pickup, int source_instance,
                             char *err, size_t errlen)
{
    if (!source_pickup || !*source_pickup || !dest ||
        !pathnorm_same(dest, source_pickup, pathnorm_native()))
        return 0;
    errtext_set(err, errlen,
                "%s is the Pickup folder of virtual server %d itself: every message handed off "
                "would come back to it; choose the Plain TCP server's Pickup folder",
                dest, source_instance);
    return -1;
}

static int is_sep(char c)
{
    return c == '/' || (plat_dir_sep()[0] == '\\' && c == '\\');
}

int pickup_temp_dir_for(const char *pickup_dir, char *buf, size_t len)
{
    size_t n = strlen(pickup_dir);
    while (n > 1 && is_sep(pickup_dir[n - 1]))
        n--;
    size_t parent = n;
    while (parent > 0 && !is_sep(pickup_dir[parent - 1]))
        parent--;
    /* parent is the length of "<parent><sep>", 0 for a bare name. */
    int w = snprintf(buf, len, "%.*s%s", (int)parent, pickup_dir, PICKUP_TEMP_DIR_NAME);
    return (w > 0 && (size_t)w < len) ? 0 : -1;
}

static void init_counter_lock(void) { counter_lock = plat_mutex_new(); }

static unsigned long next_counter(void)
{
    plat_once_run(&counter_lock_once, init_counter_lock);
    plat_mutex_lock(counter_lock);
    unsigned long c = (unsigned long)++file_counter;
    plat_mutex_unlock(counter_lock);
    return c;
}

/* tlsrouter-<ms>-<pid>-<n>: unique per process by the counter and across
 * processes by the pid; the no-replace move catches anything else. */
static int make_name(char *buf, size_t len, const char *suffix)
{
    int w = snprintf(buf, len, "tlsrouter-%llx-%lx-%lx%s",
                     (unsigned long long)plat_wall_ms(), plat_pid(), next_counter(), suffix);
    return (w > 0 && (size_t)w < len) ? 0 : -1;
}

static int join(char *buf, size_t len, const char *dir, const char *name)
{
    size_t n = strlen(dir);
    const char *sep = (n > 0 && is_sep(dir[n - 1])) ? "" : plat_dir_sep();
    int w = snprintf(buf, len, "%s%s%s", dir, sep, name);
    return (w > 0 && (size_t)w < len) ? 0 : -1;
}

static int write_temp(const char *tmp_path, const unsigned char *buf, size_t len,
                      pickup_fault fault, char *err, size_t errlen)
{
    if (fault == PICKUP_FAULT_WRITE) {
        /* Half the bytes really land, then the "disk" is full. */
        char ignored[64];
        plat_write_new_file(tmp_path, buf, len / 2, ignored, sizeof ignored);
        plat_remove(tmp_path);
        errtext_set(err, errlen, "cannot write %s: no space left on device (injected)", tmp_path);
        return -1;
    }
    return plat_write_new_file(tmp_path, buf, len, err, errlen);
}

static int move_in(const char *tmp_path, const char *pickup_dir, char *path_out,
                   size_t path_len, pickup_fault fault, char *err, size_t errlen)
{
    char name[96];
    /* A clash means another writer picked the same name: try fresh ones. */
    for (int attempt = 0; attempt < 3; attempt++) {
        if (make_name(name, sizeof name, ".eml") != 0 ||
            join(path_out, path_len, pickup_dir, name) != 0) {
            errtext_set(err, errlen, "Pickup folder path too long");
            return -1;
        }
        if (fault == PICKUP_FAULT_RENAME) {
            errtext_set(err, errlen, "cannot move into %s: input/output error (injected)",
                        path_out);
            return -1;
        }
        if (plat_rename_noreplace(tmp_path, path_out, err, errlen) == 0)
            return 0;
        if (!plat_is_dir(pickup_dir))
            break;
    }
    return -1;
}

int pickup_write(const pickup_job *job, char *path_out, size_t path_len,
                 char *err, size_t errlen)
{
    pickup_fault fault = take_fault();
    char temp_dir[PLAT_PATH_MAX], tmp_name[96], tmp_path[PLAT_PATH_MAX];
    unsigned char *buf;
    size_t len;

    if (path_len)
        path_out[0] = '\0';
    if (pickup_render(job, &buf, &len, err, errlen) != 0)
        return -1;
    if (!plat_is_dir(job->pickup_dir)) {
        errtext_set(err, errlen, "Pickup folder %s does not exist", job->pickup_dir);
        free(buf);
        return -1;
    }
    if (job->temp_dir)
        snprintf(temp_dir, sizeof temp_dir, "%s", job->temp_dir);
    else if (pickup_temp_dir_for(job->pickup_dir, temp_dir, sizeof temp_dir) != 0) {
        errtext_set(err, errlen, "Pickup folder path too long");
        free(buf);
        return -1;
    }
    if (plat_mkdir(temp_dir) != 0 || !plat_is_dir(temp_dir)) {
        errtext_set(err, errlen, "cannot create the temporary folder %s", temp_dir);
        free(buf);
        return -1;
    }
    if (make_name(tmp_name, sizeof tmp_name, ".tmp") != 0 ||
        join(tmp_path, sizeof tmp_path, temp_dir, tmp_name) != 0) {
        errtext_set(err, errlen, "temporary folder path too long");
        free(buf);
        return -1;
    }
    int rc = write_temp(tmp_path, buf, len, fault, err, errlen);
    free(buf);
    if (rc != 0)
        return -1;
    if (move_in(tmp_path, job->pickup_dir, path_out, path_len, fault, err, errlen) != 0) {
        plat_remove(tmp_path);
        if (path_len)
            path_out[0] = '\0';
        return -1;
    }
    return 0;
}

/* ---- stale temporary files ---------------------------------------------- */

typedef struct {
    const char *dir;
    int64_t before_ms;     /* files last written before this are stale */
    int removed;
} sweep;

static int is_our_temp_name(const char *name)
{
    static const char prefix[] = "tlsrouter-", suffix[] = ".tmp";
    size_t n = strlen(name), p = sizeof prefix - 1, s = sizeof suffix - 1;
    return n > p + s && memcmp(name, prefix, p) == 0 && memcmp(name + n - s, suffix, s) == 0;
}

static int sweep_one(const char *name, int64_t mtime_ms, void *arg)
{
    sweep *sw = arg;
    char path[PLAT_PATH_MAX];
    if (is_our_temp_name(name) && mtime_ms < sw->before_ms &&
        join(path, sizeof path, sw->dir, name) == 0 && plat_remove(path) == 0)
        sw->removed++;
    return 0;
}

int pickup_sweep_temp(const char *pickup_dir, int64_t now_ms, int64_t max_age_ms)
{
    char temp_dir[PLAT_PATH_MAX];
    if (pickup_temp_dir_for(pickup_dir, temp_dir, sizeof temp_dir) != 0)
        return -1;
    if (!plat_is_dir(temp_dir))
        return 0;
    sweep sw = { temp_dir, now_ms - max_age_ms, 0 };
    return plat_list_files(temp_dir, sweep_one, &sw) == 0 ? sw.removed : -1;
}

/* ---- backlog -------------------------------------------------------------- */

static int count_waiting(const char *name, int64_t mtime_ms, void *arg)
{
    pickup_backlog *b = arg;
    (void)name;
    b->count++;
    if (!b->oldest_ms || mtime_ms < b->oldest_ms)
        b->oldest_ms = mtime_ms;
    return 0;
}

int pickup_backlog_of(const char *pickup_dir, pickup_backlog *out)
{
    out->count = 0;
    out->oldest_ms = 0;
    return plat_list_files(pickup_dir, count_waiting, out);
}
