// RouteSocketHandle: one NETLINK_ROUTE socket, member of RTNLGRP_LINK, watched by a uv_poll_t
// on the environment's own loop (napi_get_uv_event_loop, so a Worker gets its own). No
// threads, no timers. Everything the socket receives is parsed (parse.cc) and handed to one
// JS callback as a flat batch; matching replies to requests is done in TypeScript.
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <cstring>
#include <memory>
#include <string>

#include "addon.h"
#include "core/errno_error.h"
#include "core/loop_call.h"
#include "core/polled_fd.h"
#include "parse.h"

namespace dot1x {
namespace {

// The kernel fills dump skbs up to about 32 KiB (net/netlink/af_netlink.c, max_recvmsg_len);
// 64 KiB leaves room for a single large message.
constexpr size_t kRecvBufferBytes = 64 * 1024;
// Datagrams read per wake-up before control goes back to the loop.
constexpr int kMaxDatagramsPerWakeup = 64;
// No IFLA_EXT_MASK in our GETLINK requests: the filters mostly add details we do not read.
// RTEXT_FILTER_SKIP_STATS would drop some statistics (IFLA_STATS64 still comes): measured on
// this kernel with 1000 veths, 1128 instead of 1497 bytes per link but the same dump time,
// since filling the message, not copying it, is what costs (perf: rtnl_fill_ifinfo).

class RouteSocketHandle : public Napi::ObjectWrap<RouteSocketHandle>, public core::PollClient {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "RouteSocketHandle",
                       {
                           InstanceMethod<&RouteSocketHandle::RequestLink>("requestLink"),
                           InstanceMethod<&RouteSocketHandle::RequestDump>("requestDump"),
                           InstanceMethod<&RouteSocketHandle::RequestSetLink>("requestSetLink"),
                           InstanceMethod<&RouteSocketHandle::RawDump>("rawDump"),
                           InstanceMethod<&RouteSocketHandle::CloseJs>("close"),
                           InstanceMethod<&RouteSocketHandle::RefJs>("ref"),
                           InstanceMethod<&RouteSocketHandle::UnrefJs>("unref"),
                           InstanceAccessor<&RouteSocketHandle::PortId>("portId"),
                           InstanceAccessor<&RouteSocketHandle::Malformed>("malformed"),
                       });
  }

  // new RouteSocketHandle(netnsPath: string | null, receiveBufferBytes: number, onBatch)
  explicit RouteSocketHandle(const Napi::CallbackInfo& info) : Napi::ObjectWrap<RouteSocketHandle>(info) {
    Napi::Env env = info.Env();
    if (!info[2].IsFunction() || !info[1].IsNumber()) {
      Napi::TypeError::New(env, "RouteSocketHandle(netns, receiveBufferBytes, onBatch)").ThrowAsJavaScriptException();
      return;
    }
    std::string netns = info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "";
    int rcvbuf = info[1].As<Napi::Number>().Int32Value();

    const char* syscall = nullptr;
    int fd = OpenSocket(netns, rcvbuf, &syscall);
    if (fd < 0) {
      core::ThrowErrno(env, -fd, syscall);
      return;
    }
    sockaddr_nl local{};
    socklen_t alen = sizeof(local);
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &alen) < 0) {
      int err = errno;
      ::close(fd);
      core::ThrowErrno(env, err, "getsockname");
      return;
    }
    if (!onBatch_.Init(env, info[2], "dot1x:RouteSocket")) {
      ::close(fd);
      return;
    }
    int err = 0;
    polled_ = core::PolledFd::Open(env, fd, this, &err, &syscall);
    if (polled_ == nullptr) {
      onBatch_.Reset(env);
      core::ThrowErrno(env, err, syscall);
      return;
    }
    env_ = env;
    portId_ = local.nl_pid;
    // Stay alive while open, like any handle with a callback pending.
    Ref();
  }

  ~RouteSocketHandle() override {
    if (polled_ != nullptr) {
      polled_->Forget();
      polled_->Close();
    }
    onBatch_.Reset(env_);
  }

 private:
  // One datagram into buf_ without blocking: its length, or -errno. `from` says who sent it
  // and on which multicast group; `truncated` whether it did not fit buf_ (MSG_TRUNC).
  ssize_t Receive(sockaddr_nl* from, bool* truncated) {
    iovec iov{buf_.get(), kRecvBufferBytes};
    msghdr msg{};
    msg.msg_name = from;
    msg.msg_namelen = sizeof(*from);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    for (;;) {
      ssize_t n = recvmsg(polled_->fd(), &msg, MSG_DONTWAIT);
      if (n >= 0) {
        *truncated = (msg.msg_flags & MSG_TRUNC) != 0;
        return n;
      }
      if (errno != EINTR) return -errno;
    }
  }

  static int OpenSocket(const std::string& netns, int rcvbuf, const char** syscall) {
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
        Napi::Error::Fatal("dot1x_netlink", "setns back to the original network namespace failed");
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
    if (setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group, sizeof(group)) < 0) return fail("setsockopt");
    return fd;
  }

  bool Usable(Napi::Env env) {
    if (polled_ != nullptr && !polled_->closing()) return true;
    core::ThrowErrno(env, EBADF, "sendto");
    return false;
  }

  struct Request {
    struct nlmsghdr h;
    struct ifinfomsg ifi;
    char attrs[256];
  };

  static void InitRequest(Request* r, uint16_t type, uint16_t flags, uint32_t seq, int index) {
    std::memset(r, 0, sizeof(*r));
    r->h.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg));
    r->h.nlmsg_type = type;
    r->h.nlmsg_flags = NLM_F_REQUEST | flags;
    r->h.nlmsg_seq = seq;
    r->ifi.ifi_family = AF_UNSPEC;
    r->ifi.ifi_index = index;
  }

  // Appends one attribute; false when it does not fit the request buffer.
  static bool AddAttr(Request* r, uint16_t type, const void* data, size_t len) {
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

  bool Send(Napi::Env env, const Request& r) {
    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    for (;;) {
      ssize_t n = sendto(polled_->fd(), &r, r.h.nlmsg_len, 0, reinterpret_cast<sockaddr*>(&kernel), sizeof(kernel));
      if (n >= 0) return true;
      if (errno == EINTR) continue;
      core::ThrowErrno(env, errno, "sendto");
      return false;
    }
  }

  // requestLink(seq, index, name | null): single-interface RTM_GETLINK.
  Napi::Value RequestLink(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!Usable(env)) return env.Undefined();
    Request r;
    InitRequest(&r, RTM_GETLINK, 0, info[0].As<Napi::Number>().Uint32Value(), info[1].As<Napi::Number>().Int32Value());
    if (info[2].IsString()) {
      std::string name = info[2].As<Napi::String>().Utf8Value();
      if (!AddAttr(&r, IFLA_IFNAME, name.c_str(), name.size() + 1)) {
        core::ThrowErrno(env, EINVAL, "sendto");
        return env.Undefined();
      }
    }
    Send(env, r);
    return env.Undefined();
  }

  static void InitDump(Request* r, uint32_t seq) {
    InitRequest(r, RTM_GETLINK, NLM_F_DUMP, seq, 0);
  }

  // requestDump(seq): RTM_GETLINK with NLM_F_DUMP.
  Napi::Value RequestDump(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!Usable(env)) return env.Undefined();
    Request r;
    InitDump(&r, info[0].As<Napi::Number>().Uint32Value());
    Send(env, r);
    return env.Undefined();
  }

  // requestSetLink(seq, index, linkmode | -1, operstate | -1): ONE RTM_SETLINK with NLM_F_ACK
  // carrying the given attributes together (both are NLA_U8 in net/core/rtnetlink.c ifla_policy).
  Napi::Value RequestSetLink(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!Usable(env)) return env.Undefined();
    Request r;
    InitRequest(&r, RTM_SETLINK, NLM_F_ACK, info[0].As<Napi::Number>().Uint32Value(),
                info[1].As<Napi::Number>().Int32Value());
    int linkmode = info[2].As<Napi::Number>().Int32Value();
    int operstate = info[3].As<Napi::Number>().Int32Value();
    if (operstate >= 0) {
      uint8_t v = static_cast<uint8_t>(operstate);
      AddAttr(&r, IFLA_OPERSTATE, &v, 1);
    }
    if (linkmode >= 0) {
      uint8_t v = static_cast<uint8_t>(linkmode);
      AddAttr(&r, IFLA_LINKMODE, &v, 1);
    }
    Send(env, r);
    return env.Undefined();
  }

  // Test/benchmark baseline: the same dump request, received synchronously, bytes counted,
  // nothing parsed beyond finding the end. Multicasts that arrive meanwhile are discarded.
  // rawDump(seq, capture): with capture true, returns the received bytes (for parser tests).
  Napi::Value RawDump(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!Usable(env)) return env.Undefined();
    uint32_t seq = info[0].As<Napi::Number>().Uint32Value();
    bool capture = info[1].IsBoolean() && info[1].As<Napi::Boolean>().Value();
    std::string captured;
    Request r;
    InitDump(&r, seq);
    if (!Send(env, r)) return env.Undefined();
    double bytes = 0;
    for (;;) {
      sockaddr_nl from{};
      bool truncated = false;
      ssize_t n = Receive(&from, &truncated);
      if (n == -ENOBUFS) continue;
      if (n == -EAGAIN) {
        pollfd p{polled_->fd(), POLLIN, 0};
        if (poll(&p, 1, 10000) == 0) {
          core::ThrowErrno(env, ETIMEDOUT, "poll");
          return env.Undefined();
        }
        continue;
      }
      if (n < 0) {
        core::ThrowErrno(env, static_cast<int>(-n), "recvmsg");
        return env.Undefined();
      }
      if (from.nl_groups != 0 || from.nl_pid != 0) continue;
      bytes += static_cast<double>(n);
      if (capture) captured.append(reinterpret_cast<const char*>(buf_.get()), static_cast<size_t>(n));
      int len = static_cast<int>(n);
      for (const nlmsghdr* h = reinterpret_cast<const nlmsghdr*>(buf_.get()); NLMSG_OK(h, len);
           h = NLMSG_NEXT(h, len)) {
        if (h->nlmsg_seq == seq && (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR)) {
          if (capture) return Napi::Buffer<char>::Copy(env, captured.data(), captured.size());
          return Napi::Number::New(env, bytes);
        }
      }
    }
  }

  Napi::Value CloseJs(const Napi::CallbackInfo& info) {
    if (polled_ != nullptr) polled_->Close();
    return info.Env().Undefined();
  }

  Napi::Value RefJs(const Napi::CallbackInfo& info) {
    if (polled_ != nullptr) polled_->Ref();
    return info.Env().Undefined();
  }

  Napi::Value UnrefJs(const Napi::CallbackInfo& info) {
    if (polled_ != nullptr) polled_->Unref();
    return info.Env().Undefined();
  }

  Napi::Value PortId(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), portId_);
  }

  Napi::Value Malformed(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), malformed_);
  }

  // Everything the socket holds, parsed into one batch and delivered once.
  bool OnReadable() override {
    Batch& b = batch_;
    b.clear();
    bool readFailed = false;
    for (int i = 0; i < kMaxDatagramsPerWakeup; i++) {
      sockaddr_nl from{};
      bool truncated = false;
      ssize_t n = Receive(&from, &truncated);
      if (n == -EAGAIN || n == -EWOULDBLOCK) break;
      if (n < 0) {
        readFailed = true;
        if (n == -ENOBUFS) {  // the kernel dropped messages for us (netlink_overrun)
          b.add(kItemOverrun, 0);
          continue;
        }
        b.add(kItemRecvError, 0)[kWordErrno] = static_cast<uint32_t>(-n);
        break;
      }
      // Only the kernel (port 0) speaks rtnetlink; anything else is another process.
      if (from.nl_pid != 0) continue;
      if (truncated) {
        b.malformed++;
        continue;
      }
      ParseDatagram(buf_.get(), static_cast<size_t>(n), from.nl_groups != 0, &b);
    }
    malformed_ += b.malformed;
    if (!b.empty()) Deliver();
    return readFailed;
  }

  void OnPollStopped(int err) override {
    batch_.clear();
    batch_.add(kItemRecvError, 0)[kWordErrno] = static_cast<uint32_t>(err);
    Deliver();
  }

  // Called from the close callback: the handle is gone, so is the reason to stay alive.
  void OnDetached() override {
    polled_ = nullptr;
    onBatch_.Reset(env_);
    Unref();
  }

  // onBatch(words: Uint32Array, strings: string, malformed: number). Plain Node-API calls: in a
  // Worker being terminated every call fails, and that must end the delivery quietly.
  void Deliver() {
    napi_env env = env_;
    Batch& b = batch_;
    napi_handle_scope scope;
    if (napi_open_handle_scope(env, &scope) != napi_ok) return;
    napi_value ab, argv[3];
    void* data = nullptr;
    size_t bytes = b.words.size() * sizeof(uint32_t);
    if (napi_create_arraybuffer(env, bytes, &data, &ab) == napi_ok &&
        napi_create_typedarray(env, napi_uint32_array, b.words.size(), ab, 0, &argv[0]) == napi_ok &&
        napi_create_string_utf8(env, b.strings.data(), b.strings.size(), &argv[1]) == napi_ok &&
        napi_create_uint32(env, b.malformed, &argv[2]) == napi_ok) {
      std::memcpy(data, b.words.data(), bytes);
      onBatch_.Call(env, 3, argv);
    }
    napi_close_handle_scope(env, scope);
  }

  napi_env env_ = nullptr;
  core::PolledFd* polled_ = nullptr;
  core::LoopCallback onBatch_;
  uint32_t portId_ = 0;
  double malformed_ = 0;
  std::unique_ptr<uint8_t[]> buf_{new uint8_t[kRecvBufferBytes]};
  Batch batch_;
};

}  // namespace

Napi::Function InitRouteSocket(Napi::Env env) {
  Napi::Function ctor = RouteSocketHandle::Define(env);
  env.GetInstanceData<AddonData>()->socketCtor = Napi::Persistent(ctor);
  return ctor;
}

}  // namespace dot1x
