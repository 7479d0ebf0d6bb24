{
  "includes": ["../core/core.gypi"],
  "targets": [
    {
      "target_name": "dot1x_netlink",
      "sources": ["src/parse.cc", "src/rtnl_socket.cc", "src/route_socket.cc", "src/addon.cc"]
    },
    {
      # The test build: what only the tests and benchmarks use (a synchronous raw dump). Built
      # beside the production addon and never loaded by the program nor shipped (tools/deb.mjs).
      "target_name": "dot1x_netlink_test",
      "sources": ["src/rtnl_socket.cc", "src/raw_dump.cc"]
    }
  ]
}
