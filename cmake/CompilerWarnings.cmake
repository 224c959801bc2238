# carbonex_set_warnings(TARGET): the project's warning set (docs/architecture.md).
function(carbonex_set_warnings target)
  set(warnings -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion
               -Wnon-virtual-dtor -Wold-style-cast -Woverloaded-virtual
               -Wnull-dereference -Wimplicit-fallthrough)
  if(CARBONEX_WARNINGS_AS_ERRORS)
    list(APPEND warnings -Werror)
  endif()
  get_target_property(type ${target} TYPE)
  if(type STREQUAL "INTERFACE_LIBRARY")
    target_compile_options(${target} INTERFACE ${warnings})
  else()
    target_compile_options(${target} PRIVATE ${warnings})
  endif()
endfunction()
