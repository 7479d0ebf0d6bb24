// Per-environment state shared by the addon's parts (one per main thread / Worker).
#pragma once

#include <napi.h>

namespace dot1x {

struct AddonData {
  Napi::FunctionReference socketCtor;
};

Napi::Function InitRouteSocket(Napi::Env env);

}  // namespace dot1x
