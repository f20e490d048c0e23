// Package metadata keeps berth's records (images, tags, containers) in a bbolt database.
package metadata
