// Calling JavaScript from a libuv callback (no JavaScript frame below us).
#pragma once

#include <node_api.h>

namespace dot1x::core {

// A JavaScript function kept for calls from the loop, with the async context that makes them
// MakeCallback calls: promise jobs and nextTicks run afterwards, async_hooks see a resource.
class LoopCallback {
 public:
  // False when the function could not be kept (the environment is going away).
  bool Init(napi_env env, napi_value fn, const char* resourceName);
  void Reset(napi_env env);
  // fn(...argv) with `this` the global object. A throw goes to process 'uncaughtException'
  // (napi_fatal_exception), as with Node's own sockets. False when JavaScript could not run at
  // all (a Worker being terminated): the caller stops delivering then. Plain Node-API calls:
  // node-addon-api's wrappers would make that failure a fatal error.
  bool Call(napi_env env, size_t argc, const napi_value* argv);

 private:
  napi_ref fn_ = nullptr;
  napi_async_context context_ = nullptr;
};

}  // namespace dot1x::core
