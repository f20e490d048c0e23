package registry

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/berth-project/berth/cli"
	"github.com/docker/cli/cli/config/types"
	"github.com/moby/moby/client"
	"github.com/spf13/cobra"
)

// TopLevel maps login, logout and search to their constructors.
func TopLevel() map[string]cli.Constructor {
	return map[string]cli.Constructor{"login": newLoginCommand, "logout": newLogoutCommand, "search": newSearchCommand}
}

func newLoginCommand(c *cli.Cli) *cobra.Command {
	var user, password string
	var passwordStdin bool
	cmd := &cobra.Command{
		Use:   "login [OPTIONS] [SERVER]",
		Short: "Authenticate to a registry",
		Args:  cli.RequiresMaxArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			server := cli.IndexServer
			if len(args) == 1 {
				server = args[0]
			}
			if password != "" && passwordStdin {
				return errors.New("--password and --password-stdin are mutually exclusive")
			}
			if passwordStdin {
				if user == "" {
					return errors.New("Must provide --username with --password-stdin")
				}
				c.NegotiateVersion()
				b, err := io.ReadAll(c.In())
				if err != nil {
					return err
				}
				password = strings.TrimRight(string(b), "\r\n")
			}
			if password != "" && !passwordStdin {
				fmt.Fprintln(c.Err(), "WARNING! Using --password via the CLI is insecure. Use --password-stdin.")
			}
			if user == "" || password == "" {
				return errors.New("Error: Cannot perform an interactive login from a non TTY device")
			}
			api, err := c.Client()
			if err != nil {
				return err
			}
			res, err := api.RegistryLogin(cmd.Context(), client.RegistryLoginOptions{Username: user, Password: password, ServerAddress: server})
			if err != nil {
				return err
			}
			cf := c.ConfigFile()
			auth := types.AuthConfig{Username: user, Password: password, ServerAddress: server}
			if res.Auth.IdentityToken != "" {
				auth.Password, auth.IdentityToken = "", res.Auth.IdentityToken
			}
			if err := cf.GetCredentialsStore(server).Store(auth); err != nil {
				return fmt.Errorf("Error saving credentials: %w", err)
			}
			fmt.Fprintln(c.Out(), "Login Succeeded")
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&user, "username", "u", "", "Username")
	fl.StringVarP(&password, "password", "p", "", "Password or Personal Access Token (PAT)")
	fl.BoolVar(&passwordStdin, "password-stdin", false, "Take the Password or Personal Access Token (PAT) from stdin")
	return cmd
}

func newLogoutCommand(c *cli.Cli) *cobra.Command {
	return &cobra.Command{
		Use:   "logout [SERVER]",
		Short: "Log out from a registry",
		Args:  cli.RequiresMaxArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			server := cli.IndexServer
			if len(args) == 1 {
				server = args[0]
			}
			cf := c.ConfigFile()
			if _, ok := cf.AuthConfigs[server]; !ok && cf.CredentialsStore == "" && cf.CredentialHelpers[server] == "" {
				fmt.Fprintf(c.Out(), "Not logged in to %s\n", server)
				return nil
			}
			fmt.Fprintf(c.Out(), "Removing login credentials for %s\n", server)
			if err := cf.GetCredentialsStore(server).Erase(server); err != nil {
				fmt.Fprintf(c.Err(), "WARNING: could not erase credentials: %s: %v\n", server, err)
			}
			return nil
		},
	}
}
