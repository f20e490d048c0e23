// Package view builds what ps and inspect show of a container from a copy of its record: the list filters, Docker's status line, the summary and the inspect document.
package view
