#include "inkwell/data/idx.hpp"

#include <zlib.h>

#include <algorithm>
#include <span>

#include "inkwell/core/byte_order.hpp"
#include "inkwell/core/error.hpp"
#include "inkwell/core/read_file.hpp"

namespace inkwell {

namespace {

constexpr uint64_t kMaxIdxDataBytes = uint64_t{1} << 31;  // EMNIST byclass's images: 547 MB

// An IDX file's total size in bytes as its header declares it, once `bytes` holds the header;
// 0 while it does not yet. Throws on a header no IDX file has.
uint64_t declared_size(const std::string& path, std::span<const uint8_t> bytes) {
  if (bytes.size() < 4) return 0;
  if (bytes[0] != 0 || bytes[1] != 0)
    throw error(path, ": not an IDX file: magic starts with bytes ", int{bytes[0]}, " ", int{bytes[1]}, ", expected 0 0");
  if (bytes[2] != 0x08) throw error(path, ": IDX data type 0x", std::hex, int{bytes[2]}, " is not supported, expected 0x08 (unsigned byte)");
  const int rank = bytes[3];
  if (rank < 1 || rank > 4) throw error(path, ": IDX rank ", rank, ", expected 1 to 4");
  const size_t header = 4 + 4 * static_cast<size_t>(rank);
  if (bytes.size() < header) return 0;
  uint64_t count = 1;
  Dims dims;
  for (int i = 0; i < rank; ++i) {
    const uint32_t d = load_big_endian_u32(&bytes[4 + 4 * i]);
    if (d == 0 || d > (1u << 28)) throw error(path, ": IDX dimension ", i, " is ", d, ", expected 1 to 2^28");
    dims.push_back(d);
    count *= d;
    if (count > kMaxIdxDataBytes) throw error(path, ": IDX dimensions ", to_string(dims), " are implausibly large");
  }
  return header + count;
}

// Inflates a gzip'd IDX file, never to more than its header declares: a gzip bomb stops there.
std::vector<uint8_t> gunzip_idx(const std::string& path, const std::vector<uint8_t>& in) {
  z_stream z{};
  if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) throw error(path, ": cannot initialise gzip decoder");
  struct End {
    z_stream* z;
    ~End() { inflateEnd(z); }
  } end{&z};
  std::vector<uint8_t> out;
  uint64_t limit = 0;  // the declared size, once the header is in
  std::vector<uint8_t> chunk(1 << 20);
  z.next_in = const_cast<Bytef*>(in.data());
  z.avail_in = static_cast<uInt>(in.size());
  for (int rc = Z_OK; rc != Z_STREAM_END;) {
    z.next_out = chunk.data();
    z.avail_out = static_cast<uInt>(limit ? std::min<uint64_t>(chunk.size(), limit + 1 - out.size()) : 64);
    rc = inflate(&z, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END)
      throw error(path, ": ", rc == Z_BUF_ERROR ? "truncated gzip data" : (z.msg ? z.msg : "corrupt gzip data"),
                  " after ", out.size(), " decompressed bytes");
    out.insert(out.end(), chunk.data(), z.next_out);
    if (!limit) limit = declared_size(path, out);
    if (limit && out.size() > limit)
      throw error(path, ": decompresses to more than the ", limit, " bytes its IDX header declares");
  }
  return out;
}

}  // namespace

IdxArray read_idx(const std::string& path) { return parse_idx(read_regular_file(path, kMaxIdxDataBytes + 20), path); }

IdxArray parse_idx(std::vector<uint8_t> bytes, const std::string& path) {
  if (bytes.size() >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b) bytes = gunzip_idx(path, bytes);
  if (bytes.size() < 4) throw error(path, ": not an IDX file: ", bytes.size(), " bytes, expected a 4-byte magic number");
  const uint64_t total = declared_size(path, bytes);
  const int rank = bytes[3];
  const size_t header = 4 + 4 * static_cast<size_t>(rank);
  if (total == 0) throw error(path, ": truncated IDX header: ", bytes.size(), " bytes, expected ", header);

  IdxArray array;
  for (int i = 0; i < rank; ++i) array.dims.push_back(load_big_endian_u32(&bytes[4 + 4 * i]));
  const uint64_t count = total - header;
  if (bytes.size() - header != count)
    throw error(path, ": IDX dimensions ", to_string(array.dims), " need ", count, " data bytes, found ", bytes.size() - header);
  array.data.assign(bytes.begin() + static_cast<ptrdiff_t>(header), bytes.end());
  return array;
}

}  // namespace inkwell
