package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/berth-project/berth/cli"
	"github.com/berth-project/berth/registry/htpasswd"
	"github.com/berth-project/berth/registry/server"
	"github.com/spf13/cobra"
)

// newRegistryCommand is `berth registry`: the built-in registry server
// (it runs here, needing no daemon).
func newRegistryCommand(c *cli.Cli) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "registry",
		Short: "Run an OCI Distribution registry",
		Args:  cli.NoArgs,
	}
	cmd.AddCommand(newRegistryServeCommand(c), newRegistryGCCommand(c))
	return cmd
}

func newRegistryServeCommand(c *cli.Cli) *cobra.Command {
	var addr, root, htpasswdFile, cert, key, proxyRemote, proxyUser, proxyPassword string
	cmd := &cobra.Command{
		Use:   "serve [OPTIONS]",
		Short: "Serve a registry from a directory",
		Args:  cli.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg := server.Config{Root: root, Log: slog.New(slog.NewTextHandler(c.Err(), nil))}
			if htpasswdFile != "" {
				users, err := htpasswd.Load(htpasswdFile)
				if err != nil {
					return err
				}
				cfg.Users = users
			}
			if proxyRemote != "" {
				if proxyPassword == "" {
					proxyPassword = os.Getenv("BERTH_PROXY_PASSWORD") // kept out of ps
				}
				cfg.Proxy = &server.Proxy{Remote: proxyRemote, Username: proxyUser, Password: proxyPassword}
			}
			if (cert == "") != (key == "") {
				return errors.New("--tls-cert and --tls-key go together")
			}
			reg, err := server.New(cfg)
			if err != nil {
				return err
			}
			defer reg.Close()
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return err
			}
			// no read/write timeouts: blobs take as long as they take
			srv := &http.Server{Handler: reg, ReadHeaderTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			go func() {
				<-ctx.Done()
				shut, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				_ = srv.Shutdown(shut)
			}()
			fmt.Fprintf(c.Err(), "registry listening on %s, root %s\n", ln.Addr(), root)
			if cert != "" {
				err = srv.ServeTLS(ln, cert, key)
			} else {
				err = srv.Serve(ln)
			}
			if errors.Is(err, http.ErrServerClosed) {
				return nil
			}
			return err
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&addr, "addr", "127.0.0.1:5000", "Address to listen on")
	fl.StringVar(&root, "root", "/var/lib/berth-registry", "Directory holding the registry's content")
	fl.StringVar(&htpasswdFile, "htpasswd", "", "Require basic auth with the bcrypt accounts of this htpasswd file")
	fl.StringVar(&cert, "tls-cert", "", "Serve HTTPS with this certificate")
	fl.StringVar(&key, "tls-key", "", "Key of --tls-cert")
	fl.StringVar(&proxyRemote, "proxy-remote", "", "Be a pull-through cache of this registry (https://registry-1.docker.io)")
	fl.StringVar(&proxyUser, "proxy-username", "", "Account at the --proxy-remote registry")
	fl.StringVar(&proxyPassword, "proxy-password", "", "Password of --proxy-username (better: $BERTH_PROXY_PASSWORD, which ps does not show)")
	return cmd
}

func newRegistryGCCommand(c *cli.Cli) *cobra.Command {
	var root string
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "gc [OPTIONS]",
		Short: "Remove the blobs no manifest references (the registry must be stopped)",
		Args:  cli.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			res, err := server.GC(root, dryRun)
			if err != nil {
				return err
			}
			verb := "removed"
			if dryRun {
				verb = "would remove"
			}
			fmt.Fprintf(c.Out(), "%s %d blobs, %d bytes\n", verb, res.Blobs, res.Bytes)
			return nil
		},
	}
	cmd.Flags().StringVar(&root, "root", "/var/lib/berth-registry", "Directory holding the registry's content")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "Only report what would be removed")
	return cmd
}
