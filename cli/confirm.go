package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/berth-project/berth/cli/format"
)

// Confirm asks a yes/no question on out and reads the answer from in.
func Confirm(in io.Reader, out io.Writer, message string) bool {
	fmt.Fprintf(out, "%s\nAre you sure you want to continue? [y/N] ", message)
	answer, _ := bufio.NewReader(in).ReadString('\n')
	answer = strings.ToLower(strings.TrimSpace(answer))
	return answer == "y" || answer == "yes"
}

// InspectStatus converts an inspect failure into exit status 1 with its messages.
func InspectStatus(err error) error {
	var ie *format.InspectError
	if errors.As(err, &ie) {
		return StatusError{Status: ie.Error(), StatusCode: 1}
	}
	return err
}
