/* server: Chantilly's HTTP JSON API for rivulet models (`rivulet serve`).
 *
 * Models are uploaded as definitions (River expression text) or snapshots,
 * predict on JSON features, keep learning from ground truth that arrives later
 * (matched by id), and report their metrics live. Every acknowledged learn is
 * durable: see store.h for the log-plus-checkpoints shape. docs/api.md
 * documents the endpoints with curl and Python examples.
 */
#ifndef RIVULET_SERVER_H
#define RIVULET_SERVER_H

/* Runs the server until SIGTERM or SIGINT, then drains and returns the exit
 * status (0; 1 if it cannot start; 2 on a bad flag). argv[0] is the program
 * or verb name. The flags, each also read from RIVULET_<FLAG>, are listed by
 * `rivulet serve --help` (the table in src/server/main.c) and docs/api.md. */
int rv_serve_main(int argc, char **argv);

#endif
