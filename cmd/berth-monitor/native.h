#ifndef BERTH_NATIVE_H
#define BERTH_NATIVE_H

#include "plan.h"

/* native_start makes the container's cgroups and starts its init with
 * stdio in/out/err (or a new terminal, whose master it stores in *console).
 * It returns once the init has exec'd (0) or failed (-1, msg says why,
 * nothing left behind). */
int native_start(struct plan *p, int in, int out, int err, int *console, pid_t *pid, char *msg, size_t mlen);

/* native_cleanup removes the container's cgroups, killing what remains in them. */
void native_cleanup(struct plan *p);

/* exec_main runs a process in a running container (berth-monitor exec …). */
int exec_main(int argc, char **argv);


/* PF_RRO in a mount's propagation flags: make it and every mount below it
 * read-only (runtime/native's pfRecursiveRO). */
#define PF_RRO (1UL << 40)

#endif
