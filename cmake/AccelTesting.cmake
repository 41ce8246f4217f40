# accel_test(NAME LAYER <layer> KIND <unit|model|oracle|gpu|slow> SOURCES ... LIBS ... [TIMEOUT s])
# One GoogleTest binary per component, one CTest entry per binary, labelled with its layer and kind.
set(ACCEL_TEST_DATA_DEFAULT "${PROJECT_SOURCE_DIR}/../shared")
function(accel_test name)
    cmake_parse_arguments(T "" "LAYER;KIND;TIMEOUT" "SOURCES;LIBS" ${ARGN})
    if(NOT T_KIND MATCHES "^(unit|model|oracle|gpu|slow)$")
        message(FATAL_ERROR "accel_test(${name}): KIND must be unit, model, oracle, gpu or slow")
    endif()
    add_executable(${name} ${T_SOURCES})
    target_link_libraries(${name} PRIVATE ${T_LIBS} accel_test_support GTest::gtest_main accel_warnings)
    add_test(NAME ${name} COMMAND ${name})
    # GTEST_OUTPUT: each binary's per-case report (<build>/gtest-results/<name>.xml), where .ci/run counts skips.
    if(NOT T_TIMEOUT)
        set(T_TIMEOUT 300)
    endif()
    set_tests_properties(${name} PROPERTIES LABELS "${T_LAYER};${T_KIND}" TIMEOUT ${T_TIMEOUT}
        ENVIRONMENT "ACCEL_BIN=$<TARGET_FILE:accel>;ACCEL_SOURCE_DIR=${PROJECT_SOURCE_DIR};ACCEL_TEST_CACHE=${PROJECT_BINARY_DIR}/test-cache;ACCEL_DATA_DIR=${PROJECT_BINARY_DIR}/test-data;ACCEL_CACHE_DIR=${PROJECT_BINARY_DIR}/test-cache/accel;GTEST_OUTPUT=xml:${PROJECT_BINARY_DIR}/gtest-results/")
endfunction()
