#include "core/loop_call.h"

namespace dot1x::core {

bool LoopCallback::Init(napi_env env, napi_value fn, const char* resourceName) {
  napi_value resource, name;
  if (napi_create_reference(env, fn, 1, &fn_) != napi_ok) return false;
  if (napi_create_object(env, &resource) != napi_ok ||
      napi_create_string_utf8(env, resourceName, NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_async_init(env, resource, name, &context_) != napi_ok) {
    context_ = nullptr;
    return false;
  }
  return true;
}

void LoopCallback::Reset(napi_env env) {
  if (fn_ != nullptr) napi_delete_reference(env, fn_);
  if (context_ != nullptr) napi_async_destroy(env, context_);
  fn_ = nullptr;
  context_ = nullptr;
}

bool LoopCallback::Call(napi_env env, size_t argc, const napi_value* argv) {
  napi_value fn, global, result;
  if (fn_ == nullptr || context_ == nullptr) return false;
  if (napi_get_reference_value(env, fn_, &fn) != napi_ok || fn == nullptr) return false;
  if (napi_get_global(env, &global) != napi_ok) return false;
  if (napi_make_callback(env, context_, global, fn, argc, argv, &result) == napi_ok) return true;
  // A real throw is pending now; a terminating Worker only makes the call fail.
  bool pending = false;
  napi_value error;
  if (napi_is_exception_pending(env, &pending) == napi_ok && pending &&
      napi_get_and_clear_last_exception(env, &error) == napi_ok) {
    napi_fatal_exception(env, error);
    return true;
  }
  return false;
}

}  // namespace dot1x::core
