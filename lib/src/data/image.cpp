#include "inkwell/data/image.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <spng.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <optional>

#include "inkwell/core/error.hpp"
#include "inkwell/core/read_file.hpp"
#include "inkwell/data/grey_png.hpp"
#include "inkwell/data/jpeg.hpp"

namespace inkwell {

namespace {
// Largest chunk, and most chunk bytes kept, that a PNG may have: ancillary chunks are not used.
constexpr size_t kMaxChunkBytes = 16 << 20;
}  // namespace

std::span<const uint8_t> read_image_file(const std::string& path, int64_t max_pixels, std::vector<uint8_t>& buffer) {
  return read_image_file_at(AT_FDCWD, path, max_pixels, buffer);
}

void release_if_large(std::vector<uint8_t>& buffer) {
  if (buffer.capacity() > (size_t{4} << 20)) std::vector<uint8_t>().swap(buffer);
}

std::span<const uint8_t> read_image_file_at(int dir_fd, const std::string& path, int64_t max_pixels,
                                            std::vector<uint8_t>& bytes) {
  // 4 bytes a pixel (RGBA, 8-bit) plus 1 MB of chunks: a PNG that compresses badly is still in.
  const int64_t max_bytes = 4 * max_pixels + (1 << 20);
  // To end of file without an fstat: one syscall fewer per file (small files are the common case).
  // O_NONBLOCK: a FIFO neither blocks the open nor a read; when a read fails or finds nothing,
  // an fstat says whether the path was a regular file at all.
  const int fd = ::openat(dir_fd, path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) throw error("cannot open (", std::strerror(errno), ")");
  auto refuse_if_not_regular = [&] {
    struct stat st {};
    if (::fstat(fd, &st) == 0 && !S_ISREG(st.st_mode)) {
      ::close(fd);
      throw error("not a regular file (", file_kind(st.st_mode), ")");
    }
  };
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
      refuse_if_not_regular();
      ::close(fd);
      throw error("read error (", std::strerror(saved), ")");
    }
    if (n == 0) {
      if (done == 0) refuse_if_not_regular();
      break;
    }
    done += static_cast<size_t>(n);
    // A regular file's short read is its end: no second read to learn it (a quarter of the
    // syscalls a small file costs). Were it a FIFO after all, a short read ends it early, and the
    // bytes so far fail to decode with an error naming the file: bounded either way.
    if (done < bytes.size()) break;
  }
  ::close(fd);
  return {bytes.data(), done};
}

GrayImage decode_png(std::span<const uint8_t> bytes, int64_t max_pixels) {
  if (std::optional<GrayImage> image = decode_simple_grey_png(bytes, max_pixels)) return std::move(*image);
  return decode_png_by_libspng(bytes, max_pixels);
}

GrayImage decode_png_by_libspng(std::span<const uint8_t> bytes, int64_t max_pixels) {
  if (bytes.empty()) throw Error("empty file");
  if (!starts_with_png_signature(bytes)) throw Error("not a PNG file");

  // libspng checks every CRC, palette index and chunk order, and inflates IDAT into buffers sized
  // from IHDR: memory is bounded by the declared image, whatever the compressed stream holds.
  const std::unique_ptr<spng_ctx, void (*)(spng_ctx*)> ctx(spng_ctx_new(0), spng_ctx_free);
  if (!ctx) throw Error("out of memory");
  auto check = [](int status) {
    if (status != SPNG_OK) throw error("corrupt PNG (", spng_strerror(status), ")");
  };
  check(spng_set_chunk_limits(ctx.get(), kMaxChunkBytes, kMaxChunkBytes));
  check(spng_set_png_buffer(ctx.get(), bytes.data(), bytes.size()));
  spng_ihdr ihdr{};
  check(spng_get_ihdr(ctx.get(), &ihdr));  // each side at most 2^31 - 1, spng's own limit
  if (static_cast<uint64_t>(ihdr.width) * ihdr.height > static_cast<uint64_t>(max_pixels))
    throw error("image is ", ihdr.width, "x", ihdr.height, ", over the ", max_pixels, "-pixel limit");

  // 8-bit grey straight from grey sources; any other kind through RGBA8 (palette, 16-bit, tRNS).
  const bool grey = ihdr.color_type == SPNG_COLOR_TYPE_GRAYSCALE && ihdr.bit_depth <= 8;
  spng_trns trns{};
  const int trns_status = spng_get_trns(ctx.get(), &trns);  // reads the chunks before IDAT
  if (trns_status != SPNG_ECHUNKAVAIL) check(trns_status);
  const bool has_trns = trns_status == SPNG_OK;
  const int format = grey && !has_trns ? SPNG_FMT_G8 : SPNG_FMT_RGBA8;
  size_t size = 0;
  check(spng_decoded_image_size(ctx.get(), format, &size));
  std::vector<uint8_t> decoded(size);
  check(spng_decode_image(ctx.get(), decoded.data(), size, format, SPNG_DECODE_TRNS));

  if (format == SPNG_FMT_G8) return {ihdr.width, ihdr.height, std::move(decoded)};
  GrayImage image{ihdr.width, ihdr.height, std::vector<uint8_t>(static_cast<size_t>(ihdr.width) * ihdr.height)};
  for (size_t i = 0; i < image.pixels.size(); ++i) {
    const uint8_t* p = &decoded[4 * i];
    // Y = (77 R + 150 G + 29 B) / 256 (the weights stb_image used), alpha composited on white paper.
    const unsigned y = (77u * p[0] + 150u * p[1] + 29u * p[2]) >> 8, a = p[3];
    image.pixels[i] = static_cast<uint8_t>((y * a + 255 * (255 - a) + 127) / 255);
  }
  return image;
}

GrayImage decode_image(std::span<const uint8_t> bytes, int64_t max_pixels) {
  if (bytes.empty()) throw Error("empty file");
  if (bytes.size() >= 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF) return decode_jpeg(bytes, max_pixels);
  if (bytes[0] != 0x89) throw Error("not a PNG or JPEG file");
  return decode_png(bytes, max_pixels);
}

}  // namespace inkwell
