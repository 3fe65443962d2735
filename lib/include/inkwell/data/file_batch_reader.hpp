// Reads many small files with few system calls: a folder of scans is mostly files of a few hundred
// bytes, and on a virtual machine each open, read and close costs a trap to the hypervisor.
//
// Files go through io_uring (liburing) in chunks of up to kRingChunk: one submission opens them
// all, a second reads each into a slot of kRingSlotBytes and closes it. The files open at once,
// over all readers, stay within a share of the descriptor limit (core/descriptor_share.hpp); with
// none left, a reader reads one file at a time. On this project's Zen 5 VM that
// is 2.1 µs a file against 5.6 µs for openat, read and close one by one (docs/performance.md).
// Whatever the fast path does not finish exactly is read again by read_image_file_at, the one
// synchronous path, so every error and every limit is that path's own:
//   - a file that failed to open (its error; EMFILE is retried once the chunk's files are closed),
//   - a file that filled its slot (larger than a slot: read whole, under the same byte limit),
//   - a read that failed or found nothing (a directory, an empty file, a FIFO: fstat says which).
// Without io_uring (an old kernel, a seccomp filter, io_uring_disabled) every file takes that path.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace inkwell {

inline constexpr size_t kRingChunk = 64;              // files a submission opens
inline constexpr size_t kRingSlotBytes = 16 * 1024;  // bytes read for a file in one go

class FileBatchReader {
 public:
  struct File {
    int dir_fd;        // an open directory, or AT_FDCWD (name is then a path)
    const char* name;  // kept alive by the caller for the call
  };
  // `bytes` is valid during the call only; `error` is empty when the file was read.
  using Visit = std::function<void(size_t index, std::span<const uint8_t> bytes, std::string_view error)>;

  enum class Mode { ring_if_available, synchronous };
  explicit FileBatchReader(Mode mode = Mode::ring_if_available);
  ~FileBatchReader();
  FileBatchReader(const FileBatchReader&) = delete;
  FileBatchReader& operator=(const FileBatchReader&) = delete;

  // Reads files[i] for every i and calls visit(i, ...) once for each, in index order. The byte
  // limit is read_image_file_at's for max_pixels. Exceptions from visit propagate (after every
  // descriptor this call opened is closed).
  void read(std::span<const File> files, int64_t max_pixels, const Visit& visit);

  bool uses_ring() const { return ring_ != nullptr; }

 private:
  struct Ring;
  void read_chunk(std::span<const File> files, size_t first, int64_t max_pixels, const Visit& visit);
  void read_one(const File& file, size_t index, int64_t max_pixels, const Visit& visit);
  void give_up_ring();

  std::unique_ptr<Ring> ring_;
  // kRingChunk slots of kRingSlotBytes, never zeroed: a read touches only the pages it fills (a
  // zero fill faulted in all 1 MiB, 3.5 ms on this project's VM, before the first file).
  std::unique_ptr<uint8_t[]> slots_;
  std::vector<uint8_t> fallback_;  // read_image_file_at's buffer, reused
};

}  // namespace inkwell
