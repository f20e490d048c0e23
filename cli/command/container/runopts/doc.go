// Package runopts holds the flags run and create share and reads them into a create request, as docker's opts.parse does.
package runopts
