// AF_UNIX SOCK_DGRAM client sockets for Node (which has none: `dgram` knows only UDP), each
// datagram delivered with its sender's pid once SO_PASSCRED is set (passCredentials).
// Made for wpa_supplicant's control interface: the client binds its own path, connects to the
// daemon's path, sends requests and receives replies and events as whole datagrams.
//
// The fd is watched on the loop by the shared core (native/core/polled_fd.h); failures are
// thrown or delivered as errno and syscall (native/core/errno_error.h), which src/wpa/unix-dgram.ts
// words. Exceptions thrown by JS listeners are passed to process 'uncaughtException'.

#include <napi.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <string>
#include <vector>

#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/errno_error.h"
#include "core/loop_call.h"
#include "core/polled_fd.h"

namespace {

using dot1x::core::ThrowErrno;

// Largest datagram delivered. wpa_supplicant's replies fit in 4 KiB, but its event lines are
// bounded only by their content and grow with peer-certificate events (docs/wpa-supplicant.md#sockets).
constexpr size_t kMaxMessage = 64 * 1024;
// Datagrams read per readiness callback before yielding to the rest of the loop.
constexpr int kBurst = 32;

class Socket : public Napi::ObjectWrap<Socket>, public dot1x::core::PollClient {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Socket",
                       {InstanceMethod<&Socket::Bind>("bind"),
                        InstanceMethod<&Socket::Connect>("connect"),
                        InstanceMethod<&Socket::PassCredentials>("passCredentials"),
                        InstanceMethod<&Socket::Send>("send"),
                        InstanceMethod<&Socket::Close>("close"),
                        InstanceMethod<&Socket::JsRef>("ref"),
                        InstanceMethod<&Socket::JsUnref>("unref")});
  }

  // new Socket(onMessage(buffer, senderPid), onError(errno, syscall)); senderPid is 0 unless
  // passCredentials() was called (and the sender is visible in our pid namespace).
  explicit Socket(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Socket>(info), env_(info.Env()) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsFunction() || !info[1].IsFunction()) {
      Napi::TypeError::New(env, "Socket(onMessage, onError): two functions expected").ThrowAsJavaScriptException();
      return;
    }
    int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      ThrowErrno(env, errno, "socket");
      return;
    }
    if (!onMessage_.Init(env, info[0], "dot1x:UnixDgram") || !onError_.Init(env, info[1], "dot1x:UnixDgram")) {
      ::close(fd);
      return;
    }
    buf_.resize(kMaxMessage);
    int err = 0;
    const char* syscall = nullptr;
    polled_ = dot1x::core::PolledFd::Open(env, fd, this, &err, &syscall);
    if (polled_ == nullptr) {
      onMessage_.Reset(env);
      onError_.Reset(env);
      ThrowErrno(env, err, syscall);
      return;
    }
    // Keep the JS object (and its callbacks) alive while the fd is open, whatever the caller
    // keeps: the loop may call back at any time until close().
    Ref();
  }

  ~Socket() override {
    if (polled_ != nullptr) {
      polled_->Forget();
      polled_->Close();
    }
    onMessage_.Reset(env_);
    onError_.Reset(env_);
  }

 private:
  bool OnReadable() override {
    bool readFailed = false;
    napi_handle_scope scope;
    if (napi_open_handle_scope(env_, &scope) != napi_ok) return false;
    for (int i = 0; i < kBurst && polled_ != nullptr && !polled_->closing(); i++) {
      // MSG_TRUNC: the return value is the datagram's real length, so truncation is visible.
      iovec iov = {buf_.data(), buf_.size()};
      alignas(cmsghdr) char control[CMSG_SPACE(sizeof(ucred))];
      msghdr mh = {};
      mh.msg_iov = &iov;
      mh.msg_iovlen = 1;
      mh.msg_control = control;
      mh.msg_controllen = sizeof control;
      ssize_t n = ::recvmsg(polled_->fd(), &mh, MSG_DONTWAIT | MSG_TRUNC | MSG_CMSG_CLOEXEC);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        // e.g. ECONNRESET, the pending error of a socket whose peer went away: reported, and
        // the socket stays usable.
        readFailed = true;
        if (!DeliverError(errno, "recv")) break;
        continue;
      }
      if (static_cast<size_t>(n) > buf_.size()) {
        if (!DeliverError(EMSGSIZE, "recv")) break;
        continue;
      }
      // With SO_PASSCRED the kernel attaches the sender's credentials to every datagram
      // (unix(7) SCM_CREDENTIALS), the pid as seen from our pid namespace (0 when not visible).
      int32_t pid = 0;
      for (cmsghdr* c = CMSG_FIRSTHDR(&mh); c != nullptr; c = CMSG_NXTHDR(&mh, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS && c->cmsg_len >= CMSG_LEN(sizeof(ucred))) {
          ucred cred;
          std::memcpy(&cred, CMSG_DATA(c), sizeof cred);
          pid = cred.pid;
        }
      }
      napi_value argv[2];
      void* ignored;
      if (napi_create_buffer_copy(env_, static_cast<size_t>(n), buf_.data(), &ignored, &argv[0]) != napi_ok ||
          napi_create_int32(env_, pid, &argv[1]) != napi_ok) {
        break;
      }
      if (!onMessage_.Call(env_, 2, argv)) break;
    }
    napi_close_handle_scope(env_, scope);
    return readFailed;
  }

  void OnPollStopped(int err) override {
    napi_handle_scope scope;
    if (napi_open_handle_scope(env_, &scope) != napi_ok) return;
    DeliverError(err, "poll");
    napi_close_handle_scope(env_, scope);
  }

  void OnDetached() override {
    polled_ = nullptr;
    onMessage_.Reset(env_);
    onError_.Reset(env_);
    Unref();
  }

  // onError(errno, syscall); false when JS could not run.
  bool DeliverError(int err, const char* syscall) {
    napi_value argv[2];
    if (napi_create_int32(env_, err, &argv[0]) != napi_ok ||
        napi_create_string_utf8(env_, syscall, NAPI_AUTO_LENGTH, &argv[1]) != napi_ok) {
      return false;
    }
    return onError_.Call(env_, 2, argv);
  }

  // Fills a sockaddr_un; 0, or the errno the path deserves. A path that starts with a NUL byte
  // is an abstract name (unix(7)): its length is the address length, with no terminating NUL
  // (systemd's NOTIFY_SOCKET "@name").
  static int Address(const std::string& path, sockaddr_un* sun, socklen_t* len) {
    std::memset(sun, 0, sizeof *sun);
    sun->sun_family = AF_UNIX;
    const bool abstract = !path.empty() && path[0] == '\0';
    if (abstract ? (path.size() < 2 || path.size() > sizeof sun->sun_path)
                 : (path.empty() || path.size() >= sizeof sun->sun_path || path.find('\0') != std::string::npos)) {
      return path.size() < (abstract ? 2u : 1u) ? EINVAL : ENAMETOOLONG;
    }
    std::memcpy(sun->sun_path, path.data(), path.size());
    *len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + (abstract ? 0 : 1));
    return 0;
  }

  // The open fd, or -1 with EBADF thrown.
  int OpenFd(Napi::Env env, const char* syscall) {
    if (polled_ != nullptr && !polled_->closing()) return polled_->fd();
    ThrowErrno(env, EBADF, syscall);
    return -1;
  }

  // bind() and connect(): a path argument made into an address, one call.
  template <typename Call>
  Napi::Value AddressCall(const Napi::CallbackInfo& info, const char* syscall, Call call) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsString()) {
      Napi::TypeError::New(env, std::string(syscall) + ": path string expected").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    std::string path = info[0].As<Napi::String>().Utf8Value();
    int fd = OpenFd(env, syscall);
    if (fd < 0) return env.Undefined();
    sockaddr_un sun;
    socklen_t len = 0;
    if (int err = Address(path, &sun, &len)) {
      ThrowErrno(env, err, syscall);
      return env.Undefined();
    }
    int r;
    do r = call(fd, reinterpret_cast<sockaddr*>(&sun), len);
    while (r != 0 && errno == EINTR);
    if (r != 0) ThrowErrno(env, errno, syscall);
    return env.Undefined();
  }

  Napi::Value Bind(const Napi::CallbackInfo& info) { return AddressCall(info, "bind", ::bind); }

  Napi::Value Connect(const Napi::CallbackInfo& info) { return AddressCall(info, "connect", ::connect); }

  // setsockopt SO_PASSCRED: every datagram received from now on carries its sender's pid.
  Napi::Value PassCredentials(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    int fd = OpenFd(env, "setsockopt");
    if (fd < 0) return env.Undefined();
    int on = 1;
    if (::setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &on, sizeof on) != 0) ThrowErrno(env, errno, "setsockopt");
    return env.Undefined();
  }

  // send(Buffer | string) -> bytes sent. Never blocks: a full peer queue is EAGAIN.
  Napi::Value Send(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::string text;
    const char* data;
    size_t len;
    if (info.Length() >= 1 && info[0].IsBuffer()) {
      auto b = info[0].As<Napi::Buffer<char>>();
      data = b.Data();
      len = b.Length();
    } else if (info.Length() >= 1 && info[0].IsString()) {
      text = info[0].As<Napi::String>().Utf8Value();
      data = text.data();
      len = text.size();
    } else {
      Napi::TypeError::New(env, "send: Buffer or string expected").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    int fd = OpenFd(env, "send");
    if (fd < 0) return env.Undefined();
    ssize_t n;
    do n = ::send(fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
      ThrowErrno(env, errno, "send");
      return env.Undefined();
    }
    return Napi::Number::New(env, static_cast<double>(n));
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    if (polled_ != nullptr) polled_->Close();
    return info.Env().Undefined();
  }

  // Whether an open socket keeps the process alive (like net.Socket ref/unref).
  Napi::Value JsRef(const Napi::CallbackInfo& info) {
    if (polled_ != nullptr) polled_->Ref();
    return info.Env().Undefined();
  }
  Napi::Value JsUnref(const Napi::CallbackInfo& info) {
    if (polled_ != nullptr) polled_->Unref();
    return info.Env().Undefined();
  }

  napi_env env_ = nullptr;
  dot1x::core::PolledFd* polled_ = nullptr;
  dot1x::core::LoopCallback onMessage_;
  dot1x::core::LoopCallback onError_;
  std::vector<char> buf_;
};

Napi::Object Module(Napi::Env env, Napi::Object exports) {
  exports.Set("Socket", Socket::Define(env));
  return exports;
}

}  // namespace

NODE_API_MODULE(dot1x_unix_dgram, Module)
