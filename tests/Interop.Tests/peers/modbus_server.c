/*
 * A Modbus slave built on libmodbus (an implementation we did not write), for EdgeMeter interop tests.
 *
 *   modbus_server tcp LAYOUT            listens on 127.0.0.1, a free port; prints "PORT <n>"
 *   modbus_server rtu LAYOUT DEVICE BAUD  serves RTU on DEVICE (8N1); prints "READY"
 *
 * LAYOUT is a text file written by the test:
 *   unit <id>                       the one unit that answers; every other unit id gets no answer
 *   h <address> <value>             holding register (decimal uint16)
 *   i <address> <value>             input register
 *   x <function> <address> <code>   answer requests of <function> starting at <address> with exception <code>
 * Reads of registers outside the layout get libmodbus' own exception 02 (illegal data address).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <modbus.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_ENTRIES 4096

struct entry { int address; int value; };
struct fault { int function; int address; int code; };

static struct entry holding[MAX_ENTRIES], input[MAX_ENTRIES];
static struct fault faults[64];
static int n_holding, n_input, n_faults, unit_id = 1;

static void load_layout(const char *path)
{
    FILE *f = fopen(path, "r");
    char kind[16];
    if (!f) { perror(path); exit(2); }
    while (fscanf(f, "%15s", kind) == 1) {
        if (strcmp(kind, "unit") == 0) {
            if (fscanf(f, "%d", &unit_id) != 1) exit(3);
        } else if (strcmp(kind, "h") == 0 && n_holding < MAX_ENTRIES) {
            if (fscanf(f, "%d %d", &holding[n_holding].address, &holding[n_holding].value) != 2) exit(3);
            n_holding++;
        } else if (strcmp(kind, "i") == 0 && n_input < MAX_ENTRIES) {
            if (fscanf(f, "%d %d", &input[n_input].address, &input[n_input].value) != 2) exit(3);
            n_input++;
        } else if (strcmp(kind, "x") == 0 && n_faults < 64) {
            if (fscanf(f, "%d %d %d", &faults[n_faults].function, &faults[n_faults].address, &faults[n_faults].code) != 3) exit(3);
            n_faults++;
        } else {
            fprintf(stderr, "bad layout keyword %s\n", kind);
            exit(3);
        }
    }
    fclose(f);
}

static void span(struct entry *e, int n, int *start, int *count)
{
    int lo = 65535, hi = -1;
    for (int k = 0; k < n; k++) {
        if (e[k].address < lo) lo = e[k].address;
        if (e[k].address > hi) hi = e[k].address;
    }
    *start = n ? lo : 0;
    *count = n ? hi - lo + 1 : 0;
}

static modbus_mapping_t *build_mapping(void)
{
    int hs, hc, is, ic;
    span(holding, n_holding, &hs, &hc);
    span(input, n_input, &is, &ic);
    modbus_mapping_t *m = modbus_mapping_new_start_address(0, 0, 0, 0, hs, hc, is, ic);
    if (!m) { fprintf(stderr, "mapping: %s\n", modbus_strerror(errno)); exit(4); }
    for (int k = 0; k < n_holding; k++) m->tab_registers[holding[k].address - hs] = (uint16_t)holding[k].value;
    for (int k = 0; k < n_input; k++) m->tab_input_registers[input[k].address - is] = (uint16_t)input[k].value;
    return m;
}

static void serve_one(modbus_t *ctx, modbus_mapping_t *m, uint8_t *query, int len)
{
    int hl = modbus_get_header_length(ctx);
    int unit = query[hl - 1];
    if (unit != unit_id) return; /* a unit that never answers */
    int function = query[hl];
    int address = (query[hl + 1] << 8) | query[hl + 2];
    for (int k = 0; k < n_faults; k++) {
        if (faults[k].function == function && faults[k].address == address) {
            modbus_reply_exception(ctx, query, (unsigned)faults[k].code);
            return;
        }
    }
    modbus_reply(ctx, query, len, m);
}

int main(int argc, char **argv)
{
    uint8_t query[MODBUS_RTU_MAX_ADU_LENGTH > MODBUS_TCP_MAX_ADU_LENGTH ? MODBUS_RTU_MAX_ADU_LENGTH : MODBUS_TCP_MAX_ADU_LENGTH];
    if (argc < 3) { fprintf(stderr, "usage: %s tcp LAYOUT | rtu LAYOUT DEVICE BAUD\n", argv[0]); return 1; }
    setvbuf(stdout, NULL, _IOLBF, 0);
    load_layout(argv[2]);
    modbus_mapping_t *m = build_mapping();

    if (strcmp(argv[1], "tcp") == 0) {
        modbus_t *ctx = modbus_new_tcp("127.0.0.1", 0);
        int listener = modbus_tcp_listen(ctx, 1);
        if (listener < 0) { fprintf(stderr, "listen: %s\n", modbus_strerror(errno)); return 5; }
        struct sockaddr_in addr;
        socklen_t alen = sizeof addr;
        getsockname(listener, (struct sockaddr *)&addr, &alen);
        printf("PORT %d\n", ntohs(addr.sin_port));
        for (;;) {
            int s = listener;
            int client = modbus_tcp_accept(ctx, &s);
            if (client < 0) continue;
            for (;;) {
                int rc = modbus_receive(ctx, query);
                if (rc > 0) serve_one(ctx, m, query, rc);
                else if (rc < 0) break; /* peer closed */
            }
            close(client);
        }
    }

    if (strcmp(argv[1], "rtu") == 0 && argc >= 5) {
        modbus_t *ctx = modbus_new_rtu(argv[3], atoi(argv[4]), 'N', 8, 1);
        /* libmodbus' RTU filter drops requests for other units before we see them. */
        modbus_set_slave(ctx, unit_id);
        /* After a request for another unit, libmodbus treats the next frame on the line as that unit's answer and
         * ignores it, waiting up to the response timeout (default 500 ms). A dead unit never answers, so the master's
         * next request would be swallowed if it came sooner. Keep the wait short, as for a fast bus. */
        modbus_set_response_timeout(ctx, 0, 50000);
        if (modbus_connect(ctx) < 0) { fprintf(stderr, "connect %s: %s\n", argv[3], modbus_strerror(errno)); return 6; }
        printf("READY\n");
        for (;;) {
            int rc = modbus_receive(ctx, query);
            if (rc > 0) serve_one(ctx, m, query, rc);
            else if (rc < 0 && errno != EMBBADCRC && errno != ETIMEDOUT && errno != EMBBADDATA) {
                /* a pty reports EIO while nobody holds the other end; keep serving */
                usleep(10000);
            }
        }
    }

    fprintf(stderr, "unknown mode %s\n", argv[1]);
    return 1;
}
