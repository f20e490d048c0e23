// Package system implements version, info, events and the generic inspect command.
package system
