#include "inkwell/data/idx.hpp"

#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

#include "inkwell/core/error.hpp"

namespace inkwell {

namespace {

std::vector<uint8_t> gunzip(const std::string& path, const std::vector<uint8_t>& in) {
  z_stream z{};
  if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) throw error(path, ": cannot initialise gzip decoder");
  std::vector<uint8_t> out;
  std::vector<uint8_t> chunk(1 << 20);
  z.next_in = const_cast<Bytef*>(in.data());
  z.avail_in = static_cast<uInt>(in.size());
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    z.next_out = chunk.data();
    z.avail_out = static_cast<uInt>(chunk.size());
    rc = inflate(&z, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      const std::string why = rc == Z_BUF_ERROR ? "truncated gzip data" : (z.msg ? z.msg : "corrupt gzip data");
      inflateEnd(&z);
      throw error(path, ": ", why, " after ", out.size(), " decompressed bytes");
    }
    out.insert(out.end(), chunk.data(), chunk.data() + (chunk.size() - z.avail_out));
  }
  inflateEnd(&z);
  return out;
}

uint32_t big_endian_u32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

}  // namespace

std::vector<uint8_t> read_maybe_gzipped(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw error(path, ": cannot open (", std::strerror(errno), ")");
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw error(path, ": read error");
  if (bytes.size() >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b) return gunzip(path, bytes);
  return bytes;
}

IdxArray read_idx(const std::string& path) {
  std::vector<uint8_t> bytes = read_maybe_gzipped(path);
  if (bytes.size() < 4) throw error(path, ": not an IDX file: ", bytes.size(), " bytes, expected a 4-byte magic number");
  if (bytes[0] != 0 || bytes[1] != 0)
    throw error(path, ": not an IDX file: magic starts with bytes ", int{bytes[0]}, " ", int{bytes[1]}, ", expected 0 0");
  if (bytes[2] != 0x08) throw error(path, ": IDX data type 0x", std::hex, int{bytes[2]}, " is not supported, expected 0x08 (unsigned byte)");
  const int rank = bytes[3];
  if (rank < 1 || rank > 4) throw error(path, ": IDX rank ", rank, ", expected 1 to 4");
  const size_t header = 4 + 4 * static_cast<size_t>(rank);
  if (bytes.size() < header) throw error(path, ": truncated IDX header: ", bytes.size(), " bytes, expected ", header);

  IdxArray array;
  uint64_t count = 1;
  for (int i = 0; i < rank; ++i) {
    const uint32_t d = big_endian_u32(&bytes[4 + 4 * i]);
    if (d == 0 || d > (1u << 28)) throw error(path, ": IDX dimension ", i, " is ", d, ", expected 1 to 2^28");
    array.dims.push_back(d);
    count *= d;
    if (count > (uint64_t{1} << 34)) throw error(path, ": IDX dimensions ", to_string(array.dims), " are implausibly large");
  }
  if (bytes.size() - header != count)
    throw error(path, ": IDX dimensions ", to_string(array.dims), " need ", count, " data bytes, found ", bytes.size() - header);
  array.data.assign(bytes.begin() + static_cast<ptrdiff_t>(header), bytes.end());
  return array;
}

}  // namespace inkwell
