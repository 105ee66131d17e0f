/* Inputs: a regular file mapped read-only (never copied, so skipping a
 * 1 GB tensor blob costs nothing), stdin or a pipe spooled to an unlinked
 * temporary file and mapped (up to a cap), or a caller's buffer. */
#include "input.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* Largest stream read from a pipe or stdin (they cannot be mapped). */
#define PKS_STREAM_MAX ((size_t)1 << 32)

static const uint8_t empty_input[1];

struct pks_input {
    const uint8_t *data;
    size_t size;
    void *map; /* owned mapping, or NULL */
};

/* A pipe or stdin cannot be mapped: its bytes are copied into an unlinked
 * temporary file and that is mapped, so that memory stays bounded however
 * large the stream (the page cache holds it, not the process). */
static pks_err read_stream(int fd, pks_input *in)
{
    FILE *tmp = tmpfile();
    if (!tmp)
        return PKS_ERR_IO;
    int tfd = fileno(tmp);
    uint8_t buf[65536];
    size_t len = 0;
    pks_err e = PKS_OK;
    for (;;) {
        ssize_t got = read(fd, buf, sizeof buf);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            e = PKS_ERR_IO;
            break;
        }
        if (got == 0)
            break;
        if ((size_t)got > PKS_STREAM_MAX - len) {
            errno = EFBIG;
            e = PKS_ERR_LIMIT;
            break;
        }
        for (ssize_t done = 0; done < got;) {
            ssize_t w = write(tfd, buf + done, (size_t)(got - done));
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0) {
                e = PKS_ERR_IO;
                break;
            }
            done += w;
        }
        if (e)
            break;
        len += (size_t)got;
    }
    if (!e && len > 0) {
        void *m = mmap(NULL, len, PROT_READ, MAP_PRIVATE, tfd, 0);
        if (m == MAP_FAILED) {
            e = PKS_ERR_IO;
        } else {
            in->map = m;
            in->data = m;
            in->size = len;
        }
    }
    int saved = errno;
    fclose(tmp);
    errno = saved;
    return e;
}

pks_err pks_input_open(const char *path, pks_input **out)
{
    if (!path || !out)
        return PKS_ERR_USAGE;
    *out = NULL;
    pks_input *in = calloc(1, sizeof *in);
    if (!in)
        return PKS_ERR_NOMEM;
    in->data = empty_input;

    bool is_stdin = strcmp(path, "-") == 0;
    int fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        int saved = errno;
        free(in);
        errno = saved;
        return PKS_ERR_IO;
    }
    struct stat st;
    pks_err e = PKS_OK;
    if (fstat(fd, &st) != 0) {
        e = PKS_ERR_IO;
    } else if (S_ISDIR(st.st_mode)) {
        errno = EISDIR;
        e = PKS_ERR_IO;
    } else if (S_ISREG(st.st_mode)) {
        if (st.st_size > 0) {
            void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
            if (m == MAP_FAILED)
                e = PKS_ERR_IO;
            else {
                in->map = m;
                in->data = m;
                in->size = (size_t)st.st_size;
            }
        }
    } else {
        e = read_stream(fd, in);
    }
    int saved = errno;
    if (!is_stdin)
        close(fd);
    if (e) {
        free(in);
        errno = saved;
        return e;
    }
    *out = in;
    return PKS_OK;
}

pks_err pks_input_from_buffer(const void *data, size_t len, pks_input **out)
{
    if (!out || (!data && len))
        return PKS_ERR_USAGE;
    pks_input *in = calloc(1, sizeof *in);
    if (!in)
        return PKS_ERR_NOMEM;
    in->data = len ? data : empty_input;
    in->size = len;
    *out = in;
    return PKS_OK;
}

void pks_input_free(pks_input *in)
{
    if (!in)
        return;
    if (in->map)
        munmap(in->map, in->size);
    free(in);
}

const uint8_t *pks_input_data(const pks_input *in)
{
    return in->data;
}

size_t pks_input_size(const pks_input *in)
{
    return in->size;
}

void input_release(const pks_input *in, size_t off, size_t len)
{
    if (!in->map || len == 0)
        return; /* only pages of our own file mappings can be dropped */
    long page = sysconf(_SC_PAGESIZE);
    size_t p = page > 0 ? (size_t)page : 4096;
    uintptr_t start = ((uintptr_t)in->data + off + p - 1) / p * p;
    uintptr_t end = ((uintptr_t)in->data + off + len) / p * p;
    if (end > start)
        madvise((void *)start, end - start, MADV_DONTNEED);
}
