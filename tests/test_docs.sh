#!/usr/bin/env bash
# The docs stay true:
#  1. every command in a fenced block marked `sh runnable` (README.md, docs/*.md) runs and exits 0,
#     against a small MNIST (3,000 training and 1,000 test images of the real one, through
#     $INKWELL_DATA), from a scratch folder where build/bin and models/ are this build's;
#  2. every --flag the docs write after an app's name exists in that app's --help;
#  3. every flag of every app's --help is named somewhere in the README.
# usage: test_docs.sh BIN_DIR SOURCE_DIR   (needs MNIST: ctest's fetch fixture)
set -uo pipefail
bin=$(realpath "$1")
src=$(realpath "$2")
work=$(mktemp -d)
[[ -n ${KEEP:-} ]] && echo "work: $work"
trap '[[ -n ${KEEP:-} ]] || rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
apps=(train classify export info quantize convert)

# A small MNIST: the first N images and labels of each split, IDX headers rewritten.
mnist=${INKWELL_DATA:-${XDG_CACHE_HOME:-$HOME/.cache}/inkwell}/mnist
mkdir -p "$work/data/mnist"
subset() {  # subset FILE COUNT ITEM_BYTES HEADER_BYTES
  local in="$mnist/$1" out="$work/data/mnist/$1"
  { head -c 4 "$in"; printf "$(printf '\\x%02x\\x%02x\\x%02x\\x%02x' $(($2 >> 24 & 255)) $(($2 >> 16 & 255)) $(($2 >> 8 & 255)) $(($2 & 255)))";
    tail -c +9 "$in" | head -c $(($4 - 8 + $2 * $3)); } > "$out"
}
subset train-images-idx3-ubyte 3000 784 16
subset train-labels-idx1-ubyte 3000 1 8
subset t10k-images-idx3-ubyte 1000 784 16
subset t10k-labels-idx1-ubyte 1000 1 8

# 1. Runnable blocks.
mkdir -p "$work/run/build"
ln -s "$(realpath "$bin")" "$work/run/build/bin"
ln -s "$src/models" "$work/run/models"
ln -s "$src/data" "$work/run/data"
blocks=0
for doc in "$src"/README.md "$src"/docs/*.md; do
  awk -v prefix="$work/block-$(basename "$doc" .md)-" '
    /^ *```sh runnable/ { n++; file = prefix n ".sh"; inside = 1; next }
    /^ *```/ { inside = 0 }
    inside { print > file }' "$doc"
done
for block in "$work"/block-*.sh; do
  [[ -e $block ]] || continue
  blocks=$((blocks + 1))
  if ! (cd "$work/run" && INKWELL_DATA="$work/data" timeout 600 bash -euo pipefail "$block" > "$block.log" 2>&1); then
    fail "$(basename "$block"): $(head -c 400 "$block" | head -3) -> $(tail -3 "$block.log")"
  fi
done
[[ $blocks -gt 0 ]] || fail "no runnable block found"

# 2. and 3. Flags.
for app in "${apps[@]}"; do
  "$bin/inkwell-$app" --help | grep -oE '^  (-[a-z0-9],)?--[a-z0-9-]+' | grep -oE -- '--[a-z0-9-]+' > "$work/flags-$app"
done
for doc in "$src"/README.md "$src"/docs/*.md; do
  # An app's name, then everything up to the end of its inline code, a pipe or the line's end.
  while IFS= read -r hit; do
    line=${hit%%:*} segment=${hit#*:}
    app=$(grep -oE '^inkwell-[a-z]+' <<<"$segment") app=${app#inkwell-}
    [[ -s "$work/flags-$app" ]] || continue
    for flag in $(grep -oE -- '(^|[ [|])--[a-z][a-z0-9-]*' <<<"$segment" | grep -oE -- '--[a-z0-9-]+'); do
      grep -qx -- "$flag" "$work/flags-$app" || fail "$(basename "$doc"):$line: inkwell-$app has no $flag"
    done
  done < <(grep -noE 'inkwell-(train|classify|export|info|quantize)( [^`|;&]*)?' "$doc" | sed -E 's/^([0-9]+):/\1:/')
done
for app in "${apps[@]}"; do
  while read -r flag; do
    [[ $flag == --help || $flag == --version ]] && continue
    grep -q -- "$flag" "$src/README.md" || fail "README.md never names inkwell-$app $flag"
  done < "$work/flags-$app"
done
echo "$blocks runnable blocks; $failures failed"
[[ $failures -eq 0 ]]
