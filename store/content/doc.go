// Package content stores blobs addressed by their sha256 digest.
package content
