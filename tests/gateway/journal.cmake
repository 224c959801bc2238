# Tests of carbonex::journal (gateway/journal.cmake).
foreach(name command_codec journal)
  if(EXISTS ${CMAKE_CURRENT_LIST_DIR}/${name}_test.cpp)
    add_executable(${name}_test ${CMAKE_CURRENT_LIST_DIR}/${name}_test.cpp)
    target_link_libraries(${name}_test PRIVATE carbonex::journal Catch2::Catch2)
    carbonex_set_warnings(${name}_test)
    catch_discover_tests(${name}_test PROPERTIES LABELS "gateway")
  endif()
endforeach()
