#!/usr/bin/env bash
# Time Litestream restoring an SQLite database from a file replica, as the
# baseline of SecureCart's restore benchmark (internal/backup, BenchmarkRestore).
# Litestream stays a separate binary, outside SecureCart's module:
#
#	go install github.com/benbjohnson/litestream/cmd/litestream@v0.5.18
#
# Usage: restore.sh DB_PATH
# Replicates DB_PATH once to a temporary file replica (a full snapshot), then
# restores it to a new file and prints the restore's wall time in seconds and
# the restored file's size in bytes, on one line: "SECONDS BYTES".
set -euo pipefail

db=${1:?usage: restore.sh DB_PATH}
ls=${LITESTREAM:-}
if [ -z "$ls" ]; then
	ls=$(command -v litestream || echo "$(go env GOPATH)/bin/litestream")
fi
[ -x "$ls" ] || { echo "litestream not found; see the comment at the top of $0" >&2; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$ls" replicate -once -force-snapshot "$db" "file://$work/replica" >"$work/replicate.log" 2>&1 ||
	{ cat "$work/replicate.log" >&2; exit 1; }

start=$(date +%s%N)
"$ls" restore -o "$work/restored.db" "file://$work/replica" >"$work/restore.log" 2>&1 ||
	{ cat "$work/restore.log" >&2; exit 1; }
sync "$work/restored.db"
end=$(date +%s%N)
awk -v ns=$((end - start)) -v size="$(stat -c %s "$work/restored.db")" 'BEGIN { printf "%.3f %d\n", ns / 1e9, size }'
