# libaccel: every layer library (src/<layer>/ → accel_<layer>) combined into one shared library, installed with
# its public headers, the pinned libraries it needs and a CMake package (find_package(accel), target accel::accel).
# Included at the end of src/CMakeLists.txt, so a new layer folder joins the library without an edit here.
include(CMakePackageConfigHelpers)

# libaccel and the pinned libraries share one folder, which the RPATHs name ($ORIGIN, $ORIGIN/../lib).
set(ACCEL_INSTALL_LIBDIR lib)
set(ACCEL_INSTALL_CMAKEDIR ${ACCEL_INSTALL_LIBDIR}/cmake/accel)

file(GLOB _layer_dirs LIST_DIRECTORIES true "${CMAKE_CURRENT_SOURCE_DIR}/*")
set(ACCEL_LAYER_LIBRARIES)
set(_layer_objects)
foreach(_dir IN LISTS _layer_dirs)
    get_filename_component(_layer "${_dir}" NAME)
    if(TARGET accel_${_layer})
        get_target_property(_type accel_${_layer} TYPE)
        if(_type STREQUAL "STATIC_LIBRARY")
            list(APPEND ACCEL_LAYER_LIBRARIES accel_${_layer})
            list(APPEND _layer_objects $<TARGET_OBJECTS:accel_${_layer}>)
        endif()
    endif()
endforeach()

# The layers' objects make up the library; linking the layer libraries as well brings their usage requirements
# (third-party libraries) and adds no object twice, since every symbol is already defined.
add_library(accel_lib SHARED ${_layer_objects})
add_library(accel::accel ALIAS accel_lib)
target_link_libraries(accel_lib PRIVATE ${ACCEL_LAYER_LIBRARIES})
target_include_directories(accel_lib PUBLIC $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
                                            $<INSTALL_INTERFACE:include>)
target_compile_features(accel_lib INTERFACE cxx_std_20)
# 0.x: a minor version may break the ABI, so it is part of the soname (libaccel.so.0.1).
set_target_properties(accel_lib PROPERTIES OUTPUT_NAME accel EXPORT_NAME accel VERSION ${PROJECT_VERSION}
    SOVERSION ${PROJECT_VERSION_MAJOR}.${PROJECT_VERSION_MINOR} INSTALL_RPATH "$ORIGIN")

install(TARGETS accel_lib EXPORT accelTargets LIBRARY DESTINATION ${ACCEL_INSTALL_LIBDIR})
# Public headers. core/log.h is left out: its macros expand to fmt calls, and no installed header may need a
# third-party one (tests/install checks that).
install(DIRECTORY "${PROJECT_SOURCE_DIR}/include/accel" DESTINATION include PATTERN "log.h" EXCLUDE)
install(EXPORT accelTargets NAMESPACE accel:: DESTINATION ${ACCEL_INSTALL_CMAKEDIR})
configure_package_config_file("${PROJECT_SOURCE_DIR}/cmake/accelConfig.cmake.in"
    "${CMAKE_CURRENT_BINARY_DIR}/accelConfig.cmake" INSTALL_DESTINATION ${ACCEL_INSTALL_CMAKEDIR})
write_basic_package_version_file("${CMAKE_CURRENT_BINARY_DIR}/accelConfigVersion.cmake"
    COMPATIBILITY SameMinorVersion)
install(FILES "${CMAKE_CURRENT_BINARY_DIR}/accelConfig.cmake" "${CMAKE_CURRENT_BINARY_DIR}/accelConfigVersion.cmake"
    DESTINATION ${ACCEL_INSTALL_CMAKEDIR})

# The pinned libraries travel with the install, beside libaccel (the system ones are found as usual).
if(NOT ACCEL_SYSTEM_LLAMA)
    # What libaccel loads, not the reference tools' own libraries (libllama-server-impl and the like).
    file(GLOB _llama_libs "${ACCEL_LLAMA_LIBDIR}/libllama.so*" "${ACCEL_LLAMA_LIBDIR}/libggml*.so*"
                          "${ACCEL_LLAMA_LIBDIR}/libmtmd.so*")
    install(FILES ${_llama_libs} DESTINATION ${ACCEL_INSTALL_LIBDIR})
endif()
install(FILES "${ACCEL_LIBWHISPER}" DESTINATION ${ACCEL_INSTALL_LIBDIR})
if(NOT ACCEL_SYSTEM_DUCKDB)
    install(FILES "${ACCEL_LIBDUCKDB}" DESTINATION ${ACCEL_INSTALL_LIBDIR})
endif()
