/* Pickup files: byte-exact content, our trace line closing the envelope,
 * the loop detector on hostile headers, atomic hand-off, refused
 * addresses, and failures that leave nothing behind. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pickup.h"
#include "plat.h"
#include "trtest.h"

#ifndef _WIN32
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#endif

typedef struct {
    char root[512];
    char pickup[PLAT_PATH_MAX];
    char temp[PLAT_PATH_MAX];
} dirs;

static int setup(void **state)
{
    dirs *d = calloc(1, sizeof *d);
    assert_non_null(d);
    assert_int_equal(trtest_temp_dir("pickup", d->root, sizeof d->root), 0);
    snprintf(d->pickup, sizeof d->pickup, "%s/Pickup", d->root);
    snprintf(d->temp, sizeof d->temp, "%s/%s", d->root, PICKUP_TEMP_DIR_NAME);
    assert_int_equal(plat_mkdir(d->pickup), 0);
    *state = d;
    return 0;
}

static int teardown(void **state)
{
    dirs *d = *state;
    pickup_inject_fault(PICKUP_FAULT_NONE);
    trtest_remove_tree(d->root);
    free(d);
    return 0;
}

static const char *const two_rcpts[] = { "alice@legacy.example", "bob@old.example" };

#define HOST "relay.corp.example"
/* Mon, 02 Jan 2006 22:04:05 UTC */
#define TRACE_TIME_MS INT64_C(1136239445000)
/* What every job_for file carries after its envelope. */
#define TRACE "Received: by " HOST " (TLS Router " TLSROUTER_VERSION ")\r\n" \
              "\twith hand-off from virtual server 1; Mon, 02 Jan 2006 22:04:05 +0000\r\n"

static pickup_job job_for(const dirs *d, const char *msg)
{
    pickup_job job = { .pickup_dir = d->pickup,
                       .sender = "sender@corp.example",
                       .recipients = two_rcpts,
                       .n_recipients = 2,
                       .message = (const unsigned char *)msg,
                       .message_len = strlen(msg),
                       .trace_host = HOST,
                       .source_instance = 1,
                       .trace_time_ms = TRACE_TIME_MS };
    return job;
}

/* Nothing in Pickup and nothing left in the temporary folder. */
static void assert_nothing_left(const dirs *d)
{
    int n = trtest_count_entries(d->pickup);
    assert_true(n <= 0);
    n = trtest_count_entries(d->temp);
    assert_true(n <= 0);
}

static void renders_byte_exact(void **state)
{
    dirs *d = *state;
    /* Bare LF, CRLF, a leading dot, a lone "." line, a dot mid-line, and no
     * newline at the end. */
    const char *msg = "Subject: hi\n"
                      "From: s@corp.example\r\n"
                      "\n"
                      ".hidden\n"
                      ".\r\n"
                      "a.b\n"
                      "..two\n"
                      "last";
    const char *expected = "x-sender: sender@corp.example\r\n"
                           "x-receiver: alice@legacy.example\r\n"
                           "x-receiver: bob@old.example\r\n"
                           TRACE
                           "Subject: hi\r\n"
                           "From: s@corp.example\r\n"
                           "\r\n"
                           "..hidden\r\n"
                           "..\r\n"
                           "a.b\r\n"
                           "...two\r\n"
                           "last\r\n";
    pickup_job job = job_for(d, msg);
    char path[PLAT_PATH_MAX], err[256];
    assert_int_equal(pickup_write(&job, path, sizeof path, err, sizeof err), 0);
    size_t len;
    char *got = trtest_read_file(path, &len);
    assert_non_null(got);
    assert_int_equal(len, strlen(expected));
    assert_memory_equal(got, expected, len);
    free(got);
    /* The file sits in Pickup, alone, and the temporary folder is empty. */
    char name[256];
    assert_int_equal(trtest_only_entry(d->pickup, name, sizeof name), 0);
    assert_non_null(strstr(path, name));
    assert_int_equal(trtest_count_entries(d->temp), 0);
}

static void null_sender_and_empty_message(void **state)
{
    dirs *d = *state;
    pickup_job job = job_for(d, "");
    job.sender = "";
    job.n_recipients = 1;
    unsigned char *buf;
    size_t len;
    char err[256];
    assert_int_equal(pickup_render(&job, &buf, &len, err, sizeof err), 0);
    const char *expected = "x-sender: <>\r\nx-receiver: alice@legacy.example\r\n" TRACE;
    assert_int_equal(len, strlen(expected));
    assert_memory_equal(buf, expected, len);
    free(buf);
}

static void files_of_many_messages_never_collide(void **state)
{
    dirs *d = *state;
    char path[PLAT_PATH_MAX], err[256];
    for (int i = 0; i < 50; i++) {
        pickup_job job = job_for(d, "Subject: x\r\n\r\nbody\r\n");
        assert_int_equal(pickup_write(&job, path, sizeof path, err, sizeof err), 0);
    }
    assert_int_equal(trtest_count_entries(d->pickup), 50);
    assert_int_equal(trtest_count_entries(d->temp), 0);
}

static void header_injection_refused(void **state)
{
    dirs *d = *state;
    static const char *const bad[] = {
        "a@b.example\r\nx-receiver: victim@elsewhere.example",
        "a@b.example\nx-receiver: victim@elsewhere.example",
        "a@b.example\r",
        "a\tb@b.example",
        "a\x7f@b.example",
        "a\x1b@b.example",
        "<a@b.example>",
        "a@b.example>",
        "a@b.example,victim@elsewhere.example",
        "a@b.example;victim@elsewhere.example",
        "a b@b.example",
        "\"a\"@b.example",
        "a@b example",
        "a@b.exa\xc3\xa9mple",
        "nobody",
        "@b.example",
        "a@",
        "a@[1.2.3.4",
        "",
    };
    char path[PLAT_PATH_MAX], err[256];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *rcpts[] = { "ok@fine.example", bad[i] };
        pickup_job job = job_for(d, "Subject: x\r\n\r\nbody\r\n");
        job.recipients = rcpts;
        err[0] = '\0';
        assert_int_equal(pickup_write(&job, path, sizeof path, err, sizeof err), -1);
        assert_non_null(strstr(err, "recipient refused"));
        assert_string_equal(path, "");
        /* The same address as sender is refused too (empty is the null
         * reverse path and allowed). */
        if (bad[i][0]) {
            job.recipients = two_rcpts;
            job.sender = bad[i];
            assert_int_equal(pickup_write(&job, path, sizeof path, err, sizeof err), -1);
            assert_non_null(strstr(err, "sender refused"));
        }
    }
    char longest[PICKUP_ADDRESS_MAX + 8];
    memset(longest, 'a', sizeof longest - 1);
    longest[sizeof longest - 1] = '\0';
    memcpy(longest + 10, "@x.example", 10);
    assert_int_equal(pickup_check_address(longest, 0, err, sizeof err), -1);
    assert_int_equal(pickup_check_address("o'brien+tag@[IPv6:2001:db8::1]", 0, err, sizeof err), 0);
    assert_int_equal(pickup_check_address("first.last@sub.example-host.com", 0, err, sizeof err), 0);
    assert_nothing_left(d);
}

static void missing_pickup_folder(void **state)
{
    dirs *d = *state;
    trtest_remove_tree(d->pickup);
    pickup_job job = job_for(d, "Subject: x\r\n\r\nbody\r\n");
    char path[PLAT_PATH_MAX], err[256];
    assert_int_equal(pickup_write(&job, path, sizeof path, err, sizeof err), -1);
    assert_non_null(strstr(err, "does not exist"));
    assert_nothing_left(d);
}

static void pickup_is_not_a_folder(void **state)
{
    dirs *d = *state;
    trtest_remove_tree(d->pickup);
    char err[256];
    assert_int_equal(plat_write_new_file(d->pickup, "x", 1, err, sizeof err), 0);
    pickup_job job = job_for(d, "Subject: x\r\n\r\nbody\r\n");
    char path[PLAT_PATH_MAX];
    assert_int_equal(pickup_write(&job, path, sizeof path, err, sizeof err), -1);
    assert_non_null(strstr(err, "does not exist"));
    assert_int_equal(trtest_count_entries(d->temp) <= 0, 1);
}

static void temp_folder_cannot_be_made(void **state)
{
    dirs *d = *state;
    char blocker[PLAT_PATH_MAX], temp[PLAT_PATH_MAX + 8], err[256], path[PLAT_PATH_MAX];
    snprintf(blocker, sizeof blocker, "%s/blocker", d->root);
    assert_int_equal(plat_write_new_file(blocker, "x", 1, err, sizeof err), 0);
    snprintf(temp, sizeof temp, "%s/sub", blocker);
    pickup_job job = job_for(d, "Subject: x\r\n\r\nbody\r\n");
    job.temp_dir = temp;
    assert_int_equal(pickup_write(&job, path, sizeof path, err, sizeof err), -1);
    assert_non_null(strstr(err, "temporary folder"));
    assert_int_equal(trtest_count_entries(d->pickup), 0);
}

static void injected_write_failure(void **state)
{
    dirs *d = *state;
    pickup_inject_fault(PICKUP_FAULT_WRITE);
    pickup_job job = job_for(d, "Subject: x\r\n\r\nbody\r\n");
    char path[PLAT_PATH_MAX], err[256];
    assert_int_equal(pickup_write(&job, path, sizeof path, err, sizeof err), -1);
    assert_non_null(strstr(err, "no space"));
    assert_string_equal(path, "");
    assert_nothing_left(d);
    /* The fault is one-shot: the next write works. */
    assert_int_equal(pickup_write(&job, path, sizeof path, err, sizeof err), 0);
    assert_int_equal(trtest_count_entries(d->pickup), 1);
}

static void injected_move_failure(void **state)
{
    dirs *d = *state;
    pickup_inject_fault(PICKUP_FAULT_RENAME);
    pickup_job job = job_for(d, "Subject: x\r\n\r\nbody\r\n");
    char path[PLAT_PATH_MAX], err[256];
    assert_int_equal(pickup_write(&job, path, sizeof path, err, sizeof err), -1);
    assert_non_null(strstr(err, "cannot move"));
    assert_nothing_left(d);
}

#ifndef _WIN32
/* A real "file too large" from the kernel: the file size limit makes the
 * write itself fail halfway, as a full disk would. */
static void real_write_failure_file_size_limit(void **state)
{
    dirs *d = *state;
    struct rlimit old, small;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    void (*old_handler)(int) = signal(SIGXFSZ, SIG_IGN);
    size_t big = 256 * 1024;
    char *msg = malloc(big + 1);
    assert_non_null(msg);
    memset(msg, 'x', big);
    msg[big] = '\0';
    small = old;
    small.rlim_cur = 64 * 1024;
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
    pickup_job job = job_for(d, msg);
    char path[PLAT_PATH_MAX], err[256];
    int rc = pickup_write(&job, path, sizeof path, err, sizeof err);
    setrlimit(RLIMIT_FSIZE, &old);
    signal(SIGXFSZ, old_handler);
    free(msg);
    assert_int_equal(rc, -1);
    assert_non_null(strstr(err, "cannot write"));
    assert_nothing_left(d);
}
#endif

#ifndef _WIN32
/* As the unprivileged user (trtest_unprivileged: no cmocka asserts): the
 * hand-off must fail with want in its message and name no file. */
typedef struct {
    const dirs *d;
    const char *want;
} refused_write;

static int write_refused(void *arg)
{
    const refused_write *w = arg;
    pickup_job job = job_for(w->d, "Subject: x\r\n\r\nbody\r\n");
    char path[PLAT_PATH_MAX] = "x", err[256] = "";
    int rc = pickup_write(&job, path, sizeof path, err, sizeof err);
    if (rc == -1 && strstr(err, w->want) && path[0] == '\0')
        return 0;
    fprintf(stderr, "pickup_write: rc %d, path \"%s\", error \"%s\" (wanted \"%s\")\n", rc,
            path, err, w->want);
    return 1;
}

/* A Pickup folder nobody may write to: permission bits, checked as an
 * unprivileged user (root ignores them; CI runs as root). */
static void read_only_pickup_folder(void **state)
{
    dirs *d = *state;
    refused_write w = { d, "cannot move into" };
    assert_int_equal(trtest_give_to_unprivileged(d->root), 0);
    assert_int_equal(chmod(d->pickup, 0555), 0);
    int rc = trtest_unprivileged(write_refused, &w);
    chmod(d->pickup, 0755);
    assert_int_equal(rc, 0);
    assert_nothing_left(d);
}

/* After the move the Pickup folder is fsynced, which needs it open: in a
 * folder its user may write to but not read (0333), the link itself
 * works, the flush cannot be made, and the hand-off is taken back whole
 * (the recipients stay on TLS). The fsync call itself cannot be watched
 * from here; that the folder is opened for it can. */
static void pickup_folder_flushed_after_the_move(void **state)
{
    dirs *d = *state;
    refused_write w = { d, "cannot flush the folder" };
    assert_int_equal(trtest_give_to_unprivileged(d->root), 0);
    assert_int_equal(chmod(d->pickup, 0333), 0);
    int rc = trtest_unprivileged(write_refused, &w);
    chmod(d->pickup, 0755);
    assert_int_equal(rc, 0);
    assert_nothing_left(d);
    /* A folder that can be flushed takes the file as ever. */
    pickup_job job = job_for(d, "Subject: x\r\n\r\nbody\r\n");
    char path[PLAT_PATH_MAX], err[256];
    assert_int_equal(pickup_write(&job, path, sizeof path, err, sizeof err), 0);
    assert_int_equal(trtest_count_entries(d->pickup), 1);
    assert_int_equal(trtest_count_entries(d->temp), 0);
}
#endif

/* A file in the temporary folder, last written age_ms ago. */
static void old_file(const dirs *d, const char *name, long long now, long long age_ms)
{
    char path[PLAT_PATH_MAX];
    assert_int_equal(trtest_join(path, sizeof path, d->temp, name), 0);
    assert_int_equal(trtest_write_file(path, "half a message"), 0);
    assert_int_equal(trtest_set_mtime(path, now - age_ms), 0);
}

static int temp_has(const dirs *d, const char *name)
{
    char path[PLAT_PATH_MAX];
    assert_int_equal(trtest_join(path, sizeof path, d->temp, name), 0);
    size_t len;
    char *text = trtest_read_file(path, &len);
    free(text);
    return text != NULL;
}

/* Our hand-off files older than an hour go; younger ones (perhaps being
 * written) and files that are not ours stay. Real files, real times. */
static void stale_temp_files_swept(void **state)
{
    dirs *d = *state;
    const long long minute = 60 * 1000, now = (long long)plat_wall_ms();
    assert_int_equal(pickup_sweep_temp(d->pickup, now, PICKUP_STALE_TEMP_MS), 0); /* no folder */
    assert_int_equal(plat_mkdir(d->temp), 0);
    old_file(d, "tlsrouter-18c0-1a-1.tmp", now, 120 * minute);
    old_file(d, "tlsrouter-18c0-1a-2.tmp", now, 61 * minute);
    old_file(d, "tlsrouter-18c0-1a-3.tmp", now, 59 * minute);
    old_file(d, "tlsrouter-18c0-1a-4.tmp", now, 0);
    old_file(d, "notes.txt", now, 120 * minute);
    old_file(d, "tlsrouter-18c0-1a-5.eml", now, 120 * minute);
    char sub[PLAT_PATH_MAX];
    assert_int_equal(trtest_join(sub, sizeof sub, d->temp, "tlsrouter-18c0-1a-6.tmp"), 0);
    assert_int_equal(plat_mkdir(sub), 0);

    assert_int_equal(pickup_sweep_temp(d->pickup, now, PICKUP_STALE_TEMP_MS), 2);
    assert_false(temp_has(d, "tlsrouter-18c0-1a-1.tmp"));
    assert_false(temp_has(d, "tlsrouter-18c0-1a-2.tmp"));
    assert_true(temp_has(d, "tlsrouter-18c0-1a-3.tmp"));
    assert_true(temp_has(d, "tlsrouter-18c0-1a-4.tmp"));
    assert_true(temp_has(d, "notes.txt"));
    assert_true(temp_has(d, "tlsrouter-18c0-1a-5.eml"));
    assert_true(plat_is_dir(sub));
    assert_int_equal(pickup_sweep_temp(d->pickup, now, PICKUP_STALE_TEMP_MS), 0);
    /* An hour later the two young ones are stale too. */
    assert_int_equal(pickup_sweep_temp(d->pickup, now + 60 * minute + 1, PICKUP_STALE_TEMP_MS), 2);
    assert_int_equal(trtest_count_entries(d->temp), 3);
}

static void temp_dir_is_a_sibling(void **state)
{
    (void)state;
    char buf[PLAT_PATH_MAX];
    assert_int_equal(pickup_temp_dir_for("/x/mailroot/Pickup", buf, sizeof buf), 0);
    assert_string_equal(buf, "/x/mailroot/TLSRouter-Temp");
    assert_int_equal(pickup_temp_dir_for("/x/mailroot/Pickup//", buf, sizeof buf), 0);
    assert_string_equal(buf, "/x/mailroot/TLSRouter-Temp");
    assert_int_equal(pickup_temp_dir_for("Pickup", buf, sizeof buf), 0);
    assert_string_equal(buf, "TLSRouter-Temp");
#ifdef _WIN32
    assert_int_equal(pickup_temp_dir_for("C:\\inetpub\\mailroot\\Pickup\\", buf, sizeof buf), 0);
    assert_string_equal(buf, "C:\\inetpub\\mailroot\\TLSRouter-Temp");
#endif
}


/* 0 when s starts with prefix, ASCII case ignored. */
static int starts_with_nocase(const char *s, const char *prefix, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int a = (unsigned char)s[i], b = (unsigned char)prefix[i];
        if (a >= 'A' && a <= 'Z')
            a += 'a' - 'A';
        if (b >= 'A' && b <= 'Z')
            b += 'a' - 'A';
        if (a != b)
            return 1;
    }
    return 0;
}

/* The envelope as IIS reads it: the leading lines that start with
 * "x-sender:" or "x-receiver:" (any case). Returns how many there are and
 * puts the rest of the file in *after. */
static int iis_envelope_lines(const char *file, const char **after)
{
    int n = 0;
    const char *line = file;
    while (starts_with_nocase(line, "x-sender:", 9) == 0 ||
           starts_with_nocase(line, "x-receiver:", 11) == 0) {
        const char *end = strstr(line, "\r\n");
        assert_non_null(end);
        line = end + 2;
        n++;
    }
    *after = line;
    return n;
}

/* A message whose first header is X-Receiver: our trace line stands
 * between the envelope and it, so IIS sees exactly our recipients. */
static void message_cannot_add_a_recipient(void **state)
{
    dirs *d = *state;
    static const char *const msgs[] = {
        "X-Receiver: victim@elsewhere.example\r\nSubject: x\r\n\r\nbody\r\n",
        "x-receiver:victim@elsewhere.example\nx-sender: forged@elsewhere.example\n\nbody\n",
        "X-RECEIVER: victim@elsewhere.example",
    };
    for (size_t i = 0; i < sizeof msgs / sizeof msgs[0]; i++) {
        pickup_job job = job_for(d, msgs[i]);
        unsigned char *buf;
        size_t len;
        char err[256];
        const char *after;
        assert_int_equal(pickup_render(&job, &buf, &len, err, sizeof err), 0);
        char *file = calloc(1, len + 1);
        assert_non_null(file);
        memcpy(file, buf, len);
        assert_int_equal(iis_envelope_lines(file, &after), 3);
        assert_null(strstr(file, "victim@elsewhere.example\r\nx-receiver"));
        assert_true(strncmp(after, TRACE, strlen(TRACE)) == 0);
        /* The message follows our line, untouched apart from line ends. */
        assert_true(starts_with_nocase(after + strlen(TRACE), "x-receiver:", 11) == 0);
        free(file);
        free(buf);
    }
}

static void trace_line_folds_and_stays_short(void **state)
{
    (void)state;
    char line[PICKUP_TRACE_LINE_MAX], host[PICKUP_TRACE_HOST_MAX + 2];
    size_t n = pickup_trace_line(HOST, 1, TRACE_TIME_MS, line, sizeof line);
    assert_int_equal(n, strlen(TRACE));
    assert_string_equal(line, TRACE);
    /* Folded only between units, each line within 78 characters: unfolded
     * it reads as one line. */
    n = pickup_trace_line("a.example", 7, TRACE_TIME_MS, line, sizeof line);
    assert_true(n > 0);
    char unfolded[PICKUP_TRACE_LINE_MAX];
    size_t u = 0, column = 0;
    for (size_t i = 0; i < n; i++) {
        if (line[i] == '\r' && line[i + 1] == '\n' && line[i + 2] == '\t') {
            assert_true(column <= 78);
            unfolded[u++] = ' ';
            i += 2;
            column = 1;
            continue;
        }
        unfolded[u++] = line[i];
        column++;
    }
    unfolded[u] = '\0';
    assert_string_equal(unfolded, "Received: by a.example (TLS Router " TLSROUTER_VERSION
                                  ") with hand-off from virtual server 7;"
                                  " Mon, 02 Jan 2006 22:04:05 +0000\r\n");
    /* The longest host: never over 998 octets a line, every fold before a
     * whole unit (the host is never split). */
    memset(host, 'h', PICKUP_TRACE_HOST_MAX);
    host[PICKUP_TRACE_HOST_MAX] = '\0';
    n = pickup_trace_line(host, 2147483647, TRACE_TIME_MS, line, sizeof line);
    assert_true(n > 0);
    assert_non_null(strstr(line, host));
    assert_non_null(strstr(line, "virtual server 2147483647;"));
    for (const char *p = line; *p;) {
        const char *end = strstr(p, "\r\n");
        assert_non_null(end);
        assert_true(end - p <= 998);
        p = end + 2;
        if (*p)
            assert_true(*p == '\t');
    }
    /* Nothing that could bend the header, and no instance below 1. */
    static const char *const bad_hosts[] = { "", "a b", "a\r\nx-receiver: v@e.example", "a;b",
                                             "a(b)", "h\xc3\xa9" };
    for (size_t i = 0; i < sizeof bad_hosts / sizeof bad_hosts[0]; i++)
        assert_int_equal(pickup_trace_line(bad_hosts[i], 1, TRACE_TIME_MS, line, sizeof line), 0);
    host[PICKUP_TRACE_HOST_MAX] = 'h';
    host[PICKUP_TRACE_HOST_MAX + 1] = '\0';
    assert_int_equal(pickup_trace_line(host, 1, TRACE_TIME_MS, line, sizeof line), 0);
    assert_int_equal(pickup_trace_line(NULL, 1, TRACE_TIME_MS, line, sizeof line), 0);
    assert_int_equal(pickup_trace_line(HOST, 0, TRACE_TIME_MS, line, sizeof line), 0);
    assert_int_equal(pickup_trace_line(HOST, 1, TRACE_TIME_MS, line, 100), 0);
}

/* No trace, no file: a job whose trace cannot be written is refused. */
static void job_without_a_trace_refused(void **state)
{
    dirs *d = *state;
    pickup_job job = job_for(d, "Subject: x\r\n\r\nbody\r\n");
    char path[PLAT_PATH_MAX], err[256];
    job.trace_host = "bad host";
    assert_int_equal(pickup_write(&job, path, sizeof path, err, sizeof err), -1);
    assert_non_null(strstr(err, "trace"));
    job.trace_host = NULL;
    assert_int_equal(pickup_write(&job, path, sizeof path, err, sizeof err), -1);
    job.trace_host = HOST;
    job.source_instance = 0;
    assert_int_equal(pickup_write(&job, path, sizeof path, err, sizeof err), -1);
    assert_nothing_left(d);
    /* Time 0 is "now": a date of this century, not 1970. */
    job.source_instance = 1;
    job.trace_time_ms = 0;
    unsigned char *buf;
    size_t len;
    assert_int_equal(pickup_render(&job, &buf, &len, err, sizeof err), 0);
    char *file = calloc(1, len + 1);
    assert_non_null(file);
    memcpy(file, buf, len);
    assert_null(strstr(file, "1970"));
    assert_non_null(strstr(file, " +0000\r\nSubject: x"));
    free(file);
    free(buf);
}

static void trace_host_choice(void **state)
{
    (void)state;
    char buf[PICKUP_TRACE_HOST_MAX + 1], own[PICKUP_TRACE_HOST_MAX + 1];
    pickup_trace_host("mail.corp.example", buf, sizeof buf);
    assert_string_equal(buf, "mail.corp.example");
    /* Unusable or missing setting: the machine's name, or localhost. */
    own[0] = '\0';
    pickup_trace_host("x.example", own, 0); /* no room: nothing written */
    assert_int_equal(own[0], '\0');
    pickup_trace_host(NULL, own, sizeof own);
    assert_true(own[0] != '\0');
    char line[PICKUP_TRACE_LINE_MAX];
    assert_true(pickup_trace_line(own, 1, TRACE_TIME_MS, line, sizeof line) > 0);
    pickup_trace_host("", buf, sizeof buf);
    assert_string_equal(buf, own);
    pickup_trace_host("bad host", buf, sizeof buf);
    assert_string_equal(buf, own);
}

static int has_trace(const char *msg, const char *host, int instance)
{
    return pickup_has_trace((const unsigned char *)msg, strlen(msg), host, instance);
}

/* What we write is what we find: the message part of a real file. */
static void trace_found_in_what_we_wrote(void **state)
{
    dirs *d = *state;
    pickup_job job = job_for(d, "Subject: x\r\n\r\nbody\r\n");
    unsigned char *buf;
    size_t len;
    char err[256];
    const char *after;
    assert_int_equal(pickup_render(&job, &buf, &len, err, sizeof err), 0);
    char *file = calloc(1, len + 1);
    assert_non_null(file);
    memcpy(file, buf, len);
    iis_envelope_lines(file, &after);
    assert_int_equal(has_trace(after, HOST, 1), 1);
    assert_int_equal(has_trace(after, "RELAY.Corp.Example", 1), 1);
    /* Another virtual server, another host, a host that only starts or
     * ends the same: not ours. */
    assert_int_equal(has_trace(after, HOST, 2), 0);
    assert_int_equal(has_trace(after, HOST, 11), 0);
    assert_int_equal(has_trace(after, "other.example", 1), 0);
    assert_int_equal(has_trace(after, "relay.corp", 1), 0);
    assert_int_equal(has_trace(after, "corp.example", 1), 0);
    assert_int_equal(has_trace(after, "x" HOST, 1), 0);
    free(file);
    free(buf);
}

static void trace_found_however_spelt(void **state)
{
    (void)state;
    /* Behind other hops' Received fields, in another case, refolded, LF
     * only, a space before the colon, another version. */
    assert_int_equal(has_trace("Received: from a by b; Mon, 2 Jan 2006 1:00:00 +0000\r\n"
                               "Received: by relay.corp.example (TLS Router 0.1.0) with hand-off"
                               " from virtual server 1; Mon, 2 Jan 2006 1:00:00 +0000\r\n"
                               "Subject: x\r\n\r\nbody\r\n",
                               HOST, 1),
                     1);
    assert_int_equal(has_trace("RECEIVED: BY RELAY.CORP.EXAMPLE (tls router 9.9.9) WITH HAND-OFF"
                               " FROM VIRTUAL SERVER 3; date\r\n\r\n",
                               HOST, 3),
                     1);
    assert_int_equal(has_trace("Subject: x\n"
                               "Received :\n by\trelay.corp.example\n\t (TLS\n  Router 1.0)\n"
                               " with hand-off from\n virtual server 12\n ; date\n"
                               "\nbody\n",
                               HOST, 12),
                     1);
    assert_int_equal(has_trace("Received: by relay.corp.example (TLS Router) with hand-off from "
                               "virtual server 1",
                               HOST, 1),
                     1);
}

static void trace_not_found_where_it_is_not(void **state)
{
    (void)state;
    const char *ours = "Received: by relay.corp.example (TLS Router 0.1.0) with hand-off from "
                       "virtual server 1; date\r\n";
    char buf[512];
    /* In the body, after an empty line of either kind. */
    snprintf(buf, sizeof buf, "Subject: x\r\n\r\n%s", ours);
    assert_int_equal(has_trace(buf, HOST, 1), 0);
    snprintf(buf, sizeof buf, "Subject: x\n\n%s", ours);
    assert_int_equal(has_trace(buf, HOST, 1), 0);
    snprintf(buf, sizeof buf, "\r\n%s", ours);
    assert_int_equal(has_trace(buf, HOST, 1), 0);
    /* Continuing another field, or in another field. */
    snprintf(buf, sizeof buf, "Subject:\r\n %s", ours);
    assert_int_equal(has_trace(buf, HOST, 1), 0);
    snprintf(buf, sizeof buf, "X-%s", ours);
    assert_int_equal(has_trace(buf, HOST, 1), 0);
    /* Near misses. */
    static const char *const near[] = {
        "Received: by relay.corp.example (TLS Routerx 1) with hand-off from virtual server 1\r\n",
        "Received: by relay.corp.example (TLS Router 1 with hand-off from virtual server 1\r\n",
        "Received: by relay.corp.example (TLS Router 1) with hand-off from virtual server\r\n",
        "Received: by relay.corp.example (TLS Router 1) with hand-off from virtual server x1\r\n",
        "Received: by relay.corp.example (TLS Router 1) with hand-off from virtual server 10\r\n",
        "Received: from relay.corp.example (TLS Router 1) with hand-off from virtual server 1\r\n",
        "Received: by relay.corp.example.evil (TLS Router 1) with hand-off from virtual server 1\r\n",
        "Received: by relay.corp.example (Other 1) with hand-off from virtual server 1\r\n",
        "Received by relay.corp.example (TLS Router 1) with hand-off from virtual server 1\r\n",
        "Receivedx: by relay.corp.example (TLS Router 1) with hand-off from virtual server 1\r\n",
        "Received:\r\n\r\n by relay.corp.example (TLS Router 1) with hand-off from virtual server 1\r\n",
        "",
        "\r\n",
        "Received:",
        "Received: by relay.corp.example (TLS Router",
    };
    for (size_t i = 0; i < sizeof near / sizeof near[0]; i++)
        assert_int_equal(has_trace(near[i], HOST, 1), 0);
    assert_int_equal(pickup_has_trace(NULL, 0, HOST, 1), 0);
    assert_int_equal(has_trace(ours, NULL, 1), 0);
    assert_int_equal(has_trace(ours, "", 1), 0);
    assert_int_equal(has_trace(ours, "bad host", 1), 0);
    assert_int_equal(has_trace(ours, HOST, 0), 0);
    assert_int_equal(has_trace(ours, HOST, -1), 0);
    /* A NUL byte inside the trace is not our trace; before it, no harm. */
    const char with_nul[] = "Received: by relay.corp.example (TLS\0Router 1) with hand-off from "
                            "virtual server 1\r\n";
    assert_int_equal(pickup_has_trace((const unsigned char *)with_nul, sizeof with_nul - 1, HOST, 1),
                     0);
}

/* Hostile header blocks: megabytes of one folded field, of parentheses,
 * of near-miss Received fields, and the trace after all of them. Work is
 * one pass, memory fixed; ASan checks every read stays in the input. */
static void trace_reader_on_hostile_headers(void **state)
{
    (void)state;
    const char *ours = "Received: by relay.corp.example (TLS Router 1) with hand-off from "
                       "virtual server 1\r\n";
    size_t big = 4u << 20, o = 0;
    char *m = malloc(big + 256);
    assert_non_null(m);
    /* One Received field folded over and over, then ours. */
    o = (size_t)sprintf(m, "Received: by relay.corp.example (TLS Router 1");
    while (o + 4 < big / 2) {
        memcpy(m + o, "\r\n )", 4);
        o += 4;
    }
    memcpy(m + o, "\r\n", 2);
    o += 2;
    /* Many short near misses. */
    while (o + 40 < big) {
        memcpy(m + o, "Received: by relay.corp.example ((((\r\n", 38);
        o += 38;
    }
    memcpy(m + o, ours, strlen(ours));
    o += strlen(ours);
    assert_int_equal(pickup_has_trace((unsigned char *)m, o, HOST, 1), 1);
    assert_int_equal(pickup_has_trace((unsigned char *)m, o, HOST, 2), 0);
    /* The same without any line end: one endless line, no trace. */
    memset(m, ' ', big);
    memcpy(m, "Received:", 9);
    assert_int_equal(pickup_has_trace((unsigned char *)m, big, HOST, 1), 0);
    /* Our trace, then a value far longer than the reader keeps. */
    o = strlen(ours) - 2;
    memcpy(m, ours, o);
    memset(m + o, ';', big - o);
    assert_int_equal(pickup_has_trace((unsigned char *)m, big, HOST, 1), 1);
    free(m);
}

static void destination_may_not_be_the_source_pickup(void **state)
{
    (void)state;
    char err[512];
    const char *own = "/inetpub/mailroot/Pickup", *same = "/inetpub//mailroot/./Pickup/";
#ifdef _WIN32
    own = "C:\\Inetpub\\mailroot\\Pickup";
    same = "c:/inetpub/MAILROOT/pickup/";
#endif
    err[0] = '\0';
    assert_int_equal(pickup_check_destination(same, own, 3, err, sizeof err), -1);
    assert_non_null(strstr(err, "virtual server 3"));
    assert_non_null(strstr(err, same));
    assert_int_equal(pickup_check_destination(own, own, 1, err, sizeof err), -1);
    /* Another folder, or the source's folder not known: nothing refused. */
    assert_int_equal(pickup_check_destination("/inetpub/plain/Pickup", own, 1, err, sizeof err), 0);
    assert_int_equal(pickup_check_destination(own, NULL, 1, err, sizeof err), 0);
    assert_int_equal(pickup_check_destination(own, "", 1, err, sizeof err), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(renders_byte_exact, setup, teardown),
        cmocka_unit_test_setup_teardown(null_sender_and_empty_message, setup, teardown),
        cmocka_unit_test_setup_teardown(files_of_many_messages_never_collide, setup, teardown),
        cmocka_unit_test_setup_teardown(header_injection_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(missing_pickup_folder, setup, teardown),
        cmocka_unit_test_setup_teardown(pickup_is_not_a_folder, setup, teardown),
        cmocka_unit_test_setup_teardown(temp_folder_cannot_be_made, setup, teardown),
        cmocka_unit_test_setup_teardown(injected_write_failure, setup, teardown),
        cmocka_unit_test_setup_teardown(injected_move_failure, setup, teardown),
#ifndef _WIN32
        cmocka_unit_test_setup_teardown(real_write_failure_file_size_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(read_only_pickup_folder, setup, teardown),
        cmocka_unit_test_setup_teardown(pickup_folder_flushed_after_the_move, setup, teardown),
#endif
        cmocka_unit_test_setup_teardown(stale_temp_files_swept, setup, teardown),
        cmocka_unit_test(temp_dir_is_a_sibling),
        cmocka_unit_test_setup_teardown(message_cannot_add_a_recipient, setup, teardown),
        cmocka_unit_test(trace_line_folds_and_stays_short),
        cmocka_unit_test_setup_teardown(job_without_a_trace_refused, setup, teardown),
        cmocka_unit_test(trace_host_choice),
        cmocka_unit_test_setup_teardown(trace_found_in_what_we_wrote, setup, teardown),
        cmocka_unit_test(trace_found_however_spelt),
        cmocka_unit_test(trace_not_found_where_it_is_not),
        cmocka_unit_test(trace_reader_on_hostile_headers),
        cmocka_unit_test(destination_may_not_be_the_source_pickup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
