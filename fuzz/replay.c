/* SPDX-License-Identifier: MIT */
/*
 * Corpus replay without libFuzzer: feed every file named on the command line, and every file
 * in every directory named there, to the target's LLVMFuzzerTestOneInput(). An input that
 * breaks an invariant aborts the process, which fails the meson test (fuzz-replay suite).
 * With no input at all it exits 77 (skip) and says why.
 */
#define _POSIX_C_SOURCE 200809L	/* clock_gettime, stat under -std=c11 */

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static unsigned int n_inputs;

static int run_file(const char *path)
{
	FILE *fp = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0, got;

	if (!fp) {
		perror(path);
		return -1;
	}
	do {
		if (len == cap) {
			uint8_t *nb;

			cap = cap ? 2 * cap : 65536;
			nb = realloc(buf, cap);
			if (!nb) {
				free(buf);
				fclose(fp);
				return -1;
			}
			buf = nb;
		}
		got = fread(buf + len, 1, cap - len, fp);
		len += got;
	} while (got > 0);
	fclose(fp);
	/* Copy to an exact-size buffer so that ASan catches a read past the input's end. */
	{
		uint8_t *exact = malloc(len ? len : 1);
		struct timespec t0, t1;

		if (!exact) {
			free(buf);
			return -1;
		}
		memcpy(exact, buf, len);
		free(buf);
		if (getenv("VBT_REPLAY_VERBOSE"))
			fprintf(stderr, "replay: %s (%zu bytes)\n", path, len);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		LLVMFuzzerTestOneInput(exact, len);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if (getenv("VBT_REPLAY_VERBOSE"))
			fprintf(stderr, "replay: %s took %ld us\n", path,
				(long)((t1.tv_sec - t0.tv_sec) * 1000000L +
				       (t1.tv_nsec - t0.tv_nsec) / 1000L));
		free(exact);
	}
	n_inputs++;
	return 0;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int run_dir(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, cap = 0;
	int ret = 0;

	if (!d) {
		perror(path);
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (n == cap) {
			char **nn;

			cap = cap ? 2 * cap : 64;
			nn = realloc(names, cap * sizeof(*names));
			if (!nn) {
				ret = -1;
				break;
			}
			names = nn;
		}
		names[n] = malloc(strlen(path) + strlen(e->d_name) + 2);
		if (!names[n]) {
			ret = -1;
			break;
		}
		sprintf(names[n], "%s/%s", path, e->d_name);
		n++;
	}
	closedir(d);
	/* A stable order, so that a failure names the same input on every run. */
	if (n)
		qsort(names, n, sizeof(*names), name_cmp);
	for (size_t i = 0; i < n; i++) {
		struct stat st;

		if (ret == 0 && stat(names[i], &st) == 0 && S_ISREG(st.st_mode))
			ret = run_file(names[i]);
		free(names[i]);
	}
	free(names);
	return ret;
}

int main(int argc, char **argv)
{
	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	for (int i = 1; i < argc; i++) {
		struct stat st;
		int ret;

		if (stat(argv[i], &st) != 0) {
			perror(argv[i]);
			return 1;
		}
		ret = S_ISDIR(st.st_mode) ? run_dir(argv[i]) : run_file(argv[i]);
		if (ret < 0)
			return 1;
	}
	if (n_inputs == 0) {
		printf("skip: no corpus input found (usage: %s FILE|DIR...)\n", argv[0]);
		return 77;
	}
	printf("replayed %u inputs, every invariant held\n", n_inputs);
	return 0;
}
