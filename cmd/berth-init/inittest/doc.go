// Package inittest tests berth-init (../init.c), the minimal PID 1 for `run
// --init`: it runs a command, forwards signals to it, reaps zombies and
// exits with the command's status. It is C, built by the Makefile like
// berth-monitor, so it stays one thread inside every --init container.
package inittest
