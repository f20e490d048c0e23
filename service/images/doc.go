// Package images manages local images: import, references, inspection, history, tagging and removal.
package images
