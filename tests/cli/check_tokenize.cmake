# `nowrec tokenize` writes the reference ids for every input line, and fails cleanly on a bad
# model folder.
foreach(var NOWREC MODEL_DIR FIXTURES WORK_DIR)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "check_tokenize.cmake: ${var} is not set")
  endif()
endforeach()
file(MAKE_DIRECTORY ${WORK_DIR})

execute_process(COMMAND ${NOWREC} tokenize --model ${MODEL_DIR}
                INPUT_FILE ${FIXTURES}/tokenize_input.txt
                OUTPUT_FILE ${WORK_DIR}/tokenize_output.jsonl
                ERROR_VARIABLE err RESULT_VARIABLE status)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "nowrec tokenize failed (${status}): ${err}")
endif()
file(READ ${WORK_DIR}/tokenize_output.jsonl actual)
file(READ ${FIXTURES}/tokenize_expected.jsonl expected)
if(NOT actual STREQUAL expected)
  message(FATAL_ERROR "nowrec tokenize output differs from the reference:\n"
                      "--- expected\n${expected}\n--- actual\n${actual}")
endif()

# A folder that is not a model: a message on stderr and a non-zero exit, nothing on stdout.
execute_process(COMMAND ${NOWREC} tokenize --model ${WORK_DIR}/no-such-model
                INPUT_FILE ${FIXTURES}/tokenize_input.txt
                OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE status)
if(status EQUAL 0 OR NOT out STREQUAL "" OR NOT err MATCHES "no-such-model")
  message(FATAL_ERROR "bad model folder: status ${status}, stdout '${out}', stderr '${err}'")
endif()

# An unknown option: usage error, non-zero exit.
execute_process(COMMAND ${NOWREC} tokenize --no-such-option RESULT_VARIABLE status
                OUTPUT_QUIET ERROR_QUIET)
if(status EQUAL 0)
  message(FATAL_ERROR "an unknown option was accepted")
endif()
