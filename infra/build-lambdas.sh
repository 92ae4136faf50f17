#!/usr/bin/env bash
# Builds every Lambda function binary for provided.al2023 on arm64 (Graviton).
# Output: target/lambda/<function>/bootstrap, which is what each function's CodeUri
# in infra/template.yaml points at. Run from anywhere; extra arguments go to
# cargo lambda (e.g. `infra/build-lambdas.sh --locked`).
set -euo pipefail

# The Cargo packages that hold Lambda mains, and every Lambda function: its binary
# name, which is also its target/lambda/<name>/ directory and (in PascalCase +
# "Function") its SAM resource.
PACKAGES=(
  eligibility
  prior-auth
  documents
)
FUNCTIONS=(
  eligibility
  prior-auth
  prior-auth-sweeper
  documents
  documents-verify
)

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

if ! cargo lambda --version >/dev/null 2>&1; then
  echo "error: cargo-lambda is missing: pip install cargo-lambda (bundles Zig), or cargo install --locked cargo-lambda" >&2
  exit 1
fi

packages=()
for p in "${PACKAGES[@]}"; do
  packages+=(-p "$p")
done

# One cargo invocation for all functions, so shared crates compile once.
cargo lambda build --profile lambda-release --arm64 "${packages[@]}" "$@"

# The template's CodeUri paths are relative to <repo>/target.
lambda_dir="${CARGO_TARGET_DIR:-$repo_root/target}/lambda"
if [[ "$lambda_dir" != "$repo_root/target/lambda" ]]; then
  echo "warning: CARGO_TARGET_DIR is set; infra/template.yaml expects the binaries under target/lambda/" >&2
fi

echo "Lambda bootstraps:"
missing=0
for f in "${FUNCTIONS[@]}"; do
  if [[ -f "$lambda_dir/$f/bootstrap" ]]; then
    echo "  $f: $lambda_dir/$f/bootstrap"
  else
    echo "  $f: MISSING ($lambda_dir/$f/bootstrap)" >&2
    missing=1
  fi
done
exit "$missing"
