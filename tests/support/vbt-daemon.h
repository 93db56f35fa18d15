/* SPDX-License-Identifier: MIT */
/*
 * The vb-vhost-user daemon as a child process, for the protocol tests of its device types
 * (tests/integration/test-vu-*.c): run it to completion and collect its stdout, or start it
 * in the background on a socket in a temporary directory with its stderr in a log file there,
 * connect the driver-side client (vbt-vu-client.h) to it, stop it, and show that log when a
 * test fails. Set VBT_VU_VERBOSE=1 to let the daemon's stderr through instead.
 *
 * A typical fixture: vbt_daemon_init() in setup, vbt_daemon_spawn() + vbt_daemon_connect()
 * in the test, vbt_daemon_end() (expect 0) and vbt_daemon_fini() in teardown. The helpers do
 * not assert (they also serve programs without cmocka): they return, and the test checks.
 */
#ifndef VBT_DAEMON_H
#define VBT_DAEMON_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct vbt_vu_client;

/* One daemon under test and the temporary directory that holds its socket and log. */
struct vbt_daemon {
	const char	*path;		/* the vb-vhost-user program */
	char		dir[64];	/* /tmp/vbt-<tag>-XXXXXX */
	char		sock[128];	/* <dir>/sock, for --socket-path */
	char		log[128];	/* <dir>/log, the daemon's stderr */
	pid_t		pid;		/* running child, or -1 */
};

/* The daemon's path from argv[1] or $VB_VHOST_USER; NULL (after printing why the test is
 * skipped, for an exit 77) if neither names an executable. Also ignores SIGPIPE: the tests
 * write to sockets that the daemon may close. */
const char *vbt_daemon_find(int argc, char **argv);

/* Make the directory /tmp/vbt-<tag>-XXXXXX and name sock and log in it; pid = -1. 0, or -1
 * with errno. */
int vbt_daemon_init(struct vbt_daemon *d, const char *path, const char *tag);

/* <d->dir>/<name> into buf (len bytes; cut if longer), e.g. for an image or a control
 * socket of the test's own; vbt_daemon_fini() removes it. */
void vbt_daemon_file(const struct vbt_daemon *d, const char *name, char *buf, size_t len);

/* vbt_daemon_start(d->path, args, d->log) with keep_fd (or -1) left open across the exec;
 * the pid (also in d->pid), or -1. */
pid_t vbt_daemon_spawn(struct vbt_daemon *d, const char *const *args, int keep_fd);

/* Give c a 10 s timeout (a sanitized daemon starts slowly) and connect it to d->sock, which
 * vbt_vu_connect() waits for. 0, or -1 after copying the daemon's log to stderr. c must have
 * been initialised (vbt_vu_client_init()). */
int vbt_daemon_connect(const struct vbt_daemon *d, struct vbt_vu_client *c);

/* Stop a running daemon (vbt_daemon_stop()); d->pid = -1. Its wait status, so 0 exactly
 * when it exited 0; otherwise the log has been copied to stderr. 0 if none was running. */
int vbt_daemon_end(struct vbt_daemon *d);

/* Kill a daemon still running (SIGKILL), remove every file in d->dir and the directory. */
void vbt_daemon_fini(struct vbt_daemon *d);

/* Whether a line of log contains text. */
bool vbt_daemon_log_has(const char *log, const char *text);

/* Run path with args (NULL-terminated, without argv[0]; at most 30) to completion, stdin
 * from /dev/null, its stdout in out (NUL-terminated, cut to out_len - 1 bytes; out may be
 * NULL). Returns its exit status, or -1 if it could not be run, did not exit normally, or
 * did not exit within 20 s (then it is killed). */
int vbt_daemon_run(const char *path, const char *const *args, char *out, size_t out_len);

/* Start path with args in the background, stdin from /dev/null, stderr appended to log. The
 * pid, or -1. */
pid_t vbt_daemon_start(const char *path, const char *const *args, const char *log);

/* Wait up to timeout_ms for pid: its wait status, or -1 (then it is killed and reaped). */
int vbt_daemon_reap(pid_t pid, int timeout_ms);

/* SIGTERM, then vbt_daemon_reap(pid, 20 s). */
int vbt_daemon_stop(pid_t pid);

/* Copy log to stderr, each line indented (for a failing test). */
void vbt_daemon_dump_log(const char *log);

#endif
