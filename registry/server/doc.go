// Package server is an OCI Distribution registry (the API docker push and
// pull speak) storing content on the local filesystem.
package server
