package containers

import (
	"fmt"
	"strconv"

	"github.com/containerd/errdefs"
	"github.com/docker/go-units"
	"github.com/moby/moby/api/types/container"
)

// logOptions are a log driver's rotation settings.
type logOptions struct {
	maxSize  int64 // bytes; 0: never rotate
	maxFile  int
	compress bool
}

// parseLogOptions validates a container's log config the way Docker's
// json-file and local drivers do, and applies their defaults (local:
// 20 MiB × 5 files, compressed).
func parseLogOptions(lc container.LogConfig) (logOptions, error) {
	bad := func(format string, a ...any) (logOptions, error) {
		return logOptions{}, fmt.Errorf(format+": %w", append(a, errdefs.ErrInvalidArgument)...)
	}
	var o logOptions
	switch lc.Type {
	case "none":
		for k := range lc.Config {
			return bad("unknown log opt '%s' for none log driver", k)
		}
		return o, nil
	case "json-file":
		o.maxFile = 1
	case "local":
		o = logOptions{maxSize: 20 << 20, maxFile: 5, compress: true}
	default:
		return bad("logger: no log driver named '%s' is registered", lc.Type)
	}
	for k, v := range lc.Config {
		switch k {
		case "max-size":
			n, err := units.RAMInBytes(v)
			if err != nil {
				return bad("%s", err.Error())
			}
			if n <= 0 {
				return bad("max-size must be a positive number")
			}
			o.maxSize = n
		case "max-file":
			n, err := strconv.Atoi(v)
			if err != nil {
				return bad("%s", err.Error())
			}
			if n < 1 {
				return bad("max-file cannot be less than 1")
			}
			o.maxFile = n
		case "compress":
			b, err := strconv.ParseBool(v)
			if err != nil {
				return bad("error reading compress log option: %s", err.Error())
			}
			o.compress = b
		case "labels", "labels-regex", "env", "env-regex", "tag":
			if lc.Type == "local" {
				return bad("unknown log opt '%s' for local log driver", k)
			}
		default:
			return bad("unknown log opt '%s' for %s log driver", k, lc.Type)
		}
	}
	if lc.Type == "json-file" {
		if _, ok := lc.Config["max-file"]; ok && o.maxSize == 0 && o.maxFile > 1 {
			// Docker ignores max-file without max-size; so do we
			o.maxFile = 1
		}
		if o.compress && o.maxFile < 2 {
			return bad("compress cannot be true when max-file is less than 2 or max-size is not set")
		}
	}
	return o, nil
}

// jsonLogPath is inspect's LogPath: set for the json-file driver only.
func jsonLogPath(c *Container) string {
	if c.HostConfig.LogConfig.Type != "json-file" {
		return ""
	}
	return c.logPath()
}
