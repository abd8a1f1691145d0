# tests/bench/conf.sh - sourced by tests/bench/run.sh, large.sh, soak.sh and
# profile.sh: the one benchmark configuration, so that the instructions
# profile.sh counts belong to the same decisions run.sh times (all start the
# daemon with -p, so the file names no socket), and the helpers the scripts
# share.
#
# bench_write_conf FILE MAX_CONNECTIONS
bench_write_conf() {
	_root=""
	[ "$(id -u)" = 0 ] && _root="allow_root = true;"
	cat >"$1" <<EOF
# portguard benchmark configuration (written by tests/bench/conf.sh)
mode = "enforce";
on_error = "tempfail";
default_role = "relay";
$_root
log = { level = "notice"; stats_interval = 0; };
relay = {
  local_domains = [ "example.org", ".example.org", "example.net" ];
  trusted_networks = [ "127.0.0.0/8", "::1/128", "10.0.0.0/8" ];
  authenticated_may_relay = true;
};
ports = (
  { port = 25;   role = "relay";      auth = "optional"; },
  { port = 587;  role = "submission"; tls = "starttls"; min_tls_version = "TLSv1.2"; },
  { port = 465;  role = "submission"; tls = "implicit"; min_tls_version = "TLSv1.2"; },
  { port = 2525; role = "submission"; tls = "starttls"; min_tls_version = "TLSv1.2"; }
);
policyd = { max_connections = $2; idle_timeout = 600; };
EOF
}

# Stop a server we started: TERM, up to 5 s to exit, then KILL.
stop_pid() {
	kill "$1" 2>/dev/null || return 0
	_t=0
	while kill -0 "$1" 2>/dev/null && [ "$_t" -lt 50 ]; do
		sleep 0.1
		_t=$((_t + 1))
	done
	if kill -0 "$1" 2>/dev/null; then
		echo "bench: pid $1 ignored SIGTERM for 5 s; killing it" >&2
		kill -KILL "$1" 2>/dev/null
	fi
	wait "$1" 2>/dev/null
}

# key=value from a loadgen line
kv() {
	echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"
}

# median of the numbers on stdin
median() {
	sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print 0; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# "Q1-Q3" of the numbers on stdin (nearest rank)
quartiles() {
	sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else printf "%s-%s\n", v[int((NR + 3) / 4)], v[int((3 * NR + 3) / 4)] }'
}
