# `nowrec index` embeds a few hundred ml-latest-small movies into an index file, reports its
# throughput on stderr, and refuses a missing column.
foreach(var NOWREC MODEL_DIR MOVIES WORK_DIR)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "check_index.cmake: ${var} is not set")
  endif()
endforeach()
file(MAKE_DIRECTORY ${WORK_DIR})
file(REMOVE ${WORK_DIR}/movies.nowrec)

execute_process(COMMAND ${NOWREC} index --model ${MODEL_DIR} --items ${MOVIES}
                        --out ${WORK_DIR}/movies.nowrec --limit 300 --storage bf16
                        --id-column movieId --text-column title --text-column genres
                ERROR_VARIABLE err RESULT_VARIABLE status)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "nowrec index failed (${status}): ${err}")
endif()
if(NOT err MATCHES "300/300 items" OR NOT err MATCHES "items/s")
  message(FATAL_ERROR "nowrec index did not report progress and throughput: ${err}")
endif()
file(READ ${WORK_DIR}/movies.nowrec magic LIMIT 8 HEX)
if(NOT magic STREQUAL "4e4f575249445800")
  message(FATAL_ERROR "movies.nowrec does not start with the index magic: '${magic}'")
endif()

execute_process(COMMAND ${NOWREC} index --model ${MODEL_DIR} --items ${MOVIES}
                        --out ${WORK_DIR}/bad.nowrec --text-column plot
                OUTPUT_QUIET ERROR_VARIABLE err RESULT_VARIABLE status)
if(status EQUAL 0 OR NOT err MATCHES "no column 'plot'")
  message(FATAL_ERROR "a missing column was not refused: status ${status}, stderr '${err}'")
endif()
