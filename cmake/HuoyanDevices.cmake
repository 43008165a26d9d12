# Device collectors: CUPTI (NVIDIA) and CANN (Ascend), plus the test-double vendor libraries.
#
# Both collectors load their vendor library with dlopen at run time, so nothing here links a
# vendor library and one binary runs with or without the toolkits installed. The CUPTI collector
# still needs the CUDA toolkit's *headers* at build time (record layouts, enums): it is built
# when they are found (HUOYAN_WITH_CUPTI=AUTO), and otherwise replaced by a stub whose start()
# explains how to get it. The CANN collector declares the few msPTI/ACL types it uses itself and
# is always built.
#
# Used by:   include(HuoyanDevices)                          top-level, before add_subdirectory(src)
#            add_subdirectory(collect/cupti) / (collect/cann) src/CMakeLists.txt, after huoyan
#            huoyan_devices_tests(huoyan_tests)              tests/CMakeLists.txt, after the target

set(HUOYAN_WITH_CUPTI "AUTO" CACHE STRING
    "Build the CUPTI collector: AUTO (if the CUDA toolkit's CUPTI headers are found), ON, OFF")
set_property(CACHE HUOYAN_WITH_CUPTI PROPERTY STRINGS AUTO ON OFF)

set(HUOYAN_HAVE_CUPTI OFF)
set(HUOYAN_CUPTI_INCLUDE_DIRS "")
if(NOT HUOYAN_WITH_CUPTI STREQUAL "OFF")
  find_package(CUDAToolkit QUIET)
  set(_cuda_hints ${CUDAToolkit_INCLUDE_DIRS})
  if(CUDAToolkit_LIBRARY_ROOT)
    list(APPEND _cuda_hints "${CUDAToolkit_LIBRARY_ROOT}/include"
         "${CUDAToolkit_LIBRARY_ROOT}/extras/CUPTI/include")
  endif()
  if(DEFINED ENV{CUDA_HOME})
    list(APPEND _cuda_hints "$ENV{CUDA_HOME}/include" "$ENV{CUDA_HOME}/extras/CUPTI/include")
  endif()
  find_path(HUOYAN_CUPTI_INCLUDE_DIR cupti_activity.h
            HINTS ${_cuda_hints}
            PATHS /usr/local/cuda/include /usr/local/cuda/extras/CUPTI/include)
  find_path(HUOYAN_CUDA_INCLUDE_DIR cuda.h HINTS ${_cuda_hints} PATHS /usr/local/cuda/include)
  if(HUOYAN_CUPTI_INCLUDE_DIR AND HUOYAN_CUDA_INCLUDE_DIR)
    set(HUOYAN_HAVE_CUPTI ON)
    set(HUOYAN_CUPTI_INCLUDE_DIRS ${HUOYAN_CUPTI_INCLUDE_DIR} ${HUOYAN_CUDA_INCLUDE_DIR})
    list(REMOVE_DUPLICATES HUOYAN_CUPTI_INCLUDE_DIRS)
    message(STATUS "huoyan: CUPTI collector enabled (headers in ${HUOYAN_CUPTI_INCLUDE_DIRS})")
  elseif(HUOYAN_WITH_CUPTI STREQUAL "ON")
    message(FATAL_ERROR "HUOYAN_WITH_CUPTI=ON but cupti_activity.h/cuda.h were not found; "
                        "install the CUDA toolkit or set CUDAToolkit_ROOT")
  else()
    message(STATUS "huoyan: CUPTI headers not found, the cupti collector reports unavailable")
  endif()
endif()

# Wires the device-collector tests into `tests_target`: builds the test doubles and tells the
# tests where they are (HUOYAN_DOUBLE_<LIB>="<path of the double>").
function(huoyan_devices_tests tests_target)
  add_subdirectory(${PROJECT_SOURCE_DIR}/tests/doubles ${PROJECT_BINARY_DIR}/tests/doubles)
  set(_doubles huoyan_double_mspti huoyan_double_ascendcl huoyan_double_msprof)
  target_compile_definitions(${tests_target} PRIVATE
    HUOYAN_DEVICE_COLLECTORS=1
    HUOYAN_DOUBLE_MSPTI="$<TARGET_FILE:huoyan_double_mspti>"
    HUOYAN_DOUBLE_ASCENDCL="$<TARGET_FILE:huoyan_double_ascendcl>"
    HUOYAN_DOUBLE_MSPROF="$<TARGET_FILE:huoyan_double_msprof>")
  if(HUOYAN_HAVE_CUPTI)
    list(APPEND _doubles huoyan_double_cupti)
    target_compile_definitions(${tests_target} PRIVATE
      HUOYAN_HAVE_CUPTI=1
      HUOYAN_DOUBLE_CUPTI="$<TARGET_FILE:huoyan_double_cupti>")
    target_include_directories(${tests_target} SYSTEM PRIVATE ${HUOYAN_CUPTI_INCLUDE_DIRS})
  endif()
  add_dependencies(${tests_target} ${_doubles})
  target_link_libraries(${tests_target} PRIVATE ${CMAKE_DL_LIBS})
endfunction()
