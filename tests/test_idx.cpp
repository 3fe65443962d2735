// IDX reader: good raw and gzipped files, and every kind of bad file.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <zlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "inkwell/data/dataset.hpp"
#include "inkwell/core/error.hpp"
#include "inkwell/data/idx.hpp"

namespace inkwell {
namespace {

namespace fs = std::filesystem;
using Bytes = std::vector<uint8_t>;

Bytes idx_bytes(uint8_t type, std::vector<uint32_t> dims, size_t data_bytes) {
  Bytes b = {0, 0, type, static_cast<uint8_t>(dims.size())};
  for (uint32_t d : dims)
    for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<uint8_t>(d >> s));
  for (size_t i = 0; i < data_bytes; ++i) b.push_back(static_cast<uint8_t>(i * 7));
  return b;
}

Bytes gzip(const Bytes& in) {
  Bytes out(compressBound(in.size()) + 64);
  z_stream z{};
  deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
  z.next_in = const_cast<Bytef*>(in.data());
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = out.data();
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

class IdxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = fs::temp_directory_path() / ("inkwell_idx_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
                                       "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir);
  }
  void TearDown() override { fs::remove_all(dir); }
  std::string write(const std::string& name, const Bytes& b) {
    const auto path = (dir / name).string();
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
    return path;
  }
  // Expects read_idx(path) to throw an Error whose message names the file and contains `what`.
  void expect_error(const std::string& path, const std::string& what) {
    try {
      read_idx(path);
      ADD_FAILURE() << "no error for " << path;
    } catch (const Error& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find(path), std::string::npos) << msg;
      EXPECT_NE(msg.find(what), std::string::npos) << msg;
    }
  }
  fs::path dir;
};

TEST_F(IdxTest, ReadsRawAndGzippedFiles) {
  const Bytes raw = idx_bytes(0x08, {3, 2, 4}, 24);
  for (const auto& path : {write("a.idx", raw), write("a.idx.gz", gzip(raw))}) {
    const IdxArray a = read_idx(path);
    EXPECT_EQ(a.dims, (Dims{3, 2, 4}));
    ASSERT_EQ(a.data.size(), 24u);
    EXPECT_EQ(a.data[5], 35);
  }
}

TEST_F(IdxTest, RejectsBadFilesNamingTheProblem) {
  const Bytes good = idx_bytes(0x08, {3, 2, 4}, 24);
  expect_error((dir / "missing").string(), "cannot open");
  expect_error(write("empty", {}), "4-byte magic");
  expect_error(write("magic", Bytes{0x50, 0x4b, 3, 4, 0, 0, 0, 1, 9}), "magic");
  expect_error(write("type", idx_bytes(0x0d, {2}, 8)), "data type");
  expect_error(write("rank", idx_bytes(0x08, {}, 0)), "rank 0");
  expect_error(write("header", Bytes(good.begin(), good.begin() + 9)), "truncated IDX header");
  expect_error(write("truncated", Bytes(good.begin(), good.end() - 1)), "need 24 data bytes, found 23");
  Bytes longer = good;
  longer.push_back(1);
  expect_error(write("trailing", longer), "found 25");
  expect_error(write("zero-dim", idx_bytes(0x08, {0, 5}, 0)), "dimension 0 is 0");
  expect_error(write("huge", idx_bytes(0x08, {1u << 20, 1u << 20}, 0)), "implausibly large");
}

TEST_F(IdxTest, RejectsCorruptAndTruncatedGzip) {
  const Bytes gz = gzip(idx_bytes(0x08, {100, 10}, 1000));
  expect_error(write("cut.gz", Bytes(gz.begin(), gz.begin() + static_cast<ptrdiff_t>(gz.size() / 2))), "truncated gzip");
  Bytes corrupt = gz;
  for (size_t i = 12; i < 40 && i < corrupt.size(); ++i) corrupt[i] ^= 0x5a;
  expect_error(write("corrupt.gz", corrupt), "gz");
}

// A gzip'd IDX file that inflates past what its header declares stops there: memory stays
// bounded by the header (it used to inflate everything first: 2 MB -> 4.5 GB).
TEST_F(IdxTest, GzipBombStopsAtTheDeclaredSize) {
  // The header declares 784,000 data bytes; 200 MB of zeros follow, deflated 1 MiB at a time so
  // that this test's own peak memory stays small.
  const Bytes header = idx_bytes(0x08, {1000, 28, 28}, 0), zeros(1 << 20, 0);
  Bytes gz(1 << 20);
  z_stream z{};
  deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
  z.next_out = gz.data();
  z.avail_out = static_cast<uInt>(gz.size());
  z.next_in = const_cast<Bytef*>(header.data());
  z.avail_in = static_cast<uInt>(header.size());
  deflate(&z, Z_NO_FLUSH);
  for (int mb = 0; mb < 200; ++mb) {
    z.next_in = const_cast<Bytef*>(zeros.data());
    z.avail_in = static_cast<uInt>(zeros.size());
    deflate(&z, mb == 199 ? Z_FINISH : Z_NO_FLUSH);
  }
  gz.resize(z.total_out);
  deflateEnd(&z);
  const std::string path = write("bomb.gz", gz);
  rusage before{}, after{};
  getrusage(RUSAGE_SELF, &before);
  expect_error(path, "decompresses to more than the 784016 bytes its IDX header declares");
  getrusage(RUSAGE_SELF, &after);
  EXPECT_LT(after.ru_maxrss, before.ru_maxrss + 16 * 1024) << "inflating took more than 16 MB";
}

// Only regular files are read: a FIFO would block forever, a directory is no data.
TEST_F(IdxTest, RefusesFifosAndDirectories) {
  const std::string fifo = (dir / "fifo").string();
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  expect_error(fifo, "not a regular file (a FIFO)");
  expect_error(dir.string(), "not a regular file (a directory)");
}

TEST_F(IdxTest, DatasetChecksCountsAndLabels) {
  const auto images = write("images", idx_bytes(0x08, {3, 2, 2}, 12));
  Bytes labels = idx_bytes(0x08, {3}, 0);
  labels.insert(labels.end(), {1, 0, 1});
  const Dataset d = load_idx_dataset(images, write("labels", labels), {"a", "b"});
  EXPECT_EQ(d.size(), 3);
  EXPECT_EQ(d.rows, 2);
  EXPECT_EQ(d.image(1)[0], static_cast<uint8_t>(4 * 7));

  Bytes short_labels = idx_bytes(0x08, {2}, 0);
  short_labels.insert(short_labels.end(), {0, 1});
  EXPECT_THROW(load_idx_dataset(images, write("short", short_labels), {"a", "b"}), Error);
  labels.back() = 2;  // out of range for two classes
  try {
    load_idx_dataset(images, write("bad-label", labels), {"a", "b"});
    ADD_FAILURE() << "accepted label 2 of 2 classes";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("label 2 at index 2"), std::string::npos) << e.what();
  }
  EXPECT_THROW(load_idx_dataset(write("labels1d", labels), write("labels2", labels), {"a", "b", "c"}), Error);  // 1-D images
}

// EMNIST stores each image transposed and numbers letters 1-26: loaded, image (r, c) is the
// file's (c, r) and label 1 is class 0, "A".
TEST_F(IdxTest, EmnistLettersLayout) {
  Bytes images = idx_bytes(0x08, {2, 28, 28}, 0);
  for (int n = 0; n < 2; ++n)
    for (int i = 0; i < 784; ++i) images.push_back(i == 3 * 28 + 5 + n ? 255 : 0);  // file (3, 5 + n)
  Bytes labels = idx_bytes(0x08, {2}, 0);
  labels.insert(labels.end(), {1, 26});
  for (const char* part : {"train", "test"}) {
    write(std::string("emnist-letters-") + part + "-images-idx3-ubyte", images);
    write(std::string("emnist-letters-") + part + "-labels-idx1-ubyte", labels);
  }
  const DatasetSplits s = load_named_dataset("emnist-letters", dir.string());
  ASSERT_EQ(s.train.classes.size(), 26u);
  EXPECT_EQ(s.train.classes.front(), "A");
  EXPECT_EQ(s.train.classes.back(), "Z");
  EXPECT_EQ(s.test.labels, (std::vector<uint8_t>{0, 25}));
  EXPECT_EQ(s.train.image(0)[5 * 28 + 3], 255);
  EXPECT_EQ(s.train.image(0)[3 * 28 + 5], 0);
  EXPECT_EQ(s.train.image(1)[6 * 28 + 3], 255);
  EXPECT_GT(s.normalization.std, 0.f);

  labels.back() = 0;  // letters start at 1
  write("emnist-letters-test-labels-idx1-ubyte", labels);
  try {
    load_named_dataset("emnist-letters", dir.string());
    ADD_FAILURE() << "accepted label 0 for letters";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("emnist-letters-test-labels-idx1-ubyte: label 0 at index 1"), std::string::npos)
        << e.what();
  }
}

// Every EMNIST split loads by name; class names come from the split's mapping file when it is
// there (as data/fetch keeps it), else from EMNIST's own table.
TEST_F(IdxTest, EmnistBalancedTakesItsMappingFile) {
  Bytes images = idx_bytes(0x08, {2, 28, 28}, 0);
  images.resize(images.size() + 2 * 784, 7);
  Bytes labels = idx_bytes(0x08, {2}, 0);
  labels.insert(labels.end(), {0, 46});
  for (const char* part : {"train", "test"}) {
    write(std::string("emnist-balanced-") + part + "-images-idx3-ubyte", images);
    write(std::string("emnist-balanced-") + part + "-labels-idx1-ubyte", labels);
  }
  DatasetSplits s = load_named_dataset("emnist-balanced", dir.string());
  ASSERT_EQ(s.train.classes.size(), 47u);
  EXPECT_EQ(s.train.classes[46], "t");
  std::string mapping;
  for (int i = 0; i < 47; ++i) mapping += std::to_string(i) + " " + std::to_string(i < 10 ? '0' + i : 'A' + i - 10) + "\n";
  write("emnist-balanced-mapping.txt", Bytes(mapping.begin(), mapping.end()));
  s = load_named_dataset("emnist-balanced", dir.string());
  EXPECT_EQ(s.train.classes[46], "e");  // code 101: the file's, not the table's "t"
  write("emnist-balanced-mapping.txt", Bytes{'0', ' ', 'x'});
  try {
    load_named_dataset("emnist-balanced", dir.string());
    ADD_FAILURE() << "accepted a bad mapping file";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("emnist-balanced-mapping.txt:1: expected"), std::string::npos) << e.what();
  }
}

TEST(FillBatch, NormalisesPixels) {
  Dataset d;
  d.rows = 1, d.cols = 2;
  d.images = {0, 255, 51, 102};
  d.labels = {0, 1};
  std::vector<float> out(4);
  const std::vector<uint32_t> idx = {1, 0};
  fill_batch(d, idx, {0.5f, 0.25f}, out.data());
  EXPECT_NEAR(out[0], (0.2f - 0.5f) / 0.25f, 1e-6);
  EXPECT_NEAR(out[1], (0.4f - 0.5f) / 0.25f, 1e-6);
  EXPECT_NEAR(out[2], -2.f, 1e-6);
  EXPECT_NEAR(out[3], 2.f, 1e-6);
}

}  // namespace
}  // namespace inkwell
