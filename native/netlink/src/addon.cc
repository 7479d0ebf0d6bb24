// Module entry: parse() (the parser's test entry point) and the
// RouteSocketHandle class (route_socket.cc).
#include "addon.h"

#include <cstring>
#include <initializer_list>
#include <utility>
#include <memory>
#include <vector>

#include "parse.h"

namespace dot1x {

namespace {

// Copies the bytes into an aligned buffer first: the uapi structs are read in place.
Napi::Value Parse(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsTypedArray()) {
    Napi::TypeError::New(env, "parse(bytes): a Uint8Array is needed").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::TypedArray ta = info[0].As<Napi::TypedArray>();
  size_t n = ta.ByteLength();
  const uint8_t* src = static_cast<const uint8_t*>(ta.ArrayBuffer().Data()) + ta.ByteOffset();
  // Exactly n bytes, no slack: a read past the end is then visible to AddressSanitizer.
  std::unique_ptr<uint8_t[]> aligned(new uint8_t[n > 0 ? n : 1]);
  if (n) std::memcpy(aligned.get(), src, n);
  Batch batch;
  ParseDatagram(aligned.get(), n, false, &batch);

  Napi::ArrayBuffer ab = Napi::ArrayBuffer::New(env, batch.words.size() * sizeof(uint32_t));
  if (!batch.words.empty()) std::memcpy(ab.Data(), batch.words.data(), ab.ByteLength());
  Napi::Object out = Napi::Object::New(env);
  out.Set("words", Napi::Uint32Array::New(env, batch.words.size(), ab, 0));
  out.Set("strings", Napi::String::New(env, batch.strings.data(), batch.strings.size()));
  out.Set("malformed", Napi::Number::New(env, batch.malformed));
  return out;
}

// The item layout of parse.h, for src/netlink/batch.ts to check at load: every word's offset,
// every kind and every present bit by name, the word size and the strings per link item.
Napi::Object Layout(Napi::Env env) {
  auto table = [&](std::initializer_list<std::pair<const char*, uint32_t>> entries) {
    Napi::Object o = Napi::Object::New(env);
    for (const auto& [name, value] : entries) o.Set(name, Napi::Number::New(env, value));
    return o;
  };
  Napi::Object layout = Napi::Object::New(env);
  layout.Set("wordBytes", Napi::Number::New(env, sizeof(uint32_t)));
  layout.Set("itemWords", Napi::Number::New(env, kItemWords));
  layout.Set("stringsPerLink", Napi::Number::New(env, kStringsPerLink));
  layout.Set("words", table({{"KIND", kWordKind}, {"SEQ", kWordSeq}, {"NLFLAGS", kWordNlFlags},
                             {"ORIGIN", kWordOrigin}, {"PRESENT", kWordPresent}, {"INDEX", kWordIndex},
                             {"FLAGS", kWordFlags}, {"OPERSTATE", kWordOperstate}, {"LINKMODE", kWordLinkmode},
                             {"IFLINK", kWordIflink}, {"MASTER", kWordMaster}, {"MTU", kWordMtu},
                             {"CARRIER_CHANGES", kWordCarrierChanges}, {"CARRIER_UP", kWordCarrierUp},
                             {"CARRIER_DOWN", kWordCarrierDown}, {"ERRNO", kWordErrno}, {"FAMILY", kWordFamily}}));
  layout.Set("kinds", table({{"NEWLINK", kItemNewLink}, {"DELLINK", kItemDelLink}, {"DONE", kItemDone},
                             {"ACK", kItemAck}, {"OVERRUN", kItemOverrun}, {"RECV_ERROR", kItemRecvError}}));
  layout.Set("present", table({{"OPERSTATE", kHasOperstate}, {"LINKMODE", kHasLinkmode}, {"IFLINK", kHasIflink},
                               {"MASTER", kHasMaster}, {"MTU", kHasMtu}, {"CARRIER_CHANGES", kHasCarrierChanges},
                               {"CARRIER_UP", kHasCarrierUp}, {"CARRIER_DOWN", kHasCarrierDown},
                               {"ADDRESS", kHasAddress}, {"KIND", kHasKind}}));
  layout.Set("originMulticast", Napi::Number::New(env, kOriginMulticast));
  return layout;
}

}  // namespace

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  env.SetInstanceData(new AddonData());
  exports.Set("parse", Napi::Function::New(env, Parse, "parse"));
  exports.Set("layout", Layout(env));
  exports.Set("RouteSocketHandle", InitRouteSocket(env));
  return exports;
}

}  // namespace dot1x

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) { return dot1x::Init(env, exports); }

NODE_API_MODULE(dot1x_netlink, InitAddon)
