package container

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/berth-project/berth/cli"
	"github.com/berth-project/berth/cli/command/container/runopts"
	cerrdefs "github.com/containerd/errdefs"
	"github.com/containerd/platforms"
	"github.com/distribution/reference"
	"github.com/moby/moby/client"
	"github.com/moby/moby/client/pkg/jsonmessage"
	"github.com/moby/term"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/spf13/cobra"
)

func newCreateCommand(c *cli.Cli) *cobra.Command {
	o := &runopts.Options{}
	cmd := &cobra.Command{
		Use:   "create [OPTIONS] IMAGE [COMMAND] [ARG...]",
		Short: "Create a new container",
		Args:  cli.RequiresMinArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := o.Parse(cmd.Flags(), args)
			if err != nil {
				return cli.StatusError{Status: cli.WithHelp(err, "create").Error(), StatusCode: 125}
			}
			if cfg.Config.Tty {
				if fd, ok := c.OutFd(); ok {
					h, w := ttySize(fd)
					cfg.HostConfig.ConsoleSize = [2]uint{h, w}
				}
			}
			id, err := createContainer(cmd.Context(), c, cfg, o)
			if err != nil {
				return cli.StatusError{Status: cli.WithHelp(err, "create").Error(), StatusCode: 125}
			}
			fmt.Fprintln(c.Out(), id)
			return nil
		},
		Annotations: cli.Aliases("container create", "create"),
	}
	fl := cmd.Flags()
	fl.SetInterspersed(false)
	o.AddFlags(fl)
	return cmd
}

// createContainer creates the container, pulling the image first when it is
// missing (--pull=missing, the default) or always (--pull=always).
func createContainer(ctx context.Context, c *cli.Cli, cfg *runopts.Configs, o *runopts.Options) (string, error) {
	api, err := c.Client()
	if err != nil {
		return "", err
	}
	switch o.Pull() {
	case "always", "missing", "never":
	default:
		return "", fmt.Errorf("invalid pull option: '%s': must be one of \"always\", \"missing\" or \"never\"", o.Pull())
	}
	var named reference.Named
	if ref, err := reference.ParseAnyReference(cfg.Config.Image); err == nil {
		if n, ok := ref.(reference.Named); ok {
			named = reference.TagNameOnly(n)
		}
	}
	var platform *ocispec.Platform
	if o.Platform() != "" {
		p, err := platforms.Parse(o.Platform())
		if err != nil {
			return "", err
		}
		platform = &p
	}
	opts := client.ContainerCreateOptions{
		Config:           cfg.Config,
		HostConfig:       cfg.HostConfig,
		NetworkingConfig: cfg.Networking,
		Platform:         platform,
		Name:             o.Name(),
	}
	if o.Pull() == "always" && named != nil {
		if err := pullImage(ctx, c, reference.FamiliarString(named), o.Platform(), c.Err()); err != nil {
			return "", err
		}
	}
	res, err := api.ContainerCreate(ctx, opts)
	if err != nil {
		// only a missing image is pulled (the docker CLI pulls on any
		// 404, an unknown network's too)
		if !cerrdefs.IsNotFound(err) || !strings.Contains(err.Error(), "No such image") || named == nil || o.Pull() != "missing" {
			return "", err
		}
		fmt.Fprintf(c.Err(), "Unable to find image '%s' locally\n", reference.FamiliarString(named))
		if err := pullImage(ctx, c, reference.FamiliarString(named), o.Platform(), c.Err()); err != nil {
			return "", err
		}
		if res, err = api.ContainerCreate(ctx, opts); err != nil {
			return "", err
		}
	}
	for _, w := range res.Warnings {
		fmt.Fprintf(c.Err(), "WARNING: %s\n", w)
	}
	return res.ID, nil
}

// pullImage pulls ref and renders the progress stream on out.
func pullImage(ctx context.Context, c *cli.Cli, ref, platform string, out io.Writer) error {
	api, err := c.Client()
	if err != nil {
		return err
	}
	opts := client.ImagePullOptions{RegistryAuth: c.RegistryAuth(ref)}
	if platform != "" {
		p, err := platforms.Parse(platform)
		if err != nil {
			return err
		}
		opts.Platforms = []ocispec.Platform{p}
	}
	resp, err := api.ImagePull(ctx, ref, opts)
	if err != nil {
		return err
	}
	defer resp.Close()
	fd, isTerm := term.GetFdInfo(out)
	return jsonmessage.DisplayJSONMessagesStream(resp, out, fd, isTerm, nil)
}
