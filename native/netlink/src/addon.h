// Per-environment state shared by the addon's parts (one per main thread / Worker).
#pragma once

#include <napi.h>

namespace dot1x {

struct AddonData {
  // The project's OsError class (src/errors.ts), handed over by setErrorClass() at load time.
  Napi::FunctionReference osError;
  Napi::FunctionReference socketCtor;
};

// new OsError(errno, syscall, operation, target) — or a plain Error carrying the same
// properties when the class was not handed over (should not happen: route-socket.ts does it).
Napi::Value MakeOsError(Napi::Env env, int err, const char* syscall, const std::string& operation,
                        const std::string& target);
void ThrowOsError(Napi::Env env, int err, const char* syscall, const std::string& operation,
                  const std::string& target);

Napi::Function InitRouteSocket(Napi::Env env);

}  // namespace dot1x
