// What one image file costs on its way to a model's input, stage by stage, on one thread: the
// walk, reading (one by one with read_image_file_at, and in chunks through FileBatchReader),
// decoding (libspng alone, and decode_png with its grey fast path) and preprocessing. Each stage
// runs over every file of the tree, the ways of a stage take turns, --rounds rounds, medians in
// µs a file (docs/performance.md's per-image budget). Warm page cache: the tree is read once first.
//
// usage: file_stages TREE [ROUNDS]     e.g. file_stages /tmp/png/test 7 (inkwell-export's PNGs)
#include <fcntl.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "inkwell/data/file_batch_reader.hpp"
#include "inkwell/data/image.hpp"
#include "inkwell/data/preprocess.hpp"
#include "inkwell/data/walk.hpp"

namespace {

using namespace inkwell;

double seconds(const std::function<void()>& run) {
  const auto start = std::chrono::steady_clock::now();
  run();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: file_stages TREE [ROUNDS]\n");
    return 2;
  }
  const int rounds = argc > 2 ? std::max(1, std::atoi(argv[2])) : 7;
  auto walk = [&] {
    std::vector<FileWalker::Entry> found;
    FileWalker walker(std::vector<std::string>{argv[1]});
    while (auto e = walker.next()) found.push_back(std::move(*e));
    return found;
  };
  const std::vector<FileWalker::Entry> entries = walk();  // the files every other stage reads
  std::vector<FileBatchReader::File> files;
  for (const FileWalker::Entry& e : entries)
    files.push_back(e.dir ? FileBatchReader::File{e.dir->fd(), e.name.c_str()} : FileBatchReader::File{AT_FDCWD, e.path.c_str()});
  const size_t n = files.size();
  if (n == 0) {
    std::fprintf(stderr, "file_stages: no image files under %s\n", argv[1]);
    return 1;
  }
  std::vector<std::vector<uint8_t>> bytes(n);
  std::vector<GrayImage> images(n);
  FileBatchReader ring, synchronous(FileBatchReader::Mode::synchronous);
  if (!ring.uses_ring()) std::fprintf(stderr, "file_stages: no io_uring here: both reads are synchronous\n");
  auto read_with = [&](FileBatchReader& reader) {
    for (size_t first = 0; first < n; first += 64) {  // inkwell-classify's batch
      const size_t count = std::min<size_t>(64, n - first);
      reader.read({files.data() + first, count}, kDefaultMaxPixels,
                  [&](size_t i, std::span<const uint8_t> b, std::string_view) { bytes[first + i].assign(b.begin(), b.end()); });
    }
  };
  read_with(ring);  // the page cache warm, the bytes kept for the decoders

  const std::vector<std::pair<std::string, std::function<void()>>> stages = {
      {"walk the tree", [&] { (void)walk(); }},
      {"read: openat, read, close, one by one", [&] { read_with(synchronous); }},
      {"read: io_uring, 64 a chunk", [&] { read_with(ring); }},
      {"decode: libspng", [&] { for (size_t i = 0; i < n; ++i) images[i] = decode_png_by_libspng(bytes[i]); }},
      {"decode: decode_png (grey fast path)", [&] { for (size_t i = 0; i < n; ++i) images[i] = decode_image(bytes[i]); }},
      {"preprocess: to_mnist_like", [&] { for (size_t i = 0; i < n; ++i) (void)to_mnist_like(images[i]); }},
  };
  std::map<std::string, std::vector<double>> us;
  for (int r = 0; r < rounds; ++r)
    for (const auto& [name, run] : stages) us[name].push_back(1e6 * seconds(run) / static_cast<double>(n));
  std::printf("%zu files under %s, one thread, median of %d rounds:\n", n, argv[1], rounds);
  for (const auto& [name, run] : stages) {
    std::vector<double>& v = us[name];
    std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
    std::printf("  %-40s %6.2f us a file\n", name.c_str(), v[v.size() / 2]);
  }
}
