#!/usr/bin/env bash
# Line coverage that a fuzz target's corpus reaches in the crate it drives:
# builds the target with coverage instrumentation (`cargo fuzz coverage`),
# replays fuzz/corpus/<target> (and fuzz/seeds/<target>), and prints the
# lines of the crate's src/ that ran, with llvm-cov from the nightly's
# llvm-tools component (installed when missing).
#
#   scripts/fuzz-coverage.sh TARGET [TARGET...]
#
# One line per target: "<target> <crate>: <covered>/<lines> lines (<pct>%)",
# then, for every crate with more than one of the targets given, the lines
# the targets reach together: "all of <crate>: ...".
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT/fuzz"
rustup component add llvm-tools-preview --toolchain nightly >/dev/null 2>&1 || true
SYSROOT="$(rustc +nightly --print sysroot)"
LLVM_COV="$(find "$SYSROOT" -name llvm-cov -type f | head -n 1)"
[ -x "$LLVM_COV" ] || { echo "llvm-cov not found under $SYSROOT"; exit 1; }
TRIPLE="$(rustc +nightly -vV | sed -n 's/^host: //p')"

crate_of() {
    case "$1" in
        esp_*) echo esp-core ;;
        ike_*) echo ike-core ;;
        l2tp_*) echo l2tp-core ;;
        ppp_*) echo ppp-core ;;
        radius_*) echo radius-core ;;
        sessiondb_* | gateway) echo sessiondb ;;
        host_input) echo ports/host ;;
        firmware_*) echo ports/firmware ;;
        *) echo "unknown target $1" >&2; return 1 ;;
    esac
}

LLVM_PROFDATA="$(dirname "$LLVM_COV")/llvm-profdata"
declare -A bins profs

report() { # crate, profdata, binaries...
    local crate="$1" prof="$2" first="$3"
    shift 3
    local objects=()
    for b in "$@"; do objects+=(-object "$b"); done
    # The TOTAL line of the crate's own sources: the Lines columns are
    # total and missed.
    "$LLVM_COV" report "$first" "${objects[@]}" -instr-profile="$prof" \
        "$ROOT/$crate/src" 2>/dev/null | awk '/^TOTAL/ {
            printf "%d/%d lines (%.1f%%)\n", $8 - $9, $8, 100 * ($8 - $9) / $8 }'
}

for t in "$@"; do
    crate="$(crate_of "$t")" || continue
    # A snapshot of the corpus: a fuzzer still running on it replaces
    # files as it reduces them.
    snap="$(mktemp -d)"
    mkdir -p "corpus/$t"
    cp -r "corpus/$t/." "$snap/" 2>/dev/null || true
    [ -d "seeds/$t" ] && cp -r "seeds/$t/." "$snap/"
    if ! cargo +nightly fuzz coverage "$t" "$snap" >"$snap.log" 2>&1; then
        echo "$t $crate: coverage run failed:"
        tail -n 5 "$snap.log"
        rm -rf "$snap" "$snap.log"
        continue
    fi
    rm -rf "$snap" "$snap.log"
    bin="target/$TRIPLE/coverage/$TRIPLE/release/$t"
    prof="coverage/$t/coverage.profdata"
    echo "$t $crate: $(report "$crate" "$prof" "$bin")"
    bins[$crate]+="$bin "
    profs[$crate]+="$prof "
done
for crate in "${!bins[@]}"; do
    read -r -a b <<<"${bins[$crate]}"
    read -r -a p <<<"${profs[$crate]}"
    [ ${#b[@]} -gt 1 ] || continue
    merged="coverage/all-${crate//\//-}.profdata"
    "$LLVM_PROFDATA" merge -sparse "${p[@]}" -o "$merged"
    echo "all of $crate (${#b[@]} targets): $(report "$crate" "$merged" "${b[@]}")"
done
