/* SPDX-License-Identifier: MIT */
/*
 * vb-input (guest side of run-input): find the evdev node whose name is argv[1], say
 * "READY", then print the first argv[2] events read from it as "EV TYPE CODE VALUE" (SYN
 * events included), or "TIMEOUT" after argv[3] seconds.
 *
 * usage: vb-input NAME COUNT SECONDS      exit 0 when COUNT events were read, else 1
 */
#include <dirent.h>
#include <fcntl.h>
#include <linux/input.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

static int find(const char *want, char *path, size_t len)
{
	for (int tries = 0; tries < 100; tries++) {
		DIR *d = opendir("/dev/input");
		struct dirent *de;

		while (d && (de = readdir(d))) {
			char name[256] = "";
			int fd;

			if (strncmp(de->d_name, "event", 5))
				continue;
			snprintf(path, len, "/dev/input/%s", de->d_name);
			fd = open(path, O_RDONLY | O_NONBLOCK);
			if (fd < 0)
				continue;
			if (ioctl(fd, EVIOCGNAME(sizeof(name) - 1), name) >= 0 && !strcmp(name, want)) {
				closedir(d);
				return fd;
			}
			close(fd);
		}
		if (d)
			closedir(d);
		usleep(100000);
	}
	return -1;
}

int main(int argc, char **argv)
{
	struct input_event ev;
	char path[300];
	int fd, count, secs, got = 0;
	time_t end;

	if (argc != 4) {
		fprintf(stderr, "usage: vb-input NAME COUNT SECONDS\n");
		return 2;
	}
	count = atoi(argv[2]);
	secs = atoi(argv[3]);
	fd = find(argv[1], path, sizeof(path));
	if (fd < 0) {
		printf("NOTFOUND %s\n", argv[1]);
		return 1;
	}
	printf("INFO %s is %s\n", argv[1], path);
	printf("READY\n");
	fflush(stdout);
	end = time(NULL) + secs;
	while (got < count && time(NULL) < end) {
		struct pollfd p = { fd, POLLIN, 0 };

		if (poll(&p, 1, 200) <= 0)
			continue;
		while (got < count && read(fd, &ev, sizeof(ev)) == (ssize_t)sizeof(ev)) {
			printf("EV %u %u %d\n", ev.type, ev.code, ev.value);
			got++;
		}
		fflush(stdout);
	}
	if (got < count)
		printf("TIMEOUT after %d of %d events\n", got, count);
	return got == count ? 0 : 1;
}
