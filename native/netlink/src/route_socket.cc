// RouteSocketHandle: one NETLINK_ROUTE socket, member of RTNLGRP_LINK, watched by a uv_poll_t
// on the environment's own loop (napi_get_uv_event_loop, so a Worker gets its own). No
// threads, no timers. Everything the socket receives is parsed (parse.cc) and handed to one
// JS callback as a flat batch; matching replies to requests is done in TypeScript.
#include <errno.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
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
#include "rtnl_socket.h"

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
                           InstanceMethod<&RouteSocketHandle::CloseJs>("close"),
                           InstanceMethod<&RouteSocketHandle::RefJs>("ref"),
                           InstanceMethod<&RouteSocketHandle::UnrefJs>("unref"),
                           InstanceAccessor<&RouteSocketHandle::PortId>("portId"),
                       });
  }

  // new RouteSocketHandle(netnsPath: string | null, receiveBufferBytes: number, onBatch)
  explicit RouteSocketHandle(const Napi::CallbackInfo& info)
      : Napi::ObjectWrap<RouteSocketHandle>(info), env_(info.Env()) {
    Napi::Env env = info.Env();
    if (!info[2].IsFunction() || !info[1].IsNumber()) {
      Napi::TypeError::New(env, "RouteSocketHandle(netns, receiveBufferBytes, onBatch)").ThrowAsJavaScriptException();
      return;
    }
    std::string netns = info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "";
    int rcvbuf = info[1].As<Napi::Number>().Int32Value();

    const char* syscall = nullptr;
    int fd = OpenRouteSocket(netns, rcvbuf, true, &syscall);
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

  bool Usable(Napi::Env env) {
    if (polled_ != nullptr && !polled_->closing()) return true;
    core::ThrowErrno(env, EBADF, "sendto");
    return false;
  }

  bool Send(Napi::Env env, const Request& r) {
    int err = SendRequest(polled_->fd(), r);
    if (err == 0) return true;
    core::ThrowErrno(env, err, "sendto");
    return false;
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
    // A read of nothing but dropped messages is delivered too: TypeScript counts and reports them.
    if (!b.empty() || b.malformed > 0) Deliver();
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
