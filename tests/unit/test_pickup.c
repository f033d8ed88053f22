/* Pickup files: byte-exact content, atomic hand-off, refused addresses,
 * and failures that leave nothing behind. */
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
#include "route_fixture.h"
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
    assert_int_equal(plat_make_temp_dir("pickup", d->root, sizeof d->root), 0);
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

static pickup_job job_for(const dirs *d, const char *msg)
{
    pickup_job job = { d->pickup, NULL, "sender@corp.example", two_rcpts, 2,
                       (const unsigned char *)msg, strlen(msg) };
    return job;
}

/* Nothing in Pickup and nothing left in the temporary folder. */
static void assert_nothing_left(const dirs *d)
{
    int n = rf_count_entries(d->pickup);
    assert_true(n <= 0);
    n = rf_count_entries(d->temp);
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
    assert_int_equal(rf_only_entry(d->pickup, name, sizeof name), 0);
    assert_non_null(strstr(path, name));
    assert_int_equal(rf_count_entries(d->temp), 0);
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
    const char *expected = "x-sender: <>\r\nx-receiver: alice@legacy.example\r\n";
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
    assert_int_equal(rf_count_entries(d->pickup), 50);
    assert_int_equal(rf_count_entries(d->temp), 0);
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
    assert_int_equal(rf_count_entries(d->temp) <= 0, 1);
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
    assert_int_equal(rf_count_entries(d->pickup), 0);
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
    assert_int_equal(rf_count_entries(d->pickup), 1);
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
    assert_int_equal(rf_count_entries(d->pickup), 1);
    assert_int_equal(rf_count_entries(d->temp), 0);
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
    assert_int_equal(rf_count_entries(d->temp), 3);
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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
