// A socket watched on the loop of the environment that opened it (napi_get_uv_event_loop, so a
// Worker uses its own loop) through a uv_poll_t. No threads, no timers. Shared by the netlink
// and the unix datagram addons: opening on the loop, reading on readiness, the POLLERR policy,
// ref/unref, and closing (also when a Worker's environment is torn down).
#pragma once

#include <node_api.h>
#include <uv.h>

namespace dot1x::core {

// What the owner of a PolledFd (an addon's socket class) does when the loop calls.
class PollClient {
 public:
  virtual ~PollClient() = default;
  // The fd is readable, or the socket has a pending error (POLLERR). Read until EAGAIN or a
  // burst's end, delivering what was read. Returns true when a read failed with an error other
  // than EAGAIN (that read also took the pending error off the socket).
  virtual bool OnReadable() = 0;
  // Polling has stopped for good with ERR (positive errno), the fd stays open: say so.
  virtual void OnPollStopped(int err) = 0;
  // The handle is closed and about to be freed: forget the PolledFd. Called once.
  virtual void OnDetached() = 0;
};

class PolledFd {
 public:
  // Watches FD (its own from now on: closed on failure too) for reading. nullptr on failure,
  // with *err a positive errno and *syscall the call that failed.
  static PolledFd* Open(napi_env env, int fd, PollClient* client, int* err, const char** syscall);

  int fd() const { return fd_; }
  bool closing() const { return closing_; }
  // Starts closing; idempotent. The fd is closed at once (libuv allows that after uv_close, the
  // peer sees it gone now), this object is freed in the close callback, which detaches the client.
  void Close();
  // The client is going away first (its finalizer): no more calls to it.
  void Forget() { client_ = nullptr; }
  // Whether the open fd keeps the loop alive (like net.Socket ref/unref).
  void Ref();
  void Unref();

 private:
  PolledFd() = default;
  static void OnPoll(uv_poll_t* handle, int status, int events);
  static void OnClosed(uv_handle_t* handle);

  uv_poll_t poll_;
  int fd_ = -1;
  bool closing_ = false;
  PollClient* client_ = nullptr;
  napi_async_cleanup_hook_handle cleanupHook_ = nullptr;
};

}  // namespace dot1x::core
