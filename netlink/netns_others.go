//go:build !linux

package netlink

// Namespaces is not implemented outside Linux.
func (c *Collector) Namespaces() ([]Namespace, error) { return nil, errUnimplemented }

// OwnNamespace is not implemented outside Linux.
func (c *Collector) OwnNamespace() (Namespace, error) { return Namespace{}, errUnimplemented }

func dialNamespace(Namespace) (*Conn, error) { return nil, errUnimplemented }
