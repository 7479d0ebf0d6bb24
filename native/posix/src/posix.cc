// Three system calls Node does not offer, as thin wrappers: each returns what the call
// returned, or the negated errno, and decides nothing (src/os/posix.ts gives them meaning and
// words). Returned, not thrown as native/core/errno_error.h does: EWOULDBLOCK from flock and
// ECHILD from waitpid are answers here, not failures.
//   flockExclusive(fd)   flock(2) LOCK_EX | LOCK_NB
//   setChildSubreaper()  prctl(2) PR_SET_CHILD_SUBREAPER, 1
//   reap(pid)            waitpid(2) pid, WNOHANG: the pid once it was reaped, 0 while it runs
// and a netlink datagram socket of any protocol, for messages built in TypeScript:
//   netlinkOpen(protocol)      socket(2) AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, bound
//                              (bind(2)) to a port id the kernel picks: the descriptor
//   netlinkSend(fd, buffer)    sendto(2) the kernel (port id 0): the bytes sent
//   netlinkRecv(fd, buffer, from)  recvfrom(2) MSG_DONTWAIT into buffer: the bytes of one
//                              datagram (-EAGAIN when none is queued; MSG_TRUNC reports a longer
//                              one), the sender's port id (nl_pid, 0 for the kernel) in from[0]
// The descriptor is closed with fs.closeSync.
// And one watcher, a class because the loop calls it back:
//   new ProcessWatch(pid, onExit)   pidfd_open(2) PID, the pidfd polled on the loop
//                              (native/core/polled_fd.h): onExit() once, when the process has
//                              ended (the pidfd turns readable), then the watch closes itself.
//                              close() ends it; unref() lets the loop end while it watches.
//                              Throws errno errors (native/core/errno_error.h): ESRCH, no such
//                              process; ENOSYS, a kernel before 5.3.
#include <napi.h>

#include <cerrno>

#include <linux/netlink.h>
#include <sys/file.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/errno_error.h"
#include "core/loop_call.h"
#include "core/polled_fd.h"

namespace {

int32_t Result(int r) { return r < 0 ? -errno : r; }

bool Int32Arg(const Napi::CallbackInfo& info, const char* usage, int32_t* out) {
  if (info.Length() < 1 || !info[0].IsNumber()) {
    Napi::TypeError::New(info.Env(), usage).ThrowAsJavaScriptException();
    return false;
  }
  *out = info[0].As<Napi::Number>().Int32Value();
  return true;
}

Napi::Value FlockExclusive(const Napi::CallbackInfo& info) {
  int32_t fd;
  if (!Int32Arg(info, "flockExclusive(fd): a file descriptor is needed", &fd)) return info.Env().Undefined();
  int r;
  do r = flock(fd, LOCK_EX | LOCK_NB); while (r < 0 && errno == EINTR);
  return Napi::Number::New(info.Env(), Result(r));
}

Napi::Value SetChildSubreaper(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), Result(prctl(PR_SET_CHILD_SUBREAPER, 1UL, 0UL, 0UL, 0UL)));
}

Napi::Value Reap(const Napi::CallbackInfo& info) {
  int32_t pid;
  if (!Int32Arg(info, "reap(pid): a process id is needed", &pid)) return info.Env().Undefined();
  if (pid <= 0) {
    // waitpid(-1) or a process group would take children that libuv waits for itself.
    Napi::RangeError::New(info.Env(), "reap(pid): one process id, greater than 0").ThrowAsJavaScriptException();
    return info.Env().Undefined();
  }
  int status;
  pid_t r;
  do r = waitpid(pid, &status, WNOHANG); while (r < 0 && errno == EINTR);
  return Napi::Number::New(info.Env(), Result(r));
}

bool FdBufferArgs(const Napi::CallbackInfo& info, const char* usage, int32_t* fd, Napi::Buffer<uint8_t>* buffer) {
  if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsBuffer()) {
    Napi::TypeError::New(info.Env(), usage).ThrowAsJavaScriptException();
    return false;
  }
  *fd = info[0].As<Napi::Number>().Int32Value();
  *buffer = info[1].As<Napi::Buffer<uint8_t>>();
  return true;
}

Napi::Value NetlinkOpen(const Napi::CallbackInfo& info) {
  int32_t protocol;
  if (!Int32Arg(info, "netlinkOpen(protocol): a netlink protocol number is needed", &protocol)) return info.Env().Undefined();
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, protocol);
  if (fd < 0) return Napi::Number::New(info.Env(), -errno);
  sockaddr_nl local = {};
  local.nl_family = AF_NETLINK;
  if (bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) < 0) {
    int e = errno;
    close(fd);
    return Napi::Number::New(info.Env(), -e);
  }
  return Napi::Number::New(info.Env(), fd);
}

Napi::Value NetlinkSend(const Napi::CallbackInfo& info) {
  int32_t fd;
  Napi::Buffer<uint8_t> buffer;
  if (!FdBufferArgs(info, "netlinkSend(fd, buffer): a descriptor and a Buffer are needed", &fd, &buffer)) return info.Env().Undefined();
  sockaddr_nl kernel = {};
  kernel.nl_family = AF_NETLINK;
  ssize_t r;
  do r = sendto(fd, buffer.Data(), buffer.Length(), 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel); while (r < 0 && errno == EINTR);
  return Napi::Number::New(info.Env(), r < 0 ? -errno : static_cast<double>(r));
}

Napi::Value NetlinkRecv(const Napi::CallbackInfo& info) {
  const char* usage = "netlinkRecv(fd, buffer, from): a descriptor, a Buffer and a Uint32Array are needed";
  int32_t fd;
  Napi::Buffer<uint8_t> buffer;
  if (!FdBufferArgs(info, usage, &fd, &buffer)) return info.Env().Undefined();
  if (info.Length() < 3 || !info[2].IsTypedArray() || info[2].As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array ||
      info[2].As<Napi::Uint32Array>().ElementLength() < 1) {
    Napi::TypeError::New(info.Env(), usage).ThrowAsJavaScriptException();
    return info.Env().Undefined();
  }
  Napi::Uint32Array from = info[2].As<Napi::Uint32Array>();
  sockaddr_nl sender = {};
  socklen_t senderLen = sizeof sender;
  ssize_t r;
  do {
    r = recvfrom(fd, buffer.Data(), buffer.Length(), MSG_DONTWAIT | MSG_TRUNC, reinterpret_cast<sockaddr*>(&sender), &senderLen);
  } while (r < 0 && errno == EINTR);
  if (r >= 0) from[0] = sender.nl_pid;
  return Napi::Number::New(info.Env(), r < 0 ? -errno : static_cast<double>(r));
}

class ProcessWatch : public Napi::ObjectWrap<ProcessWatch>, public dot1x::core::PollClient {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "ProcessWatch",
                       {InstanceMethod<&ProcessWatch::Close>("close"), InstanceMethod<&ProcessWatch::JsUnref>("unref")});
  }

  explicit ProcessWatch(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ProcessWatch>(info), env_(info.Env()) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsFunction()) {
      Napi::TypeError::New(env, "ProcessWatch(pid, onExit): a process id and a function expected").ThrowAsJavaScriptException();
      return;
    }
    int32_t pid = info[0].As<Napi::Number>().Int32Value();
    if (pid <= 0) {
      Napi::RangeError::New(env, "ProcessWatch(pid, onExit): one process id, greater than 0").ThrowAsJavaScriptException();
      return;
    }
    // glibc 2.36 has no pidfd_open() wrapper: the system call itself.
    int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    if (fd < 0) {
      dot1x::core::ThrowErrno(env, errno, "pidfd_open");
      return;
    }
    if (!onExit_.Init(env, info[1], "dot1x:ProcessWatch")) {
      ::close(fd);
      return;
    }
    int err = 0;
    const char* syscall = nullptr;
    polled_ = dot1x::core::PolledFd::Open(env, fd, this, &err, &syscall);
    if (polled_ == nullptr) {
      onExit_.Reset(env);
      dot1x::core::ThrowErrno(env, err, syscall);
      return;
    }
    Ref();  // the loop may call back until the watch is closed
  }

  ~ProcessWatch() override {
    if (polled_ != nullptr) {
      polled_->Forget();
      polled_->Close();
    }
    onExit_.Reset(env_);
  }

 private:
  // A pidfd polls readable once its process has ended (pidfd_open(2)); nothing is read from it.
  bool OnReadable() override {
    if (polled_ == nullptr || polled_->closing()) return false;
    polled_->Close();
    napi_handle_scope scope;
    if (napi_open_handle_scope(env_, &scope) != napi_ok) return false;
    onExit_.Call(env_, 0, nullptr);
    napi_close_handle_scope(env_, scope);
    return false;
  }

  // Polling stopped (POLLERR no read explains): the process cannot be watched any more; say it
  // ended, the caller's safe assumption.
  void OnPollStopped(int /*err*/) override { OnReadable(); }

  void OnDetached() override {
    polled_ = nullptr;
    onExit_.Reset(env_);
    Unref();
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    if (polled_ != nullptr) polled_->Close();
    return info.Env().Undefined();
  }

  Napi::Value JsUnref(const Napi::CallbackInfo& info) {
    if (polled_ != nullptr) polled_->Unref();
    return info.Env().Undefined();
  }

  napi_env env_ = nullptr;
  dot1x::core::PolledFd* polled_ = nullptr;
  dot1x::core::LoopCallback onExit_;
};

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("ProcessWatch", ProcessWatch::Define(env));
  exports.Set("flockExclusive", Napi::Function::New(env, FlockExclusive, "flockExclusive"));
  exports.Set("setChildSubreaper", Napi::Function::New(env, SetChildSubreaper, "setChildSubreaper"));
  exports.Set("reap", Napi::Function::New(env, Reap, "reap"));
  exports.Set("netlinkOpen", Napi::Function::New(env, NetlinkOpen, "netlinkOpen"));
  exports.Set("netlinkSend", Napi::Function::New(env, NetlinkSend, "netlinkSend"));
  exports.Set("netlinkRecv", Napi::Function::New(env, NetlinkRecv, "netlinkRecv"));
  return exports;
}

}  // namespace

NODE_API_MODULE(dot1x_posix, Init)
