/* Test helper for test_cli.sh: checks that a file is one JSON document
 * (or, with --lines, that every line is one) and prints a few fields so the
 * shell test can compare them: the summary counts of a report, or the
 * verdict of each JSON Lines record.
 * Usage: json_check FILE | json_check --lines FILE */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    if (buf)
        buf[n] = '\0';
    fclose(f);
    return buf;
}

static const char *str(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : "?";
}

int main(int argc, char **argv)
{
    int lines = argc == 3 && strcmp(argv[1], "--lines") == 0;
    char *text = slurp(argv[argc - 1]);
    if (!text || argc < 2) {
        fprintf(stderr, "json_check: cannot read input\n");
        return 2;
    }
    int rc = 0;
    if (lines) {
        for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
            cJSON *o = cJSON_Parse(line);
            if (!o) {
                fprintf(stderr, "json_check: invalid JSON line\n");
                rc = 1;
                break;
            }
            printf("%s %s\n", str(o, "path"), str(o, "verdict"));
            cJSON_Delete(o);
        }
    } else {
        cJSON *o = cJSON_Parse(text);
        if (!o) {
            fprintf(stderr, "json_check: invalid JSON near: %.40s\n", cJSON_GetErrorPtr());
            rc = 1;
        } else {
            const cJSON *s = cJSON_GetObjectItemCaseSensitive(o, "summary");
            const char *keys[] = {"files", "clean", "suspicious", "malicious", "error", "skipped"};
            for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
                const cJSON *v = cJSON_GetObjectItemCaseSensitive(s, keys[i]);
                printf("%s=%d%s", keys[i], cJSON_IsNumber(v) ? v->valueint : -1,
                       i + 1 < sizeof keys / sizeof keys[0] ? " " : "\n");
            }
            const cJSON *files = cJSON_GetObjectItemCaseSensitive(o, "files"), *f;
            cJSON_ArrayForEach(f, files)
            {
                const cJSON *sha = cJSON_GetObjectItemCaseSensitive(f, "sha256");
                printf("%s %s sha256=%s\n", str(f, "path"), str(f, "verdict"),
                       cJSON_IsString(sha) && strlen(sha->valuestring) == 64 ? "yes" : "no");
            }
            cJSON_Delete(o);
        }
    }
    free(text);
    return rc;
}
