// Three system calls Node does not offer, as thin wrappers: each returns what the call
// returned, or the negated errno, and decides nothing (src/posix.ts gives them meaning and
// words). Returned, not thrown as native/core/errno_error.h does: EWOULDBLOCK from flock and
// ECHILD from waitpid are answers here, not failures.
//   flockExclusive(fd)   flock(2) LOCK_EX | LOCK_NB
//   setChildSubreaper()  prctl(2) PR_SET_CHILD_SUBREAPER, 1
//   reap(pid)            waitpid(2) pid, WNOHANG: the pid once it was reaped, 0 while it runs
#include <napi.h>

#include <cerrno>

#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>

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

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("flockExclusive", Napi::Function::New(env, FlockExclusive, "flockExclusive"));
  exports.Set("setChildSubreaper", Napi::Function::New(env, SetChildSubreaper, "setChildSubreaper"));
  exports.Set("reap", Napi::Function::New(env, Reap, "reap"));
  return exports;
}

}  // namespace

NODE_API_MODULE(dot1x_posix, Init)
