package container

import (
	"context"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/moby/term"
)

// ttySize returns the height and width of the terminal on fd, or zeros.
func ttySize(fd uintptr) (uint, uint) {
	ws, err := term.GetWinsize(fd)
	if err != nil || ws == nil {
		return 0, 0
	}
	return uint(ws.Height), uint(ws.Width)
}

// monitorTTYSize sends the terminal size now and on every SIGWINCH until ctx ends.
func monitorTTYSize(ctx context.Context, fd uintptr, resize func(h, w uint) error) {
	send := func() {
		h, w := ttySize(fd)
		if h == 0 && w == 0 {
			return
		}
		for i := 0; i < 5; i++ {
			if resize(h, w) == nil {
				return
			}
			time.Sleep(time.Duration(i+1) * 10 * time.Millisecond)
		}
	}
	send()
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGWINCH)
	go func() {
		defer signal.Stop(ch)
		for {
			select {
			case <-ch:
				send()
			case <-ctx.Done():
				return
			}
		}
	}()
}

// proxySignals forwards the usual terminating signals to the container until ctx ends.
func proxySignals(ctx context.Context, kill func(sig string)) {
	ch := make(chan os.Signal, 8)
	signal.Notify(ch, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2)
	go func() {
		defer signal.Stop(ch)
		for {
			select {
			case s := <-ch:
				if sig, ok := s.(syscall.Signal); ok {
					kill(strconv.Itoa(int(sig)))
				}
			case <-ctx.Done():
				return
			}
		}
	}()
}
