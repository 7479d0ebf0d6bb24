{
  "includes": ["../core/core.gypi"],
  "targets": [
    {
      "target_name": "dot1x_posix",
      "sources": ["src/posix.cc"]
    }
  ]
}
