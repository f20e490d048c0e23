/*
 * berth-seccomp turns a policy (runtime/native's text form of the OCI
 * spec's linux.seccomp) into a classic BPF program with libseccomp, the
 * library runc uses, so the filter is the one runc would load. berthd runs
 * it once per distinct policy and caches the result by hash; starting a
 * container then only loads bytes (runc recompiles Docker's profile on
 * every start, ~40 ms here). It is a program of its own so that the
 * monitor, one per container, links neither libseccomp nor glibc.
 *
 * Policy lines:
 *   default <action> <errno>
 *   arch <SCMP_ARCH_…>
 *   syscall <name> <action> <errno> [<index> <op> <value> <value2>]…
 * A syscall libseccomp does not know is skipped, as runc does.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int action(const char *name, unsigned errno_ret, uint32_t *out) {
	if (!strcmp(name, "SCMP_ACT_ALLOW")) *out = SCMP_ACT_ALLOW;
	else if (!strcmp(name, "SCMP_ACT_ERRNO")) *out = SCMP_ACT_ERRNO(errno_ret);
	else if (!strcmp(name, "SCMP_ACT_KILL") || !strcmp(name, "SCMP_ACT_KILL_THREAD")) *out = SCMP_ACT_KILL;
	else if (!strcmp(name, "SCMP_ACT_KILL_PROCESS")) *out = SCMP_ACT_KILL_PROCESS;
	else if (!strcmp(name, "SCMP_ACT_TRAP")) *out = SCMP_ACT_TRAP;
	else if (!strcmp(name, "SCMP_ACT_TRACE")) *out = SCMP_ACT_TRACE(errno_ret);
	else if (!strcmp(name, "SCMP_ACT_LOG")) *out = SCMP_ACT_LOG;
	else return -1;
	return 0;
}

static int op(const char *name, enum scmp_compare *out) {
	static const struct { const char *n; enum scmp_compare c; } m[] = {
		{ "SCMP_CMP_NE", SCMP_CMP_NE }, { "SCMP_CMP_LT", SCMP_CMP_LT }, { "SCMP_CMP_LE", SCMP_CMP_LE },
		{ "SCMP_CMP_EQ", SCMP_CMP_EQ }, { "SCMP_CMP_GE", SCMP_CMP_GE }, { "SCMP_CMP_GT", SCMP_CMP_GT },
		{ "SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ }, { NULL, 0 } };
	for (int i = 0; m[i].n; i++)
		if (!strcmp(name, m[i].n)) { *out = m[i].c; return 0; }
	return -1;
}

/* berth-seccomp POLICY OUT */
int main(int argc, char **argv) {
	if (argc != 3) {
		fputs("usage: berth-seccomp POLICY OUT\n", stderr);
		return 2;
	}
	FILE *f = fopen(argv[1], "re");
	if (!f) { fprintf(stderr, "berth-seccomp: %s: %s\n", argv[1], strerror(errno)); return 1; }
	scmp_filter_ctx ctx = NULL;
	char line[4096];
	int lineno = 0;
	while (fgets(line, sizeof line, f)) {
		lineno++;
		char *tok[64];
		int nt = 0;
		for (char *s = strtok(line, " \t\n"); s && nt < 64; s = strtok(NULL, " \t\n")) tok[nt++] = s;
		if (nt == 0) continue;
		uint32_t act;
		if (!strcmp(tok[0], "default") && nt == 3 && !ctx) {
			if (action(tok[1], (unsigned)atoi(tok[2]), &act) < 0) goto bad;
			if (!(ctx = seccomp_init(act))) goto bad;
			/* the caller decides about no_new_privs, as with runc */
			seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
			seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
		} else if (!strcmp(tok[0], "arch") && nt == 2 && ctx) {
			char *an = strncmp(tok[1], "SCMP_ARCH_", 10) ? tok[1] : tok[1] + 10;
			for (char *c = an; *c; c++)
				if (*c >= 'A' && *c <= 'Z') *c = (char)(*c - 'A' + 'a');
			uint32_t a = seccomp_arch_resolve_name(an);
			if (!a) goto bad;
			int r = seccomp_arch_add(ctx, a);
			if (r < 0 && r != -EEXIST) goto bad;
		} else if (!strcmp(tok[0], "syscall") && nt >= 4 && (nt - 4) % 4 == 0 && ctx) {
			if (action(tok[2], (unsigned)atoi(tok[3]), &act) < 0) goto bad;
			int nr = seccomp_syscall_resolve_name(tok[1]);
			if (nr == __NR_SCMP_ERROR) continue;
			int nargs = (nt - 4) / 4;
			struct scmp_arg_cmp cmp[16];
			int seen[6] = { 0 }, repeated = 0;
			if (nargs > 16) goto bad;
			for (int i = 0; i < nargs; i++) {
				char **t = tok + 4 + 4 * i;
				enum scmp_compare c;
				unsigned idx = (unsigned)atoi(t[0]);
				if (idx > 5 || op(t[1], &c) < 0) goto bad;
				if (seen[idx]++) repeated = 1;
				cmp[i] = (struct scmp_arg_cmp){ idx, c, strtoull(t[2], NULL, 10), strtoull(t[3], NULL, 10) };
			}
			int r = 0;
			if (repeated) {
				/* libseccomp cannot AND two conditions on one argument:
				 * each becomes its own rule, as in runc */
				for (int i = 0; i < nargs && r == 0; i++) r = seccomp_rule_add_array(ctx, act, nr, 1, &cmp[i]);
			} else {
				r = seccomp_rule_add_array(ctx, act, nr, (unsigned)nargs, cmp);
			}
			/* an action equal to the default is refused by libseccomp; runc ignores it too */
			if (r < 0 && r != -EACCES && r != -EEXIST) {
				fprintf(stderr, "berth-seccomp: seccomp rule for %s: %s\n", tok[1], strerror(-r));
				return 1;
			}
		} else {
			goto bad;
		}
		continue;
	bad:
		fprintf(stderr, "berth-seccomp: %s:%d: bad policy line\n", argv[1], lineno);
		return 1;
	}
	fclose(f);
	if (!ctx) { fprintf(stderr, "berth-seccomp: %s: no default action\n", argv[1]); return 1; }
	char tmp[4096];
	snprintf(tmp, sizeof tmp, "%s.%d.tmp", argv[2], getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) { fprintf(stderr, "berth-seccomp: %s: %s\n", tmp, strerror(errno)); return 1; }
	int r = seccomp_export_bpf(ctx, fd);
	if (r < 0 || fsync(fd) < 0 || close(fd) < 0 || rename(tmp, argv[2]) < 0) {
		fprintf(stderr, "berth-seccomp: export seccomp filter: %s\n", strerror(r < 0 ? -r : errno));
		unlink(tmp);
		return 1;
	}
	seccomp_release(ctx);
	return 0;
}
