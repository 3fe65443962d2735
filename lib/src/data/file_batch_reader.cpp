#include "inkwell/data/file_batch_reader.hpp"

#include <fcntl.h>
#include <liburing.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "inkwell/core/descriptor_share.hpp"
#include "inkwell/core/error.hpp"
#include "inkwell/data/image.hpp"

namespace inkwell {

struct FileBatchReader::Ring {
  io_uring ring{};
  ~Ring() { io_uring_queue_exit(&ring); }
};

namespace {

// Per file of a chunk: the descriptor its open gave (or -errno) and what its read returned.
struct Slot {
  int fd = -1;
  int read = -1;
};

// Encodes (file, what) in a completion's user_data.
enum : uint64_t { kOpen = 0, kRead = 1, kClose = 2 };
uint64_t tag(size_t file, uint64_t what) { return file << 2 | what; }

// Waits for `count` completions of what was submitted and hands each to `done`. false: the ring
// failed while waiting (the caller gives it up).
template <class Done>
bool reap(io_uring& ring, size_t count, Done done) {
  for (size_t got = 0; got < count; ++got) {
    io_uring_cqe* cqe = nullptr;
    int status;
    while ((status = io_uring_wait_cqe(&ring, &cqe)) == -EINTR) {
    }
    if (status < 0) return false;
    done(cqe->user_data, cqe->res);
    io_uring_cqe_seen(&ring, cqe);
  }
  return true;
}

}  // namespace

FileBatchReader::FileBatchReader(Mode mode) {
  if (mode == Mode::synchronous) return;
  auto ring = std::make_unique<Ring>();
  // A read and a close a file: 2 x kRingChunk entries. Fails on kernels without io_uring (ENOSYS),
  // under seccomp filters or kernel.io_uring_disabled (EPERM): then everything is synchronous.
  if (io_uring_queue_init(2 * kRingChunk, &ring->ring, 0) < 0) return;
  ring_ = std::move(ring);
  slots_ = std::make_unique_for_overwrite<uint8_t[]>(kRingChunk * kRingSlotBytes);
}

FileBatchReader::~FileBatchReader() = default;

void FileBatchReader::give_up_ring() { ring_.reset(); }  // closing the ring cancels what it held

namespace {
// The descriptors all readers' rings may hold open at once (a ring's file is open from its open
// to its close): under `ulimit -n 40`, 10 of them.
DescriptorShare& open_share() {
  static DescriptorShare share;
  return share;
}
}  // namespace

void FileBatchReader::read(std::span<const File> files, int64_t max_pixels, const Visit& visit) {
  for (size_t first = 0; first < files.size();) {
    const int granted = ring_ ? open_share().take(static_cast<int>(std::min(kRingChunk, files.size() - first))) : 0;
    if (granted == 0) {  // no ring, or the share is in use by other readers: one file at a time
      read_one(files[first], first, max_pixels, visit);
      ++first;
      continue;
    }
    struct GiveBack {  // also when visit throws
      int count;
      ~GiveBack() { open_share().give(count); }
    } give_back{granted};
    read_chunk(files.subspan(first, static_cast<size_t>(granted)), first, max_pixels, visit);
    first += static_cast<size_t>(granted);
  }
  release_if_large(fallback_);
}

void FileBatchReader::read_one(const File& file, size_t index, int64_t max_pixels, const Visit& visit) {
  std::span<const uint8_t> bytes;
  std::string error;
  try {
    bytes = read_image_file_at(file.dir_fd, file.name, max_pixels, fallback_);
  } catch (const std::exception& e) {
    error = e.what();
  }
  visit(index, bytes, error);
}

void FileBatchReader::read_chunk(std::span<const File> files, size_t first, int64_t max_pixels, const Visit& visit) {
  io_uring& ring = ring_->ring;
  Slot slots[kRingChunk];
  const size_t n = files.size();

  // 1. Open them all (O_NONBLOCK as read_image_file_at: a FIFO blocks neither the open nor a read).
  for (size_t i = 0; i < n; ++i) {
    io_uring_sqe* sqe = io_uring_get_sqe(&ring);
    io_uring_prep_openat(sqe, files[i].dir_fd, files[i].name, O_RDONLY | O_CLOEXEC | O_NONBLOCK, 0);
    io_uring_sqe_set_data64(sqe, tag(i, kOpen));
  }
  int submitted = io_uring_submit(&ring);
  const bool opened = submitted >= 0 &&
                      reap(ring, static_cast<size_t>(submitted), [&](uint64_t data, int res) { slots[data >> 2].fd = res; });
  if (!opened || static_cast<size_t>(submitted) != n) {
    // (An open still in flight when the ring is given up may leave its descriptor open: a leak
    // on a failing ring, never a double close.)
    for (size_t i = 0; i < n; ++i)
      if (slots[i].fd >= 0) ::close(slots[i].fd);
    give_up_ring();
    for (size_t i = 0; i < n; ++i) read_one(files[i], first + i, max_pixels, visit);
    return;
  }

  // 2. Read each opened file into its slot, then close it. A hard link: the close runs after the
  //    read whatever the read returned (a short read, the common case, breaks a soft link).
  size_t pairs = 0;
  size_t pair_of[kRingChunk];  // the order of each file's read and close in the submission
  for (size_t i = 0; i < n; ++i) {
    if (slots[i].fd < 0) continue;
    pair_of[i] = pairs;
    io_uring_sqe* sqe = io_uring_get_sqe(&ring);
    io_uring_prep_read(sqe, slots[i].fd, slots_.get() + i * kRingSlotBytes, kRingSlotBytes, 0);
    io_uring_sqe_set_data64(sqe, tag(i, kRead));
    sqe->flags |= IOSQE_IO_HARDLINK;
    sqe = io_uring_get_sqe(&ring);
    io_uring_prep_close(sqe, slots[i].fd);
    io_uring_sqe_set_data64(sqe, tag(i, kClose));
    ++pairs;
  }
  submitted = pairs ? io_uring_submit(&ring) : 0;
  const size_t expected = 2 * pairs;
  const bool read = submitted >= 0 && reap(ring, static_cast<size_t>(submitted), [&](uint64_t data, int res) {
                      if ((data & 3) == kRead) slots[data >> 2].read = res;
                      if ((data & 3) == kClose) slots[data >> 2].fd = -1;  // closed, whatever it returned
                    });
  if (!read || static_cast<size_t>(submitted) != expected) {
    // A descriptor whose close was never submitted is closed here. One whose close was submitted
    // but not seen to complete is left to the ring (closing it again could close another
    // thread's newer descriptor). Every file of the chunk is then read again.
    give_up_ring();
    for (size_t i = 0; i < n; ++i)
      if (slots[i].fd >= 0 && static_cast<int>(2 * pair_of[i] + 1) >= submitted) ::close(slots[i].fd);
    for (size_t i = 0; i < n; ++i) read_one(files[i], first + i, max_pixels, visit);
    return;
  }

  // 3. Every descriptor is closed. A read that ended inside its slot is the whole file; anything
  //    else (an open that failed, a read that failed, found nothing or filled the slot) is read
  //    again by the synchronous path, which gives that file's error or its bytes.
  for (size_t i = 0; i < n; ++i) {
    const int got = slots[i].read;
    if (got > 0 && static_cast<size_t>(got) < kRingSlotBytes)
      visit(first + i, {slots_.get() + i * kRingSlotBytes, static_cast<size_t>(got)}, {});
    else
      read_one(files[i], first + i, max_pixels, visit);
  }
}

}  // namespace inkwell
