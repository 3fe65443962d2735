// Reading a whole file that may be hostile: only a regular file (a FIFO would block forever, a
// device might never end, a directory is not data), at most max_bytes, and every error names the
// file ("runs/x: not a regular file (a directory)").
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace inkwell {

std::vector<uint8_t> read_regular_file(const std::string& path, uint64_t max_bytes);

// What a file that is not a regular file is, for messages: "a directory", "a FIFO", "a device",
// "a socket" (from stat's st_mode).
const char* file_kind(mode_t mode);

}  // namespace inkwell
