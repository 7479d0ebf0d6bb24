#include "core/polled_fd.h"

#include <unistd.h>

#include <cerrno>

namespace dot1x::core {

PolledFd* PolledFd::Open(napi_env env, int fd, PollClient* client, int* err, const char** syscall) {
  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr) {
    ::close(fd);
    *err = EINVAL;
    *syscall = "uv_poll_init";
    return nullptr;
  }
  PolledFd* p = new PolledFd();
  // An uninitialised handle must not be started or closed: a failure here is undone by hand.
  int rc = uv_poll_init(loop, &p->poll_, fd);
  if (rc != 0) {
    delete p;
    ::close(fd);
    *err = -rc;
    *syscall = "uv_poll_init";
    return nullptr;
  }
  p->fd_ = fd;
  p->client_ = client;
  p->poll_.data = p;
  // A terminated Worker tears its environment down: close the handle before its loop goes.
  // The hook is removed (which tells Node the cleanup finished) in OnClosed.
  napi_add_async_cleanup_hook(
      env, [](napi_async_cleanup_hook_handle, void* arg) { static_cast<PolledFd*>(arg)->Close(); }, p,
      &p->cleanupHook_);
  rc = uv_poll_start(&p->poll_, UV_READABLE, OnPoll);
  if (rc != 0) {
    p->client_ = nullptr;
    p->Close();
    *err = -rc;
    *syscall = "epoll_ctl";
    return nullptr;
  }
  return p;
}

// POLLERR: the socket has a pending error (sk_err, set e.g. by netlink_overrun to ENOBUFS, or
// ECONNRESET on an AF_UNIX datagram socket whose peer connected elsewhere with our datagrams
// unread, unix_dgram_disconnected). datagram_poll and unix_dgram_poll report it as EPOLLERR
// (net/core/datagram.c, net/unix/af_unix.c); libuv then stops the handle and calls us with UV_EBADF instead of the error (libuv src/unix/poll.c,
// uv__poll_io). The next recvmsg returns that error and clears it (__skb_try_recv_datagram
// takes sock_error() first; socket(7) SO_ERROR: "get and clear the pending socket error"), after
// which polling again is safe. So: read as usual, which reports the error, and start polling
// again. Only when no read reported an error is the condition something recv cannot clear;
// polling again would spin, so polling stays stopped and the client says so.
void PolledFd::OnPoll(uv_poll_t* handle, int status, int /*events*/) {
  PolledFd* p = static_cast<PolledFd*>(handle->data);
  if (p->closing_ || p->client_ == nullptr) return;
  bool readFailed = p->client_->OnReadable();
  if (status >= 0 || p->closing_ || p->client_ == nullptr) return;
  if (readFailed && uv_poll_start(&p->poll_, UV_READABLE, OnPoll) == 0) return;
  p->client_->OnPollStopped(-status);
}

void PolledFd::Close() {
  if (closing_) return;
  closing_ = true;
  uv_close(reinterpret_cast<uv_handle_t*>(&poll_), OnClosed);
  ::close(fd_);
  fd_ = -1;
}

void PolledFd::Ref() {
  if (!closing_) uv_ref(reinterpret_cast<uv_handle_t*>(&poll_));
}

void PolledFd::Unref() {
  if (!closing_) uv_unref(reinterpret_cast<uv_handle_t*>(&poll_));
}

void PolledFd::OnClosed(uv_handle_t* handle) {
  PolledFd* p = static_cast<PolledFd*>(handle->data);
  if (p->client_ != nullptr) p->client_->OnDetached();
  napi_async_cleanup_hook_handle hook = p->cleanupHook_;
  delete p;
  // Last: removing the hook lets a terminating Worker finish tearing down.
  if (hook != nullptr) napi_remove_async_cleanup_hook(hook);
}

}  // namespace dot1x::core
