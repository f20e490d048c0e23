package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/term"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Constructor builds one command (with its subcommands).
type Constructor func(*Cli) *cobra.Command

// AddFunc registers the subcommands on root: the one called name, or all
// of them when name is "" (see CommandName).
type AddFunc func(root *cobra.Command, c *Cli, name string)

// NewRootCommand builds the root command; add registers the subcommands
// args can reach.
func NewRootCommand(c *Cli, add AddFunc, args []string) *cobra.Command {
	var showVersion bool
	name := ProgramName()
	root := &cobra.Command{
		Use:              name + " [OPTIONS] COMMAND [ARG...]",
		Short:            "A self-sufficient runtime for containers",
		SilenceUsage:     true,
		SilenceErrors:    true,
		TraverseChildren: true,
		Args:             NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if showVersion {
				fmt.Fprintf(c.Out(), "%s version %s\n", name, Version)
				return nil
			}
			return cmd.Help()
		},
		CompletionOptions: cobra.CompletionOptions{DisableDefaultCmd: true},
	}
	root.SetIn(c.In())
	root.SetOut(c.Out())
	root.SetErr(c.Err())
	fl := root.Flags()
	fl.StringVarP(&c.Host, "host", "H", "", "Daemon socket to connect to")
	fl.BoolP("debug", "D", false, "Enable debug mode")
	fl.StringP("log-level", "l", "info", `Set the logging level ("debug", "info", "warn", "error", "fatal")`)
	fl.String("config", "", "Location of client config files")
	fl.StringP("context", "c", "", "Name of the context to use to connect to the daemon (overrides DOCKER_HOST env var and default context set with \"docker context use\")")
	_ = fl.MarkHidden("config")
	_ = fl.MarkHidden("context")
	fl.BoolVarP(&showVersion, "version", "v", false, "Print version information and quit")
	add(root, c, CommandName(args))
	setupUsage(root)
	return root
}

// Run executes the command line and returns the process exit status.
func Run(c *Cli, add AddFunc, args []string) int {
	defer c.Close()
	err := execute(c, add, args)
	if c.RunsAgain(err) {
		c.Close()
		c.negotiate = true
		err = execute(c, add, args)
	}
	if err == nil {
		return 0
	}
	var st StatusError
	if errors.As(err, &st) {
		if st.Status != "" {
			fmt.Fprintln(c.Err(), st.Status)
		}
		if st.StatusCode == 0 {
			return 1
		}
		return st.StatusCode
	}
	if cerrdefs.IsCanceled(err) {
		return 0
	}
	msg := normalize(err).Error()
	if strings.HasPrefix(msg, "unknown command") || strings.HasPrefix(msg, "unknown flag") || strings.HasPrefix(msg, "unknown shorthand") {
		fmt.Fprintln(c.Err(), msg)
		return 125
	}
	fmt.Fprintln(c.Err(), msg)
	return 1
}

func execute(c *Cli, add AddFunc, args []string) error {
	root := NewRootCommand(c, add, args)
	root.SetArgs(args)
	return root.ExecuteContext(context.Background())
}

// CommandName is the top-level command args name after the global flags,
// or "" when they name none or ask for help or the version (every command
// is then registered: help lists them, an unknown one gets suggestions).
func CommandName(args []string) string {
	for i := 0; i < len(args); i++ {
		switch a := args[i]; {
		case a == "-H" || a == "--host" || a == "-l" || a == "--log-level" || a == "--config" || a == "-c" || a == "--context":
			i++ // the flag's value
		case a == "-h" || a == "--help" || a == "-v" || a == "--version" || a == "help" || a == "--":
			return ""
		case strings.HasPrefix(a, "-"):
		default:
			return a
		}
	}
	return ""
}

func setupUsage(root *cobra.Command) {
	cobra.AddTemplateFunc("wrappedFlagUsages", wrappedFlagUsages)
	cobra.AddTemplateFunc("commandAliases", commandAliases)
	cobra.AddTemplateFunc("subCommands", subCommands)
	var walk func(*cobra.Command)
	walk = func(cmd *cobra.Command) {
		cmd.SetFlagErrorFunc(FlagErrorFunc)
		cmd.SetUsageTemplate(usageTemplate)
		cmd.SetHelpTemplate(helpTemplate)
		cmd.DisableFlagsInUseLine = true
		if cmd.HasSubCommands() && cmd.RunE == nil && cmd.Run == nil {
			cmd.Args = NoArgs
			cmd.RunE = func(cmd *cobra.Command, args []string) error {
				_ = cmd.Help()
				return nil
			}
		}
		helpFlag(cmd)
		for _, sub := range cmd.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

func helpFlag(cmd *cobra.Command) {
	if cmd.Flags().Lookup("help") == nil {
		cmd.Flags().Bool("help", false, "Print usage")
	}
}

func wrappedFlagUsages(cmd *cobra.Command) string {
	width := 80
	if ws, err := term.GetWinsize(os.Stdout.Fd()); err == nil && ws.Width > 0 {
		width = int(ws.Width)
	}
	return cmd.LocalFlags().FlagUsagesWrapped(width - 1)
}

func commandAliases(cmd *cobra.Command) string {
	if a, ok := cmd.Annotations["aliases"]; ok {
		return a
	}
	var parts []string
	parent := ""
	if cmd.HasParent() {
		parent = cmd.Parent().CommandPath() + " "
	}
	parts = append(parts, parent+cmd.Name())
	for _, a := range cmd.Aliases {
		parts = append(parts, parent+a)
	}
	return strings.Join(parts, ", ")
}

func subCommands(cmd *cobra.Command) []*cobra.Command {
	var out []*cobra.Command
	for _, sub := range cmd.Commands() {
		if sub.IsAvailableCommand() && sub.Name() != "help" {
			out = append(out, sub)
		}
	}
	return out
}

// HasAliases reports whether usage should print an Aliases section.
func hasAliases(cmd *cobra.Command) bool {
	_, ok := cmd.Annotations["aliases"]
	return ok || len(cmd.Aliases) > 0
}

func init() {
	cobra.AddTemplateFunc("hasAliases", hasAliases)
	cobra.EnableCommandSorting = true
	_ = pflag.CommandLine
}

const helpTemplate = `{{if or .Runnable .HasSubCommands}}{{.UsageString}}{{end}}`

const usageTemplate = `Usage:
{{- if not .HasSubCommands}}  {{.UseLine}}{{end}}
{{- if .HasSubCommands}}  {{ .CommandPath}}{{- if .HasAvailableFlags}} [OPTIONS]{{end}} COMMAND{{end}}

{{if ne .Long ""}}{{ .Long | trim }}{{ else }}{{ .Short | trim }}{{end}}
{{- if hasAliases .}}

Aliases:
  {{commandAliases .}}
{{- end}}
{{- if .HasExample}}

Examples:
{{ .Example }}
{{- end}}
{{- if subCommands . }}

Commands:
{{- range subCommands . }}
  {{rpad .Name 11 }} {{.Short}}
{{- end}}
{{- end}}
{{- if .HasAvailableLocalFlags}}

{{if .HasParent}}Options{{else}}Global Options{{end}}:
{{ wrappedFlagUsages . | trimRightSpace}}
{{- end}}
{{- if .HasSubCommands }}

Run '{{.CommandPath}} COMMAND --help' for more information on a command.
{{- end}}
`
