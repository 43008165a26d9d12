# Installs the built huoyan into a fresh prefix, then configures, builds and runs the example
# application of docs/embedding.md against it as an outside project would.
#
#   cmake -DHUOYAN_BUILD_DIR=<build> -DHUOYAN_SOURCE_DIR=<source> -DWORK_DIR=<scratch>
#         [-DHUOYAN_SANITIZE=<list>] [-DCMAKE_GENERATOR=<gen>] -P run_install_test.cmake
cmake_minimum_required(VERSION 3.25)
foreach(var HUOYAN_BUILD_DIR HUOYAN_SOURCE_DIR WORK_DIR)
  if(NOT ${var})
    message(FATAL_ERROR "${var} is required")
  endif()
endforeach()

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    string(JOIN " " cmd ${ARGN})
    message(FATAL_ERROR "failed (${rc}): ${cmd}\n${out}\n${err}")
  endif()
  set(run_output "${out}" PARENT_SCOPE)
endfunction()

# The example in the documentation is the file that is built here, verbatim.
set(example ${HUOYAN_SOURCE_DIR}/tests/install/app/embedding_example.cc)
file(READ ${example} example_text)
file(READ ${HUOYAN_SOURCE_DIR}/docs/embedding.md doc_text)
string(FIND "${doc_text}" "${example_text}" at)
if(at EQUAL -1)
  message(FATAL_ERROR "docs/embedding.md no longer contains ${example} verbatim")
endif()

file(REMOVE_RECURSE ${WORK_DIR})
set(prefix ${WORK_DIR}/prefix)
run(${CMAKE_COMMAND} --install ${HUOYAN_BUILD_DIR} --prefix ${prefix})
foreach(f include/huoyan/huoyan.h include/huoyan/fake_device.h include/huoyan/detail/disabled.h)
  if(NOT EXISTS ${prefix}/${f})
    message(FATAL_ERROR "not installed: ${f}")
  endif()
endforeach()

set(flags "")
if(HUOYAN_SANITIZE)
  set(flags "-DCMAKE_CXX_FLAGS=-fsanitize=${HUOYAN_SANITIZE}"
            "-DCMAKE_EXE_LINKER_FLAGS=-fsanitize=${HUOYAN_SANITIZE}")
endif()
set(generator "")
if(CMAKE_GENERATOR)
  set(generator -G ${CMAKE_GENERATOR})
endif()
run(${CMAKE_COMMAND} -S ${HUOYAN_SOURCE_DIR}/tests/install/app -B ${WORK_DIR}/build ${generator}
    -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_BUILD_TYPE=Release ${flags})
run(${CMAKE_COMMAND} --build ${WORK_DIR}/build)

set(trace ${WORK_DIR}/trace.json)
run(${WORK_DIR}/build/embedding_example ${trace})
message("${run_output}")
if(NOT run_output MATCHES "req-1: [0-9]+ kernels")
  message(FATAL_ERROR "the example printed no per-request totals")
endif()
file(READ ${trace} json LIMIT 100000)
foreach(needle "\"traceEvents\"" "\"Int4Gemm\"" "\"attention\"" "\"req-2\"")
  string(FIND "${json}" "${needle}" found)
  if(found EQUAL -1)
    message(FATAL_ERROR "${trace} lacks ${needle}")
  endif()
endforeach()

# Compiled out: runs, records nothing, writes nothing.
file(REMOVE ${trace})
run(${WORK_DIR}/build/embedding_example_disabled ${trace})
if(EXISTS ${trace})
  message(FATAL_ERROR "the HUOYAN_DISABLE build wrote a trace")
endif()
message("install test passed")
