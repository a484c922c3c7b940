/* pollwait FILE SECONDS: reads FILE, then waits in poll(2) for it to change.
 * Prints "woke" and exits 0 when poll wakes, "timeout" and exits 1 when it
 * does not, 2 on errors.  A user's program waiting on gpufs does this. */
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char *argv[])
{
	char buf[4096];
	struct pollfd pfd = {.events = POLLIN | POLLPRI};

	if (argc != 3) {
		fprintf(stderr, "usage: pollwait FILE SECONDS\n");
		return 2;
	}
	pfd.fd = open(argv[1], O_RDONLY);
	if (pfd.fd < 0 || read(pfd.fd, buf, sizeof(buf)) < 0) {
		perror(argv[1]);
		return 2;
	}
	switch (poll(&pfd, 1, atoi(argv[2]) * 1000)) {
	case -1:
		perror("poll");
		return 2;
	case 0:
		puts("timeout");
		return 1;
	default:
		puts("woke");
		return 0;
	}
}
