# Install rules and the CMake package: `cmake --install` puts the public headers
# (include/huoyan/), the static library and huoyanConfig.cmake, so that an application does
#   find_package(huoyan REQUIRED)
#   target_link_libraries(app PRIVATE huoyan::huoyan)
#
# Used by: include(HuoyanInstall) in the top-level CMakeLists.txt, after add_subdirectory(src).
include(CMakePackageConfigHelpers)

set(HUOYAN_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/huoyan)

# A static library carries its private link dependencies to its users: every non-imported
# target it links (interface helpers such as huoyan_options) must be exported along with it.
# Imported ones (fmt::fmt, ZLIB::ZLIB, …) are found again by huoyanConfig.cmake.
set(_huoyan_export_targets huoyan)
get_target_property(_huoyan_links huoyan LINK_LIBRARIES)
foreach(_lib IN LISTS _huoyan_links)
  if(TARGET ${_lib})
    get_target_property(_imported ${_lib} IMPORTED)
    get_target_property(_aliased ${_lib} ALIASED_TARGET)
    if(NOT _imported AND NOT _aliased)
      list(APPEND _huoyan_export_targets ${_lib})
    endif()
  endif()
endforeach()

install(TARGETS ${_huoyan_export_targets} EXPORT huoyanTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/huoyan
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        FILES_MATCHING PATTERN "*.h")
install(EXPORT huoyanTargets NAMESPACE huoyan:: DESTINATION ${HUOYAN_INSTALL_CMAKEDIR})

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/huoyanConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/huoyanConfig.cmake
                              INSTALL_DESTINATION ${HUOYAN_INSTALL_CMAKEDIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/huoyanConfigVersion.cmake
                                 VERSION ${PROJECT_VERSION}
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/huoyanConfig.cmake ${PROJECT_BINARY_DIR}/huoyanConfigVersion.cmake
        DESTINATION ${HUOYAN_INSTALL_CMAKEDIR})
