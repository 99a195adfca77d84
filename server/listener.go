package server

import (
	"net"
	"net/netip"
	"sync"
)

// LimitListener caps the connections one client address may hold open at
// once: past perClient, a new connection from it is closed as soon as it
// is accepted, so that one client holding idle keep-alive connections
// cannot use up the process's file descriptors. Addresses in exempt (the
// trusted proxies, which carry every reader's connections) are not capped.
// perClient <= 0 means no cap.
func LimitListener(ln net.Listener, perClient int, exempt []netip.Prefix) net.Listener {
	if perClient <= 0 {
		return ln
	}
	return &limitListener{Listener: ln, max: perClient, exempt: exempt, open: map[netip.Addr]int{}}
}

type limitListener struct {
	net.Listener
	max    int
	exempt []netip.Prefix
	mu     sync.Mutex
	open   map[netip.Addr]int
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		ap, err := netip.ParseAddrPort(c.RemoteAddr().String())
		if err != nil || contains(l.exempt, ap.Addr()) {
			return c, nil
		}
		a := ap.Addr().Unmap()
		l.mu.Lock()
		if l.open[a] >= l.max {
			l.mu.Unlock()
			c.Close()
			continue
		}
		l.open[a]++
		l.mu.Unlock()
		return &limitConn{Conn: c, l: l, addr: a}, nil
	}
}

type limitConn struct {
	net.Conn
	l    *limitListener
	addr netip.Addr
	once sync.Once
}

func (c *limitConn) Close() error {
	c.once.Do(func() {
		c.l.mu.Lock()
		if c.l.open[c.addr]--; c.l.open[c.addr] <= 0 {
			delete(c.l.open, c.addr)
		}
		c.l.mu.Unlock()
	})
	return c.Conn.Close()
}
