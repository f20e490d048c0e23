// tcpbench measures TCP throughput for bench/network.sh. It is static
// (CGO_ENABLED=0) so it runs inside busybox containers of any engine.
//
//	tcpbench serve ADDR          accept connections and discard what they send
//	tcpbench send ADDR SECONDS   send zeros for SECONDS, print MB/s
package main

import (
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"time"
)

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: tcpbench serve ADDR | send ADDR SECONDS")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "serve":
		ln, err := net.Listen("tcp", os.Args[2])
		if err != nil {
			panic(err)
		}
		for {
			c, err := ln.Accept()
			if err != nil {
				panic(err)
			}
			go func() { _, _ = io.Copy(io.Discard, c); c.Close() }()
		}
	case "send":
		secs, _ := strconv.Atoi(os.Args[3])
		var c net.Conn
		var err error
		for i := 0; i < 50; i++ { // the server may still be starting
			if c, err = net.Dial("tcp", os.Args[2]); err == nil {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if err != nil {
			panic(err)
		}
		buf := make([]byte, 256<<10)
		var n int64
		start := time.Now()
		for time.Since(start) < time.Duration(secs)*time.Second {
			w, err := c.Write(buf)
			if err != nil {
				panic(err)
			}
			n += int64(w)
		}
		c.Close()
		fmt.Printf("%.0f\n", float64(n)/time.Since(start).Seconds()/1e6)
	}
}
