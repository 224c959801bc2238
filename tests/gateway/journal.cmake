# Tests of carbonex::journal (gateway/journal.cmake).
foreach(name command_codec journal)
  if(EXISTS ${CMAKE_CURRENT_LIST_DIR}/${name}_test.cpp)
    add_executable(${name}_test ${CMAKE_CURRENT_LIST_DIR}/${name}_test.cpp)
    target_link_libraries(${name}_test PRIVATE carbonex::journal Catch2::Catch2)
    carbonex_set_warnings(${name}_test)
    catch_discover_tests(${name}_test PROPERTIES LABELS "gateway")
  endif()
endforeach()

# The payload decoder's fuzz target is in tests/fuzz/CMakeLists.txt.

# carbonex-replay --journal end to end (needs the stream tools).
if(TARGET carbonex-replay AND TARGET carbonex-journal-from-stream)
  add_test(NAME journal_replay_cli
    COMMAND ${CMAKE_CURRENT_LIST_DIR}/journal_replay_test.sh
            ${CMAKE_RUNTIME_OUTPUT_DIRECTORY})
  set_tests_properties(journal_replay_cli PROPERTIES LABELS "gateway")
endif()
