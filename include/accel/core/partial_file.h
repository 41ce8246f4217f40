#pragma once

#include <filesystem>

namespace accel {

// A file written beside its final path and renamed over it once complete, so that a reader never sees half a
// file and a crash or an error leaves nothing behind. The temporary name, ".<name>.partial-<pid>-<n>" in the
// final file's folder, is unique to this process and call: two writers of the same path (two tests making the
// same cached model at once) each rename a whole file, and the last one wins.
class PartialFile {
public:
    explicit PartialFile(std::filesystem::path final_path);
    ~PartialFile();  // removes the temporary unless commit() succeeded
    PartialFile(const PartialFile&) = delete;
    PartialFile& operator=(const PartialFile&) = delete;

    const std::filesystem::path& path() const { return temp_; }  // where to write
    const std::filesystem::path& final_path() const { return final_; }
    // Renames the temporary over the final path. Throws Error{io} naming both paths; the temporary is then removed
    // by the destructor.
    void commit();

private:
    std::filesystem::path final_;
    std::filesystem::path temp_;
    bool committed_ = false;
};

// True for a name PartialFile gives its temporaries (tests check that nothing is left behind).
bool is_partial_file_name(const std::string& filename);

// Removes the PartialFile temporaries of `final_path` that process `writer` made: for a parent cleaning up after a
// child it killed (the child's destructors never ran). Other processes' temporaries of the same path stay.
void remove_partial_files(const std::filesystem::path& final_path, int writer_pid);

}  // namespace accel
