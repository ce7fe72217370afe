/* The `rivulet` command. */
#include "rivulet/core.h"

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--version") == 0) {
        printf("rivulet %s\n", RV_VERSION);
        return 0;
    }
    fprintf(stderr, "usage: rivulet --version\n");
    return 2;
}
