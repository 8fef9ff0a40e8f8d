// Package jupyter speaks the Jupyter messaging protocol (version 5.3) over ZeroMQ, on both sides
// of the wire: the kernel side binds the five channels described by a connection file, and
// [Client] dials them as a frontend does.
//
// It knows messages, signatures and sockets, not what a kernel does with them: that is package
// kernel. The client exists because this project needs it in production (the GoNB relay drives a
// GoNB kernel as a frontend would) as well as in tests and benchmarks.
//
// Reference: https://jupyter-client.readthedocs.io/en/stable/messaging.html
package jupyter
