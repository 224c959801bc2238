# carbonex::journal: the durable command journal and its record codec.
# Depends on the engine's command types and xxHash; not on QuickFIX, so that
# tools (carbonex-replay) can read journals.
add_library(carbonex_journal
  ${CMAKE_CURRENT_LIST_DIR}/src/command_codec.cpp
  ${CMAKE_CURRENT_LIST_DIR}/src/journal.cpp)
target_include_directories(carbonex_journal PUBLIC
  ${CMAKE_CURRENT_LIST_DIR}/include)
target_link_libraries(carbonex_journal
  PUBLIC carbonex::engine
  PRIVATE PkgConfig::XXHASH)
carbonex_set_warnings(carbonex_journal)
add_library(carbonex::journal ALIAS carbonex_journal)
