// Writes a whole file so that readers see either the old content or the new, never a mix:
// a temporary file beside it, fsync, rename over the target, fsync of the directory.
#pragma once

#include <string>
#include <string_view>

namespace inkwell {

void write_file_atomically(const std::string& path, std::string_view bytes);

}  // namespace inkwell
