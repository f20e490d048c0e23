#define _GNU_SOURCE
#include "plan.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int read_file(const char *path, char **out, size_t *len) {
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) return -1;
	struct stat st;
	if (fstat(fd, &st) < 0) { close(fd); return -1; }
	char *b = malloc((size_t)st.st_size + 1);
	size_t got = 0;
	while (b && got < (size_t)st.st_size) {
		ssize_t r = read(fd, b + got, (size_t)st.st_size - got);
		if (r < 0 && errno == EINTR) continue;
		if (r <= 0) break;
		got += (size_t)r;
	}
	close(fd);
	if (!b || got != (size_t)st.st_size) { free(b); errno = EIO; return -1; }
	b[got] = 0;
	*out = b;
	*len = got;
	return 0;
}

static void push(struct strv *s, char *v) {
	s->v = realloc(s->v, sizeof(char *) * (size_t)(s->n + 2));
	s->v[s->n++] = v;
	s->v[s->n] = NULL;
}

/* fields splits a NUL-separated payload into at most max fields. */
static int fields(char *p, size_t n, char **f, int max) {
	int k = 0;
	size_t i = 0;
	while (k < max && i <= n) {
		f[k++] = p + i;
		i += strlen(p + i) + 1;
		if (i > n) break;
	}
	return k;
}

static int ns_type(const char *s) {
	static const struct { const char *n; int t; } m[] = {
		{ "mnt", CLONE_NEWNS }, { "pid", CLONE_NEWPID }, { "net", CLONE_NEWNET }, { "uts", CLONE_NEWUTS },
		{ "ipc", CLONE_NEWIPC }, { "cgroup", CLONE_NEWCGROUP }, { NULL, 0 } };
	for (int i = 0; m[i].n; i++)
		if (!strcmp(s, m[i].n)) return m[i].t;
	return 0;
}

int plan_load(const char *path, struct plan *p, char *err, size_t errlen) {
	char *buf;
	size_t len;
	memset(p, 0, sizeof *p);
	p->cwd = "/";
	if (read_file(path, &buf, &len) < 0) {
		snprintf(err, errlen, "read plan %s: %s", path, strerror(errno));
		return -1;
	}
	size_t off = 0;
	while (off + 5 <= len) {
		int tag = (unsigned char)buf[off];
		uint32_t n = (uint32_t)(unsigned char)buf[off + 1] | (uint32_t)(unsigned char)buf[off + 2] << 8 |
			     (uint32_t)(unsigned char)buf[off + 3] << 16 | (uint32_t)(unsigned char)buf[off + 4] << 24;
		off += 5;
		if (n > len - off) break;
		/* own copy, NUL-terminated, so fields can point into it */
		char *v = malloc(n + 1);
		memcpy(v, buf + off, n);
		v[n] = 0;
		off += n;
		char *f[16];
		int nf;
		switch (tag) {
		case P_ARG: push(&p->argv, v); break;
		case P_ENV: push(&p->env, v); break;
		case P_CWD: p->cwd = v; break;
		case P_HOSTNAME: p->hostname = v; break;
		case P_ROOTFS: p->rootfs = v; break;
		case P_ROOT_RO: p->root_ro = 1; break;
		case P_TERMINAL:
			p->terminal = 1;
			if (fields(v, n, f, 2) == 2) {
				p->term_rows = (unsigned short)strtoul(f[0], NULL, 10);
				p->term_cols = (unsigned short)strtoul(f[1], NULL, 10);
			}
			break;
		case P_NNP: p->nnp = 1; break;
		case P_OOM: p->has_oom = 1; p->oom = atoi(v); break;
		case P_ROOTPROP: p->root_prop = strtoul(v, NULL, 10); break;
		case P_MASK: push(&p->masked, v); break;
		case P_ROPATH: push(&p->ropaths, v); break;
		case P_CGROUP: push(&p->cgdirs, v); break;
		case P_SYSCTL:
		case P_SYMLINK: {
			nf = fields(v, n, f, 2);
			if (nf != 2) goto bad;
			struct strv *s = tag == P_SYSCTL ? &p->sysctl : &p->links;
			push(s, f[0]);
			push(s, f[1]);
			break;
		}
		case P_USER:
			nf = fields(v, n, f, 16);
			if (nf < 2) goto bad;
			p->has_user = 1;
			p->uid = (uid_t)strtoul(f[0], NULL, 10);
			p->gid = (gid_t)strtoul(f[1], NULL, 10);
			p->ngroups = 0;
			p->groups = malloc(sizeof(gid_t) * 16);
			for (int i = 2; i < nf; i++)
				if (*f[i]) p->groups[p->ngroups++] = (gid_t)strtoul(f[i], NULL, 10);
			break;
		case P_NS:
			nf = fields(v, n, f, 2);
			if (nf < 1 || p->nns == 8 || !ns_type(f[0])) goto bad;
			p->ns[p->nns].type = ns_type(f[0]);
			p->ns[p->nns].path = nf == 2 && *f[1] ? f[1] : NULL;
			p->nns++;
			break;
		case P_MOUNT: {
			nf = fields(v, n, f, 7);
			if (nf != 7) goto bad;
			p->mounts = realloc(p->mounts, sizeof *p->mounts * (size_t)(p->nmounts + 1));
			struct pmount *m = &p->mounts[p->nmounts++];
			m->src = f[0], m->dst = f[1], m->type = f[2];
			m->flags = strtoul(f[3], NULL, 10), m->pflags = strtoul(f[4], NULL, 10);
			m->data = f[5];
			m->kind = atoi(f[6]);
			break;
		}
		case P_DEVICE: {
			nf = fields(v, n, f, 7);
			if (nf != 7) goto bad;
			p->devs = realloc(p->devs, sizeof *p->devs * (size_t)(p->ndevs + 1));
			struct pdev *d = &p->devs[p->ndevs++];
			d->path = f[0], d->type = f[1][0];
			d->major = (unsigned)strtoul(f[2], NULL, 10), d->minor = (unsigned)strtoul(f[3], NULL, 10);
			d->mode = (mode_t)strtoul(f[4], NULL, 10);
			d->uid = (uid_t)strtoul(f[5], NULL, 10), d->gid = (gid_t)strtoul(f[6], NULL, 10);
			break;
		}
		case P_RLIMIT:
			nf = fields(v, n, f, 3);
			if (nf != 3 || p->nrl == 32) goto bad;
			p->rl[p->nrl].res = atoi(f[0]);
			p->rl[p->nrl].soft = strtoull(f[1], NULL, 10);
			p->rl[p->nrl].hard = strtoull(f[2], NULL, 10);
			p->nrl++;
			break;
		case P_CAPS:
			nf = fields(v, n, f, 5);
			if (nf != 5) goto bad;
			p->has_caps = 1;
			p->cap_b = strtoull(f[0], NULL, 10), p->cap_e = strtoull(f[1], NULL, 10);
			p->cap_p = strtoull(f[2], NULL, 10), p->cap_i = strtoull(f[3], NULL, 10);
			p->cap_a = strtoull(f[4], NULL, 10);
			break;
		case P_SECCOMP: {
			char *b;
			size_t bl;
			if (read_file(v, &b, &bl) < 0 || bl == 0 || bl % 8) {
				snprintf(err, errlen, "read seccomp filter %s: %s", v, bl % 8 ? "bad size" : strerror(errno));
				free(buf);
				return -1;
			}
			p->bpf = b, p->bpf_len = bl;
			break;
		}
		case P_CGWRITE:
			nf = fields(v, n, f, 3);
			if (nf != 3) goto bad;
			p->cgw = realloc(p->cgw, sizeof *p->cgw * (size_t)(p->ncgw + 1));
			p->cgw[p->ncgw].dir = f[0], p->cgw[p->ncgw].file = f[1], p->cgw[p->ncgw].val = f[2];
			p->ncgw++;
			break;
		default:
		bad:
			snprintf(err, errlen, "plan %s: bad record (tag %d)", path, tag);
			free(buf);
			return -1;
		}
	}
	free(buf);
	if (off != len) {
		snprintf(err, errlen, "plan %s: truncated", path);
		return -1;
	}
	if (p->argv.n == 0) {
		snprintf(err, errlen, "plan %s: no process args", path);
		return -1;
	}
	return 0;
}
