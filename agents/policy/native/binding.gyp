{
  "targets": [
    {
      "target_name": "queue_rl_native",
      "sources": ["src/addon.cc", "src/mlp.cc"],
      "cflags_cc": ["-O3", "-std=c++17", "-fexceptions", "-fno-math-errno", "-ffp-contract=off"],
      "cflags_cc!": ["-fno-exceptions"],
      "xcode_settings": {
        "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
        "OTHER_CPLUSPLUSFLAGS": ["-O3", "-std=c++17", "-fno-math-errno", "-ffp-contract=off"]
      }
    }
  ]
}
