/* SPDX-License-Identifier: MIT */
/* The vb-vhost-user daemon as a child process (vbt-daemon.h). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vbt-daemon.h"
#include "vbt-vu-client.h"

#define MAX_ARGS 30

static void build_argv(const char *path, const char *const *args, const char **argv)
{
	unsigned int n = 0;

	argv[n++] = path;
	while (args && *args && n < MAX_ARGS + 1)
		argv[n++] = *args++;
	argv[n] = NULL;
}

/* In the child: stdin from /dev/null (a daemon must not wait on the test's terminal), stderr
 * to errfd unless VBT_VU_VERBOSE, then exec. */
static void exec_child(const char *path, const char **argv, int errfd)
{
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (null >= 0)
		dup2(null, 0);
	if (errfd >= 0 && !getenv("VBT_VU_VERBOSE"))
		dup2(errfd, 2);
	execv(path, (char *const *)(uintptr_t)argv);
	_exit(127);
}

const char *vbt_daemon_find(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : getenv("VB_VHOST_USER");

	if (!path || access(path, X_OK) != 0) {
		printf("SKIP: vb-vhost-user not found (pass its path or set VB_VHOST_USER)\n");
		return NULL;
	}
	signal(SIGPIPE, SIG_IGN);
	return path;
}

int vbt_daemon_init(struct vbt_daemon *d, const char *path, const char *tag)
{
	memset(d, 0, sizeof(*d));
	d->path = path;
	d->pid = -1;
	snprintf(d->dir, sizeof(d->dir), "/tmp/vbt-%s-XXXXXX", tag);
	if (!mkdtemp(d->dir))
		return -1;
	vbt_daemon_file(d, "sock", d->sock, sizeof(d->sock));
	vbt_daemon_file(d, "log", d->log, sizeof(d->log));
	return 0;
}

void vbt_daemon_file(const struct vbt_daemon *d, const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", d->dir, name);
}

static pid_t start(const char *path, const char *const *args, const char *log, int keep_fd)
{
	const char *argv[MAX_ARGS + 2];
	pid_t pid;

	build_argv(path, args, argv);
	pid = fork();
	if (pid == 0) {
		int lfd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);

		if (keep_fd >= 0)
			fcntl(keep_fd, F_SETFD, 0);
		exec_child(path, argv, lfd);
	}
	return pid;
}

pid_t vbt_daemon_start(const char *path, const char *const *args, const char *log)
{
	return start(path, args, log, -1);
}

pid_t vbt_daemon_spawn(struct vbt_daemon *d, const char *const *args, int keep_fd)
{
	d->pid = start(d->path, args, d->log, keep_fd);
	return d->pid;
}

int vbt_daemon_connect(const struct vbt_daemon *d, struct vbt_vu_client *c)
{
	c->timeout_ms = 10000;
	if (vbt_vu_connect(c, d->sock) < 0) {
		fprintf(stderr, "cannot connect to %s; the daemon's log:\n", d->sock);
		vbt_daemon_dump_log(d->log);
		return -1;
	}
	return 0;
}

int vbt_daemon_reap(pid_t pid, int timeout_ms)
{
	int st;

	for (int i = 0; i < timeout_ms / 10; i++) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return st;
		usleep(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	return -1;
}

int vbt_daemon_stop(pid_t pid)
{
	kill(pid, SIGTERM);
	return vbt_daemon_reap(pid, 20000);
}

int vbt_daemon_end(struct vbt_daemon *d)
{
	int st;

	if (d->pid <= 0)
		return 0;
	st = vbt_daemon_stop(d->pid);
	d->pid = -1;
	if (st != 0)
		vbt_daemon_dump_log(d->log);
	return st;
}

void vbt_daemon_fini(struct vbt_daemon *d)
{
	struct dirent *e;
	DIR *dir;

	if (d->pid > 0) {
		kill(d->pid, SIGKILL);
		waitpid(d->pid, NULL, 0);
		d->pid = -1;
	}
	if (!d->dir[0])
		return;
	dir = opendir(d->dir);
	if (dir) {
		while ((e = readdir(dir)))
			if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
				unlinkat(dirfd(dir), e->d_name, 0);
		closedir(dir);
	}
	rmdir(d->dir);
}

int vbt_daemon_run(const char *path, const char *const *args, char *out, size_t out_len)
{
	const char *argv[MAX_ARGS + 2];
	size_t got = 0;
	ssize_t r;
	int p[2], st;
	pid_t pid;

	build_argv(path, args, argv);
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		dup2(p[1], 1);
		exec_child(path, argv, open("/dev/null", O_WRONLY | O_CLOEXEC));
	}
	close(p[1]);
	while (out && got + 1 < out_len && (r = read(p[0], out + got, out_len - 1 - got)) > 0)
		got += (size_t)r;
	if (out)
		out[got] = '\0';
	close(p[0]);
	st = vbt_daemon_reap(pid, 20000);
	return st >= 0 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

bool vbt_daemon_log_has(const char *log, const char *text)
{
	char line[512];
	FILE *l = fopen(log, "r");
	bool found = false;

	if (!l)
		return false;
	while (!found && fgets(line, sizeof(line), l))
		found = strstr(line, text) != NULL;
	fclose(l);
	return found;
}

void vbt_daemon_dump_log(const char *log)
{
	char line[512];
	FILE *l = fopen(log, "r");

	if (!l)
		return;
	while (fgets(line, sizeof(line), l))
		fprintf(stderr, "  | %s", line);
	fclose(l);
}
