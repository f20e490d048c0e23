package runopts

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/spf13/pflag"
)

// Options are the flags shared by run and create: AddFlags registers
// them, Parse reads them into a create request.
type Options struct {
	attach      ListOpt
	env         ListOpt
	envFile     ListOpt
	labels      ListOpt
	labelFile   ListOpt
	volumes     ListOpt
	tmpfs       ListOpt
	volumesFrom ListOpt
	publish     ListOpt
	expose      ListOpt
	capAdd      ListOpt
	capDrop     ListOpt
	securityOpt ListOpt
	ulimits     ulimitOpt
	mounts      mountOpt
	networks    networkOpt
	memory      MemBytes
	memorySwap  SwapBytes
	shmSize     MemBytes
	cpus        NanoCPUs

	stdin, tty, init, privileged, readOnly, publishAll bool
	workdir, user, entrypoint, hostname, domainname    string
	stopSignal, cpusetCPUs, platform, pull, restart    string
	detachKeys, logDriver, runtime, name               string
	logOpts, dns, addHost, groupAdd                    ListOpt
	dnsSearch, dnsOptions, aliases, links              ListOpt
	ip, mac                                            string
	ipc, pid, uts, cgroupParent                        string
	stopTimeout                                        int
	cpuShares, pidsLimit                               int64

	healthCmd                              string
	healthInterval, healthTimeout          time.Duration
	healthStartPeriod, healthStartInterval time.Duration
	healthRetries                          int
	noHealthcheck                          bool
}

// AddFlags registers the flags on fl, bound to o.
func (o *Options) AddFlags(fl *pflag.FlagSet) {
	fl.VarP(&o.attach, "attach", "a", "Attach to STDIN, STDOUT or STDERR")
	fl.BoolVarP(&o.stdin, "interactive", "i", false, "Keep STDIN open even if not attached")
	fl.BoolVarP(&o.tty, "tty", "t", false, "Allocate a pseudo-TTY")
	fl.StringVar(&o.name, "name", "", "Assign a name to the container")
	fl.VarP(&o.env, "env", "e", "Set environment variables")
	fl.Var(&o.envFile, "env-file", "Read in a file of environment variables")
	fl.StringVarP(&o.workdir, "workdir", "w", "", "Working directory inside the container")
	fl.StringVarP(&o.user, "user", "u", "", "Username or UID (format: <name|uid>[:<group|gid>])")
	fl.StringVar(&o.entrypoint, "entrypoint", "", "Overwrite the default ENTRYPOINT of the image")
	fl.StringVarP(&o.hostname, "hostname", "h", "", "Container host name")
	fl.StringVar(&o.domainname, "domainname", "", "Container NIS domain name")
	fl.VarP(&o.labels, "label", "l", "Set meta data on a container")
	fl.Var(&o.labelFile, "label-file", "Read in a line delimited file of labels")
	fl.StringVar(&o.ipc, "ipc", "", "IPC mode to use")
	fl.StringVar(&o.pid, "pid", "", "PID namespace to use")
	fl.StringVar(&o.uts, "uts", "", "UTS namespace to use")
	fl.StringVar(&o.cgroupParent, "cgroup-parent", "", "Optional parent cgroup for the container")
	fl.BoolVar(&o.init, "init", false, "Run an init inside the container that forwards signals and reaps processes")
	fl.StringVar(&o.stopSignal, "stop-signal", "", "Signal to stop the container")
	fl.IntVar(&o.stopTimeout, "stop-timeout", 0, "Timeout (in seconds) to stop a container")
	fl.VarP(&o.memory, "memory", "m", "Memory limit")
	fl.Var(&o.memorySwap, "memory-swap", "Swap limit equal to memory plus swap: '-1' to enable unlimited swap")
	fl.Var(&o.shmSize, "shm-size", "Size of /dev/shm")
	fl.Var(&o.cpus, "cpus", "Number of CPUs")
	fl.Int64VarP(&o.cpuShares, "cpu-shares", "c", 0, "CPU shares (relative weight)")
	fl.StringVar(&o.cpusetCPUs, "cpuset-cpus", "", "CPUs in which to allow execution (0-3, 0,1)")
	fl.Int64Var(&o.pidsLimit, "pids-limit", 0, "Tune container pids limit (set -1 for unlimited)")
	fl.Var(&o.capAdd, "cap-add", "Add Linux capabilities")
	fl.Var(&o.capDrop, "cap-drop", "Drop Linux capabilities")
	fl.BoolVar(&o.privileged, "privileged", false, "Give extended privileges to this container")
	fl.Var(&o.securityOpt, "security-opt", "Security Options")
	fl.BoolVar(&o.readOnly, "read-only", false, "Mount the container's root filesystem as read only")
	fl.Var(&o.ulimits, "ulimit", "Ulimit options")
	fl.Var(&o.networks, "network", "Connect a container to a network")
	fl.Var(&o.networks, "net", "Connect a container to a network")
	_ = fl.MarkHidden("net")
	fl.VarP(&o.volumes, "volume", "v", "Bind mount a volume")
	fl.VarP(&o.publish, "publish", "p", "Publish a container's port(s) to the host")
	fl.BoolVarP(&o.publishAll, "publish-all", "P", false, "Publish all exposed ports to random ports")
	fl.Var(&o.expose, "expose", "Expose a port or a range of ports")
	fl.Var(&o.tmpfs, "tmpfs", "Mount a tmpfs directory")
	fl.Var(&o.volumesFrom, "volumes-from", "Mount volumes from the specified container(s)")
	fl.Var(&o.mounts, "mount", "Attach a filesystem mount to the container")
	fl.StringVar(&o.platform, "platform", os.Getenv("DOCKER_DEFAULT_PLATFORM"), "Set platform if server is multi-platform capable")
	fl.StringVar(&o.pull, "pull", "missing", `Pull image before running ("always", "missing", "never")`)
	fl.StringVar(&o.restart, "restart", "no", "Restart policy to apply when a container exits")
	fl.StringVar(&o.logDriver, "log-driver", "", "Logging driver for the container")
	fl.Var(&o.logOpts, "log-opt", "Log driver options")
	fl.StringVar(&o.runtime, "runtime", "", "Runtime to use for this container")
	fl.Var(&o.dns, "dns", "Set custom DNS servers")
	fl.Var(&o.dnsSearch, "dns-search", "Set custom DNS search domains")
	fl.Var(&o.dnsOptions, "dns-option", "Set DNS options")
	fl.Var(&o.aliases, "network-alias", "Add network-scoped alias for the container")
	fl.Var(&o.links, "link", "Add link to another container")
	fl.StringVar(&o.ip, "ip", "", "IPv4 address (e.g., 172.30.100.104)")
	fl.StringVar(&o.mac, "mac-address", "", "Container MAC address (e.g., 92:d0:c6:0a:29:33)")
	fl.Var(&o.addHost, "add-host", "Add a custom host-to-IP mapping (host:ip)")
	fl.Var(&o.groupAdd, "group-add", "Add additional groups to join")
	fl.StringVar(&o.detachKeys, "detach-keys", "", "Override the key sequence for detaching a container")
	fl.StringVar(&o.healthCmd, "health-cmd", "", "Command to run to check health")
	fl.DurationVar(&o.healthInterval, "health-interval", 0, "Time between running the check (ms|s|m|h) (default 0s)")
	fl.IntVar(&o.healthRetries, "health-retries", 0, "Consecutive failures needed to report unhealthy")
	fl.DurationVar(&o.healthTimeout, "health-timeout", 0, "Maximum time to allow one check to run (ms|s|m|h) (default 0s)")
	fl.DurationVar(&o.healthStartPeriod, "health-start-period", 0, "Start period for the container to initialize before starting health-retries countdown (ms|s|m|h) (default 0s)")
	fl.DurationVar(&o.healthStartInterval, "health-start-interval", 0, "Time between running the check during the start period (ms|s|m|h) (default 0s)")
	fl.BoolVar(&o.noHealthcheck, "no-healthcheck", false, "Disable any container-specified HEALTHCHECK")
}

// Name is --name: the name to create the container under.
func (o *Options) Name() string { return o.name }

// Pull is --pull: "always", "missing" or "never" (not checked here).
func (o *Options) Pull() string { return o.pull }

// Platform is --platform: the image platform to create from and pull.
func (o *Options) Platform() string { return o.platform }

// DetachKeys is --detach-keys: the key sequence that detaches from the container.
func (o *Options) DetachKeys() string { return o.detachKeys }

// Attach is the streams --attach named, as given.
func (o *Options) Attach() []string { return o.attach }

// healthConfig is docker's reading of the --health-* flags.
func (o *Options) healthConfig() (*container.HealthConfig, error) {
	have := o.healthCmd != "" || o.healthInterval != 0 || o.healthTimeout != 0 || o.healthStartPeriod != 0 ||
		o.healthRetries != 0 || o.healthStartInterval != 0
	if o.noHealthcheck {
		if have {
			return nil, errors.New("--no-healthcheck conflicts with --health-* options")
		}
		return &container.HealthConfig{Test: []string{"NONE"}}, nil
	}
	if !have {
		return nil, nil
	}
	for _, d := range []struct {
		flag string
		neg  bool
	}{{"--health-interval", o.healthInterval < 0}, {"--health-timeout", o.healthTimeout < 0},
		{"--health-retries", o.healthRetries < 0}, {"--health-start-period", o.healthStartPeriod < 0},
		{"--health-start-interval", o.healthStartInterval < 0}} {
		if d.neg {
			return nil, fmt.Errorf("%s cannot be negative", d.flag)
		}
	}
	h := &container.HealthConfig{Interval: o.healthInterval, Timeout: o.healthTimeout, StartPeriod: o.healthStartPeriod,
		StartInterval: o.healthStartInterval, Retries: o.healthRetries}
	if o.healthCmd != "" {
		h.Test = []string{"CMD-SHELL", o.healthCmd}
	}
	return h, nil
}

// Configs is everything POST /containers/create takes but the name and platform.
type Configs struct {
	Config     *container.Config
	HostConfig *container.HostConfig
	Networking *network.NetworkingConfig
}

// Parse converts the flags and positional arguments (IMAGE [COMMAND] [ARG...])
// into the create request, as docker's opts.parse does.
func (o *Options) Parse(fl *pflag.FlagSet, args []string) (*Configs, error) {
	attachStdin, attachStdout, attachStderr := false, false, false
	for _, a := range o.attach {
		switch strings.ToLower(a) {
		case "stdin":
			attachStdin = true
		case "stdout":
			attachStdout = true
		case "stderr":
			attachStderr = true
		default:
			return nil, fmt.Errorf("invalid argument %q for \"-a, --attach\" flag: valid streams are STDIN, STDOUT and STDERR", a)
		}
	}
	if o.stdin {
		attachStdin = true
	}
	if len(o.attach) == 0 {
		attachStdout, attachStderr = true, true
	}

	env, err := Env(o.envFile, o.env)
	if err != nil {
		return nil, err
	}

	var labels []string
	for _, f := range o.labelFile {
		lines, err := parseKVFile(f, nil)
		if err != nil {
			return nil, err
		}
		labels = append(labels, lines...)
	}
	labels = append(labels, o.labels...)

	var entrypoint []string
	if o.entrypoint != "" {
		entrypoint = []string{o.entrypoint}
	} else if fl.Changed("entrypoint") {
		entrypoint = []string{""}
	}
	var cmd []string
	if len(args) > 1 {
		cmd = args[1:]
	}

	if o.memorySwap != 0 && o.memorySwap != -1 && o.memory != 0 && int64(o.memorySwap) < int64(o.memory) {
		return nil, errors.New("minimum memoryswap limit should be larger than memory limit, see usage")
	}
	exposed, bindings, err := ParsePublish(o.publish)
	if err != nil {
		return nil, err
	}
	if exposed, err = parseExpose(o.expose, exposed); err != nil {
		return nil, err
	}
	binds, volumes := parseVolumes(o.volumes)
	secOpts, err := parseSecurityOpts(o.securityOpt)
	if err != nil {
		return nil, err
	}
	restart, err := ParseRestart(o.restart)
	if err != nil {
		return nil, err
	}
	health, err := o.healthConfig()
	if err != nil {
		return nil, err
	}

	cfg := &container.Config{
		Hostname:     o.hostname,
		Domainname:   o.domainname,
		User:         o.user,
		AttachStdin:  attachStdin,
		AttachStdout: attachStdout,
		AttachStderr: attachStderr,
		ExposedPorts: exposed,
		Tty:          o.tty,
		OpenStdin:    o.stdin,
		StdinOnce:    o.stdin && attachStdin,
		Env:          env,
		Cmd:          cmd,
		Image:        args[0],
		Volumes:      volumes,
		WorkingDir:   o.workdir,
		Entrypoint:   entrypoint,
		Labels:       kvMap(labels),
		StopSignal:   o.stopSignal,
		Healthcheck:  health,
	}
	if fl.Changed("stop-timeout") {
		cfg.StopTimeout = &o.stopTimeout
	}

	networkMode := "default"
	if len(o.networks.values) > 0 {
		networkMode = o.networks.values[0]
	}
	hc := &container.HostConfig{
		Binds:           binds,
		NetworkMode:     container.NetworkMode(networkMode),
		PortBindings:    bindings,
		RestartPolicy:   restart,
		AutoRemove:      false,
		CapAdd:          o.capAdd,
		CapDrop:         o.capDrop,
		Privileged:      o.privileged,
		PublishAllPorts: o.publishAll,
		ReadonlyRootfs:  o.readOnly,
		SecurityOpt:     secOpts,
		Tmpfs:           parseTmpfs(o.tmpfs),
		VolumesFrom:     o.volumesFrom,
		ShmSize:         int64(o.shmSize),
		Runtime:         o.runtime,
		IpcMode:         container.IpcMode(o.ipc),
		PidMode:         container.PidMode(o.pid),
		UTSMode:         container.UTSMode(o.uts),
		GroupAdd:        o.groupAdd,
		ExtraHosts:      o.addHost,
		Mounts:          o.mounts.values,
		LogConfig:       container.LogConfig{Type: o.logDriver, Config: logOpts(o.logOpts)},
		Resources: container.Resources{
			CPUShares:    o.cpuShares,
			Memory:       int64(o.memory),
			MemorySwap:   int64(o.memorySwap),
			NanoCPUs:     int64(o.cpus),
			CpusetCpus:   o.cpusetCPUs,
			Ulimits:      o.ulimits.values,
			CgroupParent: o.cgroupParent,
		},
	}
	if fl.Changed("pids-limit") {
		hc.PidsLimit = &o.pidsLimit
	}
	if fl.Changed("init") {
		hc.Init = &o.init
	}
	for _, d := range o.dns {
		a, err := parseAddr(d)
		if err != nil {
			return nil, err
		}
		hc.DNS = append(hc.DNS, a)
	}
	hc.DNSSearch, hc.DNSOptions, hc.Links = o.dnsSearch, o.dnsOptions, o.links
	endpoints := map[string]*network.EndpointSettings{}
	for _, n := range o.networks.values {
		endpoints[n] = &network.EndpointSettings{}
	}
	if len(endpoints) == 0 {
		endpoints[networkMode] = &network.EndpointSettings{}
	}
	// --ip, --network-alias and --mac-address apply to the first network
	primary := endpoints[networkMode]
	primary.Aliases = o.aliases
	if o.ip != "" {
		a, err := netip.ParseAddr(o.ip)
		if err != nil || !a.Is4() {
			return nil, fmt.Errorf("invalid IPv4 address: %s", o.ip)
		}
		primary.IPAMConfig = &network.EndpointIPAMConfig{IPv4Address: a}
	}
	if o.mac != "" {
		m, err := net.ParseMAC(o.mac)
		if err != nil {
			return nil, fmt.Errorf("%s is not a valid mac address", o.mac)
		}
		primary.MacAddress = network.HardwareAddr(m)
	}
	return &Configs{Config: cfg, HostConfig: hc, Networking: &network.NetworkingConfig{EndpointsConfig: endpoints}}, nil
}

func logOpts(vals []string) map[string]string {
	if len(vals) == 0 {
		return nil
	}
	return kvMap(vals)
}

// ParseRestart reads a --restart value, NAME[:MAX-RETRIES] (a count only
// with on-failure), for run, create and update.
func ParseRestart(s string) (container.RestartPolicy, error) {
	p := container.RestartPolicy{}
	if s == "" {
		return p, nil
	}
	name, count, ok := strings.Cut(s, ":")
	p.Name = container.RestartPolicyMode(name)
	if ok {
		if name != string(container.RestartPolicyOnFailure) {
			return p, fmt.Errorf("invalid restart policy format: maximum retry count can only be used with 'on-failure'")
		}
		if _, err := fmt.Sscanf(count, "%d", &p.MaximumRetryCount); err != nil {
			return p, fmt.Errorf("invalid restart policy format: maximum retry count must be an integer")
		}
	}
	return p, nil
}
