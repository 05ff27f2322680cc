#!/usr/bin/env bash
# Builds the example plugins from source and installs each .wasm into its rule pack under
# rules/examples/ (beside the plugin.toml that names it). Built .wasm files are never committed.
#
#   plugins/build.sh            build what changed, install what differs
#
# Rust plugins are built for wasm32-unknown-unknown with
#   * rustup's cargo, when the active toolchain has that target
#     (`rustup target add wasm32-unknown-unknown`), or else
#   * Debian's Rust (/usr/bin/cargo, /usr/bin/rustc 1.63, the wasm32 std from
#     libstd-rust-dev-wasm32);
# the C plugin with clang --target=wasm32 and wasm-ld (Debian: clang, lld). When one is missing
# and this runs as root with apt-get, it installs `rustc cargo libstd-rust-dev-wasm32 lld clang`;
# otherwise it stops and says what to install.
#
# Fast when nothing changed: cargo rebuilds nothing, the C file is compiled only when newer than
# its output, and a .wasm is copied only when it differs from the installed one — so a running
# server's rules watcher reloads a pack only when its plugin really changed.
# Build output stays in plugins/target/, apart from the repository's target/.
set -euo pipefail
cd "$(dirname "$0")"

# crate (or C source) → pack directory that receives its .wasm. Keep in step with the
# plugin.toml files there (their `wasm` names the file).
RUST_PLUGINS=(
  "battle-trance ../rules/examples/battle-trance/features/battle-trance"
  "trance ../rules/examples/battle-trance/effects/in-trance"
  "chilled ../rules/examples/chilled/conditions/chilled"
  "pit-fighter ../rules/examples/pit-fighter-wasm/features/pit-fighter"
)
C_PLUGINS=(
  "examples/iron-hide-c/iron_hide.c ../rules/examples/iron-hide/features/iron-hide"
)
TARGET=wasm32-unknown-unknown
DEBIAN_PACKAGES=(rustc cargo libstd-rust-dev-wasm32 lld clang)

fail() {
  echo "plugins/build.sh: $*" >&2
  exit 1
}

rustup_has_target() {
  command -v rustup >/dev/null && command -v cargo >/dev/null \
    && rustup target list --installed 2>/dev/null | grep -qx "$TARGET"
}

debian_rust_ready() {
  [[ -x /usr/bin/cargo && -x /usr/bin/rustc && -d /usr/lib/rustlib/$TARGET ]]
}

clang_ready() {
  command -v clang >/dev/null && command -v wasm-ld >/dev/null
}

install_debian_toolchain() {
  if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
    echo "installing ${DEBIAN_PACKAGES[*]} (Debian packages)"
    { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${DEBIAN_PACKAGES[@]}"; } >/dev/null \
      || fail "could not install ${DEBIAN_PACKAGES[*]} with apt-get"
  else
    fail "$1
  either: rustup target add $TARGET   (Rust plugins; clang and lld for the C one)
  or:     apt-get install ${DEBIAN_PACKAGES[*]}   (as root)"
  fi
}

# Picks the Rust toolchain: the command to run cargo with, as an array.
if rustup_has_target; then
  CARGO=(cargo)
else
  debian_rust_ready || install_debian_toolchain "no Rust toolchain with the $TARGET target found"
  # Debian's cargo before 1.68 knows crates.io only through the git index, which is large (and
  # unreachable behind some proxies); its sparse index, stable since 1.68, is enabled here with
  # the flag that predates it.
  CARGO=(env RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc /usr/bin/cargo)
  minor=$(/usr/bin/cargo --version | sed -E 's/^cargo 1\.([0-9]+).*/\1/')
  if ((minor < 68)); then
    CARGO=(env RUSTC_BOOTSTRAP=1 "${CARGO[@]:1}" -Z sparse-registry)
  fi
fi
clang_ready || install_debian_toolchain "clang and wasm-ld (lld) are needed for the C plugin"

# Copies $1 to directory $2 unless the same bytes are already there.
install_wasm() {
  local src=$1 dir=$2 dest
  dest="$dir/$(basename "$src")"
  [[ -d "$dir" ]] || fail "pack directory $dir is missing (it holds the plugin.toml)"
  if cmp -s "$src" "$dest"; then
    echo "up to date  ${dest#../}"
  else
    cp "$src" "$dest"
    echo "installed   ${dest#../} ($(wc -c <"$src") bytes)"
  fi
}

packages=()
for entry in "${RUST_PLUGINS[@]}"; do
  packages+=(-p "${entry%% *}")
done
"${CARGO[@]}" build --quiet --locked --release --target "$TARGET" "${packages[@]}"
for entry in "${RUST_PLUGINS[@]}"; do
  crate=${entry%% *}
  install_wasm "target/$TARGET/release/${crate//-/_}.wasm" "${entry#* }"
done

mkdir -p target/c
for entry in "${C_PLUGINS[@]}"; do
  src=${entry%% *}
  out="target/c/$(basename "${src%.c}").wasm"
  if [[ ! -f "$out" || "$src" -nt "$out" ]]; then
    clang --target=wasm32 -O2 -nostdlib -ffreestanding -Wall -Wextra -Werror \
      -Wl,--no-entry -Wl,--strip-all -o "$out" "$src"
  fi
  install_wasm "$out" "${entry#* }"
done
