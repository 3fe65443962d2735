#include "inkwell/data/image.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <stb/stb_image.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

#include "inkwell/core/error.hpp"

namespace inkwell {

void read_image_file(const std::string& path, int64_t max_pixels, std::vector<uint8_t>& bytes) {
  // 4 bytes a pixel (RGBA, 8-bit) plus 1 MB of chunks: a PNG that compresses badly is still in.
  const int64_t max_bytes = 4 * max_pixels + (1 << 20);
  // To end of file without an fstat: one syscall fewer per file (small files are the common case).
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw error("cannot open (", std::strerror(errno), ")");
  size_t done = 0;
  bytes.resize(std::max<size_t>(bytes.capacity(), 64 * 1024));
  for (;;) {
    if (done == bytes.size()) {
      if (static_cast<int64_t>(done) > max_bytes) {
        ::close(fd);
        throw error("file is over the ", max_bytes, "-byte limit");
      }
      bytes.resize(2 * bytes.size());
    }
    const ssize_t n = ::read(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int saved = errno;
      ::close(fd);
      throw error("read error (", std::strerror(saved), ")");
    }
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  bytes.resize(done);
}

GrayImage decode_png(std::span<const uint8_t> bytes, int64_t max_pixels) {
  static constexpr uint8_t kSignature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  if (bytes.empty()) throw Error("empty file");
  if (bytes.size() < sizeof kSignature || std::memcmp(bytes.data(), kSignature, sizeof kSignature) != 0)
    throw Error("not a PNG file");
  // The size, from the IHDR chunk that must come first, is checked before stb sees the data.
  if (bytes.size() < 24 || std::memcmp(bytes.data() + 12, "IHDR", 4) != 0) throw Error("corrupt PNG (no IHDR chunk)");
  auto be32 = [&](size_t at) {
    return (uint32_t{bytes[at]} << 24) | (uint32_t{bytes[at + 1]} << 16) | (uint32_t{bytes[at + 2]} << 8) | bytes[at + 3];
  };
  if (static_cast<int64_t>(be32(16)) * be32(20) > max_pixels)
    throw error("image is ", be32(16), "x", be32(20), ", over the ", max_pixels, "-pixel limit");
  const auto* data = reinterpret_cast<const stbi_uc*>(bytes.data());
  const int size = static_cast<int>(std::min<size_t>(bytes.size(), INT32_MAX));
  int w = 0, h = 0, channels = 0;
  if (!stbi_info_from_memory(data, size, &w, &h, &channels))
    throw error("corrupt or truncated PNG (", stbi_failure_reason(), ")");

  // stb converts any colour type and bit depth to 8-bit grey (+ alpha): Y = (77 R + 150 G + 29 B) / 256.
  const bool alpha = channels == 2 || channels == 4;
  int got = 0;
  std::unique_ptr<stbi_uc, void (*)(void*)> pixels(stbi_load_from_memory(data, size, &w, &h, &got, alpha ? 2 : 1),
                                                    stbi_image_free);
  if (!pixels) throw error("corrupt or truncated PNG (", stbi_failure_reason(), ")");

  GrayImage image{w, h, std::vector<uint8_t>(static_cast<size_t>(w) * h)};
  const stbi_uc* p = pixels.get();
  if (!alpha) {
    std::memcpy(image.pixels.data(), p, image.pixels.size());
  } else {
    for (size_t i = 0; i < image.pixels.size(); ++i) {  // over white paper
      const unsigned g = p[2 * i], a = p[2 * i + 1];
      image.pixels[i] = static_cast<uint8_t>((g * a + 255 * (255 - a) + 127) / 255);
    }
  }
  return image;
}

}  // namespace inkwell
