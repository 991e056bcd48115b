# Third-party libraries: Debian packages, plus DuckDB fetched by scripts/bootstrap.sh.
find_package(PkgConfig REQUIRED)
find_package(fmt REQUIRED)
find_package(nlohmann_json 3.11 REQUIRED)
find_package(CLI11 REQUIRED)
find_package(OpenSSL REQUIRED)
find_package(Threads REQUIRED)
find_package(ZLIB REQUIRED)
pkg_check_modules(TOMLPP REQUIRED IMPORTED_TARGET tomlplusplus)
pkg_check_modules(LIBPQ REQUIRED IMPORTED_TARGET libpq)
pkg_check_modules(SIMDJSON REQUIRED IMPORTED_TARGET simdjson)
pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)
# jemalloc replaces glibc's malloc in the whole process, DuckDB included (see README). The
# sanitizers bring their own allocator, so a sanitizer build keeps glibc's.
if(PQFLOW_JEMALLOC AND NOT PQFLOW_SANITIZE)
  pkg_check_modules(JEMALLOC REQUIRED IMPORTED_TARGET jemalloc)
endif()
if(PQFLOW_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()

# DuckDB 1.4.4 (C API). DUCKDB_ROOT points at a prefix holding include/duckdb.h and
# lib/libduckdb.so; the default is the copy the bootstrap script verified.
set(DUCKDB_ROOT "${CMAKE_SOURCE_DIR}/third_party/duckdb" CACHE PATH "DuckDB install prefix")
find_path(DUCKDB_INCLUDE_DIR duckdb.h PATHS "${DUCKDB_ROOT}/include" NO_DEFAULT_PATH)
find_library(DUCKDB_LIBRARY duckdb PATHS "${DUCKDB_ROOT}/lib" NO_DEFAULT_PATH)
if(NOT DUCKDB_INCLUDE_DIR OR NOT DUCKDB_LIBRARY)
  message(FATAL_ERROR "DuckDB not found under DUCKDB_ROOT=${DUCKDB_ROOT}; run scripts/bootstrap.sh "
                      "or pass -DDUCKDB_ROOT=/prefix/with/include/duckdb.h")
endif()
add_library(duckdb_c SHARED IMPORTED GLOBAL)
set_target_properties(duckdb_c PROPERTIES
  IMPORTED_LOCATION "${DUCKDB_LIBRARY}"
  INTERFACE_INCLUDE_DIRECTORIES "${DUCKDB_INCLUDE_DIR}")
get_filename_component(DUCKDB_LIBRARY_DIR "${DUCKDB_LIBRARY}" DIRECTORY)
# The binary finds libduckdb.so without LD_LIBRARY_PATH.
set(CMAKE_BUILD_RPATH "${DUCKDB_LIBRARY_DIR}")
set(CMAKE_INSTALL_RPATH "${DUCKDB_LIBRARY_DIR}")

# pqflow_add_tests(NAME SOURCES... LIBS ...): one GoogleTest binary per module.
function(pqflow_add_tests name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBS" ${ARGN})
  if(NOT PQFLOW_BUILD_TESTS)
    return()
  endif()
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_LIBS} pqflow_test_support GTest::gtest GTest::gtest_main)
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60)
endfunction()
