/* trace.h: marks on bench/timeline.sh's timeline (internal/trace's format) */
#ifndef BERTH_TRACE_H
#define BERTH_TRACE_H

/* the process name the next marks carry ("berth-monitor", then
 * "container" in the container's first process) */
extern const char *trace_proc;

/* trace_open opens $BERTH_TRACE, if set, before anything changes root */
void trace_open(void);

/* trace_mark appends "<wall ns> <cpu ns> <pid> <proc> <step>" */
void trace_mark(const char *step);

#endif
