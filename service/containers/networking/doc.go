// Package networking wires a container's network for the containers service: the networks a create names, the namespace, endpoints, hosts and resolv.conf and embedded resolver of each run, connect, disconnect and legacy links.
package networking
