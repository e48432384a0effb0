#!/usr/bin/env bash
# Builds both firmware boards in release and prints, per board, the size of
# every allocated section, the flash and static RAM totals, and the largest
# statics in RAM.
#
#   flash = .vector_table + .text + .rodata + .data (the initial values of .data live in flash)
#   RAM   = .data + .bss + .uninit (static; the stack comes on top)
#
# Uses arm-none-eabi-size/nm (Debian's binutils-arm-none-eabi, installed
# when missing) or llvm-size/llvm-nm when those are on PATH.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
FW="$ROOT/ports/firmware"

if command -v arm-none-eabi-size >/dev/null 2>&1; then
    SIZE=arm-none-eabi-size NM=arm-none-eabi-nm
elif command -v llvm-size >/dev/null 2>&1 && command -v llvm-nm >/dev/null 2>&1; then
    SIZE=llvm-size NM=llvm-nm
else
    echo "== installing binutils-arm-none-eabi"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends binutils-arm-none-eabi >/dev/null
    SIZE=arm-none-eabi-size NM=arm-none-eabi-nm
fi
rustup target add thumbv7em-none-eabihf >/dev/null 2>&1 || true

failed=0
for board in qemu-mps2-an386 nucleo-h743zi; do
    start=$(date +%s)
    (cd "$FW" && cargo build --release --quiet --features "$board" --bin "$board")
    elf="$FW/target/thumbv7em-none-eabihf/release/$board"
    echo
    echo "== $board (release, built in $(( $(date +%s) - start )) s)"
    "$SIZE" -A "$elf" | awk '
        $1 ~ /^\.(vector_table|text|rodata|data|bss|uninit)$/ {
            size[$1] = $2; order[n++] = $1
        }
        END {
            printf "   %-14s %9s\n", "section", "bytes"
            for (i = 0; i < n; i++) printf "   %-14s %9d\n", order[i], size[order[i]]
            flash = size[".vector_table"] + size[".text"] + size[".rodata"] + size[".data"]
            ram = size[".data"] + size[".bss"] + size[".uninit"]
            printf "   %-14s %9d  (%.1f KiB)\n", "flash", flash, flash / 1024
            printf "   %-14s %9d  (%.1f KiB)\n", "static RAM", ram, ram / 1024
        }'
    # The gateway's compile-time value must be all zero bytes (sessiondb's
    # `Gateway::new_empty`, docs/PERFORMANCE.md): then it is in .bss and
    # costs no flash. In .data, its whole image is in flash again.
    gateway=$("$NM" -C "$elf" | awk '/app::gateway::build::GATEWAY$/ { print $2 }')
    case "$gateway" in
        b|B) echo "   GATEWAY in .bss (its initial value is all zero bytes)" ;;
        *) echo "   FAIL: GATEWAY is not in .bss (symbol type '$gateway'): Gateway::new_empty() is not all zero bytes" >&2
           failed=1 ;;
    esac
    echo "   largest statics in RAM:"
    "$NM" -S --size-sort -C "$elf" | awk '$3 ~ /^[bBdD]$/' | tail -5 | tac | while read -r _ size _ name; do
        printf "   %9d  %s\n" "$((16#$size))" "$name"
    done
done
exit "$failed"
