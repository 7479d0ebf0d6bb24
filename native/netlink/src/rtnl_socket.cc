#include "rtnl_socket.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_link.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <node_api.h>

#include <cstring>

namespace dot1x {

int OpenRouteSocket(const std::string& netns, int rcvbuf, bool joinLinkGroup, const char** syscall) {
  int nsfd = -1, origfd = -1;
  if (!netns.empty()) {
    nsfd = open(netns.c_str(), O_RDONLY | O_CLOEXEC);
    if (nsfd < 0) return *syscall = "open", -errno;
    origfd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (origfd < 0) {
      int err = errno;
      ::close(nsfd);
      return *syscall = "open", -err;
    }
    // setns affects the calling thread only, and we come straight back.
    if (setns(nsfd, CLONE_NEWNET) < 0) {
      int err = errno;
      ::close(nsfd);
      ::close(origfd);
      return *syscall = "setns", -err;
    }
  }
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE);
  int socketErr = errno;
  if (origfd >= 0) {
    if (setns(origfd, CLONE_NEWNET) < 0) {
      // The JS thread would keep running in the other namespace: nothing sane is left.
      napi_fatal_error("dot1x_netlink", NAPI_AUTO_LENGTH, "setns back to the original network namespace failed",
                       NAPI_AUTO_LENGTH);
    }
    ::close(origfd);
    ::close(nsfd);
  }
  if (fd < 0) return *syscall = "socket", -socketErr;

  auto fail = [fd, syscall](const char* what) {
    int err = errno;
    ::close(fd);
    *syscall = what;
    return -err;
  };
  // SO_RCVBUFFORCE passes rmem_max but needs CAP_NET_ADMIN; unprivileged we take what
  // SO_RCVBUF allows (GET and monitoring need no privilege).
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0 &&
      setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)) < 0)
    return fail("setsockopt");
  sockaddr_nl local{};
  local.nl_family = AF_NETLINK;
  if (bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof(local)) < 0) return fail("bind");
  int group = RTNLGRP_LINK;
  if (joinLinkGroup && setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group, sizeof(group)) < 0)
    return fail("setsockopt");
  return fd;
}

void InitRequest(Request* r, uint16_t type, uint16_t flags, uint32_t seq, int index) {
  std::memset(r, 0, sizeof(*r));
  r->h.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg));
  r->h.nlmsg_type = type;
  r->h.nlmsg_flags = NLM_F_REQUEST | flags;
  r->h.nlmsg_seq = seq;
  r->ifi.ifi_family = AF_UNSPEC;
  r->ifi.ifi_index = index;
}

void InitDump(Request* r, uint32_t seq) { InitRequest(r, RTM_GETLINK, NLM_F_DUMP, seq, 0); }

bool AddAttr(Request* r, uint16_t type, const void* data, size_t len) {
  size_t at = NLMSG_ALIGN(r->h.nlmsg_len);
  size_t need = RTA_SPACE(len);
  if (at + need > sizeof(Request)) return false;
  struct rtattr* rta = reinterpret_cast<struct rtattr*>(reinterpret_cast<char*>(r) + at);
  rta->rta_type = type;
  rta->rta_len = static_cast<unsigned short>(RTA_LENGTH(len));
  if (len) std::memcpy(RTA_DATA(rta), data, len);
  r->h.nlmsg_len = static_cast<uint32_t>(at + need);
  return true;
}

int SendRequest(int fd, const Request& r) {
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  for (;;) {
    ssize_t n = sendto(fd, &r, r.h.nlmsg_len, 0, reinterpret_cast<sockaddr*>(&kernel), sizeof(kernel));
    if (n >= 0) return 0;
    if (errno != EINTR) return errno;
  }
}

}  // namespace dot1x
