# Fails when DIR exists: a test wrote to the default store instead of its own --store.
if(EXISTS "${DIR}")
  file(GLOB_RECURSE found "${DIR}/*")
  message(FATAL_ERROR "a test wrote outside its temporary directory: ${found}")
endif()
