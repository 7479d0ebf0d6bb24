// AF_UNIX SOCK_DGRAM client sockets for Node (which has none: `dgram` knows only UDP).
// Made for wpa_supplicant's control interface: the client binds its own path, connects to the
// daemon's path, sends requests and receives replies and events as whole datagrams.
//
// Event loop: the fd sits on the loop of the environment that created it
// (napi_get_uv_event_loop, so a Worker uses its own loop) through a uv_poll_t. No threads, no
// timers. Closing: uv_close() and the state is freed in the close callback; an async cleanup
// hook closes what is still open when the environment (a Worker) is torn down.
// Errors: instances of the project's OsError class, handed over by init() at load time.
// Exceptions thrown by JS listeners are passed to process 'uncaughtException'.

#include <napi.h>
#include <uv.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace {

// Largest datagram delivered. wpa_supplicant's replies fit in 4 KiB, but its event lines are
// bounded only by their content and grow with peer-certificate events (docs/wpa-supplicant.md#sockets).
constexpr size_t kMaxMessage = 64 * 1024;
// Datagrams read per readiness callback before yielding to the rest of the loop.
constexpr int kBurst = 32;

struct InstanceData {
  Napi::FunctionReference osError;
};

// An OsError instance, or nullptr when JS cannot run (a Worker being terminated) or init() was
// not called. Plain N-API calls with status checks: node-addon-api's error path would abort
// the process when it meets an environment that can no longer run JS.
napi_value NewOsError(napi_env env, int err, const char* syscall, const std::string& operation,
                      const std::string& target) {
  auto* data = static_cast<InstanceData*>(nullptr);
  if (napi_get_instance_data(env, reinterpret_cast<void**>(&data)) != napi_ok || data == nullptr ||
      data->osError.IsEmpty()) {
    return nullptr;
  }
  napi_value ctor, argv[4], result;
  if (napi_get_reference_value(env, data->osError, &ctor) != napi_ok || ctor == nullptr) return nullptr;
  if (napi_create_int32(env, err, &argv[0]) != napi_ok ||
      napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &argv[1]) != napi_ok ||
      napi_create_string_utf8(env, operation.c_str(), operation.size(), &argv[2]) != napi_ok ||
      napi_create_string_utf8(env, target.c_str(), target.size(), &argv[3]) != napi_ok ||
      napi_new_instance(env, ctor, 4, argv, &result) != napi_ok) {
    bool pending = false;
    napi_value ignored;
    if (napi_is_exception_pending(env, &pending) == napi_ok && pending) napi_get_and_clear_last_exception(env, &ignored);
    return nullptr;
  }
  return result;
}

[[noreturn]] void ThrowOsError(Napi::Env env, int err, const char* syscall,
                               const std::string& operation, const std::string& target) {
  napi_value e = NewOsError(env, err, syscall, operation, target);
  if (e != nullptr) throw Napi::Error(env, e);
  throw Napi::Error::New(env, operation + " " + target + ": " + std::strerror(err));
}

class Socket;

// The part libuv points at. It outlives the JS wrapper when needed (close callbacks run later).
struct Conn {
  uv_poll_t poll;
  int fd = -1;
  bool closing = false;
  Socket* wrap = nullptr;
  napi_async_cleanup_hook_handle cleanupHook = nullptr;
  std::vector<char> buf;
};

void OnClosed(uv_handle_t* handle);

// Starts closing: the fd is closed now (uv_close has already stopped polling it and removed it
// from epoll), the Conn is freed in OnClosed.
void BeginClose(Conn* conn) {
  if (conn->closing) return;
  conn->closing = true;
  uv_close(reinterpret_cast<uv_handle_t*>(&conn->poll), OnClosed);
  ::close(conn->fd);
  conn->fd = -1;
}

void OnEnvTeardown(napi_async_cleanup_hook_handle, void* arg) {
  // The hook is removed (which tells Node the cleanup finished) in OnClosed.
  BeginClose(static_cast<Conn*>(arg));
}

class Socket : public Napi::ObjectWrap<Socket> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Socket",
                       {InstanceMethod<&Socket::Bind>("bind"),
                        InstanceMethod<&Socket::Connect>("connect"),
                        InstanceMethod<&Socket::Send>("send"),
                        InstanceMethod<&Socket::Close>("close"),
                        InstanceMethod<&Socket::JsRef>("ref"),
                        InstanceMethod<&Socket::JsUnref>("unref")});
  }

  // new Socket(onMessage(buffer), onError(osError))
  explicit Socket(const Napi::CallbackInfo& info)
      : Napi::ObjectWrap<Socket>(info), async_(info.Env(), "dot1x_unix_dgram") {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsFunction() || !info[1].IsFunction()) {
      throw Napi::TypeError::New(env, "Socket(onMessage, onError): two functions expected");
    }
    onMessage_ = Napi::Persistent(info[0].As<Napi::Function>());
    onError_ = Napi::Persistent(info[1].As<Napi::Function>());

    int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) ThrowOsError(env, errno, "socket", "open unix datagram socket", "");

    uv_loop_t* loop = nullptr;
    if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr) {
      ::close(fd);
      throw Napi::Error::New(env, "unix-dgram: no event loop");
    }
    auto* conn = new Conn();
    conn->fd = fd;
    conn->wrap = this;
    conn->buf.resize(kMaxMessage);
    int r = uv_poll_init(loop, &conn->poll, fd);
    if (r != 0) {
      ::close(fd);
      delete conn;
      ThrowOsError(env, -r, "uv_poll_init", "watch unix datagram socket", "");
    }
    conn->poll.data = conn;
    // From here on the Conn is freed only by OnClosed.
    napi_add_async_cleanup_hook(env, OnEnvTeardown, conn, &conn->cleanupHook);
    conn_ = conn;
    r = uv_poll_start(&conn->poll, UV_READABLE, OnPoll);
    if (r != 0) {
      BeginClose(conn);
      ThrowOsError(env, -r, "uv_poll_start", "watch unix datagram socket", "");
    }
    // Keep the JS object (and its callbacks) alive while the fd is open, whatever the caller
    // keeps: the loop may call back at any time until close().
    Ref();
  }

  ~Socket() override {
    if (conn_ != nullptr) {
      conn_->wrap = nullptr;
      BeginClose(conn_);
    }
  }

  // Called from OnClosed: the Conn is gone.
  void Detach() { conn_ = nullptr; }

 private:
  static void OnPoll(uv_poll_t* handle, int status, int /*events*/) {
    auto* conn = static_cast<Conn*>(handle->data);
    if (conn->closing || conn->wrap == nullptr) return;
    conn->wrap->Readable(status);
  }

  // Everything on this path uses plain N-API calls and gives up quietly when one fails: the
  // loop can still report readiness while a Worker is being terminated and JS cannot run.
  void Readable(int status) {
    napi_env env = Env();
    napi_handle_scope scope;
    if (napi_open_handle_scope(env, &scope) != napi_ok) return;
    if (status < 0) {
      Deliver(onError_, NewOsError(env, -status, "poll", "receive from", peer_));
    } else {
      Drain(env);
    }
    napi_close_handle_scope(env, scope);
  }

  void Drain(napi_env env) {
    for (int i = 0; i < kBurst && conn_ != nullptr && !conn_->closing; i++) {
      // MSG_TRUNC: the return value is the datagram's real length, so truncation is visible.
      ssize_t n = ::recv(conn_->fd, conn_->buf.data(), conn_->buf.size(), MSG_DONTWAIT | MSG_TRUNC);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return;
        // e.g. ECONNREFUSED after the peer went away: reported, and the socket stays usable.
        if (!Deliver(onError_, NewOsError(env, errno, "recv", "receive from", peer_))) return;
        continue;
      }
      if (static_cast<size_t>(n) > conn_->buf.size()) {
        if (!Deliver(onError_, NewOsError(env, EMSGSIZE, "recv",
                                          "receive (datagram larger than 64 KiB dropped) from", peer_))) return;
        continue;
      }
      napi_value buf;
      void* ignored;
      if (napi_create_buffer_copy(env, static_cast<size_t>(n), conn_->buf.data(), &ignored, &buf) != napi_ok) return;
      if (!Deliver(onMessage_, buf)) return;
    }
  }

  // Calls into JS through MakeCallback (so promise jobs and nextTicks run afterwards) and hands
  // a listener's exception to 'uncaughtException' instead of losing it. False when JS could
  // not be run at all.
  bool Deliver(Napi::FunctionReference& fn, napi_value arg) {
    napi_env env = Env();
    if (arg == nullptr) return false;
    napi_value f, recv, result;
    if (napi_get_reference_value(env, fn, &f) != napi_ok || f == nullptr) return false;
    if (napi_get_reference_value(env, static_cast<napi_ref>(*this), &recv) != napi_ok || recv == nullptr) return false;
    if (napi_make_callback(env, async_, recv, f, 1, &arg, &result) == napi_ok) return true;
    bool pending = false;
    napi_value exc;
    if (napi_is_exception_pending(env, &pending) == napi_ok && pending &&
        napi_get_and_clear_last_exception(env, &exc) == napi_ok) {
      napi_fatal_exception(env, exc);
      return true;
    }
    return false;
  }

  static std::string PathArg(const Napi::CallbackInfo& info, const char* what) {
    if (info.Length() < 1 || !info[0].IsString()) {
      throw Napi::TypeError::New(info.Env(), std::string(what) + ": path string expected");
    }
    return info[0].As<Napi::String>().Utf8Value();
  }

  // Fills a sockaddr_un. A path that starts with a NUL byte is an abstract name (unix(7)): its
  // length is the address length, with no terminating NUL (systemd's NOTIFY_SOCKET "@name").
  static socklen_t Address(Napi::Env env, const std::string& path, sockaddr_un* sun,
                           const char* syscall, const char* operation) {
    std::memset(sun, 0, sizeof *sun);
    sun->sun_family = AF_UNIX;
    const bool abstract = !path.empty() && path[0] == '\0';
    if (abstract ? (path.size() < 2 || path.size() > sizeof sun->sun_path)
                 : (path.empty() || path.size() >= sizeof sun->sun_path || path.find('\0') != std::string::npos)) {
      ThrowOsError(env, path.size() < (abstract ? 2u : 1u) ? EINVAL : ENAMETOOLONG, syscall, operation, path);
    }
    std::memcpy(sun->sun_path, path.data(), path.size());
    return static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + (abstract ? 0 : 1));
  }

  int OpenFd(Napi::Env env, const char* syscall, const std::string& target) {
    if (conn_ == nullptr || conn_->closing) ThrowOsError(env, EBADF, syscall, "use closed socket", target);
    return conn_->fd;
  }

  // bind() and connect(): a path argument made into an address, one call, OsError on failure.
  template <typename Call>
  Napi::Value AddressCall(const Napi::CallbackInfo& info, const char* syscall, const char* operation, Call call) {
    Napi::Env env = info.Env();
    std::string path = PathArg(info, syscall);
    int fd = OpenFd(env, syscall, path);
    sockaddr_un sun;
    socklen_t len = Address(env, path, &sun, syscall, operation);
    int r;
    do r = call(fd, reinterpret_cast<sockaddr*>(&sun), len);
    while (r != 0 && errno == EINTR);
    if (r != 0) ThrowOsError(env, errno, syscall, operation, path);
    return env.Undefined();
  }

  Napi::Value Bind(const Napi::CallbackInfo& info) {
    return AddressCall(info, "bind", "bind socket to", ::bind);
  }

  Napi::Value Connect(const Napi::CallbackInfo& info) {
    Napi::Value r = AddressCall(info, "connect", "connect to", ::connect);
    peer_ = info[0].As<Napi::String>().Utf8Value();
    return r;
  }

  // send(Buffer | string) -> bytes sent. Never blocks: a full peer queue is EAGAIN.
  Napi::Value Send(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    int fd = OpenFd(env, "send", peer_);
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
      throw Napi::TypeError::New(env, "send: Buffer or string expected");
    }
    ssize_t n;
    do n = ::send(fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n < 0) ThrowOsError(env, errno, "send", "send to", peer_);
    return Napi::Number::New(env, static_cast<double>(n));
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    if (conn_ != nullptr && !conn_->closing) {
      BeginClose(conn_);
      Unref();
    }
    return info.Env().Undefined();
  }

  // Whether an open socket keeps the process alive (like net.Socket ref/unref).
  Napi::Value JsRef(const Napi::CallbackInfo& info) {
    if (conn_ != nullptr && !conn_->closing) uv_ref(reinterpret_cast<uv_handle_t*>(&conn_->poll));
    return info.Env().Undefined();
  }
  Napi::Value JsUnref(const Napi::CallbackInfo& info) {
    if (conn_ != nullptr && !conn_->closing) uv_unref(reinterpret_cast<uv_handle_t*>(&conn_->poll));
    return info.Env().Undefined();
  }

  Conn* conn_ = nullptr;
  std::string peer_;
  Napi::FunctionReference onMessage_;
  Napi::FunctionReference onError_;
  Napi::AsyncContext async_;
};

void OnClosed(uv_handle_t* handle) {
  auto* conn = static_cast<Conn*>(handle->data);
  if (conn->wrap != nullptr) conn->wrap->Detach();
  if (conn->cleanupHook != nullptr) napi_remove_async_cleanup_hook(conn->cleanupHook);
  delete conn;
}

// init(OsError): the class every failure is thrown as.
Napi::Value Init(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsFunction()) {
    throw Napi::TypeError::New(env, "init(OsError): a constructor expected");
  }
  env.GetInstanceData<InstanceData>()->osError = Napi::Persistent(info[0].As<Napi::Function>());
  return env.Undefined();
}

Napi::Object Module(Napi::Env env, Napi::Object exports) {
  env.SetInstanceData(new InstanceData());
  exports.Set("init", Napi::Function::New(env, Init, "init"));
  exports.Set("Socket", Socket::Define(env));
  return exports;
}

}  // namespace

NODE_API_MODULE(dot1x_unix_dgram, Module)
