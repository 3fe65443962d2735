// EMNIST's six splits and their class names. Each split ships a mapping file,
// emnist-<split>-mapping.txt, one line per label: "label code [code ...]", the codes being ASCII
// characters (letters: "1 65 97", upper and lower case merged; balanced: "36 97"). A class is
// named by its first code: "A", "b", "7".
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace inkwell {

// letters, digits, balanced, bymerge, byclass, mnist
const std::vector<std::string>& emnist_splits();

// The label of the split's first class: 1 for letters (0 unused), else 0.
int emnist_first_label(const std::string& split);

// The split's class names as EMNIST's mapping files give them (used when a mapping file is
// missing): letters A-Z; digits and mnist 0-9; byclass 0-9 A-Z a-z; bymerge and balanced 0-9 A-Z
// and the 11 lower-case letters that do not look like their capital (a b d e f g h n q r t).
std::vector<std::string> emnist_default_classes(const std::string& split);

// A mapping file's text -> class names in label order. Labels must run from `first_label` up by
// one; codes must be printable ASCII; at most 256 classes. Throws inkwell::Error
// "<source>:<line>: ..." otherwise.
std::vector<std::string> parse_emnist_mapping(std::string_view text, const std::string& source, int first_label);

}  // namespace inkwell
