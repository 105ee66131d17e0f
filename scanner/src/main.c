/* The pklscan command line: `pklscan dis FILE...` disassembles pickles,
 * `pklscan opcodes [--markdown]` prints the opcode table. Exit codes follow
 * docs/CLI.md: 0 everything decoded, 2 something could not be read or
 * decoded, 64 usage errors. */
#include "opcodes.h"
#include "pklscan.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define EXIT_DECODE_ERROR 2
#define EXIT_USAGE        64

static void usage(FILE *f)
{
    fputs("usage: pklscan dis FILE...            disassemble every pickle in FILE ('-' = stdin)\n"
          "       pklscan opcodes [--markdown]   print the opcode table\n"
          "       pklscan --version | --help\n",
          f);
}

static int cmd_dis(int argc, char **argv)
{
    if (argc < 1) {
        usage(stderr);
        return EXIT_USAGE;
    }
    int rc = 0;
    for (int i = 0; i < argc; i++) {
        const char *path = argv[i];
        if (argc > 1)
            printf("%s==> %s <==\n", i ? "\n" : "", path);
        pks_input *in = NULL;
        pks_err e = pks_input_open(path, &in);
        if (e) {
            fprintf(stderr, "pklscan: %s: cannot read: %s\n", path,
                    e == PKS_ERR_IO ? strerror(errno) : pks_strerror(e));
            rc = EXIT_DECODE_ERROR;
            continue;
        }
        pks_error_info err;
        e = pks_disassemble(in, stdout, &err);
        fflush(stdout);
        if (e) {
            const op_info *o = err.opcode >= 0 ? op_lookup((uint8_t)err.opcode) : NULL;
            char opname[32];
            if (o)
                snprintf(opname, sizeof opname, "%s", o->name);
            else if (err.opcode >= 0)
                snprintf(opname, sizeof opname, "byte 0x%02x", err.opcode);
            else
                snprintf(opname, sizeof opname, "end of data");
            fprintf(stderr, "pklscan: %s: error at offset %llu (%s): %s [%s]\n", path,
                    (unsigned long long)err.offset, opname, err.message, pks_strerror(err.code));
            rc = EXIT_DECODE_ERROR;
        }
        pks_input_free(in);
    }
    return rc;
}

static int cmd_opcodes(int argc, char **argv)
{
    if (argc == 1 && strcmp(argv[0], "--markdown") == 0) {
        size_t n = op_markdown(NULL, 0);
        char *buf = malloc(n + 1);
        if (!buf)
            return EXIT_DECODE_ERROR;
        op_markdown(buf, n + 1);
        fputs(buf, stdout);
        free(buf);
        return 0;
    }
    if (argc != 0) {
        usage(stderr);
        return EXIT_USAGE;
    }
    size_t count;
    const op_info *t = op_table(&count);
    for (size_t i = 0; i < count; i++)
        printf("0x%02x  %-17s %-20s proto %u  %s\n", t[i].byte, t[i].name, op_arg_name(t[i].arg),
               t[i].proto, t[i].doc);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--version") == 0) {
        printf("pklscan %s\n", pks_version());
        return 0;
    }
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(cmd, "dis") == 0)
        return cmd_dis(argc - 2, argv + 2);
    if (strcmp(cmd, "opcodes") == 0)
        return cmd_opcodes(argc - 2, argv + 2);
    fprintf(stderr, "pklscan: unknown command '%s'\n", cmd);
    usage(stderr);
    return EXIT_USAGE;
}
