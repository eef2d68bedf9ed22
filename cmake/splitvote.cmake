# splitvote_library(NAME SOURCES ... DEPS ...): a library under libs/NAME with its public
# headers in include/splitvote/NAME and private sources in src/.
function(splitvote_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(splitvote_${name} STATIC ${ARG_SOURCES})
  add_library(splitvote::${name} ALIAS splitvote_${name})
  target_include_directories(splitvote_${name} PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/include)
  target_link_libraries(splitvote_${name} PUBLIC ${ARG_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
endfunction()
