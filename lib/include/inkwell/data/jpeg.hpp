// JPEG decoding (libjpeg-turbo's TurboJPEG API) into 8-bit grey, upright: the EXIF orientation a
// phone or scanner records is applied, as every image viewer applies it.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "inkwell/data/image.hpp"

namespace inkwell {

// Large images are decoded at a reduced DCT scale (1/8 to 1), the smallest that keeps the shorter
// side at kMinDecodedSide pixels or more: the model needs 28x28, and decoding a 24-megapixel
// photo whole would cost 64 times the IDCT work and output memory (docs/decisions.md).
inline constexpr int kMinDecodedSide = 256;

// Greyscale, YCbCr, RGB, CMYK and YCCK (Adobe's inverted samples when its APP14 segment says so)
// JPEGs, baseline, extended, progressive and arithmetic-coded, become grey. Throws
// inkwell::Error with a short reason ("corrupt JPEG (...)", "image is WxH, over the N-pixel
// limit", "12-bit JPEG: ...", "lossless JPEG (SOF3): ..."). Strict: a libjpeg warning (truncated
// data, a bad Huffman code) is an error, as a bad CRC is for PNG, so no half-grey image is ever
// classified. Progressive files are limited to 500 scans (the known slow-decode attack).
GrayImage decode_jpeg(std::span<const uint8_t> bytes, int64_t max_pixels = kDefaultMaxPixels);

// Grey JPEG bytes of `image` at `quality` (1-100): how inkwell-export writes JPEG trees.
std::vector<uint8_t> encode_jpeg(const GrayImage& image, int quality = 95);

// The EXIF orientation (1-8) in a JPEG's APP1 segment, 1 when there is none or it is malformed.
int exif_orientation(std::span<const uint8_t> jpeg);

// `image` turned upright from EXIF orientation `orientation` (1: as stored; 6: rotate 90
// degrees clockwise; ...; 2, 4, 5, 7 mirrored).
GrayImage apply_orientation(const GrayImage& image, int orientation);

}  // namespace inkwell
