#!/bin/sh
# Example for `dot1x-operstate --auth exec --exec examples/auth-program.sh --exec-arg DIR`.
# Authorizes the port when DIR (default /etc/dot1x-operstate/allowed) holds a file named after
# the interface, e.g. `touch /etc/dot1x-operstate/allowed/eth0`.
# Contract: exit 0 = authorized, exit 1 = credentials rejected, anything else = failure.
# dot1x-operstate sets DOT1X_IFNAME, DOT1X_IFINDEX, DOT1X_MAC, DOT1X_ATTEMPT, DOT1X_REASON;
# of its own environment only PATH, LANG and DOT1X_* reach this program. Its log keeps the exit
# status and at most the first line printed (shortened, password=... redacted): print no secret.
# Arguments (--exec-arg) are visible to every local user (ps): a secret belongs in a file that
# only root can read, named by an argument.
allowed="${1:-/etc/dot1x-operstate/allowed}"
echo "auth-program: $DOT1X_IFNAME ($DOT1X_MAC) attempt $DOT1X_ATTEMPT, reason $DOT1X_REASON"
if [ -z "$DOT1X_IFNAME" ]; then
  echo "auth-program: DOT1X_IFNAME not set" >&2
  exit 2
fi
if [ -e "$allowed/$DOT1X_IFNAME" ]; then
  exit 0
fi
echo "auth-program: $DOT1X_IFNAME is not in $allowed"
exit 1
