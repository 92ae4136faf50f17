#!/usr/bin/env bash
# Builds every Lambda function for provided.al2023 with cargo-lambda, arm64
# (Graviton) by default, x86_64 on request or as a fallback when arm64 cannot be
# built here (no aarch64 standard library or no Zig).
#
#   infra/build-lambdas.sh [--arch arm64|x86_64] [extra cargo lambda args]
#
# Output: target/lambda/<function>/ (what each function's CodeUri in
# infra/template.yaml points at: its bootstrap and partitions/, the SDK's
# partition table cut per partition), target/lambda/ARCHITECTURE (the
# architecture built: deploy with Architecture=<it>), and a table of stripped
# and zipped sizes.
# Needs only Rust and Python: cargo-lambda (which brings Zig, the cross linker)
# is installed from PyPI into target/cargo-lambda when it is not on PATH, and the
# aarch64 standard library through rustup.
set -euo pipefail

CARGO_LAMBDA_VERSION=1.9.2

# The Cargo packages that hold Lambda mains, and every Lambda function: its binary
# name, which is also its target/lambda/<name>/ directory and (in PascalCase +
# "Function") its SAM resource.
PACKAGES=(
  eligibility
  prior-auth
  documents
  claims
  intake
  disputes
  outbox-relay
)
FUNCTIONS=(
  eligibility
  prior-auth
  prior-auth-sweeper
  documents
  documents-verify
  claims
  claims-s3
  claims-edits
  claims-sweeper
  intake
  intake-s3
  disputes
  disputes-sweeper
  outbox-relay
)

arch=arm64
args=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --arch) arch="$2"; shift 2 ;;
    --arch=*) arch="${1#--arch=}"; shift ;;
    *) args+=("$1"); shift ;;
  esac
done
case "$arch" in
  arm64|x86_64) ;;
  *) echo "error: --arch must be arm64 or x86_64" >&2; exit 2 ;;
esac
explicit_arch=${arch}

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"
lambda_dir="${CARGO_TARGET_DIR:-$repo_root/target}/lambda"
if [[ "$lambda_dir" != "$repo_root/target/lambda" ]]; then
  echo "warning: CARGO_TARGET_DIR is set; infra/template.yaml expects the binaries under target/lambda/" >&2
fi

if ! cargo lambda --version >/dev/null 2>&1; then
  venv="$repo_root/target/cargo-lambda"
  if [[ ! -x "$venv/bin/cargo-lambda" ]]; then
    echo "build-lambdas: installing cargo-lambda $CARGO_LAMBDA_VERSION (with Zig) into $venv" >&2
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "cargo-lambda==$CARGO_LAMBDA_VERSION"
  fi
  export PATH="$venv/bin:$PATH"
fi

packages=()
for p in "${PACKAGES[@]}"; do
  packages+=(-p "$p")
done

build() {
  local flag=()
  if [[ "$1" == arm64 ]]; then
    flag=(--arm64)
    # Bounded: where rustup's download server is out of reach the call hangs
    # rather than fails, and the x86_64 fallback must still come.
    timeout 180 rustup target add aarch64-unknown-linux-gnu >/dev/null 2>&1 || return 1
  else
    flag=(--x86-64)
  fi
  # One cargo invocation for all functions, so shared crates compile once.
  cargo lambda build --profile lambda-release "${flag[@]}" "${packages[@]}" ${args[@]+"${args[@]}"}
}

if ! build "$arch"; then
  if [[ "$arch" == arm64 && "$explicit_arch" == arm64 && -z "${BUILD_LAMBDAS_NO_FALLBACK:-}" ]]; then
    echo "warning: the arm64 build failed here; building x86_64 instead. Deploy it with Architecture=x86_64." >&2
    arch=x86_64
    build "$arch"
  else
    exit 1
  fi
fi
echo "$arch" > "$lambda_dir/ARCHITECTURE"

# Each function's package: its bootstrap and the SDK's partition table cut per
# partition (infra/partitions/; the template points the SDK at its stack's).
for f in "${FUNCTIONS[@]}"; do
  rm -rf "$lambda_dir/$f/partitions"
  mkdir -p "$lambda_dir/$f/partitions"
  cp infra/partitions/*.json "$lambda_dir/$f/partitions/"
done

echo "Lambda artefacts ($arch, profile lambda-release):"
missing=0
for f in "${FUNCTIONS[@]}"; do
  bin="$lambda_dir/$f/bootstrap"
  if [[ -f "$bin" ]]; then
    python3 - "$f" "$bin" <<'PY'
import io, os, sys, zipfile
name, path = sys.argv[1], sys.argv[2]
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
    z.write(path, "bootstrap")
    partitions = os.path.join(os.path.dirname(path), "partitions")
    for table in sorted(os.listdir(partitions)):
        z.write(os.path.join(partitions, table), f"partitions/{table}")
print(f"  {name:<24} stripped {os.path.getsize(path) / 1e6:5.1f} MB   zipped {len(buf.getvalue()) / 1e6:5.1f} MB")
PY
  else
    echo "  $f: MISSING ($bin)" >&2
    missing=1
  fi
done
echo "Deploy: sam deploy --template-file infra/template.yaml --config-file infra/samconfig.toml --config-env <ipa> (Architecture=$arch)"
exit "$missing"
