// Streaming, sorted traversal of files under a list of paths (directories walked recursively).
//
// Each directory is listed and sorted (bytewise) when entered, so memory holds the entries of the
// directories on the current path only, never the whole tree, and the order is the same on every
// run. Symlinks to directories are followed unless they lead back to a directory being walked
// (a loop). A path that cannot be read comes out as an entry with an error, never skipped silently.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace inkwell {

// The extensions of the images inkwell decodes (image.hpp): what a walk keeps by default.
inline const std::vector<std::string> kImageExtensions = {".png", ".jpg", ".jpeg"};

class FileWalker {
 public:
  struct Entry {
    std::string path;
    std::string error;  // empty when the path is a readable regular file
  };

  // `roots` yields the paths to walk, one per call, nullopt at the end (so a list on stdin
  // streams too). Files inside directories are kept when their name ends with one of
  // `extensions` (case-insensitive; none keeps all); a root that is a file is always kept.
  FileWalker(std::function<std::optional<std::string>()> roots, std::vector<std::string> extensions);
  explicit FileWalker(std::vector<std::string> roots, std::vector<std::string> extensions = kImageExtensions);

  std::optional<Entry> next();

 private:
  struct Frame {
    std::string dir;
    std::vector<std::pair<std::string, bool>> names;  // sorted; true: known to be a regular file
    size_t next = 0;
    uint64_t device = 0, inode = 0;
  };
  std::optional<Entry> enter(const std::string& path, bool is_root);
  bool wanted(const std::string& name) const;

  std::function<std::optional<std::string>()> roots_;
  std::vector<std::string> extensions_;  // lower case
  std::vector<Frame> stack_;
};

}  // namespace inkwell
