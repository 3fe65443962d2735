#include "inkwell/data/walk.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>

#include "inkwell/core/descriptor_share.hpp"
#include "inkwell/core/read_file.hpp"

namespace inkwell {

namespace {
DescriptorShare& handle_share() {
  static DescriptorShare share;
  return share;
}
}  // namespace

std::shared_ptr<const DirectoryHandle> DirectoryHandle::duplicate(int fd) {
  if (handle_share().take(1) == 0) return nullptr;
  const int kept = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (kept < 0) {
    handle_share().give(1);
    return nullptr;
  }
  return std::shared_ptr<const DirectoryHandle>(new DirectoryHandle(kept));
}

DirectoryHandle::~DirectoryHandle() {
  ::close(fd_);
  handle_share().give(1);
}

FileWalker::FileWalker(std::function<std::optional<std::string>()> roots, std::vector<std::string> extensions)
    : roots_(std::move(roots)), extensions_(std::move(extensions)) {
  for (std::string& e : extensions_)
    for (char& c : e) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
}

FileWalker::FileWalker(std::vector<std::string> roots, std::vector<std::string> extensions)
    : FileWalker(
          [roots = std::move(roots), i = size_t{0}]() mutable -> std::optional<std::string> {
            if (i == roots.size()) return std::nullopt;
            return roots[i++];
          },
          std::move(extensions)) {}

bool FileWalker::wanted(const std::string& name) const {
  if (extensions_.empty()) return true;
  for (const std::string& e : extensions_)
    if (name.size() >= e.size() &&
        std::equal(e.begin(), e.end(), name.end() - static_cast<ptrdiff_t>(e.size()),
                   [](char a, char b) { return a == std::tolower(static_cast<unsigned char>(b)); }))
      return true;
  return false;
}

// A file yields an entry; a directory pushes a frame (nothing to yield yet).
std::optional<FileWalker::Entry> FileWalker::enter(const std::string& path, bool is_root) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return Entry{path, std::string("cannot read: ") + std::strerror(errno), {}, {}};
  if (S_ISREG(st.st_mode)) {
    if (is_root || wanted(path)) return Entry{path, "", {}, {}};
    return std::nullopt;
  }
  if (!S_ISDIR(st.st_mode)) {  // a FIFO, device or socket named like an image: an error row, never a hang
    if (!is_root && !wanted(path)) return std::nullopt;
    return Entry{path, std::string("not a regular file (") + file_kind(st.st_mode) + ")", {}, {}};
  }
  if (stack_.size() >= kMaxWalkDepth)
    return Entry{path, "not walked: deeper than " + std::to_string(kMaxWalkDepth) + " directories", {}, {}};
  if (!walked_.emplace(st.st_dev, st.st_ino).second) return std::nullopt;  // walked already (a link, or a loop)
  const int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR* dir = fd < 0 ? nullptr : ::fdopendir(fd);
  if (!dir) {
    const int saved = errno;
    if (fd >= 0) ::close(fd);
    return Entry{path, std::string("cannot read directory: ") + std::strerror(saved), {}, {}};
  }
  // A second descriptor, kept while entries of this directory are in use (or none: see
  // DirectoryHandle).
  Frame frame{path, {}, 0, DirectoryHandle::duplicate(fd)};
  while (const dirent* e = ::readdir(dir)) {
    if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
    frame.names.emplace_back(e->d_name, e->d_type == DT_REG);  // saves a stat per file
  }
  ::closedir(dir);
  std::sort(frame.names.begin(), frame.names.end());
  stack_.push_back(std::move(frame));
  return std::nullopt;
}

std::optional<FileWalker::Entry> FileWalker::next() {
  for (;;) {
    if (stack_.empty()) {
      std::optional<std::string> root = roots_();
      if (!root) return std::nullopt;
      if (root->empty()) continue;
      if (auto entry = enter(*root, true)) return entry;
      continue;
    }
    Frame& top = stack_.back();
    if (top.next == top.names.size()) {
      stack_.pop_back();
      continue;
    }
    const auto& [name, regular] = top.names[top.next++];
    std::string path = top.dir.back() == '/' ? top.dir + name : top.dir + "/" + name;
    if (regular) {
      if (wanted(name)) return Entry{std::move(path), "", top.handle, name};
      continue;
    }
    if (auto entry = enter(path, false)) return entry;
  }
}

}  // namespace inkwell
