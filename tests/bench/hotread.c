/* hotread ROUNDS OPS PATH...: the median cost of open+read+close of each
 * PATH, in microseconds.  The paths are measured interleaved, round after
 * round, so a slow moment of the machine hits them all alike.  Prints one
 * line per path: "PATH MEDIAN_US". */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static double one_round(const char *path, int ops)
{
	char buf[4096];
	double start = now_us();

	for (int i = 0; i < ops; i++) {
		int fd = open(path, O_RDONLY);

		if (fd < 0 || read(fd, buf, sizeof(buf)) < 0) {
			perror(path);
			exit(2);
		}
		close(fd);
	}
	return (now_us() - start) / ops;
}

static int compare(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char *argv[])
{
	int rounds, ops, paths = argc - 3;
	double *samples;

	if (argc < 4) {
		fprintf(stderr, "usage: hotread ROUNDS OPS PATH...\n");
		return 2;
	}
	rounds = atoi(argv[1]);
	ops = atoi(argv[2]);
	samples = calloc((size_t)rounds * paths, sizeof(double));
	for (int r = 0; r < rounds; r++)
		for (int p = 0; p < paths; p++)
			samples[p * rounds + r] = one_round(argv[3 + p], ops);
	for (int p = 0; p < paths; p++) {
		qsort(samples + p * rounds, rounds, sizeof(double), compare);
		printf("%s %.2f\n", argv[3 + p], samples[p * rounds + rounds / 2]);
	}
	free(samples);
	return 0;
}
