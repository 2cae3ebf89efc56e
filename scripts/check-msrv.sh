#!/usr/bin/env bash
# The declared rust-version (Cargo.toml) against what the build needs, on
# whatever toolchain is installed (a 1.89 toolchain is not needed):
# - every package the lock file resolves to (for any feature) declares a
#   rust-version no newer than ours (or none);
# - clippy's `incompatible_msrv` (a workspace lint) refuses std and core
#   items stabilized after ours; `.ci/run`'s clippy run enforces it.
# Language features newer than ours are not caught here (docs/architecture.md,
# "Development").
set -euo pipefail
cd "$(dirname "$0")/.."
cargo metadata --format-version 1 --locked --all-features | python3 -c '
import json, sys
meta = json.load(sys.stdin)
ours = {p["rust_version"] for p in meta["packages"] if p["id"] in meta["workspace_members"]}
if len(ours) != 1 or None in ours:
    sys.exit(f"check-msrv: the workspace crates declare {sorted(map(str, ours))}, not one rust-version")
ours = ours.pop()
key = lambda v: tuple(int(x) for x in v.split("."))
used = {n["id"] for n in meta["resolve"]["nodes"]}
newer = sorted(
    "%s %s needs %s" % (p["name"], p["version"], p["rust_version"])
    for p in meta["packages"]
    if p["id"] in used and p["rust_version"] and key(p["rust_version"]) > key(ours)
)
if newer:
    sys.exit("check-msrv: newer than rust-version " + ours + ":\n  " + "\n  ".join(newer))
print(f"check-msrv: {len(used)} packages, none needs more than Rust {ours}")
'
