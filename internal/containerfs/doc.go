// Package containerfs runs file operations inside a container's filesystem
// (its rootfs with its volumes bound in), on a thread whose root is that
// rootfs, and implements docker cp's stat, archive and extract there.
package containerfs
