// Package containers serves the /containers and /exec endpoints of the Engine API.
package containers
