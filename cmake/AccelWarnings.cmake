# Warnings for accel's own targets (never for third-party code).
add_library(accel_warnings INTERFACE)
target_compile_options(accel_warnings INTERFACE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
    -Wcast-align -Wunused -Woverloaded-virtual -Wimplicit-fallthrough
    # Designated initializers that rely on member defaults are the style (STYLE.md §3); GCC 12 warns on them.
    -Wno-missing-field-initializers)
if(ACCEL_WERROR)
    target_compile_options(accel_warnings INTERFACE -Werror)
endif()

if(ACCEL_SANITIZE)
    string(REPLACE ";" "," _san "${ACCEL_SANITIZE}")
    add_compile_options(-fsanitize=${_san} -fno-omit-frame-pointer -fno-sanitize-recover=all)
    add_link_options(-fsanitize=${_san})
endif()
