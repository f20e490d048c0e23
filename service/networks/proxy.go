package networks

import (
	"io"
	"net"
	"time"
)

// proxyLoopback serves the connections that reach a published port's
// IPv6 reservation socket, which are only those from the host to ::1
// (every other address is DNATed before a socket sees it), by carrying
// them to the container, as docker-proxy does. It ends when ln is closed.
// The connections it carries end with berthd.
func proxyLoopback(ln net.Listener, target string) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			up, err := net.DialTimeout("tcp", target, 5*time.Second)
			if err != nil {
				return
			}
			defer up.Close()
			done := make(chan struct{})
			go func() {
				_, _ = io.Copy(up, c)
				if tc, ok := up.(*net.TCPConn); ok {
					_ = tc.CloseWrite()
				}
				close(done)
			}()
			_, _ = io.Copy(c, up)
			if tc, ok := c.(*net.TCPConn); ok {
				_ = tc.CloseWrite()
			}
			<-done
		}()
	}
}
