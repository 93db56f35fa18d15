/* SPDX-License-Identifier: MIT */
/*
 * /bin/vb-vsock in the test guest (tests/integration/qemu/run-vsock): AF_VSOCK stream
 * exchanges with checksums both ways.
 *
 *   vb-vsock client PORT N M   connect to (CID 2, PORT); send N bytes of pattern 1, shut
 *                              down the write side; read "SUM <fnv64 hex>\n" and M bytes of
 *                              pattern 2 up to EOF; check both
 *   vb-vsock server PORT N M   listen on PORT, accept one connection; read N bytes of
 *                              pattern 3 up to EOF; send "SUM <hex>\n" of them and M bytes
 *                              of pattern 4; close
 *
 * Pattern s: byte i = (i * 131 + (i >> 11) + s) & 0xff. The checksum is FNV-1a 64.
 * Prints "INFO ..." lines and "OK ..." or "FAIL ..."; exit status 0 on OK.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

static uint8_t pat(uint64_t i, unsigned int s)
{
	return (uint8_t)(i * 131u + (i >> 11) + s);
}

static uint64_t fnv(uint64_t h, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

#define FNV0 0xcbf29ce484222325ull

static double now(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

static int die(const char *what)
{
	printf("FAIL %s: %s\n", what, strerror(errno));
	return 1;
}

/* Send n bytes of pattern s; returns their checksum in *sum. 0 or -1. */
static int send_pattern(int fd, uint64_t n, unsigned int s, uint64_t *sum)
{
	static uint8_t buf[65536];
	uint64_t off = 0, h = FNV0;

	while (off < n) {
		size_t k = n - off < sizeof(buf) ? (size_t)(n - off) : sizeof(buf);
		ssize_t w;

		for (size_t i = 0; i < k; i++)
			buf[i] = pat(off + i, s);
		h = fnv(h, buf, k);
		for (size_t done = 0; done < k; done += (size_t)w) {
			w = write(fd, buf + done, k - done);
			if (w <= 0)
				return -1;
		}
		off += k;
	}
	*sum = h;
	return 0;
}

/* Read to EOF (at most max bytes), checking pattern s; bytes in *got, checksum in *sum.
 * Returns the offset of the first wrong byte, or -1 if all were right. */
static int64_t recv_pattern(int fd, uint64_t max, unsigned int s, uint64_t *got, uint64_t *sum)
{
	static uint8_t buf[65536];
	uint64_t off = 0, h = FNV0;
	int64_t bad = -1;
	ssize_t r;

	while ((r = read(fd, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < r; i++)
			if (bad < 0 && buf[i] != pat(off + (uint64_t)i, s))
				bad = (int64_t)(off + (uint64_t)i);
		h = fnv(h, buf, (size_t)r);
		off += (uint64_t)r;
		if (off > max)
			break;
	}
	*got = off;
	*sum = h;
	return r < 0 ? (int64_t)off : bad;
}

/* Read "SUM <hex>\n" one byte at a time (the data follows it). */
static int read_sum(int fd, uint64_t *v)
{
	char line[64];
	size_t n = 0;

	while (n < sizeof(line) - 1) {
		if (read(fd, line + n, 1) != 1)
			return -1;
		if (line[n++] == '\n')
			break;
	}
	line[n] = '\0';
	return sscanf(line, "SUM %llx", (unsigned long long *)v) == 1 ? 0 : -1;
}

int main(int argc, char **argv)
{
	struct sockaddr_vm sa = { .svm_family = AF_VSOCK };
	uint64_t n, m, sent_sum, got, sum, want;
	int64_t bad;
	double t0;
	int fd;

	if (argc != 5) {
		fprintf(stderr, "usage: vb-vsock client|server PORT N M\n");
		return 2;
	}
	sa.svm_port = (unsigned int)strtoul(argv[2], NULL, 10);
	n = strtoull(argv[3], NULL, 10);
	m = strtoull(argv[4], NULL, 10);
	setvbuf(stdout, NULL, _IOLBF, 0);
	fd = socket(AF_VSOCK, SOCK_STREAM, 0);
	if (fd < 0)
		return die("socket(AF_VSOCK)");
	t0 = now();
	if (!strcmp(argv[1], "client")) {
		sa.svm_cid = VMADDR_CID_HOST;
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
			return die("connect to CID 2");
		if (send_pattern(fd, n, 1, &sent_sum) < 0)
			return die("write");
		shutdown(fd, SHUT_WR);
		if (read_sum(fd, &want) < 0)
			return die("reading the host's SUM line");
		if (want != sent_sum) {
			printf("FAIL host got checksum %016llx, sent %016llx\n",
			       (unsigned long long)want, (unsigned long long)sent_sum);
			return 1;
		}
		bad = recv_pattern(fd, m, 2, &got, &sum);
		if (bad >= 0 || got != m) {
			printf("FAIL from host: %llu bytes of %llu, first bad byte %lld\n",
			       (unsigned long long)got, (unsigned long long)m, (long long)bad);
			return 1;
		}
		printf("OK client: sent %llu, received %llu bytes, checksums match (%.2f s)\n",
		       (unsigned long long)n, (unsigned long long)m, now() - t0);
	} else {
		char line[40];
		int c;

		sa.svm_cid = VMADDR_CID_ANY;
		if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 1) < 0)
			return die("bind/listen");
		printf("INFO listening on port %u\n", sa.svm_port);
		c = accept(fd, NULL, NULL);
		if (c < 0)
			return die("accept");
		t0 = now();
		bad = recv_pattern(c, n, 3, &got, &sum);
		if (bad >= 0 || got != n) {
			printf("FAIL from host: %llu bytes of %llu, first bad byte %lld\n",
			       (unsigned long long)got, (unsigned long long)n, (long long)bad);
			return 1;
		}
		snprintf(line, sizeof(line), "SUM %016llx\n", (unsigned long long)sum);
		if (write(c, line, strlen(line)) != (ssize_t)strlen(line) ||
		    send_pattern(c, m, 4, &sent_sum) < 0)
			return die("write");
		close(c);
		printf("OK server: received %llu, sent %llu bytes (%.2f s)\n",
		       (unsigned long long)n, (unsigned long long)m, now() - t0);
	}
	close(fd);
	return 0;
}
