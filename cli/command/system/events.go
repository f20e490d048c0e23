package system

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/berth-project/berth/cli"
	"github.com/berth-project/berth/cli/format"
	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/client"
	"github.com/spf13/cobra"
)

const rfc3339NanoFixed = "2006-01-02T15:04:05.000000000Z07:00"

func newEventsCommand(c *cli.Cli) *cobra.Command {
	var since, until, tmpl string
	filter := cli.NewFilterOpt()
	cmd := &cobra.Command{
		Use:         "events [OPTIONS]",
		Short:       "Get real time events from the server",
		Args:        cli.NoArgs,
		Annotations: cli.Aliases("system events", "events"),
		RunE: func(cmd *cobra.Command, args []string) error {
			text := tmpl
			if text == "json" {
				text = "{{json .}}"
			}
			t, err := format.Parse(text)
			if err != nil {
				return cli.StatusError{Status: "template parsing error: " + err.Error(), StatusCode: 64}
			}
			api, err := c.Client()
			if err != nil {
				return err
			}
			res := api.Events(cmd.Context(), client.EventsListOptions{Since: since, Until: until, Filters: filter.Value()})
			for {
				select {
				case ev := <-res.Messages:
					if text == "" {
						PrintEvent(c.Out(), ev)
						continue
					}
					if err := t.Execute(c.Out(), ev); err != nil {
						return err
					}
					fmt.Fprintln(c.Out())
				case err := <-res.Err:
					if err == nil || errors.Is(err, io.EOF) {
						return nil
					}
					return err
				}
			}
		},
	}
	fl := cmd.Flags()
	fl.VarP(filter, "filter", "f", "Filter output based on conditions provided")
	fl.StringVar(&tmpl, "format", "", cli.InspectFormatHelp)
	fl.StringVar(&since, "since", "", "Show all events created since timestamp")
	fl.StringVar(&until, "until", "", "Stream events until this timestamp")
	return cmd
}

// PrintEvent writes one event the way docker events does by default.
func PrintEvent(out io.Writer, ev events.Message) {
	if ev.TimeNano != 0 {
		fmt.Fprintf(out, "%s ", time.Unix(0, ev.TimeNano).Format(rfc3339NanoFixed))
	} else if ev.Time != 0 {
		fmt.Fprintf(out, "%s ", time.Unix(ev.Time, 0).Format(rfc3339NanoFixed))
	}
	fmt.Fprintf(out, "%s %s %s", ev.Type, ev.Action, ev.Actor.ID)
	if len(ev.Actor.Attributes) > 0 {
		keys := make([]string, 0, len(ev.Actor.Attributes))
		for k := range ev.Actor.Attributes {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		attrs := make([]string, 0, len(keys))
		for _, k := range keys {
			attrs = append(attrs, k+"="+ev.Actor.Attributes[k])
		}
		fmt.Fprintf(out, " (%s)", strings.Join(attrs, ", "))
	}
	fmt.Fprint(out, "\n")
}
