#include "core/errno_error.h"

namespace dot1x::core {

void ThrowErrno(napi_env env, int err, const char* syscall) {
  bool pending = false;
  if (napi_is_exception_pending(env, &pending) != napi_ok || pending) return;
  napi_value message, error, errnoValue, syscallValue;
  // The message is only the call's name: osCall replaces the error before anyone reads it.
  if (napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &message) != napi_ok ||
      napi_create_error(env, nullptr, message, &error) != napi_ok ||
      napi_create_int32(env, -(err < 0 ? -err : err), &errnoValue) != napi_ok ||
      napi_set_named_property(env, error, "errno", errnoValue) != napi_ok ||
      napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &syscallValue) != napi_ok ||
      napi_set_named_property(env, error, "syscall", syscallValue) != napi_ok) {
    return;
  }
  napi_throw(env, error);
}

}  // namespace dot1x::core
