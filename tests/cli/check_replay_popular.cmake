# `nowrec replay` and tools/interaction_split.py score the popular method identically: the C++
# results on the replay fixture are recomputed by tools/check_replay_popular.py.
foreach(var NOWREC DATA TOOL WORK_DIR)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "check_replay_popular.cmake: ${var} is not set")
  endif()
endforeach()
find_program(PYTHON3 python3 REQUIRED)
file(MAKE_DIRECTORY ${WORK_DIR})
file(REMOVE ${WORK_DIR}/loo.json)

execute_process(COMMAND ${NOWREC} replay --data ${DATA} --methods popular
                        --out ${WORK_DIR}/loo.json
                OUTPUT_QUIET ERROR_VARIABLE err RESULT_VARIABLE status)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "nowrec replay failed (${status}): ${err}")
endif()
execute_process(COMMAND ${PYTHON3} ${TOOL} --data ${DATA} --results ${WORK_DIR}/loo.json
                OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE status)
if(NOT status EQUAL 0 OR NOT out MATCHES "agree")
  message(FATAL_ERROR "the Python recomputation disagrees (${status}):\n${out}${err}")
endif()
