// Package archive writes and reads image archives: `docker save` and `docker load`, the docker-archive layout and the OCI image layout.
package archive
