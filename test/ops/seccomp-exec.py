"""Runs a command under a seccomp filter the way systemd applies SystemCallFilter= (test helper).

Usage: seccomp-exec.py MODE LISTFILE COMMAND...
  MODE allow: only the syscalls in LISTFILE are allowed, every other one fails with EPERM
              (SystemCallFilter=@group… with SystemCallErrorNumber=EPERM);
  MODE deny:  the syscalls in LISTFILE fail with EPERM, the rest is allowed (SystemCallFilter=~…).
Needs Debian's python3-seccomp (libseccomp). libseccomp sets no_new_privs, as NoNewPrivileges=yes.
"""
import errno
import os
import sys

import seccomp

mode, listfile, cmd = sys.argv[1], sys.argv[2], sys.argv[3:]
names = open(listfile).read().split()
eperm = seccomp.ERRNO(errno.EPERM)
f = seccomp.SyscallFilter(defaction=eperm if mode == "allow" else seccomp.ALLOW)
for name in names:
    try:
        f.add_rule(seccomp.ALLOW if mode == "allow" else eperm, name)
    except Exception:
        pass  # a name this architecture does not have (e.g. the *_time64 calls on x86-64)
f.load()
os.execvp(cmd[0], cmd)
