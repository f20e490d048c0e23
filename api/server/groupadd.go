package server

import (
	"fmt"
	"os/exec"
)

func runGroupadd(name string) error {
	if out, err := exec.Command("groupadd", "--system", name).CombinedOutput(); err != nil {
		return fmt.Errorf("groupadd %s: %s: %w", name, out, err)
	}
	return nil
}
