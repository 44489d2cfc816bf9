/*
 * sandbox_exec: runs a program under the seccomp part of edgemeter.service's sandbox, as systemd 252 builds it,
 * for hosts where systemd is not PID 1 (CI containers).
 *
 *   sandbox_exec SYSCALLS_FILE PROGRAM [ARGS...]
 *   sandbox_exec SYSCALLS_FILE --self-test
 *
 * SYSCALLS_FILE lists the allowed system calls, one name a line (the test expands SystemCallFilter= with
 * `systemd-analyze syscall-filter`). Every other system call fails with EPERM (SystemCallErrorNumber=EPERM).
 * On top, as systemd does:
 *   MemoryDenyWriteExecute=yes      mmap with PROT_WRITE|PROT_EXEC, mprotect/pkey_mprotect with PROT_EXEC and
 *                                   shmat with SHM_EXEC fail with EPERM;
 *   RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK   socket() of any other family fails with
 *                                   EAFNOSUPPORT;
 *   NoNewPrivileges=yes             (needed to load a filter without CAP_SYS_ADMIN).
 * --self-test checks that the filter bites: a writable and executable mapping and an AF_PACKET socket must fail.
 */
#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

static void die(const char *what, int rc)
{
    fprintf(stderr, "sandbox_exec: %s: %s\n", what, strerror(rc < 0 ? -rc : rc));
    exit(125);
}

static void load(const char *list)
{
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
    if (!ctx) die("seccomp_init", ENOMEM);
    FILE *f = fopen(list, "r");
    if (!f) die(list, errno);
    char name[128];
    int rc;
    while (fscanf(f, "%127s", name) == 1) {
        int nr = seccomp_syscall_resolve_name(name);
        if (nr == __NR_SCMP_ERROR) continue; /* not a system call on this architecture (e.g. arm_fadvise64_64) */
        if (strcmp(name, "mmap") == 0 || strcmp(name, "mmap2") == 0) {
            rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1, SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_WRITE | PROT_EXEC, PROT_WRITE));
            if (rc == 0) rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1, SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_WRITE | PROT_EXEC, PROT_EXEC));
            if (rc == 0) rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1, SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_WRITE | PROT_EXEC, 0));
        } else if (strcmp(name, "mprotect") == 0 || strcmp(name, "pkey_mprotect") == 0) {
            rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1, SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
        } else if (strcmp(name, "shmat") == 0) {
            rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1, SCMP_A2(SCMP_CMP_MASKED_EQ, SHM_EXEC, 0));
        } else if (strcmp(name, "socket") == 0) {
            static const int families[] = { AF_UNIX, AF_INET, AF_INET6, AF_NETLINK };
            rc = 0;
            for (size_t i = 0; rc == 0 && i < sizeof families / sizeof families[0]; i++)
                rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1, SCMP_A0(SCMP_CMP_EQ, families[i]));
            /* Any other family: EAFNOSUPPORT, as RestrictAddressFamilies= answers. */
            if (rc == 0) rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EAFNOSUPPORT), nr, 1, SCMP_A0(SCMP_CMP_GT, AF_NETLINK));
            if (rc == 0) rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EAFNOSUPPORT), nr, 1, SCMP_A0(SCMP_CMP_LT, AF_NETLINK));
        } else {
            rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
        }
        if (rc < 0) die(name, rc);
    }
    fclose(f);
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) die("PR_SET_NO_NEW_PRIVS", errno);
    rc = seccomp_load(ctx);
    if (rc < 0) die("seccomp_load", rc);
    seccomp_release(ctx);
}

static int self_test(void)
{
    void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p != MAP_FAILED || errno != EPERM) { fprintf(stderr, "self-test: W+X mmap was not refused\n"); return 1; }
    p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) { fprintf(stderr, "self-test: plain mmap refused\n"); return 1; }
    if (mprotect(p, 4096, PROT_READ | PROT_EXEC) == 0 || errno != EPERM) { fprintf(stderr, "self-test: mprotect +X was not refused\n"); return 1; }
    if (socket(AF_PACKET, SOCK_RAW, 0) >= 0 || errno != EAFNOSUPPORT) { fprintf(stderr, "self-test: AF_PACKET was not refused\n"); return 1; }
    int s = socket(AF_NETLINK, SOCK_RAW, 0);
    if (s < 0) { fprintf(stderr, "self-test: AF_NETLINK refused\n"); return 1; }
    close(s);
    /* swapoff is in @privileged: unfiltered it would answer ENOENT for a path that does not exist. */
    if (syscall(SYS_swapoff, "/nonexistent-swap") == 0 || errno != EPERM) { fprintf(stderr, "self-test: swapoff was not refused\n"); return 1; }
    puts("filter holds");
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3) { fprintf(stderr, "usage: %s SYSCALLS_FILE PROGRAM [ARGS...] | --self-test\n", argv[0]); return 2; }
    load(argv[1]);
    if (strcmp(argv[2], "--self-test") == 0) return self_test();
    execv(argv[2], argv + 2);
    die(argv[2], errno);
    return 125;
}
