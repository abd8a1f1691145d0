#!/usr/bin/env python3
"""sockprobe.py PATH USER DONEFILE MAXMODE - watch a unix socket being made.

Run as root while a daemon starts (and restarts) on PATH. A child process,
as USER, tries to connect to PATH in a tight loop; the parent polls lstat()
of PATH. Once DONEFILE exists (or after 120 s) it prints "connects=N wider=M modes=..." where N is
how many connections USER made and M how many looks found a mode with a
bit outside MAXMODE (octal). Both must be 0 for a socket that is never
wider than its configured mode.
"""
import os
import pwd
import socket
import stat
import sys
import time


def main():
    path, user, done, maxmode = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4], 8)
    end = time.monotonic() + 120
    pw = pwd.getpwnam(user)
    rd, wr = os.pipe()
    child = os.fork()
    if child == 0:
        os.close(rd)
        os.setgroups([])
        os.setgid(pw.pw_gid)
        os.setuid(pw.pw_uid)
        n, i = 0, 0
        while time.monotonic() < end:
            i += 1
            if i % 256 == 0 and os.path.exists(done):
                break
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                s.connect(path)
                n += 1
            except OSError:
                pass
            s.close()
        os.write(wr, str(n).encode())
        os._exit(0)
    os.close(wr)
    wider, modes, i = 0, set(), 0
    while time.monotonic() < end:
        i += 1
        if i % 256 == 0 and os.path.exists(done):
            break
        try:
            m = stat.S_IMODE(os.lstat(path).st_mode)
        except OSError:
            continue
        modes.add("%04o" % m)
        if m & ~maxmode:
            wider += 1
    connects = os.read(rd, 64).decode() or "?"
    os.waitpid(child, 0)
    print("connects=%s wider=%d modes=%s" % (connects, wider, ",".join(sorted(modes))))


if __name__ == "__main__":
    main()
