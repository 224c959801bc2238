# Sanitizer builds are whole-project: every target gets the flags.
if(CARBONEX_ASAN AND CARBONEX_TSAN)
  message(FATAL_ERROR "CARBONEX_ASAN and CARBONEX_TSAN are exclusive")
endif()
if(CARBONEX_FUZZ AND CARBONEX_TSAN)
  message(FATAL_ERROR "CARBONEX_FUZZ and CARBONEX_TSAN are exclusive")
endif()
if(CARBONEX_FUZZ)
  # libFuzzer (tests/fuzz/CMakeLists.txt): every library is compiled with the
  # fuzzer's coverage instrumentation plus ASan+UBSan, so the fuzz targets
  # explore the code they call; only the fuzz executables link libFuzzer's
  # main (-fsanitize=fuzzer). Other programs of this build link without it.
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined
                      -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
elseif(CARBONEX_ASAN)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer
                      -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()
if(CARBONEX_TSAN)
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer)
  add_link_options(-fsanitize=thread)
endif()
