// The fast path for the commonest scan file: an 8-bit grey, non-interlaced PNG of at most
// kGreyPngMaxPixels that holds IHDR, IDAT chunks and IEND and nothing else (what MNIST exports
// and most writers of grey images make). Its zlib stream is inflated whole by libdeflate, with a
// decompressor and buffers the thread keeps, and unfiltered here; libspng makes a context a file
// and asks zlib for a row at a time, which keeps zlib in its slow loop. A 28x28 MNIST PNG: 1.6 µs
// against 4.2 µs (AMD Zen 5, docs/performance.md).
//
// It declines (nullopt) anything else, and anything it does not find exactly as it expects: a
// CRC, a chunk's place, a zlib stream that does not end where the IDATs end or does not give
// exactly the image's bytes, a filter type. decode_png then gives the file to libspng, whose
// pixels and errors stay the reference. One difference is kept on purpose: libdeflate decodes a
// deflate stream with an unused Huffman codeword (an incomplete code) that zlib refuses, and
// leaves corruption to the checksums (the stream's Adler-32 and every chunk's CRC, checked here
// too). tests/fuzz/fuzz_grey_png.cpp checks that whatever this path decodes, libspng decodes to
// the same pixels, unless zlib itself refuses the stream (docs/decisions.md).
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "inkwell/data/image.hpp"

namespace inkwell {

inline constexpr int64_t kGreyPngMaxPixels = 1 << 20;

std::optional<GrayImage> decode_simple_grey_png(std::span<const uint8_t> bytes, int64_t max_pixels);

}  // namespace inkwell
