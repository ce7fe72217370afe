/* The `rivulet` command. */
#include "rivulet/core.h"
#include "rivulet/m5.h"

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--version") == 0) {
        printf("rivulet %s\n", RV_VERSION);
        return 0;
    }
    if (argc > 1 && strcmp(argv[1], "m5") == 0)
        return rv_m5_main(argc - 1, argv + 1);
    fprintf(stderr, "usage: rivulet --version | rivulet m5 ...\n");
    return 2;
}
