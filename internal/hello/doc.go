// Package hello generates berth's built-in hello-world program.
package hello
