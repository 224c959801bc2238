# carbonex::journal: the durable command journal and its record codec.
# Depends on the engine's command types and xxHash; not on QuickFIX, so that
# tools (carbonex-replay) can read journals.
set(carbonex_journal_sources ${CMAKE_CURRENT_LIST_DIR}/src/command_codec.cpp)
if(EXISTS ${CMAKE_CURRENT_LIST_DIR}/src/journal.cpp)
  list(APPEND carbonex_journal_sources ${CMAKE_CURRENT_LIST_DIR}/src/journal.cpp)
endif()
add_library(carbonex_journal ${carbonex_journal_sources})
target_include_directories(carbonex_journal PUBLIC
  ${CMAKE_CURRENT_LIST_DIR}/include)
target_link_libraries(carbonex_journal
  PUBLIC carbonex::engine
  PRIVATE PkgConfig::XXHASH)
carbonex_set_warnings(carbonex_journal)
add_library(carbonex::journal ALIAS carbonex_journal)
