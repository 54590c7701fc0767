// goconn: a Go program built with CGO_ENABLED=0 (static, no C library:
// Go makes its system calls itself), whose source ports the seccomp
// backend's tests check.
//
//	goconn [-n N] [-u] [-k] HOST:PORT
//
// N times (default 1) dials HOST:PORT over TCP (or UDP with -u: dial, send
// one datagram, read the echo) and prints the local port it got, or the
// error.  -k keeps every connection open until the end.  Exit status 0
// when every attempt worked.
package main

import (
	"flag"
	"fmt"
	"net"
	"os"
	"time"
)

func main() {
	n := flag.Int("n", 1, "attempts")
	udp := flag.Bool("u", false, "UDP")
	keep := flag.Bool("k", false, "keep connections open")
	flag.Parse()
	if flag.NArg() != 1 {
		os.Exit(2)
	}
	network := "tcp"
	if *udp {
		network = "udp"
	}
	failed := false
	var kept []net.Conn
	for i := 0; i < *n; i++ {
		c, err := net.Dial(network, flag.Arg(0))
		if err != nil {
			fmt.Println("error:", err)
			failed = true
			continue
		}
		if *udp {
			c.SetDeadline(time.Now().Add(5 * time.Second))
			buf := make([]byte, 64)
			if _, err = c.Write([]byte("x")); err == nil {
				_, err = c.Read(buf)
			}
			if err != nil {
				fmt.Println("error:", err)
				failed = true
			}
		}
		fmt.Println(c.LocalAddr().String())
		if *keep {
			kept = append(kept, c)
		} else {
			c.Close()
		}
	}
	for _, c := range kept {
		c.Close()
	}
	if failed {
		os.Exit(1)
	}
}
