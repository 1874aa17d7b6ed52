#!/usr/bin/env python3
"""Telemetry fixtures for the `agentgatectl log` tests and bench/log.

Writes folders of hash-chained egress-STREAM.jsonl files exactly as
docs/telemetry.md describes (written here, independently of the C reader),
computes what a query must print with a reference implementation, and
tampers with copies, printing where verify must report the break.

  logfix.py gen DIR                       small fixed fixture (tests)
  logfix.py bench DIR N                   N events, a few streams, rotated
  logfix.py expect DIR [--task ID] [--outcome O] [--domain D] [--dst CIDR]
                       [--port N] [--event K] [--since T] [--until T]
  logfix.py summary DIR [--by task] [filters]
  logfix.py tamper DIR MODE                prints "file:line"
"""
import datetime
import hashlib
import ipaddress
import json
import os
import random
import sys

ZERO = "0" * 64


def ts(us):
    d = datetime.datetime(1970, 1, 1) + datetime.timedelta(microseconds=us)
    return d.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_ts(s):
    if s.endswith("Z"):
        s = s[:-1] + "+00:00"
    d = datetime.datetime.fromisoformat(s)
    if d.tzinfo is None:
        d = d.replace(tzinfo=datetime.timezone.utc)
    e = d - datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
    return (e.days * 86400 + e.seconds) * 1000000 + e.microseconds


def dumps(o):
    return json.dumps(o, separators=(",", ":"), ensure_ascii=False)


class Stream:
    def __init__(self, d, name, rotate_every):
        self.dir, self.name, self.rotate_every = d, name, rotate_every
        self.seq, self.prev, self.nfile, self.inf = 0, ZERO, 0, 0
        self.files, self.f, self.last_us = [], None, 0

    def _line(self, us, ev):
        self.seq += 1
        o = {"@timestamp": ts(us)}
        o.update(ev)
        o.setdefault("event", {}).setdefault("kind", "event")
        o["agentgate"] = dict(o.get("agentgate", {}), stream=self.name,
                              seq=self.seq, prev_hash=self.prev)
        o["service"] = {"name": "agentgate-" + self.name}
        o["host"] = {"hostname": "gw1"}
        line = dumps(o).encode()
        self.prev = hashlib.sha256(line).hexdigest()
        self.f.write(line + b"\n")
        self.inf += 1

    def _open(self, us):
        prev = None
        if self.f is not None:
            self.f.close()
            # Rotation renames the active file; the name says when.
            self.nfile += 1
            rot = "egress-%s.jsonl.%s-%d" % (
                self.name, datetime.datetime.utcfromtimestamp(
                    us / 1e6).strftime("%Y%m%dT%H%M%SZ"), self.nfile)
            os.rename(self.active(), os.path.join(self.dir, rot))
            self.files[-1] = rot
            prev = rot
        self.f = open(self.active(), "wb")
        self.files.append(os.path.basename(self.active()))
        self.inf = 0
        lg = {"reason": "rotate" if prev else "start"}
        if prev:
            lg["previous_file"] = prev
        self._line(us, {"event": {"action": "log-opened",
                                  "category": ["configuration"],
                                  "type": ["info"], "outcome": "success"},
                        "agentgate": {"log": lg}})

    def active(self):
        return os.path.join(self.dir, "egress-%s.jsonl" % self.name)

    def emit(self, us, ev):
        us = max(us, self.last_us)
        self.last_us = us
        if self.f is None or (self.rotate_every and
                              self.inf >= self.rotate_every):
            self._open(us)
        self._line(us, ev)

    def close(self):
        if self.f is not None:
            self.f.close()


def egress(task, outcome, name, ip, port, rule=None, reason=None,
           sent=None, recv=None, proto="tls"):
    ev = {"event": {"action": "egress", "category": ["network"],
                    "type": ["connection", "allowed" if outcome == "allowed"
                             else "denied"],
                    "outcome": "success" if outcome == "allowed"
                    else "failure"},
          "agentgate": {"outcome": outcome, "task": {"id": task},
                        "verdict": {"allowed": "allow", "denied": "deny",
                                    "pending": "ask"}[outcome]},
          "destination": {"ip": ip, "port": port},
          "network": {"transport": "tcp", "protocol": proto,
                      "direction": "egress"}}
    if name is not None:
        ev["destination"]["domain"] = name
        ev["tls"] = {"client": {"server_name": name}}
    if rule:
        ev["agentgate"]["rule"] = {"file": rule[0], "line": rule[1],
                                   "text": rule[2]}
    if reason:
        ev["event"]["reason"] = reason
    if sent is not None:
        ev["source"] = {"ip": "198.18.1.2", "port": 40000, "bytes": sent}
        ev["destination"]["bytes"] = recv
    return ev


def simple(action, task=None, **extra):
    ev = {"event": {"action": action, "category": ["process"],
                    "type": ["info"], "outcome": "success"},
          "agentgate": {}}
    if task:
        ev["agentgate"]["task"] = {"id": task}
    for k, v in extra.items():
        if k == "agentgate":
            ev["agentgate"].update(v)
        else:
            ev[k] = v
    return ev


T0 = parse_ts("2026-11-27T10:00:00Z")
RULES = "/etc/agentgate/policies/dev.rules"


def gen(d):
    """The test fixture: 3 streams, rotated every 4 lines, 2 tasks."""
    os.makedirs(d, exist_ok=True)
    st = {n: Stream(d, n, 4) for n in ("proxy", "nfq", "run")}
    m = 60 * 1000000
    evs = [
        (0, "run", simple("task-started", "t1", agentgate={
            "policy": "dev"}, process={"pid": 4242,
                                       "command_line": "make test | tee x"})),
        (1, "proxy", egress("t1", "allowed", "pypi.org", "198.18.0.10", 443,
                            (RULES, 3, "allow pypi.org"), None, 1200, 54000)),
        (2, "proxy", egress("t1", "denied", "evil.example.test",
                            "198.18.0.66", 443, None, "no rule matches")),
        (3, "nfq", egress("t1", "denied", None, "fd00::66", 53, None,
                          "udp to a non-gateway resolver")),
        (4, "proxy", egress("t1", "allowed", "files.pythonhosted.org",
                            "198.18.0.11", 443, (RULES, 4, "allow "
                            "*.pythonhosted.org"), None, 800, 1200000)),
        (m + 5, "proxy", egress("t1", "denied", "a.b.example.test",
                                "198.18.0.67", 80, (RULES, 9,
                                "deny *.example.test"), "rule denies")),
        (m + 6, "proxy", egress("t1", "pending", "new.example.org",
                                "198.18.0.70", 443, (RULES, 7,
                                "ask *.example.org"), "waiting")),
        (m + 7, "proxy", simple("approval-requested", "t1", agentgate={
            "outcome": "pending", "approval": {"id": "ap-1",
                                               "scope": "task"}},
            destination={"domain": "new.example.org"})),
        (m + 8, "proxy", simple("approval-decided", "t1", agentgate={
            "outcome": "allowed", "approval": {"id": "ap-1",
                                               "scope": "task",
                                               "decider": "alice"}},
            destination={"domain": "new.example.org"})),
        (m + 9, "proxy", egress("t1", "allowed", "new.example.org",
                                "198.18.0.70", 443, (RULES, 7,
                                "ask *.example.org"), None, 10, 20)),
        (2 * m, "proxy", egress("t2", "denied", "example.test",
                                "198.18.0.68", 443, None, "no rule matches")),
        (2 * m + 1, "proxy", egress("t2", "denied",
                                    "x.notexample.test", "198.18.0.69", 443,
                                    None, "no rule matches")),
        (2 * m + 2, "proxy", egress("t2", "denied", "evil.example.test",
                                    "198.18.0.66", 443, None,
                                    "evil\x1b[31m red\r\n\x07<b>&\"'")),
        (2 * m + 3, "nfq", egress("t2", "denied", None, "198.18.5.5", 22,
                                  None, "no rule, port 22")),
        (2 * m + 4, "proxy", egress("t2", "allowed", "pypi.org",
                                    "198.18.0.10", 443, (RULES, 3,
                                    "allow pypi.org"), None, 5, 6)),
        (3 * m, "run", simple("task-ended", "t1", process={
            "pid": 4242, "exit_code": 3})),
        (3 * m + 1, "nfq", egress("t1", "denied", "Deep.Sub.Example.Test",
                                  "198.18.0.71", 443, None, "no rule")),
    ]
    for off, name, ev in evs:
        st[name].emit(T0 + off, ev)
    for s in st.values():
        s.close()


NAMES = ["pypi.org", "files.pythonhosted.org", "github.com",
         "codeload.github.com", "registry.npmjs.org", "deb.debian.org",
         "a.example.test", "b.example.test", "x.y.example.test",
         "example.test", "evil.example.org", "crates.io", "index.crates.io",
         "proxy.golang.org", "sum.golang.org"]


def bench(d, n):
    """n events of a realistic mix, 3 streams, rotated into many files."""
    os.makedirs(d, exist_ok=True)
    rnd = random.Random(7)
    st = {s: Stream(d, s, 80000) for s in ("proxy", "nfq", "run")}
    tasks = ["task-%03d" % i for i in range(50)]
    us = T0
    for i in range(n):
        us += rnd.randrange(1, 2000)
        r = rnd.random()
        t = rnd.choice(tasks)
        if r < 0.01:
            st["run"].emit(us, simple("task-started" if r < 0.005
                                      else "task-ended", t))
            continue
        name = rnd.choice(NAMES)
        out = "denied" if rnd.random() < 0.3 else "allowed"
        ip = "198.18.%d.%d" % (rnd.randrange(256), rnd.randrange(1, 255))
        ev = egress(t, out, name, ip, rnd.choice((443, 443, 80)),
                    (RULES, rnd.randrange(1, 40), "allow " + name)
                    if out == "allowed" else None,
                    None if out == "allowed" else "no rule matches",
                    rnd.randrange(100, 5000), rnd.randrange(100, 900000))
        ev["process"] = {"pid": rnd.randrange(100, 60000), "name": "curl"}
        ev["trace"] = {"id": "%032x" % rnd.getrandbits(128)}
        st["nfq" if r < 0.15 else "proxy"].emit(us, ev)
    for s in st.values():
        s.close()


def read_all(d):
    recs = []
    for fn in sorted(os.listdir(d)):
        if not fn.startswith("egress-") or ".jsonl" not in fn \
                or fn.endswith(".gz"):
            continue
        with open(os.path.join(d, fn), "rb") as f:
            for raw in f.read().split(b"\n"):
                if not raw:
                    continue
                try:
                    o = json.loads(raw)
                except ValueError:
                    continue
                ag = o.get("agentgate", {})
                recs.append((parse_ts(o["@timestamp"]), ag.get("stream"),
                             ag.get("seq"), raw, o))
    recs.sort(key=lambda r: (r[0], r[1], r[2]))
    return recs


def get(o, path):
    for k in path.split("."):
        if not isinstance(o, dict) or k not in o:
            return None
        o = o[k]
    return o


def name_of(o):
    for p in ("destination.domain", "dns.question.name",
              "tls.client.server_name", "url.domain"):
        v = get(o, p)
        if isinstance(v, str):
            return v
    return None


def matches(o, us, a):
    if a.get("task") and get(o, "agentgate.task.id") != a["task"]:
        return False
    if a.get("outcome") and get(o, "agentgate.outcome") != a["outcome"]:
        return False
    if a.get("event") and get(o, "event.action") != a["event"]:
        return False
    if a.get("port") and get(o, "destination.port") != int(a["port"]):
        return False
    if a.get("since") and us < parse_ts(a["since"]):
        return False
    if a.get("until") and us >= parse_ts(a["until"]):
        return False
    if a.get("dst"):
        ip = get(o, "destination.ip")
        if ip is None or ipaddress.ip_address(ip) not in \
                ipaddress.ip_network(a["dst"]):
            return False
    if a.get("domain"):
        n = (name_of(o) or "").lower().rstrip(".")
        p = a["domain"].lower()
        if p.startswith("*."):
            if not n.endswith(p[1:]) or n == p[2:]:
                return False
        elif n != p:
            return False
    return True


def opts(argv):
    a = {}
    for i in range(0, len(argv), 2):
        a[argv[i][2:]] = argv[i + 1]
    return a


def tamper(d, mode):
    """Damage the proxy stream; print where verify must point."""
    files = sorted((f for f in os.listdir(d)
                    if f.startswith("egress-proxy.jsonl")),
                   key=lambda f: json.loads(open(os.path.join(d, f), "rb")
                                            .readline())["agentgate"]["seq"])
    mid = os.path.join(d, files[1])
    with open(mid, "rb") as f:
        lines = f.read().split(b"\n")[:-1]
    where = mid
    if mode == "edit":		# line 2 edited: caught at line 3
        lines[1] = lines[1].replace(b'"gw1"', b'"gw2"')
        where += ":2"
    elif mode == "edit-last":	# last line of a file: caught in the next
        lines[-1] = lines[-1].replace(b'"gw1"', b'"gw2"')
        where += ":%d" % len(lines)
    elif mode == "delete":
        del lines[2]
        where += ":3"
    elif mode == "insert":	# a forged line that chains correctly
        o = json.loads(lines[1])
        o["destination"]["domain"] = "forged.example"
        o["agentgate"]["seq"] += 1
        o["agentgate"]["prev_hash"] = hashlib.sha256(lines[1]).hexdigest()
        lines.insert(2, dumps(o).encode())
        where += ":3"
    elif mode == "insert-junk":
        lines.insert(2, lines[0])
        where += ":3"
    elif mode == "swap":
        lines[1], lines[2] = lines[2], lines[1]
        where += ":2"
    elif mode == "rmfile":
        os.unlink(mid)
        print(os.path.join(d, files[2]) + ":1")
        return
    elif mode == "truncate":	# the tail of a middle file cut off
        lines = lines[:-1]
        with open(mid, "wb") as f:
            f.write(b"\n".join(lines) + b"\n" + lines[-1][:20])
        print(mid + ":%d" % (len(lines) + 1))
        return
    elif mode == "nonjson":
        lines[2] = b"this is not json"
        where += ":3"
    else:
        sys.exit("unknown mode " + mode)
    with open(mid, "wb") as f:
        f.write(b"\n".join(lines) + b"\n")
    print(where)


def main():
    cmd, d = sys.argv[1], sys.argv[2]
    if cmd == "gen":
        gen(d)
    elif cmd == "bench":
        bench(d, int(sys.argv[3]))
    elif cmd == "tamper":
        tamper(d, sys.argv[3])
    elif cmd == "expect":
        a = opts(sys.argv[3:])
        out = sys.stdout.buffer
        for us, _, _, raw, o in read_all(d):
            if matches(o, us, a):
                out.write(raw + b"\n")
    elif cmd == "summary":
        a = opts(sys.argv[3:])
        by = a.pop("by", None)
        counts = {}
        for us, _, _, raw, o in read_all(d):
            if not matches(o, us, a):
                continue
            if not a.get("event") and get(o, "event.action") != "egress":
                continue
            k1 = (get(o, "agentgate.task.id") if by == "task" else
                  (name_of(o) or get(o, "destination.ip"))) or "-"
            k = (k1, get(o, "agentgate.outcome") or "-")
            counts[k] = counts.get(k, 0) + 1
        print("%8s  %-8s  %s" % ("COUNT", "OUTCOME",
                                 "TASK" if by == "task" else "DESTINATION"))
        for (k1, k2), c in sorted(counts.items(),
                                  key=lambda kv: (-kv[1], kv[0][0],
                                                  kv[0][1])):
            print("%8d  %-8s  %s" % (c, k2, k1))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
