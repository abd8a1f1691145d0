#!/usr/bin/env python3
"""pclient.py - a small Postfix policy client for portguard-policyd's tests.

Every mode prints what it received and exits 0 when the daemon behaved as
the mode expects, 1 otherwise (with the reason on stderr). All waits are
bounded (TIMEOUT seconds); none is a fixed sleep except the short pauses
between the pieces of a deliberately split request.

  pclient.py SOCK send FILE [CHUNK]   send FILE (one or more requests) in one
                                      write, or in CHUNK-byte writes; print
                                      one reply per request
  pclient.py SOCK limit KIND SIZE fits|over
                                      build a request whose KIND (line,
                                      request, attrs, name, instance) is SIZE
                                      bytes/items; "fits": it is answered;
                                      "over": no reply, the connection is
                                      closed, and a connection opened before
                                      still gets answers
  pclient.py SOCK bad FILE            like "limit ... over" for a request file
  pclient.py SOCK cap N FILE          N connections get answers, then each
                                      begins a request (none is idle);
                                      connection N+1 is closed unanswered,
                                      the first N finish and get answers
  pclient.py SOCK evict N FILE        N idle connections after an answer;
                                      connection N+1 is answered, the first
                                      (idle the longest) is closed, the
                                      others still get answers
  pclient.py SOCK refuse N LOG M... FILE
                                      N connections each begin a request;
                                      M more are each closed unanswered,
                                      batch after batch, each once LOG shows
                                      the previous batch's count; the N are
                                      left open (for the caller's stop)
  pclient.py SOCK deadline FILE       one byte of FILE every 0.5 s: the
                                      daemon must close the connection
                                      unanswered; prints the seconds it took
  pclient.py SOCK slots N FILE        N connections, half trickling a byte
                                      every 0.5 s, half idle after an answer:
                                      a new connection is answered at once;
                                      prints the seconds it took
  pclient.py SOCK nofile N FILE       N connections kept open, a request on
                                      each and the next one begun (none
                                      idle): served until the daemon is out of
                                      descriptors, then closed unanswered;
                                      the served ones still answer, and once
                                      they close a new one is served
  pclient.py SOCK nofile_evict N FILE N connections, each idle after an
                                      answer: out of descriptors, the oldest
                                      are closed to make room, every new one
                                      is served
  pclient.py SOCK idle CLOCKFILE SECONDS FILE
                                      connection A is answered; the daemon's
                                      clock (tests/policy/fakeclock.c) moves
                                      SECONDS ahead; a new connection B is
                                      answered, and A is closed unanswered
  pclient.py SOCK flood N             N pipelined requests written without
                                      reading: the daemon must stop reading
                                      (our writes block) yet serve another
                                      connection; then all N replies arrive
                                      in order
  pclient.py SOCK script STEP...      one connection, steps in order:
                                      send:FILE  print the replies
                                      copy:SRC:DST  replace a file
                                      mark:LOG   remember LOG's size
                                      kill:SIG:PID  send a signal
                                      wait:TEXT  wait until TEXT appears in
                                                 LOG after the mark
"""
import os
import shutil
import signal
import socket
import sys
import time

TIMEOUT = 10.0

BASE = [
    "request=smtpd_access_policy",
    "protocol_state=RCPT",
    "protocol_name=ESMTP",
    "client_address=192.0.2.10",
    "client_name=client.example",
    "client_port=40000",
    "server_port=10587",
    "helo_name=client.example",
    "sender=alice@example.org",
    "recipient=bob@example.net",
    "queue_id=",
    "instance=limit.1",
    "sasl_method=",
    "sasl_username=",
    "encryption_protocol=",
    "encryption_cipher=",
    "encryption_keysize=0",
]
BASE_REPLY = b"action=530 5.7.0 Must issue a STARTTLS command first\n\n"


def fail(msg):
    sys.stderr.write("pclient: " + msg + "\n")
    sys.exit(1)


def connect(path):
    """path: a unix socket path, or inet:HOST:PORT / inet:[ADDR]:PORT."""
    if path.startswith("inet:"):
        host, _, port = path[5:].rpartition(":")
        fam = socket.AF_INET
        if host.startswith("["):
            host, fam = host[1:-1], socket.AF_INET6
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.settimeout(TIMEOUT)
        s.connect((host, int(port)))
        return s
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(TIMEOUT)
    s.connect(path)
    return s


def count_requests(data):
    """Requests end with an empty line."""
    n = 0
    for i in range(len(data) - 1):
        if data[i] == 0x0A and data[i + 1] == 0x0A:
            n += 1
    return n


def read_replies(s, n):
    """Read exactly n replies ('...\\n\\n'); fail on EOF or timeout."""
    buf = b""
    deadline = time.monotonic() + TIMEOUT
    while buf.count(b"\n\n") < n:
        left = deadline - time.monotonic()
        if left <= 0:
            fail("timeout waiting for %d replies, got %r" % (n, buf))
        s.settimeout(left)
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            fail("timeout waiting for %d replies, got %r" % (n, buf))
        if not chunk:
            fail("connection closed after %r" % buf)
        buf += chunk
    return buf


def recv_until(s, deadline, what, got):
    """The next bytes before deadline; b"" when the daemon closed (or reset).
    On timeout: fail, saying what was awaited and what came so far."""
    left = deadline - time.monotonic()
    if left <= 0:
        fail("%s, got %r" % (what, got))
    s.settimeout(left)
    try:
        return s.recv(65536)
    except socket.timeout:
        fail("%s, got %r" % (what, got))
    except ConnectionResetError:
        return b""


def expect_closed(s):
    """The daemon must close without sending anything."""
    got = b""
    deadline = time.monotonic() + TIMEOUT
    while True:
        chunk = recv_until(s, deadline, "connection still open", got)
        if not chunk:
            break
        got += chunk
    if got:
        fail("expected no reply, got %r" % got)


def send_all(s, data, chunk=0):
    try:
        if chunk <= 0:
            s.sendall(data)
            return
        for i in range(0, len(data), chunk):
            s.sendall(data[i:i + chunk])
            time.sleep(0.002)  # let the daemon see each piece on its own
    except (BrokenPipeError, ConnectionResetError):
        pass  # the daemon may close before it has read everything


def request(lines):
    return ("\n".join(lines) + "\n\n").encode()


def build(kind, size):
    if kind == "line":
        return request(BASE + ["x_pad=" + "a" * (size - len("x_pad="))])
    if kind == "name":
        return request(BASE + ["n" * size + "=v"])
    if kind == "attrs":
        return request(BASE + ["x_a%d=1" % i for i in range(size - len(BASE))])
    if kind == "instance":
        lines = [l for l in BASE if not l.startswith("instance=")]
        return request(lines + ["instance=" + "i" * size])
    if kind == "request":
        base = request(BASE)
        extra = size - len(base)
        pad = []
        while extra > 0:
            take = min(extra, 2000)
            if 0 < extra - take < 5:  # leave room for one more "x_p=\n"
                take -= 5
            pad.append("x_p=" + "a" * (take - 5))  # "x_p=" + value + "\n"
            extra -= take
        data = request(BASE + pad)
        assert len(data) == size, (len(data), size)
        return data
    fail("unknown limit kind " + kind)
    return b""


def check_over(path, bad):
    """bad is refused; an older connection is not disturbed."""
    good = request(BASE)
    a = connect(path)
    send_all(a, good)
    first = read_replies(a, 1)
    b = connect(path)
    send_all(b, bad)
    expect_closed(b)
    send_all(a, good)
    second = read_replies(a, 1)
    a.close()
    if first != BASE_REPLY or second != BASE_REPLY:
        fail("older connection got %r then %r" % (first, second))
    print("closed without reply; older connection still answered")


def mode_send(path, args):
    with open(args[0], "rb") as f:
        data = f.read()
    s = connect(path)
    send_all(s, data, int(args[1]) if len(args) > 1 else 0)
    sys.stdout.write(read_replies(s, count_requests(data)).decode(errors="replace"))
    s.close()


def mode_limit(path, args):
    kind, size, want = args[0], int(args[1]), args[2]
    data = build(kind, size)
    if want == "fits":
        s = connect(path)
        send_all(s, data)
        got = read_replies(s, 1)
        s.close()
        if got != BASE_REPLY:
            fail("unexpected reply %r" % got)
        sys.stdout.write(got.decode())
    else:
        check_over(path, data)


def mode_bad(path, args):
    with open(args[0], "rb") as f:
        check_over(path, f.read())


def answered_conns(path, n, data, then=b""):
    """n connections, opened in turn, each answered once, then sent `then`."""
    conns = []
    for _ in range(n):
        s = connect(path)
        send_all(s, data)
        read_replies(s, 1)
        if then:
            send_all(s, then)
        conns.append(s)
        time.sleep(0.01)
    return conns


def mode_cap(path, args):
    n = int(args[0])
    with open(args[1], "rb") as f:
        data = f.read()
    conns = answered_conns(path, n, data, data[:10])  # a request begun: not idle
    time.sleep(0.2)  # let the daemon see every begun request
    extra = connect(path)
    send_all(extra, data)
    expect_closed(extra)
    for s in conns:
        send_all(s, data[10:])
        read_replies(s, 1)
        s.close()
    print("%d connections served, connection %d closed unanswered" % (n, n + 1))


def mode_evict(path, args):
    n = int(args[0])
    with open(args[1], "rb") as f:
        data = f.read()
    conns = answered_conns(path, n, data)
    extra = connect(path)
    send_all(extra, data)
    read_replies(extra, 1)
    expect_closed(conns[0])
    for s in conns[1:] + [extra]:
        send_all(s, data)
        read_replies(s, 1)
        s.close()
    print("connection %d served, the one idle the longest closed, %d others served"
          % (n + 1, n - 1))


def mode_refuse(path, args):
    n, log, batches = int(args[0]), args[1], [int(a) for a in args[2:-1]]
    with open(args[-1], "rb") as f:
        data = f.read()
    conns = []
    for _ in range(n):
        s = connect(path)
        send_all(s, data[:10])
        conns.append(s)
    time.sleep(0.2)
    for b, m in enumerate(batches):
        if b > 0:  # the previous batch's count is logged before this one
            want = ("refused %d connection(s)" % batches[b - 1]).encode()
            deadline = time.monotonic() + TIMEOUT
            while True:
                with open(log, "rb") as f:
                    if want in f.read():
                        break
                if time.monotonic() > deadline:
                    fail("log never showed %r" % want)
                time.sleep(0.05)
        for _ in range(m):
            s = connect(path)
            send_all(s, data)
            expect_closed(s)
            s.close()
    print("%d busy connections, %s more closed unanswered" % (n, "+".join(args[2:-1])))
    sys.stdout.flush()
    # Keep the busy ones open until the caller stops the daemon.
    for s in conns:
        recv_until(s, time.monotonic() + TIMEOUT * 3, "busy connection kept open", b"")


class Trickler:
    """Sockets that each get one more byte of data every 0.5 s."""

    def __init__(self, data):
        import threading
        self.data, self.socks, self.closed = data, [], {}
        self.lock = threading.Lock()
        self.stop = False
        self.thread = threading.Thread(target=self.run, daemon=True)

    def add(self, s):
        with self.lock:
            self.socks.append([s, 0])

    def run(self):
        while not self.stop:
            with self.lock:
                for e in self.socks:
                    s, i = e
                    if s in self.closed or i >= len(self.data) - 1:
                        continue
                    try:
                        s.send(self.data[i:i + 1])
                        e[1] = i + 1
                    except OSError:
                        self.closed[s] = time.monotonic()
            time.sleep(0.5)


def mode_deadline(path, args):
    with open(args[0], "rb") as f:
        data = f.read()
    s = connect(path)
    t = Trickler(data)
    start = time.monotonic()
    t.add(s)
    t.thread.start()
    expect_closed(s)
    took = time.monotonic() - start
    t.stop = True
    print("%.1f" % took)


def mode_slots(path, args):
    n = int(args[0])
    with open(args[1], "rb") as f:
        data = f.read()
    t = Trickler(data)
    t.thread.start()
    idle = []
    for i in range(n):
        s = connect(path)
        if i % 2:
            send_all(s, data)
            read_replies(s, 1)
            idle.append(s)
        else:
            t.add(s)
    time.sleep(1.0)  # every trickler has begun its request
    start = time.monotonic()
    s = connect(path)
    send_all(s, data)
    got = read_replies(s, 1)
    took = time.monotonic() - start
    t.stop = True
    if got != BASE_REPLY and not got.startswith(b"action="):
        fail("unexpected reply %r" % got)
    print("%.2f" % took)


def reply_or_closed(s):
    """One full reply (True) or a close with nothing sent (False)."""
    got = b""
    deadline = time.monotonic() + TIMEOUT
    while not got.endswith(b"\n\n"):
        chunk = recv_until(s, deadline, "neither a reply nor a close", got)
        if not chunk:
            if got:
                fail("closed in the middle of a reply: %r" % got)
            return False
        got += chunk
    return True


def mode_nofile(path, args):
    """Open n connections, one request each, keeping them open with the next
    request begun (so none is idle): the daemon serves them until it runs out
    of descriptors, then closes new ones unanswered; the served ones keep
    working, and once they close a new connection is served again."""
    n = int(args[0])
    with open(args[1], "rb") as f:
        data = f.read()
    served, refused = [], 0
    for _ in range(n):
        s = connect(path)
        send_all(s, data)
        if reply_or_closed(s):
            if refused:
                fail("connection served after one was refused, with none closed")
            send_all(s, data[:10])
            served.append(s)
        else:
            refused += 1
            s.close()
    if not served:
        fail("no connection was served")
    if not refused:
        fail("all %d connections served: the open-file limit was never reached" % n)
    for s in served:
        send_all(s, data[10:])
        read_replies(s, 1)
        s.close()
    # The daemon frees a descriptor when it sees our close: poll, bounded.
    deadline = time.monotonic() + TIMEOUT
    while True:
        s = connect(path)
        send_all(s, data)
        ok = reply_or_closed(s)
        s.close()
        if ok:
            break
        refused += 1
        if time.monotonic() > deadline:
            fail("still refused after every connection closed")
        time.sleep(0.05)
    print("%d connections served, %d closed unanswered when out of descriptors (refused=%d), "
          "served again once they closed" % (len(served), refused, refused))


def mode_nofile_evict(path, args):
    """Open n connections in turn, each answered once and then idle: when the
    daemon runs out of descriptors it closes the one idle the longest to make
    room, so every newcomer is answered; the closed ones are the oldest, in
    order, and the rest still serve."""
    n = int(args[0])
    with open(args[1], "rb") as f:
        data = f.read()
    conns = []
    for i in range(n):
        s = connect(path)
        send_all(s, data)
        if not reply_or_closed(s):
            fail("connection %d closed unanswered with idle connections to close" % (i + 1))
        conns.append(s)
    closed = []
    for s in conns:
        try:
            closed.append(s.recv(1, socket.MSG_DONTWAIT) == b"")
        except (BlockingIOError, TimeoutError):  # open: nothing to read
            closed.append(False)
    k = sum(closed)
    if k == 0:
        fail("no connection closed: the open-file limit was never reached")
    if closed != [True] * k + [False] * (n - k):
        fail("the closed connections are not the oldest ones: %r" % closed)
    for s in conns[k:]:
        send_all(s, data)
        read_replies(s, 1)
    for s in conns:
        s.close()
    print("%d connections served, the %d idle the longest closed to make room (evicted=%d)"
          % (n, k, k))


def mode_idle(path, args):
    clockfile, seconds = args[0], args[1]
    with open(args[2], "rb") as f:
        data = f.read()
    a = connect(path)
    send_all(a, data)
    read_replies(a, 1)
    with open(clockfile, "w") as f:
        f.write(seconds + "\n")
    b = connect(path)
    send_all(b, data)
    read_replies(b, 1)  # B's activity wakes the loop, which sweeps
    expect_closed(a)
    send_all(b, data)
    read_replies(b, 1)
    b.close()
    print("idle connection closed, active one kept")


def mode_flood(path, args):
    import select
    n = int(args[0])
    reqs = []
    for i in range(n):
        port = "10025" if i % 2 else "10587"
        reqs.append(request([l if not l.startswith("server_port=") else "server_port=" + port
                             for l in BASE if not l.startswith("instance=")] +
                            ["instance=f%d" % i]))
    data = b"".join(reqs)
    s = connect(path)
    s.setblocking(False)
    sent = 0
    deadline = time.monotonic() + TIMEOUT
    # Write without reading until the daemon stops reading (backpressure).
    while sent < len(data):
        _, w, _ = select.select([], [s], [], 0.5)
        if not w:
            break  # blocked: the daemon no longer reads
        try:
            sent += s.send(data[sent:])
        except BlockingIOError:
            pass
        if time.monotonic() > deadline:
            break
    if sent >= len(data):
        fail("all %d bytes were taken without reading a reply: no backpressure" % len(data))
    other = connect(path)
    send_all(other, request(BASE))
    if read_replies(other, 1) != BASE_REPLY:
        fail("another connection was not served during the flood")
    other.close()
    # Now read everything while writing the rest.
    got = b""
    deadline = time.monotonic() + TIMEOUT * 3
    while got.count(b"\n\n") < n:
        if time.monotonic() > deadline:
            fail("timeout: %d of %d replies" % (got.count(b"\n\n"), n))
        r, w, _ = select.select([s], [s] if sent < len(data) else [], [], 1.0)
        if r:
            chunk = s.recv(65536)
            if not chunk:
                fail("closed after %d replies" % got.count(b"\n\n"))
            got += chunk
        if w:
            try:
                sent += s.send(data[sent:])
            except BlockingIOError:
                pass
    s.close()
    relay = b"action=554 5.7.1 Relay access denied\n\n"
    expect = b"".join(BASE_REPLY if i % 2 == 0 else relay for i in range(n))
    if got != expect:
        fail("replies out of order or wrong")
    print("%d pipelined requests answered in order under backpressure" % n)


def mode_script(path, steps):
    s = connect(path)
    log, mark = None, 0
    for step in steps:
        op, _, arg = step.partition(":")
        if op == "send":
            with open(arg, "rb") as f:
                data = f.read()
            send_all(s, data)
            sys.stdout.write(read_replies(s, count_requests(data)).decode(errors="replace"))
        elif op == "copy":
            src, dst = arg.split(":", 1)
            shutil.copyfile(src, dst)
        elif op == "mark":
            log, mark = arg, os.path.getsize(arg)
        elif op == "kill":
            sig, pid = arg.split(":", 1)
            os.kill(int(pid), getattr(signal, sig))
        elif op == "wait":
            deadline = time.monotonic() + TIMEOUT
            while True:
                with open(log, "rb") as f:
                    f.seek(mark)
                    if arg.encode() in f.read():
                        break
                if time.monotonic() > deadline:
                    fail("log never showed %r" % arg)
                time.sleep(0.02)
        else:
            fail("unknown step " + step)
    s.close()


def main():
    if len(sys.argv) < 3:
        fail(__doc__)
    path, mode, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    modes = {"send": mode_send, "limit": mode_limit, "bad": mode_bad,
             "cap": mode_cap, "nofile_evict": mode_nofile_evict, "evict": mode_evict, "refuse": mode_refuse,
             "deadline": mode_deadline, "slots": mode_slots, "nofile": mode_nofile, "idle": mode_idle, "flood": mode_flood, "script": mode_script}
    if mode not in modes:
        fail("unknown mode " + mode)
    modes[mode](path, args)


if __name__ == "__main__":
    main()
