// Package images serves the /images endpoints of the Engine API.
package images
