/* berth-init is the minimal PID 1 for `run --init` (Docker's docker-init,
 * tini): it runs a command in its own process group (in the terminal's
 * foreground when stdin is one), forwards the signals it gets to it, reaps
 * every child (it is PID 1, or a subreaper when not) and exits with the
 * command's status, 128+signal if a signal killed it.
 *
 * It is C, one thread and no runtime, because it lives inside the container
 * for the container's whole life: a Go init took 7 of a --pids-limit's pids
 * (one per runtime thread) and ~2 MB of memory. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

static const char usage[] = "usage: docker-init [--] COMMAND [ARG...]\n";

/* go_errstr spells errno as Go does (lower case), as the Go init did. */
static const char *errstr(int e) {
	static char b[128];
	snprintf(b, sizeof b, "%s", strerror(e));
	if (b[0] >= 'A' && b[0] <= 'Z') b[0] = (char)(b[0] - 'A' + 'a');
	return b;
}

static void child(char **argv, const sigset_t *old) {
	/* the command gets the signal state berth-init was started with */
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	for (int s = 1; s < NSIG; s++) sigaction(s, &dfl, NULL);
	setpgid(0, 0);
	if (isatty(0)) {
		signal(SIGTTOU, SIG_IGN); /* a background group may not take the terminal otherwise */
		tcsetpgrp(0, getpid());
		signal(SIGTTOU, SIG_DFL);
	}
	sigprocmask(SIG_SETMASK, old, NULL);
	execvp(argv[0], argv);
	int e = errno;
	fprintf(stderr, "[FATAL berth-init] exec %s failed: %s\n", argv[0], errstr(e));
	_exit(e == ENOENT ? 127 : (e == EACCES || e == ENOEXEC || e == EISDIR) ? 126 : 1);
}

int main(int argc, char **argv) {
	int first = 1;
	if (argc > 1 && !strcmp(argv[1], "--")) first = 2;
	if (first >= argc || !strcmp(argv[first], "-h") || !strcmp(argv[first], "--help")) {
		fputs(usage, stderr);
		return 1;
	}
	/* orphans reparent to us as they would to PID 1 */
	if (getpid() != 1 && prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0) {
		fprintf(stderr, "[FATAL berth-init] become child subreaper: %s\n", errstr(errno));
		return 1;
	}
	/* every signal is blocked and taken with sigwaitinfo: blocked signals
	 * are queued even for PID 1, whose default-handled ones the kernel drops */
	sigset_t all, old;
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	pid_t pid = fork();
	if (pid < 0) {
		fprintf(stderr, "[FATAL berth-init] fork: %s\n", errstr(errno));
		return 1;
	}
	if (pid == 0) child(argv + first, &old);
	for (;;) {
		/* reap everything that exited; the command's exit ends us */
		for (;;) {
			int st;
			pid_t w = waitpid(-1, &st, WNOHANG);
			if (w < 0 && errno == EINTR) continue;
			if (w <= 0) break;
			if (w == pid) return WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st);
		}
		siginfo_t si;
		int sig = sigwaitinfo(&all, &si);
		if (sig < 0) continue;
		switch (sig) {
		case SIGCHLD:
			break; /* reaped at the top of the loop */
		case SIGTTIN:
		case SIGTTOU:
		case SIGTSTP:
			break; /* terminal stops concern the foreground group, the command's */
		default:
			if (kill(pid, sig) < 0 && errno != ESRCH)
				fprintf(stderr, "[WARN berth-init] forward signal %d to %d: %s\n", sig, pid, errstr(errno));
		}
	}
}
