// Package httputil has the request and response helpers shared by berth's API handlers.
package httputil
