#!/usr/bin/python3
"""tests/report/syslog2export.py < RFC3339-SYSLOG > EXPORT

Turns syslog lines with RFC 3339 stamps (rsyslog's RSYSLOG_FileFormat:
"2026-01-02T03:04:05.678901+00:00 HOST TAG[PID]: MESSAGE") into entries of
the systemd journal export format (MESSAGE, SYSLOG_IDENTIFIER, _PID,
_HOSTNAME, __REALTIME_TIMESTAMP, PRIORITY; one blank line after each), the
input of systemd-journal-remote. The syslog file does not keep the
priority: every entry says 6 (info). Lines of another shape are left out
and counted on standard error.
"""
import datetime
import re
import sys

LINE = re.compile(r"(\S+) (\S+) ([^\s\[:]+)(?:\[(\d+)\])?: ?(.*)")


def main():
    out = sys.stdout.buffer
    skipped = 0
    for raw in sys.stdin.buffer:
        m = LINE.fullmatch(raw.rstrip(b"\n").decode("utf-8", "replace"))
        if m is None:
            skipped += 1
            continue
        stamp, host, tag, pid, msg = m.groups()
        try:
            t = datetime.datetime.fromisoformat(stamp)
        except ValueError:
            skipped += 1
            continue
        usec = int(t.timestamp()) * 1000000 + t.microsecond
        fields = [("__REALTIME_TIMESTAMP", str(usec)), ("_HOSTNAME", host),
                  ("SYSLOG_IDENTIFIER", tag), ("PRIORITY", "6"), ("MESSAGE", msg)]
        if pid is not None:
            fields.append(("_PID", pid))
        for name, value in fields:
            out.write(f"{name}={value}\n".encode("utf-8"))
        out.write(b"\n")
    if skipped:
        print(f"syslog2export: {skipped} lines of another shape left out", file=sys.stderr)


main()
