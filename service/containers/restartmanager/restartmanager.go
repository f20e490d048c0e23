// Package restartmanager holds Docker's restart-policy rules: whether an
// exit restarts a container and after which back-off (moby's
// restartmanager), and which containers come back when the daemon starts.
// It decides; the containers service keeps the state and runs the timers.
package restartmanager

import (
	"time"

	"github.com/moby/moby/api/types/container"
)

// Docker's restart back-off: the first restart waits 100 ms, each further
// one twice as long up to a minute, and a run of 10 s or more resets it.
const (
	BackoffStart = 100 * time.Millisecond
	BackoffMax   = time.Minute
	BackoffReset = 10 * time.Second
)

// Exit is what the policy looks at when a container ends.
type Exit struct {
	Code          int
	StoppedByUser bool          // a stop or kill, which wins over every policy
	Count         int           // policy restarts since the last manual start
	Backoff       time.Duration // the back-off of the previous restart
	Ran           time.Duration // how long the run that ended lasted
}

// Decision is what the policy says about one exit.
type Decision struct {
	Restart bool
	Delay   time.Duration // the back-off before the restart
	Backoff time.Duration // the back-off to remember for the next exit
}

// Decide applies Docker's restart manager rules to an exit.
func Decide(p container.RestartPolicy, e Exit) Decision {
	if p.Name == "" || p.Name == container.RestartPolicyDisabled {
		return Decision{}
	}
	next := e.Backoff
	if e.Ran >= BackoffReset {
		next = 0
	}
	switch {
	case next == 0:
		next = BackoffStart
	case next < BackoffMax:
		next *= 2
	}
	if next > BackoffMax {
		next = BackoffMax
	}
	// A stop or kill by the user wins over every policy (Docker cancels
	// the restart manager); "always" comes back at the next daemon start.
	restart := false
	switch p.Name {
	case container.RestartPolicyAlways, container.RestartPolicyUnlessStopped:
		restart = !e.StoppedByUser
	case container.RestartPolicyOnFailure:
		restart = !e.StoppedByUser && e.Code != 0 && retriesLeft(p, e.Count)
	}
	if !restart {
		return Decision{Backoff: next}
	}
	return Decision{Restart: true, Delay: next, Backoff: next}
}

// AtBoot is Docker's rule for containers that are not running when the
// daemon starts: "always" ones come back even after a manual stop,
// "unless-stopped" ones only if nobody stopped them, "on-failure" ones if
// they failed and have retries left.
func AtBoot(p container.RestartPolicy, exitCode int, stoppedByUser bool, count int) bool {
	switch p.Name {
	case container.RestartPolicyAlways:
		return true
	case container.RestartPolicyUnlessStopped:
		return !stoppedByUser
	case container.RestartPolicyOnFailure:
		return !stoppedByUser && exitCode != 0 && retriesLeft(p, count)
	}
	return false
}

func retriesLeft(p container.RestartPolicy, count int) bool {
	return p.MaximumRetryCount == 0 || count < p.MaximumRetryCount
}
