package system

import (
	"fmt"
	"runtime"
	"text/tabwriter"

	"github.com/berth-project/berth/cli"
	"github.com/berth-project/berth/cli/format"
	"github.com/moby/moby/client"
	"github.com/spf13/cobra"
)

// versionInfo is what the version template sees.
type versionInfo struct {
	Client clientVersion
	Server *client.ServerVersionResult
}

type clientVersion struct {
	Version    string
	APIVersion string `json:"ApiVersion"`
	GoVersion  string
	Os         string
	Arch       string
}

const versionTemplate = `Client:
 Version:	{{.Client.Version}}
 API version:	{{.Client.APIVersion}}
 Go version:	{{.Client.GoVersion}}
 OS/Arch:	{{.Client.Os}}/{{.Client.Arch}}
{{- if .Server}}

Server:{{if ne .Server.Platform.Name ""}} {{.Server.Platform.Name}}{{end}}
 Engine:
  Version:	{{.Server.Version}}
  API version:	{{.Server.APIVersion}} (minimum version {{.Server.MinAPIVersion}})
  OS/Arch:	{{.Server.Os}}/{{.Server.Arch}}
  Experimental:	{{.Server.Experimental}}
{{- range .Server.Components}}{{if ne .Name "Engine"}}
 {{.Name}}:
  Version:	{{.Version}}
{{- end}}{{end}}
{{- end}}
`

func newVersionCommand(c *cli.Cli) *cobra.Command {
	var tmpl string
	cmd := &cobra.Command{
		Use:   "version [OPTIONS]",
		Short: "Show the Docker version information",
		Args:  cli.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			api, err := c.Client()
			if err != nil {
				return err
			}
			info := versionInfo{Client: clientVersion{
				Version: cli.Version, GoVersion: runtime.Version(), Os: runtime.GOOS, Arch: runtime.GOARCH,
			}}
			sv, serr := api.ServerVersion(cmd.Context(), client.ServerVersionOptions{})
			if c.RunsAgain(serr) {
				return serr // with the version negotiated: print nothing yet
			}
			if serr == nil {
				info.Server = &sv
			}
			info.Client.APIVersion = api.ClientVersion()
			text := tmpl
			if text == "" {
				text = versionTemplate
			} else if text == "json" {
				text = "{{json .}}"
			}
			t, err := format.Parse(text)
			if err != nil {
				return cli.StatusError{Status: "template parsing error: " + err.Error(), StatusCode: 64}
			}
			w := tabwriter.NewWriter(c.Out(), 20, 1, 1, ' ', 0)
			if err := t.Execute(w, info); err != nil {
				return err
			}
			if tmpl != "" {
				fmt.Fprintln(w)
			}
			_ = w.Flush()
			return serr
		},
	}
	cmd.Flags().StringVarP(&tmpl, "format", "f", "", cli.InspectFormatHelp)
	return cmd
}
