#!/usr/bin/env bash
# Installs the build into a temporary prefix, builds tests/install_consumer against it with
# find_package(inkwell), runs it on the installed default model, and classifies a few PNGs with
# the installed inkwell-classify and no --model (it must find share/inkwell/models by itself).
# Needs MNIST (the ctest fixture fetches it).
# usage: test_install.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1 src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix

cmake --install "$build" --prefix "$prefix" >/dev/null
test -f "$prefix/include/inkwell/nn/model.hpp"
test -f "$prefix/share/inkwell/models/default.inkw"
test -x "$prefix/bin/inkwell-classify"

cmake -S "$src/tests/install_consumer" -B "$tmp/consumer" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$tmp/consumer" >/dev/null
out=$("$tmp/consumer/consumer" "$prefix/share/inkwell/models/default.inkw")
echo "consumer: $out"
[[ "$out" == "classes 10, blank image -> "* ]] || { echo "unexpected consumer output" >&2; exit 1; }

# The installed classifier, run from another directory with no model flag or variable.
"$build/bin/inkwell-export" --data mnist --split test --out "$tmp/png" >/dev/null
(cd / && env -u INKWELL_MODEL "$prefix/bin/inkwell-classify" "$tmp/png" --out "$tmp/rows.csv" 2>"$tmp/summary")
rows=$(($(wc -l < "$tmp/rows.csv") - 1))
[[ $rows -eq 10000 ]] || { echo "installed inkwell-classify wrote $rows rows, expected 10000" >&2; cat "$tmp/summary" >&2; exit 1; }
grep -qF "model $prefix/share/inkwell/models/default.inkw" "$tmp/summary" \
  || { echo "installed inkwell-classify did not use the installed default model:" >&2; cat "$tmp/summary" >&2; exit 1; }
echo "installed inkwell-classify: $rows rows with the installed default model"

# The installed Python module (when it was built): imports from the installed dist-packages and
# classifies with the installed default model.
if [[ -d "$build/python/inkwell" ]]; then
  (cd / && env -u INKWELL_MODEL -u INKWELL_SOURCE_DIR PYTHONPATH="$prefix/lib/python3/dist-packages" /usr/bin/python3 -c "
import inkwell
rows = list(inkwell.classify('$tmp/png', progress=False))
assert len(rows) == 10000 and all(r[3] == 'ok' for r in rows), len(rows)
print('installed python module:', inkwell.load(inkwell._default_model()), len(rows), 'rows')")
fi
