// rtnetlink link message parser. Layout and macros: include/uapi/linux/netlink.h
// (nlmsghdr, NLMSG_*), rtnetlink.h (ifinfomsg, RTA_*), if_link.h (IFLA_*, IFLA_INFO_*).
// Every length is checked against what is left before anything is read: a message or
// attribute that does not fit is never dereferenced.
#include "parse.h"

#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/netdevice.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include <cstring>

namespace dot1x {

// |v| as the kernel's positive errno. Negating in unsigned arithmetic: -v on an int is undefined
// for INT_MIN, which a corrupt or hostile message can carry (UBSan found it).
static uint32_t Magnitude(int v) {
  return v < 0 ? 0u - static_cast<uint32_t>(v) : static_cast<uint32_t>(v);
}

uint32_t* Batch::add(uint32_t kind, uint32_t seq) {
  size_t at = words.size();
  words.resize(at + kItemWords, 0);
  uint32_t* item = words.data() + at;
  item[kWordKind] = kind;
  item[kWordSeq] = seq;
  return item;
}

namespace {

// The fixed-size attributes we read, as the kernel sends them (rtnl_fill_ifinfo: u8 for
// OPERSTATE/LINKMODE, u32 for the rest). A payload shorter than its type drops the message.
struct NumericAttr {
  unsigned short type;
  ItemWord word;
  PresentBit bit;
  size_t size;
};
constexpr NumericAttr kNumericAttrs[] = {
    {IFLA_OPERSTATE, kWordOperstate, kHasOperstate, sizeof(uint8_t)},
    {IFLA_LINKMODE, kWordLinkmode, kHasLinkmode, sizeof(uint8_t)},
    {IFLA_LINK, kWordIflink, kHasIflink, sizeof(uint32_t)},
    {IFLA_MASTER, kWordMaster, kHasMaster, sizeof(uint32_t)},
    {IFLA_MTU, kWordMtu, kHasMtu, sizeof(uint32_t)},
    {IFLA_CARRIER_CHANGES, kWordCarrierChanges, kHasCarrierChanges, sizeof(uint32_t)},
    {IFLA_CARRIER_UP_COUNT, kWordCarrierUp, kHasCarrierUp, sizeof(uint32_t)},
    {IFLA_CARRIER_DOWN_COUNT, kWordCarrierDown, kHasCarrierDown, sizeof(uint32_t)},
};

// 1: read into v/present; 0: not one of ours; -1: too short.
int ReadNumeric(const struct rtattr* rta, unsigned short type, uint32_t* v, uint32_t* present) {
  for (const NumericAttr& a : kNumericAttrs) {
    if (a.type != type) continue;
    if (RTA_PAYLOAD(rta) < a.size) return -1;
    if (a.size == sizeof(uint8_t)) {
      v[a.word] = *static_cast<const uint8_t*>(RTA_DATA(rta));
    } else {
      uint32_t x;
      std::memcpy(&x, RTA_DATA(rta), sizeof(x));
      v[a.word] = x;
    }
    *present |= a.bit;
    return 1;
  }
  return 0;
}

// A NUL-terminated string attribute; the kernel always terminates (nla_put_string), a
// string that fills the payload without a NUL is taken up to the payload's end.
struct Str {
  const char* p = nullptr;
  size_t n = 0;
};

Str ReadString(const struct rtattr* rta) {
  const char* p = static_cast<const char*>(RTA_DATA(rta));
  return Str{p, strnlen(p, RTA_PAYLOAD(rta))};
}

// IFLA_LINKINFO is nested: IFLA_INFO_KIND sits inside it (if_link.h, enum IFLA_INFO_*).
bool ReadLinkInfoKind(const struct rtattr* linkinfo, Str* kind) {
  int len = static_cast<int>(RTA_PAYLOAD(linkinfo));
  const struct rtattr* rta = static_cast<const struct rtattr*>(RTA_DATA(linkinfo));
  for (; RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
    if ((rta->rta_type & NLA_TYPE_MASK) == IFLA_INFO_KIND) *kind = ReadString(rta);
  }
  // Up to 3 bytes left are alignment padding; more that do not form an attribute are not.
  return len < static_cast<int>(RTA_ALIGNTO);
}

void AppendAddress(std::string* out, const uint8_t* p, size_t n) {
  static const char kHex[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) {
    if (i) out->push_back(':');
    out->push_back(kHex[p[i] >> 4]);
    out->push_back(kHex[p[i] & 0xf]);
  }
}

// RTM_NEWLINK / RTM_DELLINK. Returns false (message dropped) when inconsistent.
bool ParseLink(const struct nlmsghdr* nlh, bool multicast, Batch* batch) {
  if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(struct ifinfomsg))) return false;
  const struct ifinfomsg* ifi = static_cast<const struct ifinfomsg*>(NLMSG_DATA(nlh));

  uint32_t v[kItemWords] = {};
  uint32_t present = 0;
  Str name, kind;
  const uint8_t* addr = nullptr;
  size_t addrLen = 0;
  bool haveName = false;

  int len = static_cast<int>(nlh->nlmsg_len) - static_cast<int>(NLMSG_SPACE(sizeof(struct ifinfomsg)));
  const struct rtattr* rta = IFLA_RTA(ifi);
  for (; RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
    unsigned short type = rta->rta_type & NLA_TYPE_MASK;
    switch (type) {
      case IFLA_IFNAME:
        name = ReadString(rta);
        haveName = true;
        break;
      case IFLA_ADDRESS:
        addrLen = RTA_PAYLOAD(rta);
        if (addrLen > MAX_ADDR_LEN) return false;  // include/linux/netdevice.h bound
        addr = static_cast<const uint8_t*>(RTA_DATA(rta));
        present |= kHasAddress;
        break;
      case IFLA_LINKINFO:
        if (!ReadLinkInfoKind(rta, &kind)) return false;
        if (kind.p) present |= kHasKind;
        break;
      default:
        if (ReadNumeric(rta, type, v, &present) < 0) return false;
        break;
    }
  }
  // Leftover bytes that cannot hold an attribute header are padding only if under 4.
  if (len >= static_cast<int>(RTA_ALIGNTO)) return false;
  if (!haveName || name.n == 0) return false;  // rtnl_fill_ifinfo always sends IFLA_IFNAME

  uint32_t* item = batch->add(nlh->nlmsg_type == RTM_DELLINK ? kItemDelLink : kItemNewLink, nlh->nlmsg_seq);
  v[kWordKind] = item[kWordKind];
  v[kWordSeq] = item[kWordSeq];
  v[kWordNlFlags] = nlh->nlmsg_flags;
  v[kWordOrigin] = multicast ? kOriginMulticast : 0u;
  v[kWordPresent] = present;
  v[kWordIndex] = static_cast<uint32_t>(ifi->ifi_index);
  v[kWordFlags] = ifi->ifi_flags;
  v[kWordFamily] = ifi->ifi_family;
  std::memcpy(item, v, sizeof(v));

  std::string& s = batch->strings;
  s.append(name.p, name.n);
  s.push_back('\0');
  if (kind.p) s.append(kind.p, kind.n);
  s.push_back('\0');
  if (addr) AppendAddress(&s, addr, addrLen);
  s.push_back('\0');
  return true;
}

}  // namespace

void ParseDatagram(const uint8_t* data, size_t size, bool multicast, Batch* batch) {
  if (size > 0x7fffffff) {
    batch->malformed++;
    return;
  }
  int len = static_cast<int>(size);
  const struct nlmsghdr* nlh = reinterpret_cast<const struct nlmsghdr*>(data);
  for (; NLMSG_OK(nlh, len); nlh = NLMSG_NEXT(nlh, len)) {
    switch (nlh->nlmsg_type) {
      case RTM_NEWLINK:
      case RTM_DELLINK:
        if (!ParseLink(nlh, multicast, batch)) batch->malformed++;
        break;
      case NLMSG_DONE: {
        uint32_t* item = batch->add(kItemDone, nlh->nlmsg_seq);
        item[kWordNlFlags] = nlh->nlmsg_flags;
        // A dump that failed half-way says so in an int after the header (netlink_dump_done).
        if (nlh->nlmsg_len >= NLMSG_LENGTH(sizeof(int))) {
          int err;
          std::memcpy(&err, NLMSG_DATA(nlh), sizeof(err));
          item[kWordErrno] = err < 0 ? Magnitude(err) : 0;
        }
        break;
      }
      case NLMSG_ERROR: {
        if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(struct nlmsgerr))) {
          batch->malformed++;
          break;
        }
        const struct nlmsgerr* e = static_cast<const struct nlmsgerr*>(NLMSG_DATA(nlh));
        uint32_t* item = batch->add(kItemAck, nlh->nlmsg_seq);
        item[kWordErrno] = Magnitude(e->error);
        break;
      }
      default:
        break;  // NLMSG_NOOP and types we did not ask for
    }
  }
  // Bytes left over that do not form a message (a negative len only means the last
  // message had no trailing padding, which is fine).
  if (len > 0) batch->malformed++;
}

}  // namespace dot1x
