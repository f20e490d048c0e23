/*
 * berth-monitor owns one container: it starts it through the OCI runtime,
 * holds its stdio, writes its json-file log, serves attach connections and
 * records its exit. berthd can die and restart without disturbing it.
 *
 * It is C, not Go, because one runs per container: a Go process cannot go
 * below ~2 MB of RSS (measured: 1.9 MB for a program that only sleeps),
 * this one stays well under 1 MB. The protocol is runtime/monitor's:
 * frames of 1 byte type, 4 bytes big-endian length, payload.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "native.h"
#include "trace.h"

enum { F_STDIN = 0, F_STDOUT = 1, F_STDERR = 2, F_CLOSE_STDIN = 3, F_RESIZE = 4,
       F_STARTED = 5, F_EXITED = 6, F_FAILED = 7 };
#define MAX_FRAME (1 << 20)
#define MAX_CLIENTS 64
#define MAX_LINE (16 * 1024)

static struct {
	const char *id, *bundle, *runtime, *runtime_root, *log_path, *exit_path, *socket, *cgroup;
	int tty, stdin_open;
	/* the exit file is not synced: the container is removed after its
	 * exit (--rm), and only a machine crash, which ends it anyway, would
	 * lose the unsynced file; a killed daemon still reads it */
	int exit_nosync;
	/* logging: "json-file" or "local" (Docker's protobuf framing); rotation
	 * at log_max_size bytes (0: never) keeping log_max_file files */
	const char *log_format;
	long long log_max_size;
	int log_max_file, log_compress;
} o = { .runtime = "runc", .log_format = "json-file", .log_max_file = 1 };

static int clients[MAX_CLIENTS], nclients;
static int listen_fd = -1, log_fd = -1, stdin_fd = -1, console_fd = -1;
static int out_fd = -1, err_fd = -1; /* our read ends */
static char started_json[64];
static sigset_t child_mask;

static void die(const char *fmt, ...) {
	va_list ap;
	va_start(ap, fmt);
	fputs("berth-monitor: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static void fmt_time(char *buf, size_t n) {
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	size_t l = strftime(buf, n, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + l, n - l, ".%09ldZ", ts.tv_nsec);
}

/* json_escape appends s[0:len] as a JSON string body to out (sized 6*len+1). */
static size_t json_escape(char *out, const char *s, size_t len) {
	size_t j = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		switch (c) {
		case '"': out[j++] = '\\'; out[j++] = '"'; break;
		case '\\': out[j++] = '\\'; out[j++] = '\\'; break;
		case '\n': out[j++] = '\\'; out[j++] = 'n'; break;
		case '\r': out[j++] = '\\'; out[j++] = 'r'; break;
		case '\t': out[j++] = '\\'; out[j++] = 't'; break;
		default:
			if (c < 0x20 || c == 0x7f) j += sprintf(out + j, "\\u%04x", c);
			else out[j++] = (char)c;
		}
	}
	out[j] = 0;
	return j;
}

static int write_all(int fd, const void *p, size_t n) {
	const char *b = p;
	while (n > 0) {
		ssize_t w = write(fd, b, n);
		if (w < 0 && errno == EINTR) continue;
		if (w <= 0) return -1;
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

static void drop_client(int i) {
	close(clients[i]);
	clients[i] = clients[--nclients];
}

/* client_index is the place of fd in the client list, or -1. */
static int client_index(int fd) {
	for (int i = 0; i < nclients; i++)
		if (clients[i] == fd) return i;
	return -1;
}

static int send_frame(int fd, int type, const void *p, size_t n) {
	unsigned char hdr[5] = { (unsigned char)type, (unsigned char)(n >> 24), (unsigned char)(n >> 16),
				 (unsigned char)(n >> 8), (unsigned char)n };
	struct iovec iov[2] = { { hdr, 5 }, { (void *)p, n } };
	size_t total = 5 + n, done = 0;
	while (done < total) {
		struct msghdr m = { .msg_iov = iov, .msg_iovlen = 2 };
		ssize_t w = sendmsg(fd, &m, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR) continue;
		if (w <= 0) return -1;
		done += (size_t)w;
		/* advance the iovecs past what was written */
		size_t adv = (size_t)w;
		for (int k = 0; k < 2; k++) {
			size_t take = adv < iov[k].iov_len ? adv : iov[k].iov_len;
			iov[k].iov_base = (char *)iov[k].iov_base + take;
			iov[k].iov_len -= take;
			adv -= take;
		}
	}
	return 0;
}

/* broadcast drops a client that cannot take a frame within its send timeout. */
static void broadcast(int type, const void *p, size_t n) {
	for (int i = nclients - 1; i >= 0; i--)
		if (send_frame(clients[i], type, p, n) < 0) drop_client(i);
}

static void add_client(int fd) {
	if (nclients == MAX_CLIENTS) { close(fd); return; }
	struct timeval tv = { .tv_sec = 5 };
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	clients[nclients++] = fd;
	if (started_json[0] && send_frame(fd, F_STARTED, started_json, strlen(started_json)) < 0)
		drop_client(nclients - 1);
}

/* --- the log: json-file or local, rotated --- */
static char partial[2][MAX_LINE];
static size_t partial_len[2];
static long long log_size;
static pid_t gzip_pid;

static void log_open(void) {
	log_fd = open(o.log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	struct stat st;
	log_size = log_fd >= 0 && fstat(log_fd, &st) == 0 ? st.st_size : 0;
}

/* log_rotate is Docker's rotation: with max-file 1 the file is emptied,
 * otherwise file.N-1 → file.N … file → file.1, and file.1 is gzipped in a
 * child when compress is on (readers prefer file.1 while it exists). */
static void log_rotate(void) {
	char from[4200], to[4200];
	if (o.log_max_file < 2) {
		if (ftruncate(log_fd, 0) == 0) log_size = 0;
		return;
	}
	if (gzip_pid > 0) { /* never shift a file gzip is still reading */
		while (waitpid(gzip_pid, NULL, 0) < 0 && errno == EINTR) {}
		gzip_pid = 0;
	}
	/* the oldest goes, then each moves up one */
	snprintf(to, sizeof to, "%s.%d", o.log_path, o.log_max_file - 1);
	unlink(to);
	snprintf(to, sizeof to, "%s.%d.gz", o.log_path, o.log_max_file - 1);
	unlink(to);
	for (int i = o.log_max_file - 2; i >= 1; i--) {
		for (int gz = 0; gz <= 1; gz++) {
			snprintf(from, sizeof from, "%s.%d%s", o.log_path, i, gz ? ".gz" : "");
			snprintf(to, sizeof to, "%s.%d%s", o.log_path, i + 1, gz ? ".gz" : "");
			(void)rename(from, to);
		}
	}
	snprintf(to, sizeof to, "%s.1", o.log_path);
	close(log_fd);
	rename(o.log_path, to);
	log_open();
	if (o.log_compress) {
		pid_t pid = fork();
		if (pid == 0) {
			sigprocmask(SIG_UNBLOCK, &child_mask, NULL);
			int null = open("/dev/null", O_RDWR);
			dup2(null, 0), dup2(null, 1), dup2(null, 2);
			execlp("gzip", "gzip", "-f", "-q", to, (char *)NULL);
			_exit(127);
		}
		if (pid > 0) gzip_pid = pid;
	}
}

static size_t varint(unsigned char *p, unsigned long long v) {
	size_t n = 0;
	do {
		p[n] = (unsigned char)(v & 0x7f);
		v >>= 7;
		if (v) p[n] |= 0x80;
		n++;
	} while (v);
	return n;
}

static void log_emit(int stream, const char *line, size_t len) {
	static char esc[MAX_LINE * 6 + 1];
	static unsigned char rec[MAX_LINE + 128];
	if (log_fd < 0) return;
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	ssize_t wrote;
	if (!strcmp(o.log_format, "local")) {
		/* moby's local driver: big-endian length, a logdriver.LogEntry
		 * protobuf (source, time_nano, line without its newline,
		 * partial), the length again */
		int complete = len > 0 && line[len - 1] == '\n';
		size_t body = complete ? len - 1 : len;
		const char *src = stream ? "stderr" : "stdout";
		unsigned char *p = rec + 4;
		*p++ = 0x0a, p += varint(p, 6), memcpy(p, src, 6), p += 6;
		*p++ = 0x10, p += varint(p, (unsigned long long)now.tv_sec * 1000000000ull + (unsigned long long)now.tv_nsec);
		*p++ = 0x1a, p += varint(p, body), memcpy(p, line, body), p += body;
		if (!complete) *p++ = 0x20, *p++ = 1;
		uint32_t n = (uint32_t)(p - rec - 4);
		unsigned char be[4] = { (unsigned char)(n >> 24), (unsigned char)(n >> 16), (unsigned char)(n >> 8), (unsigned char)n };
		memcpy(rec, be, 4);
		memcpy(p, be, 4);
		p += 4;
		wrote = write(log_fd, rec, (size_t)(p - rec));
	} else {
		char ts[64], head[96], tail[128];
		struct tm tm;
		gmtime_r(&now.tv_sec, &tm);
		size_t l = strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
		snprintf(ts + l, sizeof ts - l, ".%09ldZ", now.tv_nsec);
		size_t el = json_escape(esc, line, len);
		int hl = snprintf(head, sizeof head, "{\"log\":\"");
		int tl = snprintf(tail, sizeof tail, "\",\"stream\":\"%s\",\"time\":\"%s\"}\n", stream ? "stderr" : "stdout", ts);
		struct iovec iov[3] = { { head, (size_t)hl }, { esc, el }, { tail, (size_t)tl } };
		wrote = writev(log_fd, iov, 3);
	}
	if (wrote > 0) log_size += wrote;
	if (o.log_max_size > 0 && log_size >= o.log_max_size) log_rotate();
}

static void log_write(int stream, const char *p, size_t n) {
	char *buf = partial[stream];
	size_t *bl = &partial_len[stream];
	for (size_t i = 0; i < n; i++) {
		buf[(*bl)++] = p[i];
		if (p[i] == '\n' || *bl == MAX_LINE) {
			log_emit(stream, buf, *bl);
			*bl = 0;
		}
	}
}

static void log_flush(int stream) {
	if (partial_len[stream]) log_emit(stream, partial[stream], partial_len[stream]);
	partial_len[stream] = 0;
}

/* --- the OCI runtime --- */
static int run_runtime(int in, int out, int err, int wait, char *const extra[]) {
	char logp[4096];
	snprintf(logp, sizeof logp, "%s/runtime.log", o.bundle);
	const char *argv[32];
	int a = 0;
	argv[a++] = o.runtime;
	if (o.runtime_root && *o.runtime_root) { argv[a++] = "--root"; argv[a++] = o.runtime_root; }
	argv[a++] = "--log"; argv[a++] = logp; argv[a++] = "--log-format"; argv[a++] = "json";
	for (int i = 0; extra[i] && a < 31; i++) argv[a++] = extra[i];
	argv[a] = NULL;
	pid_t pid = fork();
	if (pid < 0) return -1;
	if (pid == 0) {
		sigprocmask(SIG_UNBLOCK, &child_mask, NULL);
		int null = open("/dev/null", O_RDWR);
		dup2(in >= 0 ? in : null, 0);
		dup2(out >= 0 ? out : null, 1);
		dup2(err >= 0 ? err : null, 2);
		execvp(o.runtime, (char *const *)argv);
		_exit(127);
	}
	if (!wait) return pid;
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

/* runtime_error returns the last error message the runtime logged. */
static void runtime_error(char *msg, size_t n) {
	char path[4096];
	snprintf(path, sizeof path, "%s/runtime.log", o.bundle);
	snprintf(msg, n, "OCI runtime failed");
	FILE *f = fopen(path, "r");
	if (!f) return;
	char line[8192];
	while (fgets(line, sizeof line, f)) {
		if (!strstr(line, "\"level\":\"error\"") && !strstr(line, "\"level\":\"fatal\"")) continue;
		char *m = strstr(line, "\"msg\":\"");
		if (!m) continue;
		m += 7;
		size_t j = 0;
		for (; *m && *m != '"' && j + 1 < n; m++) {
			if (*m == '\\' && m[1]) {
				m++;
				msg[j++] = *m == 'n' ? '\n' : *m == 't' ? '\t' : *m;
			} else {
				msg[j++] = *m;
			}
		}
		msg[j] = 0;
	}
	fclose(f);
	const char *prefixes[] = { "runc create failed: ", "runc start failed: ", NULL };
	for (int i = 0; prefixes[i]; i++) {
		size_t pl = strlen(prefixes[i]);
		if (!strncmp(msg, prefixes[i], pl)) memmove(msg, msg + pl, strlen(msg + pl) + 1);
	}
}

static int native;
static struct plan plan;

/* shed_startup_pages drops this process's mappings of the read-only parts
 * of its own binary (text and constants) that starting the container
 * touched: namespaces, mounts, seccomp are most of a static binary. The
 * pages stay in the page cache and fault back in when needed; the loop
 * that follows touches few, so a monitor's RSS falls by ~150 kB. */
static void shed_startup_pages(void) {
	char self[4096], line[4352];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	FILE *f = fopen("/proc/self/maps", "re");
	if (n <= 0 || !f) {
		if (f) fclose(f);
		return;
	}
	self[n] = 0;
	while (fgets(line, sizeof line, f)) {
		unsigned long lo, hi;
		char perms[8], path[4096] = "";
		if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %4095s", &lo, &hi, perms, path) < 3) continue;
		if (strcmp(path, self) || strchr(perms, 'w')) continue;
		(void)madvise((void *)lo, hi - lo, MADV_DONTNEED);
	}
	fclose(f);
}

static void runtime_delete(void) {
	if (native) {
		native_cleanup(&plan);
		return;
	}
	char *args[] = { "delete", "--force", (char *)o.id, NULL };
	run_runtime(-1, -1, -1, 1, args);
}

static void write_exit_file(const char *json) {
	char tmp[4096];
	snprintf(tmp, sizeof tmp, "%s.tmp", o.exit_path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) return;
	if (write_all(fd, json, strlen(json)) == 0 && (o.exit_nosync || fsync(fd) == 0)) {
		close(fd);
		rename(tmp, o.exit_path);
		return;
	}
	close(fd);
	unlink(tmp);
}

static void close_clients(void) {
	for (int i = 0; i < nclients; i++) shutdown(clients[i], SHUT_WR);
}

static int fail(const char *msg) {
	static char esc[8192 * 6 + 1], json[sizeof esc + 256], ts[64];
	json_escape(esc, msg, strnlen(msg, 8192));
	snprintf(json, sizeof json, "{\"message\":\"%s\"}", esc);
	broadcast(F_FAILED, json, strlen(json));
	fmt_time(ts, sizeof ts);
	snprintf(json, sizeof json, "{\"exitCode\":128,\"finishedAt\":\"%s\",\"error\":\"%s\"}", ts, esc);
	write_exit_file(json);
	close_clients();
	unlink(o.socket);
	return 1;
}

static int oom_killed(void) {
	if (!o.cgroup || !*o.cgroup) return 0;
	const char *fmts[] = { "/sys/fs/cgroup/memory%s/memory.oom_control", "/sys/fs/cgroup%s/memory.events", NULL };
	for (int i = 0; fmts[i]; i++) {
		char path[4096], line[256];
		snprintf(path, sizeof path, fmts[i], o.cgroup);
		FILE *f = fopen(path, "r");
		if (!f) continue;
		long n = 0;
		while (fgets(line, sizeof line, f))
			if (sscanf(line, "oom_kill %ld", &n) == 1 && n > 0) { fclose(f); return 1; }
		fclose(f);
	}
	return 0;
}

/* receive_console accepts the runtime's connection on the console socket
 * and takes the terminal master it sends, while watching the runtime. */
static int receive_console(int lfd, pid_t runtime_pid, int *runtime_ok) {
	for (;;) {
		struct pollfd p = { lfd, POLLIN, 0 };
		if (poll(&p, 1, 50) > 0) break;
		int st;
		if (waitpid(runtime_pid, &st, WNOHANG) == runtime_pid) { *runtime_ok = 0; return -1; }
	}
	int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (c < 0) return -1;
	char buf[256], cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { buf, sizeof buf };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf };
	int fd = -1;
	if (recvmsg(c, &m, MSG_CMSG_CLOEXEC) > 0) {
		struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
		if (cm && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) memcpy(&fd, CMSG_DATA(cm), sizeof fd);
	}
	close(c);
	return fd;
}

static int listen_unix(const char *path) {
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof a.sun_path) die("socket path too long: %s", path);
	strcpy(a.sun_path, path);
	unlink(path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, 16) < 0) die("listen %s: %s", path, strerror(errno));
	return fd;
}

/* handle_client reads one frame from client i; returns -1 to drop it. */
static int handle_client(int i) {
	unsigned char hdr[5];
	int fd = clients[i];
	if (recv(fd, hdr, 5, MSG_WAITALL) != 5) return -1;
	uint32_t n = (uint32_t)hdr[1] << 24 | (uint32_t)hdr[2] << 16 | (uint32_t)hdr[3] << 8 | hdr[4];
	if (n > MAX_FRAME) return -1;
	static char buf[MAX_FRAME];
	if (n && recv(fd, buf, n, MSG_WAITALL) != (ssize_t)n) return -1;
	switch (hdr[0]) {
	case F_STDIN:
		if (stdin_fd >= 0) (void)write_all(stdin_fd, buf, n);
		break;
	case F_CLOSE_STDIN:
		if (console_fd >= 0) (void)!write(console_fd, "\x04", 1);
		else if (stdin_fd >= 0) { close(stdin_fd); stdin_fd = -1; }
		break;
	case F_RESIZE: {
		buf[n < MAX_FRAME ? n : MAX_FRAME - 1] = 0;
		unsigned h = 0, w = 0;
		char *ph = strstr(buf, "\"h\":"), *pw = strstr(buf, "\"w\":");
		if (ph) h = (unsigned)strtoul(ph + 4, NULL, 10);
		if (pw) w = (unsigned)strtoul(pw + 4, NULL, 10);
		struct winsize ws = { .ws_row = (unsigned short)h, .ws_col = (unsigned short)w };
		if (console_fd >= 0) ioctl(console_fd, TIOCSWINSZ, &ws);
		break;
	}
	}
	return 0;
}

int main(int argc, char **argv) {
	trace_open();
	trace_mark(argc > 1 && !strcmp(argv[1], "exec") ? "exec: main" : "main");
	if (argc > 1 && !strcmp(argv[1], "exec")) return exec_main(argc - 1, argv + 1);
	static struct option opts[] = {
		{ "id", 1, 0, 'i' }, { "bundle", 1, 0, 'b' }, { "runtime", 1, 0, 'r' }, { "runtime-root", 1, 0, 'R' },
		{ "log", 1, 0, 'l' }, { "exit-file", 1, 0, 'e' }, { "socket", 1, 0, 's' }, { "cgroup", 1, 0, 'c' },
		{ "tty", 0, 0, 't' }, { "stdin", 0, 0, 'I' }, { "log-format", 1, 0, 'F' }, { "log-max-size", 1, 0, 'S' },
		{ "log-max-file", 1, 0, 'N' }, { "log-compress", 0, 0, 'Z' }, { "exit-nosync", 0, 0, 'X' }, { 0, 0, 0, 0 } };
	for (int c; (c = getopt_long_only(argc, argv, "", opts, NULL)) != -1;) {
		switch (c) {
		case 'i': o.id = optarg; break;
		case 'b': o.bundle = optarg; break;
		case 'r': o.runtime = optarg; break;
		case 'R': o.runtime_root = optarg; break;
		case 'l': o.log_path = optarg; break;
		case 'e': o.exit_path = optarg; break;
		case 's': o.socket = optarg; break;
		case 'c': o.cgroup = optarg; break;
		case 't': o.tty = 1; break;
		case 'I': o.stdin_open = 1; break;
		case 'F': o.log_format = optarg; break;
		case 'S': o.log_max_size = atoll(optarg); break;
		case 'N': o.log_max_file = atoi(optarg) > 0 ? atoi(optarg) : 1; break;
		case 'Z': o.log_compress = 1; break;
		case 'X': o.exit_nosync = 1; break;
		default: return 2;
		}
	}
	if (!o.id || !o.bundle || !o.exit_path || !o.socket) {
		fputs("berth-monitor: --id, --bundle, --exit-file and --socket are required\n", stderr);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) die("subreaper: %s", strerror(errno));
	sigemptyset(&child_mask);
	sigaddset(&child_mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &child_mask, NULL);
	int sfd = signalfd(-1, &child_mask, SFD_CLOEXEC | SFD_NONBLOCK);

	listen_fd = listen_unix(o.socket);
	if (fcntl(3, F_GETFD) != -1) add_client(3); /* the daemon's socketpair end */
	if (o.log_path && *o.log_path) log_open();

	int child_in = -1, child_out = -1, child_err = -1, clfd = -1;
	char console_path[4096] = "";
	native = !strcmp(o.runtime, "native");
	char msg[8192];
	if (native) {
		char path[4096];
		snprintf(path, sizeof path, "%s/plan", o.bundle);
		if (plan_load(path, &plan, msg, sizeof msg) < 0) return fail(msg);
	}
	if (o.tty && !native) {
		snprintf(console_path, sizeof console_path, "%s/console.sock", o.bundle);
		clfd = listen_unix(console_path);
	} else if (!o.tty) {
		int p[2];
		if (pipe2(p, O_CLOEXEC) < 0) die("pipe: %s", strerror(errno));
		out_fd = p[0], child_out = p[1];
		if (pipe2(p, O_CLOEXEC) < 0) die("pipe: %s", strerror(errno));
		err_fd = p[0], child_err = p[1];
		if (o.stdin_open) {
			if (pipe2(p, O_CLOEXEC) < 0) die("pipe: %s", strerror(errno));
			child_in = p[0], stdin_fd = p[1];
		}
	}
	char pidfile[4096];
	snprintf(pidfile, sizeof pidfile, "%s/init.pid", o.bundle);
	char *create[] = { "create", "--bundle", (char *)o.bundle, "--pid-file", pidfile, NULL, NULL, (char *)o.id, NULL };
	if (o.tty) create[5] = "--console-socket", create[6] = console_path;
	else create[5] = (char *)o.id, create[6] = NULL;
	int ok = 1;
	pid_t init = 0;
	char started_at[64];
	if (native) {
		ok = native_start(&plan, child_in, child_out, child_err, &console_fd, &init, msg, sizeof msg) == 0;
		if (child_out >= 0) close(child_out);
		if (child_err >= 0) close(child_err);
		if (child_in >= 0) close(child_in);
		if (!ok) return fail(msg);
		if (o.tty) stdin_fd = out_fd = console_fd;
		fmt_time(started_at, sizeof started_at);
		goto started;
	}
	if (o.tty) {
		pid_t rp = run_runtime(-1, -1, -1, 0, create);
		console_fd = receive_console(clfd, rp, &ok);
		int st = 0;
		if (ok) while (waitpid(rp, &st, 0) < 0 && errno == EINTR) {}
		ok = ok && console_fd >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0;
		close(clfd);
		unlink(console_path);
		stdin_fd = out_fd = console_fd;
	} else {
		ok = run_runtime(child_in, child_out, child_err, 1, create) == 0;
		close(child_out);
		close(child_err);
		if (child_in >= 0) close(child_in);
	}
	if (!ok) {
		runtime_error(msg, sizeof msg);
		runtime_delete();
		return fail(msg);
	}
	FILE *pf = fopen(pidfile, "r");
	if (!pf || fscanf(pf, "%d", &init) != 1) {
		runtime_delete();
		return fail("cannot read the container's pid file");
	}
	fclose(pf);
	fmt_time(started_at, sizeof started_at);
	char *start[] = { "start", (char *)o.id, NULL };
	if (run_runtime(-1, -1, -1, 1, start) < 0) {
		runtime_error(msg, sizeof msg);
		runtime_delete();
		return fail(msg);
	}
started:
	snprintf(started_json, sizeof started_json, "{\"pid\":%d}", init);
	broadcast(F_STARTED, started_json, strlen(started_json));
	trace_mark("started frame sent");
	shed_startup_pages();

	int status = -1, exited = 0;
	static char buf[32 * 1024];
	while (!exited || out_fd >= 0 || err_fd >= 0) {
		struct pollfd p[4 + MAX_CLIENTS];
		int np = 0;
		p[np++] = (struct pollfd){ sfd, POLLIN, 0 };
		p[np++] = (struct pollfd){ listen_fd, POLLIN, 0 };
		p[np++] = (struct pollfd){ out_fd, POLLIN, 0 };
		p[np++] = (struct pollfd){ err_fd, POLLIN, 0 };
		for (int i = 0; i < nclients; i++) p[np++] = (struct pollfd){ clients[i], POLLIN, 0 };
		if (poll(p, (nfds_t)np, -1) < 0) {
			if (errno == EINTR) continue;
			break;
		}
		if (p[0].revents) {
			struct signalfd_siginfo si;
			while (read(sfd, &si, sizeof si) > 0) {}
			int st;
			pid_t w;
			while ((w = waitpid(-1, &st, WNOHANG)) > 0)
				if (w == init) status = st, exited = 1, trace_mark("init reaped");
		}
		if (p[1].revents & POLLIN) {
			int c = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
			if (c >= 0) add_client(c);
		}
		for (int k = 2; k <= 3; k++) {
			if (!p[k].revents) continue;
			int *fd = k == 2 ? &out_fd : &err_fd;
			ssize_t n = read(*fd, buf, sizeof buf);
			if (n > 0) {
				broadcast(k == 2 ? F_STDOUT : F_STDERR, buf, (size_t)n);
				log_write(k - 2, buf, (size_t)n);
			} else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
				log_flush(k - 2);
				if (*fd != console_fd) close(*fd);
				*fd = -1;
			}
		}
		/* by fd, not by index: a broadcast above may have dropped clients
		 * (a daemon killed while output flowed), which reorders the list */
		for (int i = np - 1; i >= 4; i--) {
			if (!p[i].revents) continue;
			int k = client_index(p[i].fd);
			if (k >= 0 && handle_client(k) < 0) drop_client(k);
		}
	}
	trace_mark("output drained");
	/* the log is not fsynced (nor is dockerd's json-file): readers go
	 * through the page cache, and a kill -9 of anything keeps it */
	if (console_fd >= 0) close(console_fd);
	int code = status < 0 ? 255 : WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
	char finished_at[64], json[512];
	fmt_time(finished_at, sizeof finished_at);
	snprintf(json, sizeof json, "{\"pid\":%d,\"exitCode\":%d,\"oomKilled\":%s,\"startedAt\":\"%s\",\"finishedAt\":\"%s\"}",
		 init, code, oom_killed() ? "true" : "false", started_at, finished_at);
	write_exit_file(json);
	trace_mark("exit file written");
	runtime_delete();
	trace_mark("cgroups removed");
	broadcast(F_EXITED, json, strlen(json));
	trace_mark("exited frame sent");
	close_clients();
	unlink(o.socket);
	return 0;
}
