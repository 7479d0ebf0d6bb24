// The test build of the netlink addon (target dot1x_netlink_test, never shipped): a dump
// received synchronously, as the baseline of the dump benchmark (test/bench/netlink-dump.ts)
// and as the source of the parser tests' captures (test/netlink-support.ts).
//   rawDump(netns: string | null, capture: boolean): number | Buffer
// The same RTM_GETLINK dump request as RouteSocket#dumpLinks, on a socket of its own (no
// multicast group, so nothing but the reply arrives), received until its NLMSG_DONE with
// nothing parsed; returns the bytes received, or with capture the bytes themselves (datagrams
// concatenated). Blocks the thread.
#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <napi.h>

#include <memory>
#include <string>

#include "core/errno_error.h"
#include "rtnl_socket.h"

namespace dot1x {
namespace {

constexpr size_t kRecvBufferBytes = 64 * 1024;
constexpr int kReceiveBufferBytes = 1024 * 1024;
constexpr int kTimeoutMs = 10000;
constexpr uint32_t kSeq = 1;

// The bytes of the dump reply, or -errno with *syscall the call that failed.
ssize_t Dump(int fd, bool capture, std::string* captured, const char** syscall) {
  Request r;
  InitDump(&r, kSeq);
  if (int err = SendRequest(fd, r)) return *syscall = "sendto", -err;
  std::unique_ptr<uint8_t[]> buf(new uint8_t[kRecvBufferBytes]);
  ssize_t bytes = 0;
  for (;;) {
    sockaddr_nl from{};
    socklen_t fromLen = sizeof(from);
    ssize_t n = recvfrom(fd, buf.get(), kRecvBufferBytes, MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&from), &fromLen);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {
      pollfd p{fd, POLLIN, 0};
      int ready = poll(&p, 1, kTimeoutMs);
      if (ready == 0) return *syscall = "poll", -ETIMEDOUT;
      if (ready < 0 && errno != EINTR) return *syscall = "poll", -errno;
      continue;
    }
    if (n < 0) return *syscall = "recvfrom", -errno;
    if (from.nl_pid != 0) continue;
    bytes += n;
    if (capture) captured->append(reinterpret_cast<const char*>(buf.get()), static_cast<size_t>(n));
    int len = static_cast<int>(n);
    for (const nlmsghdr* h = reinterpret_cast<const nlmsghdr*>(buf.get()); NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
      if (h->nlmsg_seq == kSeq && (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR)) return bytes;
    }
  }
}

Napi::Value RawDump(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string netns = info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "";
  bool capture = info[1].IsBoolean() && info[1].As<Napi::Boolean>().Value();
  const char* syscall = nullptr;
  int fd = OpenRouteSocket(netns, kReceiveBufferBytes, false, &syscall);
  if (fd < 0) {
    core::ThrowErrno(env, -fd, syscall);
    return env.Undefined();
  }
  std::string captured;
  ssize_t n = Dump(fd, capture, &captured, &syscall);
  ::close(fd);
  if (n < 0) {
    core::ThrowErrno(env, static_cast<int>(-n), syscall);
    return env.Undefined();
  }
  if (capture) return Napi::Buffer<char>::Copy(env, captured.data(), captured.size());
  return Napi::Number::New(env, static_cast<double>(n));
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("rawDump", Napi::Function::New(env, RawDump, "rawDump"));
  return exports;
}

}  // namespace
}  // namespace dot1x

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) { return dot1x::Init(env, exports); }

NODE_API_MODULE(dot1x_netlink_test, InitAddon)
