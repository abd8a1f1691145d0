# packaging/lib.sh - shell functions shared by the packaging scripts (sourced).
# Needs $top (the repository root) set by the caller.

# The release version, from core/version.h (the one place it is written).
pg_version()
{
	sed -n 's/^#define PG_VERSION "\(.*\)"$/\1/p' "$top/core/version.h"
}

# Copy the source tree (no build/, no .git) to $1. In a git checkout this is
# every tracked or untracked-but-not-ignored file that exists, so a developer's
# uncommitted work is packaged as it is, and a fresh clone packages the commit.
pg_export_tree()
{
	dest=$1
	rm -rf "$dest"
	mkdir -p "$dest"
	if git -C "$top" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		(cd "$top" && git ls-files -co --exclude-standard | while IFS= read -r f; do
			case $f in build/*) continue ;; esac
			if [ -e "$f" ] || [ -L "$f" ]; then printf '%s\n' "$f"; fi
		done) >"$dest.files"
		tar -C "$top" -cf - --no-recursion -T "$dest.files" | tar -C "$dest" -xf -
		rm -f "$dest.files"
	else
		tar -C "$top" -cf - --exclude=./build --exclude=./.git . | tar -C "$dest" -xf -
	fi
}

# Run a command with a time limit; say which step timed out.
pg_timeout()
{
	secs=$1
	shift
	timeout --kill-after=10 "$secs" "$@" && return 0
	rc=$?
	[ "$rc" = 124 ] && echo "portguard: timed out after ${secs}s: $*" >&2
	return "$rc"
}

# The Debian mirror of this machine's apt sources for $1 (a codename).
debian_mirror()
{
	cn=$1
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		awk -v RS= -v cn="$cn" '
			{ uri = ""; suite = 0; deb = 0
			  n = split($0, l, "\n")
			  for (i = 1; i <= n; i++) {
				if (l[i] ~ /^URIs:/) { split(l[i], a, /[ \t]+/); uri = a[2] }
				if (l[i] ~ /^Types:/ && l[i] ~ /(^|[ \t])deb([ \t]|$)/) deb = 1
				if (l[i] ~ /^Suites:/ && l[i] ~ ("[ \t]" cn "([ \t]|$)")) suite = 1
			  }
			  if (uri != "" && suite && deb) { print uri; exit } }' "$f"
	done
	cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
		awk -v cn="$cn" '$1 == "deb" && $0 !~ /\[/ && $3 == cn { print $2 }'
}
