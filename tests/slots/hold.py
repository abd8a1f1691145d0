#!/usr/bin/env python3
"""hold.py SOCK TRICKLE IDLE DONEFILE - hold policy connections hostage.

Opens TRICKLE connections that send one byte of a request every 0.5 s
(never finishing it) and IDLE connections that get one answer and then say
nothing, on portguard-policyd's socket SOCK. Prints "ready" once all are
open (the tricklers' requests begun), keeps trickling until DONEFILE exists
(at most 120 s), then prints how many of each the daemon closed.
"""
import os
import socket
import sys
import time

REQ = (b"request=smtpd_access_policy\nprotocol_state=RCPT\nclient_address=192.0.2.9\n"
       b"client_name=hold.example\nserver_port=13025\ninstance=hold.1\n"
       b"recipient=x@example.net\n\n")


def connect(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(path)
    return s


def main():
    path, ntrickle, nidle, done = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    idle, trickle = [], []
    for _ in range(nidle):
        s = connect(path)
        s.sendall(REQ)
        got = b""
        while not got.endswith(b"\n\n"):
            chunk = s.recv(4096)
            if not chunk:
                sys.exit("hold: idle connection closed before its answer")
            got += chunk
        idle.append(s)
    for _ in range(ntrickle):
        s = connect(path)
        s.sendall(REQ[:1])
        trickle.append([s, 1])
    print("ready", flush=True)
    end = time.monotonic() + 120
    closed_t = set()
    while not os.path.exists(done) and time.monotonic() < end:
        time.sleep(0.5)
        for e in trickle:
            s, i = e
            if s in closed_t:
                continue
            try:
                s.send(REQ[i:i + 1] if i < len(REQ) - 1 else b"x")
                e[1] = i + 1
            except OSError:
                closed_t.add(s)
    closed_i = 0
    for s in idle:
        s.setblocking(False)
        try:
            if s.recv(1) == b"":
                closed_i += 1
        except BlockingIOError:
            pass
        except OSError:
            closed_i += 1
    print("closed: trickling=%d idle=%d" % (len(closed_t), closed_i), flush=True)


if __name__ == "__main__":
    main()
