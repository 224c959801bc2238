# Sanitizer builds are whole-project: every target gets the flags.
if(CARBONEX_ASAN AND CARBONEX_TSAN)
  message(FATAL_ERROR "CARBONEX_ASAN and CARBONEX_TSAN are exclusive")
endif()
if(CARBONEX_ASAN)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer
                      -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()
if(CARBONEX_TSAN)
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer)
  add_link_options(-fsanitize=thread)
endif()
