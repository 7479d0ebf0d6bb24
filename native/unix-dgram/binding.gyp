{
  "includes": ["../core/core.gypi"],
  "targets": [
    {
      "target_name": "dot1x_unix_dgram",
      "sources": ["src/unix_dgram.cc"]
    }
  ]
}
