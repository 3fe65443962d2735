// FileBatchReader reads every file as read_image_file_at does, one by one: the same bytes, the
// same errors, whatever the file is (small, a slot's size, larger, empty, missing, a directory, a
// FIFO, over the byte limit) and however many there are (chunks of kRingChunk).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <liburing.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "inkwell/core/error.hpp"
#include "inkwell/data/file_batch_reader.hpp"
#include "inkwell/data/image.hpp"

namespace inkwell {
namespace {

namespace fs = std::filesystem;

// What one file gave: its bytes or its error.
struct Got {
  std::vector<uint8_t> bytes;
  std::string error;
  bool operator==(const Got&) const = default;
};

class FileBatchReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root = fs::temp_directory_path() / ("inkwell_batch_reader_" + std::to_string(::getpid()));
    fs::remove_all(root);
    fs::create_directories(root / "a-directory");
    dir_fd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    ASSERT_GE(dir_fd, 0);
  }
  void TearDown() override {
    ::close(dir_fd);
    fs::remove_all(root);
  }
  void write(const std::string& name, size_t size) {
    std::ofstream out(root / name, std::ios::binary);
    for (size_t i = 0; i < size; ++i) out.put(static_cast<char>(i * 7 + name.size()));
    names.push_back(name);
  }

  // Each name read one by one (the reference) and in one batch by `reader`.
  std::vector<Got> one_by_one(int64_t max_pixels) {
    std::vector<Got> got;
    std::vector<uint8_t> buffer;
    for (const std::string& name : names) {
      try {
        const std::span<const uint8_t> bytes = read_image_file_at(dir_fd, name, max_pixels, buffer);
        got.push_back({{bytes.begin(), bytes.end()}, ""});
      } catch (const Error& e) {
        got.push_back({{}, e.what()});
      }
    }
    return got;
  }
  std::vector<Got> batched(FileBatchReader& reader, int64_t max_pixels) {
    std::vector<FileBatchReader::File> files;
    for (const std::string& name : names) files.push_back({dir_fd, name.c_str()});
    std::vector<Got> got(names.size());
    std::vector<int> visits(names.size());
    size_t last = 0;
    reader.read(files, max_pixels, [&](size_t i, std::span<const uint8_t> bytes, std::string_view error) {
      EXPECT_GE(i, last) << "visited out of order";
      last = i;
      ++visits[i];
      got[i] = {{bytes.begin(), bytes.end()}, std::string(error)};
    });
    for (size_t i = 0; i < names.size(); ++i) EXPECT_EQ(visits[i], 1) << names[i];
    return got;
  }

  fs::path root;
  int dir_fd = -1;
  std::vector<std::string> names;
};

bool kernel_has_io_uring() {
  io_uring ring{};
  if (io_uring_queue_init(8, &ring, 0) < 0) return false;
  io_uring_queue_exit(&ring);
  return true;
}

TEST_F(FileBatchReaderTest, EveryKindOfFileGivesWhatTheOneByOnePathGives) {
  write("small.png", 300);
  write("one-byte.png", 1);
  write("slot-less-one.png", kRingSlotBytes - 1);
  write("slot.png", kRingSlotBytes);  // fills its slot: read again, whole
  write("larger.png", 3 * kRingSlotBytes + 5);
  write("empty.png", 0);
  write("over-limit.png", (2 << 20) + 5);  // max_pixels 16: 4 * 16 bytes + 1 MiB at most
  names.push_back("missing.png");
  names.push_back("a-directory");
  ASSERT_EQ(mkfifo((root / "fifo.png").c_str(), 0600), 0);
  names.push_back("fifo.png");
  for (const int64_t max_pixels : {int64_t{16}, kDefaultMaxPixels}) {
    const std::vector<Got> want = one_by_one(max_pixels);
    EXPECT_EQ(want[0].bytes.size(), 300u);
    EXPECT_EQ(want[4].bytes.size(), 3 * kRingSlotBytes + 5);
    EXPECT_NE(want[7].error.find("cannot open"), std::string::npos) << want[7].error;
    EXPECT_NE(want[9].error.find("not a regular file (a FIFO)"), std::string::npos) << want[9].error;
    EXPECT_EQ(max_pixels == 16, want[6].error.find("limit") != std::string::npos) << want[6].error;
    for (const auto mode : {FileBatchReader::Mode::ring_if_available, FileBatchReader::Mode::synchronous}) {
      FileBatchReader reader(mode);
      const std::vector<Got> got = batched(reader, max_pixels);
      for (size_t i = 0; i < names.size(); ++i) EXPECT_EQ(got[i], want[i]) << names[i];
      EXPECT_EQ(reader.uses_ring(), mode == FileBatchReader::Mode::ring_if_available && kernel_has_io_uring());
    }
  }
}

// Several chunks, a short last one, and one reader used for two batches: every file once, in order.
TEST_F(FileBatchReaderTest, ManyFilesInChunks) {
  for (size_t i = 0; i < 2 * kRingChunk + 7; ++i) write("f" + std::to_string(i) + ".png", 10 + i * 37);
  names.insert(names.begin() + 70, "missing-in-the-middle.png");
  const std::vector<Got> want = one_by_one(kDefaultMaxPixels);
  FileBatchReader reader;
  EXPECT_EQ(batched(reader, kDefaultMaxPixels), want);
  EXPECT_EQ(batched(reader, kDefaultMaxPixels), want);
}

// With fewer descriptors free than a chunk opens at once, the files that could not be opened in the
// chunk are read once its other files are closed: no "Too many open files" for a file that exists.
TEST_F(FileBatchReaderTest, RunningOutOfDescriptorsInAChunkLosesNoFile) {
  for (size_t i = 0; i < kRingChunk; ++i) write("f" + std::to_string(i) + ".png", 100 + i);
  const std::vector<Got> want = one_by_one(kDefaultMaxPixels);
  FileBatchReader reader;  // its ring's descriptor first
  rlimit before{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &before), 0);
  int highest = dir_fd;  // leave about 20 descriptors free
  std::vector<int> held;
  for (int fd; (fd = ::dup(dir_fd)) >= 0 && fd < 4096;) held.push_back(fd), highest = std::max(highest, fd);
  for (int k = 0; k < 20 && !held.empty(); ++k) ::close(held.back()), held.pop_back();
  rlimit low = before;
  low.rlim_cur = static_cast<rlim_t>(highest) + 1;
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &low), 0);
  const std::vector<Got> got = batched(reader, kDefaultMaxPixels);
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &before), 0);
  for (int fd : held) ::close(fd);
  EXPECT_EQ(got, want);
}

}  // namespace
}  // namespace inkwell
