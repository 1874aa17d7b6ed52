/*
 * bench/launch: wall time of several commands run RUNS times each, the
 * commands interleaved so that a change in machine load hits all of them
 * alike; median and p95 of each and the ratios to the first (bench/launch.sh).
 *   launch [-n RUNS] CMD [ARG...] [::: CMD [ARG...]]...
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_CMDS	8

struct cmd {
	char	**argv;
	double	 *ms;		/* one per run */
	double	  median, p95;
	int	  failed;
};

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* One run with stdout and stderr on /dev/null; its exit status. */
static int
run_once(char **argv, double *ms)
{
	double t0 = now_ms();
	int status, fd;
	pid_t pid;

	pid = fork();
	if (pid == -1)
		return -1;
	if (pid == 0) {
		fd = open("/dev/null", O_WRONLY);
		if (fd != -1) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execvp(argv[0], argv);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR)
			return -1;
	*ms = now_ms() - t0;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted v. */
static double
percentile(const double *v, int n, int pct)
{
	int rank = (pct * n + 99) / 100;

	if (rank < 1)
		rank = 1;
	return v[rank - 1];
}

int
main(int argc, char *argv[])
{
	struct cmd cmds[MAX_CMDS];
	int ncmds = 0, runs = 200, i, j, ch, st;

	while ((ch = getopt(argc, argv, "+n:")) != -1) {
		if (ch != 'n' || (runs = atoi(optarg)) < 1) {
			fprintf(stderr, "usage: launch [-n RUNS] CMD... [::: CMD...]...\n");
			return 2;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "usage: launch [-n RUNS] CMD... [::: CMD...]...\n");
		return 2;
	}
	memset(cmds, 0, sizeof(cmds));
	cmds[ncmds++].argv = argv + optind;
	for (i = optind; i < argc; i++) {
		if (strcmp(argv[i], ":::") != 0)
			continue;
		argv[i] = NULL;
		if (ncmds == MAX_CMDS || i + 1 >= argc) {
			fprintf(stderr, "launch: at most %d commands, none empty\n",
			    MAX_CMDS);
			return 2;
		}
		cmds[ncmds++].argv = argv + i + 1;
	}
	for (j = 0; j < ncmds; j++)
		if ((cmds[j].ms = calloc((size_t)runs, sizeof(double))) == NULL) {
			perror("launch");
			return 1;
		}
	/* One warm-up run each: page cache, first-time set-up. */
	for (j = 0; j < ncmds; j++) {
		double ms;

		if ((st = run_once(cmds[j].argv, &ms)) != 0) {
			fprintf(stderr, "launch: %s exits %d\n", cmds[j].argv[0], st);
			return 1;
		}
	}
	for (i = 0; i < runs; i++)
		for (j = 0; j < ncmds; j++)
			if (run_once(cmds[j].argv, &cmds[j].ms[i]) != 0)
				cmds[j].failed++;
	for (j = 0; j < ncmds; j++) {
		qsort(cmds[j].ms, (size_t)runs, sizeof(double), cmp_double);
		cmds[j].median = percentile(cmds[j].ms, runs, 50);
		cmds[j].p95 = percentile(cmds[j].ms, runs, 95);
	}
	printf("%d runs each, interleaved\n", runs);
	printf("%-44s %9s %9s %7s\n", "command", "median", "p95", "failed");
	for (j = 0; j < ncmds; j++) {
		char name[256];
		size_t len = 0;
		int k, n;

		name[0] = '\0';
		for (k = 0; cmds[j].argv[k] != NULL && len < sizeof(name); k++) {
			const char *a = cmds[j].argv[k], *slash = strrchr(a, '/');

			/* Paths of programs and settings are noise here. */
			if (slash != NULL && slash[1] != '\0')
				a = slash + 1;
			n = snprintf(name + len, sizeof(name) - len, "%s%s",
			    k > 0 ? " " : "", a);
			if (n < 0)
				break;
			len += (size_t)n;
		}
		if (strlen(name) > 44)
			strcpy(name + 41, "...");
		printf("%-44s %6.2f ms %6.2f ms %7d\n", name, cmds[j].median,
		    cmds[j].p95, cmds[j].failed);
	}
	for (j = 1; j < ncmds; j++)
		printf("ratio first / command %d: median %.2fx, p95 %.2fx\n",
		    j + 1, cmds[0].median / cmds[j].median,
		    cmds[0].p95 / cmds[j].p95);
	for (j = 0; j < ncmds; j++)
		if (cmds[j].failed > 0)
			return 1;
	return 0;
}
