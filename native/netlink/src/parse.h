// Parsing of rtnetlink link messages into a flat, JS-friendly batch.
// No Node-API here: this file only knows the kernel's message layout (uapi headers).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace dot1x {

// One item per parsed netlink message, kItemWords uint32 each. The TypeScript side
// (src/netlink/batch.ts) mirrors these offsets and checks every one of them against the addon's
// `layout` export (addon.cc) at load.
enum ItemKind : uint32_t {
  kItemNewLink = 1,
  kItemDelLink = 2,
  kItemDone = 3,     // NLMSG_DONE: end of a dump (word kWordErrno: error the dump ended with)
  kItemAck = 4,      // NLMSG_ERROR: ACK (errno 0) or failure of a request
  kItemOverrun = 5,  // recvmsg said ENOBUFS: multicasts were lost
  kItemRecvError = 6 // recvmsg failed otherwise (errno in kWordErrno)
};

enum ItemWord : size_t {
  kWordKind = 0,
  kWordSeq,
  kWordNlFlags,   // nlmsghdr.nlmsg_flags (NLM_F_MULTI, NLM_F_DUMP_INTR, ...)
  kWordOrigin,    // kOriginMulticast: arrived as a multicast (sockaddr_nl.nl_groups != 0)
  kWordPresent,   // which optional fields the kernel included, kHas* bits
  kWordIndex,
  kWordFlags,
  kWordOperstate,
  kWordLinkmode,
  kWordIflink,
  kWordMaster,
  kWordMtu,
  kWordCarrierChanges,
  kWordCarrierUp,
  kWordCarrierDown,
  kWordErrno,     // positive errno for kItemAck / kItemDone / kItemRecvError
  kWordFamily,    // ifinfomsg.ifi_family (AF_UNSPEC, or AF_BRIDGE for a bridge port's notifications)
  kItemWords
};

enum PresentBit : uint32_t {
  kHasOperstate = 1u << 0,
  kHasLinkmode = 1u << 1,
  kHasIflink = 1u << 2,
  kHasMaster = 1u << 3,
  kHasMtu = 1u << 4,
  kHasCarrierChanges = 1u << 5,
  kHasCarrierUp = 1u << 6,
  kHasCarrierDown = 1u << 7,
  kHasAddress = 1u << 8,
  kHasKind = 1u << 9,
};

constexpr uint32_t kOriginMulticast = 1;

// Strings per link item: "name\0kind\0address\0" (empty when absent).
constexpr uint32_t kStringsPerLink = 3;

// Items plus the strings of the link records, kStringsPerLink for every link item, in order.
struct Batch {
  std::vector<uint32_t> words;
  std::string strings;
  uint32_t malformed = 0;

  bool empty() const { return words.empty(); }
  void clear() {
    words.clear();
    strings.clear();
    malformed = 0;
  }
  uint32_t* add(uint32_t kind, uint32_t seq);
};

// Parses one datagram's worth of netlink messages. Never reads outside [data, data+len).
// Messages that are truncated or inconsistent are dropped and counted in batch->malformed.
void ParseDatagram(const uint8_t* data, size_t len, bool multicast, Batch* batch);

}  // namespace dot1x
