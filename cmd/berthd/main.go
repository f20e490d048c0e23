// Command berthd is berth's daemon: it serves the Docker Engine API on a unix socket.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/berth-project/berth/daemon"
	"github.com/berth-project/berth/internal/idlegc"
	"github.com/berth-project/berth/internal/trace"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

func main() {
	trace.Mark("main")
	cfg := daemon.Defaults()
	var configFile string
	var hosts []string
	cmd := &cobra.Command{
		Use:           "berthd [OPTIONS]",
		Short:         "A self-sufficient runtime for containers",
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			load := func() (daemon.Config, error) { return loadConfig(cmd.Flags(), cfg, hosts, configFile) }
			file, err := load()
			if err != nil {
				return err
			}
			return run(file, load)
		},
	}
	f := cmd.Flags()
	f.StringSliceVarP(&hosts, "host", "H", cfg.Hosts, "Daemon socket(s) to connect to")
	f.StringVar(&cfg.DataRoot, "data-root", cfg.DataRoot, "Root directory of persistent berth state")
	f.StringVar(&cfg.ExecRoot, "exec-root", cfg.ExecRoot, "Root directory for execution state files")
	f.StringVarP(&cfg.Pidfile, "pidfile", "p", cfg.Pidfile, "Path to use for daemon PID file")
	f.StringVar(&configFile, "config-file", "/etc/berth/daemon.json", "Daemon configuration file")
	f.StringVarP(&cfg.LogLevel, "log-level", "l", cfg.LogLevel, `Set the logging level ("debug"|"info"|"warn"|"error"|"fatal")`)
	f.BoolVarP(&cfg.Debug, "debug", "D", false, "Enable debug mode")
	f.StringVarP(&cfg.Bridge, "bridge", "b", "", "Interface of the default bridge network (default berth0)")
	f.StringVar(&cfg.BIP, "bip", "", "IPv4 address and prefix of the default bridge (default: a free 172.17-31.0.0/16 or 192.168.x.0/20)")
	f.StringVar(&cfg.Runtime, "default-runtime", cfg.Runtime, `Default container runtime: "native" (berth's own) or "runc"; empty: native, or runc on cgroup v2-only hosts`)
	if err := cmd.Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "berthd:", err)
		os.Exit(1)
	}
}

// loadConfig is daemon.json under the flags given: a flag wins over the
// file.
func loadConfig(flags *pflag.FlagSet, fromFlags daemon.Config, hosts []string, configFile string) (daemon.Config, error) {
	file := fromFlags
	if err := file.LoadFile(configFile, flags.Changed("config-file")); err != nil {
		return file, err
	}
	for _, f := range []struct {
		name string
		dst  *string
		val  string
	}{{"data-root", &file.DataRoot, fromFlags.DataRoot}, {"exec-root", &file.ExecRoot, fromFlags.ExecRoot},
		{"pidfile", &file.Pidfile, fromFlags.Pidfile}, {"log-level", &file.LogLevel, fromFlags.LogLevel},
		{"default-runtime", &file.Runtime, fromFlags.Runtime}, {"bridge", &file.Bridge, fromFlags.Bridge}, {"bip", &file.BIP, fromFlags.BIP}} {
		if flags.Changed(f.name) {
			*f.dst = f.val
		}
	}
	if flags.Changed("host") {
		file.Hosts = hosts
	}
	if flags.Changed("debug") {
		file.Debug = fromFlags.Debug
	}
	return file, nil
}

// logLevel is the level cfg asks for.
func logLevel(cfg daemon.Config) (slog.Level, error) {
	level := slog.LevelInfo
	if cfg.Debug || cfg.LogLevel == "debug" {
		return slog.LevelDebug, nil
	}
	if err := level.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		return level, fmt.Errorf("unable to parse logging level: %s", cfg.LogLevel)
	}
	return level, nil
}

// run serves until SIGINT or SIGTERM; on SIGHUP it loads the
// configuration again and applies what a running daemon can take.
func run(cfg daemon.Config, load func() (daemon.Config, error)) error {
	var level slog.LevelVar
	l, err := logLevel(cfg)
	if err != nil {
		return err
	}
	level.Set(l)
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: &level}))
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	cfg.BinDir = filepath.Dir(exe)
	d, err := daemon.New(cfg, log)
	if err != nil {
		return err
	}
	quiet, stopQuiet := context.WithCancel(context.Background())
	defer stopQuiet()
	go idlegc.Run(quiet, idleCheck, idleBytes)
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		for sig := range sigs {
			if sig != syscall.SIGHUP {
				break
			}
			if err := reload(d, &level, load); err != nil {
				log.Error("Error reloading the configuration; nothing changed", "err", err)
			}
		}
		log.Info("shutting down; containers keep running")
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		d.Shutdown(ctx)
	}()
	if err := d.Serve(); err != nil {
		return err
	}
	<-stopped
	return nil
}

// Between bursts of work berthd gives its free heap back: a check every
// idleCheck, quiet when it allocated less than idleBytes since the last.
const (
	idleCheck = 5 * time.Second
	idleBytes = 256 << 10
)

// reload applies the configuration as it is now to the running daemon.
func reload(d *daemon.Daemon, level *slog.LevelVar, load func() (daemon.Config, error)) error {
	cfg, err := load()
	if err != nil {
		return err
	}
	l, err := logLevel(cfg)
	if err != nil {
		return err
	}
	if err := d.Reload(cfg); err != nil {
		return err
	}
	level.Set(l)
	return nil
}
