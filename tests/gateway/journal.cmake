# Tests of carbonex::journal (gateway/journal.cmake).
foreach(name command_codec journal)
  if(EXISTS ${CMAKE_CURRENT_LIST_DIR}/${name}_test.cpp)
    add_executable(${name}_test ${CMAKE_CURRENT_LIST_DIR}/${name}_test.cpp)
    target_link_libraries(${name}_test PRIVATE carbonex::journal Catch2::Catch2)
    carbonex_set_warnings(${name}_test)
    catch_discover_tests(${name}_test PROPERTIES LABELS "gateway")
  endif()
endforeach()

# libFuzzer target for the payload decoder; seed corpus in
# tests/fuzz/corpus/journal/. The codec is compiled into the target so that
# it carries the fuzzer's coverage instrumentation.
if(CARBONEX_FUZZ)
  add_executable(journal_decoder_fuzz
    ${CMAKE_CURRENT_LIST_DIR}/../fuzz/journal_decoder_fuzz.cpp
    ${PROJECT_SOURCE_DIR}/gateway/src/command_codec.cpp)
  target_include_directories(journal_decoder_fuzz PRIVATE
    ${PROJECT_SOURCE_DIR}/gateway/include)
  target_link_libraries(journal_decoder_fuzz PRIVATE carbonex::engine)
  target_compile_options(journal_decoder_fuzz PRIVATE
    -fsanitize=fuzzer,address,undefined)
  target_link_options(journal_decoder_fuzz PRIVATE
    -fsanitize=fuzzer,address,undefined)
  carbonex_set_warnings(journal_decoder_fuzz)
endif()

# carbonex-replay --journal end to end (needs the stream tools).
if(TARGET carbonex-replay AND TARGET carbonex-journal-from-stream)
  add_test(NAME journal_replay_cli
    COMMAND ${CMAKE_CURRENT_LIST_DIR}/journal_replay_test.sh
            ${CMAKE_RUNTIME_OUTPUT_DIRECTORY})
  set_tests_properties(journal_replay_cli PROPERTIES LABELS "gateway")
endif()
