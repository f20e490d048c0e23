// Package depcheck holds the test that keeps berth's one-way import rules true.
package depcheck
