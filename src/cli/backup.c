/* `rivulet backup DB COPY`: a consistent copy of a server's store, taken
 * while the server runs (rv_store_backup). To restore, stop the server and
 * start it with --db COPY (or move COPY over DB, with no DB-wal or DB-shm
 * beside it). */
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

#include "rivulet/store.h"

static const char USAGE[] =
    "usage: rivulet backup DB COPY\n"
    "  Copies the store DB (rivulet serve --db DB) into COPY, a new file, while the\n"
    "  server may be running: the copy holds every learn acknowledged before it began.\n"
    "  Restore: stop the server, then start it with --db COPY.\n";

int rv_cli_backup_main(int argc, char **argv)
{
    if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        fputs(USAGE, stdout);
        return RV_EXIT_OK;
    }
    if (argc != 3) {
        fprintf(stderr, "rivulet backup: expected DB and COPY\n%s", USAGE);
        return RV_EXIT_USAGE;
    }
    rv_error err = {0};
    long long bytes = 0;
    if (rv_store_backup(argv[1], argv[2], &bytes, &err) != RV_OK) {
        fprintf(stderr, "rivulet backup: %s\n", err.message);
        return RV_EXIT_RUNTIME;
    }
    printf("rivulet backup: copied %s to %s (%lld bytes)\n", argv[1], argv[2], bytes);
    return RV_EXIT_OK;
}
