// Package nlsock is a netlink socket kept out of the Go runtime's poller,
// read in batches with recvmmsg(2).
//
// The audit socket and the proc connector deliver one record or event per
// datagram: about ten thousand a second at 1,000 execs a second. Two costs
// dominated the live agent's CPU at that rate, and this package removes
// both:
//
//   - one recvfrom(2) and one goroutine wake-up per datagram: Batch takes
//     everything queued in one recvmmsg (Linux 2.6.33);
//   - the runtime poller: a socket registered with it (os.NewFile of a
//     non-blocking descriptor, as go-libaudit's successors and
//     mdlayher/socket do) wakes whichever thread sleeps in epoll_wait on
//     every datagram's edge, waited for or not, thousands of times a
//     second. A Sock is never registered; its blocking operations wait in
//     poll(2) with an eventfd that Close writes, and the live agent polls
//     its descriptor together with the others'.
package nlsock
