/*
 * A plan is what berthd's runtime/native package derives from an OCI
 * runtime spec: the spec already lowered to syscalls (mount flags, device
 * numbers, capability masks, cgroup files, a compiled seccomp filter), so the
 * monitor needs no JSON parser and does no policy of its own.
 *
 * Encoding: records of 1 byte tag, 4 bytes little-endian length, payload;
 * fields inside a payload are separated by NUL bytes. The tags are
 * runtime/native's (plan.go); keep both in step.
 */
#ifndef BERTH_PLAN_H
#define BERTH_PLAN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum {
	P_ARG = 1, P_ENV = 2, P_CWD = 3, P_USER = 4, P_HOSTNAME = 5, P_ROOTFS = 6, P_ROOT_RO = 7,
	P_NS = 8, P_MOUNT = 9, P_DEVICE = 10, P_SYMLINK = 11, P_MASK = 12, P_ROPATH = 13, P_SYSCTL = 14,
	P_RLIMIT = 15, P_CAPS = 16, P_NNP = 17, P_OOM = 18, P_SECCOMP = 19, P_CGROUP = 20, P_CGWRITE = 21,
	P_TERMINAL = 22, P_ROOTPROP = 23,
};

enum { MK_NORMAL = 0, MK_BIND = 1, MK_REMOUNT = 2 };

struct strv {
	char **v;
	int n;
};

struct pmount {
	char *src, *dst, *type, *data;
	unsigned long flags, pflags;
	int kind;
};

struct pdev {
	char *path;
	char type;
	unsigned major, minor;
	mode_t mode;
	uid_t uid;
	gid_t gid;
};

struct pns {
	int type; /* CLONE_NEW* */
	char *path; /* join this one; NULL: a new namespace */
};

struct prlimit {
	int res;
	uint64_t soft, hard;
};

struct pcgw {
	char *dir, *file, *val;
};

struct plan {
	struct strv argv, env, masked, ropaths, sysctl, links, cgdirs;
	char *cwd, *hostname, *rootfs;
	uid_t uid;
	gid_t gid;
	gid_t *groups;
	int ngroups, has_user;
	int root_ro, terminal, nnp, has_oom, oom;
	unsigned short term_rows, term_cols; /* the terminal's first size; 0: none given */
	unsigned long root_prop;
	struct pns ns[8];
	int nns;
	struct pmount *mounts;
	int nmounts;
	struct pdev *devs;
	int ndevs;
	struct prlimit rl[32];
	int nrl;
	uint64_t cap_b, cap_e, cap_p, cap_i, cap_a;
	int has_caps;
	void *bpf; /* the seccomp filter, read from its cache file at load */
	size_t bpf_len;
	struct pcgw *cgw;
	int ncgw;
};

/* plan_load reads and decodes path; on error it fills err and returns -1. */
int plan_load(const char *path, struct plan *p, char *err, size_t errlen);

#endif
