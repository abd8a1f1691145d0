# tests/bench/conf.sh - sourced by tests/bench/run.sh and profile.sh: the one
# benchmark configuration, so that the instructions profile.sh counts belong
# to the same decisions run.sh times. Both start the daemon with -p, so the
# file names no socket.
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
