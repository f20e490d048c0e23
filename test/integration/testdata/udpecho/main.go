// udpecho answers every UDP datagram on the given address with "echo:" and
// the datagram; the integration tests mount it into busybox containers,
// whose nc has no UDP.
package main

import (
	"net"
	"os"
)

func main() {
	pc, err := net.ListenPacket("udp", os.Args[1])
	if err != nil {
		panic(err)
	}
	buf := make([]byte, 2048)
	for {
		n, addr, err := pc.ReadFrom(buf)
		if err != nil {
			panic(err)
		}
		pc.WriteTo(append([]byte("echo:"), buf[:n]...), addr)
	}
}
