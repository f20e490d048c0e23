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
	"github.com/berth-project/berth/internal/trace"
	"github.com/spf13/cobra"
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
			flags := cmd.Flags()
			file := cfg
			if err := file.LoadFile(configFile, flags.Changed("config-file")); err != nil {
				return err
			}
			// Flags win over the file.
			for _, f := range []struct {
				name string
				dst  *string
				val  string
			}{{"data-root", &file.DataRoot, cfg.DataRoot}, {"exec-root", &file.ExecRoot, cfg.ExecRoot},
				{"pidfile", &file.Pidfile, cfg.Pidfile}, {"log-level", &file.LogLevel, cfg.LogLevel},
				{"default-runtime", &file.Runtime, cfg.Runtime}, {"bridge", &file.Bridge, cfg.Bridge}, {"bip", &file.BIP, cfg.BIP}} {
				if flags.Changed(f.name) {
					*f.dst = f.val
				}
			}
			if flags.Changed("host") {
				file.Hosts = hosts
			}
			if flags.Changed("debug") {
				file.Debug = cfg.Debug
			}
			return run(file)
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

func run(cfg daemon.Config) error {
	level := slog.LevelInfo
	if cfg.Debug || cfg.LogLevel == "debug" {
		level = slog.LevelDebug
	} else if err := level.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		return fmt.Errorf("unable to parse logging level: %s", cfg.LogLevel)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	cfg.BinDir = filepath.Dir(exe)
	d, err := daemon.New(cfg, log)
	if err != nil {
		return err
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		<-sigs
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
