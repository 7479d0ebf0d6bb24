/*
 * The floor of the carrier-return benchmark (test/bench/carrier-to-up.ts): the least a program
 * can do to keep a port's operstate meaning "802.1X-authorized" with wpa_supplicant, and
 * nothing else. One thread, one poll() loop, no framework, no log:
 *
 *   start:  RTM_SETLINK {linkmode 1, operstate DORMANT}, ATTACH, then authenticate once
 *   RTM_NEWLINK of the port with IFF_LOWER_UP and operstate DORMANT, once per carrier-up:
 *           STATUS, then REAUTHENTICATE when "Supplicant PAE state=AUTHENTICATED", else LOGON
 *   CTRL-EVENT-EAP-SUCCESS after such a request: RTM_SETLINK {operstate UP}
 *
 * It has none of the daemon's guarantees (no barrier between old and new events, no STATUS
 * confirmation, no carrier epochs, no retries, no restore on exit): it only shows what the
 * kernel, wpa_supplicant and the EAP exchange themselves cost on this path. Built by the
 * benchmark with the system's C compiler.
 *
 * usage: minimal-reactor IFNAME WPA_CTRL_SOCKET CLIENT_DIR
 * Prints "ready" once attached, and one line per request for the benchmark's log.
 */
#include <errno.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* include/uapi/linux/if.h, which cannot be included beside <net/if.h>. */
#define IFF_LOWER_UP 0x10000
#define IF_OPER_DORMANT 5
#define IF_OPER_UP 6
#define IF_LINK_MODE_DORMANT 1

static int ifindex;
static int nl = -1, cmd = -1, ev = -1;
static char cmd_path[108], ev_path[108];
static unsigned seq = 1;

static void cleanup(void) {
  unlink(cmd_path);
  unlink(ev_path);
}

static void on_signal(int sig) {
  (void)sig;
  cleanup();
  _exit(0);
}

static void die(const char *what) {
  fprintf(stderr, "minimal-reactor: %s: %s\n", what, strerror(errno));
  cleanup();
  exit(1);
}

/* A client socket bound at PATH and connected to wpa_supplicant's control socket. */
static int ctrl_socket(const char *path, const char *server) {
  int s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) die("socket");
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  snprintf(a.sun_path, sizeof a.sun_path, "%s", path);
  unlink(path);
  if (bind(s, (struct sockaddr *)&a, sizeof a) < 0) die("bind");
  snprintf(a.sun_path, sizeof a.sun_path, "%s", server);
  if (connect(s, (struct sockaddr *)&a, sizeof a) < 0) die("connect");
  return s;
}

/* One request on the command socket and its reply (replies carry no tag: one at a time). */
static int request(const char *req, char *reply, size_t size) {
  if (send(cmd, req, strlen(req), 0) < 0) die("send");
  ssize_t n = recv(cmd, reply, size - 1, 0);
  if (n < 0) die("recv");
  reply[n] = '\0';
  return (int)n;
}

/* RTM_SETLINK with IFLA_OPERSTATE (and IFLA_LINKMODE when linkmode >= 0); the ACK is read in the loop. */
static void setlink(int operstate, int linkmode) {
  struct {
    struct nlmsghdr h;
    struct ifinfomsg i;
    char attrs[16];
  } m;
  memset(&m, 0, sizeof m);
  m.h.nlmsg_type = RTM_SETLINK;
  m.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
  m.h.nlmsg_seq = seq++;
  m.i.ifi_family = AF_UNSPEC;
  m.i.ifi_index = ifindex;
  size_t len = NLMSG_LENGTH(sizeof m.i);
  struct rtattr *a = (struct rtattr *)((char *)&m + NLMSG_ALIGN(len));
  a->rta_type = IFLA_OPERSTATE;
  a->rta_len = RTA_LENGTH(1);
  *(unsigned char *)RTA_DATA(a) = (unsigned char)operstate;
  len = NLMSG_ALIGN(len) + RTA_ALIGN(a->rta_len);
  if (linkmode >= 0) {
    a = (struct rtattr *)((char *)&m + len);
    a->rta_type = IFLA_LINKMODE;
    a->rta_len = RTA_LENGTH(1);
    *(unsigned char *)RTA_DATA(a) = (unsigned char)linkmode;
    len += RTA_ALIGN(a->rta_len);
  }
  m.h.nlmsg_len = (unsigned)len;
  struct sockaddr_nl k = {.nl_family = AF_NETLINK};
  if (sendto(nl, &m, len, 0, (struct sockaddr *)&k, sizeof k) < 0) die("sendto RTM_SETLINK");
}

static int waiting; /* a start command was sent: the next EAP-SUCCESS opens the port */

static void authenticate(void) {
  char reply[4096];
  request("STATUS", reply, sizeof reply);
  const char *start = strstr(reply, "Supplicant PAE state=AUTHENTICATED") ? "REAUTHENTICATE" : "LOGON";
  waiting = 1;
  request(start, reply, sizeof reply);
  printf("%s\n", start);
  fflush(stdout);
}

/* The port's carrier and operstate from one RTM_NEWLINK; -1 when it is not about the port. */
static int dormant_with_carrier(struct nlmsghdr *h) {
  struct ifinfomsg *i = NLMSG_DATA(h);
  if (i->ifi_index != ifindex || i->ifi_family != AF_UNSPEC) return -1;
  int operstate = -1;
  int len = (int)IFLA_PAYLOAD(h);
  for (struct rtattr *a = IFLA_RTA(i); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
    if (a->rta_type == IFLA_OPERSTATE) operstate = *(unsigned char *)RTA_DATA(a);
  }
  return (i->ifi_flags & IFF_LOWER_UP) && operstate == IF_OPER_DORMANT;
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: minimal-reactor IFNAME WPA_CTRL_SOCKET CLIENT_DIR\n");
    return 2;
  }
  ifindex = (int)if_nametoindex(argv[1]);
  if (ifindex == 0) die(argv[1]);
  snprintf(cmd_path, sizeof cmd_path, "%s/cmd", argv[3]);
  snprintf(ev_path, sizeof ev_path, "%s/ev", argv[3]);
  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);

  nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (nl < 0) die("netlink socket");
  struct sockaddr_nl local = {.nl_family = AF_NETLINK, .nl_groups = RTMGRP_LINK};
  if (bind(nl, (struct sockaddr *)&local, sizeof local) < 0) die("bind netlink");
  cmd = ctrl_socket(cmd_path, argv[2]);
  ev = ctrl_socket(ev_path, argv[2]);
  char buf[65536];
  if (send(ev, "ATTACH", 6, 0) < 0) die("send ATTACH");
  ssize_t n = recv(ev, buf, sizeof buf - 1, 0);
  if (n < 3 || memcmp(buf, "OK", 2) != 0) die("ATTACH");

  setlink(IF_OPER_DORMANT, IF_LINK_MODE_DORMANT);
  printf("ready\n");
  fflush(stdout);
  authenticate();

  int carrier = 1; /* one authentication per carrier-up */
  struct pollfd fds[2] = {{.fd = nl, .events = POLLIN}, {.fd = ev, .events = POLLIN}};
  for (;;) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      die("poll");
    }
    if (fds[0].revents) {
      n = recv(nl, buf, sizeof buf, 0);
      if (n < 0) {
        if (errno == ENOBUFS) continue;
        die("recv netlink");
      }
      for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (unsigned)n); h = NLMSG_NEXT(h, n)) {
        if (h->nlmsg_type != RTM_NEWLINK) continue;
        struct ifinfomsg *i = NLMSG_DATA(h);
        if (i->ifi_index == ifindex && !(i->ifi_flags & IFF_LOWER_UP)) carrier = 0;
        if (dormant_with_carrier(h) == 1 && !carrier) {
          carrier = 1;
          authenticate();
        }
      }
    }
    if (fds[1].revents) {
      n = recv(ev, buf, sizeof buf - 1, 0);
      if (n < 0) die("recv event");
      buf[n] = '\0';
      if (waiting && strstr(buf, "CTRL-EVENT-EAP-SUCCESS")) {
        waiting = 0;
        setlink(IF_OPER_UP, -1);
        printf("UP\n");
        fflush(stdout);
      }
    }
  }
}
