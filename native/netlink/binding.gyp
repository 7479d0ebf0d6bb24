{
  "includes": ["../core/core.gypi"],
  "targets": [
    {
      "target_name": "dot1x_netlink",
      "sources": ["src/parse.cc", "src/route_socket.cc", "src/addon.cc"]
    }
  ]
}
