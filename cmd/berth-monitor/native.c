/*
 * The native runtime: the monitor starts the container itself, from a plan
 * (plan.h), instead of running an OCI runtime binary. One fork, unshare,
 * mounts, pivot_root, then the process steps runc does (rlimits, user,
 * capabilities, no_new_privs, seccomp) and execve. exec joins a running
 * container with setns. What runc takes ~100 ms for takes a few here:
 * no Go runtime to start twice and the seccomp filter comes precompiled.
 */
#define _GNU_SOURCE
#include "native.h"
#include "trace.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>

#ifndef MOUNT_ATTR_RDONLY /* a libc without mount_setattr's types (musl): the kernel's */
#include <linux/types.h>
#define MOUNT_ATTR_RDONLY 0x00000001
struct mount_attr { __u64 attr_set, attr_clr, propagation, userns_fd; };
#endif
#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif
#include <unistd.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

/* --- reporting from the child: one SEQPACKET message per error --- */

static int sync_fd = -1;

/* go_errstr returns strerror the way Go spells it ("no such file or
 * directory"), which is what runc's messages, and berthd's exit-code
 * mapping, use. */
static const char *go_errstr(int e) {
	static char b[128];
	snprintf(b, sizeof b, "%s", strerror(e));
	if (b[0] >= 'A' && b[0] <= 'Z' && !(b[1] >= 'A' && b[1] <= 'Z')) b[0] = (char)(b[0] - 'A' + 'a');
	return b;
}

/* the child's errors travel to the monitor as one message: 'E' and the
 * text, which the monitor reports as "unable to start container process:
 * …", or 'C' for a cgroup error, reported as it is */
static void __attribute__((noreturn)) child_vfail(char type, const char *fmt, va_list ap) {
	char msg[4096];
	msg[0] = type;
	vsnprintf(msg + 1, sizeof msg - 1, fmt, ap);
	if (sync_fd >= 0) (void)!send(sync_fd, msg, strlen(msg), MSG_NOSIGNAL);
	_exit(1);
}

static void __attribute__((noreturn, format(printf, 1, 2))) child_fail(const char *fmt, ...) {
	va_list ap;
	va_start(ap, fmt);
	child_vfail('E', fmt, ap);
}

static void __attribute__((noreturn, format(printf, 1, 2))) cgroup_fail(const char *fmt, ...) {
	va_list ap;
	va_start(ap, fmt);
	child_vfail('C', fmt, ap);
}

static int write_file(const char *dir, const char *file, const char *val);

/* join_cgroup moves the calling process into the cgroup dir. On v1 it
 * writes 0 to "tasks": a thread moving itself takes no threadgroup lock,
 * where any write to cgroup.procs takes the global cgroup_threadgroup_rwsem
 * for writing, and that waits for an RCU grace period (10 ms on these
 * hosts: a third of a whole `run --rm`). The callers are single-threaded,
 * so their one thread is the whole process. cgroup2 has no "tasks" file:
 * there it is cgroup.procs. */
static int join_cgroup(const char *dir) {
	if (write_file(dir, "tasks", "0") == 0) return 0;
	if (errno != ENOENT) return -1;
	return write_file(dir, "cgroup.procs", "0");
}

static void send_fd(int sock, int fd) {
	char c = 'T', cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { &c, 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof fd);
	if (sendmsg(sock, &m, MSG_NOSIGNAL) < 0) child_fail("send terminal: %s", go_errstr(errno));
}

/* --- paths inside the rootfs, resolved as if it were / (symlinks cannot escape) --- */

static int open_in_root(int rootfd, const char *path, int flags) {
	struct open_how how = { .flags = (uint64_t)(flags | O_CLOEXEC), .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
	return (int)syscall(SYS_openat2, rootfd, path, &how, sizeof how);
}

/* mkdir_in_root creates path and its parents inside the root. */
static int mkdir_in_root(int rootfd, const char *path, mode_t mode) {
	char buf[4096];
	if (strlen(path) >= sizeof buf) { errno = ENAMETOOLONG; return -1; }
	strcpy(buf, path);
	int fd = open_in_root(rootfd, buf, O_PATH | O_DIRECTORY);
	if (fd >= 0) { close(fd); return 0; }
	if (errno != ENOENT) return -1;
	char *slash = strrchr(buf, '/');
	while (slash && slash > buf && slash[1] == 0) { *slash = 0; slash = strrchr(buf, '/'); }
	const char *base = buf;
	int parent;
	if (slash && slash != buf) {
		*slash = 0;
		if (mkdir_in_root(rootfd, buf, mode) < 0) return -1;
		parent = open_in_root(rootfd, buf, O_PATH | O_DIRECTORY);
		base = slash + 1;
	} else {
		parent = dup(rootfd);
		base = slash ? slash + 1 : buf;
	}
	if (parent < 0) return -1;
	int r = mkdirat(parent, base, mode);
	int e = errno;
	close(parent);
	if (r < 0 && e != EEXIST) { errno = e; return -1; }
	return 0;
}

/* mkfile_in_root makes sure path exists inside the root, as an empty file if new. */
static int mkfile_in_root(int rootfd, const char *path) {
	int fd = open_in_root(rootfd, path, O_PATH);
	if (fd >= 0) { close(fd); return 0; }
	char dir[4096];
	snprintf(dir, sizeof dir, "%s", path);
	char *slash = strrchr(dir, '/');
	if (!slash) { errno = EINVAL; return -1; }
	*slash = 0;
	if (*dir && mkdir_in_root(rootfd, dir, 0755) < 0) return -1;
	int parent = *dir ? open_in_root(rootfd, dir, O_PATH | O_DIRECTORY) : dup(rootfd);
	if (parent < 0) return -1;
	fd = openat(parent, slash + 1, O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
	int e = errno;
	close(parent);
	if (fd < 0 && e != EEXIST) { errno = e; return -1; }
	if (fd >= 0) close(fd);
	return 0;
}

static void fdpath(char *out, size_t n, int fd) { snprintf(out, n, "/proc/self/fd/%d", fd); }

static void do_mount(int rootfd, struct pmount *m) {
	char target[64];
	int fd;
	if (m->kind == MK_BIND) {
		struct stat st;
		if (stat(m->src, &st) < 0) child_fail("error mounting \"%s\" to rootfs at \"%s\": stat %s: %s", m->src, m->dst, m->src, go_errstr(errno));
		if ((S_ISDIR(st.st_mode) ? mkdir_in_root(rootfd, m->dst, 0755) : mkfile_in_root(rootfd, m->dst)) < 0)
			child_fail("error mounting \"%s\" to rootfs at \"%s\": mkdir: %s", m->src, m->dst, go_errstr(errno));
	} else if (m->kind == MK_NORMAL) {
		if (mkdir_in_root(rootfd, m->dst, 0755) < 0)
			child_fail("error mounting \"%s\" to rootfs at \"%s\": mkdir: %s", m->src, m->dst, go_errstr(errno));
	}
	if ((fd = open_in_root(rootfd, m->dst, O_PATH)) < 0)
		child_fail("error mounting \"%s\" to rootfs at \"%s\": %s", m->src, m->dst, go_errstr(errno));
	fdpath(target, sizeof target, fd);
	int r;
	if (m->kind == MK_BIND) {
		r = mount(m->src, target, NULL, m->flags & (MS_BIND | MS_REC), NULL);
		if (r == 0 && (m->flags & ~(unsigned long)(MS_BIND | MS_REC))) {
			/* the flags of a bind take a remount of the new mount */
			close(fd);
			if ((fd = open_in_root(rootfd, m->dst, O_PATH)) < 0) child_fail("reopen %s: %s", m->dst, go_errstr(errno));
			fdpath(target, sizeof target, fd);
			r = mount(NULL, target, NULL, m->flags | MS_REMOUNT | MS_BIND, NULL);
		}
	} else if (m->kind == MK_REMOUNT) {
		r = mount(NULL, target, NULL, m->flags | MS_REMOUNT, *m->data ? m->data : NULL);
	} else {
		r = mount(m->src, target, m->type, m->flags, *m->data ? m->data : NULL);
	}
	if (r < 0) child_fail("error mounting \"%s\" to rootfs at \"%s\": %s", m->src, m->dst, go_errstr(errno));
	if (m->pflags & PF_RRO) {
		/* recursive read-only (runc's "rro"): the mounts below a bind too */
		close(fd);
		if ((fd = open_in_root(rootfd, m->dst, O_PATH)) < 0) child_fail("reopen %s: %s", m->dst, go_errstr(errno));
		struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY };
		if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) < 0)
			child_fail("failed to set MOUNT_ATTR_RDONLY with AT_RECURSIVE on %s: %s", m->dst, go_errstr(errno));
	}
	if (m->pflags & ~PF_RRO) {
		close(fd);
		if ((fd = open_in_root(rootfd, m->dst, O_PATH)) < 0) child_fail("reopen %s: %s", m->dst, go_errstr(errno));
		fdpath(target, sizeof target, fd);
		static const unsigned long props[] = { MS_SHARED, MS_PRIVATE, MS_SLAVE, MS_UNBINDABLE };
		for (int i = 0; i < 4; i++)
			if ((m->pflags & props[i]) && mount(NULL, target, NULL, props[i] | (m->pflags & MS_REC), NULL) < 0)
				child_fail("change propagation of %s: %s", m->dst, go_errstr(errno));
	}
	close(fd);
}

static void make_device(int rootfd, struct pdev *d) {
	char dir[4096];
	snprintf(dir, sizeof dir, "%s", d->path);
	char *slash = strrchr(dir, '/');
	if (!slash) child_fail("bad device path %s", d->path);
	*slash = 0;
	if (mkdir_in_root(rootfd, *dir ? dir : "/", 0755) < 0) child_fail("mkdir %s: %s", dir, go_errstr(errno));
	int parent = open_in_root(rootfd, *dir ? dir : "/", O_PATH | O_DIRECTORY);
	if (parent < 0) child_fail("open %s: %s", dir, go_errstr(errno));
	mode_t type = d->type == 'b' ? S_IFBLK : d->type == 'p' ? S_IFIFO : S_IFCHR;
	/* the node's mode is set by chmod below, independent of the umask */
	if (mknodat(parent, slash + 1, type | (d->mode & 07777), makedev(d->major, d->minor)) < 0 && errno != EEXIST)
		child_fail("mknod %s: %s", d->path, go_errstr(errno));
	if (fchmodat(parent, slash + 1, d->mode & 07777, 0) < 0 || fchownat(parent, slash + 1, d->uid, d->gid, AT_SYMLINK_NOFOLLOW) < 0)
		child_fail("chown %s: %s", d->path, go_errstr(errno));
	close(parent);
}

static void make_link(int rootfd, const char *target, const char *path) {
	char dir[4096];
	snprintf(dir, sizeof dir, "%s", path);
	char *slash = strrchr(dir, '/');
	if (!slash) child_fail("bad link path %s", path);
	*slash = 0;
	int parent = open_in_root(rootfd, *dir ? dir : "/", O_PATH | O_DIRECTORY);
	if (parent < 0) child_fail("open %s: %s", dir, go_errstr(errno));
	if (symlinkat(target, parent, slash + 1) < 0 && errno != EEXIST) child_fail("symlink %s: %s", path, go_errstr(errno));
	close(parent);
}

/* --- the process: what runc's finalizeNamespace and friends do --- */

static int cap_last = 40;

static void load_seccomp(struct plan *p) {
	if (!p->bpf) return;
	struct sock_fprog prog = { .len = (unsigned short)(p->bpf_len / 8), .filter = p->bpf };
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) < 0) child_fail("error loading seccomp filter: %s", go_errstr(errno));
}

/* lookpath resolves file as Go's exec.LookPath does, with the process's
 * PATH, and words its errors the same way. */
static void lookpath(struct plan *p, char *out, size_t n) {
	const char *file = p->argv.v[0];
	struct stat st;
	if (strchr(file, '/')) {
		if (stat(file, &st) < 0) child_fail("exec: \"%s\": stat %s: %s", file, file, go_errstr(errno));
		if (S_ISDIR(st.st_mode)) child_fail("exec: \"%s\": is a directory", file);
		if (!(st.st_mode & 0111)) child_fail("exec: \"%s\": permission denied", file);
		snprintf(out, n, "%s", file);
		return;
	}
	const char *path = "";
	for (int i = 0; i < p->env.n; i++)
		if (!strncmp(p->env.v[i], "PATH=", 5)) path = p->env.v[i] + 5;
	const char *s = path;
	for (;;) {
		const char *e = strchr(s, ':');
		size_t l = e ? (size_t)(e - s) : strlen(s);
		snprintf(out, n, "%.*s/%s", (int)l, l ? s : ".", file);
		if (stat(out, &st) == 0 && !S_ISDIR(st.st_mode) && (st.st_mode & 0111)) return;
		if (!e) break;
		s = e + 1;
	}
	child_fail("exec: \"%s\": executable file not found in $PATH", file);
}

static void finalize_and_exec(struct plan *p) {
	for (int i = 0; i < p->nrl; i++) {
		struct rlimit r = { p->rl[i].soft, p->rl[i].hard };
		if (setrlimit(p->rl[i].res, &r) < 0) child_fail("error setting rlimit type %d: %s", p->rl[i].res, go_errstr(errno));
	}
	if (p->has_oom) {
		int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
		char b[16];
		int l = snprintf(b, sizeof b, "%d", p->oom);
		if (fd < 0 || write(fd, b, (size_t)l) != l) child_fail("set oom_score_adj: %s", go_errstr(errno));
		close(fd);
	}
	/* runc creates a missing working directory */
	if (*p->cwd && chdir(p->cwd) < 0) {
		char b[4096];
		snprintf(b, sizeof b, "%s", p->cwd);
		for (char *s = b + 1; *s; s++)
			if (*s == '/') { *s = 0; mkdir(b, 0755); *s = '/'; }
		mkdir(b, 0755);
		if (p->has_user) { (void)!chown(b, p->uid, p->gid); }
	}
	char exe[4096];
	lookpath(p, exe, sizeof exe);
	if (p->nnp && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) child_fail("set no_new_privs: %s", go_errstr(errno));
	/* without no_new_privs, loading a filter needs CAP_SYS_ADMIN: load it while we have it */
	if (!p->nnp) load_seccomp(p);
	if (p->has_caps)
		for (int c = 0; c <= cap_last; c++)
			if (!(p->cap_b & (1ULL << c)) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
				child_fail("drop capability %d from the bounding set: %s", c, go_errstr(errno));
	if (p->has_user) {
		if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) child_fail("keepcaps: %s", go_errstr(errno));
		if (setgroups((size_t)p->ngroups, p->groups) < 0) child_fail("setgroups: %s", go_errstr(errno));
		if (setresgid(p->gid, p->gid, p->gid) < 0) child_fail("setgid %u: %s", p->gid, go_errstr(errno));
		if (setresuid(p->uid, p->uid, p->uid) < 0) child_fail("setuid %u: %s", p->uid, go_errstr(errno));
		prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
	}
	if (*p->cwd && chdir(p->cwd) < 0) child_fail("chdir to cwd (\"%s\") set in config.json failed: %s", p->cwd, go_errstr(errno));
	if (p->has_caps) {
		struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
		struct __user_cap_data_struct d[2] = {
			{ (uint32_t)p->cap_e, (uint32_t)p->cap_p, (uint32_t)p->cap_i },
			{ (uint32_t)(p->cap_e >> 32), (uint32_t)(p->cap_p >> 32), (uint32_t)(p->cap_i >> 32) } };
		if (syscall(SYS_capset, &h, d) < 0) child_fail("capset: %s", go_errstr(errno));
		for (int c = 0; c <= cap_last; c++)
			if ((p->cap_a & (1ULL << c)) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0)
				child_fail("raise ambient capability %d: %s", c, go_errstr(errno));
	}
	if (p->nnp) load_seccomp(p);
	trace_mark("child: execve");
	execve(exe, p->argv.v, p->env.v ? p->env.v : (char *[]){ NULL });
	child_fail("exec %s: %s", exe, go_errstr(errno));
}

static void reset_signals(void) {
	sigset_t all;
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	for (int s = 1; s < NSIG; s++)
		if (s != SIGKILL && s != SIGSTOP) signal(s, SIG_DFL);
}

static void read_cap_last(void) {
	FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
	if (f) {
		if (fscanf(f, "%d", &cap_last) != 1) cap_last = 40;
		fclose(f);
	}
}

/* --- container start --- */

/* set_size gives a new terminal the size the plan asks for (a console
 * size at create or exec), so the process does not start at 0x0. */
static void set_size(struct plan *p, int master) {
	if (!p->term_rows && !p->term_cols) return;
	struct winsize ws = { .ws_row = p->term_rows, .ws_col = p->term_cols };
	(void)ioctl(master, TIOCSWINSZ, &ws);
}

static void setup_terminal(struct plan *p, int rootfd) {
	int master = open_in_root(rootfd, "/dev/pts/ptmx", O_RDWR | O_NOCTTY);
	if (master < 0) child_fail("open /dev/pts/ptmx: %s", go_errstr(errno));
	int unlock = 0;
	if (ioctl(master, TIOCSPTLCK, &unlock) < 0) child_fail("unlockpt: %s", go_errstr(errno));
	set_size(p, master);
	int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (slave < 0) child_fail("open terminal peer: %s", go_errstr(errno));
	if (mkfile_in_root(rootfd, "/dev/console") < 0) child_fail("create /dev/console: %s", go_errstr(errno));
	int cfd = open_in_root(rootfd, "/dev/console", O_PATH);
	char src[64], dst[64];
	fdpath(src, sizeof src, slave);
	fdpath(dst, sizeof dst, cfd);
	if (cfd < 0 || mount(src, dst, NULL, MS_BIND, NULL) < 0) child_fail("bind /dev/console: %s", go_errstr(errno));
	close(cfd);
	send_fd(sync_fd, master);
	close(master);
	for (int i = 0; i < 3; i++)
		if (dup2(slave, i) < 0) child_fail("dup2: %s", go_errstr(errno));
	if (ioctl(0, TIOCSCTTY, 0) < 0) child_fail("set controlling terminal: %s", go_errstr(errno));
	close(slave);
}

static void container_child(struct plan *p, int in, int out, int err) {
	char go;
	if (recv(sync_fd, &go, 1, 0) != 1) _exit(1); /* the monitor gave up */
	trace_proc = "container";
	/* into the cgroups first: nothing of the container runs outside them */
	for (int i = 0; i < p->cgdirs.n; i++)
		if (join_cgroup(p->cgdirs.v[i]) < 0)
			cgroup_fail("unable to apply cgroup configuration: join %s: %s", p->cgdirs.v[i], go_errstr(errno));
	trace_mark("child: in its cgroups");
	reset_signals();
	int unshare_flags = 0;
	for (int i = 0; i < p->nns; i++) {
		if (p->ns[i].type == CLONE_NEWPID) continue;
		if (!p->ns[i].path) {
			unshare_flags |= p->ns[i].type;
			continue;
		}
		int fd = open(p->ns[i].path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || setns(fd, p->ns[i].type) < 0) child_fail("join namespace %s: %s", p->ns[i].path, go_errstr(errno));
		close(fd);
	}
	/* the cgroup namespace is made after joining the cgroup, so it is its root */
	if (unshare_flags && unshare(unshare_flags) < 0) child_fail("unshare namespaces: %s", go_errstr(errno));
	trace_mark("child: namespaces made");
	if (setsid() < 0) child_fail("setsid: %s", go_errstr(errno));
	if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0) child_fail("make / rslave: %s", go_errstr(errno));
	if (mount(p->rootfs, p->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0) child_fail("bind rootfs: %s", go_errstr(errno));
	int rootfd = open(p->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0) child_fail("open rootfs: %s", go_errstr(errno));
	if (p->hostname && sethostname(p->hostname, strlen(p->hostname)) < 0) child_fail("sethostname: %s", go_errstr(errno));
	for (int i = 0; i < p->nmounts; i++) do_mount(rootfd, &p->mounts[i]);
	for (int i = 0; i < p->ndevs; i++) make_device(rootfd, &p->devs[i]);
	for (int i = 0; i + 1 < p->links.n; i += 2) make_link(rootfd, p->links.v[i], p->links.v[i + 1]);
	if (p->terminal) setup_terminal(p, rootfd);
	trace_mark("child: mounts and devices done");
	if (fchdir(rootfd) < 0) child_fail("chdir rootfs: %s", go_errstr(errno));
	if (syscall(SYS_pivot_root, ".", ".") < 0) child_fail("pivot_root: %s", go_errstr(errno));
	if (umount2(".", MNT_DETACH) < 0) child_fail("unmount old root: %s", go_errstr(errno));
	trace_mark("child: pivot_root done");
	if (chdir("/") < 0) child_fail("chdir /: %s", go_errstr(errno));
	close(rootfd);
	if (!p->terminal) {
		/* after pivot_root, so a closed stdin is the container's /dev/null */
		int fds[3] = { in, out, err };
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);
		for (int i = 0; i < 3; i++)
			if (dup2(fds[i] >= 0 ? fds[i] : null, i) < 0) child_fail("dup2: %s", go_errstr(errno));
	}
	/* sysctls before /proc/sys turns read-only */
	for (int i = 0; i + 1 < p->sysctl.n; i += 2) {
		char path[512];
		snprintf(path, sizeof path, "/proc/sys/%s", p->sysctl.v[i]);
		for (char *s = path + 10; *s; s++)
			if (*s == '.') *s = '/';
		int fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, p->sysctl.v[i + 1], strlen(p->sysctl.v[i + 1])) < 0)
			child_fail("write sysctl %s: %s", p->sysctl.v[i], go_errstr(errno));
		close(fd);
	}
	for (int i = 0; i < p->masked.n; i++) {
		struct stat st;
		const char *m = p->masked.v[i];
		if (stat(m, &st) < 0) continue;
		int r = S_ISDIR(st.st_mode) ? mount("tmpfs", m, "tmpfs", MS_RDONLY, NULL) : mount("/dev/null", m, NULL, MS_BIND, NULL);
		if (r < 0) child_fail("mask %s: %s", m, go_errstr(errno));
	}
	for (int i = 0; i < p->ropaths.n; i++) {
		const char *m = p->ropaths.v[i];
		struct statvfs sv;
		if (mount(m, m, NULL, MS_BIND | MS_REC, NULL) < 0) {
			if (errno == ENOENT) continue;
			child_fail("make %s read-only: %s", m, go_errstr(errno));
		}
		unsigned long keep = 0;
		if (statvfs(m, &sv) == 0)
			keep = (sv.f_flag & ST_NOSUID ? MS_NOSUID : 0) | (sv.f_flag & ST_NODEV ? MS_NODEV : 0) | (sv.f_flag & ST_NOEXEC ? MS_NOEXEC : 0);
		if (mount(NULL, m, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC | keep, NULL) < 0)
			child_fail("make %s read-only: %s", m, go_errstr(errno));
	}
	if (p->root_ro && mount(NULL, "/", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL) < 0)
		child_fail("make rootfs read-only: %s", go_errstr(errno));
	if (p->root_prop && mount(NULL, "/", NULL, p->root_prop, NULL) < 0) child_fail("rootfs propagation: %s", go_errstr(errno));
	/* only stdio crosses into the container, whatever berthd inherited */
	syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC);
	finalize_and_exec(p);
}

static int write_file(const char *dir, const char *file, const char *val) {
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", dir, file);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0) return -1;
	ssize_t w = write(fd, val, strlen(val));
	int e = errno;
	close(fd);
	errno = e;
	return w < 0 ? -1 : 0;
}

/* remove_cgroup removes a cgroup and, first, the cgroups the container
 * made below it (a writable cgroup mount lets it). Processes of the
 * container's pid namespace die with its init, but can take a moment to
 * leave. */
static void remove_cgroup(const char *d, int depth) {
	DIR *dir = depth < 32 ? opendir(d) : NULL;
	struct dirent *e;
	while (dir && (e = readdir(dir))) {
		if (e->d_type != DT_DIR || !strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
		char sub[4096];
		snprintf(sub, sizeof sub, "%s/%s", d, e->d_name);
		remove_cgroup(sub, depth + 1);
	}
	if (dir) closedir(dir);
	for (int tries = 0; tries < 2000; tries++) {
		if (rmdir(d) == 0 || errno == ENOENT) break;
		if (errno != EBUSY) break;
		char path[4096];
		snprintf(path, sizeof path, "%s/cgroup.procs", d);
		FILE *f = fopen(path, "re");
		int pid;
		while (f && fscanf(f, "%d", &pid) == 1) kill(pid, SIGKILL);
		if (f) fclose(f);
		struct timespec ts = { 0, 500 * 1000 };
		nanosleep(&ts, NULL);
	}
}

void native_cleanup(struct plan *p) {
	for (int i = p->cgdirs.n - 1; i >= 0; i--) remove_cgroup(p->cgdirs.v[i], 0);
}

int native_start(struct plan *p, int in, int out, int err, int *console, pid_t *pidp, char *msg, size_t mlen) {
	read_cap_last();
	trace_mark("cgroups: mkdir and limits");
	for (int i = 0; i < p->cgdirs.n; i++)
		if (mkdir(p->cgdirs.v[i], 0755) < 0 && errno != EEXIST) {
			snprintf(msg, mlen, "unable to apply cgroup configuration: mkdir %s: %s", p->cgdirs.v[i], go_errstr(errno));
			native_cleanup(p);
			return -1;
		}
	for (int i = 0; i < p->ncgw; i++)
		if (write_file(p->cgw[i].dir, p->cgw[i].file, p->cgw[i].val) < 0) {
			snprintf(msg, mlen, "unable to apply cgroup configuration: failed to write \"%s\": write %s/%s: %s",
				 p->cgw[i].val, p->cgw[i].dir, p->cgw[i].file, go_errstr(errno));
			native_cleanup(p);
			return -1;
		}
	/* the monitor's own pid namespace, to return to once the init is
	 * forked: later children (the log's gzip) must not be born in the
	 * container's namespace, where they would be seen and be killed with
	 * its init */
	int own_pidns = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
	for (int i = 0; i < p->nns; i++) {
		if (p->ns[i].type != CLONE_NEWPID) continue;
		int r;
		if (p->ns[i].path) {
			int fd = open(p->ns[i].path, O_RDONLY | O_CLOEXEC);
			r = fd < 0 ? -1 : setns(fd, CLONE_NEWPID);
			if (fd >= 0) close(fd);
		} else {
			r = unshare(CLONE_NEWPID); /* the next child is its init */
		}
		if (r < 0) {
			snprintf(msg, mlen, "pid namespace: %s", go_errstr(errno));
			native_cleanup(p);
			return -1;
		}
	}
	int sv[2];
	trace_mark("fork the container's init");
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		snprintf(msg, mlen, "socketpair: %s", go_errstr(errno));
		native_cleanup(p);
		return -1;
	}
	pid_t pid = fork();
	if (pid < 0) {
		snprintf(msg, mlen, "fork: %s", go_errstr(errno));
		native_cleanup(p);
		return -1;
	}
	if (pid == 0) {
		close(sv[0]);
		sync_fd = sv[1];
		/* see exec_main: nothing in the container may reach our binary */
		prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
		container_child(p, in, out, err);
		_exit(1);
	}
	close(sv[1]);
	if (own_pidns >= 0) {
		(void)setns(own_pidns, CLONE_NEWPID);
		close(own_pidns);
	}
	int ok = 1;
	trace_mark("go sent (the init joins its cgroups)");
	if (send(sv[0], "G", 1, MSG_NOSIGNAL) != 1) {
		snprintf(msg, mlen, "start container process: %s", go_errstr(errno));
		ok = 0;
	}
	while (ok) {
		char buf[4096], cbuf[CMSG_SPACE(sizeof(int))];
		struct iovec iov = { buf, sizeof buf - 1 };
		struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf };
		ssize_t n = recvmsg(sv[0], &m, MSG_CMSG_CLOEXEC);
		if (n < 0 && errno == EINTR) continue;
		if (n == 0) break; /* closed on exec: started */
		if (n < 0) {
			snprintf(msg, mlen, "start container process: %s", go_errstr(errno));
			ok = 0;
		} else if (buf[0] == 'T') {
			struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
			if (cm && cm->cmsg_type == SCM_RIGHTS) memcpy(console, CMSG_DATA(cm), sizeof(int));
		} else {
			buf[n] = 0;
			snprintf(msg, mlen, buf[0] == 'C' ? "%s" : "unable to start container process: %s", buf + 1);
			ok = 0;
		}
	}
	close(sv[0]);
	trace_mark("init exec'd");
	if (!ok) {
		kill(pid, SIGKILL);
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {}
		native_cleanup(p);
		return -1;
	}
	*pidp = pid;
	return 0;
}

/* --- exec: berth-monitor exec --pid PID --plan FILE [--detach] [--console-socket S] [--pid-file F] [--log F] --- */

static int log_fd = -1;

static void exec_log_error(const char *msg) {
	if (log_fd < 0) {
		fprintf(stderr, "berth-monitor exec: %s\n", msg);
		return;
	}
	char esc[16384];
	size_t j = 0;
	for (const char *s = msg; *s && j + 8 < sizeof esc; s++) {
		if (*s == '"' || *s == '\\') esc[j++] = '\\';
		if ((unsigned char)*s < 0x20) { j += (size_t)snprintf(esc + j, sizeof esc - j, "\\u%04x", *s); continue; }
		esc[j++] = *s;
	}
	esc[j] = 0;
	dprintf(log_fd, "{\"level\":\"error\",\"msg\":\"%s\"}\n", esc);
}

static int connect_unix(const char *path) {
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof a.sun_path) { errno = ENAMETOOLONG; return -1; }
	strcpy(a.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) < 0) return -1;
	return fd;
}

int exec_main(int argc, char **argv) {
	static struct option opts[] = { { "pid", 1, 0, 'p' }, { "plan", 1, 0, 'P' }, { "detach", 0, 0, 'd' },
					{ "console-socket", 1, 0, 'c' }, { "pid-file", 1, 0, 'f' }, { "log", 1, 0, 'l' }, { 0, 0, 0, 0 } };
	const char *plan_path = NULL, *console_sock = NULL, *pid_file = NULL;
	int target = 0, detach = 0;
	optind = 1;
	for (int c; (c = getopt_long_only(argc, argv, "", opts, NULL)) != -1;) {
		switch (c) {
		case 'p': target = atoi(optarg); break;
		case 'P': plan_path = optarg; break;
		case 'd': detach = 1; break;
		case 'c': console_sock = optarg; break;
		case 'f': pid_file = optarg; break;
		case 'l': log_fd = open(optarg, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600); break;
		default: return 2;
		}
	}
	char err[4096];
	struct plan p;
	if (target <= 0 || !plan_path) {
		exec_log_error("exec needs --pid and --plan");
		return 2;
	}
	if (plan_load(plan_path, &p, err, sizeof err) < 0) { exec_log_error(err); return 1; }
	read_cap_last();
	int csock = -1, pidfd = -1;
	/* Non-dumpable until execve: a process of the container cannot open
	 * this one's /proc/PID/exe (the host's berth-monitor) while it runs
	 * inside (CVE-2019-5736's vector). execve of the target resets it. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) { exec_log_error("set non-dumpable"); return 1; }
	if (p.terminal && (!console_sock || (csock = connect_unix(console_sock)) < 0)) {
		snprintf(err, sizeof err, "connect console socket: %s", console_sock ? go_errstr(errno) : "none given");
		exec_log_error(err);
		return 1;
	}
	if (pid_file && (pidfd = open(pid_file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0) {
		snprintf(err, sizeof err, "pid file %s: %s", pid_file, go_errstr(errno));
		exec_log_error(err);
		return 1;
	}
	/* join the cgroups, then the namespaces that differ from ours (mnt last) */
	for (int i = 0; i < p.cgdirs.n; i++)
		if (join_cgroup(p.cgdirs.v[i]) < 0) {
			snprintf(err, sizeof err, "join cgroup %s: %s", p.cgdirs.v[i], go_errstr(errno));
			exec_log_error(err);
			return 1;
		}
	static const struct { const char *n; int t; } nss[] = {
		{ "cgroup", CLONE_NEWCGROUP }, { "ipc", CLONE_NEWIPC }, { "uts", CLONE_NEWUTS },
		{ "net", CLONE_NEWNET }, { "pid", CLONE_NEWPID }, { "mnt", CLONE_NEWNS } };
	trace_mark("exec: cgroups joined");
	int nsfd[6];
	for (int i = 0; i < 6; i++) {
		char path[64], own[64];
		struct stat a, b;
		snprintf(path, sizeof path, "/proc/%d/ns/%s", target, nss[i].n);
		snprintf(own, sizeof own, "/proc/self/ns/%s", nss[i].n);
		nsfd[i] = -1;
		if (stat(path, &a) < 0) {
			if (errno == ENOENT && i == 0) continue;
			snprintf(err, sizeof err, "container process %d is gone: %s", target, go_errstr(errno));
			exec_log_error(err);
			return 1;
		}
		if (stat(own, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev) continue;
		if ((nsfd[i] = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
			snprintf(err, sizeof err, "open %s: %s", path, go_errstr(errno));
			exec_log_error(err);
			return 1;
		}
	}
	for (int i = 0; i < 6; i++)
		if (nsfd[i] >= 0 && setns(nsfd[i], nss[i].t) < 0) {
			snprintf(err, sizeof err, "setns %s: %s", nss[i].n, go_errstr(errno));
			exec_log_error(err);
			return 1;
		} else if (nsfd[i] >= 0) {
			close(nsfd[i]);
		}
	trace_mark("exec: namespaces joined");
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) return 1;
	pid_t pid = fork();
	if (pid < 0) {
		snprintf(err, sizeof err, "fork: %s", go_errstr(errno));
		exec_log_error(err);
		return 1;
	}
	if (pid == 0) {
		close(sv[0]);
		sync_fd = sv[1];
		reset_signals();
		if (setsid() < 0) child_fail("setsid: %s", go_errstr(errno));
		if (p.terminal) {
			int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC), unlock = 0;
			if (master < 0 || ioctl(master, TIOCSPTLCK, &unlock) < 0) child_fail("open /dev/ptmx: %s", go_errstr(errno));
			set_size(&p, master);
			int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
			if (slave < 0) child_fail("open terminal peer: %s", go_errstr(errno));
			send_fd(csock, master);
			close(master);
			for (int i = 0; i < 3; i++) dup2(slave, i);
			if (ioctl(0, TIOCSCTTY, 0) < 0) child_fail("set controlling terminal: %s", go_errstr(errno));
			close(slave);
		}
		syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC);
		trace_proc = "container";
		finalize_and_exec(&p);
		_exit(1);
	}
	close(sv[1]);
	if (csock >= 0) close(csock);
	char buf[4096];
	ssize_t n;
	while ((n = recv(sv[0], buf, sizeof buf - 1, 0)) < 0 && errno == EINTR) {}
	close(sv[0]);
	trace_mark("exec: process exec'd");
	if (n > 0 && buf[0] == 'E') {
		buf[n] = 0;
		snprintf(err, sizeof err, "exec failed: unable to start container process: %.3900s", buf + 1);
		exec_log_error(err);
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {}
		return 1;
	}
	if (pidfd >= 0) {
		dprintf(pidfd, "%d", pid);
		close(pidfd);
	}
	if (detach) return 0; /* the caller, a child subreaper, reaps it */
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR) return 255;
	trace_mark("exec: process reaped");
	return WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st);
}
