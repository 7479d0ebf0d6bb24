// How every addon reports a failed system call to JavaScript: one Error carrying `errno`
// (negative, Node's convention) and `syscall`, and no words. The TypeScript face of each addon
// turns it into an OsError that says which operation on what failed (src/os/native-addon.ts
// osCall), so the wording of every message lives in TypeScript and no JavaScript class has to be
// handed to the addon at load time.
#pragma once

#include <node_api.h>

namespace dot1x::core {

// Sets the pending exception to that error. Plain Node-API calls, each checked: in a Worker
// being terminated nothing can be thrown, and that must end the call quietly.
void ThrowErrno(napi_env env, int err, const char* syscall);

}  // namespace dot1x::core
