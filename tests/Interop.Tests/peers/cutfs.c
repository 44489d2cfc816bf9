/*
 * cutfs: a FUSE file system that loses power on command.
 *
 *   cutfs BACKING MOUNTPOINT [SEED]
 *
 * BACKING is the medium: at mount its tree is loaded as both the durable and the current state, and after every
 * sync the durable state is written back to it, so BACKING always holds what the medium would hold after a power
 * cut now. Everything else lives in memory:
 *
 *   - a file's contents, size and mode become durable at fsync/fdatasync of that file (the inode, not a name);
 *   - a directory's entries (create, mkdir, link, rename, unlink, rmdir) become durable at an fsync of that
 *     directory (strict POSIX: nothing else makes a name durable, not even an fsync of the file itself).
 *
 * Writing "cut" to MOUNTPOINT/.cutfs (hidden from listings) is the power cut: every file's contents and mode
 * revert to their durable state, every directory's entries to its durable entries (so files and directories whose
 * names were never made durable disappear), and a random page-granular prefix of the last write that was not
 * synced (possibly none, possibly all of it) survives on the medium: a torn write. Reading MOUNTPOINT/.cutfs gives
 * counters: "cuts N syncs N dirsyncs N torn N dropped N" (dropped: files and directories whose unsynced contents or
 * entries a cut threw away, counted once per cut). Writing "hold NAME" arms a cut in the middle of a sync: the next
 * fsync of a file last named NAME prints HELD on standard output and waits for a line "cut" on standard input (at
 * most 120 s), then cuts without that sync (the caller gets EIO, if it is still alive). The kernel keeps nothing
 * cached (direct I/O, zero timeouts), so the mount shows exactly the medium after a cut. Runs single-threaded in the
 * foreground; prints READY when mounted. Hard links are supported (entries point at nodes); symbolic links, xattrs and locks are not.
 */
#define _GNU_SOURCE
#define FUSE_USE_VERSION 31
#include <fuse.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096
#define CONTROL "/.cutfs"
#define CONTROL_FH ((uint64_t)1) /* the control file's handle: never a node's address */

typedef struct node node;

typedef struct {
    char *name;
    node *n;
} entry;

typedef struct {
    entry *e;
    size_t len, cap;
} entries;

typedef struct {
    unsigned char *p;
    size_t len, cap;
} bytes;

struct node {
    int is_dir;
    mode_t mode, dmode;       /* permission bits: current, durable */
    bytes data, ddata;        /* a file's contents: current, durable */
    entries cur, dur;         /* a directory's entries: current, durable */
    struct timespec mtime;
    long dgen;                /* bumped at each sync of the file */
    long mgen;                /* the dgen last written to the backing directory */
    char *mpath;              /* where it was written */
    char *name;               /* its latest name, for "hold" */
    node *all;                /* every node ever made, for the cut */
};

static node *root, *all_nodes;
static const char *backing;
static unsigned int seed;
static long cuts, syncs, dirsyncs, torn, dropped;
static char *hold;            /* the name whose next fsync is held until the cut */

/* The last write not yet covered by a sync of its file: the one a cut may tear. */
static struct {
    node *n;
    off_t off;
    unsigned char *p;
    size_t len;
} last;

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) {
        fprintf(stderr, "cutfs: out of memory\n");
        abort();
    }
    return q;
}

static void bytes_resize(bytes *b, size_t len)
{
    if (len > b->cap) {
        size_t cap = b->cap ? b->cap : PAGE;
        while (cap < len)
            cap *= 2;
        b->p = xrealloc(b->p, cap);
        b->cap = cap;
    }
    if (len > b->len)
        memset(b->p + b->len, 0, len - b->len);
    b->len = len;
}

static void bytes_copy(bytes *to, const bytes *from)
{
    bytes_resize(to, 0);
    bytes_resize(to, from->len);
    if (from->len)
        memcpy(to->p, from->p, from->len);
}

static void entries_free(entries *es)
{
    for (size_t i = 0; i < es->len; i++)
        free(es->e[i].name);
    es->len = 0;
}

static void entries_copy(entries *to, const entries *from)
{
    entries_free(to);
    if (from->len > to->cap) {
        to->e = xrealloc(to->e, from->len * sizeof(entry));
        to->cap = from->len;
    }
    for (size_t i = 0; i < from->len; i++) {
        to->e[i].name = strdup(from->e[i].name);
        to->e[i].n = from->e[i].n;
    }
    to->len = from->len;
}

static entry *entries_find(entries *es, const char *name)
{
    for (size_t i = 0; i < es->len; i++)
        if (strcmp(es->e[i].name, name) == 0)
            return &es->e[i];
    return NULL;
}

static void entries_add(entries *es, const char *name, node *n)
{
    if (es->len == es->cap) {
        es->cap = es->cap ? es->cap * 2 : 8;
        es->e = xrealloc(es->e, es->cap * sizeof(entry));
    }
    es->e[es->len].name = strdup(name);
    es->e[es->len].n = n;
    es->len++;
}

static void entries_remove(entries *es, entry *e)
{
    free(e->name);
    *e = es->e[--es->len];
}

static void set_name(node *n, const char *name)
{
    free(n->name);
    n->name = strdup(name);
}

static node *node_new(int is_dir, mode_t mode)
{
    node *n = calloc(1, sizeof(node));
    if (!n)
        abort();
    n->is_dir = is_dir;
    n->mode = n->dmode = mode & 07777;
    n->mgen = -1;
    clock_gettime(CLOCK_REALTIME, &n->mtime);
    n->all = all_nodes;
    all_nodes = n;
    return n;
}

/* The node at an absolute path in the current namespace, or NULL. */
static node *lookup(const char *path)
{
    if (!path)
        return NULL;
    node *n = root;
    char buf[PATH_MAX];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *save = NULL, *part = strtok_r(buf, "/", &save); part; part = strtok_r(NULL, "/", &save)) {
        if (!n->is_dir)
            return NULL;
        entry *e = entries_find(&n->cur, part);
        if (!e)
            return NULL;
        n = e->n;
    }
    return n;
}

/* The parent directory of path and a pointer to its last component (inside path). */
static node *parent_of(const char *path, const char **name)
{
    char buf[PATH_MAX];
    snprintf(buf, sizeof buf, "%s", path);
    char *slash = strrchr(buf, '/');
    *name = strrchr(path, '/') + 1;
    if (slash == buf)
        return root;
    *slash = 0;
    node *p = lookup(buf);
    return p && p->is_dir ? p : NULL;
}

static int is_control(const char *path, struct fuse_file_info *fi)
{
    return fi ? fi->fh == CONTROL_FH : path && strcmp(path, CONTROL) == 0;
}

static node *node_of(const char *path, struct fuse_file_info *fi)
{
    if (is_control(path, fi))
        return NULL;
    return fi && fi->fh ? (node *)(uintptr_t)fi->fh : lookup(path);
}

/* ---- the medium: BACKING always holds the durable tree ---- */

static void remove_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        if (d) {
            struct dirent *de;
            char child[PATH_MAX];
            while ((de = readdir(d))) {
                if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                    continue;
                snprintf(child, sizeof child, "%s/%s", path, de->d_name);
                remove_tree(child);
            }
            closedir(d);
        }
        rmdir(path);
    } else {
        unlink(path);
    }
}

static void mirror_file(node *n, const char *path)
{
    if (n->mgen == n->dgen && n->mpath && strcmp(n->mpath, path) == 0)
        return;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) {
        fprintf(stderr, "cutfs: cannot write %s to the backing directory: %s\n", path, strerror(errno));
        return;
    }
    for (size_t done = 0; done < n->ddata.len;) {
        ssize_t w = write(fd, n->ddata.p + done, n->ddata.len - done);
        if (w <= 0) {
            fprintf(stderr, "cutfs: write to %s failed: %s\n", path, strerror(errno));
            break;
        }
        done += (size_t)w;
    }
    fchmod(fd, n->dmode);
    close(fd);
    n->mgen = n->dgen;
    free(n->mpath);
    n->mpath = strdup(path);
}

static void mirror_dir(node *d, const char *path)
{
    struct stat st;
    if (lstat(path, &st) == 0 && !S_ISDIR(st.st_mode))
        remove_tree(path);
    mkdir(path, 0700);
    chmod(path, d->dmode);
    DIR *dir = opendir(path);
    char child[PATH_MAX];
    if (dir) {
        struct dirent *de;
        while ((de = readdir(dir))) {
            if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                continue;
            entry *e = entries_find(&d->dur, de->d_name);
            if (!e || e->n->is_dir != (de->d_type == DT_DIR)) {
                snprintf(child, sizeof child, "%s/%s", path, de->d_name);
                remove_tree(child);
                if (e)
                    e->n->mgen = -1;
            }
        }
        closedir(dir);
    }
    for (size_t i = 0; i < d->dur.len; i++) {
        snprintf(child, sizeof child, "%s/%s", path, d->dur.e[i].name);
        if (d->dur.e[i].n->is_dir)
            mirror_dir(d->dur.e[i].n, child);
        else
            mirror_file(d->dur.e[i].n, child);
    }
}

static void mirror(void)
{
    mirror_dir(root, backing);
}

static node *load(const char *path, const struct stat *st)
{
    node *n = node_new(S_ISDIR(st->st_mode), st->st_mode);
    n->mtime = st->st_mtim;
    if (n->is_dir) {
        DIR *d = opendir(path);
        struct dirent *de;
        char child[PATH_MAX];
        struct stat cst;
        while (d && (de = readdir(d))) {
            if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                continue;
            snprintf(child, sizeof child, "%s/%s", path, de->d_name);
            if (lstat(child, &cst) != 0 || !(S_ISDIR(cst.st_mode) || S_ISREG(cst.st_mode)))
                continue;
            node *c = load(child, &cst);
            set_name(c, de->d_name);
            entries_add(&n->cur, de->d_name, c);
        }
        if (d)
            closedir(d);
        entries_copy(&n->dur, &n->cur);
    } else {
        int fd = open(path, O_RDONLY);
        bytes_resize(&n->data, (size_t)st->st_size);
        size_t got = 0;
        while (fd >= 0 && got < n->data.len) {
            ssize_t r = read(fd, n->data.p + got, n->data.len - got);
            if (r <= 0)
                break;
            got += (size_t)r;
        }
        if (fd >= 0)
            close(fd);
        bytes_resize(&n->data, got);
        bytes_copy(&n->ddata, &n->data);
        n->mpath = strdup(path);
        n->mgen = n->dgen;
    }
    return n;
}

/* ---- syncs and the cut ---- */

static void sync_file(node *n)
{
    bytes_copy(&n->ddata, &n->data);
    n->dmode = n->mode;
    n->dgen++;
    if (last.n == n)
        last.n = NULL;
    syncs++;
    mirror();
}

static void sync_dir(node *d)
{
    entries_copy(&d->dur, &d->cur);
    d->dmode = d->mode;
    dirsyncs++;
    mirror();
}

static int entries_equal(const entries *a, const entries *b)
{
    if (a->len != b->len)
        return 0;
    for (size_t i = 0; i < a->len; i++) {
        entry *e = entries_find((entries *)b, a->e[i].name);
        if (!e || e->n != a->e[i].n)
            return 0;
    }
    return 1;
}

static void cut(void)
{
    for (node *n = all_nodes; n; n = n->all) {
        if (n->is_dir ? !entries_equal(&n->cur, &n->dur)
                      : n->data.len != n->ddata.len || (n->data.len && memcmp(n->data.p, n->ddata.p, n->data.len) != 0))
            dropped++;
        n->mode = n->dmode;
        if (n->is_dir)
            entries_copy(&n->cur, &n->dur);
        else
            bytes_copy(&n->data, &n->ddata);
    }
    if (last.n) {
        /* The write is cut into pieces at page boundaries of the file; the first k of them reached the medium. */
        size_t pieces = 0;
        for (off_t at = last.off; at < last.off + (off_t)last.len; at = (at / PAGE + 1) * PAGE)
            pieces++;
        size_t k = (size_t)(rand_r(&seed) % (pieces + 1));
        size_t keep = 0;
        off_t at = last.off;
        for (size_t i = 0; i < k; i++) {
            off_t next = (at / PAGE + 1) * PAGE;
            if (next > last.off + (off_t)last.len)
                next = last.off + (off_t)last.len;
            keep += (size_t)(next - at);
            at = next;
        }
        if (keep > 0) {
            node *n = last.n;
            if (n->ddata.len < (size_t)last.off + keep)
                bytes_resize(&n->ddata, (size_t)last.off + keep);
            memcpy(n->ddata.p + last.off, last.p, keep);
            n->dgen++;
            bytes_copy(&n->data, &n->ddata);
            torn++;
        }
        last.n = NULL;
    }
    cuts++;
    mirror();
}

/* ---- FUSE operations ---- */

static void *cutfs_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
    (void)conn;
    cfg->entry_timeout = 0;
    cfg->attr_timeout = 0;
    cfg->negative_timeout = 0;
    cfg->direct_io = 1;
    cfg->hard_remove = 1;
    cfg->nullpath_ok = 1;
    cfg->use_ino = 0;
    printf("READY\n");
    fflush(stdout);
    return NULL;
}

static int cutfs_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
    memset(st, 0, sizeof *st);
    st->st_uid = getuid();
    st->st_gid = getgid();
    if (is_control(path, fi)) {
        st->st_mode = S_IFREG | 0600;
        st->st_nlink = 1;
        return 0;
    }
    node *n = node_of(path, fi);
    if (!n)
        return -ENOENT;
    st->st_mode = (n->is_dir ? S_IFDIR : S_IFREG) | n->mode;
    st->st_nlink = n->is_dir ? 2 : 1;
    st->st_size = n->is_dir ? 4096 : (off_t)n->data.len;
    st->st_blksize = PAGE;
    st->st_blocks = (st->st_size + 511) / 512;
    st->st_mtim = st->st_atim = st->st_ctim = n->mtime;
    return 0;
}

static int cutfs_access(const char *path, int mask)
{
    (void)mask;
    return strcmp(path, CONTROL) == 0 || lookup(path) ? 0 : -ENOENT;
}

static int cutfs_opendir(const char *path, struct fuse_file_info *fi)
{
    node *n = lookup(path);
    if (!n)
        return -ENOENT;
    if (!n->is_dir)
        return -ENOTDIR;
    fi->fh = (uintptr_t)n;
    return 0;
}

static int cutfs_readdir(const char *path, void *buf, fuse_fill_dir_t fill, off_t off, struct fuse_file_info *fi,
                         enum fuse_readdir_flags flags)
{
    (void)off;
    (void)flags;
    node *d = node_of(path, fi);
    if (!d || !d->is_dir)
        return -ENOENT;
    fill(buf, ".", NULL, 0, 0);
    fill(buf, "..", NULL, 0, 0);
    for (size_t i = 0; i < d->cur.len; i++)
        fill(buf, d->cur.e[i].name, NULL, 0, 0);
    return 0;
}

static int add_node(const char *path, int is_dir, mode_t mode, node **made)
{
    const char *name;
    node *p = parent_of(path, &name);
    if (!p)
        return -ENOENT;
    if (entries_find(&p->cur, name) || (p == root && strcmp(name, CONTROL + 1) == 0))
        return -EEXIST;
    node *n = node_new(is_dir, mode);
    set_name(n, name);
    entries_add(&p->cur, name, n);
    clock_gettime(CLOCK_REALTIME, &p->mtime);
    *made = n;
    return 0;
}

static int cutfs_mkdir(const char *path, mode_t mode)
{
    node *n;
    return add_node(path, 1, mode, &n);
}

static int cutfs_create(const char *path, mode_t mode, struct fuse_file_info *fi)
{
    node *n;
    int r = add_node(path, 0, mode, &n);
    if (r == 0) {
        fi->fh = (uintptr_t)n;
        fi->direct_io = 1;
    }
    return r;
}

static int cutfs_open(const char *path, struct fuse_file_info *fi)
{
    fi->direct_io = 1;
    if (strcmp(path, CONTROL) == 0) {
        fi->fh = CONTROL_FH;
        return 0;
    }
    node *n = lookup(path);
    if (!n)
        return -ENOENT;
    if (n->is_dir)
        return -EISDIR;
    fi->fh = (uintptr_t)n;
    return 0;
}

static int cutfs_read(const char *path, char *buf, size_t size, off_t off, struct fuse_file_info *fi)
{
    if (fi->fh == CONTROL_FH) {
        char text[200];
        int len = snprintf(text, sizeof text, "cuts %ld syncs %ld dirsyncs %ld torn %ld dropped %ld\n", cuts, syncs,
                           dirsyncs, torn, dropped);
        if (off >= len)
            return 0;
        size_t n = (size_t)(len - off) < size ? (size_t)(len - off) : size;
        memcpy(buf, text + off, n);
        return (int)n;
    }
    node *n = node_of(path, fi);
    if (!n)
        return -ENOENT;
    if ((size_t)off >= n->data.len)
        return 0;
    size_t count = n->data.len - (size_t)off < size ? n->data.len - (size_t)off : size;
    memcpy(buf, n->data.p + off, count);
    return (int)count;
}

static int cutfs_write(const char *path, const char *buf, size_t size, off_t off, struct fuse_file_info *fi)
{
    if (fi->fh == CONTROL_FH) {
        if (size >= 3 && memcmp(buf, "cut", 3) == 0) {
            cut();
            return (int)size;
        }
        if (size > 5 && memcmp(buf, "hold ", 5) == 0) {
            free(hold);
            hold = strndup(buf + 5, size - 5);
            hold[strcspn(hold, "\r\n")] = 0;
            return (int)size;
        }
        return -EINVAL;
    }
    node *n = node_of(path, fi);
    if (!n)
        return -ENOENT;
    if (n->data.len < (size_t)off + size)
        bytes_resize(&n->data, (size_t)off + size);
    memcpy(n->data.p + off, buf, size);
    clock_gettime(CLOCK_REALTIME, &n->mtime);
    last.n = n;
    last.off = off;
    last.p = xrealloc(last.p, size);
    memcpy(last.p, buf, size);
    last.len = size;
    return (int)size;
}

static int cutfs_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
    if (is_control(path, fi))
        return 0;
    node *n = node_of(path, fi);
    if (!n)
        return -ENOENT;
    if (n->is_dir)
        return -EISDIR;
    bytes_resize(&n->data, (size_t)size);
    clock_gettime(CLOCK_REALTIME, &n->mtime);
    return 0;
}

static int cutfs_fsync(const char *path, int datasync, struct fuse_file_info *fi)
{
    (void)datasync;
    if (is_control(path, fi))
        return 0;
    node *n = node_of(path, fi);
    if (!n)
        return -ENOENT;
    if (!n->is_dir && hold && n->name && strcmp(n->name, hold) == 0) {
        /* The power goes while this sync is under way: it never completes. The test kills the process that asked
           for it and then says "cut" on our standard input (the file system loop is busy here until then). */
        free(hold);
        hold = NULL;
        printf("HELD\n");
        fflush(stdout);
        /* Bounded, so that a test that fails while a sync is held cannot hang on it (nor on the process it holds). */
        struct pollfd in = {.fd = 0, .events = POLLIN};
        char line[64];
        if (poll(&in, 1, 120000) != 1 || !fgets(line, sizeof line, stdin) || strncmp(line, "cut", 3) != 0)
            fprintf(stderr, "cutfs: no \"cut\" on standard input within 120 s of a held sync: cutting anyway\n");
        cut();
        return -EIO;
    }
    if (n->is_dir)
        sync_dir(n);
    else
        sync_file(n);
    return 0;
}

static int cutfs_fsyncdir(const char *path, int datasync, struct fuse_file_info *fi)
{
    (void)datasync;
    node *n = node_of(path, fi);
    if (!n || !n->is_dir)
        return -ENOENT;
    sync_dir(n);
    return 0;
}

static int remove_entry(const char *path, int want_dir)
{
    const char *name;
    node *p = parent_of(path, &name);
    entry *e = p ? entries_find(&p->cur, name) : NULL;
    if (!e)
        return -ENOENT;
    if (want_dir && !e->n->is_dir)
        return -ENOTDIR;
    if (!want_dir && e->n->is_dir)
        return -EISDIR;
    if (want_dir && e->n->cur.len > 0)
        return -ENOTEMPTY;
    entries_remove(&p->cur, e);
    clock_gettime(CLOCK_REALTIME, &p->mtime);
    return 0;
}

static int cutfs_unlink(const char *path)
{
    return remove_entry(path, 0);
}

static int cutfs_rmdir(const char *path)
{
    return remove_entry(path, 1);
}

static int cutfs_rename(const char *from, const char *to, unsigned int flags)
{
    if (flags & RENAME_EXCHANGE)
        return -EINVAL;
    const char *fname, *tname;
    node *fp = parent_of(from, &fname), *tp = parent_of(to, &tname);
    if (!fp || !tp)
        return -ENOENT;
    entry *fe = entries_find(&fp->cur, fname);
    if (!fe)
        return -ENOENT;
    node *moving = fe->n;
    entry *te = entries_find(&tp->cur, tname);
    if (te) {
        if (te->n == moving)
            return 0;
        if (flags & RENAME_NOREPLACE)
            return -EEXIST;
        if (te->n->is_dir && !moving->is_dir)
            return -EISDIR;
        if (!te->n->is_dir && moving->is_dir)
            return -ENOTDIR;
        if (te->n->is_dir && te->n->cur.len > 0)
            return -ENOTEMPTY;
        entries_remove(&tp->cur, te);
        fe = entries_find(&fp->cur, fname); /* the removal may have moved it */
    }
    size_t flen = strlen(from);
    if (moving->is_dir && strncmp(to, from, flen) == 0 && to[flen] == '/')
        return -EINVAL; /* into its own subtree */
    entries_remove(&fp->cur, fe);
    entries_add(&tp->cur, tname, moving);
    set_name(moving, tname);
    clock_gettime(CLOCK_REALTIME, &fp->mtime);
    tp->mtime = fp->mtime;
    return 0;
}

static int cutfs_link(const char *from, const char *to)
{
    node *n = lookup(from);
    if (!n)
        return -ENOENT;
    if (n->is_dir)
        return -EPERM;
    const char *name;
    node *p = parent_of(to, &name);
    if (!p)
        return -ENOENT;
    if (entries_find(&p->cur, name))
        return -EEXIST;
    entries_add(&p->cur, name, n);
    return 0;
}

static int cutfs_chmod(const char *path, mode_t mode, struct fuse_file_info *fi)
{
    node *n = node_of(path, fi);
    if (!n)
        return is_control(path, fi) ? 0 : -ENOENT;
    n->mode = mode & 07777;
    return 0;
}

static int cutfs_chown(const char *path, uid_t uid, gid_t gid, struct fuse_file_info *fi)
{
    (void)uid;
    (void)gid;
    return node_of(path, fi) || is_control(path, fi) ? 0 : -ENOENT;
}

static int cutfs_utimens(const char *path, const struct timespec tv[2], struct fuse_file_info *fi)
{
    node *n = node_of(path, fi);
    if (!n)
        return is_control(path, fi) ? 0 : -ENOENT;
    if (tv && tv[1].tv_nsec != UTIME_OMIT) {
        if (tv[1].tv_nsec == UTIME_NOW)
            clock_gettime(CLOCK_REALTIME, &n->mtime);
        else
            n->mtime = tv[1];
    }
    return 0;
}

static int cutfs_statfs(const char *path, struct statvfs *st)
{
    (void)path;
    memset(st, 0, sizeof *st);
    st->f_bsize = st->f_frsize = PAGE;
    st->f_blocks = st->f_bfree = st->f_bavail = 1 << 20;
    st->f_files = st->f_ffree = 1 << 20;
    st->f_namemax = 255;
    return 0;
}

static int cutfs_release(const char *path, struct fuse_file_info *fi)
{
    (void)path;
    (void)fi;
    return 0; /* closing a file syncs nothing */
}

static const struct fuse_operations ops = {
    .init = cutfs_init,
    .getattr = cutfs_getattr,
    .access = cutfs_access,
    .opendir = cutfs_opendir,
    .readdir = cutfs_readdir,
    .mkdir = cutfs_mkdir,
    .create = cutfs_create,
    .open = cutfs_open,
    .read = cutfs_read,
    .write = cutfs_write,
    .truncate = cutfs_truncate,
    .fsync = cutfs_fsync,
    .fsyncdir = cutfs_fsyncdir,
    .unlink = cutfs_unlink,
    .rmdir = cutfs_rmdir,
    .rename = cutfs_rename,
    .link = cutfs_link,
    .chmod = cutfs_chmod,
    .chown = cutfs_chown,
    .utimens = cutfs_utimens,
    .statfs = cutfs_statfs,
    .release = cutfs_release,
};

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: cutfs BACKING MOUNTPOINT [SEED]\n");
        return 2;
    }
    static char real[PATH_MAX];
    if (!realpath(argv[1], real)) {
        fprintf(stderr, "cutfs: %s: %s\n", argv[1], strerror(errno));
        return 2;
    }
    backing = real;
    seed = argc == 4 ? (unsigned int)strtoul(argv[3], NULL, 10) : 1;
    struct stat st;
    if (stat(backing, &st) != 0 || !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "cutfs: %s is not a directory\n", backing);
        return 2;
    }
    root = load(backing, &st);
    char *fargs[] = {argv[0], "-f", "-s", "-o", "fsname=cutfs,subtype=cutfs", argv[2], NULL};
    return fuse_main(6, fargs, &ops, NULL);
}
