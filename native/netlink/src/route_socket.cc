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

class RouteSocketHandle;

// Lives as long as the uv handle: freed in the uv_close callback, never before.
struct Conn {
  uv_poll_t poll;
  int fd = -1;
  napi_env env = nullptr;
  uint32_t portId = 0;
  Napi::FunctionReference onBatch;
  napi_async_context asyncContext = nullptr;
  napi_async_cleanup_hook_handle cleanupHook = nullptr;
  RouteSocketHandle* owner = nullptr;
  bool closing = false;
  double malformed = 0;
  std::unique_ptr<uint8_t[]> buf{new uint8_t[kRecvBufferBytes]};
  Batch batch;

  // One datagram into buf without blocking: its length, or -errno. `from` says who sent it
  // and on which multicast group; `truncated` whether it did not fit buf (MSG_TRUNC).
  ssize_t Receive(sockaddr_nl* from, bool* truncated) {
    iovec iov{buf.get(), kRecvBufferBytes};
    msghdr msg{};
    msg.msg_name = from;
    msg.msg_namelen = sizeof(*from);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    for (;;) {
      ssize_t n = recvmsg(fd, &msg, MSG_DONTWAIT);
      if (n >= 0) {
        *truncated = (msg.msg_flags & MSG_TRUNC) != 0;
        return n;
      }
      if (errno != EINTR) return -errno;
    }
  }

  void Close();
};

void OnClosed(uv_handle_t* handle);

class RouteSocketHandle : public Napi::ObjectWrap<RouteSocketHandle> {
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
      ThrowOsError(env, -fd, syscall, "open route socket", netns);
      return;
    }
    sockaddr_nl local{};
    socklen_t alen = sizeof(local);
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &alen) < 0) {
      int err = errno;
      ::close(fd);
      ThrowOsError(env, err, "getsockname", "open route socket", netns);
      return;
    }

    uv_loop_t* loop = nullptr;
    if (napi_get_uv_event_loop(env, &loop) != napi_ok) {
      ::close(fd);
      Napi::Error::New(env, "open route socket: no event loop").ThrowAsJavaScriptException();
      return;
    }
    conn_ = new Conn();
    // Checked before anything else owns conn_: an uninitialised handle must not be started or
    // closed, so a failure here is undone by hand.
    int rc = uv_poll_init_socket(loop, &conn_->poll, fd);
    if (rc != 0) {
      delete conn_;
      conn_ = nullptr;
      ::close(fd);
      ThrowOsError(env, -rc, "uv_poll_init", "open route socket", netns);
      return;
    }
    conn_->fd = fd;
    conn_->env = env;
    conn_->portId = local.nl_pid;
    conn_->owner = this;
    conn_->onBatch = Napi::Persistent(info[2].As<Napi::Function>());
    napi_async_init(env, Napi::Object::New(env), Napi::String::New(env, "dot1x:RouteSocket"), &conn_->asyncContext);
    conn_->poll.data = conn_;
    rc = uv_poll_start(&conn_->poll, UV_READABLE, OnReadable);
    // A terminated Worker tears its environment down: close the handle before the loop goes.
    napi_add_async_cleanup_hook(
        env, [](napi_async_cleanup_hook_handle, void* arg) { static_cast<Conn*>(arg)->Close(); }, conn_,
        &conn_->cleanupHook);
    if (rc != 0) {
      conn_->owner = nullptr;
      conn_->Close();
      conn_ = nullptr;
      ThrowOsError(env, -rc, "epoll_ctl", "open route socket", netns);
      return;
    }
    // Stay alive while open, like any handle with a callback pending.
    Ref();
  }

  ~RouteSocketHandle() override {
    if (conn_) {
      conn_->owner = nullptr;
      conn_->Close();
    }
  }

  // Called from OnClosed: the handle is gone, so is the reason to stay alive.
  void Detach() {
    conn_ = nullptr;
    Unref();
  }

 private:
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

  bool Usable(Napi::Env env, const std::string& op, const std::string& target) {
    if (conn_ && !conn_->closing) return true;
    ThrowOsError(env, EBADF, "sendto", op, target);
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

  bool Send(Napi::Env env, const Request& r, const std::string& op, const std::string& target) {
    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    for (;;) {
      ssize_t n = sendto(conn_->fd, &r, r.h.nlmsg_len, 0, reinterpret_cast<sockaddr*>(&kernel), sizeof(kernel));
      if (n >= 0) return true;
      if (errno == EINTR) continue;
      ThrowOsError(env, errno, "sendto", op, target);
      return false;
    }
  }

  static std::string Str(const Napi::Value& v) { return v.IsString() ? v.As<Napi::String>().Utf8Value() : ""; }

  // requestLink(seq, index, name | null, operation, target): single-interface RTM_GETLINK.
  Napi::Value RequestLink(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::string op = Str(info[3]), target = Str(info[4]);
    if (!Usable(env, op, target)) return env.Undefined();
    Request r;
    InitRequest(&r, RTM_GETLINK, 0, info[0].As<Napi::Number>().Uint32Value(), info[1].As<Napi::Number>().Int32Value());
    if (info[2].IsString()) {
      std::string name = info[2].As<Napi::String>().Utf8Value();
      if (!AddAttr(&r, IFLA_IFNAME, name.c_str(), name.size() + 1)) {
        ThrowOsError(env, EINVAL, "sendto", op, target);
        return env.Undefined();
      }
    }
    Send(env, r, op, target);
    return env.Undefined();
  }

  static void InitDump(Request* r, uint32_t seq) {
    InitRequest(r, RTM_GETLINK, NLM_F_DUMP, seq, 0);
  }

  // requestDump(seq, operation): RTM_GETLINK with NLM_F_DUMP.
  Napi::Value RequestDump(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::string op = Str(info[1]);
    if (!Usable(env, op, "")) return env.Undefined();
    Request r;
    InitDump(&r, info[0].As<Napi::Number>().Uint32Value());
    Send(env, r, op, "");
    return env.Undefined();
  }

  // requestSetLink(seq, index, linkmode | -1, operstate | -1, operation, target): ONE
  // RTM_SETLINK with NLM_F_ACK carrying the given attributes together (both are NLA_U8 in
  // net/core/rtnetlink.c ifla_policy).
  Napi::Value RequestSetLink(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::string op = Str(info[4]), target = Str(info[5]);
    if (!Usable(env, op, target)) return env.Undefined();
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
    Send(env, r, op, target);
    return env.Undefined();
  }

  // Test/benchmark baseline: the same dump request, received synchronously, bytes counted,
  // nothing parsed beyond finding the end. Multicasts that arrive meanwhile are discarded.
  // rawDump(seq, capture): with capture true, returns the received bytes (for parser tests).
  Napi::Value RawDump(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!Usable(env, "rawDump", "")) return env.Undefined();
    uint32_t seq = info[0].As<Napi::Number>().Uint32Value();
    bool capture = info[1].IsBoolean() && info[1].As<Napi::Boolean>().Value();
    std::string captured;
    Request r;
    InitDump(&r, seq);
    if (!Send(env, r, "rawDump", "")) return env.Undefined();
    double bytes = 0;
    for (;;) {
      sockaddr_nl from{};
      bool truncated = false;
      ssize_t n = conn_->Receive(&from, &truncated);
      if (n == -ENOBUFS) continue;
      if (n == -EAGAIN) {
        pollfd p{conn_->fd, POLLIN, 0};
        if (poll(&p, 1, 10000) == 0) {
          ThrowOsError(env, ETIMEDOUT, "poll", "rawDump", "");
          return env.Undefined();
        }
        continue;
      }
      if (n < 0) {
        ThrowOsError(env, static_cast<int>(-n), "recvmsg", "rawDump", "");
        return env.Undefined();
      }
      if (from.nl_groups != 0 || from.nl_pid != 0) continue;
      bytes += static_cast<double>(n);
      if (capture) captured.append(reinterpret_cast<const char*>(conn_->buf.get()), static_cast<size_t>(n));
      int len = static_cast<int>(n);
      for (const nlmsghdr* h = reinterpret_cast<const nlmsghdr*>(conn_->buf.get()); NLMSG_OK(h, len);
           h = NLMSG_NEXT(h, len)) {
        if (h->nlmsg_seq == seq && (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR)) {
          if (capture) return Napi::Buffer<char>::Copy(env, captured.data(), captured.size());
          return Napi::Number::New(env, bytes);
        }
      }
    }
  }

  Napi::Value CloseJs(const Napi::CallbackInfo& info) {
    if (conn_) conn_->Close();
    return info.Env().Undefined();
  }

  Napi::Value RefJs(const Napi::CallbackInfo& info) {
    if (conn_ && !conn_->closing) uv_ref(reinterpret_cast<uv_handle_t*>(&conn_->poll));
    return info.Env().Undefined();
  }

  Napi::Value UnrefJs(const Napi::CallbackInfo& info) {
    if (conn_ && !conn_->closing) uv_unref(reinterpret_cast<uv_handle_t*>(&conn_->poll));
    return info.Env().Undefined();
  }

  Napi::Value PortId(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), conn_ ? conn_->portId : 0);
  }

  Napi::Value Malformed(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), conn_ ? conn_->malformed : malformedAtClose_);
  }

  static void OnReadable(uv_poll_t* handle, int status, int /*events*/) {
    Conn* c = static_cast<Conn*>(handle->data);
    if (c->closing) return;
    Batch& b = c->batch;
    b.clear();
    // A pending socket error (netlink_overrun sets sk_err = ENOBUFS) shows up as POLLERR, which
    // libuv reports as a negative status *and* stops the handle (uv__poll_io). recvmsg returns
    // that error and clears it, so read as usual and start polling again.
    bool sawError = false;
    for (int i = 0; i < kMaxDatagramsPerWakeup; i++) {
      sockaddr_nl from{};
      bool truncated = false;
      ssize_t n = c->Receive(&from, &truncated);
      if (n == -EAGAIN || n == -EWOULDBLOCK) break;
      if (n < 0) {
        sawError = true;
        if (n == -ENOBUFS) {  // the kernel dropped messages for us
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
      ParseDatagram(c->buf.get(), static_cast<size_t>(n), from.nl_groups != 0, &b);
    }
    if (status < 0) {
      if (sawError) {
        uv_poll_start(&c->poll, UV_READABLE, OnReadable);
      } else {
        // An error recvmsg does not report: polling again would spin, so stay stopped and say so.
        b.add(kItemRecvError, 0)[kWordErrno] = static_cast<uint32_t>(-status);
      }
    }
    c->malformed += b.malformed;
    if (b.empty()) return;
    Deliver(c);
  }

  // onBatch(words: Uint32Array, strings: string, malformed: number), through MakeCallback so
  // promise jobs and nextTicks run afterwards; a throw goes to 'uncaughtException'.
  // Plain Node-API calls here: in a Worker being terminated every call fails, and that must
  // end the delivery quietly (the node-addon-api wrappers would make it a fatal error).
  static void Deliver(Conn* c) {
    napi_env env = c->env;
    Batch& b = c->batch;
    napi_handle_scope scope;
    if (napi_open_handle_scope(env, &scope) != napi_ok) return;
    napi_value ab, argv[3], global, fn, result;
    void* data = nullptr;
    size_t bytes = b.words.size() * sizeof(uint32_t);
    if (napi_create_arraybuffer(env, bytes, &data, &ab) == napi_ok &&
        napi_create_typedarray(env, napi_uint32_array, b.words.size(), ab, 0, &argv[0]) == napi_ok &&
        napi_create_string_utf8(env, b.strings.data(), b.strings.size(), &argv[1]) == napi_ok &&
        napi_create_uint32(env, b.malformed, &argv[2]) == napi_ok && napi_get_global(env, &global) == napi_ok &&
        napi_get_reference_value(env, c->onBatch, &fn) == napi_ok && fn != nullptr) {
      std::memcpy(data, b.words.data(), bytes);
      napi_make_callback(env, c->asyncContext, global, fn, 3, argv, &result);
      // A real throw is pending now; a terminating Worker only makes the call fail.
      bool pending = false;
      if (napi_is_exception_pending(env, &pending) == napi_ok && pending) {
        napi_value err;
        napi_get_and_clear_last_exception(env, &err);
        napi_fatal_exception(env, err);
      }
    }
    napi_close_handle_scope(env, scope);
  }

  friend struct Conn;
  Conn* conn_ = nullptr;
  double malformedAtClose_ = 0;

 public:
  void RememberMalformed(double m) { malformedAtClose_ = m; }
};

void Conn::Close() {
  if (closing) return;
  closing = true;
  uv_poll_stop(&poll);
  uv_close(reinterpret_cast<uv_handle_t*>(&poll), OnClosed);
}

void OnClosed(uv_handle_t* handle) {
  Conn* c = static_cast<Conn*>(handle->data);
  ::close(c->fd);
  c->onBatch.Reset();
  if (c->asyncContext) napi_async_destroy(c->env, c->asyncContext);
  if (c->owner) {
    c->owner->RememberMalformed(c->malformed);
    c->owner->Detach();
  }
  napi_async_cleanup_hook_handle hook = c->cleanupHook;
  delete c;
  // Last: removing the hook lets a terminating Worker finish tearing down.
  if (hook) napi_remove_async_cleanup_hook(hook);
}

}  // namespace

Napi::Function InitRouteSocket(Napi::Env env) {
  Napi::Function ctor = RouteSocketHandle::Define(env);
  env.GetInstanceData<AddonData>()->socketCtor = Napi::Persistent(ctor);
  return ctor;
}

}  // namespace dot1x
