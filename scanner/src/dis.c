/* The disassembler behind `pklscan dis`: one line per opcode in the spirit
 * of `python3 -m pickletools` (offset, opcode byte, name indented by mark
 * depth, decoded argument), for every pickle stored one after another in the
 * input. Output per opcode is bounded: long blobs and strings are shown by a
 * prefix and their size, so a 1 GB BINBYTES costs one short line and is
 * never read. */
#include "decode.h"
#include "pklscan.h"
#include "repr.h"

#include <stdlib.h>

#define DIS_SHOW_BYTES 64   /* bytes of a blob or string shown */
#define DIS_SHOW_INT   1024 /* bytes of an int shown in decimal */
#define DIS_MAX_INDENT 24   /* mark depth beyond which indentation stops growing */
#define DIS_MARKS_KEPT 4096 /* mark offsets remembered for "(MARK at N)" */

static void opcode_repr(uint8_t b, char out[8])
{
    if (b >= 0x20 && b < 0x7f && b != '\\' && b != '\'')
        snprintf(out, 8, "%c", b);
    else if (b == '\\')
        snprintf(out, 8, "\\\\");
    else
        snprintf(out, 8, "\\x%02x", b);
}

static void print_arg(FILE *f, const dec_value *v)
{
    char buf[40];
    switch (v->kind) {
    case DV_NONE: break;
    case DV_INT: fprintf(f, "%lld", (long long)v->i); break;
    case DV_BOOL: fputs(v->i ? "True" : "False", f); break;
    case DV_BIGINT: repr_bigint(f, v->p, v->n, DIS_SHOW_INT); break;
    case DV_FLOAT:
        repr_float(v->f, buf);
        fputs(buf, f);
        break;
    case DV_BYTES: repr_bytes(f, v->p, v->n, DIS_SHOW_BYTES); break;
    case DV_STR: repr_str(f, v->p, v->n, DIS_SHOW_BYTES); break;
    case DV_PAIR:
        fputc('\'', f);
        fwrite(v->p, 1, v->n < DIS_SHOW_BYTES ? v->n : DIS_SHOW_BYTES, f);
        fputc(' ', f);
        fwrite(v->p2, 1, v->n2 < DIS_SHOW_BYTES ? v->n2 : DIS_SHOW_BYTES, f);
        fputc('\'', f);
        break;
    }
}

static void print_anomalies(FILE *f, unsigned an)
{
    static const struct {
        unsigned bit;
        const char *text;
    } names[] = {
        {DEC_ANOM_FRAME_NESTED, "FRAME inside an unfinished frame"},
        {DEC_ANOM_FRAME_CROSSED, "runs past the end of its frame"},
        {DEC_ANOM_FRAME_UNFINISHED, "STOP before the end of the frame"},
        {DEC_ANOM_PROTO_LATE, "PROTO after the first opcode"},
        {DEC_ANOM_ABOVE_PROTO, "opcode newer than the declared protocol"},
        {DEC_ANOM_FRAME_SHORT, "FRAME longer than the data that follows"},
    };
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
        if (an & names[k].bit)
            fprintf(f, "  ; anomaly: %s", names[k].text);
}

pks_err pks_disassemble(const pks_input *in, FILE *out, pks_error_info *err)
{
    const uint8_t *data = pks_input_data(in);
    size_t len = pks_input_size(in);
    dec d;
    dec_init(&d, data, len, 0);
    size_t *marks = malloc(DIS_MARKS_KEPT * sizeof *marks);
    size_t depth = 0;
    int pickle_no = 1, maxproto = -1;
    pks_err e = marks ? PKS_OK : PKS_ERR_NOMEM;

    while (e == PKS_OK) {
        dec_op op;
        e = dec_next(&d, &op);
        if (e) {
            if (err)
                *err = d.err;
            break;
        }
        const op_info *o = op.info;
        char code[8];
        opcode_repr(o->byte, code);
        int popped_mark = o->marks < 0 && depth > 0;
        size_t mark_at = 0;
        if (popped_mark) {
            depth--;
            if (depth < DIS_MARKS_KEPT)
                mark_at = marks[depth];
        }
        size_t indent = depth < DIS_MAX_INDENT ? depth : DIS_MAX_INDENT;
        fprintf(out, "%5zu: %-4s %*s%s", op.offset, code, (int)(indent * 4), "", o->name);
        if (op.arg.kind != DV_NONE) {
            int pad = 10 - (int)strlen(o->name);
            fprintf(out, "%*s ", pad > 0 ? pad : 0, "");
            print_arg(out, &op.arg);
        }
        if (popped_mark && depth < DIS_MARKS_KEPT)
            fprintf(out, " (MARK at %zu)", mark_at);
        else if (o->marks < 0)
            fputs(" (no MARK to pop)", out);
        print_anomalies(out, op.anomalies);
        fputc('\n', out);
        if (o->marks > 0) {
            if (depth < DIS_MARKS_KEPT)
                marks[depth] = op.offset;
            depth++;
        }
        if (o->byte == OP_PROTO && op.arg.i > maxproto)
            maxproto = (int)op.arg.i;
        if (o->proto > maxproto)
            maxproto = o->proto;
        if (o->byte == OP_STOP) {
            fprintf(out, "highest protocol among opcodes = %d\n", maxproto);
            if (d.rd.off >= len)
                break;
            pickle_no++;
            fprintf(out, "--- pickle %d at offset %zu ---\n", pickle_no, d.rd.off);
            dec_restart(&d);
            depth = 0;
            maxproto = -1;
        }
    }
    free(marks);
    dec_free(&d);
    return e;
}
