// Opening a NETLINK_ROUTE socket and writing link requests: shared by the production socket
// (route_socket.cc) and the test build's synchronous dump (raw_dump.cc).
#pragma once

#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace dot1x {

// A non-blocking NETLINK_ROUTE socket, opened inside the network namespace at NETNS (a path
// such as /run/netns/NAME; empty: ours), with a receive buffer of RCVBUF bytes, joined to
// RTNLGRP_LINK when JOIN_LINK_GROUP. The fd, or -errno with *syscall the call that failed.
int OpenRouteSocket(const std::string& netns, int rcvbuf, bool joinLinkGroup, const char** syscall);

// One link request: header, ifinfomsg, room for attributes.
struct Request {
  struct nlmsghdr h;
  struct ifinfomsg ifi;
  char attrs[256];
};

void InitRequest(Request* r, uint16_t type, uint16_t flags, uint32_t seq, int index);
// RTM_GETLINK with NLM_F_DUMP.
void InitDump(Request* r, uint32_t seq);
// Appends one attribute; false when it does not fit the request buffer.
bool AddAttr(Request* r, uint16_t type, const void* data, size_t len);
// Sends R to the kernel: 0, or a positive errno.
int SendRequest(int fd, const Request& r);

}  // namespace dot1x
