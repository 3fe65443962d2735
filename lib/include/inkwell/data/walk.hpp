// Streaming, sorted traversal of files under a list of paths (directories walked recursively).
//
// Each directory is listed and sorted (bytewise) when entered, so memory holds the entries of the
// directories on the current path only, never the whole tree, and the order is the same on every
// run. Symlinks to directories are followed, but each directory is walked once per walk, by its
// (device, inode), however many links lead there: loops end, and a chain of folders each holding
// two links to the next stays one walk of each folder, not 2^N paths. The walked directories'
// identities are kept (about 64 bytes a directory). A directory deeper than kMaxWalkDepth below its root is an
// error entry (docs/decisions.md). A path that cannot be read comes out as an entry with an
// error, never skipped silently.
//
// A file found inside a directory comes with that directory's open descriptor and its own name,
// so a reader can open it with openat(): the kernel then looks up one name instead of the whole
// path again (docs/classify.md).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace inkwell {

// How deep a walk goes below a root: deeper directories are error entries, not walked. Real trees
// are a few levels deep; 64 leaves room, and keeps paths well inside PATH_MAX (4096).
inline constexpr size_t kMaxWalkDepth = 64;

// The extensions of the images inkwell decodes (image.hpp): what a walk keeps by default.
inline const std::vector<std::string> kImageExtensions = {".png", ".jpg", ".jpeg"};

// An open directory, closed when the last entry holding it is gone. At most a quarter of the
// process's descriptor limit (and 256) are open at once: past that, entries carry none and are
// opened by path, so a tree of many small directories never runs a reader out of descriptors.
class DirectoryHandle {
 public:
  // A handle on a duplicate of `fd`, or null when the budget or the process is out of descriptors.
  static std::shared_ptr<const DirectoryHandle> duplicate(int fd);
  ~DirectoryHandle();
  DirectoryHandle(const DirectoryHandle&) = delete;
  DirectoryHandle& operator=(const DirectoryHandle&) = delete;
  int fd() const { return fd_; }

 private:
  explicit DirectoryHandle(int fd) : fd_(fd) {}  // holds one descriptor of the walker's share
  int fd_;
};

class FileWalker {
 public:
  struct Entry {
    std::string path;
    std::string error;  // empty when the path is a readable regular file
    std::shared_ptr<const DirectoryHandle> dir;  // the directory it was found in; null for a root
    std::string name;                            // its name in `dir` (when dir is set)
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
    std::shared_ptr<const DirectoryHandle> handle;
  };
  std::optional<Entry> enter(const std::string& path, bool is_root);
  bool wanted(const std::string& name) const;

  std::function<std::optional<std::string>()> roots_;
  std::vector<std::string> extensions_;  // lower case
  std::vector<Frame> stack_;
  std::set<std::pair<uint64_t, uint64_t>> walked_;  // (device, inode) of every directory entered
};

}  // namespace inkwell
