{
  "targets": [
    {
      "target_name": "arith_torch",
      "sources": ["<!@(node paths.cjs sources)"],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "<!@(node paths.cjs include)"
      ],
      "libraries": ["<!@(node paths.cjs libraries)"],
      "defines": [
        "NAPI_VERSION=8",
        "NAPI_CPP_EXCEPTIONS",
        "NODE_ADDON_API_CPP_EXCEPTIONS_ALL",
        "<!@(node paths.cjs defines)"
      ],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17", "-std=gnu++1y"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-frtti", "-O3", "-fno-trapping-math", "-Wno-unused-parameter", "-Wno-deprecated-declarations"]
    }
  ]
}
