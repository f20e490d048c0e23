// Command berth-init is the minimal PID 1 for `run --init`: it runs a command, forwards signals to it, reaps zombies and exits with the command's status.
package main
