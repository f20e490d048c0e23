// Package httperr maps error classes to HTTP statuses and writes Docker's error body.
package httperr
