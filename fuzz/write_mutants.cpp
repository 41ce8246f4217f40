// Writes damaged copies of a GGUF (tests/engine/gguf_mutants.h) into a folder, as seeds for gguf_validate_fuzzer:
//   write_mutants SOURCE.gguf OUT_DIR [COUNT]
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "../tests/engine/gguf_mutants.h"

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: write_mutants SOURCE.gguf OUT_DIR [COUNT]\n");
        return 2;
    }
    std::ifstream in(argv[1], std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    if (!in) {
        std::fprintf(stderr, "write_mutants: cannot read %s\n", argv[1]);
        return 1;
    }
    const size_t count = argc > 3 ? std::strtoul(argv[3], nullptr, 10) : 400;
    std::filesystem::create_directories(argv[2]);
    size_t i = 0;
    for (const auto& m : accel::test::make_mutants(ss.str(), count)) {
        std::ofstream out(std::filesystem::path(argv[2]) / ("mutant_" + std::to_string(i++) + ".gguf"), std::ios::binary);
        out.write(m.bytes.data(), static_cast<std::streamsize>(m.bytes.size()));
    }
    std::printf("%zu mutants in %s\n", i, argv[2]);
    return 0;
}
