#pragma once
// Writes a set of output files all-or-nothing: every file is written under a
// temporary name in the destination folder, and only commit() fsyncs and
// renames them into place. If anything throws before that, or the user hits
// Ctrl-C, the temporaries are removed and nothing is left at the destination.
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace supra {

namespace fs = std::filesystem;

class OutputTransaction {
 public:
  // `folder` is where the files go; it is created (and removed again on
  // failure) if it does not exist. Existing outputs are refused unless `force`.
  OutputTransaction(fs::path folder, bool force);
  ~OutputTransaction();
  OutputTransaction(const OutputTransaction&) = delete;
  OutputTransaction& operator=(const OutputTransaction&) = delete;

  // A temporary path for the final file `name` (relative to the folder);
  // for writers that open files themselves (libhdf5).
  fs::path reserve(const std::string& name);
  // Creates the temporary for `name` and returns an open fd (owned here).
  int create(const std::string& name);
  // Creates `name` with `bytes` as its whole content (config.json, tokenizer files).
  void write_file(const std::string& name, std::string_view bytes);
  void commit();

  const fs::path& folder() const { return folder_; }

 private:
  struct Entry {
    std::string name;
    fs::path temp;
    int fd = -1;
  };
  fs::path folder_;
  bool force_;
  std::vector<fs::path> created_folders_;  // folders this transaction made, deepest first
  bool committed_ = false;
  std::vector<Entry> entries_;
  void cleanup() noexcept;
};

// Fails with a usage error if `path` exists and `force` is false.
void refuse_existing_output(const fs::path& path, bool force);

}  // namespace supra
