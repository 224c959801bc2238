// Catch2's main, compiled once for every <target>_replay driver.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
