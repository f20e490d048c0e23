// Package image implements the image commands: images, pull, import, tag, rmi, history, inspect and prune.
package image
