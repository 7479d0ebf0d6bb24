# Included by every addon's binding.gyp: the one set of build settings and the shared sources.
# node-addon-api without C++ exceptions everywhere: most of our native code runs from libuv
# callbacks, where no JavaScript frame is there to catch a C++ throw (it would end the process),
# so every failure is an explicit return and a JavaScript exception set through Node-API.
{
  "target_defaults": {
    "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")", ".."],
    "sources": ["errno_error.cc", "loop_call.cc", "polled_fd.cc"],
    "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED",
                "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS"],
    "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-Wno-missing-field-initializers"],
    "cflags": ["-Wall", "-Wextra"]
  }
}
