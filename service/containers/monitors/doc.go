// Package monitors is the daemon's end of containers' berth-monitor processes: it spawns one for a run, reads its frames until the container starts, pumps the container's output to the attached clients until the exit, dials a monitor again after a daemon restart and forwards a client's stdin.
package monitors
