// Package overlay unpacks image layers once each and stacks them with overlayfs.
package overlay
