#!/usr/bin/env bash
# Every app over a table of invocations: exit code, the stream the message goes to, and the
# message. Every flag an app's --help lists must appear in at least one row of that app, so a new
# flag without a row fails this test. None of these invocations reaches the training or
# classification work: they are refused while parsing, or end at once.
# usage: test_cli_usage.sh BIN_DIR SOURCE_DIR
set -uo pipefail
bin=$(realpath "$1")
src=$(realpath "$2")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
mkdir -p tree/a run empty
cp "$src/models/default.inkw" model.inkw
cp "$src/models/default.inkw" run/model.inkw   # a model, not a checkpoint of a run
cp "$src/models/letters.inkw" f32.inkw          # a model without int8 calibration
cp "$src/tests/data/onnx/seed-pytorch.onnx" pt.onnx  # an ONNX model from PyTorch (no inkwell metadata)
printf 'a\nb\nc\n' > three.txt
printf 'zero\none\ntwo\nthree\nfour\nfive\nsix\nseven\neight\nnine\n' > names.txt
: > file.txt
failures=0 rows=0

# app | arguments (bash words) | exit code | out or err | extended regex the stream must match
table=$(cat <<'ROWS'
train    | --help                                  | 0 | out | ^Trains a CNN
train    | -h                                      | 0 | out | Usage: inkwell-train
train    | --version                               | 0 | out | ^inkwell-train [0-9]+\.[0-9]+\.[0-9]+ \(oneDNN [0-9.]+, oneTBB
train    | --bogus                                 | 2 | err | ^inkwell-train: The following argument was not expected: --bogus
train    | -v                                      | 2 | err | not expected: -v
train    | extra                                   | 2 | err | not expected: extra
train    | --data                                  | 2 | err | ^inkwell-train: --data: 1 required
train    | --data mnsit                            | 2 | err | did you mean mnist\?
train    | --data /nonexistent/dir                 | 2 | err | neither a dataset name .* nor an existing file
train    | --test-fraction 1                       | 2 | err | --test-fraction: must be between 0 and 1 \(exclusive\), got 1
train    | --test-fraction 0                       | 2 | err | --test-fraction: must be between 0 and 1
train    | --test-fraction half                    | 2 | err | --test-fraction: needs a number, got 'half'
train    | --skip-bad=yes                          | 2 | err | --skip-bad takes no value
train    | --model seedd                           | 2 | err | not a preset \(seed, fast, best\).*did you mean seed\?
train    | --model conv8k5-nope                    | 2 | err | --model: .*nope
train    | --epochs 0                              | 2 | err | --epochs: must be 1 to 100000, got 0
train    | --epochs 2.5                            | 2 | err | --epochs: needs a whole number, got '2.5'
train    | --batch 0                               | 2 | err | --batch: must be 1 to 65536, got 0
train    | --batch 99999999999999999999            | 2 | err | --batch: must be 1 to 65536
train    | --lr 0                                  | 2 | err | --lr: must be between 0 and
train    | --lr nan                                | 2 | err | --lr: needs a number, got 'nan'
train    | --weight-decay -1                       | 2 | err | --weight-decay: must be 0 to 1, got -1
train    | --optimizer adma                        | 2 | err | 'adma' is not one of adam, adamw, sgd; did you mean adam\?
train    | --schedule cos                          | 2 | err | did you mean cosine\?
train    | --seed -1                               | 2 | err | --seed: needs a whole number, got '-1'|--seed: must be
train    | --seed abc                              | 2 | err | --seed: needs a whole number, got 'abc'
train    | --seed 18446744073709551616             | 2 | err | --seed: must be 0 to
train    | --threads -1                            | 2 | err | --threads: must be 0 to 4096, got -1
train    | --prefetch soon                         | 2 | err | --prefetch: takes auto or 0 to 64, got 'soon'
train    | --allreduce twice                       | 2 | err | --allreduce: 'twice' is not one of auto, once, overlap
train    | --precision fp16                        | 2 | err | --precision: 'fp16' is not one of auto, f32, bf16
train    | --resume run --precision bf16           | 2 | err | --precision cannot be given with it
train    | --plan fastest                          | 2 | err | --plan: 'fastest' is not one of auto, measure, rule
train    | --valid 1.5                             | 2 | err | --valid: needs N images, a share
train    | --valid 100%                            | 2 | err | --valid: needs N images
train    | --augment --no-augment                  | 2 | err | --augment excludes --no-augment
train    | --no-augment=1                          | 2 | err | --no-augment takes no value
train    | --out                                   | 2 | err | --out: 1 required
train    | --force=no                              | 2 | err | --force takes no value
train    | --keep-best --valid 0                   | 2 | err | --keep-best .* needs --valid above 0
train    | --test-at-end=1                         | 2 | err | --test-at-end takes no value
train    | --checkpoint-every 0                    | 2 | err | --checkpoint-every: takes N steps or M minutes
train    | --checkpoint-every 5h                   | 2 | err | --checkpoint-every: takes N steps or M minutes
train    | --resume run --lr 0.1                   | 2 | err | --lr cannot be given with it
train    | --resume run --out run                  | 2 | err | --resume DIR is the run's --out
train    | --resume run                            | 1 | err | ^inkwell-train: run/model.inkw: not a resumable checkpoint
train    | --resume empty                          | 1 | err | ^inkwell-train: empty/model.inkw: cannot open
train    | --init-from nowhere.inkw                 | 2 | err | --init-from: File does not exist: nowhere.inkw
train    | --freeze 1                              | 2 | err | --freeze keeps pretrained layers fixed: it needs --init-from
train    | --freeze -1 --init-from model.inkw      | 2 | err | --freeze: must be 0 to 255, got -1
train    | --preprocess emnst                      | 2 | err | --preprocess: 'emnst' is not one of mnist, emnist; did you mean emnist\?
train    | --progress loud                         | 2 | err | --progress: 'loud' is not one of auto, always, never
classify | --help                                  | 0 | out | ^Classifies image files
classify | --version                               | 0 | out | ^inkwell-classify [0-9]+\.[0-9]+
classify |                                         | 2 | err | PATH is required
classify | -v tree                                 | 2 | err | not expected: -v
classify | --bogus tree                            | 2 | err | not expected: --bogus
classify | /nonexistent                            | 2 | err | ^inkwell-classify: /nonexistent: no such file or directory
classify | -- -v                                   | 2 | err | ^inkwell-classify: -v: no such file or directory
classify | --threads 0 --model model.inkw --ext .jpg tree | 3 | err | no files found
classify | --model run tree                        | 1 | err | ^inkwell-classify: run: is a directory; did you mean run/model.inkw\?
classify | --model file.txt tree                   | 1 | err | ^inkwell-classify: file.txt: not an inkwell model file
classify | --model nowhere.inkw tree               | 1 | err | ^inkwell-classify: nowhere.inkw: cannot open
classify | --out                                   | 2 | err | --out: 1 required
classify | --format xml tree                       | 2 | err | --format: 'xml' is not one of csv, jsonl
classify | --top-k 0 tree                          | 2 | err | --top-k: must be 1 to 1000, got 0
classify | --threads -1 tree                       | 2 | err | --threads: must be 0 to 4096, got -1
classify | --threads x tree                        | 2 | err | --threads: needs a whole number, got 'x'
classify | --batch 0 tree                          | 2 | err | --batch: must be 1 to 4096, got 0
classify | --batch 4097 tree                       | 2 | err | --batch: must be 1 to 4096, got 4097
classify | --executors -2 tree                     | 2 | err | --executors: must be 0 to 4096
classify | --ext                                   | 2 | err | --ext: 1 required
classify | --labels-from-dirs=1 tree               | 2 | err | --labels-from-dirs takes no value
classify | --resume tree                           | 2 | err | --resume needs --out FILE
classify | --max-pixels 0 tree                     | 2 | err | --max-pixels: must be 1 to
classify | --null=1 -                              | 2 | err | --null takes no value
classify | --progress loud tree                    | 2 | err | --progress: 'loud' is not one of
classify | --model model.inkw --progress never tree | 3 | err | no files found with extension .png, .jpg, .jpeg
classify | --model model.inkw --ext .jpg -0 -      | 3 | err | no files found
export   | --help                                  | 0 | out | ^Writes an IDX dataset
export   | --version                               | 0 | out | ^inkwell-export [0-9]+\.[0-9]+
export   |                                         | 2 | err | --out is required
export   | --out x --bogus                         | 2 | err | not expected: --bogus
export   | --data mnsit --out x                    | 2 | err | did you mean mnist\?
export   | --split valid --out x                   | 2 | err | --split: 'valid' is not one of test, train, all
export   | --variants=1 --out x                    | 2 | err | --variants takes no value
export   | --format gif --out x                      | 2 | err | --format: 'gif' is not one of png, jpg
export   | --seed abc --out x                      | 2 | err | --seed: needs a whole number, got 'abc'
export   | --seed -1 --out x                       | 2 | err | --seed: needs a whole number|--seed: must be
classify | tree --precision fp16                    | 2 | err | --precision: 'fp16' is not one of auto, f32, int8
classify | tree --plan guess                        | 2 | err | --plan: 'guess' is not one of auto, measure, rule
classify | --model f32.inkw tree --precision int8   | 1 | err | ^inkwell-classify: f32.inkw: has no int8 calibration \(make one with inkwell-quantize\)
quantize | --help                                  | 0 | out | ^Quantises a model for int8 inference
quantize | --version                               | 0 | out | ^inkwell-quantize [0-9]+\.[0-9]+
quantize | --data mnist --out q.inkw               | 2 | err | --model is required
quantize | --model model.inkw --out q.inkw         | 2 | err | --data is required
quantize | --model model.inkw --data mnist         | 2 | err | --out is required
quantize | --model model.inkw --data mnsit --out q.inkw | 1 | err | mnsit: neither a dataset name \(mnist, 
quantize | --model file.txt --data mnist --out q.inkw | 1 | err | ^inkwell-quantize: file.txt: not an inkwell model file
quantize | --model model.inkw --data tree --out q.inkw --images 0 | 2 | err | --images: must be
quantize | --model model.inkw --data tree --out q.inkw --method mse | 2 | err | --method: 'mse' is not one of max, percentile
quantize | --model model.inkw --data tree --out q.inkw --percentile 100.5 | 2 | err | --percentile: must be
quantize | --model model.inkw --data tree --out q.inkw --threads -1 | 2 | err | --threads: must be
quantize | --model model.inkw --data mnist --out q.onnx | 2 | err | calibration is written into an \.inkw file
quantize | --model pt.onnx --normalize x --data mnist --out q.inkw | 1 | err | --normalize takes MEAN,STD, got 'x'
quantize | --model pt.onnx --classes nowhere.txt --data mnist --out q.inkw | 1 | err | nowhere.txt: cannot open
info     | --help                                  | 0 | out | ^Summarises a model file
info     | --version                               | 0 | out | ^inkwell-info [0-9]+\.[0-9]+
info     |                                         | 2 | err | MODEL is required
info     | seedd                                   | 2 | err | 'seedd' is neither a file nor a preset or spec
info     | --selftest                              | 0 | out | ^self-test: [0-9]+ passed, 0 failed
info     | --selftest model.inkw                   | 2 | err | MODEL excludes --selftest
info     | seed extra                              | 2 | err | not expected: extra
info     | seed                                    | 0 | out | total +28,938 +5\.68 M
info     | best                                    | 0 | out | total +871,018 +38\.19 M
info     | model.inkw                              | 0 | out | classes +10: 0 1 2 3 4 5 6 7 8 9
info     | file.txt                                | 1 | err | ^inkwell-info: file.txt: not an inkwell model file
info     | pt.onnx --normalize 0.2,0.4             | 0 | out | 0\.2000\) / 0\.4000
info     | pt.onnx --classes names.txt             | 0 | out | classes +10: zero one two
info     | model.inkw --classes names.txt          | 1 | err | --normalize and --classes are for ONNX models
classify | --model pt.onnx --normalize 1 tree      | 1 | err | --normalize takes MEAN,STD, got '1'
classify | --model pt.onnx --classes three.txt tree | 1 | err | pt.onnx: the model has 10 outputs but 3 class names
convert  | --help                                  | 0 | out | ^Converts a model between
convert  | --version                               | 0 | out | ^inkwell-convert [0-9]+\.[0-9]+
convert  |                                         | 2 | err | IN is required
convert  | model.inkw                              | 2 | err | OUT is required
convert  | nowhere.inkw out.onnx                   | 2 | err | IN: File does not exist
convert  | file.txt out.onnx                       | 1 | err | ^inkwell-convert: file.txt: not an inkwell model file
convert  | f32.inkw m.onnx                         | 0 | out | ^wrote m\.onnx \(conv16k5p2.*fc26, 26 classes
convert  | model.inkw m8.onnx                      | 0 | out | ^wrote m8\.onnx \(conv8k5p2.*10 classes
convert  | pt.onnx --normalize 0.5,0.25 --classes names.txt p.inkw | 0 | out | ^wrote p\.inkw \(conv16k5p2.*10 classes
info     | run                                     | 1 | err | ^inkwell-info: run: is a directory; did you mean run/model.inkw\?
ROWS
)

while IFS='|' read -r app args code stream pattern; do
  app=$(echo $app) code=$(echo $code) stream=$(echo $stream)
  pattern=$(sed 's/^ *//; s/ *$//' <<<"$pattern")
  [[ -z $app ]] && continue
  eval "argv=($args)"
  "$bin/inkwell-$app" "${argv[@]}" > out 2> err < /dev/null
  got=$?
  rows=$((rows + 1))
  other=$([[ $stream == out ]] && echo err || echo out)
  # Usage errors: one line with the reason, one pointing to --help, nothing on stdout.
  if [[ $got -ne $code ]] || ! grep -qE -- "$pattern" "$stream" || { [[ $stream == err && $code == 2 ]] && [[ -s out ]]; } ||
     { [[ $code == 2 ]] && ! tail -1 err | grep -q -- "--help' for the options"; } ||
     { [[ $code == 0 && $stream == out ]] && [[ -s err ]]; }; then
    echo "FAIL: inkwell-$app $args: exit $got (want $code), $stream should match /$pattern/"
    echo "  stdout: $(head -c 300 out)"
    echo "  stderr: $(head -c 300 err)"
    failures=$((failures + 1))
  fi
done <<<"$table"

# Every flag of every app's --help has a row.
for app in train classify export info quantize convert; do
  for flag in $("$bin/inkwell-$app" --help | grep -oE '^  (-[a-z0-9],)?--[a-z0-9-]+' | grep -oE -- '--[a-z0-9-]+'); do
    if ! grep -E "^$app +\|" <<<"$table" | cut -d'|' -f2 | grep -qE -- "(^| )$flag( |=|$)"; then
      echo "FAIL: inkwell-$app $flag has no row in the table"
      failures=$((failures + 1))
    fi
  done
done
echo "$rows rows, $failures failed"
[[ $failures -eq 0 ]]
