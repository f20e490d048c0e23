package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

func pluralize(word string, n int) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

func argsError(cmd *cobra.Command, what, verb string) error {
	return fmt.Errorf("%s: '%s' %s\n\nUsage:  %s\n\n%s '%s --help' for more information",
		ProgramName(), cmd.CommandPath(), what, cmd.UseLine(), verb, cmd.CommandPath())
}

// NoArgs rejects any positional argument.
func NoArgs(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	if cmd.HasSubCommands() {
		return fmt.Errorf("%s: unknown command: %s %s\n\nUsage:  %s\n\nRun '%s --help' for more information",
			ProgramName(), cmd.CommandPath(), args[0], cmd.UseLine(), cmd.CommandPath())
	}
	return argsError(cmd, "accepts no arguments", "Run")
}

// RequiresMinArgs requires at least min positional arguments.
func RequiresMinArgs(min int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) >= min {
			return nil
		}
		return argsError(cmd, fmt.Sprintf("requires at least %d %s", min, pluralize("argument", min)), "See")
	}
}

// RequiresMaxArgs allows at most max positional arguments.
func RequiresMaxArgs(max int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) <= max {
			return nil
		}
		return argsError(cmd, fmt.Sprintf("requires at most %d %s", max, pluralize("argument", max)), "Run")
	}
}

// RequiresRangeArgs requires between min and max positional arguments.
func RequiresRangeArgs(min, max int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) >= min && len(args) <= max {
			return nil
		}
		return argsError(cmd, fmt.Sprintf("requires at least %d and at most %d %s", min, max, pluralize("argument", max)), "Run")
	}
}

// ExactArgs requires exactly n positional arguments.
func ExactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) == n {
			return nil
		}
		return argsError(cmd, fmt.Sprintf("requires %d %s", n, pluralize("argument", n)), "Run")
	}
}
