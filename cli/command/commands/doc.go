// Package commands registers every berth command on the root command.
package commands
