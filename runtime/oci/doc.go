// Package oci builds OCI runtime specs from Docker container configs with Docker's defaults.
package oci
